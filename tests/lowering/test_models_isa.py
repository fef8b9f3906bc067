"""Bundled models that the lowering covers today compile to trn_isa, run on the
simulator and match onnxruntime: fp32 to 1e-4 (of the output's scale), bf16 to 2e-2 (the
documented tolerance, `trnc.tools.trn_compile.TOLERANCE`), through `trnc.onnx_backend`
with `level="isa"`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from load_by_path import ROOT, load_by_path

from trnc.onnx_backend import TrncBackend
from trnc.tools.trn_compile import TOLERANCE

MODELS = Path(__file__).resolve().parent.parent / "models"


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize("model", ["mlp.onnx", "mlp_dynamo.onnx"])
@pytest.mark.parametrize("batch", [1, 37])
def test_mlp_at_isa_level(model: str, dtype: str, batch: int) -> None:
    x = np.random.default_rng(batch).standard_normal((batch, 64)).astype(np.float32)
    path = MODELS / model
    (expected,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x}
    )
    rep = TrncBackend.prepare(onnx.load(str(path)), "CPU", level="isa", dtype=dtype)
    (got,) = rep.run([x])
    assert got.shape == expected.shape and got.dtype == expected.dtype
    scale = float(np.abs(expected).max())
    assert float(np.abs(got - expected).max()) <= TOLERANCE[dtype] * scale


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize("model", ["cnn.onnx", "cnn_dynamo.onnx"])
def test_cnn_at_isa_level(model: str, dtype: str) -> None:
    """Conv (stride, padding, groups, dilation), BatchNormalization, ReLU, MaxPool,
    AveragePool, Gemm: decomposed (taps, strided slices, per-channel broadcasts), lowered
    and simulated."""
    x = np.random.default_rng(3).standard_normal((2, 3, 32, 32)).astype(np.float32)
    path = MODELS / model
    (expected,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x}
    )
    rep = TrncBackend.prepare(onnx.load(str(path)), "CPU", level="isa", dtype=dtype)
    (got,) = rep.run([x])
    assert got.shape == expected.shape
    scale = float(np.abs(expected).max())
    assert float(np.abs(got - expected).max()) <= TOLERANCE[dtype] * scale


TRANSFORMERS = [
    "bert_torchscript.onnx",
    "bert_dynamo.onnx",
    "gpt2_torchscript.onnx",
    "gpt2_dynamo.onnx",
]


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize("model", TRANSFORMERS)
def test_transformer_at_isa_level(model: str, dtype: str) -> None:
    """BERT and GPT-2 (both exporters) at the manifest's pinned shape with padded rows:
    int64 token ids, embedding gathers (one-hot matmuls), the attention mask's integer and
    boolean logic, where, the heads' [0, 2, 1, 3] / [0, 2, 3, 1] transposes, softmax,
    layer norm, GELU."""
    models = load_by_path(ROOT / "tests" / "frontend" / "test_models.py", "trnc_tests_models")
    entry = {"file": model, **models.MANIFEST[model]}
    feeds = models._inputs(entry, models._dims(entry, second=False), seed=2)
    path = MODELS / model
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.run(None, feeds)
    rep = TrncBackend.prepare(onnx.load(str(path)), "CPU", level="isa", dtype=dtype)
    got = rep.run(feeds)
    for name, g, e in zip(rep.output_names, got, expected, strict=True):
        assert g.shape == e.shape and g.dtype == e.dtype, name
        scale = float(np.abs(e).max())
        error = float(np.abs(g - e).max())
        assert error <= TOLERANCE[dtype] * scale, (
            f"{model} {name}: {error} > {TOLERANCE[dtype]} * {scale}"
        )
