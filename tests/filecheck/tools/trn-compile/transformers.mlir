// The bundled transformer examples (tiny BERT and GPT-2 from transformers, TorchScript
// exports with int64 token ids and attention masks) compile, run and match onnxruntime:
// random token ids are drawn within the embedding tables they index, which the indirect
// DMA (dma_gather) reads: word, position and token-type embeddings.

// RUN: trn-compile %examples/bert_tiny.onnx --input-shape input_ids=2x16 --input-shape attention_mask=2x16 --input-shape token_type_ids=2x16 --run --check --random-inputs | filecheck %s --check-prefix=BERT
// BERT:      output last_hidden_state: shape (2, 16, 64) float32
// BERT:      opcodes: {{.*}}dma_gather 3, {{.*}}tensor_copy_predicated
// BERT:      check against onnxruntime (bf16, tolerance 0.02 of max |ref|):
// BERT-NEXT:   last_hidden_state {{.*}} ok
// BERT-NEXT:   pooler_output {{.*}} ok

// RUN: trn-compile %examples/gpt2_tiny.onnx --input-shape input_ids=1x9 --input-shape attention_mask=1x9 --dtype fp32 --run --check --random-inputs | filecheck %s --check-prefix=GPT2
// GPT2:      output logits: shape (1, 9, 1000) float32
// GPT2:      check against onnxruntime (fp32, tolerance 0.0001 of max |ref|):
// GPT2-NEXT:   logits {{.*}} ok
