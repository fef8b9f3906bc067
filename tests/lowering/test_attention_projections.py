"""The fused attention with its q, k, v projections (`lowering/graph_to_tile_attention_proj.py`):
three dense layers of one x feeding the heads are taken into the attention, Q^T and K^T
come out feature-major (no transposes of Q or K blocks, x transposed once). Checked
against the graph interpreter in both dtypes (a power-of-two scaling folded into the
projection, a scaling that is not one kept on the scores, 2 and 4 heads per 128
features, batch > 1, a partial last block of tokens), and on chains where the
projections stay dense layers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from isa_compare import assert_matches_interpreter
from load_by_path import ROOT, load_by_path
from xdsl.context import Context
from xdsl.dialects import func

import trnc
from trnc.lowering.graph_to_isa import graph_passes
from trnc.lowering.graph_to_tile_attention import find_attention
from trnc.simulator.program import decode
from trnc.tools.context import parse_source

_attention = load_by_path(ROOT / "tests" / "lowering" / "test_attention.py", "trnc_test_attn")
Case: Any = _attention.Case
_t: Any = _attention._t


def projected_text(c: Any, e: int, shared: bool = True) -> str:
    """`attention_text(c)` with q, k and v computed as dense layers of one x [B, S, E]
    (of two inputs when not `shared`: k and v from another x)."""
    text = _attention.attention_text(c)
    w = c.h * c.d
    x3 = (c.b, c.sq, e)
    head, rest = text.split(") -> (", 1)
    mask_arg = f', %m: {_t(c.mask)} {{graph.name = "m"}}' if c.mask is not None else ""
    args = [f'%x: {_t(x3)} {{graph.name = "x"}}']
    if not shared:
        args.append(f'%x2: {_t(x3)} {{graph.name = "x2"}}')
    for name in ("q", "k", "v"):
        args.append(f'%w{name}: {_t((e, w))} {{graph.name = "w{name}"}}')
        args.append(f'%b{name}: {_t((w,))} {{graph.name = "b{name}"}}')
    signature = f"func.func @main({', '.join(args)}{mask_arg}) -> ("
    lines = []
    for name in ("q", "k", "v"):
        src = "%x" if shared or name == "q" else "%x2"
        out = _t((c.b, c.sq, w))
        lines.append(f"%{name}0 = graph.matmul {src}, %w{name} : ({_t(x3)}, {_t((e, w))}) -> {out}")
        lines.append(f"%{name} = graph.add %{name}0, %b{name} : ({out}, {_t((w,))}) -> {out}")
    body_start = rest.index("{\n") + 2
    rest = rest[:body_start] + "  " + "\n  ".join(lines) + "\n" + rest[body_start:]
    del head
    return signature + rest


def _feeds(c: Any, e: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = c.h * c.d
    feeds = {
        "x": rng.standard_normal((c.b, c.sq, e)).astype(np.float32),
        "x2": rng.standard_normal((c.b, c.sq, e)).astype(np.float32),
    }
    for name in ("q", "k", "v"):
        feeds[f"w{name}"] = (rng.standard_normal((e, w)) / np.sqrt(e)).astype(np.float32)
        feeds[f"b{name}"] = (rng.standard_normal(w) * 0.1).astype(np.float32)
    if c.mask is not None:
        keep = rng.random(c.mask) < 0.8
        feeds["m"] = np.where(keep, 0.0, -1e9).astype(np.float32)
    return feeds


def _chain(text: str) -> Any:
    module = parse_source(text, "attention.mlir")
    for graph_pass in graph_passes():
        graph_pass.apply(Context(), module)
    function = next(iter(module.ops))
    assert isinstance(function, func.FuncOp)
    chains = list(find_attention(function.body.block).values())
    assert len(chains) == 1
    return chains[0]


CASES = {
    # case, E
    "bert": (Case(b=2, h=4, d=64, scale="div", mask=(2, 1, 1, 128)), 192),
    "mul-scale-d32": (Case(b=1, sq=200, sk=200, h=8, d=32, scale="mul", mask=None), 256),
}


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize("name", list(CASES))
def test_projected_attention_matches_the_interpreter(name: str, dtype: str) -> None:
    case, e = CASES[name]
    text = projected_text(case, e)
    assert _chain(text).proj is not None
    model = trnc.compile(parse_source(text, "attention.mlir"), dtype=dtype)
    # transposes: x's blocks (per batch, per 128 tokens, per 128 of E), the two bias
    # columns, the probabilities' blocks (per head, per query and key block); none of
    # Q's or K's
    blocks = -(-case.sq // 128)
    expected = case.b * blocks * -(-e // 128) + 2 + case.b * case.h * blocks * blocks
    program = decode(model.module)
    assert sum(1 for ins in program.instrs if ins.opcode == "transpose") == expected
    feeds = {k: v for k, v in _feeds(case, e, seed=len(name)).items() if k != "x2"}
    assert_matches_interpreter(model, text, feeds, tolerance=1e-5 if dtype == "fp32" else 2e-2)


@pytest.mark.parametrize(
    ("case", "shared"),
    [
        (Case(b=1, h=4, d=64, scale="pre", mask=None), True),  # q and k scaled by 8^-1/2
        (Case(b=1, h=4, d=64, scale="div", mask=None), False),  # k and v from another x
        (Case(b=1, h=2, d=32, scale="div", mask=None), True),  # H*D = 64: not whole blocks
    ],
    ids=["not-a-power-of-two", "not-self-attention", "part-of-a-block"],
)
def test_projections_that_stay_dense_layers(case: Any, shared: bool) -> None:
    e = 128
    text = projected_text(case, e, shared)
    assert _chain(text).proj is None
    model = trnc.compile(parse_source(text, "attention.mlir"), dtype="fp32")
    feeds = _feeds(case, e, seed=7)
    if shared:
        del feeds["x2"]
    assert_matches_interpreter(model, text, feeds)
