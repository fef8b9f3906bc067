"""The fused softmax pattern of graph-to-tile (`lowering/graph_to_tile_softmax.py`): it
takes the decomposed chain, agrees with the op-by-op lowering to a few ulps (the same
instructions; the simulator's exp, numpy's float32 one, may differ in the last bits on
differently shaped tiles), and leaves the chain alone when an intermediate has another
user."""

from __future__ import annotations

import numpy as np
import pytest

import trnc
from trnc.lowering import graph_to_tile_patterns, graph_to_tile_softmax
from trnc.tools.context import parse_source


@pytest.fixture(autouse=True)
def _fuse_small_tensors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pattern fuses only softmaxes too big for SBUF; here, of any size."""
    monkeypatch.setattr(graph_to_tile_softmax, "FUSE_ABOVE_BYTES", 0)


SOFTMAX = """
func.func @main(%x: tensor<{shape}xf32> {{graph.name = "x"}})
    -> (tensor<{shape}xf32> {{graph.name = "y"}}) {{
  %y = graph.softmax %x {{axis = -1}} : tensor<{shape}xf32>
  func.return %y : tensor<{shape}xf32>
}}"""


def _run(text: str, x: np.ndarray, fused: bool, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    with monkeypatch.context() as patch:
        if not fused:
            patch.setattr(graph_to_tile_patterns, "match_softmax", lambda op: None)
        model = trnc.compile(parse_source(text, "softmax.mlir"), dtype="fp32")
    return model.run({"x": x})["y"]


@pytest.mark.parametrize("shape", [(3, 130, 77), (2, 128), (1, 5, 300)])
def test_fused_softmax_matches_the_op_by_op_lowering(
    shape: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = SOFTMAX.format(shape="x".join(map(str, shape)))
    rng = np.random.default_rng(len(shape))
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    x.flat[0] = -np.inf
    fused = _run(text, x, True, monkeypatch)
    plain = _run(text, x, False, monkeypatch)
    np.testing.assert_allclose(fused, plain, rtol=4e-6, atol=1e-12)
    e = np.exp(x.astype(np.float64) - x.max(-1, keepdims=True))
    np.testing.assert_allclose(fused, e / e.sum(-1, keepdims=True), rtol=1e-5, atol=1e-7)


def test_small_softmaxes_stay_op_by_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real threshold: a 4 x 64 softmax fits on chip many times
    text = SOFTMAX.format(shape="4x64")
    tile_ir = trnc.compile(parse_source(text, "softmax.mlir"), dtype="fp32").ir("tile")
    assert "bias" not in tile_ir.split("tile.activation exp")[1].split("\n")[0]


def test_fused_softmax_takes_the_chain_and_only_the_chain() -> None:
    text = SOFTMAX.format(shape="4x64")
    tile_ir = trnc.compile(parse_source(text, "softmax.mlir"), dtype="fp32").ir("tile")
    assert tile_ir.count("tile.activation exp") == 1
    assert "bias" in tile_ir.split("tile.activation exp")[1].split("\n")[0]
    # the exp is also an output: the chain is not fused, every op is lowered alone
    shared = """
func.func @main(%x: tensor<4x64xf32> {graph.name = "x"})
    -> (tensor<4x64xf32> {graph.name = "y"}, tensor<4x64xf32> {graph.name = "e"}) {
  %m = graph.reduce_max %x {axes = [-1], keepdims = true} : tensor<4x64xf32> -> tensor<4x1xf32>
  %d = graph.sub %x, %m : (tensor<4x64xf32>, tensor<4x1xf32>) -> tensor<4x64xf32>
  %e = graph.exp %d : tensor<4x64xf32>
  %s = graph.reduce_sum %e {axes = [-1], keepdims = true} : tensor<4x64xf32> -> tensor<4x1xf32>
  %y = graph.div %e, %s : (tensor<4x64xf32>, tensor<4x1xf32>) -> tensor<4x64xf32>
  func.return %y, %e : tensor<4x64xf32>, tensor<4x64xf32>
}"""
    model = trnc.compile(parse_source(shared, "shared.mlir"), dtype="fp32")
    assert "bias" not in model.ir("tile").split("tile.activation exp")[1].split("\n")[0]
    x = np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32)
    got = model.run({"x": x})
    e = np.exp(x - x.max(-1, keepdims=True))
    np.testing.assert_allclose(got["e"], e, rtol=1e-6)
    np.testing.assert_allclose(got["y"], e / e.sum(-1, keepdims=True), rtol=1e-6)


def test_large_logits_do_not_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """exp(x - max) stays finite where exp(x) overflows fp32 (x > 88): the negated maxima
    reach the exp as its bias (a regression: tile-to-isa once dropped the bias, and every
    row with a logit above 88 came out NaN)."""
    text = SOFTMAX.format(shape="130x77")
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((130, 77)) * 100).astype(np.float32)
    fused = _run(text, x, True, monkeypatch)
    e = np.exp(x.astype(np.float64) - x.max(-1, keepdims=True))
    np.testing.assert_allclose(fused, e / e.sum(-1, keepdims=True), rtol=1e-5, atol=1e-7)
