// MLIR's nested pipeline syntax, xDSL's flat form, and their errors.
// RUN: trn-opt %s --pass-pipeline='builtin.module(func.func(canonicalize))' | filecheck %s
// RUN: trn-opt %s -p canonicalize | filecheck %s
// RUN: trn-opt %s --pass-pipeline='builtin.module(func.func(canonicalize,cse),canonicalize)' | filecheck %s
// RUN: trn-opt %s --pass-pipeline='builtin.module()' | filecheck %s --check-prefix=NOOP
// RUN: not trn-opt %s --pass-pipeline='builtin.module(func.func(canonicalise))' 2>&1 | filecheck %s --check-prefix=UNKNOWN
// RUN: not trn-opt %s -p 'canonicalize{max-iterations=3}' 2>&1 | filecheck %s --check-prefix=OPTION
// RUN: not trn-opt %s -p 'arith-add-fastmath{flag=fast}' 2>&1 | filecheck %s --check-prefix=CLOSE
// RUN: not trn-opt %s --pass-pipeline='func.func(canonicalize)' 2>&1 | filecheck %s --check-prefix=ANCHOR
// RUN: not trn-opt %s --pass-pipeline='builtin.module(func.func(canonicalize)' 2>&1 | filecheck %s --check-prefix=UNBALANCED
// RUN: trn-opt %s --pass-pipeline=' builtin.module ( func.func ( canonicalize ) )' | filecheck %s
// RUN: not trn-opt %s --pass-pipeline='builtin.module(func.func(scf.for(canonicalize)))' 2>&1 | filecheck %s --check-prefix=ISOLATED
// RUN: not trn-opt %s --pass-pipeline='builtin.module(nosuch.op(canonicalize))' 2>&1 | filecheck %s --check-prefix=ANCHOROP
// RUN: not trn-opt %s --pass-pipeline='builtin.module(cse)' -p cse 2>&1 | filecheck %s --check-prefix=BOTH

// CHECK-LABEL: func.func @fold
// CHECK-NEXT:    func.return %a : i32
// NOOP-LABEL: func.func @fold
// NOOP:         arith.addi
func.func @fold(%a: i32) -> i32 {
  %c = arith.constant 0 : i32
  %b = arith.addi %a, %c : i32
  return %b : i32
}

// UNKNOWN: trn-opt: error: unknown pass 'canonicalise'; did you mean 'canonicalize'
// OPTION: trn-opt: error: unknown option 'max-iterations' for pass 'canonicalize'
// CLOSE: trn-opt: error: unknown option 'flag' for pass 'arith-add-fastmath'; did you mean 'flags'? (its options: flags)
// ANCHOR: error: a --pass-pipeline must be anchored on the module
// UNBALANCED: error: unbalanced brackets or quotes in pass pipeline
// ISOLATED: trn-opt: error: cannot schedule passes on 'scf.for': it is not isolated from above
// ANCHOROP: trn-opt: error: unknown op 'nosuch.op' used as a pass pipeline anchor
// BOTH: error: give either --pass-pipeline or -p, not both
