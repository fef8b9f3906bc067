// trn-run on graph-level IR: a given input (.npy, then .npz), a random one, a weights file
// next to the .mlir file; the printed summary, the JSON report and the written outputs.
// RUN: %PYTHON -c "import numpy as np; np.save('%t.x.npy', np.array([[1, -2, 3], [-4, 5, -6]], np.float32)); np.save('%t.x64.npy', np.zeros((2, 3)))"
// RUN: trn-run %s --input x=%t.x.npy --random-inputs --seed 3 --report %t.report.json --output-dir %t.out | filecheck %s
// RUN: %PYTHON -c "import json, sys; r = json.load(open(sys.argv[1])); print(r['level'], r['function'], r['op_count'], [(o['name'], o['shape'], o['dtype']) for o in r['outputs']], [(i['name'], i['random']) for i in r['inputs']], r['notes'])" %t.report.json | filecheck %s --check-prefix=JSON
// RUN: %PYTHON -c "import numpy as np; print(np.load('%t.out/y.npy').tolist(), np.load('%t.out/count.npy').dtype)" | filecheck %s --check-prefix=OUT
// RUN: %PYTHON -c "import numpy as np; np.savez('%t.in.npz', x=np.ones((2, 3), np.float32), noise=np.zeros((4,), np.float32))"
// RUN: trn-run %s --inputs %t.in.npz | filecheck %s --check-prefix=NPZ
// Inputs are never cast, and none is made up unless --random-inputs says so:
// RUN: not trn-run %s --input x=%t.x64.npy --random-inputs 2>&1 | filecheck %s --check-prefix=DTYPE
// RUN: not trn-run %s --input x=%t.x.npy 2>&1 | filecheck %s --check-prefix=NODATA
// DTYPE: trn-run: error: input 'x' has dtype float64, @main expects float32 (convert it; trnc does not cast inputs)
// NODATA: trn-run: error: no data for input 'noise': give it with --inputs FILE.npz or --input NAME=FILE.npy, or pass --random-inputs for seeded random data

// y = relu((x + w) * 2) with w = [0.5, 1, -1] from Inputs/graph-weights.bin (at byte 4);
// total = sum(noise); count = the number of y elements above 1, via a helper function.
func.func @main(%x: tensor<2x3xf32> {graph.name = "x"}, %noise: tensor<4xf32> {graph.name = "noise"})
    -> (tensor<2x3xf32> {graph.name = "y"}, tensor<f32> {graph.name = "total"}, tensor<i64> {graph.name = "count"}) {
  %w = graph.weight "w" from "Inputs/graph-weights.bin" at 4 : tensor<3xf32>
  %two = graph.constant dense<2.0> : tensor<f32>
  %0 = graph.add %x, %w : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = graph.mul %0, %two : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %y = graph.relu %1 : tensor<2x3xf32>
  %total = graph.reduce_sum %noise {axes = [], keepdims = false} : tensor<4xf32> -> tensor<f32>
  %count = func.call @count_above_one(%y) : (tensor<2x3xf32>) -> tensor<i64>
  return %y, %total, %count : tensor<2x3xf32>, tensor<f32>, tensor<i64>
}

func.func @count_above_one(%v: tensor<2x3xf32>) -> tensor<i64> {
  %one = graph.constant dense<1.0> : tensor<f32>
  %above = graph.greater %v, %one : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xi1>
  %n = graph.cast %above : tensor<2x3xi1> -> tensor<2x3xi64>
  %count = graph.reduce_sum %n {axes = [0, 1], keepdims = false} : tensor<2x3xi64> -> tensor<i64>
  return %count : tensor<i64>
}

// CHECK: graph function @main: 11 ops (func.call 1, graph.add 1, graph.cast 1, graph.constant 2, graph.greater 1, graph.mul 1, graph.reduce_sum 2, graph.relu 1, graph.weight 1)
// CHECK-NEXT: wall time {{[0-9.]+}} ms
// CHECK-NEXT: note: filled with seeded random data (seed 3): noise
// CHECK-NEXT: output y: shape (2, 3) float32: min 0 max 12 mean 3.16667
// CHECK-NEXT: output total: shape () float32: min [[T:[-0-9.e]+]] max [[T]] mean [[T]]
// CHECK-NEXT: output count: shape () int64: min 3 max 3 mean 3
// CHECK-NOT: note

// JSON: graph main 11 [('y', [2, 3], 'float32'), ('total', [], 'float32'), ('count', [], 'int64')] [('x', False), ('noise', True)] ['filled with seeded random data (seed 3): noise']

// OUT: {{\[\[}}3.0, 0.0, 4.0], [0.0, 12.0, 0.0]] int64

// NPZ-NOT: note
// NPZ: output y: shape (2, 3) float32: min 0 max 4 mean 2.33333
// NPZ-NEXT: output total: shape () float32: min 0 max 0 mean 0
// NPZ-NEXT: output count: shape () int64: min 4 max 4 mean 4
