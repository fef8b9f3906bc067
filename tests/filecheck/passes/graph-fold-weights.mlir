// RUN: rm -f %t.weights
// RUN: trn-opt %s -p 'graph-fold-weights{file="%t.weights"}' | filecheck %s
// RUN: %PYTHON -c "import os, sys; sys.exit(os.path.getsize(sys.argv[1]) != 24 * 4)" %t.weights

// A Gemm's transB on a constant weight costs nothing at run time: the transpose is
// evaluated now and stored as a new weight; ops on run-time values stay.

// CHECK-LABEL: func.func @f(
// CHECK-NEXT:    %[[W:.*]] = graph.weight "folded0" from "{{.*}}.weights" at 0 : tensor<4x6xf32>
// CHECK-NEXT:    %[[Y:.*]] = graph.matmul %x, %[[W]] : (tensor<2x4xf32>, tensor<4x6xf32>) -> tensor<2x6xf32>
// CHECK-NEXT:    func.return %[[Y]] : tensor<2x6xf32>
func.func @f(%x: tensor<2x4xf32>) -> tensor<2x6xf32> {
  %w = graph.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0], [17.0, 18.0, 19.0, 20.0], [21.0, 22.0, 23.0, 24.0]]> : tensor<6x4xf32>
  %wt = graph.transpose %w {perm = [1, 0]} : tensor<6x4xf32> -> tensor<4x6xf32>
  %y = graph.matmul %x, %wt : (tensor<2x4xf32>, tensor<4x6xf32>) -> tensor<2x6xf32>
  func.return %y : tensor<2x6xf32>
}
