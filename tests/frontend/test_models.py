"""The bundled real models (tests/models: BERT and GPT-2 from transformers, an MLP and a
CNN, each exported with PyTorch's TorchScript and dynamo exporters) import and run at graph
level (`trnc.onnx_backend`, level "graph") and match onnxruntime to 1e-4 in fp32, at the
manifest's pinned shape and at a second shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from trnc.onnx_backend import TrncBackend

MODELS = Path(__file__).resolve().parent.parent / "models"
MANIFEST = json.loads((MODELS / "manifest.json").read_text())["models"]
ENTRIES = [{"file": name, **entry} for name, entry in MANIFEST.items()]


def _file(entry: dict[str, Any]) -> str:
    return str(entry.get("file") or entry.get("name"))


def _inputs(entry: dict[str, Any], dims: dict[str, int], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    feeds: dict[str, np.ndarray] = {}
    for spec in entry["inputs"]:
        shape = [d if isinstance(d, int) else dims[d] for d in spec["shape"]]
        name, dtype = spec["name"], np.dtype(spec["dtype"])
        if name == "attention_mask":  # right padding, at least one 1 per row
            mask = np.ones(shape, dtype)
            for row in range(shape[0]):
                keep = int(rng.integers(1, shape[1] + 1))
                mask[row, keep:] = 0
            feeds[name] = mask
        elif dtype.kind in "iu":
            limits = spec.get("value_range", {})
            high = limits.get("max_exclusive", max(limits.get("values", [1])) + 1)
            feeds[name] = rng.integers(limits.get("min", 0), high, size=shape).astype(dtype)
        else:
            feeds[name] = rng.standard_normal(shape).astype(dtype)
    return feeds


def _dims(entry: dict[str, Any], second: bool) -> dict[str, int]:
    dims: dict[str, int] = {}
    for spec in entry["inputs"]:
        for d, pinned in zip(spec["shape"], spec["pin_shape"], strict=True):
            if isinstance(d, str):
                dims[d] = pinned
    if second:  # another specialisation: batch 3, a short odd sequence
        dims = {k: (3 if k == "batch" else 7) for k in dims}
    return dims


@pytest.mark.parametrize("second", [False, True], ids=["pinned", "other-shape"])
@pytest.mark.parametrize("entry", ENTRIES, ids=_file)
def test_model_matches_onnxruntime(entry: dict[str, Any], second: bool) -> None:
    path = MODELS / _file(entry)
    feeds = _inputs(entry, _dims(entry, second), seed=1)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.run(None, feeds)
    rep = TrncBackend.prepare(onnx.load(str(path)), "CPU", level="graph")
    got = rep.run(feeds)
    assert len(got) == len(expected)
    for name, g, e in zip(rep.output_names, got, expected, strict=True):
        assert g.shape == e.shape, name
        assert g.dtype == e.dtype, name
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4, err_msg=f"{path.name}: {name}")
