// The matmul reads the tile the DMA writes without waiting for the DMA's semaphore.
trn_isa.program @race {
  trn_isa.hbm_tensor @a : tensor<128x128xbf16> at 0 role input
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, src #trn_isa.ap<hbm + 0, [[128, 128], [1, 128]], bf16> on dma0 signal [dma0.s0]
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 128]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16> {accumulate = false} on tensor
}
// CHECK: race.mlir:5:3: error: race: RAW: instruction #1 matmul on tensor reads sbuf partitions [0, 128)
// CHECK-SAME: written by instruction #0 dma_copy on dma0
// CHECK: race.mlir:4:3: note: the other instruction involved
// CHECK-NOT: Traceback
