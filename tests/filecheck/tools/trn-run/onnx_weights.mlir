// The whole way on the command line with real weights: trn-opt imports an ONNX model
// (weights to a raw file beside -o) and lowers it with graph-to-isa; the program's weight
// tensors name that file and offset, so trn-run loads them (only the inputs are random when
// not given) and matches the graph-level run of the same model on the same inputs.

// RUN: rm -rf %t && mkdir -p %t
// RUN: %PYTHON -c "import numpy as np; np.savez('%t/in.npz', input_ids=np.array([[1, 5, 900, 3, 7, 2, 0, 44]]), attention_mask=np.array([[1, 1, 1, 1, 1, 1, 0, 0]]), token_type_ids=np.array([[0, 0, 0, 1, 1, 1, 1, 0]]))"
// RUN: trn-opt %examples/bert_tiny.onnx --input-shape input_ids=1x8 --input-shape attention_mask=1x8 --input-shape token_type_ids=1x8 -o %t/graph.mlir
// RUN: trn-opt %examples/bert_tiny.onnx --input-shape input_ids=1x8 --input-shape attention_mask=1x8 --input-shape token_type_ids=1x8 -p 'graph-to-isa{dtype=fp32}' -o %t/isa.mlir
// RUN: filecheck %s --input-file %t/isa.mlir --check-prefix=TABLE
// TABLE: trn_isa.hbm_tensor @input_ids : tensor<1x8xi32> at {{[0-9]+}} role input {{.*}}tile.tensor_element = i64
// TABLE: trn_isa.hbm_tensor @model.embeddings.word_embeddings.weight : tensor<1000x64xf32> at {{[0-9]+}} role weight {{.*}}tile.weight_file = "isa.weights", tile.weight_offset = 0
// RUN: trn-run %t/graph.mlir --inputs %t/in.npz --output-dir %t/graph > /dev/null
// RUN: trn-run %t/isa.mlir --inputs %t/in.npz --output-dir %t/isa | filecheck %s
// CHECK-NOT: filled with seeded random data
// CHECK: output last_hidden_state: shape (1, 8, 64) float32
// RUN: %PYTHON -c "import numpy as np; [np.testing.assert_allclose(np.load('%t/isa/' + n + '.npy'), np.load('%t/graph/' + n + '.npy'), rtol=1e-4, atol=1e-5) for n in ('last_hidden_state', 'pooler_output')]"

// Without --inputs, token ids are drawn within the embedding tables they index (the
// token-type table has 2 rows), so the graph-level run works out of the box.
// RUN: trn-run %t/graph.mlir --random-inputs | filecheck %s --check-prefix=RANDOM
// RANDOM: note: filled with seeded random data (seed 0): input_ids, attention_mask, token_type_ids
// RANDOM: output last_hidden_state: shape (1, 8, 64) float32
