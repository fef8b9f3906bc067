"""The fused feed-forward block of graph-to-tile (`lowering/graph_to_tile_ffn.py`): two
dense layers with an activation between them, the hidden activations computed
feature-major (no transposes of them); it matches the graph interpreter in both dtypes
(tokens not multiples of 128 and more than one group of 512, K not a multiple of 128,
batch dims, with and without a residual), and leaves the chain to the dense pattern when
the hidden width is not a multiple of 128 or the hidden value has another user."""

from __future__ import annotations

import numpy as np
import pytest
from isa_compare import assert_matches_interpreter

import trnc
from trnc.pass_statistics import collecting
from trnc.simulator.program import decode
from trnc.tools.context import parse_source


def ffn_text(
    rows: tuple[int, ...], k: int, f: int, n: int, act: str, residual: bool, extra: bool = False
) -> str:
    """act(x @ w1 + b1) @ w2 + b2 [+ r]; `extra` also returns the hidden activations."""
    x = f"tensor<{'x'.join(map(str, (*rows, k)))}xf32>"
    hid = f"tensor<{'x'.join(map(str, (*rows, f)))}xf32>"
    t = f"tensor<{'x'.join(map(str, (*rows, n)))}xf32>"
    args = [f'%x: {x} {{graph.name = "x"}}']
    args += [f'%w1: tensor<{k}x{f}xf32> {{graph.name = "w1"}}']
    args += [f'%b1: tensor<{f}xf32> {{graph.name = "b1"}}']
    args += [f'%w2: tensor<{f}x{n}xf32> {{graph.name = "w2"}}']
    args += [f'%b2: tensor<{n}xf32> {{graph.name = "b2"}}']
    args += [f'%r: {t} {{graph.name = "r"}}'] if residual else []
    lines = [
        f"%m1 = graph.matmul %x, %w1 : ({x}, tensor<{k}x{f}xf32>) -> {hid}",
        f"%a1 = graph.add %m1, %b1 : ({hid}, tensor<{f}xf32>) -> {hid}",
        f"%h = graph.{act} %a1 : {hid}",
        f"%m2 = graph.matmul %h, %w2 : ({hid}, tensor<{f}x{n}xf32>) -> {t}",
        f"%y0 = graph.add %m2, %b2 : ({t}, tensor<{n}xf32>) -> {t}",
    ]
    y = "%y0"
    if residual:
        lines.append(f"%y1 = graph.add %y0, %r : ({t}, {t}) -> {t}")
        y = "%y1"
    outs = [(y, "y", t)] + ([("%h", "h", hid)] if extra else [])
    results = ", ".join(f'{ty} {{graph.name = "{name}"}}' for _, name, ty in outs)
    lines.append(
        f"func.return {', '.join(v for v, _, _ in outs)} : {', '.join(ty for *_, ty in outs)}"
    )
    body = "\n  ".join(lines)
    return f"func.func @main({', '.join(args)}) -> ({results}) {{\n  {body}\n}}"


def _feeds(rows: tuple[int, ...], k: int, f: int, n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((*rows, k)).astype(np.float32),
        "w1": (rng.standard_normal((k, f)) / np.sqrt(k)).astype(np.float32),
        "b1": rng.standard_normal(f).astype(np.float32),
        "w2": (rng.standard_normal((f, n)) / np.sqrt(f)).astype(np.float32),
        "b2": rng.standard_normal(n).astype(np.float32),
        "r": rng.standard_normal((*rows, n)).astype(np.float32),
    }


def _fused(text: str, dtype: str) -> tuple[trnc.CompiledModel, int]:
    with collecting() as stats:
        model = trnc.compile(parse_source(text, "ffn.mlir"), dtype=dtype)
    return model, stats.passes.get("graph-to-tile", {}).get("fused-ffn", (0, ""))[0]


CASES = {
    # rows, k, f, n, activation, residual
    "gelu-residual": ((1, 130), 192, 256, 96, "gelu", True),
    "relu-two-groups": ((700,), 128, 384, 520, "relu", False),
    "tanh-batch": ((2, 3, 50), 300, 128, 64, "tanh", True),
    "narrow-k": ((8,), 64, 128, 64, "gelu", True),  # K < 128: no loop of full K blocks
}


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize("name", list(CASES))
def test_fused_ffn_matches_the_interpreter(name: str, dtype: str) -> None:
    rows, k, f, n, act, residual = CASES[name]
    text = ffn_text(rows, k, f, n, act, residual)
    model, fused = _fused(text, dtype)
    assert fused == 1
    # the hidden activations are never transposed: every transpose is of a block of x
    # (per group of 512 tokens, per 128 tokens, per K block) or of b1 (once)
    m = int(np.prod(rows))
    x_blocks = sum(-(-min(512, m - g) // 128) for g in range(0, m, 512)) * -(-k // 128)
    program = decode(model.module)
    assert sum(1 for ins in program.instrs if ins.opcode == "transpose") == x_blocks + 1
    feeds = _feeds(rows, k, f, n, seed=sum(rows) + f)
    feeds = {key: v for key, v in feeds.items() if f'graph.name = "{key}"' in text}
    assert_matches_interpreter(model, text, feeds, tolerance=1e-5 if dtype == "fp32" else 2e-2)


def test_a_hidden_width_not_a_multiple_of_128_is_two_dense_layers() -> None:
    text = ffn_text((130,), 64, 200, 32, "relu", False)
    model, fused = _fused(text, "fp32")
    assert fused == 0
    feeds = {key: v for key, v in _feeds((130,), 64, 200, 32, 5).items() if key != "r"}
    assert_matches_interpreter(model, text, feeds)


def test_hidden_activations_with_another_user_are_two_dense_layers() -> None:
    text = ffn_text((130,), 64, 128, 32, "gelu", False, extra=True)
    model, fused = _fused(text, "fp32")
    assert fused == 0
    feeds = {key: v for key, v in _feeds((130,), 64, 128, 32, 6).items() if key != "r"}
    assert_matches_interpreter(model, text, feeds)
    assert_matches_interpreter(model, text, feeds, output="h")
