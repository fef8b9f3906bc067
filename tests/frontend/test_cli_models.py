"""End to end through the command line, as a user would: `trn-opt model.onnx
--input-shape ... -o model.mlir` prints graph IR (weights in a file beside it), then
`trn-run model.mlir --inputs in.npz --output-dir out` runs it; the outputs match
onnxruntime to 1e-4 (fp32) for a transformer and a CNN of tests/models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

MODELS = Path(__file__).resolve().parent.parent / "models"
BIN = Path(sys.executable).parent

CASES = {
    "bert_dynamo.onnx": {
        "input_ids": np.array([[5, 17, 999, 3, 0, 42]], np.int64),
        "attention_mask": np.array([[1, 1, 1, 1, 0, 0]], np.int64),
        "token_type_ids": np.array([[0, 0, 1, 1, 1, 0]], np.int64),
    },
    "gpt2_torchscript.onnx": {
        "input_ids": np.array([[7, 8, 9, 10], [1, 2, 3, 4]], np.int64),
        "attention_mask": np.array([[1, 1, 1, 1], [1, 1, 0, 0]], np.int64),
    },
    "cnn.onnx": {
        "x": np.random.default_rng(3).standard_normal((2, 3, 32, 32)).astype(np.float32),
    },
}


@pytest.mark.parametrize("model", sorted(CASES))
def test_import_then_run_matches_onnxruntime(model: str, tmp_path: Path) -> None:
    feeds = CASES[model]
    shapes = [f"--input-shape={n}={'x'.join(map(str, a.shape))}" for n, a in feeds.items()]
    mlir = tmp_path / "model.mlir"
    subprocess.run([BIN / "trn-opt", MODELS / model, *shapes, "-o", mlir], check=True, cwd=tmp_path)
    assert (tmp_path / "model.weights").exists()
    assert mlir.stat().st_size < 64 * 1024  # weights are not in the text
    np.savez(tmp_path / "in.npz", **feeds)
    run = subprocess.run(
        [BIN / "trn-run", mlir, "--inputs", tmp_path / "in.npz", "--output-dir", tmp_path / "out"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    session = ort.InferenceSession(str(MODELS / model), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    for name, expected in zip(names, session.run(None, feeds), strict=True):
        got = np.load(tmp_path / "out" / f"{name}.npy")
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4, err_msg=name)
