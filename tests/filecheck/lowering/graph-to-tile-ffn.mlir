// RUN: trn-opt %s -p 'graph-to-tile{dtype=bf16}' | filecheck %s

// A feed-forward block, gelu(x @ w1 + b1) @ w2 + b2, keeps its hidden activations
// feature-major: b1 becomes one column per 128 features (a [3, 128] load, transposed
// once); the first matmul has w1's block as its stationary operand and x^T as the
// moving one, so its PSUM block is h^T [128 features, 128 tokens], evacuated by one
// ScalarE activation with b1's column as the per-partition bias; the second matmul
// takes h^T's blocks as its stationary operands as they are. Only x (and b1) is
// transposed. Everything that repeats is a loop: each weight's row panels are loaded
// side by side by a loop of DMAs, the K steps of both matmuls are loops (step 0 starts
// the accumulation), inside the loop over h^T's feature blocks.

// CHECK-LABEL: func.func @ffn(
// CHECK:         tile.dma %{{.*}} -> %[[B1ROWS:[0-9]+]] : !tile.buffer<3x128xf32, hbm>
// CHECK-NEXT:    %[[B1P:[0-9]+]] = tile.alloc : !tile.buffer<128x3xf32, psum
// CHECK-NEXT:    tile.transpose %[[B1ROWS]] -> %[[B1P]]
// CHECK:         tile.copy %[[B1P]] -> %[[B1COL:[0-9]+]] on vector
// The weights' row panels side by side, one loop of loads each (the DMA converts them
// to bf16):
// CHECK:         %[[W1:[0-9]+]] = tile.alloc : !tile.buffer<128x1152xbf16, sbuf
// CHECK-NEXT:    scf.for
// CHECK:           tile.dma %{{.*}} -> %{{.*}} : !tile.buffer<128x384xf32, hbm> -> !tile.buffer<128x384xbf16, sbuf
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[W2:[0-9]+]] = tile.alloc : !tile.buffer<128x192xbf16, sbuf
// CHECK-NEXT:    scf.for
// CHECK:           tile.dma %{{.*}} -> %{{.*}} : !tile.buffer<128x64xf32, hbm> -> !tile.buffer<128x64xbf16, sbuf
// CHECK-NEXT:    }
// x^T by transposes of x's K blocks (the only transposes besides b1's):
// CHECK:         %[[XT:[0-9]+]] = tile.alloc : !tile.buffer<128x384xbf16, sbuf
// CHECK:         scf.for
// CHECK:           tile.transpose
// CHECK:           tile.copy %{{.*}} -> %{{.*}} on vector
// h^T, 128 features per iteration: w1's block stationary, x^T moving (K step 0, then a
// loop over the others), one activation with b1's column as the bias:
// CHECK:         %[[HT:[0-9]+]] = tile.alloc : !tile.buffer<128x384xbf16, sbuf
// CHECK:         scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:      %[[ACC:[0-9]+]] = tile.alloc : !tile.buffer<128x128xf32, psum
// CHECK:           %[[W1J:[0-9]+]] = tile.view %[[W1]] [0, %{{.*}}]
// CHECK-NEXT:      %[[X0:[0-9]+]] = tile.view %[[XT]] [0, 0]
// CHECK-NEXT:      tile.matmul %[[W1J]], %[[X0]] -> %[[ACC]] accumulate = false
// CHECK-NEXT:      scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:             %[[W1IJ:[0-9]+]] = tile.view %[[W1]] [0, %{{.*}}]
// CHECK:             %[[XI:[0-9]+]] = tile.view %[[XT]] [0, %{{.*}}]
// CHECK-NEXT:        tile.matmul %[[W1IJ]], %[[XI]] -> %[[ACC]] accumulate = true
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[BIAS:[0-9]+]] = tile.view %[[B1COL]] [0, %[[J]]]
// CHECK-NEXT:      %[[HJ:[0-9]+]] = tile.view %[[HT]] [0, %{{.*}}]
// CHECK-NEXT:      tile.activation gelu %[[ACC]] bias %[[BIAS]] -> %[[HJ]] on scalar
// CHECK-NOT:     tile.transpose
// w1 is freed once h^T is computed (its SBUF goes to later loads):
// CHECK:         tile.dealloc %[[W1]]
// y: h^T's blocks stationary as they are, w2's panels moving, a loop over K steps 1..
// CHECK:         %[[H0:[0-9]+]] = tile.view %[[HT]] [0, 0]
// CHECK-NEXT:    %[[V0:[0-9]+]] = tile.view %[[W2]] [0, 0]
// CHECK-NEXT:    tile.matmul %[[H0]], %[[V0]] -> %[[ACC2:[0-9]+]] accumulate = false
// CHECK-NEXT:    scf.for
// CHECK:           tile.matmul %{{.*}}, %{{.*}} -> %[[ACC2]] accumulate = true
// CHECK-NEXT:    }
// CHECK-NEXT:    tile.tensor_tensor add %[[ACC2]], %{{.*}} -> %{{.*}} on vector
// CHECK:         func.return
func.func @ffn(%x: tensor<128x384xf32>, %w1: tensor<384x384xf32>, %b1: tensor<384xf32>, %w2: tensor<384x64xf32>, %b2: tensor<64xf32>) -> tensor<128x64xf32> {
  %m1 = graph.matmul %x, %w1 : (tensor<128x384xf32>, tensor<384x384xf32>) -> tensor<128x384xf32>
  %a1 = graph.add %m1, %b1 : (tensor<128x384xf32>, tensor<384xf32>) -> tensor<128x384xf32>
  %h = graph.gelu %a1 : tensor<128x384xf32>
  %m2 = graph.matmul %h, %w2 : (tensor<128x384xf32>, tensor<384x64xf32>) -> tensor<128x64xf32>
  %y = graph.add %m2, %b2 : (tensor<128x64xf32>, tensor<64xf32>) -> tensor<128x64xf32>
  func.return %y : tensor<128x64xf32>
}
