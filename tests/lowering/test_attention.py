"""The fused attention pattern of graph-to-tile (`lowering/graph_to_tile_attention.py`):
the head transposes, two matmuls around a softmax (with the scalings, the mask and the
NaN guard exporters write) lowered as one `scf.for` over groups of heads. Checked against
the graph interpreter on the variants the matcher takes (sequence lengths not multiples
of 128, cross attention, every mask broadcast, batch > 1, fp32 and bf16), and on chains
it must leave to the op-by-op lowering."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from isa_compare import assert_matches_interpreter
from xdsl.context import Context
from xdsl.dialects import func

import trnc
from trnc.lowering.graph_to_isa import graph_passes
from trnc.lowering.graph_to_tile_attention import find_attention
from trnc.tools.context import parse_source


@dataclass(frozen=True)
class Case:
    b: int = 1
    sq: int = 128
    sk: int = 128
    h: int = 4
    d: int = 32
    scale: str = "div"  # "div" or "mul" after the first matmul, "pre" on q and k, ""
    mask: tuple[int, ...] | None = (1, 1, 1, 128)  # its shape, or no mask
    guard: bool = False  # torch's NaN guard after the softmax
    mask_left: bool = False  # add(mask, scores) instead of add(scores, mask)


def _t(shape: tuple[int, ...], element: str = "f32") -> str:
    return f"tensor<{'x'.join(map(str, shape))}x{element}>"


def attention_text(c: Case) -> str:
    """The graph of one attention block in the shape exporters give it."""
    w = c.h * c.d
    q2, kv2 = (c.b, c.sq, w), (c.b, c.sk, w)
    q4, kv4 = (c.b, c.sq, c.h, c.d), (c.b, c.sk, c.h, c.d)
    qh, vh = (c.b, c.h, c.sq, c.d), (c.b, c.h, c.sk, c.d)
    kt = (c.b, c.h, c.d, c.sk)
    s = (c.b, c.h, c.sq, c.sk)
    args = [f'%q: {_t(q2)} {{graph.name = "q"}}', f'%k: {_t(kv2)} {{graph.name = "k"}}']
    args.append(f'%v: {_t(kv2)} {{graph.name = "v"}}')
    if c.mask is not None:
        args.append(f'%m: {_t(c.mask)} {{graph.name = "m"}}')
    lines = [
        f"%q4 = graph.reshape %q : {_t(q2)} -> {_t(q4)}",
        f"%k4 = graph.reshape %k : {_t(kv2)} -> {_t(kv4)}",
        f"%v4 = graph.reshape %v : {_t(kv2)} -> {_t(kv4)}",
        f"%qh = graph.transpose %q4 {{perm = [0, 2, 1, 3]}} : {_t(q4)} -> {_t(qh)}",
        f"%kt = graph.transpose %k4 {{perm = [0, 2, 3, 1]}} : {_t(kv4)} -> {_t(kt)}",
        f"%vh = graph.transpose %v4 {{perm = [0, 2, 1, 3]}} : {_t(kv4)} -> {_t(vh)}",
        # the scaling as models write it: divide by sqrt(d), or multiply by 1/sqrt(d)
        f"%c = graph.constant dense<{np.sqrt(c.d) if c.scale == 'div' else 1 / np.sqrt(c.d):.6f}>"
        " : tensor<f32>",
        f"%r = graph.constant dense<{1 / np.sqrt(np.sqrt(c.d)):.6f}> : tensor<f32>",
    ]
    lhs, rhs = "%qh", "%kt"
    if c.scale == "pre":
        lines.append(f"%qs = graph.mul %qh, %r : ({_t(qh)}, tensor<f32>) -> {_t(qh)}")
        lines.append(f"%ks = graph.mul %kt, %r : ({_t(kt)}, tensor<f32>) -> {_t(kt)}")
        lhs, rhs = "%qs", "%ks"
    lines.append(f"%s0 = graph.matmul {lhs}, {rhs} : ({_t(qh)}, {_t(kt)}) -> {_t(s)}")
    x = "%s0"
    if c.scale in ("div", "mul"):
        lines.append(f"%s1 = graph.{c.scale} %s0, %c : ({_t(s)}, tensor<f32>) -> {_t(s)}")
        x = "%s1"
    if c.mask is not None:
        pair = f"%m, {x}" if c.mask_left else f"{x}, %m"
        types = f"{_t(c.mask)}, {_t(s)}" if c.mask_left else f"{_t(s)}, {_t(c.mask)}"
        lines.append(f"%s2 = graph.add {pair} : ({types}) -> {_t(s)}")
        x = "%s2"
    lines.append(f"%p = graph.softmax {x} {{axis = -1}} : {_t(s)}")
    p = "%p"
    if c.guard:
        lines += [
            f"%n = graph.equal %p, %p : ({_t(s)}, {_t(s)}) -> {_t(s, 'i1')}",
            "%f = graph.constant dense<false> : tensor<i1>",
            f"%t = graph.equal %n, %f : ({_t(s, 'i1')}, tensor<i1>) -> {_t(s, 'i1')}",
            "%z = graph.constant dense<0.0> : tensor<1xf32>",
            f"%g = graph.where %t, %z, %p : ({_t(s, 'i1')}, tensor<1xf32>, {_t(s)}) -> {_t(s)}",
        ]
        p = "%g"
    lines += [
        f"%o = graph.matmul {p}, %vh : ({_t(s)}, {_t(vh)}) -> {_t(qh)}",
        f"%ot = graph.transpose %o {{perm = [0, 2, 1, 3]}} : {_t(qh)} -> {_t(q4)}",
        f"%y = graph.reshape %ot : {_t(q4)} -> {_t(q2)}",
        f"func.return %y : {_t(q2)}",
    ]
    body = "\n  ".join(lines)
    return f'func.func @main({", ".join(args)}) -> ({_t(q2)} {{graph.name = "y"}}) {{\n  {body}\n}}'


def _feeds(c: Case, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = c.h * c.d
    feeds = {
        "q": rng.standard_normal((c.b, c.sq, w)).astype(np.float32),
        "k": rng.standard_normal((c.b, c.sk, w)).astype(np.float32),
        "v": rng.standard_normal((c.b, c.sk, w)).astype(np.float32),
    }
    if not c.scale:  # unscaled scores: inputs of the size that keeps them as sharp as BERT's
        feeds["q"] *= c.d**-0.25
        feeds["k"] *= c.d**-0.25
    if c.mask is not None:  # BERT's additive mask: 0 where attended, a large negative not
        keep = rng.random(c.mask) < 0.8
        feeds["m"] = np.where(keep, 0.0, -1e9).astype(np.float32)
    return feeds


CASES = {
    "bert": Case(),
    "no-mask-mul": Case(scale="mul", mask=None),
    "pre-scaled-guarded": Case(scale="pre", mask=(2, 1, 96, 96), guard=True, b=2, sq=96, sk=96),
    "partial-blocks-batch": Case(b=2, sq=200, sk=200, h=3, d=48, mask=(2, 1, 1, 200)),
    "cross": Case(sq=64, sk=300, h=2, d=64, mask=(300,), mask_left=True),
    "row-mask": Case(b=2, sq=130, sk=130, h=2, d=128, mask=(1, 1, 130, 130), scale=""),
}


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize("name", list(CASES))
def test_fused_attention_matches_the_interpreter(name: str, dtype: str) -> None:
    case = CASES[name]
    text = attention_text(case)
    model = trnc.compile(parse_source(text, "attention.mlir"), dtype=dtype)
    tile_ir = model.ir("tile")
    assert tile_ir.count("scf.for") == case.b  # one loop over head groups per batch index
    feeds = _feeds(case, seed=len(name))
    assert_matches_interpreter(model, text, feeds, tolerance=1e-5 if dtype == "fp32" else 2e-2)


def test_a_fully_masked_row_gives_zeros_with_the_guard_and_nan_without() -> None:
    """The guard's NaN -> 0 is kept: a query whose keys are all masked with -inf."""
    for guard in (True, False):
        case = Case(scale="div", mask=(1, 1, 128, 128), guard=guard, h=2)
        text = attention_text(case)
        model = trnc.compile(parse_source(text, "attention.mlir"), dtype="fp32")
        feeds = _feeds(case, seed=3)
        feeds["m"][0, 0, 5, :] = -np.inf
        got = model.run(feeds)["y"]
        if guard:
            assert np.all(got[0, 5] == 0.0)
            assert_matches_interpreter(model, text, feeds)
        else:
            assert np.all(np.isnan(got[0, 5]))
        assert np.isfinite(np.delete(got, 5, axis=1)).all()


@pytest.mark.parametrize(
    "case",
    [
        Case(mask=(1, 4, 1, 128)),  # a mask per head
        Case(sq=2304, sk=2304, h=1, d=32, mask=None),  # too long for one head's tiles
    ],
    ids=["mask-per-head", "too-long"],
)
def test_chains_the_pattern_leaves_to_the_op_by_op_lowering(case: Case) -> None:
    text = attention_text(case)
    module = parse_source(text, "attention.mlir")
    for graph_pass in graph_passes():
        graph_pass.apply(Context(), module)
    function = next(iter(module.ops))
    assert isinstance(function, func.FuncOp)
    assert find_attention(function.body.block) == {}
    model = trnc.compile(parse_source(text, "attention.mlir"), dtype="fp32")
    assert_matches_interpreter(model, text, _feeds(case, seed=5))


def _random_case(rng: np.random.Generator) -> Case:
    """An attention block with dims drawn at random (not multiples of 128 as often as not),
    any mask broadcast the pattern takes, any scaling, with or without the guard."""
    b = int(rng.integers(1, 3))
    h = int(rng.choice([1, 2, 3, 4, 6]))
    d = int(rng.choice([8, 16, 24, 64]))
    sq = int(rng.integers(1, 300))
    sk = int(rng.choice([sq, int(rng.integers(1, 300))]))
    masks: list[tuple[int, ...] | None] = [None, (sk,), (1, 1, 1, sk), (b, 1, 1, sk)]
    masks += [(b, 1, sq, sk), (1, 1, sq, sk)]
    mask = masks[int(rng.integers(len(masks)))]
    scale = str(rng.choice(["div", "mul", "pre", ""]))
    guard = bool(rng.integers(2))
    return Case(b, sq, sk, h, d, scale, mask, guard, bool(rng.integers(2)))


@pytest.mark.parametrize("seed", range(6))
def test_random_attention_blocks_match_the_interpreter(seed: int) -> None:
    """Seeded random attention blocks: each is taken by the pattern (or, when a head's
    tiles would not fit, left op by op) and matches the graph interpreter in fp32."""
    case = _random_case(np.random.default_rng(1000 + seed))
    text = attention_text(case)
    model = trnc.compile(parse_source(text, "attention.mlir"), dtype="fp32")
    assert_matches_interpreter(model, text, _feeds(case, seed=seed))
