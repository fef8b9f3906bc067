// trn-compile's error paths: each a message and exit code 1.

// RUN: not trn-compile %S/absent.onnx 2>&1 | filecheck %s --check-prefix=ABSENT
// ABSENT: absent.onnx: error: cannot read the model

// RUN: not trn-compile %examples/mlp.onnx 2>&1 | filecheck %s --check-prefix=PIN
// PIN: error: input 'x' has dynamic dim 0

// RUN: not trn-compile %examples/mlp.onnx --input-shape x=2x64 --dtype fp16 2>&1 | filecheck %s --check-prefix=DTYPE
// DTYPE: trn-compile: error: argument --dtype: invalid choice: 'fp16'

// What graph-to-tile does not lower yet (here GPT-2's int64 token ids) is a located error.
// RUN: not trn-compile %S/../../../models/gpt2_dynamo.onnx --input-shape input_ids=1x8 --input-shape attention_mask=1x8 2>&1 | filecheck %s --check-prefix=NOTYET
// NOTYET: trn-compile: error: {{.*}}error: {{.*}}graph-to-tile: {{.*}}not lowered yet
