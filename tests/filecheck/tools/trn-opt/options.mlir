// -o, --print-op-generic, --print-ir-after-all, --time-passes, --list-passes, --version.
// RUN: trn-opt %s -o %t.mlir && filecheck %s --input-file=%t.mlir
// RUN: trn-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC
// RUN: trn-opt %s --pass-pipeline='builtin.module(func.func(canonicalize),cse)' --print-ir-after-all 2>&1 >/dev/null | filecheck %s --check-prefix=AFTER
// RUN: trn-opt %s -p cse --time-passes 2>&1 >/dev/null | filecheck %s --check-prefix=TIME
// RUN: trn-opt --list-passes | filecheck %s --check-prefix=LIST
// RUN: trn-opt --version | filecheck %s --check-prefix=VERSION
// RUN: not trn-opt --no-such-flag 2>&1 | filecheck %s --check-prefix=FLAG
// RUN: not trn-opt %s -o %t.missing-dir/out.mlir 2>&1 | filecheck %s --check-prefix=OUTFILE
// RUN: not trn-opt %s -t no-such-target 2>&1 | filecheck %s --check-prefix=TARGET
// RUN: not trn-opt %s --load-plugin %S/Inputs/clash_plugin.py 2>&1 | filecheck %s --check-prefix=CLASH

// CHECK: func.func @f
// GENERIC: "func.func"() <{sym_name = "f", function_type = (i32) -> i32}>
func.func @f(%a: i32) -> i32 {
  return %a : i32
}

// AFTER: // -----// IR Dump After CanonicalizePass (canonicalize) //----- //
// AFTER: func.func @f
// AFTER: // -----// IR Dump After CommonSubexpressionElimination (cse) //----- //
// AFTER: builtin.module

// TIME: Execution time report
// TIME: (parse)
// TIME: cse
// TIME: Total

// --list-passes: trnc's passes first (graph-to-isa, then its stages in pipeline order),
// each with its one-line summary and options (type and default); xDSL's after.
// LIST:      Options in braces: name{option=value ...}
// LIST:      trnc passes (graph-to-isa runs its stages in this order):
// LIST-NEXT:   graph-to-isa - Lower graph IR to a `trn_isa.program`.
// LIST-NEXT:       dtype: str = 'bf16'
// LIST-NEXT:   graph-decompose - {{.+}}
// LIST:        graph-to-tile - {{.+}}
// LIST:        tile-prefetch - Move loads of weights and inputs earlier.
// LIST-NEXT:       distance: int = {{[0-9]+}}
// LIST-NEXT:       budget: int = {{[0-9]+}}
// LIST-NEXT:       lead-ns: float = 0.0
// LIST:        isa-schedule - List-schedule every `trn_isa.program`.
// LIST-NEXT:       mode: str = 'list'
// LIST-NEXT:       queues: str = 'assign'
// LIST-NEXT:   isa-insert-sync - {{.+}}
// LIST:      xDSL and other installed passes:
// LIST:        canonicalize - Applies all canonicalization patterns.
// LIST:        cse

// VERSION: trn-opt (trnc) built on xdsl 0.74

// FLAG: trn-opt: error: unrecognized arguments: --no-such-flag
// OUTFILE: trn-opt: error: cannot open output file '{{.*}}out.mlir': No such file or directory
// TARGET: trn-opt: error: unknown output target 'no-such-target' (targets: {{.*}}mlir
// CLASH: trn-opt: error: cannot register dialects and passes: pass 'cse' is defined by two plug-ins or packages
