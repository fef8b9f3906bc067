// RUN: trn-opt %s -p 'graph-plan-tiling,graph-to-tile{dtype=bf16},tile-plan-memory{loop_rows=true}' | filecheck %s
// RUN: trn-opt %s -p 'graph-plan-tiling,graph-to-tile{dtype=bf16},tile-plan-memory' | filecheck %s --check-prefix=OFF

// loop_rows: the relu's result (a scratch tensor, stored as bf16 since only the matmul
// reads it) is read by the matmul's row loop through dynamic views, which the
// top-level forwarding cannot serve; it is kept whole in SBUF instead ([128, 2 x 512]:
// row block k at columns [512 k, 512 (k + 1))): the relu's cast writes each row block
// into it, the loop reads row block i as the view at column (128 i / 128) * 512, and the
// scratch argument and its DMAs are gone. Off (the default), the tensor goes through HBM.

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    graph.name = "y", tile.role = "output"{{[^%]*}}) attributes {tile.resident = ["tmp0"]
// CHECK:         %[[KEPT:.*]] = tile.alloc : !tile.buffer<128x1024xbf16, sbuf
// CHECK:         %[[R0:.*]] = tile.view %[[KEPT]] [0, 0] : {{.*}} to !tile.buffer<128x512xbf16, sbuf
// CHECK:         tile.copy %{{.*}} -> %[[R0]]
// CHECK:         %[[R1:.*]] = tile.view %[[KEPT]] [0, 512] : {{.*}} to !tile.buffer<128x512xbf16, sbuf
// CHECK:         tile.copy %{{.*}} -> %[[R1]]
// The weight's loads (a loop), then the row loop:
// CHECK:         scf.for
// CHECK:           tile.dma
// CHECK:         scf.for %[[I:[0-9]+]] = {{.*}} {
// CHECK:           %[[ROW:.*]] = arith.muli %[[I]], %{{.*}} : index
// CHECK:           %[[BLOCK:.*]] = arith.divui %[[ROW]], %{{.*}} : index
// CHECK:           %[[COL:.*]] = arith.muli %[[BLOCK]], %{{.*}} : index
// CHECK:           tile.view %[[KEPT]] [0, %[[COL]]] : {{.*}} to !tile.buffer<128x512xbf16, sbuf
// CHECK:         tile.dealloc %[[KEPT]]

// OFF-LABEL: func.func @main(
// OFF-SAME:    graph.name = "tmp0", tile.role = "scratch"
// OFF:         scf.for
// OFF:           tile.dma %{{.*}} -> %{{.*}} : !tile.buffer<128x512xbf16, hbm> -> !tile.buffer<128x512xbf16, sbuf
func.func @main(%x: tensor<256x512xf32> {graph.name = "x"}, %w: tensor<512x256xf32> {graph.name = "w"}) -> (tensor<256x256xf32> {graph.name = "y"}) {
  %r = graph.relu %x : tensor<256x512xf32> -> tensor<256x512xf32>
  %y = graph.matmul %r, %w : (tensor<256x512xf32>, tensor<512x256xf32>) -> tensor<256x256xf32>
  func.return %y : tensor<256x256xf32>
}
