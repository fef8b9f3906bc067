"""The fused dense epilogue of graph-to-tile (`lowering/graph_to_tile_dense.py`): a matmul
by a 2-D weight followed by a bias add, an optional activation and an optional residual
add is one matmul whose PSUM evacuation adds the bias; it matches the graph interpreter
in both dtypes (rows not multiples of 128, N wider than one matmul moves, batch dims),
takes the bias on either side of the add, and leaves the chain alone when an
intermediate has another user or the add is not a bias."""

from __future__ import annotations

import numpy as np
import pytest
from isa_compare import assert_matches_interpreter

import trnc
from trnc.pass_statistics import collecting
from trnc.tools.context import parse_source


def dense_text(
    rows: tuple[int, ...],
    k: int,
    n: int,
    act: str | None,
    residual: bool,
    bias_first: bool = False,
    extra: bool = False,
) -> str:
    """x [rows..., k] @ w [k, n] + b [n], then `act` (a graph op name) and + r; `extra`
    also returns the matmul's result (an intermediate with another user)."""
    x = f"tensor<{'x'.join(map(str, (*rows, k)))}xf32>"
    t = f"tensor<{'x'.join(map(str, (*rows, n)))}xf32>"
    w, v = f"tensor<{k}x{n}xf32>", f"tensor<{n}xf32>"
    args = [f'%x: {x} {{graph.name = "x"}}', f'%w: {w} {{graph.name = "w"}}']
    args += [f'%b: {v} {{graph.name = "b"}}']
    args += [f'%r: {t} {{graph.name = "r"}}'] if residual else []
    add = f"graph.add %b, %m : ({v}, {t})" if bias_first else f"graph.add %m, %b : ({t}, {v})"
    lines = [f"%m = graph.matmul %x, %w : ({x}, {w}) -> {t}", f"%y0 = {add} -> {t}"]
    y = "%y0"
    if act is not None:
        lines.append(f"%y1 = graph.{act} {y} : {t}")
        y = "%y1"
    if residual:
        lines.append(f"%y2 = graph.add {y}, %r : ({t}, {t}) -> {t}")
        y = "%y2"
    outs = [(y, "y")] + ([("%m", "m")] if extra else [])
    results = ", ".join(f'{t} {{graph.name = "{name}"}}' for _, name in outs)
    lines.append(f"func.return {', '.join(v for v, _ in outs)} : {', '.join(t for _ in outs)}")
    body = "\n  ".join(lines)
    return f"func.func @main({', '.join(args)}) -> ({results}) {{\n  {body}\n}}"


def _feeds(rows: tuple[int, ...], k: int, n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((*rows, k)).astype(np.float32),
        "w": (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32),
        "b": rng.standard_normal(n).astype(np.float32),
        "r": rng.standard_normal((*rows, n)).astype(np.float32),
    }


CASES = {
    # rows, k, n, activation, residual, bias first
    "bias": ((200,), 96, 64, None, False, False),
    "gelu": ((1, 130), 256, 700, "gelu", False, False),
    "residual": ((2, 100), 300, 768, None, True, True),
    "relu-residual": ((129,), 128, 520, "relu", True, False),
    "tanh": ((3, 5), 40, 33, "tanh", False, True),
}


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize("name", list(CASES))
def test_fused_dense_matches_the_interpreter(name: str, dtype: str) -> None:
    rows, k, n, act, residual, bias_first = CASES[name]
    text = dense_text(rows, k, n, act, residual, bias_first)
    with collecting() as stats:
        model = trnc.compile(parse_source(text, "dense.mlir"), dtype=dtype)
    assert stats.passes["graph-to-tile"]["fused-dense"][0] == 1
    feeds = _feeds(rows, k, n, sum(rows) + n)
    feeds = {key: v for key, v in feeds.items() if f'graph.name = "{key}"' in text}
    assert_matches_interpreter(model, text, feeds, tolerance=1e-5 if dtype == "fp32" else 2e-2)


def _fused_count(text: str) -> int:
    with collecting() as stats:
        trnc.compile(parse_source(text, "dense.mlir"), dtype="fp32")
    return stats.passes.get("graph-to-tile", {}).get("fused-dense", (0, ""))[0]


def test_the_pattern_takes_the_chain() -> None:
    assert _fused_count(dense_text((130,), 64, 96, "gelu", True)) == 1


def test_an_intermediate_with_another_user_stays_op_by_op() -> None:
    rows, k, n = (130,), 64, 96
    text = dense_text(rows, k, n, None, False, extra=True)
    assert _fused_count(text) == 0
    model = trnc.compile(parse_source(text, "dense.mlir"), dtype="fp32")
    feeds = {key: v for key, v in _feeds(rows, k, n, 3).items() if key in ("x", "w", "b")}
    assert_matches_interpreter(model, text, feeds)
    assert_matches_interpreter(model, text, feeds, output="m")


def test_an_add_of_a_full_tensor_is_not_a_bias() -> None:
    # matmul + r (no bias): the add's other operand is not a row vector
    text = (
        dense_text((130,), 64, 96, None, False)
        .replace("%b: tensor<96xf32>", "%b: tensor<130x96xf32>")
        .replace(
            "tensor<96xf32>) -> tensor<130x96xf32>", "tensor<130x96xf32>) -> tensor<130x96xf32>"
        )
    )
    assert _fused_count(text) == 0


@pytest.mark.parametrize("n", [768, 5000])
def test_bias_spread_short_and_long(n: int) -> None:
    """The bias is spread by one load and a loop over equal chunks when short (768 =
    2 x 384), a load per chunk when long (5000 > 4096 columns: a vocabulary-sized bias
    needs no row of SBUF of its own); both match."""
    text = f"""
func.func @main(%x: tensor<128x64xf32> {{graph.name = "x"}},
                %w: tensor<64x{n}xf32> {{graph.name = "w"}},
                %b: tensor<{n}xf32> {{graph.name = "b"}})
    -> (tensor<128x{n}xf32> {{graph.name = "y"}}) {{
  %m = graph.matmul %x, %w : (tensor<128x64xf32>, tensor<64x{n}xf32>) -> tensor<128x{n}xf32>
  %y = graph.add %m, %b : (tensor<128x{n}xf32>, tensor<{n}xf32>) -> tensor<128x{n}xf32>
  func.return %y : tensor<128x{n}xf32>
}}"""
    rng = np.random.default_rng(11)
    feeds = {
        "x": rng.standard_normal((128, 64)).astype(np.float32),
        "w": rng.standard_normal((64, n)).astype(np.float32),
        "b": rng.standard_normal(n).astype(np.float32),
    }
    model = trnc.compile(parse_source(text, "bias.mlir"), dtype="fp32")
    tile_ir = model.ir("tile")
    whole_row = f"!tile.buffer<1x{n}xf32, hbm> -> !tile.buffer<1x{n}xf32, sbuf"
    assert (whole_row in tile_ir) == (n <= 4096)
    assert_matches_interpreter(model, text, feeds)
