// RUN: trn-opt %s -p tile-allocate | filecheck %s --check-prefix=ALLOC
// RUN: trn-opt %s -p tile-allocate,tile-to-isa | filecheck %s --check-prefix=ISA

// y[128, 512] = x[128, 512] @ w[512, 512] with the K loop kept as a loop at the tile
// level: x^T's four K blocks sit side by side in one SBUF tile (a dynamic view picks
// block i), the first K block starts the accumulation and a loop over the other three
// accumulates. tile-allocate gives the loop's weight tile three rotating slots
// (STREAM_DEPTH, capped by the three runs) and its DMA three rotating queues; tile-to-isa
// unrolls the loop, each run's load landing in the next slot on the next queue.

!x_hbm = !tile.buffer<128x512xbf16, hbm>
!w_hbm = !tile.buffer<512x512xbf16, hbm>
!w_blk = !tile.buffer<128x512xbf16, hbm>
!xt_sb = !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!blk = !tile.buffer<128x128xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!w_sb = !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!ps = !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!y_sb = !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!y_hbm = !tile.buffer<128x512xf32, hbm>

// ALLOC-LABEL: func.func @k_loop
// ALLOC:         scf.for
// ALLOC-NEXT:      tile.alloc address 0 start_partition 0 depth 3 : !tile.buffer<128x512xbf16, sbuf
// ALLOC:           tile.dma {{.*}} queue 2 queues 3 :
// ALLOC:         }

// ISA-LABEL: trn_isa.program @k_loop
// x^T's blocks at 5120 + 256 i (one 128x128 bf16 block is 256 bytes a partition); the
// loop's three weight loads land in slots 0, 1024, 2048 on queues 2, 3, 4.
// ISA:         trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 5120, [[1, 128]], bf16>, {{.*}} {accumulate = false} on tensor
// ISA-NEXT:    trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], bf16>, src #trn_isa.ap<hbm + 262144, {{.*}} on dma2
// ISA-NEXT:    trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 5376, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 0, {{.*}} {accumulate = true} on tensor
// ISA-NEXT:    trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 1024, [[1, 512]], bf16>, src #trn_isa.ap<hbm + 393216, {{.*}} on dma3
// ISA-NEXT:    trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 5632, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 1024, {{.*}} {accumulate = true} on tensor
// ISA-NEXT:    trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 2048, [[1, 512]], bf16>, src #trn_isa.ap<hbm + 524288, {{.*}} on dma4
// ISA-NEXT:    trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 5888, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 2048, {{.*}} {accumulate = true} on tensor
// ISA-NEXT:    trn_isa.tensor_copy
// ISA-NEXT:    trn_isa.dma_copy
// ISA-NEXT:  }
func.func @k_loop(%x: !x_hbm {graph.name = "x"}, %w: !w_hbm {graph.name = "w", tile.role = "weight"}, %y: !y_hbm {graph.name = "y"}) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c128 = arith.constant 128 : index
  // x^T, prepared outside the loop (its transposes are elided here: x is loaded as is).
  %xt = tile.alloc : !xt_sb
  tile.dma %x -> %xt : !x_hbm -> !xt_sb
  %acc = tile.alloc : !ps
  %w0 = tile.alloc : !w_sb
  %w0h = tile.view %w[0, 0] : !w_hbm to !w_blk
  tile.dma %w0h -> %w0 : !w_blk -> !w_sb
  %x0 = tile.view %xt[0, 0] : !xt_sb to !blk
  tile.matmul %x0, %w0 -> %acc accumulate = false : !blk, !w_sb -> !ps
  tile.dealloc %w0 : !w_sb
  scf.for %i = %c1 to %c4 step %c1 {
    %wi = tile.alloc : !w_sb
    %k = arith.muli %i, %c128 : index
    %wih = tile.view %w[%k, 0] : !w_hbm to !w_blk
    tile.dma %wih -> %wi : !w_blk -> !w_sb
    %xi = tile.view %xt[0, %k] : !xt_sb to !blk
    tile.matmul %xi, %wi -> %acc accumulate = true : !blk, !w_sb -> !ps
    tile.dealloc %wi : !w_sb
  }
  %ys = tile.alloc : !y_sb
  tile.copy %acc -> %ys on vector : !ps -> !y_sb
  tile.dealloc %acc : !ps
  tile.dma %ys -> %y : !y_sb -> !y_hbm
  tile.dealloc %ys : !y_sb
  tile.dealloc %xt : !xt_sb
  func.return
}
