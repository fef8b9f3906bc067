// RUN: trn-opt %s -p 'graph-decompose,graph-to-tile{dtype=bf16}' --split-input-file | filecheck %s

// Multi-head attention as exporters write it (head transposes, q . k^T / sqrt(d) + mask,
// softmax, . v, heads merged back) is one fused pattern: Q, K and V are loaded as whole
// rows [tokens, H*D] (the bytes the projections stored), the mask row is spread over the
// partitions once, and one scf.for runs over groups of heads (here 8 heads, 4 per
// iteration: 2 iterations). Each head's columns are a view at a dynamic offset; the scores
// stay in PSUM/SBUF tiles of the loop body. The division by 4 (a power of two: exact
// either way) scales Q^T on its way out of PSUM, so the scores leave PSUM with the mask
// added in one pass; the row maxima come negated (the exp's bias) and the exp sums its
// rows as it goes; the softmax's division comes after the second matmul, on the D output
// columns; the merged rows are stored once after the loop.

// CHECK-LABEL: func.func @attention(
// CHECK-DAG:     %[[LB:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[UB:.*]] = arith.constant 2 : index
// CHECK-DAG:     %[[STEP:.*]] = arith.constant 1 : index
// CHECK:         tile.matmul %{{.*}}, %{{.*}} -> %[[SPREAD:.*]] accumulate = false : !tile.buffer<1x128xf32
// CHECK-NEXT:    tile.copy %[[SPREAD]] -> %[[MASK:[0-9]+]]
// CHECK:         tile.dma %{{.*}} -> %[[Q:[0-9]+]] : !tile.buffer<128x128xf32, hbm>
// CHECK:         tile.dma %{{.*}} -> %[[K:[0-9]+]] : !tile.buffer<128x128xf32, hbm>
// CHECK:         tile.dma %{{.*}} -> %[[V:[0-9]+]] : !tile.buffer<128x128xf32, hbm>
// CHECK:         tile.copy %[[V]] -> %[[VB:[0-9]+]] on vector : {{.*}} -> !tile.buffer<128x128xbf16
// CHECK:         %[[OUT:[0-9]+]] = tile.alloc : !tile.buffer<128x128xf32, sbuf
// CHECK-NEXT:    scf.for %[[G:.*]] = %[[LB]] to %[[UB]] step %[[STEP]] {
// CHECK:           %[[COL:.*]] = arith.muli %[[G]], %{{.*}} : index
// CHECK:           %[[KH:.*]] = tile.view %[[K]] [0, %[[COL]]] : !tile.buffer<128x128xf32, sbuf, {{.*}}> to !tile.buffer<128x16xf32
// CHECK:           tile.transpose %[[KH]] -> %{{.*}} : {{.*}} -> !tile.buffer<16x128xf32, psum
// CHECK:           %[[QH:.*]] = tile.view %[[Q]] [0, %[[COL]]]
// CHECK:           tile.transpose %[[QH]] -> %[[QP:.*]] :
// CHECK-NEXT:      tile.tensor_scalar div %[[QP]], 4.000000e+00 -> %{{.*}} on {{.*}} -> !tile.buffer<16x128xbf16
// CHECK:           tile.matmul %{{.*}}, %{{.*}} -> %[[S:.*]] accumulate = false : !tile.buffer<16x128xbf16, {{.*}}>, !tile.buffer<16x128xbf16, {{.*}}> -> !tile.buffer<128x128xf32, psum
// CHECK-NEXT:      tile.tensor_tensor add %[[S]], %[[MASK]] -> %[[SC:.*]] on
// CHECK:           tile.reduce max %[[SC]] axes [1] negate -> %[[M:.*]] on vector
// CHECK:           tile.activation exp %[[SC]] bias %[[M]] -> %[[E:.*]] accum %[[L:.*]] on scalar
// CHECK:           tile.transpose %[[E]] -> %[[ET:.*]] : !tile.buffer<128x128xf32, sbuf
// CHECK:           %[[VH:.*]] = tile.view %[[VB]] [0, %[[COL]]] : {{.*}} to !tile.buffer<128x16xbf16
// CHECK-NEXT:      tile.matmul %{{.*}}, %[[VH]] -> %[[O:.*]] accumulate = false
// CHECK-NEXT:      %[[OH:.*]] = tile.view %[[OUT]] [0, %[[COL]]]
// CHECK-NEXT:      tile.tensor_scalar div %[[O]], %[[L]] -> %[[OH]]
// CHECK:         }
// CHECK-NEXT:    tile.dma %[[OUT]] -> %{{.*}} : !tile.buffer<128x128xf32, sbuf
// CHECK-NOT:     scf.for
// CHECK:         func.return
func.func @attention(%q: tensor<1x128x128xf32>, %k: tensor<1x128x128xf32>, %v: tensor<1x128x128xf32>, %mask: tensor<1x1x1x128xf32>) -> tensor<1x128x128xf32> {
  %q4 = graph.reshape %q : tensor<1x128x128xf32> -> tensor<1x128x8x16xf32>
  %k4 = graph.reshape %k : tensor<1x128x128xf32> -> tensor<1x128x8x16xf32>
  %v4 = graph.reshape %v : tensor<1x128x128xf32> -> tensor<1x128x8x16xf32>
  %qh = graph.transpose %q4 {perm = [0, 2, 1, 3]} : tensor<1x128x8x16xf32> -> tensor<1x8x128x16xf32>
  %kt = graph.transpose %k4 {perm = [0, 2, 3, 1]} : tensor<1x128x8x16xf32> -> tensor<1x8x16x128xf32>
  %vh = graph.transpose %v4 {perm = [0, 2, 1, 3]} : tensor<1x128x8x16xf32> -> tensor<1x8x128x16xf32>
  %s = graph.matmul %qh, %kt : (tensor<1x8x128x16xf32>, tensor<1x8x16x128xf32>) -> tensor<1x8x128x128xf32>
  %c = graph.constant dense<4.0> : tensor<f32>
  %sc = graph.div %s, %c : (tensor<1x8x128x128xf32>, tensor<f32>) -> tensor<1x8x128x128xf32>
  %sm = graph.add %sc, %mask : (tensor<1x8x128x128xf32>, tensor<1x1x1x128xf32>) -> tensor<1x8x128x128xf32>
  %p = graph.softmax %sm {axis = -1} : tensor<1x8x128x128xf32>
  %o = graph.matmul %p, %vh : (tensor<1x8x128x128xf32>, tensor<1x8x128x16xf32>) -> tensor<1x8x128x16xf32>
  %ot = graph.transpose %o {perm = [0, 2, 1, 3]} : tensor<1x8x128x16xf32> -> tensor<1x128x8x16xf32>
  %y = graph.reshape %ot : tensor<1x128x8x16xf32> -> tensor<1x128x128xf32>
  func.return %y : tensor<1x128x128xf32>
}

// -----

// `tile.head_group` on the first matmul overrides the heads per iteration: 2 of the 8,
// 4 iterations.

// CHECK-LABEL: func.func @override(
// CHECK-DAG:     %[[LB:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[UB:.*]] = arith.constant 4 : index
// CHECK:         scf.for %{{.*}} = %[[LB]] to %[[UB]] step
func.func @override(%q: tensor<1x128x128xf32>, %k: tensor<1x128x128xf32>, %v: tensor<1x128x128xf32>) -> tensor<1x128x128xf32> {
  %q4 = graph.reshape %q : tensor<1x128x128xf32> -> tensor<1x128x8x16xf32>
  %k4 = graph.reshape %k : tensor<1x128x128xf32> -> tensor<1x128x8x16xf32>
  %v4 = graph.reshape %v : tensor<1x128x128xf32> -> tensor<1x128x8x16xf32>
  %qh = graph.transpose %q4 {perm = [0, 2, 1, 3]} : tensor<1x128x8x16xf32> -> tensor<1x8x128x16xf32>
  %kt = graph.transpose %k4 {perm = [0, 2, 3, 1]} : tensor<1x128x8x16xf32> -> tensor<1x8x16x128xf32>
  %vh = graph.transpose %v4 {perm = [0, 2, 1, 3]} : tensor<1x128x8x16xf32> -> tensor<1x8x128x16xf32>
  %s = graph.matmul %qh, %kt {tile.head_group = 2 : i64} : (tensor<1x8x128x16xf32>, tensor<1x8x16x128xf32>) -> tensor<1x8x128x128xf32>
  %p = graph.softmax %s {axis = -1} : tensor<1x8x128x128xf32>
  %o = graph.matmul %p, %vh : (tensor<1x8x128x128xf32>, tensor<1x8x128x16xf32>) -> tensor<1x8x128x16xf32>
  %ot = graph.transpose %o {perm = [0, 2, 1, 3]} : tensor<1x8x128x16xf32> -> tensor<1x128x8x16xf32>
  %y = graph.reshape %ot : tensor<1x128x8x16xf32> -> tensor<1x128x128xf32>
  func.return %y : tensor<1x128x128xf32>
}
