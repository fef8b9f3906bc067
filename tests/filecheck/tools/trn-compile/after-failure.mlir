// --print-ir-after-failure (and mlir-opt's spelling): when a pass fails, the IR as the
// failing pass left it, then the one located error; without the flag, the error alone.
// RUN: not trn-compile %S/lowering-caret.mlir --print-ir-after-failure 2>&1 | filecheck %s
// RUN: not trn-compile %S/lowering-caret.mlir --mlir-print-ir-after-failure 2>&1 | filecheck %s
// RUN: not trn-compile %S/lowering-caret.mlir 2>&1 | filecheck %s --check-prefix=PLAIN

// CHECK:      // -----// IR Dump After GraphToTile (graph-to-tile) //----- //
// CHECK:        %z = graph.add %x, %y
// CHECK:      // (the pass 'graph-to-tile' failed)
// CHECK-NEXT: lowering-caret.mlir:13:3: error: 'graph.add' op graph-to-tile:

// PLAIN-NOT:  IR Dump
// PLAIN:      lowering-caret.mlir:13:3: error:
