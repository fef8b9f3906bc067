// RUN: trn-opt %s -p 'graph-to-tile{dtype=bf16}' | filecheck %s

// A feed-forward block, gelu(x @ w1 + b1) @ w2 + b2, keeps its hidden activations
// feature-major: b1 becomes one column per 128 features (a [2, 128] load, transposed
// once); the first matmul has w1's block as its stationary operand and x^T as the
// moving one, so its PSUM block is h^T [128 features, 128 tokens], evacuated by one
// ScalarE activation with b1's column as the per-partition bias; the second matmul
// takes h^T's blocks as its stationary operands as they are. Only x (and b1) is
// transposed. The loop over h^T's feature blocks stays a loop.

// CHECK-LABEL: func.func @ffn(
// CHECK:         tile.dma %{{.*}} -> %[[B1ROWS:[0-9]+]] : !tile.buffer<2x128xf32, hbm>
// CHECK-NEXT:    %[[B1P:[0-9]+]] = tile.alloc : !tile.buffer<128x2xf32, psum
// CHECK-NEXT:    tile.transpose %[[B1ROWS]] -> %[[B1P]]
// CHECK:         tile.copy %[[B1P]] -> %[[B1COL:[0-9]+]] on vector
// The weights' row panels, one load each (the DMA converts them to bf16):
// CHECK:         tile.dma %{{.*}} -> %[[W1:[0-9]+]] : !tile.buffer<128x256xf32, hbm> -> !tile.buffer<128x256xbf16, sbuf
// CHECK:         tile.dma %{{.*}} -> %[[W2A:[0-9]+]] : !tile.buffer<128x64xf32, hbm> -> !tile.buffer<128x64xbf16, sbuf
// CHECK:         tile.dma %{{.*}} -> %[[W2B:[0-9]+]] : !tile.buffer<128x64xf32, hbm> -> !tile.buffer<128x64xbf16, sbuf
// x^T by transposes of x's K blocks (the only transposes besides b1's):
// CHECK:         %[[XT:[0-9]+]] = tile.alloc : !tile.buffer<128x128xbf16, sbuf
// CHECK:         scf.for
// CHECK:           tile.transpose
// CHECK:           tile.copy %{{.*}} -> %{{.*}} on vector
// h^T, 128 features per iteration: w1's block stationary, x^T moving, one activation
// with b1's column as the bias:
// CHECK:         %[[HT:[0-9]+]] = tile.alloc : !tile.buffer<128x256xbf16, sbuf
// CHECK:         scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:      %[[ACC:[0-9]+]] = tile.alloc : !tile.buffer<128x128xf32, psum
// CHECK:           %[[W1J:[0-9]+]] = tile.view %[[W1]] [0, %{{.*}}]
// CHECK-NEXT:      tile.matmul %[[W1J]], %[[XT]] -> %[[ACC]] accumulate = false
// CHECK-NEXT:      %[[BIAS:[0-9]+]] = tile.view %[[B1COL]] [0, %[[J]]]
// CHECK-NEXT:      %[[HJ:[0-9]+]] = tile.view %[[HT]] [0, %{{.*}}]
// CHECK-NEXT:      tile.activation gelu %[[ACC]] bias %[[BIAS]] -> %[[HJ]] on scalar
// CHECK-NOT:     tile.transpose
// y: h^T's blocks stationary as they are, w2's panels moving
// CHECK:         %[[H0:[0-9]+]] = tile.view %[[HT]] [0, 0]
// CHECK-NEXT:    tile.matmul %[[H0]], %[[W2A]] -> %[[ACC2:[0-9]+]] accumulate = false
// CHECK-NEXT:    %[[H1:[0-9]+]] = tile.view %[[HT]] [0, 128]
// CHECK-NEXT:    tile.matmul %[[H1]], %[[W2B]] -> %[[ACC2]] accumulate = true
// CHECK-NEXT:    tile.tensor_tensor add %[[ACC2]], %{{.*}} -> %{{.*}} on vector
// CHECK:         func.return
func.func @ffn(%x: tensor<128x128xf32>, %w1: tensor<128x256xf32>, %b1: tensor<256xf32>, %w2: tensor<256x64xf32>, %b2: tensor<64xf32>) -> tensor<128x64xf32> {
  %m1 = graph.matmul %x, %w1 : (tensor<128x128xf32>, tensor<128x256xf32>) -> tensor<128x256xf32>
  %a1 = graph.add %m1, %b1 : (tensor<128x256xf32>, tensor<256xf32>) -> tensor<128x256xf32>
  %h = graph.gelu %a1 : tensor<128x256xf32>
  %m2 = graph.matmul %h, %w2 : (tensor<128x256xf32>, tensor<256x64xf32>) -> tensor<128x64xf32>
  %y = graph.add %m2, %b2 : (tensor<128x64xf32>, tensor<64xf32>) -> tensor<128x64xf32>
  func.return %y : tensor<128x64xf32>
}
