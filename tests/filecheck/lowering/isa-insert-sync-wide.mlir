// RUN: trn-opt %s -p isa-insert-sync | filecheck %s
// RUN: trn-opt %s -p isa-insert-sync -o %t.mlir && trn-run %t.mlir --timing-only | filecheck %s --check-prefix=SIM

// Wide accesses: column blocks of a 128 x 100000 tensor, whose rows are 400,000 bytes
// apart, so each access's bounding box spans all 51 MB of the tensor (the index files
// such an access once, not under each of its ~780 blocks). Two loads of different columns
// on two queues only read HBM: no wait. The stores' boxes overlap (a conservative WAW),
// so the second store waits for the first; neither store waits for a load, whose box is
// in the other tensor.

trn_isa.program @wide {
  trn_isa.hbm_tensor @x : tensor<128x100000xf32> at 0 role input
  trn_isa.hbm_tensor @y : tensor<128x100000xf32> at 51200000 role output
  // CHECK:      dma_copy {{.*}} on dma0 signal [dma0.s0]
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 2048]], f32>, src #trn_isa.ap<hbm + 0, [[100000, 128], [1, 2048]], f32> on dma0
  // CHECK-NEXT: dma_copy {{.*}} on dma1 signal [dma1.s0]
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 8192, [[1, 2048]], f32>, src #trn_isa.ap<hbm + 8192, [[100000, 128], [1, 2048]], f32> on dma1
  // CHECK-NEXT: dma_copy {{.*}} on dma2 wait [dma0.s0 >= 1] signal [dma2.s0]
  trn_isa.dma_copy dst #trn_isa.ap<hbm + 51200000, [[100000, 128], [1, 2048]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 2048]], f32> on dma2
  // CHECK-NEXT: dma_copy {{.*}} on dma3 wait [dma1.s0 >= 1, dma2.s0 >= 1] signal [dma3.s0]
  trn_isa.dma_copy dst #trn_isa.ap<hbm + 51208192, [[100000, 128], [1, 2048]], f32>, src #trn_isa.ap<sbuf[0:128] + 8192, [[1, 2048]], f32> on dma3
}

// The simulator (strict race and deadlock checks) accepts the result:
// SIM: program wide: 4 instructions
