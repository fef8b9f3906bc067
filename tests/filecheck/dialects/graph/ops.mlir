// RUN: trn-opt %s | trn-opt | filecheck %s
// RUN: trn-opt %s --print-op-generic | trn-opt | filecheck %s

// Every op of the `graph` dialect, in its custom syntax; the second RUN line checks that
// the generic form round-trips to the same custom form.

// CHECK-LABEL: func.func @contractions(
func.func @contractions(%a: tensor<2x64x128xf32>, %b: tensor<128x256xf32>, %v: tensor<128xf32>, %g: tensor<8x768xbf16>, %gw: tensor<3072x768xbf16>, %gc: tensor<3072xbf16>, %ga: tensor<768x8xbf16>) -> tensor<2x64x256xf32> {
  // CHECK-NEXT: [[V0:%.*]] = graph.matmul %a, %b : (tensor<2x64x128xf32>, tensor<128x256xf32>) -> tensor<2x64x256xf32>
  %0 = graph.matmul %a, %b : (tensor<2x64x128xf32>, tensor<128x256xf32>) -> tensor<2x64x256xf32>
  // CHECK-NEXT: [[V1:%.*]] = graph.matmul %a, %v : (tensor<2x64x128xf32>, tensor<128xf32>) -> tensor<2x64xf32>
  %1 = graph.matmul %a, %v : (tensor<2x64x128xf32>, tensor<128xf32>) -> tensor<2x64xf32>
  // CHECK-NEXT: [[V2:%.*]] = graph.matmul %v, %v : (tensor<128xf32>, tensor<128xf32>) -> tensor<f32>
  %2 = graph.matmul %v, %v : (tensor<128xf32>, tensor<128xf32>) -> tensor<f32>
  // CHECK-NEXT: [[V3:%.*]] = graph.gemm %g, %gw, %gc {trans_b = true} : (tensor<8x768xbf16>, tensor<3072x768xbf16>, tensor<3072xbf16>) -> tensor<8x3072xbf16>
  %3 = graph.gemm %g, %gw, %gc {trans_b = true} : (tensor<8x768xbf16>, tensor<3072x768xbf16>, tensor<3072xbf16>) -> tensor<8x3072xbf16>
  // CHECK-NEXT: [[V4:%.*]] = graph.gemm %ga, %gw {alpha = 0.5, beta = 2.0, trans_a = true, trans_b = true} : (tensor<768x8xbf16>, tensor<3072x768xbf16>) -> tensor<8x3072xbf16>
  %4 = graph.gemm %ga, %gw {alpha = 0.5, beta = 2.0, trans_a = true, trans_b = true} : (tensor<768x8xbf16>, tensor<3072x768xbf16>) -> tensor<8x3072xbf16>
  // CHECK-NEXT: func.return [[V0]] : tensor<2x64x256xf32>
  return %0 : tensor<2x64x256xf32>
}

// CHECK-LABEL: func.func @windows(
func.func @windows(%x: tensor<1x3x224x224xf32>, %w: tensor<64x3x7x7xf32>, %b: tensor<64xf32>, %dw: tensor<64x1x3x3xf32>, %p: tensor<1x64x112x112xf32>) -> tensor<1x64x112x112xf32> {
  // CHECK-NEXT: [[V0:%.*]] = graph.conv2d %x, %w, %b {strides = [2, 2], pads = [3, 3, 3, 3], dilations = [1, 1], groups = 1} : (tensor<1x3x224x224xf32>, tensor<64x3x7x7xf32>, tensor<64xf32>) -> tensor<1x64x112x112xf32>
  %0 = graph.conv2d %x, %w, %b {strides = [2, 2], pads = [3, 3, 3, 3], dilations = [1, 1], groups = 1} : (tensor<1x3x224x224xf32>, tensor<64x3x7x7xf32>, tensor<64xf32>) -> tensor<1x64x112x112xf32>
  // CHECK-NEXT: [[V1:%.*]] = graph.conv2d %p, %dw {strides = [1, 1], pads = [2, 2, 2, 2], dilations = [2, 2], groups = 64} : (tensor<1x64x112x112xf32>, tensor<64x1x3x3xf32>) -> tensor<1x64x112x112xf32>
  %1 = graph.conv2d %p, %dw {strides = [1, 1], pads = [2, 2, 2, 2], dilations = [2, 2], groups = 64} : (tensor<1x64x112x112xf32>, tensor<64x1x3x3xf32>) -> tensor<1x64x112x112xf32>
  // CHECK-NEXT: [[V2:%.*]] = graph.max_pool %p {kernel = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1]} : tensor<1x64x112x112xf32> -> tensor<1x64x56x56xf32>
  %2 = graph.max_pool %p {kernel = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1]} : tensor<1x64x112x112xf32> -> tensor<1x64x56x56xf32>
  // CHECK-NEXT: [[V3:%.*]] = graph.max_pool %p {kernel = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [2, 2], ceil_mode = true} : tensor<1x64x112x112xf32> -> tensor<1x64x56x56xf32>
  %3 = graph.max_pool %p {kernel = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [2, 2], ceil_mode = true} : tensor<1x64x112x112xf32> -> tensor<1x64x56x56xf32>
  // CHECK-NEXT: [[V4:%.*]] = graph.avg_pool %p {kernel = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1], ceil_mode = true, count_include_pad = true} : tensor<1x64x112x112xf32> -> tensor<1x64x57x57xf32>
  %4 = graph.avg_pool %p {kernel = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1], ceil_mode = true, count_include_pad = true} : tensor<1x64x112x112xf32> -> tensor<1x64x57x57xf32>
  // CHECK-NEXT: graph.avg_pool %p {kernel = [3, 3], strides = [1, 1], pads = [0, 0, 0, 0], dilations = [2, 2]} : tensor<1x64x112x112xf32> -> tensor<1x64x108x108xf32>
  %dilated = graph.avg_pool %p {kernel = [3, 3], strides = [1, 1], pads = [0, 0, 0, 0], dilations = [2, 2]} : tensor<1x64x112x112xf32> -> tensor<1x64x108x108xf32>
  // CHECK-NEXT: [[V5:%.*]] = graph.global_avg_pool %p : tensor<1x64x112x112xf32> -> tensor<1x64x1x1xf32>
  %5 = graph.global_avg_pool %p : tensor<1x64x112x112xf32> -> tensor<1x64x1x1xf32>
  // CHECK-NEXT: func.return [[V0]] : tensor<1x64x112x112xf32>
  return %0 : tensor<1x64x112x112xf32>
}

// CHECK-LABEL: func.func @binary(
func.func @binary(%a: tensor<2x64x256xf32>, %b: tensor<256xf32>, %c: tensor<2x1x256xf32>, %i: tensor<4x1xi32>, %j: tensor<5xi32>) -> tensor<2x64x256xf32> {
  // CHECK-NEXT: [[V0:%.*]] = graph.add %a, %b : (tensor<2x64x256xf32>, tensor<256xf32>) -> tensor<2x64x256xf32>
  %0 = graph.add %a, %b : (tensor<2x64x256xf32>, tensor<256xf32>) -> tensor<2x64x256xf32>
  // CHECK-NEXT: [[V1:%.*]] = graph.sub %c, %a : (tensor<2x1x256xf32>, tensor<2x64x256xf32>) -> tensor<2x64x256xf32>
  %1 = graph.sub %c, %a : (tensor<2x1x256xf32>, tensor<2x64x256xf32>) -> tensor<2x64x256xf32>
  // CHECK-NEXT: [[V2:%.*]] = graph.mul %a, %a : (tensor<2x64x256xf32>, tensor<2x64x256xf32>) -> tensor<2x64x256xf32>
  %2 = graph.mul %a, %a : (tensor<2x64x256xf32>, tensor<2x64x256xf32>) -> tensor<2x64x256xf32>
  // CHECK-NEXT: [[V3:%.*]] = graph.div %i, %j : (tensor<4x1xi32>, tensor<5xi32>) -> tensor<4x5xi32>
  %3 = graph.div %i, %j : (tensor<4x1xi32>, tensor<5xi32>) -> tensor<4x5xi32>
  // CHECK-NEXT: [[V4:%.*]] = graph.pow %a, %b : (tensor<2x64x256xf32>, tensor<256xf32>) -> tensor<2x64x256xf32>
  %4 = graph.pow %a, %b : (tensor<2x64x256xf32>, tensor<256xf32>) -> tensor<2x64x256xf32>
  // CHECK-NEXT: [[V5:%.*]] = graph.max %a, %c : (tensor<2x64x256xf32>, tensor<2x1x256xf32>) -> tensor<2x64x256xf32>
  %5 = graph.max %a, %c : (tensor<2x64x256xf32>, tensor<2x1x256xf32>) -> tensor<2x64x256xf32>
  // CHECK-NEXT: [[V6:%.*]] = graph.min %b, %c : (tensor<256xf32>, tensor<2x1x256xf32>) -> tensor<2x1x256xf32>
  %6 = graph.min %b, %c : (tensor<256xf32>, tensor<2x1x256xf32>) -> tensor<2x1x256xf32>
  // CHECK-NEXT: func.return [[V0]] : tensor<2x64x256xf32>
  return %0 : tensor<2x64x256xf32>
}

// CHECK-LABEL: func.func @compare_select(
func.func @compare_select(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %m: tensor<1x3xi1>, %n: tensor<2x3xi1>, %k: tensor<2x3xi64>) -> tensor<2x3xf32> {
  // CHECK-NEXT: [[V0:%.*]] = graph.equal %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %0 = graph.equal %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK-NEXT: [[V1:%.*]] = graph.equal %m, %n : (tensor<1x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  %1 = graph.equal %m, %n : (tensor<1x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  // CHECK-NEXT: [[V2:%.*]] = graph.less %k, %k : (tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<2x3xi1>
  %2 = graph.less %k, %k : (tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<2x3xi1>
  // CHECK-NEXT: [[V3:%.*]] = graph.greater %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %3 = graph.greater %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK-NEXT: [[V4:%.*]] = graph.where %m, %a, %b : (tensor<1x3xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %4 = graph.where %m, %a, %b : (tensor<1x3xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: func.return [[V4]] : tensor<2x3xf32>
  return %4 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @unary(
func.func @unary(%x: tensor<4x16xf32>, %h: tensor<4x16xf16>, %i: tensor<8xi32>) -> tensor<4x16xf32> {
  // CHECK-NEXT: [[V0:%.*]] = graph.relu %x : tensor<4x16xf32>
  %0 = graph.relu %x : tensor<4x16xf32>
  // CHECK-NEXT: [[V1:%.*]] = graph.relu %i : tensor<8xi32>
  %1 = graph.relu %i : tensor<8xi32>
  // CHECK-NEXT: [[V2:%.*]] = graph.gelu %x : tensor<4x16xf32>
  %2 = graph.gelu %x : tensor<4x16xf32>
  // CHECK-NEXT: [[V3:%.*]] = graph.gelu %h {approximate = "tanh"} : tensor<4x16xf16>
  %3 = graph.gelu %h {approximate = "tanh"} : tensor<4x16xf16>
  // CHECK-NEXT: [[V4:%.*]] = graph.tanh %x : tensor<4x16xf32>
  %4 = graph.tanh %x : tensor<4x16xf32>
  // CHECK-NEXT: [[V5:%.*]] = graph.sigmoid %x : tensor<4x16xf32>
  %5 = graph.sigmoid %x : tensor<4x16xf32>
  // CHECK-NEXT: [[V6:%.*]] = graph.exp %x : tensor<4x16xf32>
  %6 = graph.exp %x : tensor<4x16xf32>
  // CHECK-NEXT: [[V7:%.*]] = graph.log %x : tensor<4x16xf32>
  %7 = graph.log %x : tensor<4x16xf32>
  // CHECK-NEXT: [[V8:%.*]] = graph.erf %x : tensor<4x16xf32>
  %8 = graph.erf %x : tensor<4x16xf32>
  // CHECK-NEXT: [[V9:%.*]] = graph.sqrt %x : tensor<4x16xf32>
  %9 = graph.sqrt %x : tensor<4x16xf32>
  // CHECK-NEXT: [[V10:%.*]] = graph.rsqrt %h : tensor<4x16xf16>
  %10 = graph.rsqrt %h : tensor<4x16xf16>
  // CHECK-NEXT: [[V11:%.*]] = graph.reciprocal %x : tensor<4x16xf32>
  %11 = graph.reciprocal %x : tensor<4x16xf32>
  // CHECK-NEXT: [[V12:%.*]] = graph.neg %i : tensor<8xi32>
  %12 = graph.neg %i : tensor<8xi32>
  // CHECK-NEXT: [[V13:%.*]] = graph.abs %x : tensor<4x16xf32>
  %13 = graph.abs %x : tensor<4x16xf32>
  // CHECK-NEXT: [[V14:%.*]] = graph.clip %x {min = 0.0, max = 6.0} : tensor<4x16xf32>
  %14 = graph.clip %x {min = 0.0, max = 6.0} : tensor<4x16xf32>
  // CHECK-NEXT: [[V15:%.*]] = graph.clip %i {max = 100.0} : tensor<8xi32>
  %15 = graph.clip %i {max = 100.0} : tensor<8xi32>
  // CHECK-NEXT: [[V16:%.*]] = graph.clip %x {min = 0xfff0000000000000 : f64} : tensor<4x16xf32>
  %16 = graph.clip %x {min = 0xFFF0000000000000 : f64} : tensor<4x16xf32>
  // ONNX Clip: min > max is valid (every value becomes max).
  // CHECK-NEXT: graph.clip %x {min = 6.0, max = 0.0} : tensor<4x16xf32>
  %clip_inverted = graph.clip %x {min = 6.0, max = 0.0} : tensor<4x16xf32>
  // CHECK-NEXT: [[V17:%.*]] = graph.leaky_relu %x {alpha = 0.01} : tensor<4x16xf32>
  %17 = graph.leaky_relu %x {alpha = 0.01} : tensor<4x16xf32>
  // CHECK-NEXT: [[V18:%.*]] = graph.hard_sigmoid %x {alpha = 0.2, beta = 0.5} : tensor<4x16xf32>
  %18 = graph.hard_sigmoid %x {alpha = 0.2, beta = 0.5} : tensor<4x16xf32>
  // CHECK-NEXT: [[V19:%.*]] = graph.cast %x : tensor<4x16xf32> -> tensor<4x16xbf16>
  %19 = graph.cast %x : tensor<4x16xf32> -> tensor<4x16xbf16>
  // CHECK-NEXT: [[V20:%.*]] = graph.cast %i : tensor<8xi32> -> tensor<8xi1>
  %20 = graph.cast %i : tensor<8xi32> -> tensor<8xi1>
  // CHECK-NEXT: func.return [[V0]] : tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// CHECK-LABEL: func.func @normalization(
func.func @normalization(%x: tensor<1x128x768xf32>, %g: tensor<768xf32>, %s: tensor<2x12x128x128xf32>, %img: tensor<1x64x56x56xf32>, %c: tensor<64xf32>) -> tensor<1x128x768xf32> {
  // CHECK-NEXT: [[V0:%.*]] = graph.softmax %s {axis = -1} : tensor<2x12x128x128xf32>
  %0 = graph.softmax %s {axis = -1} : tensor<2x12x128x128xf32>
  // CHECK-NEXT: [[V1:%.*]] = graph.log_softmax %s {axis = 1} : tensor<2x12x128x128xf32>
  %1 = graph.log_softmax %s {axis = 1} : tensor<2x12x128x128xf32>
  // CHECK-NEXT: [[V2:%.*]] = graph.layer_norm %x, %g, %g {axis = -1, epsilon = 1.0e-05} : (tensor<1x128x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<1x128x768xf32>
  %2 = graph.layer_norm %x, %g, %g {axis = -1, epsilon = 1.0e-05} : (tensor<1x128x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<1x128x768xf32>
  // CHECK-NEXT: [[V3:%.*]] = graph.layer_norm %x, %g {axis = 2, epsilon = 1.0e-12} : (tensor<1x128x768xf32>, tensor<768xf32>) -> tensor<1x128x768xf32>
  %3 = graph.layer_norm %x, %g {axis = 2, epsilon = 9.9999999999999998e-13} : (tensor<1x128x768xf32>, tensor<768xf32>) -> tensor<1x128x768xf32>
  // CHECK-NEXT: [[V4:%.*]] = graph.batch_norm %img, %c, %c, %c, %c {epsilon = 1.0e-05} : (tensor<1x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x64x56x56xf32>
  %4 = graph.batch_norm %img, %c, %c, %c, %c {epsilon = 1.0e-05} : (tensor<1x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x64x56x56xf32>
  // CHECK-NEXT: func.return [[V2]] : tensor<1x128x768xf32>
  return %2 : tensor<1x128x768xf32>
}

// CHECK-LABEL: func.func @reductions(
func.func @reductions(%x: tensor<4x8x16xf32>, %i: tensor<4x8xi64>) -> tensor<4x1x16xf32> {
  // CHECK-NEXT: [[V0:%.*]] = graph.reduce_sum %x {axes = [1], keepdims = true} : tensor<4x8x16xf32> -> tensor<4x1x16xf32>
  %0 = graph.reduce_sum %x {axes = [1], keepdims = true} : tensor<4x8x16xf32> -> tensor<4x1x16xf32>
  // CHECK-NEXT: [[V1:%.*]] = graph.reduce_sum %i {axes = [], keepdims = false} : tensor<4x8xi64> -> tensor<i64>
  %1 = graph.reduce_sum %i {axes = [], keepdims = false} : tensor<4x8xi64> -> tensor<i64>
  // CHECK-NEXT: [[V2:%.*]] = graph.reduce_mean %x {axes = [-1, 0], keepdims = false} : tensor<4x8x16xf32> -> tensor<8xf32>
  %2 = graph.reduce_mean %x {axes = [-1, 0], keepdims = false} : tensor<4x8x16xf32> -> tensor<8xf32>
  // CHECK-NEXT: [[V3:%.*]] = graph.reduce_max %x {axes = [2], keepdims = false} : tensor<4x8x16xf32> -> tensor<4x8xf32>
  %3 = graph.reduce_max %x {axes = [2], keepdims = false} : tensor<4x8x16xf32> -> tensor<4x8xf32>
  // CHECK-NEXT: func.return [[V0]] : tensor<4x1x16xf32>
  return %0 : tensor<4x1x16xf32>
}

// CHECK-LABEL: func.func @data_movement(
func.func @data_movement(%x: tensor<2x3x4xf32>, %y: tensor<2x5x4xf32>, %t: tensor<4x10xf32>, %e: tensor<30522x768xf32>, %ids: tensor<1x128xi64>, %j: tensor<3xi32>) -> tensor<2x4x3xf32> {
  // CHECK-NEXT: [[V0:%.*]] = graph.transpose %x {perm = [0, 2, 1]} : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  %0 = graph.transpose %x {perm = [0, 2, 1]} : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  // CHECK-NEXT: [[V1:%.*]] = graph.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %1 = graph.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  // CHECK-NEXT: [[V2:%.*]] = graph.concat %x, %y, %x {axis = -2} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>, tensor<2x3x4xf32>) -> tensor<2x11x4xf32>
  %2 = graph.concat %x, %y, %x {axis = -2} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>, tensor<2x3x4xf32>) -> tensor<2x11x4xf32>
  // CHECK-NEXT: [[V3:%.*]] = graph.concat %x {axis = 0} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %3 = graph.concat %x {axis = 0} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  // CHECK-NEXT: [[V4:%.*]] = graph.slice %t {starts = [0, 1], ends = [2, 1000], axes = [0, 1], steps = [1, 2]} : tensor<4x10xf32> -> tensor<2x5xf32>
  %4 = graph.slice %t {starts = [0, 1], ends = [2, 1000], axes = [0, 1], steps = [1, 2]} : tensor<4x10xf32> -> tensor<2x5xf32>
  // CHECK-NEXT: [[V5:%.*]] = graph.slice %t {starts = [-1], ends = [-1000], axes = [1], steps = [-3]} : tensor<4x10xf32> -> tensor<4x4xf32>
  %5 = graph.slice %t {starts = [-1], ends = [-1000], axes = [1], steps = [-3]} : tensor<4x10xf32> -> tensor<4x4xf32>
  // CHECK-NEXT: [[V6:%.*]] = graph.slice %t {starts = [1], ends = [-1]} : tensor<4x10xf32> -> tensor<2x10xf32>
  %6 = graph.slice %t {starts = [1], ends = [-1]} : tensor<4x10xf32> -> tensor<2x10xf32>
  // CHECK-NEXT: [[V7:%.*]] = graph.gather %e, %ids {axis = 0} : (tensor<30522x768xf32>, tensor<1x128xi64>) -> tensor<1x128x768xf32>
  %7 = graph.gather %e, %ids {axis = 0} : (tensor<30522x768xf32>, tensor<1x128xi64>) -> tensor<1x128x768xf32>
  // CHECK-NEXT: [[V8:%.*]] = graph.gather %x, %j {axis = -1} : (tensor<2x3x4xf32>, tensor<3xi32>) -> tensor<2x3x3xf32>
  %8 = graph.gather %x, %j {axis = -1} : (tensor<2x3x4xf32>, tensor<3xi32>) -> tensor<2x3x3xf32>
  // CHECK-NEXT: func.return [[V0]] : tensor<2x4x3xf32>
  return %0 : tensor<2x4x3xf32>
}

// CHECK-LABEL: func.func @weights(
func.func @weights() -> tensor<768x768xf32> {
  // CHECK-NEXT: [[V0:%.*]] = graph.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
  %0 = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
  // CHECK-NEXT: [[V1:%.*]] = graph.constant dense<7> : tensor<2x3xi64>
  %1 = graph.constant dense<7> : tensor<2x3xi64>
  // CHECK-NEXT: [[V2:%.*]] = graph.constant dense_resource<wq_blob> : tensor<768x768xf32>
  %2 = graph.constant dense_resource<wq_blob> : tensor<768x768xf32>
  // CHECK-NEXT: [[V3:%.*]] = graph.weight "encoder.0.wq" from "bert.weights" at 1024 : tensor<768x768xf32>
  %3 = graph.weight "encoder.0.wq" from "bert.weights" at 1024 : tensor<768x768xf32>
  // CHECK-NEXT: [[V4:%.*]] = graph.weight "embeddings/word" from "weights/bert.bin" at 0 {onnx.name = "W"} : tensor<30522x768xbf16>
  %4 = graph.weight "embeddings/word" from "weights/bert.bin" at 0 {onnx.name = "W"} : tensor<30522x768xbf16>
  // CHECK-NEXT: func.return [[V3]] : tensor<768x768xf32>
  return %3 : tensor<768x768xf32>
}
