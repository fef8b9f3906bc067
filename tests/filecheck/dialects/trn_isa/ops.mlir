// RUN: trn-opt %s | trn-opt | filecheck %s
// RUN: trn-opt %s --print-op-generic | trn-opt | filecheck %s
// A pass pipeline anchored on trn_isa.program (isolated from above, a symbol).
// RUN: trn-opt %s --pass-pipeline='builtin.module(trn_isa.program(canonicalize))' | filecheck %s

// A realistic program: two tiles DMA'd in on two queues, a matmul into PSUM waiting on
// both DMA semaphores, a gelu PSUM -> SBUF waiting on the matmul, and the DMA out.

// CHECK-LABEL: trn_isa.program @mlp weights "mlp.npz" {
// CHECK-NEXT:    trn_isa.hbm_tensor @x : tensor<128x128xbf16> at 0 role input
// CHECK-NEXT:    trn_isa.hbm_tensor @w : tensor<128x512xbf16> at 32768 role weight
// CHECK-NEXT:    trn_isa.hbm_tensor @y : tensor<128x512xbf16> at 163840 role output
// CHECK-NEXT:    trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, src #trn_isa.ap<hbm + 0, [[128, 128], [1, 128]], bf16> on dma0 signal [dma0.s0]
// CHECK-NEXT:    trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16>, src #trn_isa.ap<hbm + 32768, [[512, 128], [1, 512]], bf16> on dma1 signal [dma1.s0]
// CHECK-NEXT:    trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16> {accumulate = false} on tensor wait [dma0.s0 >= 1, dma1.s0 >= 1] signal [tensor.s0]
// CHECK-NEXT:    trn_isa.activation gelu dst #trn_isa.ap<sbuf[0:128] + 1280, [[1, 512]], bf16>, src #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, scale 1.000000e+00 on scalar wait [tensor.s0 >= 1] signal [scalar.s0]
// CHECK-NEXT:    trn_isa.dma_copy dst #trn_isa.ap<hbm + 163840, [[512, 128], [1, 512]], bf16>, src #trn_isa.ap<sbuf[0:128] + 1280, [[1, 512]], bf16> on dma2 wait [scalar.s0 >= 1] signal [dma2.s0]
// CHECK-NEXT:  }
trn_isa.program @mlp weights "mlp.npz" {
  trn_isa.hbm_tensor @x : tensor<128x128xbf16> at 0 role input
  trn_isa.hbm_tensor @w : tensor<128x512xbf16> at 32768 role weight
  trn_isa.hbm_tensor @y : tensor<128x512xbf16> at 163840 role output
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, src #trn_isa.ap<hbm + 0, [[128, 128], [1, 128]], bf16> on dma0 signal [dma0.s0]
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16>, src #trn_isa.ap<hbm + 32768, [[512, 128], [1, 512]], bf16> on dma1 signal [dma1.s0]
  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, moving #trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16> {accumulate = false} on tensor wait [dma0.s0 >= 1, dma1.s0 >= 1] signal [tensor.s0]
  trn_isa.activation gelu dst #trn_isa.ap<sbuf[0:128] + 1280, [[1, 512]], bf16>, src #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, scale 1.0 on scalar wait [tensor.s0 >= 1] signal [scalar.s0]
  trn_isa.dma_copy dst #trn_isa.ap<hbm + 163840, [[512, 128], [1, 512]], bf16>, src #trn_isa.ap<sbuf[0:128] + 1280, [[1, 512]], bf16> on dma2 wait [scalar.s0 >= 1] signal [dma2.s0]
}

// Every instruction in its other forms.

// CHECK-LABEL: trn_isa.program @all_ops {
// CHECK-NEXT:    trn_isa.hbm_tensor @a : tensor<64x256xf32> at 0 role input
// CHECK-NEXT:    trn_isa.hbm_tensor @b : tensor<64x256xbf16> at 65536 role scratch
// CHECK-NEXT:    trn_isa.dma_copy dst #trn_isa.ap<sbuf[64:128] + 0, [[1, 256]], f32>, src #trn_isa.ap<hbm + 0, [[256, 64], [1, 256]], f32> on dma15 signal [dma15.s3]
// CHECK-NEXT:    trn_isa.dma_copy dst #trn_isa.ap<hbm + 65536, [[256, 64], [1, 256]], bf16>, src #trn_isa.ap<sbuf[64:128] + 0, [[1, 256]], f32> {cast} on dma4 wait [dma15.s3 >= 1]
// CHECK-NEXT:    trn_isa.matmul dst #trn_isa.ap<psum[0:32] + 2048, [[1, 256]], f32>, stationary #trn_isa.ap<sbuf[64:128] + 0, [[1, 32]], f32>, moving #trn_isa.ap<sbuf[64:128] + 0, [[1, 256]], f32> {accumulate = true} on tensor wait [dma15.s3 >= 1]
// CHECK-NEXT:    trn_isa.transpose dst #trn_isa.ap<psum[0:128] + 4096, [[1, 64]], f32>, src #trn_isa.ap<sbuf[64:128] + 0, [[1, 128]], f32> on tensor
// CHECK-NEXT:    trn_isa.activation exp dst #trn_isa.ap<sbuf[0:128] + 4096, [[2, 32]], bf16>, src #trn_isa.ap<psum[0:128] + 4096, [[1, 32]], f32>, scale #trn_isa.ap<sbuf[0:128] + 8192, [], f32>, bias #trn_isa.ap<sbuf[0:128] + 8196, [], f32>, accum #trn_isa.ap<sbuf[0:128] + 8200, [], f32> on scalar
// CHECK-NEXT:    trn_isa.activation relu dst #trn_isa.ap<sbuf[0:128] + 4096, [[1, 64]], bf16>, src #trn_isa.ap<psum[0:128] + 4096, [[1, 64]], f32> on scalar
// CHECK-NEXT:    trn_isa.tensor_tensor add dst #trn_isa.ap<sbuf[0:128] + 0, [[16, 4], [1, 16]], bf16>, lhs #trn_isa.ap<sbuf[0:128] + 512, [[1, 64]], bf16>, rhs #trn_isa.ap<psum[0:128] + 0, [[1, 64]], f32> on vector
// CHECK-NEXT:    trn_isa.tensor_tensor bitwise_and dst #trn_isa.ap<sbuf[0:32] + 0, [[1, 64]], i32>, lhs #trn_isa.ap<sbuf[32:64] + 0, [[1, 64]], i32>, rhs #trn_isa.ap<sbuf[96:128] + 0, [[1, 64]], ui32> on gpsimd
// CHECK-NEXT:    trn_isa.tensor_scalar dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32>, op0 mul 2.500000e-01 on vector
// CHECK-NEXT:    trn_isa.tensor_scalar dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32>, src #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, op0 sub #trn_isa.ap<sbuf[0:128] + 4096, [], f32>, op1 max 0.000000e+00 on scalar
// CHECK-NEXT:    trn_isa.tensor_reduce max dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 4]], f32>, src #trn_isa.ap<sbuf[0:128] + 64, [[128, 4], [1, 128]], f32> {axes = 1 : i64, negate = true} on vector signal [vector.s1]
// CHECK-NEXT:    trn_isa.tensor_reduce add dst #trn_isa.ap<sbuf[0:128] + 0, [], f32>, src #trn_isa.ap<sbuf[0:128] + 64, [[128, 4], [1, 128]], f32> {axes = 2 : i64, negate = false} on vector
// CHECK-NEXT:    trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], bf16>, src #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32> on vector wait [vector.s1 >= 1]
// CHECK-NEXT:    trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f8E4M3FN>, src #trn_isa.ap<sbuf[0:128] + 1024, [[-1, 512]], f8E5M2> on gpsimd
// CHECK-NEXT:    trn_isa.tensor_copy_predicated dst #trn_isa.ap<psum[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, predicate #trn_isa.ap<sbuf[0:128] + 512, [[2, 64]], ui8> on vector
// CHECK-NEXT:    trn_isa.tensor_copy_predicated dst #trn_isa.ap<sbuf[0:64] + 0, [[8, 4], [1, 8]], bf16>, src #trn_isa.ap<sbuf[64:128] + 256, [[1, 32]], bf16>, predicate #trn_isa.ap<sbuf[0:64] + 1024, [[1, 32]], ui32> on vector wait [gpsimd.s0 >= 1] signal [vector.s2]
// CHECK-NEXT:    trn_isa.reciprocal dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32>, src #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32> on vector
// CHECK-NEXT:    trn_isa.tensor_scalar dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], i32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], ui32>, op0 shift_left 2.000000e+00, op1 logical_shift_right 1.000000e+00 on vector
// CHECK-NEXT:    trn_isa.tensor_tensor invert dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], i16>, lhs #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], i16>, rhs #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], i16> on vector
// CHECK-NEXT:    trn_isa.memset dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, value 0.000000e+00 on vector
// CHECK-NEXT:    trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], i16>, value -3.000000e+00 on gpsimd
// CHECK-NEXT:    trn_isa.iota dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], i32>, base 7, channel_multiplier 512, pattern [[1, 512]] on gpsimd signal [gpsimd.s0]
// CHECK-NEXT:    trn_isa.affine_select ge dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f32>, src #trn_isa.ap<sbuf[0:128] + 512, [[1, 128]], f32>, base 0, channel_multiplier 1, pattern [[-1, 128]], on_false -inf on gpsimd wait [gpsimd.s0 >= 1]
// CHECK-NEXT:  }
trn_isa.program @all_ops {
  trn_isa.hbm_tensor @a : tensor<64x256xf32> at 0 role input
  trn_isa.hbm_tensor @b : tensor<64x256xbf16> at 65536 role scratch
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[64:128] + 0, [[1, 256]], f32>, src #trn_isa.ap<hbm + 0, [[256, 64], [1, 256]], f32> on dma15 signal [dma15.s3]
  trn_isa.dma_copy dst #trn_isa.ap<hbm + 65536, [[256, 64], [1, 256]], bf16>, src #trn_isa.ap<sbuf[64:128], [[1, 256]], f32> {cast} on dma4 wait [dma15.s3 >= 1]
  trn_isa.matmul dst #trn_isa.ap<psum[0:32] + 2048, [[1, 256]], f32>, stationary #trn_isa.ap<sbuf[64:128] + 0, [[1, 32]], f32>, moving #trn_isa.ap<sbuf[64:128] + 0, [[1, 256]], f32> {accumulate = true} on tensor wait [dma15.s3 >= 1]
  trn_isa.transpose dst #trn_isa.ap<psum[0:128] + 4096, [[1, 64]], f32>, src #trn_isa.ap<sbuf[64:128] + 0, [[1, 128]], f32> on tensor
  trn_isa.activation exp dst #trn_isa.ap<sbuf[0:128] + 4096, [[2, 32]], bf16>, src #trn_isa.ap<psum[0:128] + 4096, [[1, 32]], f32>, scale #trn_isa.ap<sbuf[0:128] + 8192, [], f32>, bias #trn_isa.ap<sbuf[0:128] + 8196, [], f32>, accum #trn_isa.ap<sbuf[0:128] + 8200, [], f32> on scalar
  trn_isa.activation relu dst #trn_isa.ap<sbuf[0:128] + 4096, [[1, 64]], bf16>, src #trn_isa.ap<psum[0:128] + 4096, [[1, 64]], f32> on scalar
  trn_isa.tensor_tensor add dst #trn_isa.ap<sbuf[0:128] + 0, [[16, 4], [1, 16]], bf16>, lhs #trn_isa.ap<sbuf[0:128] + 512, [[1, 64]], bf16>, rhs #trn_isa.ap<psum[0:128] + 0, [[1, 64]], f32> on vector
  trn_isa.tensor_tensor bitwise_and dst #trn_isa.ap<sbuf[0:32] + 0, [[1, 64]], i32>, lhs #trn_isa.ap<sbuf[32:64] + 0, [[1, 64]], i32>, rhs #trn_isa.ap<sbuf[96:128] + 0, [[1, 64]], ui32> on gpsimd
  trn_isa.tensor_scalar dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32>, op0 mul 0.25 on vector
  trn_isa.tensor_scalar dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32>, src #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, op0 sub #trn_isa.ap<sbuf[0:128] + 4096, [], f32>, op1 max 0 on scalar
  trn_isa.tensor_reduce max dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 4]], f32>, src #trn_isa.ap<sbuf[0:128] + 64, [[128, 4], [1, 128]], f32> {axes = 1 : i64, negate = true} on vector signal [vector.s1]
  trn_isa.tensor_reduce add dst #trn_isa.ap<sbuf[0:128] + 0, [], f32>, src #trn_isa.ap<sbuf[0:128] + 64, [[128, 4], [1, 128]], f32> {axes = 2 : i64, negate = false} on vector
  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], bf16>, src #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32> on vector wait [vector.s1 >= 1]
  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f8E4M3FN>, src #trn_isa.ap<sbuf[0:128] + 1024, [[-1, 512]], f8E5M2> on gpsimd
  trn_isa.tensor_copy_predicated dst #trn_isa.ap<psum[0:128] + 0, [[1, 64]], f32>, src #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], f32>, predicate #trn_isa.ap<sbuf[0:128] + 512, [[2, 64]], ui8> on vector
  trn_isa.tensor_copy_predicated predicate #trn_isa.ap<sbuf[0:64] + 1024, [[1, 32]], ui32>, dst #trn_isa.ap<sbuf[0:64] + 0, [[8, 4], [1, 8]], bf16>, src #trn_isa.ap<sbuf[64:128] + 256, [[1, 32]], bf16> on vector wait [gpsimd.s0 >= 1] signal [vector.s2]
  trn_isa.reciprocal dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], f32>, src #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32> on vector
  trn_isa.tensor_scalar dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], i32>, src #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], ui32>, op0 shift_left 2, op1 logical_shift_right 1 on vector
  trn_isa.tensor_tensor invert dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], i16>, lhs #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], i16>, rhs #trn_isa.ap<sbuf[0:128] + 256, [[1, 64]], i16> on vector
  trn_isa.memset dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>, value 0.0 on vector
  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], i16>, value -3 on gpsimd
  trn_isa.iota dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 512]], i32>, base 7, channel_multiplier 512, pattern [[1, 512]] on gpsimd signal [gpsimd.s0]
  trn_isa.affine_select ge dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f32>, src #trn_isa.ap<sbuf[0:128] + 512, [[1, 128]], f32>, base 0, channel_multiplier 1, pattern [[-1, 128]], on_false -inf on gpsimd wait [gpsimd.s0 >= 1]
}

// An empty program.

// CHECK-LABEL: trn_isa.program @empty {
// CHECK-NEXT:  }
trn_isa.program @empty {
}

// The indirect DMA (trn1.md A.3): partition p of dst gets row ids[p] of the table. (The
// second gather races with the first on dst: verifying does not check races.)

// CHECK-LABEL: trn_isa.program @gather {
// CHECK-NEXT:    trn_isa.hbm_tensor @ids : tensor<128x1xi32> at 0 role input
// CHECK-NEXT:    trn_isa.hbm_tensor @table : tensor<1000x64xbf16> at 512 role weight
// CHECK-NEXT:    trn_isa.hbm_tensor @big : tensor<250002x64xbf16> at 128512 role weight
// CHECK-NEXT:    trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 1]], i32>, src #trn_isa.ap<hbm + 0, [[1, 128], [1, 1]], i32> on dma0 signal [dma0.s0]
// CHECK-NEXT:    trn_isa.dma_gather dst #trn_isa.ap<sbuf[0:128] + 64, [[1, 64]], bf16>, table #trn_isa.ap<hbm + 512, [[64, 1000], [1, 64]], bf16>, indices #trn_isa.ap<sbuf[0:128] + 0, [], i32> on dma3 wait [dma0.s0 >= 1] signal [dma3.s0]
// CHECK-NEXT:    trn_isa.dma_gather dst #trn_isa.ap<sbuf[0:128] + 64, [[1, 64]], bf16>, table #trn_isa.ap<hbm + 128512, [[64, 250002], [1, 64]], bf16>, indices #trn_isa.ap<sbuf[0:128] + 0, [], i32> on dma4 wait [dma0.s0 >= 1]
// CHECK-NEXT:  }
trn_isa.program @gather {
  trn_isa.hbm_tensor @ids : tensor<128x1xi32> at 0 role input
  trn_isa.hbm_tensor @table : tensor<1000x64xbf16> at 512 role weight
  trn_isa.hbm_tensor @big : tensor<250002x64xbf16> at 128512 role weight
  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 1]], i32>, src #trn_isa.ap<hbm + 0, [[1, 128], [1, 1]], i32> on dma0 signal [dma0.s0]
  trn_isa.dma_gather dst #trn_isa.ap<sbuf[0:128] + 64, [[1, 64]], bf16>, table #trn_isa.ap<hbm + 512, [[64, 1000], [1, 64]], bf16>, indices #trn_isa.ap<sbuf[0:128] + 0, [], i32> on dma3 wait [dma0.s0 >= 1] signal [dma3.s0]
  // A table's row count only bounds the run-time indices: it may pass the uint16 count rule.
  trn_isa.dma_gather dst #trn_isa.ap<sbuf[0:128] + 64, [[1, 64]], bf16>, table #trn_isa.ap<hbm + 128512, [[64, 250002], [1, 64]], bf16>, indices #trn_isa.ap<sbuf[0:128] + 0, [], i32> on dma4 wait [dma0.s0 >= 1]
}
