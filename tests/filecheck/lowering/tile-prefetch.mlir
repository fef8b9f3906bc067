// RUN: trn-opt %s -p tile-prefetch | filecheck %s
// RUN: trn-opt %s -p 'tile-prefetch{distance=0}' | filecheck %s --check-prefix=KEEP
// RUN: trn-opt %s -p 'tile-prefetch{budget=3000}' | filecheck %s --check-prefix=BUDGET

// The load of the weight %w (read-only) moves up, with its allocation and the view naming
// its source, to the top: its DMA then runs while the first op computes. The load of the
// scratch %t (written by the store above it) stays where it is. With distance=0 nothing
// moves; with a budget of 3000 bytes per partition the weight's 2 KiB tile cannot be live
// beside the two 1 KiB tiles of the first op, so it moves only past the point where they die.

// CHECK-LABEL: func.func @f(
// CHECK-NEXT:    %[[V:.*]] = tile.view %w [0, 0]
// CHECK-NEXT:    %[[W:.*]] = tile.alloc : !tile.buffer<128x512xf32, sbuf
// CHECK-NEXT:    tile.dma %[[V]] -> %[[W]]
// CHECK-NEXT:    %[[A:.*]] = tile.alloc : !tile.buffer<128x256xf32, sbuf
// CHECK-NEXT:    tile.dma %x -> %[[A]]
// CHECK:         tile.dma %t -> %{{.*}} : !tile.buffer<128x256xf32, hbm>

// KEEP-LABEL: func.func @f(
// KEEP-NEXT:    %{{.*}} = tile.alloc : !tile.buffer<128x256xf32, sbuf

// BUDGET-LABEL: func.func @f(
// BUDGET:         tile.dealloc %{{.*}} : !tile.buffer<128x256xf32, sbuf
// BUDGET-NEXT:    tile.dealloc %{{.*}} : !tile.buffer<128x256xf32, sbuf
// BUDGET-NEXT:    %[[V:.*]] = tile.view %w [0, 0]
// BUDGET-NEXT:    %[[W:.*]] = tile.alloc : !tile.buffer<128x512xf32, sbuf
// BUDGET-NEXT:    tile.dma %[[V]] -> %[[W]]

!h = !tile.buffer<128x256xf32, hbm>
!s = !tile.buffer<128x256xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!wh = !tile.buffer<128x1024xf32, hbm>
!ws = !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>

func.func @f(%x: !h {tile.role = "input"}, %w: !wh {tile.role = "weight"},
             %t: !h {tile.role = "scratch"}, %y: !h {tile.role = "output"}) {
  %a = tile.alloc : !s
  tile.dma %x -> %a : !h -> !s
  %b = tile.alloc : !s
  tile.activation exp %a -> %b on scalar : !s -> !s
  tile.dma %b -> %t : !s -> !h
  tile.dealloc %a : !s
  tile.dealloc %b : !s
  %v = tile.view %w [0, 0] : !wh to !tile.buffer<128x512xf32, hbm>
  %c = tile.alloc : !ws
  tile.dma %v -> %c : !tile.buffer<128x512xf32, hbm> -> !ws
  %d = tile.alloc : !s
  tile.dma %t -> %d : !h -> !s
  %e = tile.view %c [0, 0] : !ws to !s
  %f = tile.alloc : !s
  tile.tensor_tensor add %e, %d -> %f on vector : !s, !s -> !s
  tile.dma %f -> %y : !s -> !h
  tile.dealloc %c : !ws
  tile.dealloc %d : !s
  tile.dealloc %f : !s
  func.return
}
