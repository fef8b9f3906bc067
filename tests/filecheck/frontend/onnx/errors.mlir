// Bad ONNX input: each case is one clear error naming the file and the culprit, exit
// code 1, no traceback (`not` checks the exit code is nonzero; `--check-prefix` per case).

// RUN: rm -rf %t && %PYTHON %S/Inputs/make_models.py %t
// RUN: not trn-opt %t/not_onnx.onnx 2>&1 | filecheck %s --check-prefix=NOTONNX
// RUN: not trn-opt %t/truncated.onnx 2>&1 | filecheck %s --check-prefix=TRUNC
// RUN: not trn-opt %t/cycle.onnx 2>&1 | filecheck %s --check-prefix=CYCLE
// RUN: not trn-opt %t/dangling.onnx 2>&1 | filecheck %s --check-prefix=DANGLING
// RUN: not trn-opt %t/escape_relative.onnx 2>&1 | filecheck %s --check-prefix=ESCAPE-REL
// RUN: not trn-opt %t/escape_absolute.onnx 2>&1 | filecheck %s --check-prefix=ESCAPE-ABS
// RUN: not trn-opt %t/missing_external.onnx 2>&1 | filecheck %s --check-prefix=MISSING
// RUN: not trn-opt %t/negative_dim.onnx 2>&1 | filecheck %s --check-prefix=NEGATIVE
// RUN: not trn-opt %t/absurd_dim.onnx 2>&1 | filecheck %s --check-prefix=ABSURD
// RUN: not trn-opt %t/string_dtype.onnx 2>&1 | filecheck %s --check-prefix=DTYPE
// RUN: not trn-opt %t/dynamic.onnx 2>&1 | filecheck %s --check-prefix=DYNAMIC
// RUN: not trn-opt %t/dynamic.onnx --input-shape ids=2x8 --input-shape mask=2x9 2>&1 | filecheck %s --check-prefix=PINFIXED
// RUN: not trn-opt %t/unsupported.onnx 2>&1 | filecheck %s --check-prefix=UNKNOWNOPS
// RUN: not trn-opt %t/mlp.onnx --input-shape x-2x64 2>&1 | filecheck %s --check-prefix=BADSPEC
// RUN: not trn-opt %t/absent.onnx 2>&1 | filecheck %s --check-prefix=ABSENT

// NOTONNX: not_onnx.onnx: error: not an ONNX model: cannot parse it as an ONNX protobuf
// NOTONNX-NOT: Traceback
// TRUNC: truncated.onnx: error: truncated or corrupt: cannot parse it as an ONNX protobuf
// CYCLE: cycle.onnx: error: the graph has a cycle: 'second' -> 'third' -> 'first' -> 'second'
// DANGLING: dangling.onnx: error: node 'add' (Add): input 'nowhere' is not a graph input, an initializer or the output of any node
// ESCAPE-REL: error: tensor 'w': external data path '../secret.bin' is outside the model's folder {{.*}}; refused (it could read any file)
// ESCAPE-ABS: error: tensor 'w': external data path '/etc/passwd' is outside the model's folder {{.*}}; refused
// MISSING: error: tensor 'w': external data file '{{.*}}weights_missing.bin' is missing
// NEGATIVE: negative_dim.onnx: error: 'x' dim 0 is -3, outside [0, 2^31)
// ABSURD: absurd_dim.onnx: error: 'x' dim 0 is 2147483648, outside [0, 2^31)
// DTYPE: string_dtype.onnx: error: 'x' has dtype STRING, which trnc does not support
// DYNAMIC: error: input 'ids' has dynamic dim 0 ('batch'), dim 1 ('seq'); pin them with --input-shape ids=NxN
// DYNAMIC: error: input 'mask' has dynamic dim 0 ('batch'); pin them with --input-shape mask=Nx8
// PINFIXED: error: --input-shape mask: dim 1 is fixed to 8 by the model, not 9
// UNKNOWNOPS: error: unsupported ONNX op types (2): Cos (1: {{.}}cos1{{.}}); Sin (3: {{.}}sin1{{.}}, {{.}}sin2{{.}}, {{.}}sin3{{.}})
// UNKNOWNOPS-NOT: error
// BADSPEC: mlp.onnx: error: --input-shape 'x-2x64': expected NAME=D0xD1...
// ABSENT: absent.onnx: error: cannot read the model: No such file or directory
