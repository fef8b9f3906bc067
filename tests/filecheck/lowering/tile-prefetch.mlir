// RUN: trn-opt %s -p tile-prefetch | filecheck %s
// RUN: trn-opt %s -p 'tile-prefetch{distance=0}' | filecheck %s --check-prefix=KEEP
// RUN: trn-opt %s -p 'tile-prefetch{budget=3000}' | filecheck %s --check-prefix=BUDGET
// RUN: trn-opt %s -p 'tile-prefetch{lead_ns=100000.0}' | filecheck %s --check-prefix=LEAD

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
!lh = !tile.buffer<128x512xf32, hbm>
!ls = !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>

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

// A load moves only as far as it must: just early enough that, after the DMAs before
// it and its fixed latency (1.3 us), its data is there when its op starts, by the
// engines' time (the simulator's costs) of the ops before. Here the weight is needed
// after sixteen 0.37 us activations; its 256 KiB take 1.3 + 0.64 us, and the output's
// store after it 0.64 us more of the same HBM bandwidth, so it moves up past eight of
// them, not to the top (where its tile would be live for the whole function). With a
// lead of 100 us it moves to the top.

// CHECK-LABEL: func.func @late(
// CHECK:         tile.dma %x
// CHECK-COUNT-8: tile.activation exp
// CHECK-NEXT:    %[[C:.*]] = tile.alloc
// CHECK-NEXT:    tile.dma %w -> %[[C]]
// CHECK-COUNT-8: tile.activation exp
// CHECK-NEXT:    tile.tensor_tensor add

// LEAD-LABEL: func.func @late(
// LEAD-NEXT:    %[[C:.*]] = tile.alloc
// LEAD-NEXT:    tile.dma %w -> %[[C]]

func.func @late(%x: !lh {tile.role = "input"}, %w: !lh {tile.role = "weight"}, %y: !lh {tile.role = "output"}) {
  %a = tile.alloc : !ls
  tile.dma %x -> %a : !lh -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  tile.activation exp %a -> %a on scalar : !ls -> !ls
  %c = tile.alloc : !ls
  tile.dma %w -> %c : !lh -> !ls
  tile.tensor_tensor add %a, %c -> %a on vector : !ls, !ls -> !ls
  tile.dma %a -> %y : !ls -> !lh
  tile.dealloc %a : !ls
  tile.dealloc %c : !ls
  func.return
}
