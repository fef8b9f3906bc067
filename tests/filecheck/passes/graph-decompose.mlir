// RUN: trn-opt %s -p graph-decompose | filecheck %s
// RUN: trn-opt %s -p 'graph-decompose{conv=false pool=false}' | filecheck %s --check-prefix=NOWIN
// RUN: trn-opt %s -p graph-decompose | trn-opt | filecheck %s

// graph-decompose: ops without a NeuronCore instruction become ops that lower directly,
// with the op's ONNX semantics, in the op's element type.

// CHECK-LABEL: func.func @softmax(
// CHECK-NEXT:    [[MAX:%.*]] = graph.reduce_max %x {axes = [1], keepdims = true} : tensor<2x8xf32> -> tensor<2x1xf32>
// CHECK-NEXT:    [[SHIFTED:%.*]] = graph.sub %x, [[MAX]] : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    [[EXP:%.*]] = graph.exp [[SHIFTED]] : tensor<2x8xf32>
// CHECK-NEXT:    [[SUM:%.*]] = graph.reduce_sum [[EXP]] {axes = [1], keepdims = true} : tensor<2x8xf32> -> tensor<2x1xf32>
// CHECK-NEXT:    [[R:%.*]] = graph.div [[EXP]], [[SUM]] : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    func.return [[R]] : tensor<2x8xf32>
func.func @softmax(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = graph.softmax %x {axis = -1} : tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// CHECK-LABEL: func.func @log_softmax(
// CHECK-NEXT:    [[MAX:%.*]] = graph.reduce_max %x {axes = [1], keepdims = true} : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
// CHECK-NEXT:    [[SHIFTED:%.*]] = graph.sub %x, [[MAX]]
// CHECK-NEXT:    [[EXP:%.*]] = graph.exp [[SHIFTED]] : tensor<2x3x4xf32>
// CHECK-NEXT:    [[SUM:%.*]] = graph.reduce_sum [[EXP]] {axes = [1], keepdims = true} : tensor<2x3x4xf32> -> tensor<2x1x4xf32>
// CHECK-NEXT:    [[LOG:%.*]] = graph.log [[SUM]] : tensor<2x1x4xf32>
// CHECK-NEXT:    [[R:%.*]] = graph.sub [[SHIFTED]], [[LOG]] : (tensor<2x3x4xf32>, tensor<2x1x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:    func.return [[R]]
func.func @log_softmax(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = graph.log_softmax %x {axis = 1} : tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// CHECK-LABEL: func.func @layer_norm(
// CHECK-NEXT:    [[MEAN:%.*]] = graph.reduce_mean %x {axes = [2], keepdims = true} : tensor<2x4x8xf32> -> tensor<2x4x1xf32>
// CHECK-NEXT:    [[C:%.*]] = graph.sub %x, [[MEAN]]
// CHECK-NEXT:    [[SQ:%.*]] = graph.mul [[C]], [[C]]
// CHECK-NEXT:    [[VAR:%.*]] = graph.reduce_mean [[SQ]] {axes = [2], keepdims = true} : tensor<2x4x8xf32> -> tensor<2x4x1xf32>
// CHECK-NEXT:    [[EPS:%.*]] = graph.constant dense<1.000000e-05> : tensor<f32>
// CHECK-NEXT:    [[VE:%.*]] = graph.add [[VAR]], [[EPS]] : (tensor<2x4x1xf32>, tensor<f32>) -> tensor<2x4x1xf32>
// CHECK-NEXT:    [[INV:%.*]] = graph.rsqrt [[VE]] : tensor<2x4x1xf32>
// CHECK-NEXT:    [[N:%.*]] = graph.mul [[C]], [[INV]]
// CHECK-NEXT:    [[S:%.*]] = graph.mul [[N]], %g : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT:    [[R:%.*]] = graph.add [[S]], %b : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT:    func.return [[R]]
func.func @layer_norm(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x4x8xf32> {
  %0 = graph.layer_norm %x, %g, %b {axis = -1, epsilon = 1.0e-05} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// Normalizing over two axes, no bias.
// CHECK-LABEL: func.func @layer_norm_two_axes(
// CHECK-NEXT:    graph.reduce_mean %x {axes = [1, 2], keepdims = true} : tensor<2x4x8xf32> -> tensor<2x1x1xf32>
// CHECK:         graph.reduce_mean %{{.*}} {axes = [1, 2], keepdims = true}
// CHECK-NEXT:    graph.constant dense<1.000000e-03> : tensor<f32>
// CHECK:         graph.rsqrt
// CHECK-NEXT:    graph.mul
// CHECK-NEXT:    [[R:%.*]] = graph.mul %{{.*}}, %g : (tensor<2x4x8xf32>, tensor<1x8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT:    func.return [[R]]
func.func @layer_norm_two_axes(%x: tensor<2x4x8xf32>, %g: tensor<1x8xf32>) -> tensor<2x4x8xf32> {
  %0 = graph.layer_norm %x, %g {axis = 1, epsilon = 1.0e-03} : (tensor<2x4x8xf32>, tensor<1x8xf32>) -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// Runtime parameters: the [C] vectors are combined, then reshaped to [C, 1, 1].
// CHECK-LABEL: func.func @batch_norm(
// CHECK-NEXT:    [[EPS:%.*]] = graph.constant dense<1.000000e-05> : tensor<f32>
// CHECK-NEXT:    [[VE:%.*]] = graph.add %v, [[EPS]] : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
// CHECK-NEXT:    [[INV:%.*]] = graph.rsqrt [[VE]] : tensor<4xf32>
// CHECK-NEXT:    [[MUL:%.*]] = graph.mul %s, [[INV]] : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    [[M:%.*]] = graph.reshape %m : tensor<4xf32> -> tensor<4x1x1xf32>
// CHECK-NEXT:    [[C:%.*]] = graph.sub %x, [[M]] : (tensor<1x4x5x5xf32>, tensor<4x1x1xf32>) -> tensor<1x4x5x5xf32>
// CHECK-NEXT:    [[MULR:%.*]] = graph.reshape [[MUL]] : tensor<4xf32> -> tensor<4x1x1xf32>
// CHECK-NEXT:    [[Y:%.*]] = graph.mul [[C]], [[MULR]]
// CHECK-NEXT:    [[B:%.*]] = graph.reshape %b : tensor<4xf32> -> tensor<4x1x1xf32>
// CHECK-NEXT:    [[R:%.*]] = graph.add [[Y]], [[B]] : (tensor<1x4x5x5xf32>, tensor<4x1x1xf32>) -> tensor<1x4x5x5xf32>
// CHECK-NEXT:    func.return [[R]]
func.func @batch_norm(%x: tensor<1x4x5x5xf32>, %s: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<1x4x5x5xf32> {
  %0 = graph.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-05} : (tensor<1x4x5x5xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32>
  return %0 : tensor<1x4x5x5xf32>
}

// Constant parameters: multiplier scale / sqrt(var + eps) = [1, 1] and shift
// bias - mean * multiplier = [0.5, -1.25] are folded.
// CHECK-LABEL: func.func @batch_norm_constant(
// CHECK:         [[MUL:%.*]] = graph.constant dense<1.000000e+00> : tensor<2x1xf32>
// CHECK-NEXT:    [[Y:%.*]] = graph.mul %x, [[MUL]] : (tensor<1x2x3xf32>, tensor<2x1xf32>) -> tensor<1x2x3xf32>
// CHECK-NEXT:    [[SHIFT:%.*]] = graph.constant dense<{{\[}}[5.000000e-01], [-1.250000e+00]]> : tensor<2x1xf32>
// CHECK-NEXT:    [[R:%.*]] = graph.add [[Y]], [[SHIFT]]
// CHECK-NEXT:    func.return [[R]]
func.func @batch_norm_constant(%x: tensor<1x2x3xf32>) -> tensor<1x2x3xf32> {
  %s = graph.constant dense<[2.0, 0.5]> : tensor<2xf32>
  %b = graph.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %m = graph.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %v = graph.constant dense<[4.0, 0.25]> : tensor<2xf32>
  %0 = graph.batch_norm %x, %s, %b, %m, %v {epsilon = 0.0} : (tensor<1x2x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3xf32>
  return %0 : tensor<1x2x3xf32>
}

// CHECK-LABEL: func.func @gemm(
// CHECK-NEXT:    [[BT:%.*]] = graph.transpose %b {perm = [1, 0]} : tensor<5x4xf32> -> tensor<4x5xf32>
// CHECK-NEXT:    [[MM:%.*]] = graph.matmul %a, [[BT]] : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
// CHECK-NEXT:    [[R:%.*]] = graph.add [[MM]], %c : (tensor<3x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>
// CHECK-NEXT:    func.return [[R]]
func.func @gemm(%a: tensor<3x4xf32>, %b: tensor<5x4xf32>, %c: tensor<5xf32>) -> tensor<3x5xf32> {
  %0 = graph.gemm %a, %b, %c {trans_b = true} : (tensor<3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// CHECK-LABEL: func.func @gemm_scaled(
// CHECK-NEXT:    [[AT:%.*]] = graph.transpose %a {perm = [1, 0]} : tensor<4x3xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    [[MM:%.*]] = graph.matmul [[AT]], %b
// CHECK-NEXT:    [[ALPHA:%.*]] = graph.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT:    [[Y:%.*]] = graph.mul [[MM]], [[ALPHA]]
// CHECK-NEXT:    [[BETA:%.*]] = graph.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:    [[C:%.*]] = graph.mul %c, [[BETA]]
// CHECK-NEXT:    [[R:%.*]] = graph.add [[Y]], [[C]]
// CHECK-NEXT:    func.return [[R]]
func.func @gemm_scaled(%a: tensor<4x3xf32>, %b: tensor<4x5xf32>, %c: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = graph.gemm %a, %b, %c {alpha = 0.5, beta = 2.0, trans_a = true} : (tensor<4x3xf32>, tensor<4x5xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// beta = 0 drops c entirely (as onnxruntime does: NaN in c does not propagate).
// CHECK-LABEL: func.func @gemm_beta_zero(
// CHECK-NEXT:    [[MM:%.*]] = graph.matmul %a, %b
// CHECK-NEXT:    func.return [[MM]]
func.func @gemm_beta_zero(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>, %c: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %0 = graph.gemm %a, %b, %c {beta = 0.0} : (tensor<3x4xf32>, tensor<4x5xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// An integer gemm with a fractional alpha scales in f64 and truncates back.
// CHECK-LABEL: func.func @gemm_int_fractional(
// CHECK-NEXT:    [[MM:%.*]] = graph.matmul %a, %b : (tensor<3x4xi32>, tensor<4x5xi32>) -> tensor<3x5xi32>
// CHECK-NEXT:    [[W:%.*]] = graph.cast [[MM]] : tensor<3x5xi32> -> tensor<3x5xf64>
// CHECK-NEXT:    [[ALPHA:%.*]] = graph.constant dense<5.000000e-01> : tensor<f64>
// CHECK-NEXT:    [[S:%.*]] = graph.mul [[W]], [[ALPHA]]
// CHECK-NEXT:    [[R:%.*]] = graph.cast [[S]] : tensor<3x5xf64> -> tensor<3x5xi32>
// CHECK-NEXT:    func.return [[R]]
func.func @gemm_int_fractional(%a: tensor<3x4xi32>, %b: tensor<4x5xi32>) -> tensor<3x5xi32> {
  %0 = graph.gemm %a, %b {alpha = 0.5} : (tensor<3x4xi32>, tensor<4x5xi32>) -> tensor<3x5xi32>
  return %0 : tensor<3x5xi32>
}

// CHECK-LABEL: func.func @leaky_relu(
// CHECK-NEXT:    [[A1:%.*]] = graph.constant dense<2.500000e-01> : tensor<f32>
// CHECK-NEXT:    [[S1:%.*]] = graph.mul %x, [[A1]]
// CHECK-NEXT:    [[R1:%.*]] = graph.max %x, [[S1]]
// CHECK-NEXT:    [[A2:%.*]] = graph.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:    [[S2:%.*]] = graph.mul %x, [[A2]]
// CHECK-NEXT:    [[R2:%.*]] = graph.min %x, [[S2]]
// CHECK-NEXT:    [[A3:%.*]] = graph.constant dense<-5.000000e-01> : tensor<f32>
// CHECK-NEXT:    [[S3:%.*]] = graph.mul %x, [[A3]]
// CHECK-NEXT:    [[ZERO:%.*]] = graph.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    [[NEG:%.*]] = graph.less %x, [[ZERO]] : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>
// CHECK-NEXT:    [[R3:%.*]] = graph.where [[NEG]], [[S3]], %x
// CHECK-NEXT:    func.return [[R1]], [[R2]], [[R3]]
func.func @leaky_relu(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = graph.leaky_relu %x {alpha = 0.25} : tensor<4xf32>
  %1 = graph.leaky_relu %x {alpha = 2.0} : tensor<4xf32>
  %2 = graph.leaky_relu %x {alpha = -0.5} : tensor<4xf32>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// CHECK-LABEL: func.func @hard_sigmoid(
// CHECK-NEXT:    [[ALPHA:%.*]] = graph.constant dense<2.000000e-01> : tensor<f32>
// CHECK-NEXT:    [[AX:%.*]] = graph.mul %x, [[ALPHA]]
// CHECK-NEXT:    [[BETA:%.*]] = graph.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT:    [[Y:%.*]] = graph.add [[AX]], [[BETA]]
// CHECK-NEXT:    [[ONE:%.*]] = graph.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    [[LO:%.*]] = graph.min [[Y]], [[ONE]]
// CHECK-NEXT:    [[ZERO:%.*]] = graph.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    [[R:%.*]] = graph.max [[LO]], [[ZERO]]
// CHECK-NEXT:    func.return [[R]]
func.func @hard_sigmoid(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.hard_sigmoid %x {alpha = 0.2, beta = 0.5} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// Bounds are constants of the input's type; integer bounds round inwards; a -inf
// lower bound and an upper bound that rounds to +inf in f16 clamp nothing.
// CHECK-LABEL: func.func @clip(
// CHECK-NEXT:    [[L0:%.*]] = graph.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    [[M0:%.*]] = graph.max %x, [[L0]]
// CHECK-NEXT:    [[H0:%.*]] = graph.constant dense<6.000000e+00> : tensor<f32>
// CHECK-NEXT:    [[R0:%.*]] = graph.min [[M0]], [[H0]]
// CHECK-NEXT:    [[L1:%.*]] = graph.constant dense<-2> : tensor<i32>
// CHECK-NEXT:    [[M1:%.*]] = graph.max %i, [[L1]]
// CHECK-NEXT:    [[H1:%.*]] = graph.constant dense<100> : tensor<i32>
// CHECK-NEXT:    [[R1:%.*]] = graph.min [[M1]], [[H1]]
// CHECK-NEXT:    func.return [[R0]], [[R1]], %x, %h
func.func @clip(%x: tensor<4xf32>, %i: tensor<4xi32>, %h: tensor<4xf16>) -> (tensor<4xf32>, tensor<4xi32>, tensor<4xf32>, tensor<4xf16>) {
  %0 = graph.clip %x {min = 0.0, max = 6.0} : tensor<4xf32>
  %1 = graph.clip %i {min = -2.5, max = 100.7} : tensor<4xi32>
  %2 = graph.clip %x {min = 0xFFF0000000000000 : f64} : tensor<4xf32>
  %3 = graph.clip %h {max = 1.0e+06} : tensor<4xf16>
  return %0, %1, %2, %3 : tensor<4xf32>, tensor<4xi32>, tensor<4xf32>, tensor<4xf16>
}

// A lower bound rounding to +inf would need a non-finite constant: the clip stays.
// CHECK-LABEL: func.func @clip_kept(
// CHECK-NEXT:    graph.clip %h {min = 1000000.0} : tensor<4xf16>
func.func @clip_kept(%h: tensor<4xf16>) -> tensor<4xf16> {
  %0 = graph.clip %h {min = 1.0e+06} : tensor<4xf16>
  return %0 : tensor<4xf16>
}

// CHECK-LABEL: func.func @neg(
// CHECK-NEXT:    [[M1:%.*]] = graph.constant dense<-1.000000e+00> : tensor<f32>
// CHECK-NEXT:    [[R0:%.*]] = graph.mul %x, [[M1]]
// CHECK-NEXT:    [[U1:%.*]] = graph.constant dense<255> : tensor<ui8>
// CHECK-NEXT:    [[R1:%.*]] = graph.mul %u, [[U1]] : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
// CHECK-NEXT:    func.return [[R0]], [[R1]]
func.func @neg(%x: tensor<4xf32>, %u: tensor<4xui8>) -> (tensor<4xf32>, tensor<4xui8>) {
  %0 = graph.neg %x : tensor<4xf32>
  %1 = graph.neg %u : tensor<4xui8>
  return %0, %1 : tensor<4xf32>, tensor<4xui8>
}

// CHECK-LABEL: func.func @global_avg_pool(
// CHECK-NEXT:    [[R:%.*]] = graph.reduce_mean %x {axes = [2, 3], keepdims = true} : tensor<1x8x5x5xf32> -> tensor<1x8x1x1xf32>
// CHECK-NEXT:    func.return [[R]]
func.func @global_avg_pool(%x: tensor<1x8x5x5xf32>) -> tensor<1x8x1x1xf32> {
  %0 = graph.global_avg_pool %x : tensor<1x8x5x5xf32> -> tensor<1x8x1x1xf32>
  return %0 : tensor<1x8x1x1xf32>
}

// Padding with f32's lowest value, then the max of the 4 strided tap slices.
// CHECK-LABEL: func.func @max_pool(
// CHECK-NEXT:    [[P1:%.*]] = graph.constant dense<-3.40282347e+38> : tensor<1x2x1x4xf32>
// CHECK-NEXT:    [[X1:%.*]] = graph.concat [[P1]], %x {axis = 2} : (tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x5x4xf32>
// CHECK-NEXT:    [[P2:%.*]] = graph.constant dense<-3.40282347e+38> : tensor<1x2x5x1xf32>
// CHECK-NEXT:    [[X2:%.*]] = graph.concat [[P2]], [[X1]] {axis = 3} : (tensor<1x2x5x1xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x5xf32>
// CHECK-NEXT:    [[T0:%.*]] = graph.slice [[X2]] {starts = [0, 0], ends = [3, 3], axes = [2, 3], steps = [2, 2]} : tensor<1x2x5x5xf32> -> tensor<1x2x2x2xf32>
// CHECK-NEXT:    [[T1:%.*]] = graph.slice [[X2]] {starts = [0, 1], ends = [3, 4], axes = [2, 3], steps = [2, 2]}
// CHECK-NEXT:    [[M1:%.*]] = graph.max [[T0]], [[T1]]
// CHECK-NEXT:    [[T2:%.*]] = graph.slice [[X2]] {starts = [1, 0], ends = [4, 3], axes = [2, 3], steps = [2, 2]}
// CHECK-NEXT:    [[M2:%.*]] = graph.max [[M1]], [[T2]]
// CHECK-NEXT:    [[T3:%.*]] = graph.slice [[X2]] {starts = [1, 1], ends = [4, 4], axes = [2, 3], steps = [2, 2]}
// CHECK-NEXT:    [[M3:%.*]] = graph.max [[M2]], [[T3]]
// CHECK-NEXT:    func.return [[M3]]
// NOWIN-LABEL: func.func @max_pool(
// NOWIN-NEXT:    graph.max_pool %x
func.func @max_pool(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %0 = graph.max_pool %x {kernel = [2, 2], strides = [2, 2], pads = [1, 1, 0, 0]} : tensor<1x2x4x4xf32> -> tensor<1x2x2x2xf32>
  return %0 : tensor<1x2x2x2xf32>
}

// count_include_pad = false with ceil_mode: the windows cover 2, 3 and 2 input elements.
// CHECK-LABEL: func.func @avg_pool(
// CHECK-NEXT:    [[Z:%.*]] = graph.constant dense<0.000000e+00> : tensor<1x2x1xf32>
// CHECK-NEXT:    [[P:%.*]] = graph.concat [[Z]], %x, [[Z]] {axis = 2} : (tensor<1x2x1xf32>, tensor<1x2x5xf32>, tensor<1x2x1xf32>) -> tensor<1x2x7xf32>
// CHECK-NEXT:    [[T0:%.*]] = graph.slice [[P]] {starts = [0], ends = [5], axes = [2], steps = [2]} : tensor<1x2x7xf32> -> tensor<1x2x3xf32>
// CHECK-NEXT:    [[T1:%.*]] = graph.slice [[P]] {starts = [1], ends = [6], axes = [2], steps = [2]}
// CHECK-NEXT:    [[S1:%.*]] = graph.add [[T0]], [[T1]]
// CHECK-NEXT:    [[T2:%.*]] = graph.slice [[P]] {starts = [2], ends = [7], axes = [2], steps = [2]}
// CHECK-NEXT:    [[S2:%.*]] = graph.add [[S1]], [[T2]]
// CHECK-NEXT:    [[D:%.*]] = graph.constant dense<[2.000000e+00, 3.000000e+00, 2.000000e+00]> : tensor<3xf32>
// CHECK-NEXT:    [[R:%.*]] = graph.div [[S2]], [[D]] : (tensor<1x2x3xf32>, tensor<3xf32>) -> tensor<1x2x3xf32>
// CHECK-NEXT:    func.return [[R]]
// NOWIN-LABEL: func.func @avg_pool(
// NOWIN-NEXT:    graph.avg_pool %x
func.func @avg_pool(%x: tensor<1x2x5xf32>) -> tensor<1x2x3xf32> {
  %0 = graph.avg_pool %x {kernel = [3], strides = [2], pads = [1, 1], ceil_mode = true} : tensor<1x2x5xf32> -> tensor<1x2x3xf32>
  return %0 : tensor<1x2x3xf32>
}

// count_include_pad = true: every window counts 3.
// CHECK-LABEL: func.func @avg_pool_include_pad(
// CHECK:         [[D:%.*]] = graph.constant dense<3.000000e+00> : tensor<f32>
// CHECK-NEXT:    graph.div %{{.*}}, [[D]] : (tensor<1x2x3xf32>, tensor<f32>) -> tensor<1x2x3xf32>
func.func @avg_pool_include_pad(%x: tensor<1x2x5xf32>) -> tensor<1x2x3xf32> {
  %0 = graph.avg_pool %x {kernel = [3], strides = [2], pads = [1, 1], count_include_pad = true} : tensor<1x2x5xf32> -> tensor<1x2x3xf32>
  return %0 : tensor<1x2x3xf32>
}

// Stride 2 and dilation 2 along H: tap kh reads rows 2 * kh, 2 * kh + 2 of the padded
// NHWC input; each tap is a matmul with its [C, O] weight slice, accumulated.
// CHECK-LABEL: func.func @conv2d(
// CHECK-NEXT:    [[NHWC:%.*]] = graph.transpose %x {perm = [0, 2, 3, 1]} : tensor<1x3x5x5xf32> -> tensor<1x5x5x3xf32>
// CHECK-NEXT:    [[Z:%.*]] = graph.constant dense<0.000000e+00> : tensor<1x1x5x3xf32>
// CHECK-NEXT:    [[P:%.*]] = graph.concat [[Z]], [[NHWC]] {axis = 1} : (tensor<1x1x5x3xf32>, tensor<1x5x5x3xf32>) -> tensor<1x6x5x3xf32>
// CHECK-NEXT:    [[W3:%.*]] = graph.reshape %w : tensor<4x3x2x1xf32> -> tensor<4x3x2xf32>
// CHECK-NEXT:    [[WT:%.*]] = graph.transpose [[W3]] {perm = [2, 1, 0]} : tensor<4x3x2xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:    [[X0:%.*]] = graph.slice [[P]] {starts = [0], ends = [3], axes = [1], steps = [2]} : tensor<1x6x5x3xf32> -> tensor<1x2x5x3xf32>
// CHECK-NEXT:    [[W0:%.*]] = graph.slice [[WT]] {starts = [0], ends = [1], axes = [0]} : tensor<2x3x4xf32> -> tensor<1x3x4xf32>
// CHECK-NEXT:    [[W0R:%.*]] = graph.reshape [[W0]] : tensor<1x3x4xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    [[MM0:%.*]] = graph.matmul [[X0]], [[W0R]] : (tensor<1x2x5x3xf32>, tensor<3x4xf32>) -> tensor<1x2x5x4xf32>
// CHECK-NEXT:    [[X1:%.*]] = graph.slice [[P]] {starts = [2], ends = [5], axes = [1], steps = [2]} : tensor<1x6x5x3xf32> -> tensor<1x2x5x3xf32>
// CHECK-NEXT:    [[W1:%.*]] = graph.slice [[WT]] {starts = [1], ends = [2], axes = [0]}
// CHECK-NEXT:    [[W1R:%.*]] = graph.reshape [[W1]] : tensor<1x3x4xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    [[MM1:%.*]] = graph.matmul [[X1]], [[W1R]]
// CHECK-NEXT:    [[ACC:%.*]] = graph.add [[MM0]], [[MM1]] : (tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x5x4xf32>
// CHECK-NEXT:    [[B:%.*]] = graph.add [[ACC]], %b : (tensor<1x2x5x4xf32>, tensor<4xf32>) -> tensor<1x2x5x4xf32>
// CHECK-NEXT:    [[R:%.*]] = graph.transpose [[B]] {perm = [0, 3, 1, 2]} : tensor<1x2x5x4xf32> -> tensor<1x4x2x5xf32>
// CHECK-NEXT:    func.return [[R]]
// NOWIN-LABEL: func.func @conv2d(
// NOWIN-NEXT:    graph.conv2d %x, %w, %b
func.func @conv2d(%x: tensor<1x3x5x5xf32>, %w: tensor<4x3x2x1xf32>, %b: tensor<4xf32>) -> tensor<1x4x2x5xf32> {
  %0 = graph.conv2d %x, %w, %b {strides = [2, 1], pads = [1, 0, 0, 0], dilations = [2, 1], groups = 1} : (tensor<1x3x5x5xf32>, tensor<4x3x2x1xf32>, tensor<4xf32>) -> tensor<1x4x2x5xf32>
  return %0 : tensor<1x4x2x5xf32>
}

// A 1x1 kernel in 2 groups: per group a channel slice, one matmul, then a concat.
// CHECK-LABEL: func.func @conv2d_1x1_groups(
// CHECK-NEXT:    [[NHWC:%.*]] = graph.transpose %x {perm = [0, 2, 3, 1]}
// CHECK-NEXT:    [[W3:%.*]] = graph.reshape %w : tensor<6x2x1x1xf32> -> tensor<6x2x1xf32>
// CHECK-NEXT:    [[WT:%.*]] = graph.transpose [[W3]] {perm = [2, 1, 0]} : tensor<6x2x1xf32> -> tensor<1x2x6xf32>
// CHECK-NEXT:    [[X0:%.*]] = graph.slice [[NHWC]] {starts = [0], ends = [2], axes = [3]} : tensor<2x3x3x4xf32> -> tensor<2x3x3x2xf32>
// CHECK-NEXT:    [[W0:%.*]] = graph.slice [[WT]] {starts = [0], ends = [3], axes = [2]} : tensor<1x2x6xf32> -> tensor<1x2x3xf32>
// CHECK-NEXT:    [[W0R:%.*]] = graph.reshape [[W0]] : tensor<1x2x3xf32> -> tensor<2x3xf32>
// CHECK-NEXT:    [[G0:%.*]] = graph.matmul [[X0]], [[W0R]] : (tensor<2x3x3x2xf32>, tensor<2x3xf32>) -> tensor<2x3x3x3xf32>
// CHECK-NEXT:    [[X1:%.*]] = graph.slice [[NHWC]] {starts = [2], ends = [4], axes = [3]}
// CHECK-NEXT:    [[W1:%.*]] = graph.slice [[WT]] {starts = [3], ends = [6], axes = [2]}
// CHECK-NEXT:    [[W1R:%.*]] = graph.reshape [[W1]]
// CHECK-NEXT:    [[G1:%.*]] = graph.matmul [[X1]], [[W1R]]
// CHECK-NEXT:    [[CAT:%.*]] = graph.concat [[G0]], [[G1]] {axis = 3} : (tensor<2x3x3x3xf32>, tensor<2x3x3x3xf32>) -> tensor<2x3x3x6xf32>
// CHECK-NEXT:    [[R:%.*]] = graph.transpose [[CAT]] {perm = [0, 3, 1, 2]} : tensor<2x3x3x6xf32> -> tensor<2x6x3x3xf32>
// CHECK-NEXT:    func.return [[R]]
func.func @conv2d_1x1_groups(%x: tensor<2x4x3x3xf32>, %w: tensor<6x2x1x1xf32>) -> tensor<2x6x3x3xf32> {
  %0 = graph.conv2d %x, %w {strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 1], groups = 2} : (tensor<2x4x3x3xf32>, tensor<6x2x1x1xf32>) -> tensor<2x6x3x3xf32>
  return %0 : tensor<2x6x3x3xf32>
}

// Depthwise: each tap multiplies all channels by their [C] weights.
// CHECK-LABEL: func.func @conv2d_depthwise(
// CHECK-NEXT:    [[NHWC:%.*]] = graph.transpose %x {perm = [0, 2, 3, 1]}
// CHECK-NEXT:    graph.reshape %w
// CHECK-NEXT:    [[WT:%.*]] = graph.transpose
// CHECK-NEXT:    [[X0:%.*]] = graph.slice [[NHWC]] {starts = [0], ends = [3], axes = [2]} : tensor<1x4x4x3xf32> -> tensor<1x4x3x3xf32>
// CHECK-NEXT:    [[W0:%.*]] = graph.slice [[WT]] {starts = [0], ends = [1], axes = [0]}
// CHECK-NEXT:    [[W0R:%.*]] = graph.reshape [[W0]] : tensor<1x1x3xf32> -> tensor<3xf32>
// CHECK-NEXT:    [[P0:%.*]] = graph.mul [[X0]], [[W0R]] : (tensor<1x4x3x3xf32>, tensor<3xf32>) -> tensor<1x4x3x3xf32>
// CHECK-NEXT:    [[X1:%.*]] = graph.slice [[NHWC]] {starts = [1], ends = [4], axes = [2]}
// CHECK-NEXT:    [[W1:%.*]] = graph.slice [[WT]] {starts = [1], ends = [2], axes = [0]}
// CHECK-NEXT:    [[W1R:%.*]] = graph.reshape [[W1]]
// CHECK-NEXT:    [[P1:%.*]] = graph.mul [[X1]], [[W1R]]
// CHECK-NEXT:    [[ACC:%.*]] = graph.add [[P0]], [[P1]]
// CHECK-NEXT:    [[R:%.*]] = graph.transpose [[ACC]] {perm = [0, 3, 1, 2]}
// CHECK-NEXT:    func.return [[R]]
// CHECK-NOT:     graph.matmul
func.func @conv2d_depthwise(%x: tensor<1x3x4x4xf32>, %w: tensor<3x1x1x2xf32>) -> tensor<1x3x4x3xf32> {
  %0 = graph.conv2d %x, %w {strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 1], groups = 3} : (tensor<1x3x4x4xf32>, tensor<3x1x1x2xf32>) -> tensor<1x3x4x3xf32>
  return %0 : tensor<1x3x4x3xf32>
}

// Ops that lower directly are left alone (dead ones too: that is graph-canonicalize's job).
// CHECK-LABEL: func.func @unchanged(
// CHECK-NEXT:    %0 = graph.matmul %a, %b
// CHECK-NEXT:    %1 = graph.relu %0
// CHECK-NEXT:    %2 = graph.gelu %1 {approximate = "tanh"}
// CHECK-NEXT:    %3 = graph.where %m, %2, %0
// CHECK-NEXT:    %4 = graph.reduce_sum %3 {axes = [1], keepdims = true}
// CHECK-NEXT:    %5 = graph.transpose %3 {perm = [1, 0]}
// CHECK-NEXT:    %dead = graph.tanh %a
// CHECK-NEXT:    func.return %5
func.func @unchanged(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %m: tensor<2x4xi1>) -> tensor<4x2xf32> {
  %0 = graph.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %1 = graph.relu %0 : tensor<2x4xf32>
  %2 = graph.gelu %1 {approximate = "tanh"} : tensor<2x4xf32>
  %3 = graph.where %m, %2, %0 : (tensor<2x4xi1>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %4 = graph.reduce_sum %3 {axes = [1], keepdims = true} : tensor<2x4xf32> -> tensor<2x1xf32>
  %5 = graph.transpose %3 {perm = [1, 0]} : tensor<2x4xf32> -> tensor<4x2xf32>
  %dead = graph.tanh %a : tensor<2x3xf32>
  return %5 : tensor<4x2xf32>
}
