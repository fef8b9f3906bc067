// trn-compile on the bundled MLP (Gemm + bias, ReLU, erf GELU): compile, simulate, check
// against onnxruntime, write the report, the trace and a runnable .mlir + weights.

// RUN: rm -rf %t && mkdir -p %t
// RUN: trn-compile %examples/mlp.onnx --input-shape x=4x64 --dtype fp32 --run --check --random-inputs --report %t/report.json --trace %t/trace.json | filecheck %s
// RUN: %PYTHON -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['instructions']['total'] > 0 and r['simulation']['simulated_ns'] > 0 and 'graph-to-tile' in r['compile_seconds'], r" %t/report.json
// RUN: %PYTHON -c "import json,sys; t=json.load(open(sys.argv[1])); assert any(e.get('ph') == 'X' for e in t['traceEvents'])" %t/trace.json

// CHECK:      output y: shape (4, 10) float32
// CHECK:      program main: {{[0-9]+}} instructions
// CHECK:      simulated time
// CHECK:      tensor {{.*}}%
// CHECK:      check against onnxruntime (fp32, tolerance 0.0001 of max |ref|):
// CHECK-NEXT:   y {{.*}} max abs err {{.*}} ok

// bf16 (the default) within its documented tolerance:
// RUN: trn-compile %examples/mlp.onnx --input-shape x=4x64 --check --random-inputs | filecheck %s --check-prefix=BF16
// BF16: check against onnxruntime (bf16, tolerance 0.02 of max |ref|):
// BF16-NEXT: y {{.*}} ok

// -o writes the isa program and its weights; trn-run runs it standalone.
// RUN: trn-compile %examples/mlp.onnx --input-shape x=4x64 -o %t/mlp.mlir
// RUN: trn-run %t/mlp.mlir --random-inputs | filecheck %s --check-prefix=STANDALONE
// STANDALONE: program main
// STANDALONE-NOT: filled with seeded random data{{.*}}w

// --emit shows each level.
// RUN: trn-compile %examples/mlp.onnx --input-shape x=4x64 --emit graph | filecheck %s --check-prefix=GRAPH
// RUN: trn-compile %examples/mlp.onnx --input-shape x=4x64 --emit tile | filecheck %s --check-prefix=TILE
// GRAPH: graph.gemm
// TILE: tile.matmul

// --emit graph -o writes the weights beside it, so trn-run runs the graph IR too.
// RUN: trn-compile %examples/mlp.onnx --input-shape x=4x64 --emit graph -o %t/g.mlir
// RUN: trn-run %t/g.mlir --random-inputs | filecheck %s --check-prefix=GRAPHEXEC
// GRAPHEXEC: graph function @main
// GRAPHEXEC: output y: shape (4, 10) float32
