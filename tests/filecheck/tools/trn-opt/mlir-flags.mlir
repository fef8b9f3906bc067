// mlir-opt's spellings of the pass instrumentation flags, on a two-pass pipeline.
// RUN: trn-opt %s -p graph-decompose,graph-canonicalize --mlir-print-ir-after-all -o /dev/null 2>&1 | filecheck %s --check-prefix=AFTER
// RUN: trn-opt %s -p graph-decompose,graph-canonicalize --mlir-print-ir-before-all -o /dev/null 2>&1 | filecheck %s --check-prefix=BEFORE
// RUN: trn-opt %s -p graph-decompose,graph-canonicalize --print-ir-before=graph-canonicalize -o /dev/null 2>&1 | filecheck %s --check-prefix=ONE
// RUN: trn-opt %s -p graph-to-isa --mlir-print-ir-after=graph-to-isa/tile-allocate,isa-insert-sync -o /dev/null 2>&1 | filecheck %s --check-prefix=STAGES
// RUN: trn-opt %s -p graph-decompose,graph-canonicalize --mlir-timing -o /dev/null 2>&1 | filecheck %s --check-prefix=TIMING
// RUN: trn-opt %s -p 'graph-to-isa{dtype=fp32}' --dump-pass-pipeline -o /dev/null 2>&1 | filecheck %s --check-prefix=DUMP
// RUN: not trn-opt %s -p graph-to-tile --print-ir-after-failure -o /dev/null 2>&1 | filecheck %s --check-prefix=FAIL

// AFTER:      IR Dump After GraphDecomposePass (graph-decompose)
// AFTER:        graph.reduce_max
// AFTER:      IR Dump After GraphCanonicalizePass (graph-canonicalize)

// BEFORE:      IR Dump Before GraphDecomposePass (graph-decompose)
// BEFORE:        graph.softmax
// BEFORE:      IR Dump Before GraphCanonicalizePass (graph-canonicalize)
// BEFORE-NOT:    graph.softmax

// ONE-NOT:  IR Dump Before GraphDecomposePass
// ONE:      IR Dump Before GraphCanonicalizePass (graph-canonicalize)
// ONE-NOT:  IR Dump

// STAGES-NOT: IR Dump After GraphToTile
// STAGES:     IR Dump After TileAllocate (tile-allocate)
// STAGES:       tile.alloc address
// STAGES:     IR Dump After IsaInsertSync (isa-insert-sync)
// STAGES:       trn_isa.program

// TIMING: Execution time report
// TIMING: graph-decompose
// TIMING: graph-canonicalize

// DUMP:      Pass Manager with 12 passes:
// DUMP-NEXT: builtin.module(graph-to-isa{dtype=fp32}(graph-decompose,graph-canonicalize,graph-fuse-activations,graph-plan-tiling,graph-to-tile,tile-plan-memory,tile-prefetch,tile-balance-engines,tile-allocate,tile-to-isa,isa-schedule,isa-insert-sync))

// graph-to-tile alone fails on a softmax (graph-decompose rewrites it first): the IR as
// the failing pass left it, then the error.
// FAIL:      IR Dump After GraphToTile (graph-to-tile)
// FAIL:        graph.softmax
// FAIL:      the pass 'graph-to-tile' failed
// FAIL:      mlir-flags.mlir:{{[0-9]+}}:3: error: 'graph.softmax' op pass failed: graph-to-tile: 'graph.softmax' is not lowered yet
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = graph.softmax %x {axis = -1} : tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}
