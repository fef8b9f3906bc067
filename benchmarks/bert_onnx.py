"""A BERT encoder (HuggingFace `BertModel`'s structure, as its ONNX export lays it out) built
with `onnx.helper` and random weights, so the benchmarks need neither torch nor transformers.

    model = build_bert(layers=2, hidden=64, heads=4, intermediate=128, vocab=100, seq=16)
    save_bert("bert.onnx", seq=128)     # BERT-base: bert.onnx + bert.onnx.data (~440 MB)

Inputs `input_ids`, `attention_mask`, `token_type_ids` (int64 [batch, seq]); output
`last_hidden_state` (float32 [batch, seq, hidden]). Graph: word + token-type + position
embeddings (Gather on axis 0; position ids are a constant int64 initializer 0..seq-1),
LayerNormalization (epsilon 1e-12); the extended attention mask
(1 - float(mask)) * finfo(float32).min reshaped to [batch, 1, 1, seq]; per layer:
self-attention (Q/K/V MatMul + Add, Reshape to [b, s, heads, d] and Transpose to
[b, heads, s, d] (K to [b, heads, d, s]), MatMul, Div by sqrt(d), Add the mask, Softmax on
the last axis, MatMul with V, Transpose back, Reshape to [b, s, hidden]), output dense +
residual + LayerNorm, feed-forward (MatMul + Add, GELU in its erf form
x * 0.5 * (1 + Erf(x / sqrt(2))), MatMul + Add) + residual + LayerNorm. Shapes are static.
Weights are float32 initializers named as in the HuggingFace checkpoint: dense weights
N(0, 0.02) stored [in, out] (the exported MatMul operand), dense biases and embeddings
N(0, 0.02), LayerNorm weights 1 and biases 0.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
"""The IR version that goes with opset 17 (onnxruntime reads it; newer ones it may not)."""
STD = 0.02
LAYER_NORM_EPSILON = 1e-12


class _Builder:
    """Nodes and initializers of one graph, with unique value names."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[TensorProto] = []
        self._count = 0

    def const(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def weight(self, name: str, shape: tuple[int, ...]) -> str:
        return self.const(name, (self.rng.standard_normal(shape, np.float32) * STD))

    def node(self, op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        self._count += 1
        output = f"{name}_{self._count}"
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def dense(self, x: str, prefix: str, n_in: int, n_out: int) -> str:
        w = self.weight(f"{prefix}.weight", (n_in, n_out))
        b = self.weight(f"{prefix}.bias", (n_out,))
        return self.node("Add", [self.node("MatMul", [x, w], f"{prefix}/MatMul"), b], prefix)

    def layer_norm(self, x: str, prefix: str, hidden: int) -> str:
        scale = self.const(f"{prefix}.weight", np.ones(hidden, np.float32))
        bias = self.const(f"{prefix}.bias", np.zeros(hidden, np.float32))
        return self.node(
            "LayerNormalization",
            [x, scale, bias],
            f"{prefix}/LayerNormalization",
            axis=-1,
            epsilon=LAYER_NORM_EPSILON,
        )


def _scalar(b: _Builder, name: str, value: float) -> str:
    return b.const(name, np.array(value, np.float32))


def _shape(b: _Builder, name: str, dims: list[int]) -> str:
    return b.const(name, np.array(dims, np.int64))


def build_bert(
    layers: int = 12,
    hidden: int = 768,
    heads: int = 12,
    intermediate: int = 3072,
    vocab: int = 30522,
    max_positions: int = 512,
    type_vocab: int = 2,
    seq: int = 128,
    batch: int = 1,
    seed: int = 0,
) -> onnx.ModelProto:
    """The ONNX model of a BERT encoder with random weights (see the module docstring)."""
    if hidden % heads:
        raise ValueError(f"hidden ({hidden}) must be a multiple of heads ({heads})")
    if seq > max_positions:
        raise ValueError(f"seq ({seq}) must be at most max_positions ({max_positions})")
    head = hidden // heads
    b = _Builder(np.random.default_rng(seed))

    # Embeddings.
    word = b.weight("embeddings.word_embeddings.weight", (vocab, hidden))
    position = b.weight("embeddings.position_embeddings.weight", (max_positions, hidden))
    token_type = b.weight("embeddings.token_type_embeddings.weight", (type_vocab, hidden))
    position_ids = b.const("embeddings.position_ids", np.arange(seq, dtype=np.int64)[None, :])
    x = b.node(
        "Add",
        [
            b.node("Gather", [word, "input_ids"], "embeddings/word_embeddings/Gather", axis=0),
            b.node(
                "Gather",
                [token_type, "token_type_ids"],
                "embeddings/token_type_embeddings/Gather",
                axis=0,
            ),
        ],
        "embeddings/Add",
    )
    x = b.node(
        "Add",
        [
            x,
            b.node(
                "Gather", [position, position_ids], "embeddings/position_embeddings/Gather", axis=0
            ),
        ],
        "embeddings/Add_1",
    )
    x = b.layer_norm(x, "embeddings.LayerNorm", hidden)

    # Extended attention mask: 0 where attended, finfo(float32).min where masked.
    mask = b.node(
        "Reshape",
        ["attention_mask", _shape(b, "mask_shape", [batch, 1, 1, seq])],
        "extended_attention_mask/Reshape",
    )
    mask = b.node("Cast", [mask], "extended_attention_mask/Cast", to=TensorProto.FLOAT)
    mask = b.node("Sub", [_scalar(b, "one", 1.0), mask], "extended_attention_mask/Sub")
    mask = b.node(
        "Mul",
        [mask, _scalar(b, "float_min", float(np.finfo(np.float32).min))],
        "extended_attention_mask/Mul",
    )

    heads_shape = _shape(b, "heads_shape", [batch, seq, heads, head])
    hidden_shape = _shape(b, "hidden_shape", [batch, seq, hidden])
    sqrt_head = _scalar(b, "sqrt_head_size", math.sqrt(head))
    sqrt_two = _scalar(b, "sqrt_two", math.sqrt(2.0))
    half = _scalar(b, "half", 0.5)
    one = "one"

    for i in range(layers):
        p = f"encoder.layer.{i}"
        a = f"{p}.attention.self"

        def project(kind: str, perm: list[int], x: str = x, a: str = a) -> str:
            y = b.dense(x, f"{a}.{kind}", hidden, hidden)
            y = b.node("Reshape", [y, heads_shape], f"{a}.{kind}/Reshape")
            return b.node("Transpose", [y], f"{a}.{kind}/Transpose", perm=perm)

        q = project("query", [0, 2, 1, 3])
        k = project("key", [0, 2, 3, 1])
        v = project("value", [0, 2, 1, 3])
        scores = b.node("MatMul", [q, k], f"{a}/MatMul")
        scores = b.node("Div", [scores, sqrt_head], f"{a}/Div")
        scores = b.node("Add", [scores, mask], f"{a}/Add")
        probs = b.node("Softmax", [scores], f"{a}/Softmax", axis=-1)
        context = b.node("MatMul", [probs, v], f"{a}/MatMul_1")
        context = b.node("Transpose", [context], f"{a}/Transpose_3", perm=[0, 2, 1, 3])
        context = b.node("Reshape", [context, hidden_shape], f"{a}/Reshape_3")

        o = f"{p}.attention.output"
        y = b.dense(context, f"{o}.dense", hidden, hidden)
        y = b.node("Add", [y, x], f"{o}/Add")
        x = b.layer_norm(y, f"{o}.LayerNorm", hidden)

        h = b.dense(x, f"{p}.intermediate.dense", hidden, intermediate)
        g = f"{p}.intermediate.intermediate_act_fn"
        erf = b.node("Erf", [b.node("Div", [h, sqrt_two], f"{g}/Div")], f"{g}/Erf")
        gelu = b.node("Add", [erf, one], f"{g}/Add")
        gelu = b.node("Mul", [b.node("Mul", [h, half], f"{g}/Mul"), gelu], f"{g}/Mul_1")

        o = f"{p}.output"
        y = b.dense(gelu, f"{o}.dense", intermediate, hidden)
        y = b.node("Add", [y, x], f"{o}/Add")
        x = b.layer_norm(y, f"{o}.LayerNorm", hidden)

    b.nodes[-1].output[0] = "last_hidden_state"  # the last LayerNorm's output
    ids = [batch, seq]
    graph = helper.make_graph(
        b.nodes,
        "bert",
        [
            helper.make_tensor_value_info(name, TensorProto.INT64, ids)
            for name in ("input_ids", "attention_mask", "token_type_ids")
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [*ids, hidden])],
        initializer=b.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="trnc.benchmarks.bert_onnx",
    )
    return model


def save_bert(path: str | os.PathLike[str], **config: Any) -> Path:
    """Build the model (`config`: `build_bert`'s arguments) and write it to `path`, its
    weights as external data in `<name>.data` beside it; checks the written model.
    Returns `path`."""
    path = Path(path)
    model = build_bert(**config)
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=path.name + ".data",
        size_threshold=1024,
    )
    onnx.checker.check_model(str(path))
    return path
