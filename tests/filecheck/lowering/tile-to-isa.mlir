// RUN: trn-opt %s -p tile-to-isa --split-input-file | filecheck %s

// y = gelu(x @ w): every tile op becomes one instruction on its engine or DMA queue; the
// arguments become HBM tensors (the written one is the output; `tile.role` overrides).
// TensorE contracts over partitions, so x is transposed on TensorE (via PSUM) first.

!x_hbm = !tile.buffer<128x128xf32, hbm>
!w_hbm = !tile.buffer<128x512xf32, hbm>
!y_hbm = !tile.buffer<128x512xf32, hbm>
!sb_sq = !tile.buffer<128x128xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!sb_wide = !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!ps_wide = !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!ps_sq = !tile.buffer<128x128xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>

// CHECK-LABEL: trn_isa.program @matmul_gelu {
// CHECK-NEXT:    trn_isa.hbm_tensor @x : tensor<128x128xf32> at 0 role input
// CHECK-NEXT:    trn_isa.hbm_tensor @w : tensor<128x512xf32> at 65536 role weight
// CHECK-NEXT:    trn_isa.hbm_tensor @y : tensor<128x512xf32> at 327680 role output
// CHECK-NEXT:    trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f32>, src #trn_isa.ap<hbm + 0, [[128, 128], [1, 128]], f32> on dma0
// CHECK-NEXT:    trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 512, [[1, 512]], f32>, src #trn_isa.ap<hbm + 65536, [[512, 128], [1, 512]], f32> on dma1
// CHECK-NEXT:    trn_isa.transpose dst #trn_isa.ap<psum[0:128] + 0, [[1, 128]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f32> on tensor
// CHECK-NEXT:    trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 2560, [[1, 128]], f32>, src #trn_isa.ap<psum[0:128] + 0, [[1, 128]], f32> on vector
// CHECK-NEXT:    trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 2048, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 2560, [[1, 128]], f32>, moving #trn_isa.ap<sbuf[0:128] + 512, [[1, 512]], f32> {accumulate = false} on tensor
// CHECK-NEXT:    trn_isa.activation gelu dst #trn_isa.ap<sbuf[0:128] + 3072, [[1, 512]], f32>, src #trn_isa.ap<psum[0:128] + 2048, [[1, 512]], f32> on scalar
// CHECK-NEXT:    trn_isa.dma_copy dst #trn_isa.ap<hbm + 327680, [[512, 128], [1, 512]], f32>, src #trn_isa.ap<sbuf[0:128] + 3072, [[1, 512]], f32> on dma2
// CHECK-NEXT:  }
func.func @matmul_gelu(%x: !x_hbm {graph.name = "x"}, %w: !w_hbm {graph.name = "w", tile.role = "weight"}, %y: !y_hbm {graph.name = "y"}) {
  %xt = tile.alloc address 0 start_partition 0 : !sb_sq
  %ws = tile.alloc address 512 start_partition 0 : !sb_wide
  tile.dma %x -> %xt queue 0 : !x_hbm -> !sb_sq
  tile.dma %w -> %ws queue 1 : !w_hbm -> !sb_wide
  %tp = tile.alloc address 0 start_partition 0 bank 0 : !ps_sq
  tile.transpose %xt -> %tp : !sb_sq -> !ps_sq
  %xs = tile.alloc address 2560 start_partition 0 : !sb_sq
  tile.copy %tp -> %xs on vector : !ps_sq -> !sb_sq
  %acc = tile.alloc address 2048 start_partition 0 bank 1 : !ps_wide
  tile.matmul %xs, %ws -> %acc accumulate = false : !sb_sq, !sb_wide -> !ps_wide
  %ys = tile.alloc address 3072 start_partition 0 : !sb_wide
  tile.activation gelu %acc -> %ys on scalar : !ps_wide -> !sb_wide
  tile.dma %ys -> %y queue 2 : !sb_wide -> !y_hbm
  func.return
}

// -----

// Views of HBM and of SBUF move the addresses: rows 128..255 of a 256x64 tensor, and the
// lower half of the partitions of a buffer.

!big = !tile.buffer<256x64xf32, hbm>
!half = !tile.buffer<128x64xf32, hbm>
!sb = !tile.buffer<128x64xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!sb64 = !tile.buffer<64x64xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!quarter = !tile.buffer<64x64xf32, hbm>

// CHECK-LABEL: trn_isa.program @views {
// CHECK:         trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, src #trn_isa.ap<hbm + 32768, [[64, 128], [1, 64]], f32> on dma3
// CHECK-NEXT:    trn_isa.dma_copy dst #trn_isa.ap<hbm + 65536, [[64, 64], [1, 64]], f32>, src #trn_isa.ap<sbuf[64:128] + 256, [[1, 64]], f32> on dma4
func.func @views(%a: !big, %b: !quarter) {
  %s = tile.alloc address 256 start_partition 0 : !sb
  %rows = tile.view %a[128, 0] : !big to !half
  tile.dma %rows -> %s queue 3 : !half -> !sb
  %low = tile.view %s[64, 0] : !sb to !sb64
  tile.dma %low -> %b queue 4 : !sb64 -> !quarter
  func.return
}

// -----

// A layout with d1 on the partitions makes the HBM side of the DMA a transposing pattern:
// partition p reads column p (step 1), its free axis walks down the rows (step 48).

!h = !tile.buffer<32x48xf32, hbm>
!sbt = !tile.buffer<32x48xf32, sbuf, #tile.layout<[d0, d1] -> part(d1) free(d0)>>

// CHECK-LABEL: trn_isa.program @transposing {
// CHECK:         trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:48] + 0, [[1, 32]], f32>, src #trn_isa.ap<hbm + 0, [[1, 48], [48, 32]], f32> on dma0
func.func @transposing(%a: !h) {
  %t = tile.alloc address 0 start_partition 0 : !sbt
  tile.dma %a -> %t queue 0 : !h -> !sbt
  func.return
}


// -----

// A select `y = m ? x : y` and an iota: tile.copy_predicated becomes one VectorE
// tensor_copy_predicated (dst, src, predicate); tile.iota one GpSimdE iota with the
// pattern of its free parts (the count-1 part is dropped, and [8, 4] continues [1, 8]'s
// run, so the two merge into [1, 32]; the second iota's [1, 4] and [4, 8] do not merge:
// each partition holds a 4x8 block transposed).

!xs = !tile.buffer<128x64xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!ms = !tile.buffer<128x64xui8, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!is = !tile.buffer<32x4x1x8xi32, sbuf, #tile.layout<[d0, d1, d2, d3] -> part(d0) free(d1, d2, d3)>>

// CHECK-LABEL: trn_isa.program @select_iota {
// CHECK-NEXT:    trn_isa.tensor_copy_predicated dst #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, predicate #trn_isa.ap<sbuf[0:128] + 512, [[1, 64]], ui8> on vector
// CHECK-NEXT:    trn_isa.iota dst #trn_isa.ap<sbuf[0:32] + 1024, [[1, 32]], i32>, base 5, channel_multiplier 32, pattern [[1, 32]] on gpsimd
// CHECK-NEXT:    trn_isa.iota dst #trn_isa.ap<sbuf[0:32] + 1024, [[1, 32]], i32>, base 0, channel_multiplier -1, pattern [[1, 4], [4, 8]] on gpsimd
// CHECK-NEXT:  }
func.func @select_iota() {
  %x = tile.alloc address 0 start_partition 0 : !xs
  %y = tile.alloc address 256 start_partition 0 : !xs
  %m = tile.alloc address 512 start_partition 0 : !ms
  tile.copy_predicated %x, %m -> %y on vector : !xs, !ms -> !xs
  %i = tile.alloc address 1024 start_partition 0 : !is
  tile.iota %i base 5 channel_multiplier 32 pattern [[8, 4], [0, 1], [1, 8]] on gpsimd : !is
  tile.iota %i base 0 channel_multiplier -1 pattern [[1, 4], [0, 1], [4, 8]] on gpsimd : !is
  func.return
}

// -----

// An activation's per-partition bias, scale and row-sum accumulator reach the
// instruction, and a reduction's negation (a softmax's exp(x - max) is `exp` with the
// negated row maxima as its bias, and its sums come with it).

!hx = !tile.buffer<128x64xf32, hbm>
!hc = !tile.buffer<128x1xf32, hbm>
!sx = !tile.buffer<128x64xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!sc = !tile.buffer<128x1xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>

// CHECK-LABEL: trn_isa.program @biased {
// CHECK:         trn_isa.tensor_reduce max dst #trn_isa.ap<sbuf[0:128] + 256, [[1, 1]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32> {axes = 1 : i64, negate = true} on vector
// CHECK-NEXT:    trn_isa.activation exp dst #trn_isa.ap<sbuf[0:128] + 512, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, scale 5.000000e-01, bias #trn_isa.ap<sbuf[0:128] + 256, [[1, 1]], f32>, accum #trn_isa.ap<sbuf[0:128] + 768, [[1, 1]], f32> on scalar
func.func @biased(%a: !hx {graph.name = "a"}, %b: !hx {graph.name = "b"}, %c: !hc {graph.name = "c"}) {
  %x = tile.alloc address 0 start_partition 0 : !sx
  tile.dma %a -> %x queue 0 : !hx -> !sx
  %m = tile.alloc address 256 start_partition 0 : !sc
  tile.reduce max %x axes [1] negate -> %m on vector : !sx -> !sc
  %y = tile.alloc address 512 start_partition 0 : !sx
  %s = tile.alloc address 768 start_partition 0 : !sc
  tile.activation exp %x bias %m scale 0.5 -> %y accum %s on scalar : !sx, !sc -> !sx, !sc
  tile.dma %y -> %b queue 1 : !sx -> !hx
  tile.dma %s -> %c queue 2 : !sc -> !hc
  func.return
}

// -----

// An op with an alternate engine, in a loop: its even runs on its engine, its odd runs
// on the alternate (as tile-balance-engines chose them), one instruction per run.

!sa = !tile.buffer<128x64xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>

// CHECK-LABEL: trn_isa.program @alternating {
// CHECK:         trn_isa.tensor_copy {{.*}} on vector
// CHECK-NEXT:    trn_isa.tensor_copy {{.*}} on scalar
// CHECK-NEXT:    trn_isa.tensor_copy {{.*}} on vector
// CHECK-NEXT:    trn_isa.tensor_scalar {{.*}} op0 mul {{.*}} on gpsimd
// CHECK-NEXT:    trn_isa.tensor_scalar {{.*}} op0 mul {{.*}} on vector
// CHECK-NEXT:    trn_isa.tensor_scalar {{.*}} op0 mul {{.*}} on gpsimd
func.func @alternating() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %x = tile.alloc address 0 start_partition 0 : !sa
  %y = tile.alloc address 256 start_partition 0 : !sa
  scf.for %i = %c0 to %c3 step %c1 {
    tile.copy %x -> %y on vector alternating scalar : !sa -> !sa
  }
  scf.for %i = %c0 to %c3 step %c1 {
    tile.tensor_scalar mul %x, 2.0 -> %y on gpsimd alternating vector : !sa -> !sa
  }
  func.return
}
