// trn-run on a hand-written program: the printed report, the JSON report, the outputs and
// the Chrome trace.
// RUN: trn-run %s --random-inputs --seed 1 --report %t.report.json --trace %t.trace.json --output-dir %t.out | filecheck %s
// RUN: %PYTHON %S/Inputs/check_trace.py %t.trace.json | filecheck %s --check-prefix=TRACE
// RUN: %PYTHON -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['instructions'], r['opcodes']['dma_copy'], r['flops'])" %t.report.json | filecheck %s --check-prefix=JSON
// RUN: %PYTHON -c "import numpy; print(numpy.load('%t.out/y.npy').shape)" | filecheck %s --check-prefix=OUT
// RUN: trn-run %s --timing-only | filecheck %s --check-prefix=TIMING

// y = exp(x * 0.5) row-normalised: y[p, :] = e[p, :] / sum(e[p, :]), x: 128 x 256 f32.
trn_isa.program @softmax_rows {
  trn_isa.hbm_tensor @x : tensor<128x256xf32> at 0 role input
  trn_isa.hbm_tensor @y : tensor<128x256xf32> at 131072 role output
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f32>, src #trn_isa.ap<hbm + 0, [[256, 128], [1, 128]], f32> on dma0 signal [dma0.s0]
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 512, [[1, 128]], f32>, src #trn_isa.ap<hbm + 512, [[256, 128], [1, 128]], f32> on dma1 signal [dma1.s0]
  trn_isa.activation exp dst #trn_isa.ap<sbuf[0:128] + 1024, [[1, 256]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 256]], f32>, scale 0.5 on scalar wait [dma0.s0 >= 1, dma1.s0 >= 1] signal [scalar.s0]
  trn_isa.tensor_reduce add dst #trn_isa.ap<sbuf[0:128] + 2048, [], f32>, src #trn_isa.ap<sbuf[0:128] + 1024, [[1, 256]], f32> {axes = 1 : i64, negate = false} on vector wait [scalar.s0 >= 1]
  trn_isa.reciprocal dst #trn_isa.ap<sbuf[0:128] + 2052, [], f32>, src #trn_isa.ap<sbuf[0:128] + 2048, [], f32> on vector
  trn_isa.tensor_scalar dst #trn_isa.ap<sbuf[0:128] + 1024, [[1, 256]], f32>, src #trn_isa.ap<sbuf[0:128] + 1024, [[1, 256]], f32>, op0 mul #trn_isa.ap<sbuf[0:128] + 2052, [], f32> on vector signal [vector.s0]
  trn_isa.dma_copy dst #trn_isa.ap<hbm + 131072, [[256, 128], [1, 256]], f32>, src #trn_isa.ap<sbuf[0:128] + 1024, [[1, 256]], f32> on dma2 wait [vector.s0 >= 1] signal [dma2.s0]
}

// CHECK: program softmax_rows: 7 instructions
// CHECK: simulated time
// CHECK: roofline fraction
// CHECK: flops {{ +}}0
// CHECK: dma bytes {{ +}}262144
// CHECK-DAG: vector {{ +}}3
// CHECK-DAG: scalar {{ +}}1
// CHECK-DAG: dma0 {{ +}}1
// CHECK: opcodes: activation 1, dma_copy 3, reciprocal 1, tensor_reduce 1, tensor_scalar 1
// CHECK: instructions/s
// CHECK: note: filled with seeded random data (seed 1): x
// CHECK: output y: shape (128, 256) float32

// TRACE: slices 7
// TRACE: tracks dma0 dma1 dma2 scalar vector
// TRACE: flows 4
// TRACE: names activation dma_copy reciprocal tensor_reduce tensor_scalar

// JSON: 7 3 0
// OUT: (128, 256)

// TIMING: program softmax_rows: 7 instructions (timing only)
// TIMING-NOT: output y
