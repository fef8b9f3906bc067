// Each queue waits for the other's signal: nothing can start.
trn_isa.program @deadlock {
  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, value 0.0 on vector wait [gpsimd.s0 >= 1] signal [vector.s0]
  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, value 1.0 on gpsimd wait [vector.s0 >= 1] signal [gpsimd.s0]
}
// CHECK: deadlock.mlir:3:3: error: deadlock: no queue can make progress; 2 blocked instruction(s):
// CHECK-NEXT: vector: instruction #0 memset at {{.*}}deadlock.mlir:3:3 waits for gpsimd.s0 >= 1 (current value 0)
// CHECK-NEXT: gpsimd: instruction #1 memset at {{.*}}deadlock.mlir:4:3 waits for vector.s0 >= 1 (current value 0)
