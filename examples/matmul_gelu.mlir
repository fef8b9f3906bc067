// y = gelu(x @ w) at trnc's three levels, for x: 128x128 and w: 128x512 (fp32).
//
//   trn-opt examples/matmul_gelu.mlir                 parses and verifies all three
//   trn-opt examples/matmul_gelu.mlir --print-op-generic
//
// 1. graph: tensor ops with value semantics, as imported from ONNX.
func.func @matmul_gelu_graph(%x: tensor<128x128xf32>, %w: tensor<128x512xf32>) -> tensor<128x512xf32> {
  %xw = graph.matmul %x, %w : (tensor<128x128xf32>, tensor<128x512xf32>) -> tensor<128x512xf32>
  %y = graph.gelu %xw : tensor<128x512xf32>
  return %y : tensor<128x512xf32>
}

// 2. tile: buffers in HBM / SBUF / PSUM with layouts; every decision (address, start
// partition, PSUM bank, DMA queue, engine) is on the IR. TensorE contracts over the
// partition axis, so x (M on partitions) is first transposed on TensorE into PSUM and
// copied back to SBUF as x^T (K on partitions): the stationary operand.
!x_hbm = !tile.buffer<128x128xf32, hbm>
!w_hbm = !tile.buffer<128x512xf32, hbm>
!y_hbm = !tile.buffer<128x512xf32, hbm>
!sb_sq = !tile.buffer<128x128xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!ps_sq = !tile.buffer<128x128xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!sb_wide = !tile.buffer<128x512xf32, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
!ps_wide = !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>

func.func @matmul_gelu_tile(%x: !x_hbm, %w: !w_hbm, %y: !y_hbm) {
  %xs = tile.alloc address 0 start_partition 0 : !sb_sq
  %ws = tile.alloc address 512 start_partition 0 : !sb_wide
  tile.dma %x -> %xs queue 0 : !x_hbm -> !sb_sq
  tile.dma %w -> %ws queue 1 : !w_hbm -> !sb_wide
  %xt_psum = tile.alloc address 0 start_partition 0 bank 0 : !ps_sq
  tile.transpose %xs -> %xt_psum : !sb_sq -> !ps_sq
  %xt = tile.alloc address 2560 start_partition 0 : !sb_sq
  tile.copy %xt_psum -> %xt on vector : !ps_sq -> !sb_sq
  %acc = tile.alloc address 2048 start_partition 0 bank 1 : !ps_wide
  tile.matmul %xt, %ws -> %acc accumulate = false : !sb_sq, !sb_wide -> !ps_wide
  %ys = tile.alloc address 3072 start_partition 0 : !sb_wide
  tile.activation gelu %acc -> %ys on scalar : !ps_wide -> !sb_wide
  tile.dma %ys -> %y queue 2 : !sb_wide -> !y_hbm
  tile.dealloc %ys : !sb_wide
  tile.dealloc %acc : !ps_wide
  tile.dealloc %xt : !sb_sq
  tile.dealloc %xt_psum : !ps_sq
  tile.dealloc %ws : !sb_wide
  tile.dealloc %xs : !sb_sq
  func.return
}

// 3. trn_isa: one op per instruction, with access patterns (memory, partitions, byte
// offset, (step, count) free dims, dtype), an engine or DMA queue, and the semaphores
// that order them across engines. The HBM tensor table comes first.
trn_isa.program @matmul_gelu {
  trn_isa.hbm_tensor @x : tensor<128x128xf32> at 0 role input
  trn_isa.hbm_tensor @w : tensor<128x512xf32> at 65536 role weight
  trn_isa.hbm_tensor @y : tensor<128x512xf32> at 327680 role output
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f32>, src #trn_isa.ap<hbm + 0, [[128, 128], [1, 128]], f32> on dma0 signal [dma0.s0]
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 512, [[1, 512]], f32>, src #trn_isa.ap<hbm + 65536, [[512, 128], [1, 512]], f32> on dma1 signal [dma1.s0]
  trn_isa.transpose dst #trn_isa.ap<psum[0:128] + 0, [[1, 128]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f32> on tensor wait [dma0.s0 >= 1] signal [tensor.s0]
  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 2560, [[1, 128]], f32>, src #trn_isa.ap<psum[0:128] + 0, [[1, 128]], f32> on vector wait [tensor.s0 >= 1] signal [vector.s0]
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 2048, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 2560, [[1, 128]], f32>, moving #trn_isa.ap<sbuf[0:128] + 512, [[1, 512]], f32> {accumulate = false} on tensor wait [vector.s0 >= 1, dma1.s0 >= 1] signal [tensor.s1]
  trn_isa.activation gelu dst #trn_isa.ap<sbuf[0:128] + 3072, [[1, 512]], f32>, src #trn_isa.ap<psum[0:128] + 2048, [[1, 512]], f32> on scalar wait [tensor.s1 >= 1] signal [scalar.s0]
  trn_isa.dma_copy dst #trn_isa.ap<hbm + 327680, [[512, 128], [1, 512]], f32>, src #trn_isa.ap<sbuf[0:128] + 3072, [[1, 512]], f32> on dma2 wait [scalar.s0 >= 1] signal [dma2.s0]
}
