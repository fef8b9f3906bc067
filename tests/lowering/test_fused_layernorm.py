"""The fused layer normalization of graph-to-tile (`lowering/graph_to_tile_layernorm.py`):
it takes the decomposed chain (with gamma and beta, with one of them, or with neither),
matches the graph interpreter in both dtypes on rows that are not multiples of 128 and
rows wider than one matmul moves, and leaves the chain alone when an intermediate has
another user."""

from __future__ import annotations

import numpy as np
import pytest
from isa_compare import assert_matches_interpreter

import trnc
from trnc.tools.context import parse_source


def layernorm_text(shape: tuple[int, ...], gamma: bool, beta: bool, extra: bool = False) -> str:
    """A graph.layer_norm (decomposed by the pipeline) over the last axis; `extra` also
    returns the centred values (an intermediate with another user)."""
    t = f"tensor<{'x'.join(map(str, shape))}xf32>"
    v = f"tensor<{shape[-1]}xf32>"
    args = [f'%x: {t} {{graph.name = "x"}}']
    args += [f'%g: {v} {{graph.name = "g"}}'] if gamma else []
    args += [f'%b: {v} {{graph.name = "b"}}'] if beta else []
    axis = len(shape) - 1
    lines = []
    if extra or not (gamma and beta):  # spelled out, as graph-decompose writes it
        m = f"tensor<{'x'.join(map(str, (*shape[:-1], 1)))}xf32>"
        lines += [
            f"%m = graph.reduce_mean %x {{axes = [{axis}], keepdims = true}} : {t} -> {m}",
            f"%c = graph.sub %x, %m : ({t}, {m}) -> {t}",
            f"%s = graph.mul %c, %c : ({t}, {t}) -> {t}",
            f"%v = graph.reduce_mean %s {{axes = [{axis}], keepdims = true}} : {t} -> {m}",
            "%e = graph.constant dense<1.0e-05> : tensor<f32>",
            f"%ve = graph.add %v, %e : ({m}, tensor<f32>) -> {m}",
            f"%r = graph.rsqrt %ve : {m}",
            f"%y0 = graph.mul %c, %r : ({t}, {m}) -> {t}",
        ]
        y = "%y0"
        if gamma:
            lines.append(f"%y1 = graph.mul {y}, %g : ({t}, {v}) -> {t}")
            y = "%y1"
        if beta:
            lines.append(f"%y2 = graph.add {y}, %b : ({t}, {v}) -> {t}")
            y = "%y2"
    else:
        lines.append(
            f"%y = graph.layer_norm %x, %g, %b {{axis = -1, epsilon = 1.0e-05}} : "
            f"({t}, {v}, {v}) -> {t}"
        )
        y = "%y"
    outs = [(y, "y")] + ([("%c", "c")] if extra else [])
    results = ", ".join(f'{t} {{graph.name = "{name}"}}' for _, name in outs)
    lines.append(f"func.return {', '.join(v for v, _ in outs)} : {', '.join(t for _ in outs)}")
    body = "\n  ".join(lines)
    return f"func.func @main({', '.join(args)}) -> ({results}) {{\n  {body}\n}}"


def _feeds(shape: tuple[int, ...], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = shape[-1]
    return {
        "x": (rng.standard_normal(shape) * 3 + 1).astype(np.float32),
        "g": rng.standard_normal(n).astype(np.float32),
        "b": rng.standard_normal(n).astype(np.float32),
    }


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize(
    ("shape", "gamma", "beta"),
    [
        ((2, 200, 96), True, True),  # rows not a multiple of 128, graph.layer_norm
        ((300, 768), True, False),  # wider than one matmul moves (768 > 512): gamma only
        ((1, 129, 64), False, True),  # beta only, one row in the last tile
        ((5, 40), False, False),  # neither
    ],
    ids=["layer_norm", "gamma-only", "beta-only", "bare"],
)
def test_fused_layernorm_matches_the_interpreter(
    shape: tuple[int, ...], gamma: bool, beta: bool, dtype: str
) -> None:
    text = layernorm_text(shape, gamma, beta)
    model = trnc.compile(parse_source(text, "ln.mlir"), dtype=dtype)
    tile_ir = model.ir("tile")
    assert "tile.activation square" in tile_ir and " accum " in tile_ir  # the fused form
    feeds = _feeds(shape, seed=sum(shape))
    feeds = {k: v for k, v in feeds.items() if f'graph.name = "{k}"' in text}
    assert_matches_interpreter(model, text, feeds, tolerance=1e-5)


def test_an_intermediate_with_another_user_stays_op_by_op() -> None:
    shape = (130, 64)
    text = layernorm_text(shape, True, True, extra=True)
    model = trnc.compile(parse_source(text, "ln.mlir"), dtype="fp32")
    assert "tile.activation square" not in model.ir("tile")
    assert_matches_interpreter(model, text, _feeds(shape, seed=1))
