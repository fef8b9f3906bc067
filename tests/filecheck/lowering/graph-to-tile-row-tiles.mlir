// RUN: trn-opt %s -p graph-to-tile | filecheck %s

// Results leave SBUF in whole row tiles, so a consumer's load is the bytes of one store
// (or a column window of them) and tile-plan-memory can keep it on chip:
// - a matmul's PSUM blocks (at most 512 columns each) are evacuated side by side into
//   one [128, 768] tile, stored with one DMA;
// - attention's head merge [1, 12, 128, 64] -> [1, 128, 12, 64] gathers every head of
//   the 128 tokens into one [128, 768] tile (one 128-row DMA per head, the token dim on
//   the partitions) and stores it with one DMA.

// CHECK-LABEL: func.func @main(
// CHECK:         %[[ROW:.*]] = tile.alloc : !tile.buffer<128x768xf32, sbuf
// CHECK:         %[[P0:.*]] = tile.alloc : !tile.buffer<128x512xf32, psum
// CHECK:         tile.matmul {{.*}} -> %[[P0]] accumulate = false
// CHECK:         %[[W0:.*]] = tile.view %[[ROW]] [0, 0] : {{.*}} to !tile.buffer<128x512xf32, sbuf
// CHECK-NEXT:    tile.copy %[[P0]] -> %[[W0]] on vector
// CHECK:         %[[P1:.*]] = tile.alloc : !tile.buffer<128x256xf32, psum
// CHECK:         tile.matmul {{.*}} -> %[[P1]] accumulate = false
// CHECK:         %[[W1:.*]] = tile.view %[[ROW]] [0, 512] : {{.*}} to !tile.buffer<128x256xf32, sbuf
// CHECK-NEXT:    tile.copy %[[P1]] -> %[[W1]] on vector
// CHECK:         tile.dma %[[ROW]] -> %{{[0-9]+}} : !tile.buffer<128x768xf32, sbuf{{.*}} -> !tile.buffer<128x768xf32, hbm>

// CHECK:         %[[DST:.*]] = tile.reinterpret %{{[0-9]+}} : !tile.buffer<1536x64xf32, hbm> to !tile.buffer<128x768xf32, hbm>
// CHECK:         %[[HEADS:.*]] = tile.alloc : !tile.buffer<128x768xf32, sbuf
// CHECK:         %[[H0:.*]] = tile.view %[[HEADS]] [0, 0] : {{.*}} to !tile.buffer<128x64xf32, sbuf
// CHECK-NEXT:    %[[S0:.*]] = tile.view %[[HIN:[0-9]+]] [0, 0] : !tile.buffer<1536x64xf32, hbm> to !tile.buffer<128x64xf32, hbm>
// CHECK-NEXT:    tile.dma %[[S0]] -> %[[H0]]
// CHECK:         %[[H11:.*]] = tile.view %[[HEADS]] [0, 704] : {{.*}} to !tile.buffer<128x64xf32, sbuf
// CHECK-NEXT:    %[[S11:.*]] = tile.view %[[HIN]] [1408, 0] : !tile.buffer<1536x64xf32, hbm> to !tile.buffer<128x64xf32, hbm>
// CHECK-NEXT:    tile.dma %[[S11]] -> %[[H11]]
// CHECK-NEXT:    tile.dma %[[HEADS]] -> %[[DST]] : !tile.buffer<128x768xf32, sbuf{{.*}} -> !tile.buffer<128x768xf32, hbm>
// CHECK-NOT:     tile.dma

func.func @main(%x: tensor<128x64xf32> {graph.name = "x"}, %w: tensor<64x768xf32> {graph.name = "w"},
                %h: tensor<1x12x128x64xf32> {graph.name = "h"})
    -> (tensor<128x768xf32> {graph.name = "y"}, tensor<1x128x12x64xf32> {graph.name = "m"}) {
  %y = graph.matmul %x, %w : (tensor<128x64xf32>, tensor<64x768xf32>) -> tensor<128x768xf32>
  %m = graph.transpose %h {perm = [0, 2, 1, 3]} : tensor<1x12x128x64xf32> -> tensor<1x128x12x64xf32>
  func.return %y, %m : tensor<128x768xf32>, tensor<1x128x12x64xf32>
}
