// trn-run verifies SSA dominance while parsing (as trn-opt does): a use before its
// definition is a located error and exit code 1, not a KeyError from the interpreter.
// RUN: not trn-run %s 2>&1 | filecheck %s

// CHECK-NOT: Traceback
// CHECK: dominance.mlir:[[# @LINE + 3]]:3: error: 'graph.relu' op operand #0 does not dominate this use: it is used before its definition (defined at {{.*}}dominance.mlir:[[# @LINE + 4]]:3)
// CHECK-NOT: Traceback
func.func @main(%x: tensor<4xf32> {graph.name = "x"}) -> (tensor<4xf32> {graph.name = "y"}) {
  %b = graph.relu %a : tensor<4xf32>
  %a = graph.relu %x : tensor<4xf32>
  func.return %b : tensor<4xf32>
}
