// RUN: trn-opt %s -p graph-to-tile --split-input-file | filecheck %s
// RUN: trn-opt %s -p graph-to-tile{dtype=bf16} --split-input-file | filecheck %s --check-prefix=BF16

// Every tensor becomes a row-major 2-D HBM buffer argument (inputs, outputs, scratch),
// named and with its graph shape; each op is tiled over rows (<= 128 on the partitions)
// and columns. An elementwise op: load, one instruction, store, per tile. Its contiguous
// elements are viewed with as many rows as fit the partitions when that costs fewer
// cycles: 390 elements as 78 x 5 (one tile) rather than 130 x 3 (two).

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %0: !tile.buffer<130x3xf32, hbm> {graph.name = "x", tile.role = "input", tile.tensor_shape = array<i64: 2, 65, 3>}
// CHECK-SAME:    %1: !tile.buffer<130x3xf32, hbm> {graph.name = "y", tile.role = "output", tile.tensor_shape = array<i64: 2, 65, 3>}
// CHECK-SAME:    %2: !tile.buffer<130x3xf32, hbm> {graph.name = "tmp0", tile.role = "scratch", tile.tensor_shape = array<i64: 2, 65, 3>}) {
// CHECK-NEXT:    %[[XV:.*]] = tile.reinterpret %0 : !tile.buffer<130x3xf32, hbm> to !tile.buffer<78x5xf32, hbm>
// CHECK-NEXT:    %[[TV:.*]] = tile.reinterpret %2 : !tile.buffer<130x3xf32, hbm> to !tile.buffer<78x5xf32, hbm>
// CHECK-NEXT:    %[[X:.*]] = tile.alloc : !tile.buffer<78x5xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
// CHECK-NEXT:    tile.dma %[[XV]] -> %[[X]] : !tile.buffer<78x5xf32, hbm> -> !tile.buffer<78x5xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
// CHECK-NEXT:    %[[Y:.*]] = tile.alloc : !tile.buffer<78x5xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
// CHECK-NEXT:    tile.activation tanh %[[X]] -> %[[Y]] on scalar
// CHECK-NEXT:    tile.dma %[[Y]] -> %[[TV]]
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

// matmul [200, 300] @ [300, 600], its weight small enough to stay on chip: w is loaded
// once, whole (its two full K blocks side by side by a loop, the 44-row rest on its
// own); then per 128-row block of x (one full, then the 72-row rest): its K blocks
// loaded one by one (x is a graph input: the loads pipeline with the transposes) and
// transposed on TensorE (via PSUM) into x^T, each <= 512-column block of the result
// accumulated over K in one PSUM bank, evacuated, stored. In bf16 the weight's DMA
// converts it (no GpSimdE cast).

// CHECK-LABEL: func.func @mm(
// CHECK:         %[[W:.*]] = tile.alloc : !tile.buffer<128x1200xf32, sbuf
// CHECK-NEXT:    scf.for
// CHECK:           tile.dma {{.*}} : !tile.buffer<128x600xf32, hbm> -> !tile.buffer<128x600xf32, sbuf
// CHECK:         tile.dma {{.*}} : !tile.buffer<44x600xf32, hbm> -> !tile.buffer<44x600xf32, sbuf
// CHECK:         tile.dma {{.*}} : !tile.buffer<128x128xf32, hbm> -> !tile.buffer<128x128xf32, sbuf
// CHECK:         tile.transpose {{.*}} : !tile.buffer<128x128xf32, sbuf, {{.*}}> -> !tile.buffer<128x128xf32, psum, {{.*}}>
// CHECK:         tile.matmul {{.*}} accumulate = false : !tile.buffer<128x128xf32, sbuf, {{.*}}>, !tile.buffer<128x512xf32, sbuf, {{.*}}> -> !tile.buffer<128x512xf32, psum, {{.*}}>
// CHECK:         tile.matmul {{.*}} accumulate = true : !tile.buffer<128x128xf32, sbuf, {{.*}}>, !tile.buffer<128x512xf32, sbuf, {{.*}}> -> !tile.buffer<128x512xf32, psum, {{.*}}>
// CHECK:         tile.matmul {{.*}} accumulate = true : !tile.buffer<44x128xf32, sbuf, {{.*}}>, !tile.buffer<44x512xf32, sbuf, {{.*}}> -> !tile.buffer<128x512xf32, psum, {{.*}}>
// CHECK:         tile.dma {{.*}} : !tile.buffer<72x128xf32, hbm> -> !tile.buffer<72x128xf32, sbuf
// CHECK:         tile.matmul {{.*}} accumulate = false : !tile.buffer<128x72xf32, sbuf, {{.*}}>, !tile.buffer<128x512xf32, sbuf, {{.*}}> -> !tile.buffer<72x512xf32, psum, {{.*}}>
// CHECK:         tile.matmul {{.*}} accumulate = false : !tile.buffer<128x72xf32, sbuf, {{.*}}>, !tile.buffer<128x88xf32, sbuf, {{.*}}> -> !tile.buffer<72x88xf32, psum, {{.*}}>
// BF16-LABEL: func.func @mm(
// BF16:         tile.dma {{.*}} : !tile.buffer<128x600xf32, hbm> -> !tile.buffer<128x600xbf16, sbuf
// BF16-NOT:     on gpsimd
// BF16:         tile.matmul {{.*}} : !tile.buffer<128x128xbf16, sbuf, {{.*}}>, !tile.buffer<128x512xbf16, sbuf, {{.*}}> -> !tile.buffer<128x512xf32, psum, {{.*}}>
func.func @mm(%x: tensor<200x300xf32>, %w: tensor<300x600xf32>) -> tensor<200x600xf32> {
  %0 = graph.matmul %x, %w : (tensor<200x300xf32>, tensor<300x600xf32>) -> tensor<200x600xf32>
  func.return %0 : tensor<200x600xf32>
}

// -----

// With dtype=bf16 an f32 weight that only matmuls read is stored in HBM as bf16 (its
// graph type in tile.tensor_element; the data is converted when placed in HBM), so its
// tiles are loaded as bf16 with half the bytes and no GpSimdE cast. A weight that another
// op also reads (the bias b) keeps f32, as every weight does in fp32 mode.

// CHECK-LABEL: func.func @weights(
// CHECK-SAME:    !tile.buffer<300x600xf32, hbm> {graph.name = "w", tile.role = "weight"
// CHECK-NOT:     tile.tensor_element
// CHECK-SAME:    !tile.buffer<1x600xf32, hbm> {graph.name = "b", tile.role = "weight"
// BF16-LABEL: func.func @weights(
// BF16-SAME:     !tile.buffer<300x600xbf16, hbm> {graph.name = "w", tile.role = "weight", tile.tensor_shape = array<i64: 300, 600>, tile.tensor_element = f32, tile.weight_file = "w.bin", tile.weight_offset = 0 : i64}
// BF16-SAME:     !tile.buffer<1x600xf32, hbm> {graph.name = "b", tile.role = "weight", tile.tensor_shape = array<i64: 600>, tile.weight_file = "w.bin", tile.weight_offset = 720000 : i64}
// BF16-NOT:      on gpsimd
// BF16:          tile.dma {{.*}} : !tile.buffer<128x600xbf16, hbm> -> !tile.buffer<128x600xbf16, sbuf, {{.*}}>
// BF16-NOT:      on gpsimd
// BF16:          tile.matmul {{.*}} : !tile.buffer<128x128xbf16, sbuf, {{.*}}>, !tile.buffer<128x512xbf16, sbuf, {{.*}}> -> !tile.buffer<128x512xf32, psum, {{.*}}>
func.func @weights(%x: tensor<200x300xf32>) -> tensor<200x600xf32> {
  %w = graph.weight "w" from "w.bin" at 0 : tensor<300x600xf32>
  %b = graph.weight "b" from "w.bin" at 720000 : tensor<600xf32>
  %0 = graph.matmul %x, %w : (tensor<200x300xf32>, tensor<300x600xf32>) -> tensor<200x600xf32>
  %1 = graph.add %0, %b : (tensor<200x600xf32>, tensor<600xf32>) -> tensor<200x600xf32>
  func.return %1 : tensor<200x600xf32>
}

// -----

// Integers and booleans are exact f32 values on chip: an int64 input is an i32 HBM buffer
// (its graph type in tile.tensor_element) that the DMA converts; a bool intermediate is an
// f32 scratch buffer. `x != 0` makes the bool; where is a predicated copy with a ui8
// predicate onto the memset of the other branch.

// CHECK-LABEL: func.func @mask(
// CHECK-SAME:    %0: !tile.buffer<2x4xi32, hbm> {graph.name = "ids", tile.role = "input", tile.tensor_shape = array<i64: 2, 4>, tile.tensor_element = i64}
// CHECK-SAME:    %3: !tile.buffer<2x4xf32, hbm> {graph.name = "tmp0", tile.role = "scratch", tile.tensor_shape = array<i64: 2, 4>, tile.tensor_element = i1}
// CHECK:         tile.dma %0 -> %[[IDS:.*]] : !tile.buffer<2x4xi32, hbm> -> !tile.buffer<2x4xf32, sbuf, {{.*}}>
// CHECK:         tile.tensor_scalar ne %[[IDS]], 0.000000e+00 -> %[[M:.*]] on vector
// CHECK:         tile.dma %[[M]] -> %3
// CHECK:         tile.memset %[[Y:.*]] value -1.000000e+09 on vector
// CHECK:         tile.dma %3 -> %[[P:.*]] : !tile.buffer<2x4xf32, hbm> -> !tile.buffer<2x4xui8, sbuf, {{.*}}>
// CHECK:         tile.copy_predicated %{{.*}}, %[[P]] -> %[[Y]] on vector
// CHECK:         tile.dma %[[Y]] -> %2
func.func @mask(%ids: tensor<2x4xi64> {graph.name = "ids"}, %x: tensor<2x4xf32> {graph.name = "x"}) -> (tensor<2x4xf32> {graph.name = "y"}) {
  %m = graph.cast %ids : tensor<2x4xi64> -> tensor<2x4xi1>
  %low = graph.constant dense<-1.0e+09> : tensor<f32>
  %0 = graph.where %m, %x, %low : (tensor<2x4xi1>, tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
  func.return %0 : tensor<2x4xf32>
}

// -----

// An embedding (gather on axis 0, run-time ids): the indirect DMA. The ids are loaded one
// per partition (exact f32), negative ones wrapped (+ 200 * (id < 0)), converted to i32 on
// VectorE, and one tile.dma_gather copies each partition's table row: bit-exact in either
// dtype, no matmul, no one-hot.

// CHECK-LABEL: func.func @embed(
// CHECK:         %[[COL:.*]] = tile.reinterpret %0 : !tile.buffer<1x5xi32, hbm> to !tile.buffer<5x1xi32, hbm>
// CHECK:         tile.dma %[[COL]] -> %[[IDS:.*]] : !tile.buffer<5x1xi32, hbm> -> !tile.buffer<5x1xf32, sbuf, {{.*}}>
// CHECK:         tile.tensor_scalar lt %[[IDS]], 0.000000e+00 -> %[[W:.*]] on vector
// CHECK-NEXT:    tile.tensor_scalar mul %[[W]], 2.000000e+02 -> %[[W]] on vector
// CHECK-NEXT:    tile.tensor_tensor add %[[IDS]], %[[W]] -> %[[IDS]] on vector
// CHECK:         tile.copy %[[IDS]] -> %[[I32:.*]] on vector : !tile.buffer<5x1xf32, sbuf, {{.*}}> -> !tile.buffer<5x1xi32, sbuf, {{.*}}>
// CHECK:         tile.dma_gather %1[%[[I32]]] -> %[[ROWS:.*]] : !tile.buffer<200x8xf32, hbm>, !tile.buffer<5x1xi32, sbuf, {{.*}}> -> !tile.buffer<5x8xf32, sbuf, {{.*}}>
// CHECK-NEXT:    tile.dma %[[ROWS]] -> %2
// CHECK-NOT:     tile.matmul
// BF16-LABEL: func.func @embed(
// BF16:         tile.dma_gather %1[%{{.*}}] -> %{{.*}} : !tile.buffer<200x8xf32, hbm>
// BF16-NOT:     tile.matmul
func.func @embed(%ids: tensor<1x5xi64> {graph.name = "ids"}, %t: tensor<200x8xf32> {graph.name = "t"}) -> (tensor<1x5x8xf32> {graph.name = "y"}) {
  %0 = graph.gather %t, %ids {axis = 0} : (tensor<200x8xf32>, tensor<1x5xi64>) -> tensor<1x5x8xf32>
  func.return %0 : tensor<1x5x8xf32>
}

// -----

// Attention's head split [0, 2, 1, 3] keeps the last dim: every output row is an input
// row, so each (batch, head) is one strided DMA in (rows 4 apart) and one out.

// CHECK-LABEL: func.func @heads(
// CHECK:         tile.view %0 [0, 0] strides [4, 1] : !tile.buffer<128x8xf32, hbm> to !tile.buffer<16x8xf32, hbm>
// CHECK:         tile.view %1 [0, 0] : !tile.buffer<128x8xf32, hbm> to !tile.buffer<16x8xf32, hbm>
// CHECK:         tile.view %0 [1, 0] strides [4, 1] : !tile.buffer<128x8xf32, hbm> to !tile.buffer<16x8xf32, hbm>
// CHECK:         tile.view %1 [16, 0] : !tile.buffer<128x8xf32, hbm> to !tile.buffer<16x8xf32, hbm>
// CHECK-NOT:     tile.transpose
func.func @heads(%x: tensor<2x16x4x8xf32> {graph.name = "x"}) -> (tensor<2x4x16x8xf32> {graph.name = "y"}) {
  %0 = graph.transpose %x {perm = [0, 2, 1, 3]} : tensor<2x16x4x8xf32> -> tensor<2x4x16x8xf32>
  func.return %0 : tensor<2x4x16x8xf32>
}
