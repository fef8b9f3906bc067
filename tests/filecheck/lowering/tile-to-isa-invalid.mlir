// RUN: trn-opt %s -p tile-to-isa --split-input-file --verify-diagnostics

// tile-to-isa needs every placement decided (tile-allocate makes them).

!sb = !tile.buffer<128x64xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!h = !tile.buffer<128x64xf32, hbm>

func.func @no_address(%a: !h) {
  // expected-error @+1 {{pass failed: tile-to-isa: buffer has no address; run tile-allocate first}}
  %s = tile.alloc : !sb
  tile.dma %a -> %s queue 0 : !h -> !sb
  func.return
}

// -----

!sb = !tile.buffer<128x64xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!h = !tile.buffer<128x64xf32, hbm>

func.func @no_queue(%a: !h) {
  %s = tile.alloc address 0 start_partition 0 : !sb
  // expected-error @+1 {{pass failed: tile-to-isa: DMA has no queue; run tile-allocate first}}
  tile.dma %a -> %s : !h -> !sb
  func.return
}

// -----

!sb = !tile.buffer<128x64xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!h = !tile.buffer<128x64xf32, hbm>
!hv = !tile.buffer<64x64xf32, hbm>

func.func @hbm_to_hbm(%a: !h, %b: !hv) {
  %v = tile.view %a[0, 0] : !h to !hv
  // expected-error @+1 {{pass failed: tile-to-isa: HBM-to-HBM DMA is not lowered yet}}
  tile.dma %v -> %b queue 0 : !hv -> !hv
  func.return
}
