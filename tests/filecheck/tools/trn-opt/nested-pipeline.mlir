// RUN: trn-opt %s -p 'graph-to-isa{dtype=fp32}' --time-passes -o /dev/null 2>&1 | filecheck %s
// RUN: trn-opt %s -p graph-to-isa --print-ir-after-all -o /dev/null 2>&1 | filecheck %s --check-prefix=DUMP

// graph-to-isa is a nested pipeline: --time-passes and --print-ir-after-all report each
// of its stages, in order (the same list trnc.compile runs).

// CHECK:      graph-to-isa/graph-decompose
// CHECK-NEXT: graph-to-isa/graph-canonicalize
// CHECK-NEXT: graph-to-isa/graph-fuse-activations
// CHECK-NEXT: graph-to-isa/graph-plan-tiling
// CHECK-NEXT: graph-to-isa/graph-to-tile
// CHECK-NEXT: graph-to-isa/tile-plan-memory
// CHECK-NEXT: graph-to-isa/tile-prefetch
// CHECK-NEXT: graph-to-isa/tile-balance-engines
// CHECK-NEXT: graph-to-isa/tile-allocate
// CHECK-NEXT: graph-to-isa/tile-to-isa
// CHECK-NEXT: graph-to-isa/isa-schedule
// CHECK-NEXT: graph-to-isa/isa-insert-sync

// DUMP:      IR Dump After GraphDecomposePass (graph-decompose)
// DUMP:      IR Dump After GraphPlanTiling (graph-plan-tiling)
// DUMP:        graph.matmul {{.*}} {tile.plan = {row_group = 1 : i64, keep_xt = true, k_loop = false, panel_blocks = 8 : i64, x_row_loads = false, row_loop = false}}
// DUMP:      IR Dump After GraphToTile (graph-to-tile)
// DUMP:        tile.dma
// DUMP:      IR Dump After TilePlanMemory (tile-plan-memory)
// DUMP-SAME: //----- //
// DUMP:        tile.resident
// DUMP:      IR Dump After TilePrefetch (tile-prefetch)
// DUMP:      IR Dump After TileBalanceEngines (tile-balance-engines)
// DUMP:      IR Dump After TileAllocate (tile-allocate)
// DUMP:      IR Dump After TileToIsa (tile-to-isa)
// DUMP:        trn_isa.program
// DUMP:      IR Dump After IsaSchedule (isa-schedule)
// DUMP:      IR Dump After IsaInsertSync (isa-insert-sync)

func.func @main(%x: tensor<128x64xf32> {graph.name = "x"}, %w: tensor<64x32xf32> {graph.name = "w"})
    -> (tensor<128x32xf32> {graph.name = "y"}) {
  %h = graph.matmul %x, %w : (tensor<128x64xf32>, tensor<64x32xf32>) -> tensor<128x32xf32>
  %y = graph.relu %h : tensor<128x32xf32>
  func.return %y : tensor<128x32xf32>
}
