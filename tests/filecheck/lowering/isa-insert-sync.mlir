// RUN: trn-opt %s -p isa-insert-sync | filecheck %s
// RUN: trn-opt %s -p isa-insert-sync -o %t.mlir && trn-run %t.mlir --random-inputs | filecheck %s --check-prefix=SIM

// Every instruction signals its queue's s0; an instruction waits for the latest
// conflicting instruction of each other queue, unless the order is already known
// transitively (the activation needs the DMA of w, but the matmul it waits for already
// waited for it, so it waits only for the matmul). Existing waits are replaced.

trn_isa.program @sync {
  trn_isa.hbm_tensor @x : tensor<128x128xf32> at 0 role input
  trn_isa.hbm_tensor @w : tensor<128x512xf32> at 65536 role weight
  trn_isa.hbm_tensor @y : tensor<128x512xf32> at 327680 role output
  // CHECK:      dma_copy {{.*}} on dma0 signal [dma0.s0]
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f32>, src #trn_isa.ap<hbm + 0, [[128, 128], [1, 128]], f32> on dma0
  // CHECK-NEXT: dma_copy {{.*}} on dma1 signal [dma1.s0]
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 512, [[1, 512]], f32>, src #trn_isa.ap<hbm + 65536, [[512, 128], [1, 512]], f32> on dma1
  // CHECK-NEXT: transpose {{.*}} on tensor wait [dma0.s0 >= 1] signal [tensor.s0]
  trn_isa.transpose dst #trn_isa.ap<psum[0:128] + 0, [[1, 128]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f32> on tensor wait [dma1.s0 >= 1]
  // CHECK-NEXT: tensor_copy {{.*}} on vector wait [tensor.s0 >= 1] signal [vector.s0]
  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 2560, [[1, 128]], f32>, src #trn_isa.ap<psum[0:128] + 0, [[1, 128]], f32> on vector
  // CHECK-NEXT: matmul {{.*}} on tensor wait [dma1.s0 >= 1, vector.s0 >= 1] signal [tensor.s0]
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 2048, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 2560, [[1, 128]], f32>, moving #trn_isa.ap<sbuf[0:128] + 512, [[1, 512]], f32> {accumulate = false} on tensor
  // The activation overwrites the SBUF bytes of w (WAR with the matmul's read):
  // CHECK-NEXT: activation gelu {{.*}} on scalar wait [tensor.s0 >= 2] signal [scalar.s0]
  trn_isa.activation gelu dst #trn_isa.ap<sbuf[0:128] + 512, [[1, 512]], f32>, src #trn_isa.ap<psum[0:128] + 2048, [[1, 512]], f32> on scalar
  // CHECK-NEXT: dma_copy {{.*}} on dma2 wait [scalar.s0 >= 1] signal [dma2.s0]
  trn_isa.dma_copy dst #trn_isa.ap<hbm + 327680, [[512, 128], [1, 512]], f32>, src #trn_isa.ap<sbuf[0:128] + 512, [[1, 512]], f32> on dma2
}

// The simulator (strict race and deadlock checks) accepts the result:
// SIM: program sync: 7 instructions
