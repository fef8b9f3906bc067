// RUN: trn-opt %s --split-input-file --verify-diagnostics | filecheck %s
// RUN: not trn-opt %s --split-input-file 2>&1 | filecheck %s --check-prefix=ERR

// A chunk without errors is printed.
// CHECK: func.func @fine
func.func @fine(%a: i32) -> i32 {
  return %a : i32
}

// -----

// Verifier errors are located at the op that broke the rule, in the whole file's lines.
func.func @wrong_return(%a: i32) -> i64 {
  // expected-error @+1 {{'func.return' op Expected arguments to have the same types as the function output types}}
  return %a : i32
}
// ERR: verify-diagnostics.mlir:[[# @LINE - 2]]:3: error: 'func.return' op Expected arguments

// -----

func.func @undefined(%a: i32) -> i32 {
  // expected-error @below {{use of undefined value '%nope'}}
  %b = arith.addi %a, %nope : i32
  return %b : i32
}
// ERR: verify-diagnostics.mlir:[[# @LINE - 3]]:23: error: use of undefined value '%nope'

// -----

// A chunk of only comments is an empty module, as in mlir-opt.
// CHECK: builtin.module {
// CHECK-NEXT: }
