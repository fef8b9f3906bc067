// RUN: trn-opt %s -p 'graph-decompose,graph-to-tile' | filecheck %s

// Layer normalization (decomposed by graph-decompose) is one fused pattern: gamma and
// beta are spread over the partitions once (a K=1 matmul by ones each), then per tile of
// 128 rows: the row sums scaled by -1/n (-mean), the centred rows (ScalarE copy with -mean
// as its bias), their squares summed as ScalarE writes them (accum), rsqrt(sum / n + eps)
// in one ScalarE op (scale 1/n, eps as the bias), then the rows scaled by it, by gamma
// and shifted by beta. 256 rows: two tiles, stage by stage.

// CHECK-LABEL: func.func @layer_norm(
// CHECK:         tile.matmul %{{.*}}, %{{.*}} -> %[[GP:.*]] accumulate = false : !tile.buffer<1x128xf32
// CHECK-NEXT:    tile.copy %[[GP]] -> %[[GAMMA:[0-9]+]] on vector
// CHECK:         tile.matmul %{{.*}}, %{{.*}} -> %[[BP:.*]] accumulate = false : !tile.buffer<1x128xf32
// CHECK-NEXT:    tile.copy %[[BP]] -> %[[BETA:[0-9]+]] on vector
// CHECK:         tile.memset %{{.*}} value 1.000000e-05
// CHECK:         tile.dma %{{.*}} -> %[[X0:[0-9]+]] : !tile.buffer<128x64xf32, hbm>
// CHECK:         tile.dma %{{.*}} -> %[[X1:[0-9]+]] : !tile.buffer<128x64xf32, hbm>
// CHECK:         tile.reduce add %[[X0]] axes [1] -> %[[N0:[0-9]+]] on vector
// CHECK-NEXT:    tile.tensor_scalar mul %[[N0]], -1.562500e-02 -> %[[N0]]
// CHECK:         tile.reduce add %[[X1]] axes [1] -> %[[N1:[0-9]+]] on vector
// CHECK:         tile.activation copy %[[X0]] bias %[[N0]] -> %[[C0:[0-9]+]] on scalar
// CHECK:         tile.activation copy %[[X1]] bias %[[N1]] -> %[[C1:[0-9]+]] on scalar
// CHECK:         tile.activation square %[[C0]] -> %{{.*}} accum %[[Q0:[0-9]+]] on scalar
// CHECK:         tile.activation rsqrt %[[Q0]] bias %{{.*}} scale 1.562500e-02 -> %[[Q0]] on scalar
// CHECK:         tile.tensor_scalar mul %[[C0]], %[[Q0]] -> %[[Y0:[0-9]+]]
// CHECK-NEXT:    tile.tensor_tensor mul %[[Y0]], %[[GAMMA]] -> %[[Y0]]
// CHECK-NEXT:    tile.tensor_tensor add %[[Y0]], %[[BETA]] -> %[[Y0]]
// CHECK-NEXT:    %[[OUT0:.*]] = tile.view %{{.*}} [0, 0] : !tile.buffer<256x64xf32, hbm>
// CHECK-NEXT:    tile.dma %[[Y0]] -> %[[OUT0]] : !tile.buffer<128x64xf32, sbuf
func.func @layer_norm(%x: tensor<2x128x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<2x128x64xf32> {
  %y = graph.layer_norm %x, %g, %b {axis = -1, epsilon = 1.0e-05} : (tensor<2x128x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x128x64xf32>
  func.return %y : tensor<2x128x64xf32>
}
