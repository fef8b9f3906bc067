// RUN: trn-opt %s -p 'graph-to-tile' | filecheck %s

// A dense layer (matmul by a 2-D weight, + bias, an activation, + a residual) is one
// matmul with its epilogue: the bias is spread over the partitions once (a K=1 matmul by
// ones), the PSUM block leaves through a tensor_tensor add of the bias (no plain copy),
// the activation and the residual add are applied to the result tile in SBUF, and the
// tile is stored once: no intermediate tensor between the four graph ops.

// CHECK-LABEL: func.func @dense(
// CHECK:         tile.memset %[[ONES:[0-9]+]] value 1.000000e+00
// CHECK:         %[[BIAS:[0-9]+]] = tile.alloc : !tile.buffer<128x96xf32, sbuf
// CHECK:         tile.matmul %[[ONES]], %{{.*}} -> %[[SP:[0-9]+]] accumulate = false
// CHECK-NEXT:    tile.copy %[[SP]] -> %[[BIAS]] on vector
// CHECK:         tile.transpose
// CHECK:         %[[Y:[0-9]+]] = tile.alloc : !tile.buffer<128x96xf32, sbuf
// CHECK:         tile.matmul %{{.*}}, %{{.*}} -> %[[ACC:[0-9]+]] accumulate = false
// CHECK-NOT:     tile.copy
// CHECK:         tile.tensor_tensor add %[[ACC]], %[[BIAS]] -> %[[Y]] on vector : !tile.buffer<128x96xf32, psum
// CHECK:         tile.activation gelu %[[Y]] -> %[[Y]] on scalar
// CHECK:         tile.dma %{{.*}} -> %[[R:[0-9]+]] : !tile.buffer<128x96xf32, hbm>
// CHECK-NEXT:    tile.tensor_tensor add %[[Y]], %[[R]] -> %[[Y]] on vector
// CHECK:         tile.dma %[[Y]] -> %{{.*}} : !tile.buffer<128x96xf32, sbuf
// CHECK-NOT:     tile.dma
// CHECK:         func.return
func.func @dense(%x: tensor<128x64xf32>, %w: tensor<64x96xf32>, %b: tensor<96xf32>, %r: tensor<128x96xf32>) -> tensor<128x96xf32> {
  %m = graph.matmul %x, %w : (tensor<128x64xf32>, tensor<64x96xf32>) -> tensor<128x96xf32>
  %a = graph.add %m, %b : (tensor<128x96xf32>, tensor<96xf32>) -> tensor<128x96xf32>
  %g = graph.gelu %a : tensor<128x96xf32>
  %y = graph.add %g, %r : (tensor<128x96xf32>, tensor<128x96xf32>) -> tensor<128x96xf32>
  func.return %y : tensor<128x96xf32>
}

// The bias on the left of the add, no activation, no residual: the evacuation adds it.
// CHECK-LABEL: func.func @bias_first(
// CHECK:         tile.tensor_tensor add %{{.*}}, %{{.*}} -> %{{.*}} on vector : !tile.buffer<128x33xf32, psum
// CHECK-NOT:     tile.activation
func.func @bias_first(%x: tensor<200x40xf32>, %w: tensor<40x33xf32>, %b: tensor<1x33xf32>) -> tensor<200x33xf32> {
  %m = graph.matmul %x, %w : (tensor<200x40xf32>, tensor<40x33xf32>) -> tensor<200x33xf32>
  %y = graph.add %b, %m : (tensor<1x33xf32>, tensor<200x33xf32>) -> tensor<200x33xf32>
  func.return %y : tensor<200x33xf32>
}
