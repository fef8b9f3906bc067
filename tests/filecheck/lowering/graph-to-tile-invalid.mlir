// RUN: trn-opt %s -p graph-to-tile --split-input-file --verify-diagnostics

// softmax has no instruction: graph-decompose rewrites it first (graph-to-isa does).
func.func @unsupported(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{pass failed: graph-to-tile: 'graph.softmax' is not lowered yet}}
  %0 = graph.softmax %x {axis = -1} : tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}

// -----

func.func @integers(%x: tensor<4x8xi32>) -> tensor<4x8xi32> {
  // expected-error @+1 {{pass failed: graph-to-tile: 'graph.add' on integer or boolean tensors is not lowered yet}}
  %0 = graph.add %x, %x : (tensor<4x8xi32>, tensor<4x8xi32>) -> tensor<4x8xi32>
  func.return %0 : tensor<4x8xi32>
}

// -----

// int16 * int16 can reach 2^30, beyond the integers fp32 holds exactly.
func.func @int16_mul(%x: tensor<4x8xi16>) -> tensor<4x8xi16> {
  // expected-error @+1 {{pass failed: graph-to-tile: 'graph.mul' on integer or boolean tensors is not lowered yet}}
  %0 = graph.mul %x, %x : (tensor<4x8xi16>, tensor<4x8xi16>) -> tensor<4x8xi16>
  func.return %0 : tensor<4x8xi16>
}

// -----

// c / x with c a compile-time scalar is c * (1 / x), whose rounding can cross an integer.
func.func @scalar_dividend(%x: tensor<4x8xi8>) -> tensor<4x8xi8> {
  %c = graph.constant dense<100> : tensor<i8>
  // expected-error @+1 {{pass failed: graph-to-tile: integer 'graph.div' with the dividend broadcast along the last dim or a compile-time scalar is not lowered yet}}
  %0 = graph.div %c, %x : (tensor<i8>, tensor<4x8xi8>) -> tensor<4x8xi8>
  func.return %0 : tensor<4x8xi8>
}

// -----

func.func @to_unsigned(%x: tensor<4x8xi32>) -> tensor<4x8xui32> {
  // expected-error @+1 {{pass failed: graph-to-tile: a cast from i32 to ui32 is not lowered yet (it can wrap around}}
  %0 = graph.cast %x : tensor<4x8xi32> -> tensor<4x8xui32>
  func.return %0 : tensor<4x8xui32>
}

// -----

// expected-error @+1 {{pass failed: graph-to-tile: tensor 'arg0' (tensor<4x8xui64>) is not lowered yet: ui64 tensors are not lowered}}
func.func @unsigned64(%x: tensor<4x8xui64>) -> tensor<4x8xui64> {
  %0 = graph.max %x, %x : (tensor<4x8xui64>, tensor<4x8xui64>) -> tensor<4x8xui64>
  func.return %0 : tensor<4x8xui64>
}

// -----

// expected-error @+1 {{pass failed: graph-to-tile: tensor 'arg0' (tensor<4x8xf64>) is not lowered yet: buffer element type rule}}
func.func @float64(%x: tensor<4x8xf64>) -> tensor<4x8xf64> {
  %0 = graph.max %x, %x : (tensor<4x8xf64>, tensor<4x8xf64>) -> tensor<4x8xf64>
  func.return %0 : tensor<4x8xf64>
}

// -----

func.func @gather_range(%x: tensor<4x8xf32>) -> tensor<2x8xf32> {
  %i = graph.constant dense<[1, 4]> : tensor<2xi64>
  // expected-error @+1 {{pass failed: graph-to-tile: gather index 4 is out of range for axis 0 of size 4}}
  %0 = graph.gather %x, %i {axis = 0} : (tensor<4x8xf32>, tensor<2xi64>) -> tensor<2x8xf32>
  func.return %0 : tensor<2x8xf32>
}

// -----

func.func @broadcast(%x: tensor<2x1x3x1xf32>, %b: tensor<1x2x1x3xf32>) -> tensor<2x2x3x3xf32> {
  // expected-error @+1 {{pass failed: graph-to-tile: this broadcast is not lowered yet}}
  %0 = graph.add %x, %b : (tensor<2x1x3x1xf32>, tensor<1x2x1x3xf32>) -> tensor<2x2x3x3xf32>
  func.return %0 : tensor<2x2x3x3xf32>
}

// -----

// An attention's `tile.head_group` must divide its heads.
func.func @head_group(%q: tensor<1x128x128xf32>, %k: tensor<1x128x128xf32>, %v: tensor<1x128x128xf32>) -> tensor<1x128x128xf32> {
  %q4 = graph.reshape %q : tensor<1x128x128xf32> -> tensor<1x128x8x16xf32>
  %k4 = graph.reshape %k : tensor<1x128x128xf32> -> tensor<1x128x8x16xf32>
  %v4 = graph.reshape %v : tensor<1x128x128xf32> -> tensor<1x128x8x16xf32>
  %qh = graph.transpose %q4 {perm = [0, 2, 1, 3]} : tensor<1x128x8x16xf32> -> tensor<1x8x128x16xf32>
  %kt = graph.transpose %k4 {perm = [0, 2, 3, 1]} : tensor<1x128x8x16xf32> -> tensor<1x8x16x128xf32>
  %vh = graph.transpose %v4 {perm = [0, 2, 1, 3]} : tensor<1x128x8x16xf32> -> tensor<1x8x128x16xf32>
  // expected-error @+1 {{pass failed: graph-to-tile: tile.head_group = 3 does not divide the 8 heads}}
  %s = graph.matmul %qh, %kt {tile.head_group = 3 : i64} : (tensor<1x8x128x16xf32>, tensor<1x8x16x128xf32>) -> tensor<1x8x128x128xf32>
  %m = graph.reduce_max %s {axes = [3], keepdims = true} : tensor<1x8x128x128xf32> -> tensor<1x8x128x1xf32>
  %d = graph.sub %s, %m : (tensor<1x8x128x128xf32>, tensor<1x8x128x1xf32>) -> tensor<1x8x128x128xf32>
  %e = graph.exp %d : tensor<1x8x128x128xf32>
  %t = graph.reduce_sum %e {axes = [3], keepdims = true} : tensor<1x8x128x128xf32> -> tensor<1x8x128x1xf32>
  %p = graph.div %e, %t : (tensor<1x8x128x128xf32>, tensor<1x8x128x1xf32>) -> tensor<1x8x128x128xf32>
  %o = graph.matmul %p, %vh : (tensor<1x8x128x128xf32>, tensor<1x8x128x16xf32>) -> tensor<1x8x128x16xf32>
  %ot = graph.transpose %o {perm = [0, 2, 1, 3]} : tensor<1x8x128x16xf32> -> tensor<1x128x8x16xf32>
  %y = graph.reshape %ot : tensor<1x128x8x16xf32> -> tensor<1x128x128xf32>
  func.return %y : tensor<1x128x128xf32>
}
