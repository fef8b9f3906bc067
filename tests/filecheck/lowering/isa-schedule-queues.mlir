// RUN: trn-opt %s -p isa-schedule | filecheck %s
// RUN: trn-opt %s -p 'isa-schedule{queues=keep}' | filecheck %s --check-prefix=KEEP
// RUN: trn-opt %s -p isa-schedule,isa-insert-sync -o %t.mlir && trn-run %t.mlir --random-inputs | filecheck %s --check-prefix=SIM
// RUN: not trn-opt %s -p 'isa-schedule{queues=any}' 2>&1 | filecheck %s --check-prefix=BAD

// DMA queues are chosen by the scheduler: each transfer goes to the DMA queue that is
// free first when it is ready. tile-allocate put both loads on dma0, where the second
// would wait for the first (a queue runs in order); the scheduler gives it dma1, so the
// two run at once. The store then takes the queue free longest. With queues=keep every
// transfer keeps its queue.

// CHECK-LABEL: trn_isa.program @queues
// CHECK:      trn_isa.dma_copy {{.*}} src #trn_isa.ap<hbm + 0, {{.*}} on dma0
// CHECK-NEXT: trn_isa.dma_copy {{.*}} src #trn_isa.ap<hbm + 262144, {{.*}} on dma1
// CHECK:      trn_isa.dma_copy dst #trn_isa.ap<hbm + 524288, {{.*}} on dma{{[2-9]|1[0-5]}}

// KEEP-LABEL: trn_isa.program @queues
// KEEP:      trn_isa.dma_copy {{.*}} src #trn_isa.ap<hbm + 0, {{.*}} on dma0
// KEEP-NEXT: trn_isa.dma_copy {{.*}} src #trn_isa.ap<hbm + 262144, {{.*}} on dma0
// KEEP:      trn_isa.dma_copy dst #trn_isa.ap<hbm + 524288, {{.*}} on dma0

// SIM: program queues: 4 instructions

// BAD: isa-schedule: queues must be 'assign' or 'keep', got 'any'

trn_isa.program @queues {
  trn_isa.hbm_tensor @a : tensor<128x512xf32> at 0 role input
  trn_isa.hbm_tensor @b : tensor<128x512xf32> at 262144 role input
  trn_isa.hbm_tensor @y : tensor<128x512xf32> at 524288 role output
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32>, src #trn_isa.ap<hbm + 0, [[512, 128], [1, 512]], f32> on dma0
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 2048, [[1, 512]], f32>, src #trn_isa.ap<hbm + 262144, [[512, 128], [1, 512]], f32> on dma0
  trn_isa.tensor_tensor add dst #trn_isa.ap<sbuf[0:128] + 4096, [[1, 512]], f32>, lhs #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32>, rhs #trn_isa.ap<sbuf[0:128] + 2048, [[1, 512]], f32> on vector
  trn_isa.dma_copy dst #trn_isa.ap<hbm + 524288, [[512, 128], [1, 512]], f32>, src #trn_isa.ap<sbuf[0:128] + 4096, [[1, 512]], f32> on dma0
}
