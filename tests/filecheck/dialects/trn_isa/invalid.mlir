// RUN: trn-opt %s --split-input-file --verify-diagnostics

// --- access pattern rules (trn1.md A.1) ----------------------------------------------

trn_isa.program @p {
  // expected-error @+1 {{dtype rule: dst has unsupported element type f64}}
  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f64>, src #trn_isa.ap<sbuf[0:128] + 1024, [[1, 64]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{free-dim rule: src has 5 free dims, at most 4}}
  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 32]], f32>, src #trn_isa.ap<sbuf[0:128] + 1024, [[16, 2], [8, 2], [4, 2], [2, 2], [1, 2]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{count rule: dst has count 70000, counts must be in [1, 65535]}}
  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 70000]], i8>, value 0 on gpsimd
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{count rule: dst has count 0}}
  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 0]], i8>, value 0 on gpsimd
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{step rule: src has step 40000, steps must fit int16 [-32768, 32767]}}
  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 4]], i8>, src #trn_isa.ap<sbuf[0:128] + 0, [[40000, 4]], i8> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{partition count rule: dst spans 200 partitions, at most 128}}
  trn_isa.memset dst #trn_isa.ap<sbuf[0:200] + 0, [[1, 64]], f32>, value 0.0 on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{start-partition rule: an access over 40 partitions must start at partition 0 or 64, got 32 (dst)}}
  trn_isa.memset dst #trn_isa.ap<sbuf[32:72] + 0, [[1, 64]], f32>, value 0.0 on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{start-partition rule: an access over 65 partitions must start at partition 0, got 63 (dst)}}
  trn_isa.memset dst #trn_isa.ap<sbuf[63:128] + 0, [[1, 64]], f32>, value 0.0 on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{sbuf bounds rule: dst touches bytes [196600, 196616) of each partition, outside [0, 196608)}}
  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 196600, [[1, 4]], f32>, value 0.0 on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{sbuf bounds rule: src touches bytes [-4, 4) of each partition, outside [0, 196608)}}
  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 2]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[-1, 2]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{psum bounds rule: dst touches bytes [16000, 18048) of each partition, outside [0, 16384)}}
  trn_isa.memset dst #trn_isa.ap<psum[0:128] + 16000, [[1, 512]], f32>, value 0.0 on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{psum alignment rule: dst starts at byte 2, not a multiple of 4}}
  trn_isa.memset dst #trn_isa.ap<psum[0:128] + 2, [[1, 8]], f32>, value 0.0 on vector
}

// -----

// The program also reports the access as outside every declared tensor.
// expected-error @+1 {{hbm access rule: dst of trn_isa.dma_copy touches bytes [17179869184, 17179869188)}}
trn_isa.program @p {
  trn_isa.hbm_tensor @x : tensor<128xf32> at 0 role input
  // expected-error @+1 {{hbm bounds rule: dst touches bytes [17179869184, 17179869188), outside [0, 17179869184)}}
  trn_isa.dma_copy dst #trn_isa.ap<hbm + 17179869184, [[1, 1], [1, 1]], f32>, src #trn_isa.ap<sbuf[0:1] + 0, [[1, 1]], f32> on dma0
}

// -----

// --- engine rules (trn1.md A.2) ----------------------------------------------------

trn_isa.program @p {
  // expected-error @+1 {{engine rule: trn_isa.matmul runs on tensor, got vector}}
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{engine rule: trn_isa.transpose runs on tensor, got gpsimd}}
  trn_isa.transpose dst #trn_isa.ap<psum[0:64] + 0, [[1, 128]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32> on gpsimd
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{engine rule: trn_isa.activation runs on scalar, got vector}}
  trn_isa.activation relu dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{engine rule: trn_isa.tensor_tensor runs on vector or gpsimd, got scalar}}
  trn_isa.tensor_tensor add dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, lhs #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, rhs #trn_isa.ap<sbuf[0:128] + 512, [[1, 64]], f32> on scalar
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{engine rule: trn_isa.tensor_scalar runs on vector or scalar or gpsimd, got tensor}}
  trn_isa.tensor_scalar dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, op0 add 1.0 on tensor
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{engine rule: trn_isa.tensor_reduce runs on vector, got gpsimd}}
  trn_isa.tensor_reduce add dst #trn_isa.ap<sbuf[0:128] + 0, [], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32> on gpsimd
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{engine rule: trn_isa.tensor_copy runs on vector or scalar or gpsimd, got tensor}}
  trn_isa.tensor_copy dst #trn_isa.ap<psum[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32> on tensor
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{engine rule: trn_isa.memset runs on vector or gpsimd, got scalar}}
  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, value 0.0 on scalar
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{engine rule: trn_isa.iota runs on gpsimd, got vector}}
  trn_isa.iota dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], i32>, base 0, channel_multiplier 64, pattern [[1, 64]] on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{engine rule: trn_isa.affine_select runs on gpsimd, got vector}}
  trn_isa.affine_select lt dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, base 0, channel_multiplier 1, pattern [[-1, 64]], on_false 0.0 on vector
}

// -----

// --- connectivity (trn1.md A.1) ------------------------------------------------------

trn_isa.program @p {
  // expected-error @+1 {{connectivity rule: gpsimd cannot read psum (src)}}
  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<psum[0:128] + 0, [[1, 64]], f32> on gpsimd
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{connectivity rule: tensor cannot write sbuf (dst)}}
  trn_isa.matmul dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16> on tensor
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{connectivity rule: tensor cannot read psum (moving)}}
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, moving #trn_isa.ap<psum[0:128] + 4096, [[1, 512]], f32> on tensor
}

// -----

trn_isa.program @p {
  trn_isa.hbm_tensor @x : tensor<128x64xf32> at 0 role input
  // expected-error @+1 {{connectivity rule: vector cannot read hbm (src)}}
  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<hbm + 0, [[64, 128], [1, 64]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{connectivity rule: dma cannot write psum (dst)}}
  trn_isa.dma_copy dst #trn_isa.ap<psum[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32> on dma0
}

// -----

// --- free size per Vector/Scalar instruction (trn1.md A.1) -------------------------------

trn_isa.program @p {
  // expected-error @+1 {{free size rule: src has 4100 elements per partition in psum, at most 4096 on vector}}
  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 4100]], bf16>, src #trn_isa.ap<psum[0:128] + 0, [[0, 4100]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{free size rule: dst has 65792 elements per partition in sbuf, at most 65536 on scalar}}
  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[256, 256], [1, 257]], i8>, src #trn_isa.ap<sbuf[0:128] + 70000, [[257, 256], [1, 257]], i8> on scalar
}

// -----

// --- semaphores and queues (trn1.md A.3, A.4) -------------------------------------------

trn_isa.program @p {
  // expected-error @+1 {{semaphore owner rule: sync.s0 is not owned by tensor, vector, scalar, gpsimd or dma0..dma15}}
  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, value 0.0 on vector wait [sync.s0 >= 1]
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{semaphore owner rule: dma16.s0 names dma queue 16, queues are 0..15}}
  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, value 0.0 on vector signal [dma16.s0]
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{dma queue rule: queue 16, queues are 0..15}}
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32> on dma16
}

// -----

// --- element counts --------------------------------------------------------------------

trn_isa.program @p {
  // expected-error @+1 {{partition count mismatch: dst spans 128 partitions but src spans 64}}
  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:64] + 256, [[1, 64]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{element count mismatch: dst has 64 elements per partition but rhs has 32}}
  trn_isa.tensor_tensor mul dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, lhs #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, rhs #trn_isa.ap<sbuf[0:128] + 512, [[1, 32]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{element count mismatch: dst has 64 elements per partition but src has 32}}
  trn_isa.activation exp dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 32]], f32> on scalar
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{element count mismatch: dst has 64 elements per partition but src has 128}}
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 128]], f32> on dma0
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{per-partition scalar rule: bias must be [128, 1], got [128, 2]}}
  trn_isa.activation exp dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, bias #trn_isa.ap<sbuf[0:128] + 1024, [[1, 2]], f32> on scalar
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{per-partition scalar rule: operand1 must be [128, 1], got [64, 1]}}
  trn_isa.tensor_scalar dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, op0 add 1.0, op1 mul #trn_isa.ap<sbuf[64:128] + 1024, [], f32> on vector
}

// -----

// --- TensorE (trn1.md A.2) ---------------------------------------------------------------

trn_isa.program @p {
  // expected-error @+1 {{matmul contraction mismatch: stationary has K=128 but moving has K=64}}
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:64] + 256, [[1, 512]], bf16> on tensor
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{matmul stationary rule: stationary free size is 256, at most 128}}
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[2, 128], [1, 2]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 1024, [[1, 512]], bf16> on tensor
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{matmul moving rule: moving free size is 1024, at most 512}}
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 256, [[1, 1024]], bf16> on tensor
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{matmul output shape mismatch: expected dst [128, 512] (stationary free x moving free), got [128, 256]}}
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 256]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16> on tensor
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{matmul fp32 rule: fp32 inputs on both or neither, got stationary f32 and moving bf16}}
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f32>, moving #trn_isa.ap<sbuf[0:128] + 512, [[1, 512]], bf16> on tensor
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{psum output dtype rule: trn_isa.matmul writes f32 to psum, dst is i32}}
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], i32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16> on tensor
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{psum bank rule: dst touches bytes [1024, 3072) of each partition, which crosses a 2048-byte bank boundary}}
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 1024, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16> on tensor
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{transpose size rule: src has 256 elements per partition, at most 128}}
  trn_isa.transpose dst #trn_isa.ap<psum[0:128] + 0, [[1, 128]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 256]], f32> on tensor
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{transpose output shape mismatch: expected dst [32, 128], got [128, 32]}}
  trn_isa.transpose dst #trn_isa.ap<psum[0:128] + 0, [[1, 32]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 32]], f32> on tensor
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{psum output dtype rule: trn_isa.transpose writes f32 to psum, dst is i32}}
  trn_isa.transpose dst #trn_isa.ap<psum[0:32] + 0, [[1, 128]], i32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 32]], bf16> on tensor
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{psum bank rule: dst touches bytes [1600, 2112) of each partition, which crosses a 2048-byte bank boundary}}
  trn_isa.transpose dst #trn_isa.ap<psum[0:32] + 1600, [[1, 128]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 32]], f32> on tensor
}

// -----

// --- Vector/Scalar/GpSimd instructions -----------------------------------------------------

trn_isa.program @p {
  // expected-error @+1 {{psum input rule: at most one input of tensor_tensor may be in psum, lhs and rhs both are}}
  trn_isa.tensor_tensor add dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, lhs #trn_isa.ap<psum[0:128] + 0, [[1, 64]], f32>, rhs #trn_isa.ap<psum[0:128] + 2048, [[1, 64]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{bitvec rule: bitwise_xor needs integer dtypes, dst is f32}}
  trn_isa.tensor_tensor bitwise_xor dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, lhs #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], i32>, rhs #trn_isa.ap<sbuf[0:128] + 512, [[1, 64]], i32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{bitvec rule: shift_left needs integer dtypes, src is bf16}}
  trn_isa.tensor_scalar dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], i16>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], bf16>, op0 shift_left 1 on vector
}

// -----

// op1 without operand1 can only be written in generic form.
"trn_isa.program"() <{sym_name = "p"}> ({
  // expected-error @+1 {{tensor_scalar op1 rule: op1 and operand1 go together}}
  "trn_isa.tensor_scalar"() <{dst = #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src = #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, op0 = #trn_isa<alu add>, operand0 = 1.0 : f64, op1 = #trn_isa<alu mul>, engine = #trn_isa<engine vector>}> : () -> ()
}) : () -> ()

// -----

trn_isa.program @p {
  // expected-error @+1 {{reduce op rule: pow cannot reduce}}
  trn_isa.tensor_reduce pow dst #trn_isa.ap<sbuf[0:128] + 0, [], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32> on vector
}

// -----

trn_isa.program @p {
  // B.3: abs_max is an ALU op but not a reduction.
  // expected-error @+1 {{reduce op rule: abs_max cannot reduce}}
  trn_isa.tensor_reduce abs_max dst #trn_isa.ap<sbuf[0:128] + 0, [], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{engine rule: trn_isa.reciprocal runs on vector, got scalar}}
  trn_isa.reciprocal dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32> on scalar
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{element count mismatch: dst has 64 elements per partition but src has 32}}
  trn_isa.reciprocal dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 32]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{psum dtype rule: dst is bf16 in psum, which holds f32 or i32}}
  trn_isa.memset dst #trn_isa.ap<psum[0:128] + 0, [[1, 8]], bf16>, value 0.0 on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{reduce axes rule: axes = 2, src has 1 free dims}}
  trn_isa.tensor_reduce max dst #trn_isa.ap<sbuf[0:128] + 0, [], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32> {axes = 2 : i64} on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{element count mismatch: reducing the last 1 free dims of src leaves 4 elements per partition, dst has 1}}
  trn_isa.tensor_reduce max dst #trn_isa.ap<sbuf[0:128] + 0, [], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[64, 4], [1, 64]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{partition count mismatch: dst spans 64 partitions but src spans 128}}
  trn_isa.tensor_reduce max dst #trn_isa.ap<sbuf[0:64] + 0, [], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{memset value rule: 0.5 is not an integer, dst is i32}}
  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], i32>, value 0.5 on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{element count mismatch: pattern has 32 elements per partition but dst has 64}}
  trn_isa.iota dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], i32>, base 0, channel_multiplier 64, pattern [[1, 32]] on gpsimd
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{free-dim rule: pattern has 5 dims, at most 4}}
  trn_isa.iota dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 32]], i32>, base 0, channel_multiplier 64, pattern [[1, 2], [1, 2], [1, 2], [1, 2], [1, 2]] on gpsimd
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{count rule: pattern counts must be >= 1}}
  trn_isa.affine_select gt dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, base 0, channel_multiplier 1, pattern [[1, 0]], on_false 0.0 on gpsimd
}

// -----

// --- tensor_copy_predicated (trn1.md B.3) ----------------------------------------------------

trn_isa.program @p {
  // expected-error @+1 {{engine rule: trn_isa.tensor_copy_predicated runs on vector, got gpsimd}}
  trn_isa.tensor_copy_predicated dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, predicate #trn_isa.ap<sbuf[0:128] + 512, [[1, 64]], ui8> on gpsimd
}

// -----

// A bit-exact copy: no cast.
trn_isa.program @p {
  // expected-error @+1 {{copy dtype rule: a predicated copy is bit-exact, src is f32 but dst is bf16}}
  trn_isa.tensor_copy_predicated dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], bf16>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, predicate #trn_isa.ap<sbuf[0:128] + 512, [[1, 64]], ui8> on vector
}

// -----

// The predicate is an unsigned integer (B.3); an f32 mask must be cast to ui8 first.
trn_isa.program @p {
  // expected-error @+1 {{predicate dtype rule: predicate must be ui8, ui16, ui32, got f32}}
  trn_isa.tensor_copy_predicated dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, predicate #trn_isa.ap<sbuf[0:128] + 512, [[1, 64]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{predicate dtype rule: predicate must be ui8, ui16, ui32, got i8}}
  trn_isa.tensor_copy_predicated dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, predicate #trn_isa.ap<sbuf[0:128] + 512, [[1, 64]], i8> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{element count mismatch: dst has 64 elements per partition but predicate has 32}}
  trn_isa.tensor_copy_predicated dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, predicate #trn_isa.ap<sbuf[0:128] + 512, [[1, 32]], ui8> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{partition count mismatch: dst spans 128 partitions but src spans 64}}
  trn_isa.tensor_copy_predicated dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:64] + 256, [[1, 64]], f32>, predicate #trn_isa.ap<sbuf[0:128] + 512, [[1, 64]], ui8> on vector
}

// -----

// The predicate cannot be in psum (f32 or i32 only), so at most one input is.
trn_isa.program @p {
  // expected-error @+1 {{psum dtype rule: predicate is ui32 in psum, which holds f32 or i32}}
  trn_isa.tensor_copy_predicated dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<psum[0:128] + 0, [[1, 64]], f32>, predicate #trn_isa.ap<psum[0:128] + 2048, [[1, 64]], ui32> on vector
}

// -----

// --- DMA (trn1.md A.3) ---------------------------------------------------------------------

trn_isa.program @p {
  trn_isa.hbm_tensor @x : tensor<128x64xbf16> at 0 role input
  // expected-error @+1 {{dma cast rule: src is bf16 but dst is f32, mark the copy {cast}}}
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<hbm + 0, [[64, 128], [1, 64]], bf16> on dma0
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{dma cast rule: marked {cast} but both sides are f32}}
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32> {cast} on dma0
}

// -----

trn_isa.program @p {
  trn_isa.hbm_tensor @x : tensor<128x64xf32> at 0 role input
  // expected-error @+1 {{partition count mismatch: dst spans 64 partitions but src spans 128}}
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:64] + 0, [[1, 64]], f32>, src #trn_isa.ap<hbm + 0, [[64, 128], [1, 64]], f32> on dma0
}

// -----

// --- placement and the program (HBM tensors) --------------------------------------------------

// expected-error @+1 {{placement rule: instructions live directly in trn_isa.program, got parent builtin.module}}
trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, value 0.0 on vector

// -----

// expected-error @+1 {{'trn_isa.hbm_tensor' expects parent op 'trn_isa.program'}}
trn_isa.hbm_tensor @x : tensor<128x64xf32> at 0 role input

// -----

trn_isa.program @p {
  // expected-error @+1 {{dtype rule: @x has unsupported element type f64}}
  trn_isa.hbm_tensor @x : tensor<128x64xf64> at 0 role input
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{static shape rule: @x must have a static shape, got tensor<?x64xf32>}}
  trn_isa.hbm_tensor @x : tensor<?x64xf32> at 0 role input
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{hbm bounds rule: @x occupies bytes [17179869000, 17179901768), outside [0, 17179869184)}}
  trn_isa.hbm_tensor @x : tensor<128x64xf32> at 17179869000 role input
}

// -----

// expected-error @+1 {{hbm tensor name rule: @x is declared twice}}
trn_isa.program @p {
  trn_isa.hbm_tensor @x : tensor<128x64xf32> at 0 role input
  trn_isa.hbm_tensor @x : tensor<128x64xf32> at 65536 role output
}

// -----

// expected-error @+1 {{hbm overlap rule: @a at bytes [0, 32768) overlaps @b at bytes [16384, 49152)}}
trn_isa.program @p {
  trn_isa.hbm_tensor @b : tensor<128x64xf32> at 16384 role output
  trn_isa.hbm_tensor @a : tensor<128x64xf32> at 0 role input
}

// -----

// expected-error @+1 {{program layout rule: hbm_tensor @y must precede the first instruction (trn_isa.memset)}}
trn_isa.program @p {
  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, value 0.0 on vector
  trn_isa.hbm_tensor @y : tensor<128x64xf32> at 0 role output
}

// -----

// expected-error @+1 {{program content rule: a program holds hbm_tensor ops and instructions, got test.op}}
trn_isa.program @p {
  "test.op"() : () -> ()
}

// -----

// expected-error @+1 {{hbm access rule: src of trn_isa.dma_copy touches bytes [4, 32772), which lie inside no single hbm_tensor}}
trn_isa.program @p {
  trn_isa.hbm_tensor @x : tensor<128x64xf32> at 0 role input
  trn_isa.hbm_tensor @y : tensor<128x64xf32> at 32768 role input
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<hbm + 4, [[64, 128], [1, 64]], f32> on dma0
}

// -----

// expected-error @+1 {{hbm dtype mismatch: dst of trn_isa.dma_copy accesses @y as bf16, but it holds f32}}
trn_isa.program @p {
  trn_isa.hbm_tensor @y : tensor<128x64xf32> at 0 role output
  trn_isa.dma_copy dst #trn_isa.ap<hbm + 0, [[64, 128], [1, 64]], bf16>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], bf16> on dma3
}

// -----

// --- syntax errors ---------------------------------------------------------------------------

trn_isa.program @p {
  // expected-error @+1 {{expected a semaphore '<owner>.s<index>' (e.g. vector.s0, dma3.s1), got 'vector'}}
  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, value 0.0 on vector signal [vector]
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{partition range [64:32] ends before it starts}}
  trn_isa.memset dst #trn_isa.ap<sbuf[64:32] + 0, [[1, 64]], f32>, value 0.0 on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{an hbm access pattern needs its partition-mapped dim}}
  trn_isa.dma_copy dst #trn_isa.ap<hbm + 0, [], f32>, src #trn_isa.ap<sbuf[0:1] + 0, [], f32> on dma0
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{trn_isa.memset needs value}}
  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32> on vector
}

// -----

"trn_isa.program"() <{sym_name = "p"}> ({
  // expected-error @+1 {{Unexpected attribute "x"}}
  "trn_isa.activation"() <{func = #trn_isa<act exp>, dst = #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src = #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32>, scale = "x", engine = #trn_isa<engine scalar>}> : () -> ()
}) : () -> ()

// -----

trn_isa.program @p {
  // expected-error @+1 {{expected a dma queue 'dma<q>', got 'vector'}}
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], f32> on vector
}

// -----

trn_isa.program @p {
  // expected-error @+1 {{trn_isa.matmul has no property 'accumulat'}}
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16> {accumulat = true} on tensor
}

// -----

// --- indirect DMA (trn1.md A.3) --------------------------------------------------------

trn_isa.program @p {
  trn_isa.hbm_tensor @t : tensor<10x8xf32> at 0 role input
  // expected-error @+1 {{dma gather rule: dst and indices must be on chip and table in HBM, got dst in sbuf, table in sbuf, indices in sbuf}}
  trn_isa.dma_gather dst #trn_isa.ap<sbuf[0:4] + 64, [[1, 8]], f32>, table #trn_isa.ap<sbuf[0:10] + 0, [[1, 8]], f32>, indices #trn_isa.ap<sbuf[0:4] + 0, [], i32> on dma0
}

// -----

trn_isa.program @p {
  trn_isa.hbm_tensor @t : tensor<10x8xf32> at 0 role input
  // expected-error @+1 {{dma gather rule: indices must be one i32 per partition, got 1 x f32}}
  trn_isa.dma_gather dst #trn_isa.ap<sbuf[0:4] + 64, [[1, 8]], f32>, table #trn_isa.ap<hbm + 0, [[8, 10], [1, 8]], f32>, indices #trn_isa.ap<sbuf[0:4] + 0, [], f32> on dma0
}

// -----

trn_isa.program @p {
  trn_isa.hbm_tensor @t : tensor<10x8xf32> at 0 role input
  // expected-error @+1 {{dma gather rule: 2 indices for 4 dst partitions}}
  trn_isa.dma_gather dst #trn_isa.ap<sbuf[0:4] + 64, [[1, 8]], f32>, table #trn_isa.ap<hbm + 0, [[8, 10], [1, 8]], f32>, indices #trn_isa.ap<sbuf[0:2] + 0, [], i32> on dma0
}

// -----

trn_isa.program @p {
  trn_isa.hbm_tensor @t : tensor<10x8xf32> at 0 role input
  // expected-error @+1 {{dma gather rule: each table row must be contiguous (one free dim of step 1), got [(2, 4)]}}
  trn_isa.dma_gather dst #trn_isa.ap<sbuf[0:4] + 64, [[1, 4]], f32>, table #trn_isa.ap<hbm + 0, [[8, 10], [2, 4]], f32>, indices #trn_isa.ap<sbuf[0:4] + 0, [], i32> on dma0
}

// -----

trn_isa.program @p {
  trn_isa.hbm_tensor @t : tensor<10x8xf32> at 0 role input
  // expected-error @+1 {{dma gather rule: table rows have 8 elements, dst partitions 4}}
  trn_isa.dma_gather dst #trn_isa.ap<sbuf[0:4] + 64, [[1, 4]], f32>, table #trn_isa.ap<hbm + 0, [[8, 10], [1, 8]], f32>, indices #trn_isa.ap<sbuf[0:4] + 0, [], i32> on dma0
}

// -----

trn_isa.program @p {
  trn_isa.hbm_tensor @t : tensor<10x8xf32> at 0 role input
  // expected-error @+1 {{dma gather rule: table is f32 but dst is bf16 (no cast)}}
  trn_isa.dma_gather dst #trn_isa.ap<sbuf[0:4] + 64, [[1, 8]], bf16>, table #trn_isa.ap<hbm + 0, [[8, 10], [1, 8]], f32>, indices #trn_isa.ap<sbuf[0:4] + 0, [], i32> on dma0
}
