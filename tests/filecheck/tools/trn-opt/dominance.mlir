// SSA dominance is verified (as mlir-opt does): a use its definition does not dominate
// is a located error and exit code 1, not IR that trn-run later fails on.
// RUN: not trn-opt %s --split-input-file 2>&1 | filecheck %s
// RUN: trn-opt %s --split-input-file --verify-diagnostics

// CHECK-NOT: Traceback
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: dominance.mlir:[[# @LINE + 2]]:3: error: 'graph.relu' op operand #0 does not dominate this use: it is used before its definition (defined at {{.*}}dominance.mlir:[[# @LINE + 3]]:3)
  // expected-error @+1 {{operand #0 does not dominate this use: it is used before its definition}}
  %b = graph.relu %a : tensor<4xf32>
  %a = graph.relu %x : tensor<4xf32>
  func.return %b : tensor<4xf32>
}

// -----

func.func @branches(%x: i32, %t: i1) -> i32 {
  cf.cond_br %t, ^a, ^b
^a:
  %y = arith.addi %x, %x : i32
  cf.br ^c
^b:
  cf.br ^c
^c:
  // CHECK: dominance.mlir:[[# @LINE + 2]]:3: error: 'arith.addi' op operand #0 does not dominate this use: it is defined in a block that does not dominate this use
  // expected-error @+1 {{it is defined in a block that does not dominate this use}}
  %z = arith.addi %y, %x : i32
  func.return %z : i32
}

// -----

func.func @nested(%x: i32) -> i32 {
  %r = scf.execute_region -> i32 {
    // CHECK: dominance.mlir:[[# @LINE + 2]]:5: error: 'arith.addi' op operand #1 does not dominate this use: it is used before its definition
    // expected-error @+1 {{operand #1 does not dominate this use: it is used before its definition}}
    %q = arith.addi %x, %w : i32
    scf.yield %q : i32
  }
  %w = arith.constant 1 : i32
  func.return %r : i32
}

// -----

// Values defined above a region, or in an earlier block that dominates, are fine.
// CHECK: func.func @fine
func.func @fine(%x: i32, %t: i1) -> i32 {
  %c = arith.constant 1 : i32
  %r = scf.execute_region -> i32 {
    %q = arith.addi %x, %c : i32
    scf.yield %q : i32
  }
  cf.cond_br %t, ^a, ^b
^a:
  cf.br ^b
^b:
  %z = arith.addi %r, %c : i32
  func.return %z : i32
}
// CHECK-NOT: Traceback
