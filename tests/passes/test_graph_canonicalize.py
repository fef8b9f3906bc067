"""`graph-canonicalize` against the graph interpreter, and the real test models through
`graph-decompose` then `graph-canonicalize`.

Each case builds a small graph module, runs the graph interpreter on seeded random
inputs, applies the pass, verifies the module, runs the interpreter again on the same
inputs and compares (exactly for the canonicalizations; helpers and tolerances:
tests/graph_pass_helpers.py).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from graph_pass_helpers import (
    _DTYPES,
    BF16,
    FAST,
    FORBIDDEN,
    Graph,
    check_pass,
    compare,
    inputs_for,
    op_names,
    random_array,
    roundtrip,
    shapes,
    ui8,
)
from hypothesis import given
from hypothesis import strategies as st
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, bf16, f16, f32, f64, i1, i8, i32, i64
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Attribute

from trnc.dialects import graph as g
from trnc.interpreters import graph_kernels
from trnc.interpreters.graph import run_graph
from trnc.passes.graph_canonicalize import GraphCanonicalizePass, is_lossless_cast
from trnc.passes.graph_decompose import GraphDecomposePass
from trnc.tools.context import parse_source

# --------------------------------------------------------------------------------------
# graph-canonicalize
# --------------------------------------------------------------------------------------


def canonicalize(module: ModuleOp, **kwargs: Any) -> ModuleOp:
    return check_pass(module, GraphCanonicalizePass(), exact=True, forbidden=set(), **kwargs)


@FAST
@given(
    shape=shapes(min_rank=1, max_rank=4),
    data=st.data(),
    seed=st.integers(0, 2**16),
)
def test_transpose_chains(shape: tuple[int, ...], data: st.DataObject, seed: int) -> None:
    count = data.draw(st.integers(1, 3))
    perms = [data.draw(st.permutations(range(len(shape)))) for _ in range(count)]
    graph = Graph((shape, f32))
    x = graph.args[0]
    for perm in perms:
        x = graph.add(g.TransposeOp(x, perm))
    module = canonicalize(graph.module(x), seed=seed)
    composed = list(range(len(shape)))
    for perm in perms:
        composed = [composed[p] for p in perm]
    expected = 0 if composed == list(range(len(shape))) else 1
    assert op_names(module) == Counter({"graph.transpose": expected} if expected else {})


def test_reshape_chains() -> None:
    graph = Graph(((2, 3, 4), f32))
    x = graph.args[0]
    y = graph.add(g.ReshapeOp(graph.add(g.ReshapeOp(x, [6, 4])), [4, 6]))
    z = graph.add(g.ReshapeOp(graph.add(g.ReshapeOp(x, [24])), [2, 3, 4]))
    same = graph.add(g.ReshapeOp(x, [2, 3, 4]))
    module = canonicalize(graph.module(y, z, same))
    assert op_names(module) == Counter({"graph.reshape": 1})
    ret = next(op for op in module.walk() if isinstance(op, ReturnOp))
    assert ret.operands[1] is ret.operands[2]


CAST_CHAINS = [
    # source, middle, target, ops left
    (f32, f64, f32, 0),
    (i32, i64, i32, 0),
    (i8, f16, i8, 0),
    (i1, f32, i1, 0),
    (ui8, bf16, ui8, 0),
    (f16, f32, f64, 1),
    (f32, bf16, f32, 2),
    (f32, f16, f32, 2),
    (i64, f64, i64, 2),
    (i32, f32, i32, 2),
    (f32, i32, f32, 2),
    (i32, i8, i32, 2),
    (f32, f32, f32, 0),
]


@pytest.mark.parametrize(("source", "middle", "target", "left"), CAST_CHAINS)
def test_cast_chains(source: Attribute, middle: Attribute, target: Attribute, left: int) -> None:
    graph = Graph(((4, 5), source))
    y = graph.add(g.CastOp(graph.add(g.CastOp(graph.args[0], middle)), target))
    module = graph.module(y)
    rng = np.random.default_rng(1)
    dtype = _DTYPES[source]
    values = (
        rng.uniform(-1e4, 1e4, (4, 5)).astype(dtype)
        if dtype.kind == "f"
        else random_array(rng, (4, 5), dtype)
    )
    canonicalize(module, inputs={"arg0": values})
    assert sum(op_names(module).values()) == left


def _all_values(dtype: np.dtype[Any], rng: np.random.Generator) -> np.ndarray:
    """Every value of small types, a broad sample (extremes, NaN, inf) of the others."""
    if dtype == np.bool_:
        return np.array([False, True])
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if dtype.itemsize <= 2:
            return np.arange(int(info.min), int(info.max) + 1).astype(dtype)
        sample = rng.integers(int(info.min), int(info.max), 5000, dtype=dtype, endpoint=True)
        return np.concatenate([sample, np.array([info.min, info.max, 0], dtype)])
    bits = rng.integers(0, 2 ** (8 * dtype.itemsize), 20000, dtype=np.uint64)
    raw = bits.astype(f"u{dtype.itemsize}").view(dtype)
    return np.concatenate([raw, np.array([0.0, -0.0, np.inf, -np.inf, np.nan]).astype(dtype)])


_CAST_TYPES = [np.dtype(t) for t in ("bool", "i1", "i2", "i4", "i8", "u1", "u2", "u4")] + [
    np.dtype(np.float16),
    BF16,
    np.dtype(np.float32),
    np.dtype(np.float64),
]


def test_lossless_cast_table_matches_the_interpreter() -> None:
    """`is_lossless_cast` claims exactly the pairs whose round trip through the
    interpreter's Cast restores every value (checked exhaustively or on a broad sample)."""
    rng = np.random.default_rng(0)
    for source in _CAST_TYPES:
        values = _all_values(source, rng)
        for target in _CAST_TYPES:
            if not is_lossless_cast(source, target):
                continue
            with np.errstate(all="ignore"):
                back = graph_kernels.cast(graph_kernels.cast(values, target), source)
            if source.kind in "iub":
                np.testing.assert_array_equal(back, values, err_msg=f"{source}->{target}")
                continue
            with np.errstate(all="ignore"):
                same = (back.view(f"u{source.itemsize}") == values.view(f"u{source.itemsize}")) | (
                    np.isnan(values.astype(np.float64)) & np.isnan(back.astype(np.float64))
                )
                assert same.all(), f"{source} -> {target}"


def test_where() -> None:
    graph = Graph(((2, 3), f32), ((2, 3), f32), ((3,), f32))
    a, b, small = graph.args
    yes = graph.const(np.ones((2, 3), dtype=np.bool_), i1)
    no = graph.const(np.zeros((1, 3), dtype=np.bool_), i1)
    mixed = graph.const(np.array([True, False, True]), i1)
    r1 = graph.add(g.WhereOp(yes, a, b))  # -> a
    r2 = graph.add(g.WhereOp(no, a, b))  # -> b
    r3 = graph.add(g.WhereOp(yes, small, b))  # broadcasts small: kept
    r4 = graph.add(g.WhereOp(mixed, a, b))  # kept
    r5 = graph.add(g.WhereOp(mixed, a, a))  # -> a
    module = canonicalize(graph.module(r1, r2, r3, r4, r5))
    ret = next(op for op in module.walk() if isinstance(op, ReturnOp))
    function_args = next(op for op in module.walk() if isinstance(op, FuncOp)).args
    assert ret.operands[0] is function_args[0]
    assert ret.operands[1] is function_args[1]
    assert ret.operands[4] is function_args[0]
    assert isinstance(ret.operands[2].owner, g.WhereOp)
    assert isinstance(ret.operands[3].owner, g.WhereOp)


def test_constant_folding() -> None:
    graph = Graph(((4,), f32))
    c1 = graph.const(np.arange(4, dtype=np.float32), f32)
    c2 = graph.const(np.full((4,), 0.5, dtype=np.float32), f32)
    folded = graph.add(g.ExpOp(graph.add(g.MulOp(c1, c2))))
    used = graph.add(g.AddOp(graph.args[0], folded))
    big = graph.const(np.ones((33, 32), dtype=np.float32), f32)  # 1056 elements: kept
    big_sum = graph.add(g.ReduceSumOp(big, [0, 1], False))
    ints = graph.const(np.array([7, -7, 3], dtype=np.int32), i32)
    quotient = graph.add(g.DivOp(ints, graph.const(np.array([2, 2, 2], np.int32), i32)))
    inf = graph.add(g.DivOp(c1, graph.const(np.zeros(4, np.float32), f32)))  # inf: kept
    outer = graph.add(g.MulOp(graph.const(np.ones((40, 1), np.float32), f32), c2))
    outer_big = graph.add(
        g.MulOp(graph.const(np.ones((300, 1), np.float32), f32), c2)
    )  # result of 1200 elements: kept
    graph.add(g.SigmoidOp(c2))  # dead
    module = graph.module(used, big_sum, quotient, inf, outer, outer_big)
    inputs = inputs_for(module, 0)
    before = run_graph(module, inputs).outputs
    GraphCanonicalizePass().apply(Context(), module)
    module.verify()
    after = run_graph(module, inputs).outputs
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])
    ret = next(op for op in module.walk() if isinstance(op, ReturnOp))
    assert isinstance(ret.operands[0].owner, g.AddOp)
    assert isinstance(ret.operands[0].owner.rhs.owner, g.ConstantOp)  # exp(c1 * c2)
    assert isinstance(ret.operands[1].owner, g.ReduceSumOp)
    assert isinstance(ret.operands[2].owner, g.ConstantOp)
    np.testing.assert_array_equal(after["output2"], [3, -3, 1])
    assert isinstance(ret.operands[3].owner, g.DivOp)
    assert isinstance(ret.operands[4].owner, g.ConstantOp)
    assert isinstance(ret.operands[5].owner, g.MulOp)
    assert op_names(module)["graph.sigmoid"] == 0
    # the folded constants print and parse back to the same values
    reparsed = run_graph(roundtrip(module), inputs).outputs
    for name in before:
        np.testing.assert_array_equal(reparsed[name], before[name])


def test_failing_evaluation_is_not_folded() -> None:
    """An integer division by zero fails in the interpreter: left for run time."""
    graph = Graph()
    ints = graph.const(np.array([7, -7, 3], dtype=np.int32), i32)
    zeros = graph.const(np.array([2, 0, 1], dtype=np.int32), i32)
    module = graph.module(graph.add(g.DivOp(ints, zeros)))
    GraphCanonicalizePass().apply(Context(), module)
    module.verify()
    assert op_names(module) == Counter({"graph.div": 1, "graph.constant": 2})


def test_dead_ops_removed_others_kept() -> None:
    text = """
    func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
      %a = graph.exp %x : tensor<4xf32>
      %b = graph.tanh %a : tensor<4xf32>
      %c = graph.constant dense<1.0> : tensor<4xf32>
      %w = graph.weight "w" from "none.bin" at 0 : tensor<4xf32>
      %i = arith.constant 3 : i32
      %r = graph.relu %x : tensor<4xf32>
      func.return %r : tensor<4xf32>
    }
    """
    module = parse_source(text, "dead.mlir")
    GraphCanonicalizePass().apply(Context(), module)
    names = Counter(op.name for op in module.walk())
    assert names["graph.relu"] == 1 and names["arith.constant"] == 1
    assert sum(n for k, n in names.items() if k.startswith("graph.")) == 1


def test_decompose_then_canonicalize() -> None:
    """A small CNN block with constant weights: decompose, then canonicalize folds the
    weight-side transposes / slices / reshapes and the batch-norm parameters."""
    rng = np.random.default_rng(3)
    graph = Graph(((1, 3, 8, 8), f32))
    w = graph.const(rng.uniform(-1, 1, (4, 3, 3, 3)).astype(np.float32), f32)
    b = graph.const(rng.uniform(-1, 1, 4).astype(np.float32), f32)
    params = [graph.const(rng.uniform(0.5, 1.5, 4).astype(np.float32), f32) for _ in range(4)]
    y = graph.add(g.Conv2dOp(graph.args[0], w, b, (1, 1), (1, 1, 1, 1)))
    y = graph.add(g.BatchNormOp(y, *params))
    y = graph.add(g.ClipOp(y, 0.0, 6.0))
    y = graph.add(g.MaxPoolOp(y, [2, 2], [2, 2], ceil_mode=True))
    y = graph.add(g.GlobalAvgPoolOp(y))
    y = graph.add(g.ReshapeOp(y, [1, 4]))
    fc = graph.const(rng.uniform(-1, 1, (5, 4)).astype(np.float32), f32)
    y = graph.add(g.GemmOp(y, fc, trans_b=True, alpha=0.5))
    y = graph.add(g.SoftmaxOp(y))
    module = graph.module(y)
    inputs = inputs_for(module, 4)
    before = run_graph(module, inputs).outputs["output0"]
    GraphDecomposePass().apply(Context(), module)
    GraphCanonicalizePass().apply(Context(), module)
    module = roundtrip(module)
    names = op_names(module)
    assert not set(names) & FORBIDDEN
    assert "graph.transpose" in names  # the input's NHWC transposes remain
    assert names["graph.reshape"] <= 2  # the weight reshapes folded away
    after = run_graph(module, inputs).outputs["output0"]
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------------------
# The real test models
# --------------------------------------------------------------------------------------

MODELS = Path(__file__).parent.parent / "models"


def _model_names() -> list[str]:
    manifest = MODELS / "manifest.json"
    if not manifest.exists():
        return []
    return sorted(json.loads(manifest.read_text())["models"])


def _model_inputs(spec: dict[str, Any], rng: np.random.Generator) -> dict[str, np.ndarray]:
    feeds: dict[str, np.ndarray] = {}
    for entry in spec["inputs"]:
        shape = entry.get("pin_shape", entry["shape"])
        value_range = entry.get("value_range")
        if value_range and "values" in value_range:
            array = rng.choice(value_range["values"], size=shape)
        elif value_range:
            array = rng.integers(value_range["min"], value_range["max_exclusive"], size=shape)
        else:
            array = rng.standard_normal(shape)
        feeds[entry["name"]] = np.asarray(array).astype(entry["dtype"])
    return feeds


@pytest.mark.parametrize("name", _model_names())
def test_models(name: str, tmp_path: Path) -> None:
    """Every real model through graph-decompose then graph-canonicalize (and the text
    form) matches the interpreter on the original module."""
    from trnc.frontend.onnx import import_model

    spec = json.loads((MODELS / "manifest.json").read_text())["models"][name]
    pins = {e["name"]: e["pin_shape"] for e in spec["inputs"] if "pin_shape" in e}
    module = import_model(
        MODELS / name, input_shapes=pins, weights_path=tmp_path / "model.weights"
    ).module
    feeds = _model_inputs(spec, np.random.default_rng(0))
    before = run_graph(module, feeds, base_dir=tmp_path).outputs
    GraphDecomposePass().apply(Context(), module)
    module.verify()
    assert not set(op_names(module)) & FORBIDDEN
    GraphCanonicalizePass().apply(Context(), module)
    module = roundtrip(module)
    after = run_graph(module, feeds, base_dir=tmp_path).outputs
    for output in before:
        compare(before[output], after[output], exact=False)
