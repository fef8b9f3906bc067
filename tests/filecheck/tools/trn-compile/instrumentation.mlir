// trn-compile takes trn-opt's (and mlir-opt's) pass instrumentation flags, on the passes
// `trnc.compile` runs (the bundled MLP: its erf GELU is fused by graph-fuse-activations).

// RUN: trn-compile %examples/mlp.onnx --input-shape x=4x64 --dump-pass-pipeline -o /dev/null 2>&1 | filecheck %s --check-prefix=DUMP
// DUMP:      Pass Manager with 14 passes:
// DUMP-NEXT: builtin.module(graph-decompose,graph-canonicalize,graph-fuse-activations,graph-fold-weights,graph-canonicalize,graph-plan-tiling,graph-to-tile,tile-plan-memory,tile-prefetch,tile-balance-engines,tile-allocate,tile-to-isa,isa-schedule,isa-insert-sync)

// RUN: trn-compile %examples/mlp.onnx --input-shape x=4x64 --mlir-print-ir-before=graph-fuse-activations --print-ir-after=graph-fuse-activations -o /dev/null 2>&1 | filecheck %s --check-prefix=GELU
// GELU:      IR Dump Before GraphFuseActivationsPass (graph-fuse-activations)
// GELU:        graph.erf
// GELU:      IR Dump After GraphFuseActivationsPass (graph-fuse-activations)
// GELU-NOT:    graph.erf
// GELU:        graph.gelu

// RUN: trn-compile %examples/mlp.onnx --input-shape x=4x64 --mlir-print-ir-after-all -o /dev/null 2>&1 | filecheck %s --check-prefix=ALL
// ALL: IR Dump After GraphDecomposePass (graph-decompose)
// ALL: IR Dump After TileAllocate (tile-allocate)
// ALL: IR Dump After IsaInsertSync (isa-insert-sync)
// ALL:   trn_isa.program

// RUN: trn-compile %examples/mlp.onnx --input-shape x=4x64 --mlir-timing -o /dev/null 2>&1 | filecheck %s --check-prefix=TIME
// TIME:      ----Wall Time----  ----Name----
// TIME:      import
// TIME:      graph-to-tile
// TIME:      verify
// TIME:      (100.0%)  Total

// RUN: trn-compile %examples/mlp.onnx --input-shape x=4x64 --mlir-pass-statistics -o /dev/null 2>&1 | filecheck %s --check-prefix=STATS
// STATS:      ... Pass statistics report ...
// STATS:      'graph-fuse-activations'
// STATS-NEXT:   (S) 1 gelus - spelled-out GELUs fused
// STATS:      'isa-insert-sync'
