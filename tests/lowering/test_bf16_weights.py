"""bf16 weight storage (`graph-to-tile{dtype=bf16}`, `_FunctionLowerer.weight_storage`): an
f32 weight that only matmuls read is stored in HBM as bf16. The results must be the same
bytes as loading it in f32 and casting each tile on GpSimdE (both round to nearest even),
with fewer instructions and DMA bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import trnc
from trnc.lowering.graph_to_tile import _FunctionLowerer
from trnc.simulator.program import QUEUE_NAMES, Program, decode

ROOT = Path(__file__).resolve().parents[2]
MODELS = [
    (ROOT / "examples" / "mlp.onnx", {"x": [8, 64]}),
    (ROOT / "tests" / "models" / "cnn.onnx", {"x": [2, 3, 32, 32]}),
]


def _feeds(model: trnc.CompiledModel) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    return {
        name: rng.standard_normal(model.shapes[name]).astype(np.float32)
        for name in model.input_names
    }


@pytest.mark.parametrize(("path", "shapes"), MODELS, ids=lambda v: getattr(v, "name", ""))
def test_bf16_weights_give_the_same_bytes_with_less_work(
    path: Path, shapes: dict[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = trnc.compile(path, input_shapes=shapes, dtype="bf16")
    with monkeypatch.context() as patch:
        patch.setattr(_FunctionLowerer, "weight_storage", lambda self, value: None)
        cast = trnc.compile(path, input_shapes=shapes, dtype="bf16")
    feeds = _feeds(stored)
    got, expected = stored.run(feeds), cast.run(feeds)
    assert got.keys() == expected.keys()
    for name in got:
        assert got[name].tobytes() == expected[name].tobytes(), name

    program, before = decode(stored.module), decode(cast.module)
    bf16_weights = [t for t in program.tensors if t.role == "weight" and t.dtype == "bf16"]
    assert bf16_weights, "no weight was stored as bf16"
    assert all(t.source_dtype == np.float32 for t in bf16_weights)

    def gpsimd_casts(p: Program) -> int:
        gpsimd = QUEUE_NAMES.index("gpsimd")
        return sum(
            1
            for i in p.instrs
            if i.opcode == "tensor_copy" and i.queue == gpsimd and i.args["dst"].dtype == "bf16"
        )

    assert gpsimd_casts(program) < gpsimd_casts(before)
    assert len(program.instrs) < len(before.instrs)
    hbm = sum(t.nbytes for t in program.tensors if t.role == "weight")
    assert hbm < sum(t.nbytes for t in before.tensors if t.role == "weight")


def test_fp32_keeps_f32_weights() -> None:
    model = trnc.compile(ROOT / "examples" / "mlp.onnx", input_shapes={"x": [8, 64]}, dtype="fp32")
    weights = [t for t in decode(model.module).tensors if t.role == "weight"]
    assert weights and all(t.dtype == "f32" for t in weights)
