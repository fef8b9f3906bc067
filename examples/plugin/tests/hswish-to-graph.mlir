// RUN: trn-opt %s -p hswish-to-graph | filecheck %s
// RUN: trn-opt %s --pass-pipeline='builtin.module(func.func(hswish-to-graph))' | filecheck %s

// CHECK-LABEL: func.func @block
// CHECK-SAME:    (%[[X:.*]]: tensor<1x16x32x32xf32>)
// CHECK-NEXT:    %[[G:.*]] = graph.hard_sigmoid %[[X]] {alpha = 0.16666666666666666, beta = 0.5} : tensor<1x16x32x32xf32>
// CHECK-NEXT:    %[[Y:.*]] = graph.mul %[[X]], %[[G]] : (tensor<1x16x32x32xf32>, tensor<1x16x32x32xf32>) -> tensor<1x16x32x32xf32>
// CHECK-NEXT:    %[[R:.*]] = graph.relu %[[Y]] : tensor<1x16x32x32xf32>
// CHECK-NEXT:    func.return %[[R]]
// CHECK-NOT:   hswish.
func.func @block(%x: tensor<1x16x32x32xf32>) -> tensor<1x16x32x32xf32> {
  %y = hswish.hard_swish %x : tensor<1x16x32x32xf32>
  %r = graph.relu %y : tensor<1x16x32x32xf32>
  return %r : tensor<1x16x32x32xf32>
}
