// The ONNX frontend of trn-opt: a model with a dynamic batch dim, pinned with
// --input-shape; its shape sub-graph (Shape, Gather, Unsqueeze, Concat -> Reshape) folds
// away; weights go to a raw file next to -o, named relative to the .mlir; ops carry their
// node names as locations.

// RUN: rm -rf %t && %PYTHON %S/Inputs/make_models.py %t
// RUN: trn-opt %t/mlp.onnx --input-shape x=3x64 -o %t/mlp.mlir
// RUN: filecheck %s --input-file %t/mlp.mlir
// RUN: %PYTHON -c "import os, sys; sys.exit(os.path.getsize(sys.argv[1]) != 64*32*4 + 32*4 + 10*32*4)" %t/mlp.weights
// The printed module parses again, locations and all.
// RUN: trn-opt %t/mlp.mlir --print-debuginfo | filecheck %s --check-prefix=ROUNDTRIP
// `-f onnx` forces the frontend whatever the file is called.
// RUN: cp %t/mlp.onnx %t/model.bin && trn-opt -f onnx %t/model.bin --input-shape x=1,64 --weights-file %t/w.bin | filecheck %s --check-prefix=FORCED

// CHECK:      func.func @main(%0: tensor<3x64xf32> {graph.name = "x"} loc(unknown)) -> (tensor<3x10xf32> {graph.name = "probs"}) {
// CHECK-NEXT:   %1 = graph.weight "w1" from "mlp.weights" at 0 : tensor<64x32xf32> loc("w1")
// CHECK-NEXT:   %2 = graph.matmul %0, %1 : (tensor<3x64xf32>, tensor<64x32xf32>) -> tensor<3x32xf32> loc("fc1/matmul")
// CHECK-NEXT:   %3 = graph.weight "b1" from "mlp.weights" at 8192 : tensor<32xf32> loc("b1")
// CHECK-NEXT:   %4 = graph.add %2, %3 : (tensor<3x32xf32>, tensor<32xf32>) -> tensor<3x32xf32> loc("fc1/add")
// CHECK-NEXT:   %5 = graph.relu %4 : tensor<3x32xf32> loc("act")
// CHECK-NEXT:   %6 = graph.weight "w2" from "mlp.weights" at 8320 : tensor<10x32xf32> loc("w2")
// CHECK-NEXT:   %7 = graph.gemm %5, %6 {trans_b = true} : (tensor<3x32xf32>, tensor<10x32xf32>) -> tensor<3x10xf32> loc("fc2")
// CHECK-NEXT:   %8 = graph.softmax %7 {axis = -1} : tensor<3x10xf32> loc("softmax")
// CHECK-NEXT:   func.return %8 : tensor<3x10xf32>
// CHECK-NOT:  graph.reshape
// CHECK-NOT:  graph.concat

// ROUNDTRIP: graph.matmul {{.*}} loc("fc1/matmul")
// ROUNDTRIP: graph.softmax {{.*}} loc("softmax")

// FORCED: graph.weight "w1" from "{{.*}}w.bin" at 0 : tensor<64x32xf32>
// FORCED: graph.softmax {{.*}} : tensor<1x10xf32>
