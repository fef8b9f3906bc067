// RUN: trn-opt %s -p graph-to-tile --split-input-file | filecheck %s

// int8 add: the exact fp32 sum goes to a scratch buffer (f32, graph type i8), which the
// DMA loads back as i32; VectorE wraps it around to int8 with bitvec ops,
// ((s & 0xFF) ^ 0x80) - 0x80, and the DMA stores the i32 tile into the i8 output.

// CHECK-LABEL: func.func @add(
// CHECK-SAME:    %2: !tile.buffer<4x8xi8, hbm> {graph.name = "z", tile.role = "output", tile.tensor_shape = array<i64: 4, 8>}
// CHECK-SAME:    %3: !tile.buffer<4x8xf32, hbm> {graph.name = "tmp.1", tile.role = "scratch", tile.tensor_shape = array<i64: 4, 8>, tile.tensor_element = i8}) {
// CHECK:         tile.tensor_tensor add %{{.*}}, %{{.*}} -> %[[S:.*]] on vector
// CHECK-NEXT:    tile.dma %[[S]] -> %3
// CHECK:         %[[W:.*]] = tile.alloc : !tile.buffer<4x8xi32, sbuf, {{.*}}>
// CHECK-NEXT:    tile.dma %3 -> %[[W]] : !tile.buffer<4x8xf32, hbm> -> !tile.buffer<4x8xi32, sbuf, {{.*}}>
// CHECK-NEXT:    tile.tensor_scalar bitwise_and %[[W]], 2.550000e+02 -> %[[W]] on vector
// CHECK-NEXT:    tile.tensor_scalar bitwise_xor %[[W]], 1.280000e+02 -> %[[W]] on vector
// CHECK-NEXT:    tile.tensor_scalar sub %[[W]], 1.280000e+02 -> %[[W]] on vector
// CHECK-NEXT:    tile.dma %[[W]] -> %2 : !tile.buffer<4x8xi32, sbuf, {{.*}}> -> !tile.buffer<4x8xi8, hbm>
func.func @add(%x: tensor<4x8xi8> {graph.name = "x"}, %y: tensor<4x8xi8> {graph.name = "y"}) -> (tensor<4x8xi8> {graph.name = "z"}) {
  %0 = graph.add %x, %y : (tensor<4x8xi8>, tensor<4x8xi8>) -> tensor<4x8xi8>
  func.return %0 : tensor<4x8xi8>
}

// -----

// f32 -> uint8 truncates toward zero: |x| rounded to nearest even (written as ui32), less
// 1 where that went up, times sign(x) into an i32 tile; then the unsigned wrap, & 0xFF.

// CHECK-LABEL: func.func @cast(
// CHECK:         tile.dma %0 -> %[[X:.*]] : !tile.buffer<4x8xf32, hbm> -> !tile.buffer<4x8xf32, sbuf, {{.*}}>
// CHECK:         %[[Y:.*]] = tile.alloc : !tile.buffer<4x8xi32, sbuf, {{.*}}>
// CHECK:         tile.activation sign %[[X]] -> %[[SIGN:.*]] on scalar
// CHECK:         tile.tensor_scalar abs_max %[[X]], 0.000000e+00 -> %[[MAG:.*]] on vector {{.*}} -> !tile.buffer<4x8xf32, sbuf, {{.*}}>
// CHECK:         tile.tensor_scalar abs_max %[[X]], 0.000000e+00 -> %[[R:.*]] on vector {{.*}} -> !tile.buffer<4x8xui32, sbuf, {{.*}}>
// CHECK:         tile.tensor_tensor gt %[[R]], %[[MAG]] -> %[[UP:.*]] on vector
// CHECK-NEXT:    tile.tensor_tensor sub %[[R]], %[[UP]] -> %[[MAG]] on vector
// CHECK-NEXT:    tile.tensor_tensor mul %[[MAG]], %[[SIGN]] -> %[[Y]] on vector
// CHECK:         tile.tensor_scalar bitwise_and %[[Y]], 2.550000e+02 -> %[[Y]] on vector
// CHECK-NEXT:    tile.dma %[[Y]] -> %1 : !tile.buffer<4x8xi32, sbuf, {{.*}}> -> !tile.buffer<4x8xui8, hbm>
func.func @cast(%x: tensor<4x8xf32> {graph.name = "x"}) -> (tensor<4x8xui8> {graph.name = "z"}) {
  %0 = graph.cast %x : tensor<4x8xf32> -> tensor<4x8xui8>
  func.return %0 : tensor<4x8xui8>
}

// -----

// int16 division by a compile-time scalar: the ALU's divide (an immediate), then the
// quotient truncated as above and wrapped around to int16 (-32768 / -1 = -32768).

// CHECK-LABEL: func.func @div(
// CHECK:         tile.tensor_scalar div %{{.*}}, -3.000000e+00 -> %[[Q:.*]] on vector
// CHECK-NEXT:    tile.dma %[[Q]] -> %2
// CHECK:         tile.dma %2 -> %{{.*}} : !tile.buffer<4x8xf32, hbm> -> !tile.buffer<4x8xf32, sbuf, {{.*}}>
// CHECK:         tile.activation sign
// CHECK:         tile.tensor_tensor mul %{{.*}}, %{{.*}} -> %[[Y:.*]] on vector {{.*}} -> !tile.buffer<4x8xi32, sbuf, {{.*}}>
// CHECK:         tile.tensor_scalar bitwise_and %[[Y]], 6.553500e+04 -> %[[Y]] on vector
// CHECK-NEXT:    tile.tensor_scalar bitwise_xor %[[Y]], 3.276800e+04 -> %[[Y]] on vector
// CHECK-NEXT:    tile.tensor_scalar sub %[[Y]], 3.276800e+04 -> %[[Y]] on vector
// CHECK-NEXT:    tile.dma %[[Y]] -> %1 : !tile.buffer<4x8xi32, sbuf, {{.*}}> -> !tile.buffer<4x8xi16, hbm>
func.func @div(%x: tensor<4x8xi16> {graph.name = "x"}) -> (tensor<4x8xi16> {graph.name = "z"}) {
  %c = graph.constant dense<-3> : tensor<i16>
  %0 = graph.div %x, %c : (tensor<4x8xi16>, tensor<i16>) -> tensor<4x8xi16>
  func.return %0 : tensor<4x8xi16>
}

// -----

// int32 -> int8 (an int64 input, an i32 buffer): the wrap pass alone.

// CHECK-LABEL: func.func @narrow(
// CHECK:         tile.dma %0 -> %[[W:.*]] : !tile.buffer<4x8xi32, hbm> -> !tile.buffer<4x8xi32, sbuf, {{.*}}>
// CHECK-NEXT:    tile.tensor_scalar bitwise_and %[[W]], 2.550000e+02 -> %[[W]] on vector
// CHECK-NEXT:    tile.tensor_scalar bitwise_xor %[[W]], 1.280000e+02 -> %[[W]] on vector
// CHECK-NEXT:    tile.tensor_scalar sub %[[W]], 1.280000e+02 -> %[[W]] on vector
// CHECK-NEXT:    tile.dma %[[W]] -> %1
func.func @narrow(%x: tensor<4x8xi64> {graph.name = "x"}) -> (tensor<4x8xi8> {graph.name = "z"}) {
  %0 = graph.cast %x : tensor<4x8xi64> -> tensor<4x8xi8>
  func.return %0 : tensor<4x8xi8>
}
