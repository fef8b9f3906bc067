// RUN: trn-opt %s -p isa-schedule | filecheck %s
// RUN: trn-opt %s -p 'isa-schedule{mode=none}' | filecheck %s --check-prefix=NONE
// RUN: trn-opt %s -p isa-schedule,isa-insert-sync -o %t.mlir && trn-run %t.mlir --random-inputs | filecheck %s --check-prefix=SIM

// List scheduling: TensorE's first matmul waits for a 256 KiB load of w0, the second for
// a 2 KiB load of w1, so the second goes first (its operand arrives ~0.6 us earlier).
// The activation overwrites w0's bytes, which the first matmul reads (WAR): it stays
// after it. Each DMA keeps its queue.

// CHECK-LABEL: trn_isa.program @reorder
// CHECK:      trn_isa.dma_copy {{.*}} src #trn_isa.ap<hbm + 0, {{.*}} on dma0
// CHECK-NEXT: trn_isa.dma_copy {{.*}} src #trn_isa.ap<hbm + 262144, {{.*}} on dma1
// CHECK-NEXT: trn_isa.matmul dst #trn_isa.ap<psum[0:4] + 2048, {{.*}} moving #trn_isa.ap<sbuf[0:128] + 4096
// CHECK-NEXT: trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, {{.*}} moving #trn_isa.ap<sbuf[0:128] + 0
// CHECK-NEXT: trn_isa.activation
// CHECK-NEXT: trn_isa.dma_copy {{.*}} on dma2

// NONE-LABEL: trn_isa.program @reorder
// NONE:      trn_isa.dma_copy {{.*}} on dma0
// NONE-NEXT: trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0,

// SIM: program reorder: 6 instructions

trn_isa.program @reorder {
  trn_isa.hbm_tensor @w0 : tensor<128x512xf32> at 0 role weight
  trn_isa.hbm_tensor @w1 : tensor<128x4xf32> at 262144 role weight
  trn_isa.hbm_tensor @y : tensor<128x512xf32> at 264192 role output
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32>, src #trn_isa.ap<hbm + 0, [[512, 128], [1, 512]], f32> on dma0
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f32>, moving #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32> {accumulate = false} on tensor
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 4096, [[1, 4]], f32>, src #trn_isa.ap<hbm + 262144, [[4, 128], [1, 4]], f32> on dma1
  trn_isa.matmul dst #trn_isa.ap<psum[0:4] + 2048, [[1, 4]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 4096, [[1, 4]], f32>, moving #trn_isa.ap<sbuf[0:128] + 4096, [[1, 4]], f32> {accumulate = false} on tensor
  trn_isa.activation gelu dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32>, src #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32> on scalar
  trn_isa.dma_copy dst #trn_isa.ap<hbm + 264192, [[512, 128], [1, 512]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32> on dma2
}
