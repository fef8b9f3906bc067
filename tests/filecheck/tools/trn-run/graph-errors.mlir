// trn-run on graph-level IR: every user error is one line on stderr and exit code 1.
// RUN: %PYTHON -c "import numpy as np; np.save('%t.x.npy', np.zeros((2, 3), np.float32)); np.save('%t.x32.npy', np.zeros((3, 2), np.float32)); np.save('%t.ids.npy', np.array([1, 7], np.int64))"
// RUN: not trn-run %s --input nope=%t.x.npy 2>&1 | filecheck %s --check-prefix=UNKNOWN
// RUN: not trn-run %s --input x=%t.x32.npy 2>&1 | filecheck %s --check-prefix=SHAPE
// RUN: not trn-run %s --timing-only 2>&1 | filecheck %s --check-prefix=TIMING
// RUN: not trn-run %s --trace %t.trace.json 2>&1 | filecheck %s --check-prefix=TRACE
// RUN: not trn-run %s --random-inputs --input ids=%t.ids.npy 2>&1 | filecheck %s --check-prefix=GATHER
// RUN: not trn-run %S/Inputs/graph-missing-weights.mlir 2>&1 | filecheck %S/Inputs/graph-missing-weights.mlir

func.func @main(%x: tensor<2x3xf32> {graph.name = "x"}, %ids: tensor<2xi64> {graph.name = "ids"}) -> tensor<2x3xf32> {
  %table = graph.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]> : tensor<3x3xf32>
  %rows = graph.gather %table, %ids {axis = 0} : (tensor<3x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  %0 = graph.add %x, %rows : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// UNKNOWN: trn-run: error: input 'nope' is not an input of @main (its inputs: x, ids)
// UNKNOWN-NOT: Traceback

// SHAPE: trn-run: error: input 'x' has shape (3, 2), @main expects (2, 3)
// SHAPE-NOT: Traceback

// TIMING: trn-run: error: --timing-only: graph-level IR has no timing; lower it to trn_isa first
// TIMING-NOT: Traceback

// TRACE: trn-run: error: --trace: graph-level IR has no timing
// TRACE-NOT: Traceback

// GATHER: graph-errors.mlir:[[# @LINE - 17]]:3: error: 'graph.gather' op gather index 7 is out of range for axis 0 of size 3 (valid: [-3, 2])
// GATHER-NOT: Traceback
