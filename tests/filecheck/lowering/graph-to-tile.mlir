// RUN: trn-opt %s -p graph-to-tile --split-input-file | filecheck %s
// RUN: trn-opt %s -p graph-to-tile{dtype=bf16} --split-input-file | filecheck %s --check-prefix=BF16

// Every tensor becomes a row-major 2-D HBM buffer argument (inputs, outputs, scratch),
// named and with its graph shape; each op is tiled over rows (<= 128 on the partitions)
// and columns. An elementwise op: load, one instruction, store, per tile.

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %0: !tile.buffer<130x3xf32, hbm> {graph.name = "x", tile.role = "input", tile.tensor_shape = array<i64: 2, 65, 3>}
// CHECK-SAME:    %1: !tile.buffer<130x3xf32, hbm> {graph.name = "y", tile.role = "output", tile.tensor_shape = array<i64: 2, 65, 3>}
// CHECK-SAME:    %2: !tile.buffer<130x3xf32, hbm> {graph.name = "tmp0", tile.role = "scratch", tile.tensor_shape = array<i64: 2, 65, 3>}) {
// CHECK-NEXT:    %[[X:.*]] = tile.alloc : !tile.buffer<128x3xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
// CHECK-NEXT:    %[[V:.*]] = tile.view %0 [0, 0] : !tile.buffer<130x3xf32, hbm> to !tile.buffer<128x3xf32, hbm>
// CHECK-NEXT:    tile.dma %[[V]] -> %[[X:.*]] : !tile.buffer<128x3xf32, hbm> -> !tile.buffer<128x3xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
// CHECK-NEXT:    %[[Y:.*]] = tile.alloc : !tile.buffer<128x3xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
// CHECK-NEXT:    tile.activation tanh %[[X]] -> %[[Y]] on scalar
// CHECK:         tile.view %0 [128, 0] : !tile.buffer<130x3xf32, hbm> to !tile.buffer<2x3xf32, hbm>
// A compile-time scalar operand becomes an immediate (c - x: two VectorE ops).
// CHECK:         tile.tensor_scalar mul {{.*}} -1.0{{.*}}
// CHECK-NEXT:    tile.tensor_scalar add {{.*}} 2.5{{.*}}
func.func @main(%x: tensor<2x65x3xf32> {graph.name = "x"}) -> (tensor<2x65x3xf32> {graph.name = "y"}) {
  %0 = graph.tanh %x : tensor<2x65x3xf32>
  %c = graph.constant dense<2.5> : tensor<f32>
  %1 = graph.sub %c, %0 : (tensor<f32>, tensor<2x65x3xf32>) -> tensor<2x65x3xf32>
  func.return %1 : tensor<2x65x3xf32>
}

// -----

// matmul [200, 300] @ [300, 600]: x's 128x128 blocks are transposed on TensorE (via PSUM)
// into stationary tiles; each <= 512-column block of w accumulates over K in one PSUM bank.

// CHECK-LABEL: func.func @mm(
// CHECK:         tile.transpose {{.*}} : !tile.buffer<128x128xf32, sbuf, {{.*}}> -> !tile.buffer<128x128xf32, psum, {{.*}}>
// CHECK:         tile.matmul {{.*}} accumulate = false : !tile.buffer<128x128xf32, sbuf, {{.*}}>, !tile.buffer<128x512xf32, sbuf, {{.*}}> -> !tile.buffer<128x512xf32, psum, {{.*}}>
// CHECK:         tile.matmul {{.*}} accumulate = true : !tile.buffer<128x128xf32, sbuf, {{.*}}>, !tile.buffer<128x512xf32, sbuf, {{.*}}> -> !tile.buffer<128x512xf32, psum, {{.*}}>
// CHECK:         tile.matmul {{.*}} accumulate = true : !tile.buffer<44x128xf32, sbuf, {{.*}}>, !tile.buffer<44x512xf32, sbuf, {{.*}}> -> !tile.buffer<128x512xf32, psum, {{.*}}>
// CHECK:         tile.matmul {{.*}} accumulate = false : !tile.buffer<128x72xf32, sbuf, {{.*}}>, !tile.buffer<128x88xf32, sbuf, {{.*}}> -> !tile.buffer<72x88xf32, psum, {{.*}}>
// BF16-LABEL: func.func @mm(
// BF16:         tile.copy {{.*}} on gpsimd : !tile.buffer<128x512xf32, sbuf, {{.*}}> -> !tile.buffer<128x512xbf16, sbuf, {{.*}}>
// BF16:         tile.matmul {{.*}} : !tile.buffer<128x128xbf16, sbuf, {{.*}}>, !tile.buffer<128x512xbf16, sbuf, {{.*}}> -> !tile.buffer<128x512xf32, psum, {{.*}}>
func.func @mm(%x: tensor<200x300xf32>, %w: tensor<300x600xf32>) -> tensor<200x600xf32> {
  %0 = graph.matmul %x, %w : (tensor<200x300xf32>, tensor<300x600xf32>) -> tensor<200x600xf32>
  func.return %0 : tensor<200x600xf32>
}
