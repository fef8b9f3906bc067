// RUN: not trn-opt %s --verify-diagnostics 2>&1 | filecheck %s

// An expected error that does not happen, and an error that was not expected, both fail.
func.func @f(%a: i32) -> i64 {
  // expected-error @+1 {{this text is not in the message}}
  return %a : i32
}
// CHECK-DAG: verify-diagnostics-mismatch.mlir:6:3: error: unexpected error: 'func.return' op Expected arguments
// CHECK-DAG: verify-diagnostics-mismatch.mlir:6:{{[0-9]+}}: error: expected error "this text is not in the message" was not produced
