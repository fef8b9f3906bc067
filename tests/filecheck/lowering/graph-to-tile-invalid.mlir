// RUN: trn-opt %s -p graph-to-tile --split-input-file --verify-diagnostics

func.func @unsupported(%x: tensor<4x8xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{pass failed: graph-to-tile: 'graph.transpose' is not lowered yet}}
  %0 = graph.transpose %x {perm = [1, 0]} : tensor<4x8xf32> -> tensor<8x4xf32>
  func.return %0 : tensor<8x4xf32>
}

// -----

func.func @broadcast(%x: tensor<4x5x8xf32>, %b: tensor<4x1x8xf32>) -> tensor<4x5x8xf32> {
  // expected-error @+1 {{pass failed: graph-to-tile: this broadcast is not lowered yet}}
  %0 = graph.add %x, %b : (tensor<4x5x8xf32>, tensor<4x1x8xf32>) -> tensor<4x5x8xf32>
  func.return %0 : tensor<4x5x8xf32>
}
