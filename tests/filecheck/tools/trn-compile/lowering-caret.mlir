// A graph-level .mlir input: an op the lowering refuses is one located error, with the
// source line and a caret under the column (as trn-opt and mlir-opt print them), and
// exit code 1; so is an op that does not verify.
// RUN: not trn-compile %s 2>&1 | filecheck %s --strict-whitespace
// RUN: not trn-compile %S/Inputs/not-verified.mlir 2>&1 | filecheck %S/Inputs/not-verified.mlir --strict-whitespace
// RUN: not trn-compile %s --check 2>&1 | filecheck %s --check-prefix=CHECK-FLAG

// CHECK:      lowering-caret.mlir:[[# @LINE + 5]]:3: error: 'graph.add' op graph-to-tile: 'graph.add' on integer or boolean tensors is not lowered yet
// CHECK-NEXT: {{^}}  %z = graph.add %x, %y : (tensor<4x6xi32>, tensor<4x6xi32>) -> tensor<4x6xi32>{{$}}
// CHECK-NEXT: {{^}}  ^{{$}}
// CHECK-NOT:  error:
func.func @main(%x: tensor<4x6xi32> {graph.name = "x"}, %y: tensor<4x6xi32> {graph.name = "y"}) -> (tensor<4x6xi32> {graph.name = "z"}) {
  %z = graph.add %x, %y : (tensor<4x6xi32>, tensor<4x6xi32>) -> tensor<4x6xi32>
  return %z : tensor<4x6xi32>
}

// CHECK-FLAG: trn-compile: error: --check compares with onnxruntime, which needs an ONNX model
