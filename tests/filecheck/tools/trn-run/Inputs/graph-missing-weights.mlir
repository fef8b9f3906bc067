// A graph.weight whose file does not exist (trn-run/graph-errors.mlir runs this file).
func.func @main() -> tensor<4xf32> {
  %w = graph.weight "encoder.w" from "graph-no-such-file.bin" at 0 : tensor<4xf32>
  return %w : tensor<4xf32>
}
// CHECK: graph-missing-weights.mlir:3:3: error: 'graph.weight' op weight 'encoder.w': cannot open weights file '{{.*}}graph-no-such-file.bin': No such file or directory
// CHECK-NOT: Traceback
