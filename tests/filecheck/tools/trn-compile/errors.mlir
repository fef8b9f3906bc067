// trn-compile's error paths: each a message and exit code 1.

// RUN: not trn-compile %S/absent.onnx 2>&1 | filecheck %s --check-prefix=ABSENT
// ABSENT: absent.onnx: error: cannot read the model

// RUN: not trn-compile %examples/mlp.onnx 2>&1 | filecheck %s --check-prefix=PIN
// PIN: error: input 'x' has dynamic dim 0

// RUN: not trn-compile %examples/mlp.onnx --input-shape x=2x64 --dtype fp16 2>&1 | filecheck %s --check-prefix=DTYPE
// DTYPE: trn-compile: error: argument --dtype: invalid choice: 'fp16'

// What graph-to-tile does not lower yet (here integer arithmetic, which could leave fp32's
// exact integers) is an error located at the ONNX node, said once.
// RUN: not trn-compile %S/int_add.onnx 2>&1 | filecheck %s --check-prefix=NOTYET --match-full-lines
// NOTYET: {{.*}}int_add.onnx: error: node 'int_add' (Add): 'graph.add' op graph-to-tile: 'graph.add' on integer or boolean tensors is not lowered yet {{.*}}
// NOTYET-NOT: error:
