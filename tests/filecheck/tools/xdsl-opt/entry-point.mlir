// Plain xdsl-opt finds trnc's dialects through the `xdsl.universe` entry point and
// round-trips a file that uses all three of them (custom and generic form).
// RUN: xdsl-opt %examples/matmul_gelu.mlir | xdsl-opt | filecheck %s
// RUN: xdsl-opt %examples/matmul_gelu.mlir --print-op-generic | xdsl-opt | filecheck %s

// CHECK-LABEL: func.func @matmul_gelu_graph
// CHECK:         graph.matmul
// CHECK:         graph.gelu
// CHECK-LABEL: func.func @matmul_gelu_tile
// CHECK:         tile.transpose
// CHECK:         tile.matmul {{.*}} accumulate = false
// CHECK:         tile.activation gelu {{.*}} on scalar
// CHECK-LABEL: trn_isa.program @matmul_gelu
// CHECK:         trn_isa.hbm_tensor @x : tensor<128x128xf32> at 0 role input
// CHECK:         trn_isa.matmul {{.*}} on tensor wait [vector.s0 >= 1, dma1.s0 >= 1] signal [tensor.s1]
// CHECK:         trn_isa.dma_copy {{.*}} on dma2 wait [scalar.s0 >= 1]
