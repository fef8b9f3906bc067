// The README's bundled example verifies and runs through a pipeline at every level.
// RUN: trn-opt %examples/matmul_gelu.mlir --pass-pipeline='builtin.module(func.func(canonicalize,cse))' | filecheck %s

// CHECK-LABEL: func.func @matmul_gelu_graph
// CHECK-NEXT:    %[[XW:.*]] = graph.matmul %x, %w : (tensor<128x128xf32>, tensor<128x512xf32>) -> tensor<128x512xf32>
// CHECK-NEXT:    %[[Y:.*]] = graph.gelu %[[XW]] : tensor<128x512xf32>
// CHECK-NEXT:    func.return %[[Y]]
// CHECK-LABEL: func.func @matmul_gelu_tile
// CHECK-COUNT-6: tile.alloc
// CHECK-LABEL: trn_isa.program @matmul_gelu
// CHECK-COUNT-3: trn_isa.hbm_tensor
