// RUN: trn-opt %s -p graph-canonicalize | filecheck %s
// RUN: trn-opt %s -p graph-canonicalize | trn-opt | filecheck %s

// graph-canonicalize: exact local simplifications of graph ops.

// transpose(transpose(x)) composes the perms: [1, 0, 2] then [2, 1, 0] is [2, 0, 1];
// a composition or a perm that is the identity disappears.
// CHECK-LABEL: func.func @transpose(
// CHECK-NEXT:    [[T:%.*]] = graph.transpose %x {perm = [2, 0, 1]} : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK-NEXT:    func.return %x, [[T]], %x : tensor<2x3x4xf32>, tensor<4x2x3xf32>, tensor<2x3x4xf32>
func.func @transpose(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<4x2x3xf32>, tensor<2x3x4xf32>) {
  %0 = graph.transpose %x {perm = [0, 2, 1]} : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  %1 = graph.transpose %0 {perm = [0, 2, 1]} : tensor<2x4x3xf32> -> tensor<2x3x4xf32>
  %2 = graph.transpose %x {perm = [1, 0, 2]} : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  %3 = graph.transpose %2 {perm = [2, 1, 0]} : tensor<3x2x4xf32> -> tensor<4x2x3xf32>
  %4 = graph.transpose %x {perm = [0, 1, 2]} : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  return %1, %3, %4 : tensor<2x3x4xf32>, tensor<4x2x3xf32>, tensor<2x3x4xf32>
}

// A transpose whose input has another use stays (and the inner one with it).
// CHECK-LABEL: func.func @transpose_shared(
// CHECK-NEXT:    [[A:%.*]] = graph.transpose %x {perm = [1, 0]} : tensor<2x3xf32> -> tensor<3x2xf32>
// CHECK-NEXT:    func.return [[A]], %x
func.func @transpose_shared(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<2x3xf32>) {
  %0 = graph.transpose %x {perm = [1, 0]} : tensor<2x3xf32> -> tensor<3x2xf32>
  %1 = graph.transpose %0 {perm = [1, 0]} : tensor<3x2xf32> -> tensor<2x3xf32>
  return %0, %1 : tensor<3x2xf32>, tensor<2x3xf32>
}

// CHECK-LABEL: func.func @reshape(
// CHECK-NEXT:    [[R:%.*]] = graph.reshape %x : tensor<2x3x4xf32> -> tensor<4x6xf32>
// CHECK-NEXT:    func.return [[R]], %x, %x
func.func @reshape(%x: tensor<2x3x4xf32>) -> (tensor<4x6xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  %0 = graph.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %1 = graph.reshape %0 : tensor<6x4xf32> -> tensor<4x6xf32>
  %2 = graph.reshape %x : tensor<2x3x4xf32> -> tensor<24xf32>
  %3 = graph.reshape %2 : tensor<24xf32> -> tensor<2x3x4xf32>
  %4 = graph.reshape %x : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  return %1, %3, %4 : tensor<4x6xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>
}

// Exact cast pairs disappear; f16 -> f32 -> f64 becomes one cast.
// CHECK-LABEL: func.func @cast_exact(
// CHECK-NEXT:    [[H:%.*]] = graph.cast %h : tensor<4xf16> -> tensor<4xf64>
// CHECK-NEXT:    func.return %x, %i, %b, [[H]], %x
func.func @cast_exact(%x: tensor<4xf32>, %i: tensor<4xi32>, %b: tensor<4xi1>, %h: tensor<4xf16>) -> (tensor<4xf32>, tensor<4xi32>, tensor<4xi1>, tensor<4xf64>, tensor<4xf32>) {
  %0 = graph.cast %x : tensor<4xf32> -> tensor<4xf64>
  %1 = graph.cast %0 : tensor<4xf64> -> tensor<4xf32>
  %2 = graph.cast %i : tensor<4xi32> -> tensor<4xi64>
  %3 = graph.cast %2 : tensor<4xi64> -> tensor<4xi32>
  %4 = graph.cast %b : tensor<4xi1> -> tensor<4xf32>
  %5 = graph.cast %4 : tensor<4xf32> -> tensor<4xi1>
  %6 = graph.cast %h : tensor<4xf16> -> tensor<4xf32>
  %7 = graph.cast %6 : tensor<4xf32> -> tensor<4xf64>
  %8 = graph.cast %x : tensor<4xf32> -> tensor<4xf32>
  return %1, %3, %5, %7, %8 : tensor<4xf32>, tensor<4xi32>, tensor<4xi1>, tensor<4xf64>, tensor<4xf32>
}

// Rounding or truncating inner casts are kept.
// CHECK-LABEL: func.func @cast_inexact(
// CHECK-NEXT:    [[A:%.*]] = graph.cast %x : tensor<4xf32> -> tensor<4xbf16>
// CHECK-NEXT:    [[B:%.*]] = graph.cast [[A]] : tensor<4xbf16> -> tensor<4xf32>
// CHECK-NEXT:    [[C:%.*]] = graph.cast %i : tensor<4xi32> -> tensor<4xf32>
// CHECK-NEXT:    [[D:%.*]] = graph.cast [[C]] : tensor<4xf32> -> tensor<4xi32>
// CHECK-NEXT:    [[E:%.*]] = graph.cast %x : tensor<4xf32> -> tensor<4xi32>
// CHECK-NEXT:    [[F:%.*]] = graph.cast [[E]] : tensor<4xi32> -> tensor<4xf32>
// CHECK-NEXT:    func.return [[B]], [[D]], [[F]]
func.func @cast_inexact(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xi32>, tensor<4xf32>) {
  %0 = graph.cast %x : tensor<4xf32> -> tensor<4xbf16>
  %1 = graph.cast %0 : tensor<4xbf16> -> tensor<4xf32>
  %2 = graph.cast %i : tensor<4xi32> -> tensor<4xf32>
  %3 = graph.cast %2 : tensor<4xf32> -> tensor<4xi32>
  %4 = graph.cast %x : tensor<4xf32> -> tensor<4xi32>
  %5 = graph.cast %4 : tensor<4xi32> -> tensor<4xf32>
  return %1, %3, %5 : tensor<4xf32>, tensor<4xi32>, tensor<4xf32>
}

// where with an all-true / all-false constant condition, or equal branches, is the kept
// operand when that already has the result type; a where that broadcasts stays.
// CHECK-LABEL: func.func @where(
// CHECK:         [[W:%.*]] = graph.where %{{.*}}, %v, %b : (tensor<2x3xi1>, tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    [[M:%.*]] = graph.where %m, %a, %b
// CHECK-NEXT:    func.return %a, %b, [[W]], [[M]], %a
func.func @where(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>, %v: tensor<3xf32>, %m: tensor<2x3xi1>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %yes = graph.constant dense<true> : tensor<2x3xi1>
  %no = graph.constant dense<false> : tensor<1xi1>
  %0 = graph.where %yes, %a, %b : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = graph.where %no, %a, %b : (tensor<1xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = graph.where %yes, %v, %b : (tensor<2x3xi1>, tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = graph.where %m, %a, %b : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = graph.where %m, %a, %a : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1, %2, %3, %4 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// Small all-constant expressions are evaluated; their operands die with them.
// CHECK-LABEL: func.func @fold(
// CHECK-NEXT:    [[C:%.*]] = graph.constant dense<[2.000000e+00, 1.000000e+00, 5.000000e-01]> : tensor<3xf32>
// CHECK-NEXT:    [[R:%.*]] = graph.mul %x, [[C]] : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    [[I:%.*]] = graph.constant dense<[3, -3, 1]> : tensor<3xi32>
// CHECK-NEXT:    [[T:%.*]] = graph.constant dense<{{\[}}[1.000000e+00, 3.000000e+00], [2.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK-NEXT:    func.return [[R]], [[I]], [[T]]
func.func @fold(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xi32>, tensor<2x2xf32>) {
  %c = graph.constant dense<[1.0, 0.0, -1.0]> : tensor<3xf32>
  %two = graph.constant dense<2.0> : tensor<f32>
  %0 = graph.neg %c : tensor<3xf32>
  %1 = graph.pow %two, %0 : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  %2 = graph.reciprocal %1 : tensor<3xf32>
  %3 = graph.mul %x, %2 : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %i = graph.constant dense<[7, -7, 3]> : tensor<3xi32>
  %d = graph.constant dense<[2, 2, 3]> : tensor<3xi32>
  %4 = graph.div %i, %d : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  %m = graph.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %5 = graph.transpose %m {perm = [1, 0]} : tensor<2x2xf32> -> tensor<2x2xf32>
  return %3, %4, %5 : tensor<3xf32>, tensor<3xi32>, tensor<2x2xf32>
}

// Not folded: an operand above 1024 elements, a result above 1024 elements, an integer
// division by zero (fails at run time), an inf result (no text form that parses back),
// an operand held in a weights file.
// CHECK-LABEL: func.func @no_fold(
// CHECK:         graph.reduce_sum %{{.*}} {axes = [], keepdims = false} : tensor<33x32xf32> -> tensor<f32>
// CHECK:         graph.mul %{{.*}}, %{{.*}} : (tensor<1025x1xf32>, tensor<f32>) -> tensor<1025x1xf32>
// CHECK:         graph.div %{{.*}}, %{{.*}} : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
// CHECK:         graph.reciprocal %{{.*}} : tensor<2xf32>
// CHECK:         graph.exp %w : tensor<2xf32>
func.func @no_fold() -> (tensor<f32>, tensor<1025x1xf32>, tensor<2xi32>, tensor<2xf32>, tensor<2xf32>) {
  %big = graph.constant dense<1.0> : tensor<33x32xf32>
  %0 = graph.reduce_sum %big {axes = [], keepdims = false} : tensor<33x32xf32> -> tensor<f32>
  %col = graph.constant dense<1.0> : tensor<1025x1xf32>
  %s = graph.constant dense<2.0> : tensor<f32>
  %1 = graph.mul %col, %s : (tensor<1025x1xf32>, tensor<f32>) -> tensor<1025x1xf32>
  %i = graph.constant dense<[1, 2]> : tensor<2xi32>
  %z = graph.constant dense<[1, 0]> : tensor<2xi32>
  %2 = graph.div %i, %z : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %f = graph.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %3 = graph.reciprocal %f : tensor<2xf32>
  %w = graph.weight "w" from "w.bin" at 0 : tensor<2xf32>
  %4 = graph.exp %w : tensor<2xf32>
  return %0, %1, %2, %3, %4 : tensor<f32>, tensor<1025x1xf32>, tensor<2xi32>, tensor<2xf32>, tensor<2xf32>
}

// Dead graph ops go (weights and constants included); other dialects' ops stay.
// CHECK-LABEL: func.func @dead(
// CHECK-NEXT:    %i = arith.constant 3 : i32
// CHECK-NEXT:    [[R:%.*]] = graph.relu %x : tensor<4xf32>
// CHECK-NEXT:    func.return [[R]]
func.func @dead(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = graph.exp %x : tensor<4xf32>
  %b = graph.tanh %a : tensor<4xf32>
  %c = graph.constant dense<1.0> : tensor<4xf32>
  %w = graph.weight "w" from "w.bin" at 0 : tensor<4xf32>
  %i = arith.constant 3 : i32
  %r = graph.relu %x : tensor<4xf32>
  return %r : tensor<4xf32>
}

// Ops with nothing to simplify are left alone.
// CHECK-LABEL: func.func @unchanged(
// CHECK-NEXT:    %0 = graph.transpose %x {perm = [1, 0]}
// CHECK-NEXT:    %1 = graph.reshape %0 : tensor<3x2xf32> -> tensor<6xf32>
// CHECK-NEXT:    %2 = graph.cast %1 : tensor<6xf32> -> tensor<6xf16>
// CHECK-NEXT:    %3 = graph.softmax %x {axis = 0}
// CHECK-NEXT:    func.return %2, %3
func.func @unchanged(%x: tensor<2x3xf32>) -> (tensor<6xf16>, tensor<2x3xf32>) {
  %0 = graph.transpose %x {perm = [1, 0]} : tensor<2x3xf32> -> tensor<3x2xf32>
  %1 = graph.reshape %0 : tensor<3x2xf32> -> tensor<6xf32>
  %2 = graph.cast %1 : tensor<6xf32> -> tensor<6xf16>
  %3 = graph.softmax %x {axis = 0} : tensor<2x3xf32>
  return %2, %3 : tensor<6xf16>, tensor<2x3xf32>
}
