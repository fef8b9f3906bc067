// trn-run's located errors show the source line and a caret under the column, once:
// here an op that does not verify, and (Inputs/race.mlir) a race the simulator finds.
// RUN: not trn-run %s --random-inputs 2>&1 | filecheck %s --strict-whitespace
// RUN: not trn-run %S/Inputs/race.mlir --random-inputs 2>&1 | filecheck %s --check-prefix=RACE --strict-whitespace

// CHECK:      caret.mlir:[[# @LINE + 5]]:3: error: 'graph.add' op result shape mismatch: expected tensor<4x6xf32>, got tensor<4x7xf32>
// CHECK-NEXT: {{^}}  %z = graph.add %x, %x : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x7xf32>{{$}}
// CHECK-NEXT: {{^}}  ^{{$}}
// CHECK-NOT:  error:
func.func @main(%x: tensor<4x6xf32> {graph.name = "x"}) -> (tensor<4x7xf32> {graph.name = "z"}) {
  %z = graph.add %x, %x : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x7xf32>
  return %z : tensor<4x7xf32>
}

// RACE:      race.mlir:5:3: error: race: RAW: instruction #1 matmul
// RACE-NEXT: {{^}}  trn_isa.matmul dst {{.*}} on tensor{{$}}
// RACE-NEXT: {{^}}  ^{{$}}
// RACE-NEXT: race.mlir:4:3: note: the other instruction involved
// RACE-NEXT: {{^}}  trn_isa.dma_copy dst {{.*}} signal [dma0.s0]{{$}}
// RACE-NEXT: {{^}}  ^{{$}}
