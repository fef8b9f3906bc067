// RUN: trn-opt %s -p tile-plan-memory | filecheck %s
// RUN: trn-opt %s -p 'tile-plan-memory{budget=4000}' | filecheck %s --check-prefix=SPILL

// An op stores its result tile %y to the scratch buffer %t; the next op loads the same
// bytes (%b), and a third loads a column window of them (%c). Both read %y instead: the
// loads, their allocs and the store are gone, %y is freed after its last use, the
// scratch argument is removed and listed as resident. The store to the output stays.

!h = !tile.buffer<128x512xf32, hbm>
!t = !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!w = !tile.buffer<128x128xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>

// CHECK-LABEL: func.func @f(
// CHECK-SAME:    %x: !tile.buffer<128x512xf32, hbm> {tile.role = "input"}
// CHECK-SAME:    %out: !tile.buffer<128x512xf32, hbm> {tile.role = "output"}
// CHECK-NOT:     tile.role = "scratch"
// CHECK-SAME:    attributes {tile.resident = ["tmp"], tile.spill_bytes = 0 : i64}
// CHECK-NEXT:    %[[A:.*]] = tile.alloc : !tile.buffer<128x512xf32, sbuf
// CHECK-NEXT:    tile.dma %x -> %[[A]]
// CHECK-NEXT:    %[[Y:.*]] = tile.alloc : !tile.buffer<128x512xf32, sbuf
// CHECK-NEXT:    tile.activation exp %[[A]] -> %[[Y]]
// CHECK-NEXT:    tile.dealloc %[[A]]
// CHECK-NEXT:    %[[Z:.*]] = tile.alloc : !tile.buffer<128x512xf32, sbuf
// CHECK-NEXT:    tile.activation exp %[[Y]] -> %[[Z]]
// CHECK-NEXT:    tile.dma %[[Z]] -> %out
// CHECK-NEXT:    tile.dealloc %[[Z]]
// CHECK-NEXT:    tile.alloc
// CHECK-NEXT:    tile.memset
// CHECK-NEXT:    tile.dealloc
// CHECK-NEXT:    %[[V:.*]] = tile.view %[[Y]] [0, 128] : {{.*}} to !tile.buffer<128x128xf32, sbuf
// CHECK-NEXT:    %[[U:.*]] = tile.alloc : !tile.buffer<128x128xf32, sbuf
// CHECK-NEXT:    tile.activation exp %[[V]] -> %[[U]]
// CHECK-NEXT:    tile.dealloc %[[Y]]
// CHECK-NOT:     tile.dma

// With a budget of 4000 bytes per partition, keeping %y (2 KiB) live until the window
// load would take the live set over it: that load, the furthest, stays a reload from HBM
// (64 KiB spilled), so the store it reads stays too.
// SPILL-LABEL: func.func @f(
// SPILL-SAME:    {tile.role = "scratch", graph.name = "tmp", tile.residency = "hbm"}
// SPILL-SAME:    attributes {tile.resident = [], tile.spill_bytes = 65536 : i64}
// SPILL:         tile.dma %[[Y:.*]] -> %tmp
// SPILL:         tile.activation exp %[[Y]] -> %{{.*}}
// SPILL:         tile.dma %{{.*}} -> %[[C:[a-z0-9_]+]] : !tile.buffer<128x128xf32, hbm>
// SPILL:         tile.activation exp %[[C]] ->
func.func @f(%x: !h {tile.role = "input"}, %out: !h {tile.role = "output"},
             %tmp: !h {tile.role = "scratch", graph.name = "tmp"}) {
  %a = tile.alloc : !t
  tile.dma %x -> %a : !h -> !t
  %y = tile.alloc : !t
  tile.activation exp %a -> %y on scalar : !t -> !t
  tile.dma %y -> %tmp : !t -> !h
  tile.dealloc %a : !t
  tile.dealloc %y : !t
  %b = tile.alloc : !t
  tile.dma %tmp -> %b : !h -> !t
  %z = tile.alloc : !t
  tile.activation exp %b -> %z on scalar : !t -> !t
  tile.dma %z -> %out : !t -> !h
  tile.dealloc %b : !t
  tile.dealloc %z : !t
  %pad = tile.alloc : !t
  tile.memset %pad value 0.0 on vector : !t
  tile.dealloc %pad : !t
  %win = tile.view %tmp [0, 128] : !h to !tile.buffer<128x128xf32, hbm>
  %c = tile.alloc : !w
  tile.dma %win -> %c : !tile.buffer<128x128xf32, hbm> -> !w
  %u = tile.alloc : !w
  tile.activation exp %c -> %u on scalar : !w -> !w
  tile.dealloc %c : !w
  tile.dealloc %u : !w
  func.return
}
