// RUN: trn-opt %s -p graph-to-tile --split-input-file --verify-diagnostics

// softmax has no instruction: graph-decompose rewrites it first (graph-to-isa does).
func.func @unsupported(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{pass failed: graph-to-tile: 'graph.softmax' is not lowered yet}}
  %0 = graph.softmax %x {axis = -1} : tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}

// -----

func.func @integers(%x: tensor<4x8xi32>) -> tensor<4x8xi32> {
  // expected-error @+1 {{pass failed: graph-to-tile: 'graph.add' on integer or boolean tensors is not lowered yet}}
  %0 = graph.add %x, %x : (tensor<4x8xi32>, tensor<4x8xi32>) -> tensor<4x8xi32>
  func.return %0 : tensor<4x8xi32>
}

// -----

func.func @perm(%x: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+1 {{pass failed: graph-to-tile: transpose with perm [1, 0, 2] is not lowered yet}}
  %0 = graph.transpose %x {perm = [1, 0, 2]} : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  func.return %0 : tensor<3x2x4xf32>
}

// -----

func.func @broadcast(%x: tensor<2x1x3x1xf32>, %b: tensor<1x2x1x3xf32>) -> tensor<2x2x3x3xf32> {
  // expected-error @+1 {{pass failed: graph-to-tile: this broadcast is not lowered yet}}
  %0 = graph.add %x, %b : (tensor<2x1x3x1xf32>, tensor<1x2x1x3xf32>) -> tensor<2x2x3x3xf32>
  func.return %0 : tensor<2x2x3x3xf32>
}
