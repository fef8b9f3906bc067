// RUN: trn-opt %s -p graph-fuse-activations --split-input-file | filecheck %s

// HuggingFace BERT's GELU: (x * 0.5) * (1 + erf(x / 1.41421354)) -> gelu(x); the chain's
// ops and its constants go.
// CHECK-LABEL: func.func @bert_gelu(
// CHECK-SAME:    %[[X:.*]]: tensor<4x8xf32>
// CHECK-NEXT:    %[[G:.*]] = graph.gelu %[[X]] : tensor<4x8xf32>
// CHECK-NEXT:    func.return %[[G]]
func.func @bert_gelu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %sqrt2 = graph.constant dense<1.41421354> : tensor<f32>
  %half = graph.constant dense<5.000000e-01> : tensor<f32>
  %one = graph.constant dense<1.000000e+00> : tensor<f32>
  %0 = graph.div %x, %sqrt2 : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = graph.mul %x, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %2 = graph.erf %0 : tensor<4x8xf32>
  %3 = graph.add %2, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %4 = graph.mul %1, %3 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  func.return %4 : tensor<4x8xf32>
}

// -----

// torch's spelling: x * 0.70710678 inside the erf, 1 on the left, and the 0.5 applied last.
// CHECK-LABEL: func.func @torch_gelu(
// CHECK-SAME:    %[[X:.*]]: tensor<4x8xf32>
// CHECK-NEXT:    %[[G:.*]] = graph.gelu %[[X]] : tensor<4x8xf32>
// CHECK-NEXT:    func.return %[[G]]
func.func @torch_gelu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %inv = graph.constant dense<0.707106769> : tensor<f32>
  %half = graph.constant dense<5.000000e-01> : tensor<1xf32>
  %one = graph.constant dense<1.000000e+00> : tensor<f32>
  %0 = graph.mul %inv, %x : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = graph.erf %0 : tensor<4x8xf32>
  %2 = graph.add %one, %1 : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %3 = graph.mul %x, %2 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = graph.mul %3, %half : (tensor<4x8xf32>, tensor<1xf32>) -> tensor<4x8xf32>
  func.return %4 : tensor<4x8xf32>
}

// -----

// x * ((1 + erf(x / sqrt 2)) / 2)
// CHECK-LABEL: func.func @halved_sum(
// CHECK-NEXT:    graph.gelu
// CHECK-NEXT:    func.return
func.func @halved_sum(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %sqrt2 = graph.constant dense<1.41421354> : tensor<f32>
  %two = graph.constant dense<2.000000e+00> : tensor<f32>
  %one = graph.constant dense<1.000000e+00> : tensor<f32>
  %0 = graph.div %x, %sqrt2 : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = graph.erf %0 : tensor<4x8xf32>
  %2 = graph.add %1, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %3 = graph.div %2, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %4 = graph.mul %x, %3 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  func.return %4 : tensor<4x8xf32>
}

// -----

// Not GELU: another constant in the erf (x / 1.5), or an intermediate with another user
// (the erf is returned too): left as it is.
// CHECK-LABEL: func.func @not_gelu(
// CHECK-NOT:     graph.gelu
// CHECK:         graph.erf
// CHECK-NOT:     graph.gelu
// CHECK:         func.return
func.func @not_gelu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c = graph.constant dense<1.500000e+00> : tensor<f32>
  %half = graph.constant dense<5.000000e-01> : tensor<f32>
  %one = graph.constant dense<1.000000e+00> : tensor<f32>
  %0 = graph.div %x, %c : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = graph.mul %x, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %2 = graph.erf %0 : tensor<4x8xf32>
  %3 = graph.add %2, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %4 = graph.mul %1, %3 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  func.return %4 : tensor<4x8xf32>
}

// -----

// CHECK-LABEL: func.func @shared(
// CHECK-NOT:     graph.gelu
// CHECK:         func.return
func.func @shared(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %sqrt2 = graph.constant dense<1.41421354> : tensor<f32>
  %half = graph.constant dense<5.000000e-01> : tensor<f32>
  %one = graph.constant dense<1.000000e+00> : tensor<f32>
  %0 = graph.div %x, %sqrt2 : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = graph.mul %x, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %2 = graph.erf %0 : tensor<4x8xf32>
  %3 = graph.add %2, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %4 = graph.mul %1, %3 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  func.return %4, %2 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// GPT-2's tanh approximation, as torch exports it: (x * 0.5) * (1 + tanh(0.797884583 *
// (x + 0.044715 * pow(x, 3)))) -> gelu(x) {approximate = "tanh"}.
// CHECK-LABEL: func.func @gpt2_gelu(
// CHECK-SAME:    %[[X:.*]]: tensor<4x8xf32>
// CHECK-NEXT:    %[[G:.*]] = graph.gelu %[[X]] {approximate = "tanh"} : tensor<4x8xf32>
// CHECK-NEXT:    func.return %[[G]]
func.func @gpt2_gelu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %half = graph.constant dense<5.000000e-01> : tensor<f32>
  %three = graph.constant dense<3.000000e+00> : tensor<f32>
  %cubic = graph.constant dense<4.471500e-02> : tensor<f32>
  %scale = graph.constant dense<0.797884583> : tensor<f32>
  %one = graph.constant dense<1.000000e+00> : tensor<f32>
  %0 = graph.mul %x, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = graph.pow %x, %three : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %2 = graph.mul %1, %cubic : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %3 = graph.add %x, %2 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = graph.mul %3, %scale : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %5 = graph.tanh %4 : tensor<4x8xf32>
  %6 = graph.add %5, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %7 = graph.mul %0, %6 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  func.return %7 : tensor<4x8xf32>
}

// -----

// x * x * x for the cube, 0.5 applied last.
// CHECK-LABEL: func.func @cube_by_products(
// CHECK-NEXT:    graph.gelu %{{.*}} {approximate = "tanh"}
// CHECK-NEXT:    func.return
func.func @cube_by_products(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %half = graph.constant dense<5.000000e-01> : tensor<f32>
  %cubic = graph.constant dense<4.471500e-02> : tensor<f32>
  %scale = graph.constant dense<0.797884583> : tensor<f32>
  %one = graph.constant dense<1.000000e+00> : tensor<f32>
  %sq = graph.mul %x, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = graph.mul %x, %sq : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %2 = graph.mul %cubic, %1 : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %3 = graph.add %2, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = graph.mul %scale, %3 : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %5 = graph.tanh %4 : tensor<4x8xf32>
  %6 = graph.add %one, %5 : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %7 = graph.mul %x, %6 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %8 = graph.mul %7, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  func.return %8 : tensor<4x8xf32>
}
