// Dense literals xDSL cannot store (integers wider than 64 bits, f80/f128, complex values
// that are not (real, imaginary) pairs) are located user errors, not internal errors.
// RUN: not trn-opt %s --split-input-file 2>&1 | filecheck %s
// RUN: trn-opt %s --split-input-file --verify-diagnostics

// CHECK-NOT: internal error
// CHECK: dense-literals.mlir:[[# @LINE + 2]]:23: error: unsupported dense literal of type tensor<2xi100>: its element type has no binary format
// expected-error @+1 {{unsupported dense literal of type tensor<2xi100>}}
"test.op"() {v = dense<1> : tensor<2xi100>} : () -> ()

// -----

// CHECK: dense-literals.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: unsupported dense literal of type tensor<2xi100>: its element type has no binary format
// expected-error @+1 {{unsupported dense literal of type tensor<2xi100>}}
%c = graph.constant dense<1> : tensor<2xi100>

// -----

// CHECK: dense-literals.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: unsupported dense literal of type tensor<2xf80>: its element type has no binary format
// expected-error @+1 {{unsupported dense literal of type tensor<2xf80>}}
"test.op"() {v = dense<1.0> : tensor<2xf80>} : () -> ()

// -----

// CHECK: dense-literals.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: unsupported dense literal of type tensor<2xcomplex<f32>>: complex elements are written as (real, imaginary) pairs
// expected-error @+1 {{complex elements are written as (real, imaginary) pairs}}
"test.op"() {v = dense<[1.0, 2.0]> : tensor<2xcomplex<f32>>} : () -> ()

// -----

// CHECK: dense-literals.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: unsupported dense literal of type tensor<2xcomplex<i100>>: its element type has no binary format
// expected-error @+1 {{unsupported dense literal of type tensor<2xcomplex<i100>>}}
"test.op"() {v = dense<(1, 2)> : tensor<2xcomplex<i100>>} : () -> ()

// -----

// A splat is stored element by element: beyond 2^26 elements it is refused, not a hang.
// CHECK: dense-literals.mlir:[[# @LINE + 2]]:29: error: dense literal of 2147483648 elements: more than the 67108864 trnc's tools hold in the IR (large tensors belong in a weights file)
// expected-error @+1 {{dense literal of 2147483648 elements}}
"test.op"() {v = dense<1> : tensor<2147483648xi32>} : () -> ()

// -----

// What xDSL stores still parses and prints.
// CHECK: "test.op"() {v = dense<[(1.000000e+00,2.000000e+00), (3.000000e+00,4.000000e+00)]> : tensor<2xcomplex<f32>>, w = dense<1> : tensor<2xi3>} : () -> ()
"test.op"() {v = dense<[(1.0, 2.0), (3.0, 4.0)]> : tensor<2xcomplex<f32>>, w = dense<1> : tensor<2xi3>} : () -> ()
// CHECK-NOT: internal error
