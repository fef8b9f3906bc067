// RUN: trn-opt %s -p graph-to-isa --mlir-pass-statistics -o /dev/null 2>&1 | filecheck %s
// RUN: trn-opt %s -p graph-fuse-activations --pass-statistics -o /dev/null 2>&1 | filecheck %s --check-prefix=ONE

// --mlir-pass-statistics (as mlir-opt): what each pass of the run did, after it. Here the
// spelled-out GELU is fused, nothing spills, and every stage that reports says how much.

// CHECK:      ... Pass statistics report ...
// CHECK:      'graph-fuse-activations'
// CHECK-NEXT:   (S) 1 gelus - spelled-out GELUs fused
// CHECK:      'tile-plan-memory'
// CHECK:        (S) {{ *}}0 spill-bytes - bytes spilled to HBM and back
// CHECK:      'tile-prefetch'
// CHECK:      'tile-balance-engines'
// CHECK:      'tile-allocate'
// CHECK-NEXT:   (S) {{ *[0-9]+}} sbuf-peak
// CHECK:      'isa-schedule'
// CHECK-NEXT:   (S) {{ *[0-9]+}} moved - instructions given another position
// CHECK-NEXT:   (S) {{ *[0-9]+}} edges - dependences between instructions
// CHECK-NEXT:   (S) {{ *[0-9]+}} requeued - transfers given another DMA queue
// CHECK-NEXT:   (S) {{ *[0-9]+}} estimate-ns - the schedule's end by its own model
// CHECK:      'isa-insert-sync'
// CHECK-NEXT:   (S) {{ *[0-9]+}} waits - semaphore waits added

// ONE:      'graph-fuse-activations'
// ONE-NEXT:   (S) 1 gelus
// ONE-NOT:  'tile-allocate'
func.func @main(%x: tensor<128x64xf32>) -> tensor<128x64xf32> {
  %sqrt2 = graph.constant dense<1.41421354> : tensor<f32>
  %half = graph.constant dense<5.000000e-01> : tensor<f32>
  %one = graph.constant dense<1.000000e+00> : tensor<f32>
  %0 = graph.div %x, %sqrt2 : (tensor<128x64xf32>, tensor<f32>) -> tensor<128x64xf32>
  %1 = graph.mul %x, %half : (tensor<128x64xf32>, tensor<f32>) -> tensor<128x64xf32>
  %2 = graph.erf %0 : tensor<128x64xf32>
  %3 = graph.add %2, %one : (tensor<128x64xf32>, tensor<f32>) -> tensor<128x64xf32>
  %4 = graph.mul %1, %3 : (tensor<128x64xf32>, tensor<128x64xf32>) -> tensor<128x64xf32>
  func.return %4 : tensor<128x64xf32>
}
