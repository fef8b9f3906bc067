// RUN: trn-opt %s -p 'tile-allocate{reuse-distance=0}' | filecheck %s
// RUN: trn-opt %s -p tile-allocate | filecheck %s --check-prefix=ROTATE

// Buffers whose lifetimes overlap get disjoint bytes; the biggest buffers are placed
// first (the 2 KiB PSUM accumulator takes bank 0, the 512 B one the start of bank 1: PSUM
// buffers never cross a bank). DMAs go to the least-loaded queue. Packed tightly
// (reuse-distance=0), a buffer allocated after another is freed reuses its bytes (c on
// a's); by default (reuse-distance=64) bytes freed less than 64 positions earlier go to
// no new buffer while others are free, so c lands beside a and its writes need not wait
// for a's readers (rotating buffers).

// ROTATE-LABEL: func.func @f(
// ROTATE-NEXT:    tile.alloc address 0 start_partition 0 : !tile.buffer<128x512xf32, sbuf
// ROTATE-NEXT:    tile.alloc address 4096 start_partition 0 : !tile.buffer<128x64xf32, sbuf
// ROTATE:         tile.dealloc
// ROTATE-NEXT:    tile.alloc address 2048 start_partition 0 : !tile.buffer<128x512xf32, sbuf

!h = !tile.buffer<128x512xf32, hbm>
!big = !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!small = !tile.buffer<128x64xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!ps = !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!ps_small = !tile.buffer<128x128xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>

// CHECK-LABEL: func.func @f(
// CHECK-NEXT:    %[[A:.*]] = tile.alloc address 0 start_partition 0 : !tile.buffer<128x512xf32, sbuf
// CHECK-NEXT:    %[[B:.*]] = tile.alloc address 2048 start_partition 0 : !tile.buffer<128x64xf32, sbuf
// CHECK-NEXT:    tile.dma %x -> %[[A]] queue 0
// CHECK-NEXT:    tile.dma %[[A]] -> %x queue 1
// CHECK-NEXT:    tile.dealloc %[[A]]
// CHECK-NEXT:    %[[C:.*]] = tile.alloc address 0 start_partition 0 : !tile.buffer<128x512xf32, sbuf
// CHECK-NEXT:    %[[P:.*]] = tile.alloc address 2048 start_partition 0 bank 1 : !tile.buffer<128x128xf32, psum
// CHECK-NEXT:    %[[Q:.*]] = tile.alloc address 0 start_partition 0 bank 0 : !tile.buffer<128x512xf32, psum
func.func @f(%x: !h) {
  %a = tile.alloc : !big
  %b = tile.alloc : !small
  tile.dma %x -> %a : !h -> !big
  tile.dma %a -> %x : !big -> !h
  tile.dealloc %a : !big
  %c = tile.alloc : !big
  %p = tile.alloc : !ps_small
  %q = tile.alloc : !ps
  tile.memset %p value 0.0 on vector : !ps_small
  tile.memset %q value 0.0 on vector : !ps
  tile.memset %b value 0.0 on vector : !small
  tile.memset %c value 0.0 on vector : !big
  func.return
}
