"""The BERT builder of the benchmarks (`benchmarks/bert_onnx.py`) at a tiny size: the model
passes the ONNX checker, runs in onnxruntime, imports into trnc and runs at graph level to
the same answer; `save_bert` writes external data the checker and onnxruntime read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from load_by_path import ROOT, load_by_path

from trnc.frontend.onnx import import_model
from trnc.interpreters.graph import run_graph

TINY = {
    "layers": 2,
    "hidden": 64,
    "heads": 4,
    "intermediate": 128,
    "vocab": 100,
    "seq": 16,
    "batch": 2,
}


bert_onnx = load_by_path(ROOT / "benchmarks" / "bert_onnx.py", "trnc_bench_bert_onnx")


def _inputs(batch: int, seq: int, vocab: int, seed: int) -> dict[str, np.ndarray]:
    """Ids in [0, vocab), token types 0/1, a right-padded mask with at least one 1 per row
    (one row fully attended, one padded)."""
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, seq), np.int64)
    for row in range(1, batch):
        mask[row, int(rng.integers(1, seq)) :] = 0
    return {
        "input_ids": rng.integers(0, vocab, (batch, seq)).astype(np.int64),
        "attention_mask": mask,
        "token_type_ids": rng.integers(0, 2, (batch, seq)).astype(np.int64),
    }


def _ort(model: onnx.ModelProto | str, feeds: dict[str, np.ndarray]) -> np.ndarray:
    source = model if isinstance(model, str) else model.SerializeToString()
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(["last_hidden_state"], feeds)[0])


def _close(got: np.ndarray, expected: np.ndarray) -> None:
    assert got.shape == expected.shape and got.dtype == expected.dtype
    scale = float(np.abs(expected).max())
    assert scale > 0
    error = float(np.abs(got.astype(np.float64) - expected).max())
    assert error <= 1e-4 * scale, f"max |error| {error:.3g} > 1e-4 * max |ref| ({scale:.3g})"


def test_structure() -> None:
    model = bert_onnx.build_bert(**TINY)
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 17
    graph = model.graph
    assert [i.name for i in graph.input] == ["input_ids", "attention_mask", "token_type_ids"]
    for value in graph.input:
        assert value.type.tensor_type.elem_type == onnx.TensorProto.INT64
        assert [d.dim_value for d in value.type.tensor_type.shape.dim] == [2, 16]
    (out,) = graph.output
    assert out.name == "last_hidden_state"
    assert [d.dim_value for d in out.type.tensor_type.shape.dim] == [2, 16, 64]
    ops = [n.op_type for n in graph.node]
    assert ops.count("Gather") == 3
    assert ops.count("LayerNormalization") == 1 + 2 * 2
    assert ops.count("Softmax") == 2 and ops.count("Erf") == 2
    assert ops.count("MatMul") == 2 * (6 + 2)
    perms = [list(a.ints) for n in graph.node if n.op_type == "Transpose" for a in n.attribute]
    assert perms.count([0, 2, 3, 1]) == 2 and perms.count([0, 2, 1, 3]) == 2 * 3
    floats = [t for t in graph.initializer if t.data_type == onnx.TensorProto.FLOAT]
    assert sum(int(np.prod(t.dims)) for t in floats) > 100 * 64  # weights are initializers


def test_matches_onnxruntime_and_graph_reference(tmp_path: Path) -> None:
    model = bert_onnx.build_bert(**TINY)
    feeds = _inputs(TINY["batch"], TINY["seq"], TINY["vocab"], seed=1)
    expected = _ort(model, feeds)
    assert expected.shape == (2, 16, 64) and np.isfinite(expected).all()
    result = import_model(model, weights_path=tmp_path / "bert.weights")
    got = run_graph(result.module, feeds).outputs["last_hidden_state"]
    _close(got, expected)


def test_save_with_external_data(tmp_path: Path) -> None:
    config = {**TINY, "layers": 1}
    path = bert_onnx.save_bert(tmp_path / "bert.onnx", **config)
    assert (tmp_path / "bert.onnx.data").stat().st_size > 100 * 64 * 4
    assert path.stat().st_size < 64 * 1024  # the weights live in the data file
    feeds = _inputs(TINY["batch"], TINY["seq"], TINY["vocab"], seed=2)
    expected = _ort(bert_onnx.build_bert(**config), feeds)
    np.testing.assert_array_equal(_ort(str(path), feeds), expected)
