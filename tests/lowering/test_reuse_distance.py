"""`tile-allocate{reuse_distance}`: bytes a buffer frees are not handed to a buffer
allocated soon after while others are free, so streamed tiles rotate over several buffers
and loads need not wait for the last tile's readers. Placement changes no result: the
outputs are the same bytes as with tight packing (reuse_distance=0), and the simulated
time is no worse."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

import trnc
from trnc.lowering import graph_to_isa, tile_allocate

ROOT = Path(__file__).resolve().parents[2]
MODELS = [
    (ROOT / "examples" / "mlp.onnx", {"x": [8, 64]}),
    (ROOT / "tests" / "models" / "cnn.onnx", {"x": [2, 3, 32, 32]}),
    (
        ROOT / "examples" / "bert_tiny.onnx",
        {n: [2, 16] for n in ("input_ids", "attention_mask", "token_type_ids")},
    ),
]


@pytest.mark.parametrize(("path", "shapes"), MODELS, ids=lambda v: getattr(v, "name", ""))
def test_rotating_buffers_change_no_result_and_cost_no_time(
    path: Path, shapes: dict[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    rotating = trnc.compile(path, input_shapes=shapes, dtype="bf16")
    with monkeypatch.context() as patch:
        patch.setattr(
            graph_to_isa,
            "TileAllocate",
            functools.partial(tile_allocate.TileAllocate, reuse_distance=0),
        )
        tight = trnc.compile(path, input_shapes=shapes, dtype="bf16")
    feeds = rotating.random_feeds(seed=5)
    got, expected = rotating.run(feeds), tight.run(feeds)
    assert got.keys() == expected.keys()
    for name in got:
        assert got[name].tobytes() == expected[name].tobytes(), name
    fast = rotating.report["simulation"]["simulated_ns"]
    slow = tight.report["simulation"]["simulated_ns"]
    assert fast <= slow
    assert (
        rotating.report["sbuf_peak_bytes_per_partition"]
        >= tight.report["sbuf_peak_bytes_per_partition"]
    )
