// RUN: trn-opt %s -p 'graph-decompose{direct_conv=true},graph-to-tile' | filecheck %s

// A 3x3 convolution with padding 1 and unit strides, lowered directly: per image the
// padded image [C, rows, Wp] is zeroed and filled by one DMA, seen flat as [C, rows * Wp];
// each tap is a matmul whose moving operand is a contiguous window of it (R = 512 / Wp =
// 15 output rows per matmul, the columns past each row's end dropped on evacuation),
// accumulated in one PSUM bank over the 9 taps; the bias is added per partition while
// PSUM is evacuated, and one DMA stores the image. Weights: one load, one TensorE
// transpose per tap.

// CHECK-LABEL: func.func @main(
// CHECK:         tile.transpose
// CHECK-COUNT-8: tile.transpose
// CHECK:         %[[P:.*]] = tile.alloc : !tile.buffer<3x35x34xf32, sbuf, #tile.layout<[d0, d1, d2] -> part(d0) free(d1, d2)>>
// CHECK-NEXT:    tile.memset %[[P]] value 0.000000e+00
// CHECK-NEXT:    %[[IN:.*]] = tile.view %[[P]] [0, 1, 1] : {{.*}} to !tile.buffer<3x32x32xf32, sbuf
// CHECK:         tile.dma %{{.*}} -> %[[IN]] : !tile.buffer<3x32x32xf32, hbm>
// CHECK-NEXT:    %[[FLAT:.*]] = tile.reinterpret %[[P]] : {{.*}} to !tile.buffer<3x1190xf32, sbuf
// CHECK:         %[[ACC:.*]] = tile.alloc : !tile.buffer<16x510xf32, psum
// CHECK-NEXT:    %[[W0:.*]] = tile.view %[[FLAT]] [0, 0] : {{.*}} to !tile.buffer<3x510xf32, sbuf
// CHECK-NEXT:    tile.matmul %{{.*}}, %[[W0]] -> %[[ACC]] accumulate = false
// CHECK-NEXT:    %[[W1:.*]] = tile.view %[[FLAT]] [0, 1] : {{.*}} to !tile.buffer<3x510xf32, sbuf
// CHECK-NEXT:    tile.matmul %{{.*}}, %[[W1]] -> %[[ACC]] accumulate = true
// CHECK:         %[[W8:.*]] = tile.view %[[FLAT]] [0, 70] : {{.*}} to !tile.buffer<3x510xf32, sbuf
// CHECK-NEXT:    tile.matmul %{{.*}}, %[[W8]] -> %[[ACC]] accumulate = true
// CHECK-NEXT:    %[[ACC3:.*]] = tile.reinterpret %[[ACC]] : {{.*}} to !tile.buffer<16x15x34xf32, psum
// CHECK-NEXT:    %[[VALID:.*]] = tile.view %[[ACC3]] [0, 0, 0] : {{.*}} to !tile.buffer<16x15x32xf32, psum
// CHECK:         tile.tensor_scalar add %[[VALID]], %{{.*}} -> %{{.*}} on vector
// CHECK:         tile.dma %{{.*}} -> %{{.*}} : !tile.buffer<16x1024xf32, sbuf{{.*}} -> !tile.buffer<16x1024xf32, hbm>

func.func @main(%x: tensor<2x3x32x32xf32> {graph.name = "x"}, %k: tensor<16x3x3x3xf32> {graph.name = "k"},
                %b: tensor<16xf32> {graph.name = "b"}) -> (tensor<2x16x32x32xf32> {graph.name = "y"}) {
  %y = graph.conv2d %x, %k, %b {strides = [1, 1], pads = [1, 1, 1, 1], dilations = [1, 1], groups = 1}
     : (tensor<2x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<2x16x32x32xf32>
  func.return %y : tensor<2x16x32x32xf32>
}
