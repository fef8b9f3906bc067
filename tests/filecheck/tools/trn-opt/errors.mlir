// Every error a user can cause is a located diagnostic and exit code 1, never a traceback.
// RUN: not trn-opt %s --split-input-file 2>&1 | filecheck %s
// RUN: not trn-opt %s.does-not-exist 2>&1 | filecheck %s --check-prefix=MISSING
// RUN: not trn-opt %s --load-plugin no_such_plugin_module 2>&1 | filecheck %s --check-prefix=PLUGIN

// CHECK-NOT: Traceback
// CHECK: errors.mlir:[[# @LINE + 1]]:{{[0-9]+}}: error: Operation no.such_op is not registered
%0 = "no.such_op"() : () -> i32

// -----

// CHECK: errors.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: 'func.return' op Expected arguments to have the same types
func.func @f(%a: i32) -> i64 {
  return %a : i32
}

// -----

// CHECK: errors.mlir:[[# @LINE + 1]]:22: error: ')' expected
func.func @g(%a: i32 -> i32 {
}

// -----

// A block label defined twice after a branch named it (xDSL's parser raised a KeyError).
// CHECK: errors.mlir:[[# @LINE + 5]]:1: error: re-declaration of block 'b'
func.func @twice(%t: i1) {
  cf.cond_br %t, ^b, ^b
^b:
  func.return
^b:
  func.return
}

// -----

// A chunk that is fine is still printed, as mlir-opt does; the exit code stays 1.
// CHECK: func.func @fine
func.func @fine() {
  return
}
// CHECK-NOT: Traceback

// MISSING: trn-opt: error: cannot open input file
// PLUGIN: trn-opt: error: cannot load plugin 'no_such_plugin_module': ModuleNotFoundError
