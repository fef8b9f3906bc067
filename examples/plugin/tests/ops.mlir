// RUN: trn-opt %s | trn-opt | filecheck %s
// RUN: trn-opt %s --print-op-generic | trn-opt | filecheck %s

// CHECK: hswish.hard_swish %{{.*}} : tensor<8xbf16>
func.func @f(%x: tensor<8xbf16>) -> tensor<8xbf16> {
  %y = hswish.hard_swish %x : tensor<8xbf16>
  return %y : tensor<8xbf16>
}
