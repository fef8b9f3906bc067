// RUN: trn-opt %s --split-input-file --verify-diagnostics

func.func @f(%x: tensor<8xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{expected from variable 'T', but got tensor<4xf32>}}
  %y = "hswish.hard_swish"(%x) : (tensor<8xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
