// RUN: trn-opt %s -p graph-to-tile | filecheck %s
// RUN: trn-opt %s -p graph-to-tile,tile-prefetch | filecheck %s --check-prefix=PREFETCH

// Loops at the tile level: y[128, 512] = x[128, 1280] @ w[1280, 512]. x^T's ten K blocks
// go side by side into one SBUF tile (top-level transposes, so tile-plan-memory still
// sees x's loads). w's K blocks stay loops: panels of PANEL_BLOCKS = 8 blocks, each
// filled by an scf.for of loads and read by an scf.for of matmuls whose views are at
// dynamic offsets (block 0, which starts the accumulation, is peeled). tile-to-isa
// unrolls them.

// CHECK-LABEL: func.func @main(
// CHECK:         %[[XT:.*]] = tile.alloc : !tile.buffer<128x1280xf32, sbuf
// CHECK:         %[[ACC:.*]] = tile.alloc : !tile.buffer<128x512xf32, psum
// The first panel: blocks 0..7.
// CHECK:         %[[P0:.*]] = tile.alloc : !tile.buffer<128x4096xf32, sbuf
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:           %[[ROW:.*]] = arith.muli %[[I]], %{{.*}} : index
// CHECK-NEXT:      %[[SRC:.*]] = tile.view %{{.*}} [%[[ROW]], 0] : !tile.buffer<1280x512xf32, hbm> to !tile.buffer<128x512xf32, hbm>
// CHECK:           %[[DST:.*]] = tile.view %[[P0]] [0, %{{.*}}] : {{.*}} to !tile.buffer<128x512xf32, sbuf
// CHECK-NEXT:      tile.dma %[[SRC]] -> %[[DST]]
// CHECK-NEXT:    }
// CHECK:         tile.matmul %{{.*}}, %{{.*}} -> %[[ACC]] accumulate = false
// CHECK:         scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:           %[[WJ:.*]] = tile.view %[[P0]] [0, %{{.*}}] : {{.*}} to !tile.buffer<128x512xf32, sbuf
// CHECK:           %[[XJ:.*]] = tile.view %[[XT]] [0, %{{.*}}] : {{.*}} to !tile.buffer<128x128xf32, sbuf
// CHECK-NEXT:      tile.matmul %[[XJ]], %[[WJ]] -> %[[ACC]] accumulate = true
// CHECK-NEXT:    }
// CHECK-NEXT:    tile.dealloc %[[P0]]
// The second panel: blocks 8 and 9.
// CHECK:         %[[P1:.*]] = tile.alloc : !tile.buffer<128x1024xf32, sbuf
// CHECK:         scf.for
// CHECK:           tile.dma
// CHECK:         scf.for
// CHECK:           tile.matmul {{.*}} -> %[[ACC]] accumulate = true
// CHECK:         tile.dealloc %[[P1]]
// CHECK:         tile.copy %[[ACC]]

// tile-prefetch moves both panels' load loops (with their allocations and bounds) ahead
// of x's transposes: w is a read-only weight.
// PREFETCH-LABEL: func.func @main(
// PREFETCH:         scf.for
// PREFETCH:           tile.dma
// PREFETCH:         scf.for
// PREFETCH:           tile.dma
// PREFETCH:         tile.transpose
func.func @main(%x: tensor<128x1280xf32> {graph.name = "x"}, %w: tensor<1280x512xf32> {graph.name = "w"}) -> (tensor<128x512xf32> {graph.name = "y"}) {
  %y = graph.matmul %x, %w : (tensor<128x1280xf32>, tensor<1280x512xf32>) -> tensor<128x512xf32>
  func.return %y : tensor<128x512xf32>
}

// A computed left operand (here a relu's result): its 128-row block is loaded with one
// DMA, the bytes the relu stored as one row tile (tile-plan-memory serves it from SBUF),
// and a loop transposes its ten K blocks into x^T's tile, each through a PSUM tile that
// tile-allocate rotates.
// The loop's bounds, like every index constant, are defined once at the function's start.
// CHECK-LABEL: func.func @computed(
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C10:.*]] = arith.constant 10 : index
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK:         tile.activation relu
// CHECK:         %[[XT:.*]] = tile.alloc : !tile.buffer<128x1280xf32, sbuf
// CHECK:         %[[XS:.*]] = tile.alloc : !tile.buffer<128x1280xf32, sbuf
// CHECK-NEXT:    tile.dma %{{.*}} -> %[[XS]] : !tile.buffer<128x1280xf32, hbm> -> !tile.buffer<128x1280xf32, sbuf
// CHECK-NEXT:    scf.for %[[I:.*]] = %[[C0]] to %[[C10]] step %[[C1]] {
// CHECK-NEXT:      %[[P:.*]] = tile.alloc : !tile.buffer<128x128xf32, psum
// CHECK:           %[[BLOCK:.*]] = tile.view %[[XS]] [0, %{{.*}}] : {{.*}} to !tile.buffer<128x128xf32, sbuf
// CHECK-NEXT:      tile.transpose %[[BLOCK]] -> %[[P]]
// CHECK:           %[[INTO:.*]] = tile.view %[[XT]] [0, %{{.*}}] : {{.*}} to !tile.buffer<128x128xf32, sbuf
// CHECK-NEXT:      tile.copy %[[P]] -> %[[INTO]] on vector
// CHECK-NEXT:      tile.dealloc %[[P]]
// CHECK:         }
// CHECK-NEXT:    tile.dealloc %[[XS]]
func.func @computed(%x: tensor<128x1280xf32> {graph.name = "x"}, %w: tensor<1280x512xf32> {graph.name = "w"}) -> (tensor<128x512xf32> {graph.name = "y"}) {
  %r = graph.relu %x : tensor<128x1280xf32> -> tensor<128x1280xf32>
  %y = graph.matmul %r, %w : (tensor<128x1280xf32>, tensor<1280x512xf32>) -> tensor<128x512xf32>
  func.return %y : tensor<128x512xf32>
}
