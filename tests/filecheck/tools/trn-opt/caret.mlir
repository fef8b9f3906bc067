// Under a located error, trn-opt prints the source line and a caret under the column, as
// mlir-opt does (also in a chunk of --split-input-file, whose lines keep their numbers).
// RUN: not trn-opt %s --split-input-file 2>&1 | filecheck %s --strict-whitespace

// CHECK:      caret.mlir:[[# @LINE + 4]]:18: error: Operation test.bad is not registered
// CHECK-NEXT: {{^}}  %b = "test.bad"(%a) : (i32) -> i32{{$}}
// CHECK-NEXT: {{^}}                 ^{{$}}
func.func @f(%a: i32) -> i32 {
  %b = "test.bad"(%a) : (i32) -> i32
  return %b : i32
}

// -----

// CHECK:      caret.mlir:[[# @LINE + 4]]:3: error: 'func.return' op Expected arguments to have the same types
// CHECK-NEXT: {{^}}  return %a : i32{{$}}
// CHECK-NEXT: {{^}}  ^{{$}}
func.func @g(%a: i32) -> i64 {
  return %a : i32
}
