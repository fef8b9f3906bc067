// RUN: trn-opt %s --split-input-file --verify-diagnostics

// One case per verifier rule of the `graph` dialect (and per IRDL-level constraint a user
// can break), each in its own chunk.

// Common rules.

func.func @operand_not_a_tensor(%x: f32) {
  // expected-error @+1 {{operand 'input' at position 0 does not verify}}
  %0 = graph.relu %x : f32
  return
}

// -----

func.func @static_shape(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{static shape rule: graph tensors must have static shapes, got tensor<?x4xf32>}}
  %0 = graph.relu %x : tensor<?x4xf32>
  return
}

// -----

func.func @element_type(%x: tensor<4xindex>) {
  // expected-error @+1 {{element type rule: graph tensors hold floats, i8/i16/i32/i64 (signed or unsigned) integers or i1, got index}}
  %0 = graph.relu %x : tensor<4xindex>
  return
}

// -----

func.func @float_element(%x: tensor<4xi32>) {
  // expected-error @+1 {{float element type rule: input must have a floating-point element type, got i32}}
  %0 = graph.exp %x : tensor<4xi32>
  return
}

// -----

func.func @numeric_element(%x: tensor<4xi1>) {
  // expected-error @+1 {{numeric element type rule: input must have a numeric (float or non-i1 integer) element type, got i1}}
  %0 = graph.relu %x : tensor<4xi1>
  return
}

// -----

func.func @element_mismatch(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{element type mismatch: lhs has f32 but rhs has f16}}
  %0 = graph.add %a, %b : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

func.func @result_shape(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{result shape mismatch: expected tensor<2x3xf32>, got tensor<3x2xf32>}}
  %0 = graph.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @result_element(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{result element type mismatch: expected tensor<2x3xf32>, got tensor<2x3xf16>}}
  %0 = graph.mul %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf16>
  return
}

// -----

func.func @unary_result(%x: tensor<4xf32>) {
  // expected-error @+1 {{result shape mismatch: expected tensor<4xf32>, got tensor<5xf32>}}
  %0 = graph.tanh %x : tensor<4xf32> -> tensor<5xf32>
  return
}

// -----

func.func @missing_property(%x: tensor<4xf32>) {
  // expected-error @+1 {{property 'axis' expected}}
  %0 = graph.softmax %x : tensor<4xf32>
  return
}

// -----

func.func @property_kind(%x: tensor<4xf32>) {
  // expected-error @+1 {{property kind rule: 'perm' of 'graph.transpose' must be a list of integers like [1, 2], got 1 : i64}}
  %0 = graph.transpose %x {perm = 1} : tensor<4xf32>
  return
}

// -----

func.func @generic_property_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{should be of base attribute integer}}
  %0 = "graph.softmax"(%x) <{axis = "last"}> : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// Elementwise.

func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{broadcast rule: shapes [2, 3], [4] are not broadcastable (dimension -1 has sizes 3 and 4)}}
  %0 = graph.sub %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @pow_exponent(%a: tensor<4xf32>, %b: tensor<4xi1>) {
  // expected-error @+1 {{numeric element type rule: rhs must have a numeric (float or non-i1 integer) element type, got i1}}
  %0 = graph.pow %a, %b : (tensor<4xf32>, tensor<4xi1>) -> tensor<4xf32>
  return
}

// -----

func.func @compare_result(%a: tensor<4xf32>) {
  // expected-error @+1 {{result element type mismatch: expected tensor<4xi1>, got tensor<4xf32>}}
  %0 = graph.less %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @where_condition(%c: tensor<4xf32>, %a: tensor<4xf32>) {
  // expected-error @+1 {{bool element type rule: condition must have an i1 element type, got f32}}
  %0 = graph.where %c, %a, %a : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @where_branches(%c: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xi32>) {
  // expected-error @+1 {{element type mismatch: x has f32 but y has i32}}
  %0 = graph.where %c, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<4xi32>) -> tensor<4xf32>
  return
}

// -----

func.func @gelu_approximate(%x: tensor<4xf32>) {
  // expected-error @+1 {{approximate rule: approximate must be "none" | "tanh", got "erf"}}
  %0 = graph.gelu %x {approximate = "erf"} : tensor<4xf32>
  return
}

// -----

func.func @cast_shape(%x: tensor<4xf32>) {
  // expected-error @+1 {{result shape mismatch: expected tensor<4xf16>, got tensor<8xf16>}}
  %0 = graph.cast %x : tensor<4xf32> -> tensor<8xf16>
  return
}

// -----

// Contractions.

func.func @matmul_rank(%a: tensor<f32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{matmul rank rule: operands must have rank >= 1, got lhs [] and rhs [4]}}
  %0 = graph.matmul %a, %b : (tensor<f32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{matmul contraction mismatch: lhs has K=3 but rhs has K=4}}
  %0 = graph.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x4x3xf32>, %b: tensor<5x3x6xf32>) {
  // expected-error @+1 {{broadcast rule: shapes [2], [5] are not broadcastable}}
  %0 = graph.matmul %a, %b : (tensor<2x4x3xf32>, tensor<5x3x6xf32>) -> tensor<2x4x6xf32>
  return
}

// -----

func.func @gemm_rank(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{gemm rank rule: A and B must be 2-D, got A [2, 3, 4] and B [4, 5]}}
  %0 = graph.gemm %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  return
}

// -----

func.func @gemm_contraction(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{gemm contraction mismatch: A has K=3 but B has K=4}}
  %0 = graph.gemm %a, %b {trans_a = true} : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @gemm_bias(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>, %c: tensor<3xf32>) {
  // expected-error @+1 {{gemm bias broadcast rule: C of shape [3] does not broadcast to [3, 5]}}
  %0 = graph.gemm %a, %b, %c : (tensor<3x4xf32>, tensor<4x5xf32>, tensor<3xf32>) -> tensor<3x5xf32>
  return
}

// -----

// Convolution and pooling.

func.func @conv_rank(%x: tensor<1x3x8xf32>, %w: tensor<4x3x3xf32>) {
  // expected-error @+1 {{conv2d rank rule: input and weight must be 4-D (NCHW, OIHW), got [1, 3, 8] and [4, 3, 3]}}
  %0 = graph.conv2d %x, %w {strides = [1], pads = [0, 0], dilations = [1], groups = 1} : (tensor<1x3x8xf32>, tensor<4x3x3xf32>) -> tensor<1x4x6xf32>
  return
}

// -----

func.func @conv_groups(%x: tensor<1x6x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{groups rule: groups must divide input channels 6 and output channels 4, got 3}}
  %0 = graph.conv2d %x, %w {strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 1], groups = 3} : (tensor<1x6x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_groups_positive(%x: tensor<1x6x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{groups rule: groups must be positive, got 0}}
  %0 = graph.conv2d %x, %w {strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 1], groups = 0} : (tensor<1x6x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<1x6x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{conv2d channel rule: weight has 2 input channels per group but input has 6 channels in 1 groups}}
  %0 = graph.conv2d %x, %w {strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 1], groups = 1} : (tensor<1x6x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{conv2d bias rule: bias must have shape [4], got [3]}}
  %0 = graph.conv2d %x, %w, %b {strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 1], groups = 1} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_strides_length(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{strides length rule: expected 2 values for 2 spatial dims, got [1]}}
  %0 = graph.conv2d %x, %w {strides = [1], pads = [0, 0, 0, 0], dilations = [1, 1], groups = 1} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_pads_length(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{pads length rule: expected 4 values for 2 spatial dims, got [1, 1]}}
  %0 = graph.conv2d %x, %w {strides = [1, 1], pads = [1, 1], dilations = [1, 1], groups = 1} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @conv_dilations_length(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{dilations length rule: expected 2 values for 2 spatial dims, got [1, 1, 1]}}
  %0 = graph.conv2d %x, %w {strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 1, 1], groups = 1} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_strides(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{strides rule: strides must be positive, got [0, 1]}}
  %0 = graph.conv2d %x, %w {strides = [0, 1], pads = [0, 0, 0, 0], dilations = [1, 1], groups = 1} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_dilations(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{dilations rule: dilations must be positive, got [1, 0]}}
  %0 = graph.conv2d %x, %w {strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 0], groups = 1} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_pads(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{pads rule: pads must be non-negative, got [0, -1, 0, 0]}}
  %0 = graph.conv2d %x, %w {strides = [1, 1], pads = [0, -1, 0, 0], dilations = [1, 1], groups = 1} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x5xf32>
  return
}

// -----

func.func @conv_kernel_fit(%x: tensor<1x3x4x4xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{kernel fit rule: dilated kernel extent 5 exceeds padded input size 4}}
  %0 = graph.conv2d %x, %w {strides = [1, 1], pads = [0, 0, 0, 0], dilations = [2, 2], groups = 1} : (tensor<1x3x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  return
}

// -----

func.func @conv_result(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{result shape mismatch: expected tensor<1x4x4x4xf32>, got tensor<1x4x3x3xf32>}}
  %0 = graph.conv2d %x, %w {strides = [2, 2], pads = [1, 1, 1, 1], dilations = [1, 1], groups = 1} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32>
  return
}

// -----

func.func @pool_rank(%x: tensor<8x8xf32>) {
  // expected-error @+1 {{pool rank rule: input must be N x C x spatial dims (rank >= 3), got [8, 8]}}
  %0 = graph.max_pool %x {kernel = [2], strides = [2], pads = [0, 0]} : tensor<8x8xf32> -> tensor<8x4xf32>
  return
}

// -----

func.func @pool_kernel_length(%x: tensor<1x2x8x8xf32>) {
  // expected-error @+1 {{kernel length rule: expected 2 values for 2 spatial dims, got [2]}}
  %0 = graph.avg_pool %x {kernel = [2], strides = [2, 2], pads = [0, 0, 0, 0]} : tensor<1x2x8x8xf32> -> tensor<1x2x4x4xf32>
  return
}

// -----

func.func @pool_kernel(%x: tensor<1x2x8x8xf32>) {
  // expected-error @+1 {{kernel rule: kernel must be positive, got [0, 2]}}
  %0 = graph.max_pool %x {kernel = [0, 2], strides = [2, 2], pads = [0, 0, 0, 0]} : tensor<1x2x8x8xf32> -> tensor<1x2x4x4xf32>
  return
}

// -----

func.func @pool_result(%x: tensor<1x2x7x7xf32>) {
  // expected-error @+1 {{result shape mismatch: expected tensor<1x2x4x4xf32>, got tensor<1x2x3x3xf32>}}
  %0 = graph.max_pool %x {kernel = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], ceil_mode = true} : tensor<1x2x7x7xf32> -> tensor<1x2x3x3xf32>
  return
}

// -----

func.func @avg_pool_float(%x: tensor<1x2x8x8xi32>) {
  // expected-error @+1 {{float element type rule: input must have a floating-point element type, got i32}}
  %0 = graph.avg_pool %x {kernel = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0]} : tensor<1x2x8x8xi32> -> tensor<1x2x4x4xi32>
  return
}

// -----

func.func @global_pool_rank(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{pool rank rule: input must be N x C x spatial dims (rank >= 3), got [4, 8]}}
  %0 = graph.global_avg_pool %x : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

// Normalization and reductions.

func.func @softmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{axis range rule: axis must be in [-2, 2), got 2}}
  %0 = graph.softmax %x {axis = 2} : tensor<2x3xf32>
  return
}

// -----

func.func @layer_norm_scale(%x: tensor<2x8x16xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{layer_norm scale rule: scale of shape [8] does not broadcast to the normalized shape [16]}}
  %0 = graph.layer_norm %x, %g {axis = -1, epsilon = 1.0e-05} : (tensor<2x8x16xf32>, tensor<8xf32>) -> tensor<2x8x16xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<2x8x16xf32>, %g: tensor<8x16xf32>, %b: tensor<2x16xf32>) {
  // expected-error @+1 {{layer_norm bias rule: bias of shape [2, 16] does not broadcast to the normalized shape [8, 16]}}
  %0 = graph.layer_norm %x, %g, %b {axis = 1, epsilon = 1.0e-05} : (tensor<2x8x16xf32>, tensor<8x16xf32>, tensor<2x16xf32>) -> tensor<2x8x16xf32>
  return
}

// -----

func.func @epsilon(%x: tensor<2x16xf32>, %g: tensor<16xf32>) {
  // expected-error @+1 {{epsilon rule: epsilon must be finite and non-negative, got -0.001}}
  %0 = graph.layer_norm %x, %g {axis = -1, epsilon = -1.0e-03} : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @batch_norm_rank(%x: tensor<4xf32>, %c: tensor<4xf32>) {
  // expected-error @+1 {{batch_norm rank rule: input must have rank >= 2, got [4]}}
  %0 = graph.batch_norm %x, %c, %c, %c, %c {epsilon = 1.0e-05} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @batch_norm_channels(%x: tensor<1x4x2x2xf32>, %c: tensor<4xf32>, %v: tensor<1x4xf32>) {
  // expected-error @+1 {{batch_norm channel rule: var must have shape [4] (the channel count), got [1, 4]}}
  %0 = graph.batch_norm %x, %c, %c, %c, %v {epsilon = 1.0e-05} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x4xf32>) -> tensor<1x4x2x2xf32>
  return
}

// -----

func.func @reduce_axes_range(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{axes range rule: axes must be in [-2, 2), got -3}}
  %0 = graph.reduce_sum %x {axes = [-3], keepdims = true} : tensor<2x3xf32> -> tensor<1x3xf32>
  return
}

// -----

func.func @reduce_axes_unique(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{axes uniqueness rule: axes must be distinct, got [1, -1]}}
  %0 = graph.reduce_max %x {axes = [1, -1], keepdims = false} : tensor<2x3xf32> -> tensor<2xf32>
  return
}

// -----

func.func @reduce_result(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{result shape mismatch: expected tensor<2x1xf32>, got tensor<2xf32>}}
  %0 = graph.reduce_mean %x {axes = [1], keepdims = true} : tensor<2x3xf32> -> tensor<2xf32>
  return
}

// -----

// Data movement.

func.func @transpose_perm(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{permutation rule: perm must be a permutation of [0, 3), got [0, 2, 2]}}
  %0 = graph.transpose %x {perm = [0, 2, 2]} : tensor<2x3x4xf32> -> tensor<2x4x4xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{reshape element count rule: [2, 3, 4] has 24 elements but [5, 5] has 25}}
  %0 = graph.reshape %x : tensor<2x3x4xf32> -> tensor<5x5xf32>
  return
}

// -----

func.func @reshape_element(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{result element type mismatch: expected tensor<6xf32>, got tensor<6xi32>}}
  %0 = graph.reshape %x : tensor<2x3xf32> -> tensor<6xi32>
  return
}

// -----

func.func @concat_empty() {
  // expected-error @+1 {{concat operand rule: at least one input is required, got 0}}
  %0 = graph.concat {axis = 0} : () -> tensor<4xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{concat rank rule: inputs must have equal ranks, got [2, 3] and [3]}}
  %0 = graph.concat %a, %b {axis = 0} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
  return
}

// -----

func.func @concat_shape(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+1 {{concat shape rule: inputs must agree outside axis 0, got [2, 3] and [2, 4]}}
  %0 = graph.concat %a, %b {axis = 0} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_element(%a: tensor<2x3xf32>, %b: tensor<2x3xf16>) {
  // expected-error @+1 {{element type mismatch: input #0 has f32 but input #1 has f16}}
  %0 = graph.concat %a, %b {axis = 0} : (tensor<2x3xf32>, tensor<2x3xf16>) -> tensor<4x3xf32>
  return
}

// -----

func.func @slice_step(%x: tensor<4x10xf32>) {
  // expected-error @+1 {{slice step rule: steps must be non-zero, got 0}}
  %0 = graph.slice %x {starts = [0], ends = [4], steps = [0]} : tensor<4x10xf32> -> tensor<4x10xf32>
  return
}

// -----

func.func @slice_lengths(%x: tensor<4x10xf32>) {
  // expected-error @+1 {{slice length rule: starts, ends, axes and steps must have equal lengths, got 2, 1, 2 and 2}}
  %0 = graph.slice %x {starts = [0, 0], ends = [4]} : tensor<4x10xf32> -> tensor<4x10xf32>
  return
}

// -----

func.func @slice_axes(%x: tensor<4x10xf32>) {
  // expected-error @+1 {{axes uniqueness rule: axes must be distinct, got [1, 1]}}
  %0 = graph.slice %x {starts = [0, 0], ends = [2, 2], axes = [1, 1]} : tensor<4x10xf32> -> tensor<4x2xf32>
  return
}

// -----

func.func @slice_result(%x: tensor<4x10xf32>) {
  // expected-error @+1 {{result shape mismatch: expected tensor<4x4xf32>, got tensor<4x3xf32>}}
  %0 = graph.slice %x {starts = [-1], ends = [-1000], axes = [1], steps = [-3]} : tensor<4x10xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @gather_rank(%d: tensor<f32>, %i: tensor<2xi64>) {
  // expected-error @+1 {{gather rank rule: data must have rank >= 1, got []}}
  %0 = graph.gather %d, %i {axis = 0} : (tensor<f32>, tensor<2xi64>) -> tensor<2xf32>
  return
}

// -----

func.func @gather_indices(%d: tensor<8x4xf32>, %i: tensor<2xf32>) {
  // expected-error @+1 {{gather index type rule: indices must be i32 or i64, got f32}}
  %0 = graph.gather %d, %i {axis = 0} : (tensor<8x4xf32>, tensor<2xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @gather_axis(%d: tensor<8x4xf32>, %i: tensor<2xi32>) {
  // expected-error @+1 {{axis range rule: axis must be in [-2, 2), got -3}}
  %0 = graph.gather %d, %i {axis = -3} : (tensor<8x4xf32>, tensor<2xi32>) -> tensor<2x4xf32>
  return
}

// -----

// Weights.

func.func @constant_type() {
  // expected-error @+1 {{constant type rule: value has type tensor<2xf32> but the result has type tensor<3xf32>}}
  %0 = "graph.constant"() <{value = dense<[1.0, 2.0]> : tensor<2xf32>}> : () -> tensor<3xf32>
  return
}

// -----

func.func @constant_value() {
  // expected-error @+1 {{expected a dense<...> or dense_resource<...> tensor value, got 1 : i64}}
  %0 = graph.constant 1 : i64
  return
}

// -----

func.func @weight_name() {
  // expected-error @+1 {{weight name rule: the weight name must be non-empty}}
  %0 = graph.weight "" from "w.bin" at 0 : tensor<4xf32>
  return
}

// -----

func.func @weight_file() {
  // expected-error @+1 {{weight file rule: the weights file path must be non-empty}}
  %0 = graph.weight "w" from "" at 0 : tensor<4xf32>
  return
}

// -----

func.func @weight_offset() {
  // expected-error @+1 {{weight offset rule: the byte offset must be non-negative, got -16}}
  %0 = graph.weight "w" from "w.bin" at -16 : tensor<4xf32>
  return
}

// -----

// An unterminated string literal before a long line is an error at once, not a hang
// (xDSL's string pattern backtracks exponentially).

func.func @unterminated_string(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{End of file reached before closing string literal.}}
  %0 = graph.conv2d %x, "%w {strides = [1, 1], pads = [1, 1], dilations = [1, 1], groups = 1} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}
