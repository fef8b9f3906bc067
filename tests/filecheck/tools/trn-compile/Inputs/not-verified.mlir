// Input of ../lowering-caret.mlir: a graph op whose result type its operands contradict.
// CHECK:      not-verified.mlir:[[# @LINE + 5]]:3: error: 'graph.add' op result shape mismatch: expected tensor<4x6xf32>, got tensor<4x7xf32>
// CHECK-NEXT: {{^}}  %z = graph.add %x, %x : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x7xf32>{{$}}
// CHECK-NEXT: {{^}}  ^{{$}}
// CHECK-NOT:  error:
func.func @main(%x: tensor<4x6xf32> {graph.name = "x"}) -> (tensor<4x7xf32> {graph.name = "z"}) {
  %z = graph.add %x, %x : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x7xf32>
  return %z : tensor<4x7xf32>
}
