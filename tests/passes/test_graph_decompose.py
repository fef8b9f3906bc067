"""`graph-decompose` against the graph interpreter: the passes' registration, the
normalizations (softmax, layer norm, batch norm), gemm and the elementwise rewrites, and
the options and the ops the pass leaves alone.

Each case builds a small graph module, runs the graph interpreter on seeded random
inputs, applies the pass, verifies the module, runs the interpreter again on the same
inputs and compares (tolerances: tests/graph_pass_helpers.py); none of the decomposed
ops may remain. Random shapes and attributes come from hypothesis (derandomized, a
bounded number of examples) or explicit parameters. Pools and conv2d are in
test_graph_decompose_pool_conv.py, `graph-canonicalize` and the real test models in
test_graph_canonicalize.py.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pytest
from graph_pass_helpers import (
    _DTYPES,
    FAST,
    Graph,
    check_pass,
    decompose,
    inputs_for,
    op_names,
    random_array,
    roundtrip,
    shapes,
    ui8,
    unary_module,
)
from hypothesis import given
from hypothesis import strategies as st
from xdsl.context import Context
from xdsl.dialects.builtin import bf16, f16, f32, i1, i8, i32, i64
from xdsl.ir import Attribute, Operation, SSAValue

from trnc.dialects import graph as g
from trnc.interpreters.graph import run_graph
from trnc.passes import get_all_passes
from trnc.passes.graph_canonicalize import GraphCanonicalizePass
from trnc.passes.graph_decompose import GraphDecomposePass

# --------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------


def test_passes_are_registered() -> None:
    passes = get_all_passes()
    assert passes["graph-canonicalize"]() is GraphCanonicalizePass
    assert passes["graph-decompose"]() is GraphDecomposePass
    assert GraphDecomposePass.name == "graph-decompose"
    assert GraphCanonicalizePass.name == "graph-canonicalize"


# --------------------------------------------------------------------------------------
# graph-decompose: normalizations
# --------------------------------------------------------------------------------------


@FAST
@given(shape=shapes(), data=st.data(), log=st.booleans(), seed=st.integers(0, 2**16))
def test_softmax(shape: tuple[int, ...], data: st.DataObject, log: bool, seed: int) -> None:
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    cls = g.LogSoftmaxOp if log else g.SoftmaxOp
    module = unary_module(shape, f32, lambda x: cls(x, axis))
    # large magnitudes: only the max-subtracted form stays finite
    decompose(module, inputs=inputs_for(module, seed, scale=200.0))
    names = op_names(module)
    assert names["graph.reduce_max"] == 1 and names["graph.exp"] == 1
    assert names["graph.log"] == (1 if log else 0)


@FAST
@given(shape=shapes(), data=st.data(), seed=st.integers(0, 2**16))
def test_layer_norm(shape: tuple[int, ...], data: st.DataObject, seed: int) -> None:
    rank = len(shape)
    axis = data.draw(st.integers(-rank, rank - 1))
    normalized = shape[axis:]
    # scale / bias: a suffix of the normalized shape, some dims broadcast from 1
    scale_rank = data.draw(st.integers(0, len(normalized)))
    suffix = normalized[len(normalized) - scale_rank :]
    scale_shape = tuple(data.draw(st.sampled_from([d, 1])) for d in suffix)
    with_bias = data.draw(st.booleans())
    epsilon = data.draw(st.sampled_from([1e-5, 1e-3, 0.5]))
    arg_types: list[tuple[Sequence[int], Attribute]] = [(shape, f32), (scale_shape, f32)]
    if with_bias:
        arg_types.append((scale_shape, f32))
    graph = Graph(*arg_types)
    bias = graph.args[2] if with_bias else None
    y = graph.add(g.LayerNormOp(graph.args[0], graph.args[1], bias, axis, epsilon))
    module = decompose(graph.module(y), seed=seed)
    assert op_names(module)["graph.rsqrt"] == 1


@FAST
@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 4)).flatmap(
        lambda nc: st.lists(st.integers(1, 4), max_size=2).map(lambda rest: (*nc, *rest))
    ),
    constant_params=st.booleans(),
    epsilon=st.sampled_from([1e-5, 0.1]),
    seed=st.integers(0, 2**16),
)
def test_batch_norm(
    shape: tuple[int, ...], constant_params: bool, epsilon: float, seed: int
) -> None:
    channels = shape[1]
    rng = np.random.default_rng(seed)
    scale, bias, mean = (rng.uniform(-1, 1, channels).astype(np.float32) for _ in range(3))
    var = rng.uniform(0.5, 1.5, channels).astype(np.float32)
    if constant_params:
        graph = Graph((shape, f32))
        params = [graph.const(p, f32) for p in (scale, bias, mean, var)]
        inputs = {"arg0": random_array(rng, shape, np.dtype(np.float32))}
    else:
        graph = Graph((shape, f32), *([((channels,), f32)] * 4))
        params = graph.args[1:]
        inputs = {"arg0": random_array(rng, shape, np.dtype(np.float32))}
        inputs.update({f"arg{i + 1}": p for i, p in enumerate((scale, bias, mean, var))})
    y = graph.add(g.BatchNormOp(graph.args[0], *params, epsilon=epsilon))
    module = decompose(graph.module(y), inputs=inputs)
    names = op_names(module)
    if constant_params:  # folded: x * multiplier + shift
        assert names["graph.mul"] == 1 and names["graph.add"] == 1
        assert "graph.rsqrt" not in names and "graph.sub" not in names
    else:
        assert names["graph.rsqrt"] == 1


def test_batch_norm_folded_roundtrip() -> None:
    """The folded multiplier / shift constants print and parse back exactly."""
    rng = np.random.default_rng(7)
    shape = (2, 5, 3, 3)
    graph = Graph((shape, f32))
    params = [graph.const(rng.uniform(0.1, 1, 5).astype(np.float32), f32) for _ in range(4)]
    y = graph.add(g.BatchNormOp(graph.args[0], *params, epsilon=1e-5))
    module = graph.module(y)
    inputs = inputs_for(module, 3)
    expected = run_graph(module, inputs).outputs["output0"]
    GraphDecomposePass().apply(Context(), module)
    direct = run_graph(module, inputs).outputs["output0"]
    reparsed = run_graph(roundtrip(module), inputs).outputs["output0"]
    np.testing.assert_array_equal(reparsed, direct)
    np.testing.assert_allclose(direct, expected, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------------------
# graph-decompose: gemm and elementwise
# --------------------------------------------------------------------------------------


@FAST
@given(
    m=st.integers(1, 5),
    k=st.integers(1, 5),
    n=st.integers(1, 5),
    trans_a=st.booleans(),
    trans_b=st.booleans(),
    alpha=st.sampled_from([1.0, 0.5, -2.0, 0.1]),
    beta=st.sampled_from([1.0, 0.0, 0.25, 3.0]),
    c_kind=st.sampled_from(["none", "n", "mn", "1n", "m1", "scalar"]),
    seed=st.integers(0, 2**16),
)
def test_gemm(
    m: int,
    k: int,
    n: int,
    trans_a: bool,
    trans_b: bool,
    alpha: float,
    beta: float,
    c_kind: str,
    seed: int,
) -> None:
    c_shape = {"none": None, "n": (n,), "mn": (m, n), "1n": (1, n), "m1": (m, 1), "scalar": ()}[
        c_kind
    ]
    a_shape = (k, m) if trans_a else (m, k)
    b_shape = (n, k) if trans_b else (k, n)
    arg_types: list[tuple[Sequence[int], Attribute]] = [(a_shape, f32), (b_shape, f32)]
    if c_shape is not None:
        arg_types.append((c_shape, f32))
    graph = Graph(*arg_types)
    c = graph.args[2] if c_shape is not None else None
    y = graph.add(g.GemmOp(graph.args[0], graph.args[1], c, alpha, beta, trans_a, trans_b))
    module = decompose(graph.module(y), seed=seed)
    names = op_names(module)
    assert names["graph.transpose"] == int(trans_a) + int(trans_b)
    assert names["graph.matmul"] == 1
    with_c = c_shape is not None and beta != 0.0
    assert names["graph.add"] == int(with_c)
    assert names["graph.mul"] == int(alpha != 1.0) + int(with_c and beta != 1.0)


@pytest.mark.parametrize(("alpha", "beta"), [(2.0, 3.0), (0.5, 1.5), (1.0, -0.75), (-3.0, 0.0)])
def test_gemm_integer(alpha: float, beta: float) -> None:
    """Integer gemm: integral factors multiply in the type, fractional ones through f64
    casts that truncate, as the interpreter does (exact)."""
    graph = Graph(((3, 4), i32), ((4, 5), i32), ((5,), i32))
    y = graph.add(g.GemmOp(*graph.args, alpha=alpha, beta=beta))
    decompose(graph.module(y), seed=5)


@FAST
@given(
    shape=shapes(),
    alpha=st.sampled_from([0.01, 0.0, 1.0, 0.5, 2.5, -0.3, -1.0]),
    seed=st.integers(0, 2**16),
)
def test_leaky_relu(shape: tuple[int, ...], alpha: float, seed: int) -> None:
    module = unary_module(shape, f32, lambda x: g.LeakyReluOp(x, alpha))
    decompose(module, seed=seed, exact=True)
    names = op_names(module)
    expected = "graph.where" if alpha <= 0 else ("graph.max" if alpha <= 1 else "graph.min")
    assert names[expected] == 1


def test_elementwise_special_values() -> None:
    """leaky_relu, hard_sigmoid, clip and neg agree bit for bit on 0, -0, +-inf, NaN and
    the extremes of the type."""
    special = np.array(
        [0.0, -0.0, np.inf, -np.inf, np.nan, 3.4e38, -3.4e38, 1e-45, -1e-45, 0.5, -2.0, 7.0],
        dtype=np.float32,
    )
    builders: list[Callable[[SSAValue], Operation]] = [
        lambda x: g.LeakyReluOp(x, 0.01),
        lambda x: g.LeakyReluOp(x, 0.0),
        lambda x: g.LeakyReluOp(x, 3.0),
        lambda x: g.LeakyReluOp(x, -0.5),
        lambda x: g.HardSigmoidOp(x, 0.2, 0.5),
        lambda x: g.ClipOp(x, 0.0, 6.0),
        lambda x: g.ClipOp(x, 6.0, 0.0),
        lambda x: g.ClipOp(x, -1.5),
        lambda x: g.NegOp(x),
    ]
    for build in builders:
        module = unary_module(special.shape, f32, build)
        decompose(module, inputs={"arg0": special}, exact=True)


@FAST
@given(
    shape=shapes(),
    alpha=st.floats(-2, 2, allow_nan=False, width=32),
    beta=st.floats(-2, 2, allow_nan=False, width=32),
    seed=st.integers(0, 2**16),
)
def test_hard_sigmoid(shape: tuple[int, ...], alpha: float, beta: float, seed: int) -> None:
    module = unary_module(shape, f32, lambda x: g.HardSigmoidOp(x, alpha, beta))
    decompose(module, inputs=inputs_for(module, seed, scale=5.0), exact=True)


_BOUNDS = st.sampled_from([None, 0.0, 6.0, -1.5, 2.7, -math.inf, math.inf, 1e6, -300.0])


@FAST
@given(
    shape=shapes(max_rank=2),
    element_type=st.sampled_from([f32, f16, i32, i8, ui8]),
    low=_BOUNDS,
    high=_BOUNDS,
    seed=st.integers(0, 2**16),
)
def test_clip(
    shape: tuple[int, ...],
    element_type: Attribute,
    low: float | None,
    high: float | None,
    seed: int,
) -> None:
    dtype = _DTYPES[element_type]

    def rounded(bound: float | None) -> float | None:
        with np.errstate(all="ignore"):
            return None if bound is None else float(np.float64(bound).astype(dtype))

    # a float bound that rounds to the wrong infinity has no finite constant: clip kept
    kept = dtype.kind == "f" and (rounded(low) == math.inf or rounded(high) == -math.inf)
    module = unary_module(shape, element_type, lambda x: g.ClipOp(x, low, high))
    inputs = inputs_for(module, seed, scale=8.0)
    check_pass(module, GraphDecomposePass(), inputs, exact=True, forbidden=set() if kept else None)
    names = op_names(module)
    assert names["graph.clip"] == int(kept)
    assert names["graph.max"] <= 1 and names["graph.min"] <= 1


def test_clip_without_bounds_is_its_input() -> None:
    module = unary_module((3,), f32, lambda x: g.ClipOp(x, -math.inf, math.inf))
    decompose(module, exact=True)
    assert op_names(module) == Counter()


def test_clip_unrepresentable_bound_is_kept() -> None:
    """A lower bound that rounds to +inf in f16 has no finite constant: kept."""
    module = unary_module((3,), f16, lambda x: g.ClipOp(x, 1e6))
    GraphDecomposePass().apply(Context(), module)
    assert op_names(module) == Counter({"graph.clip": 1})


@pytest.mark.parametrize("element_type", [f32, f16, bf16, i32, i8, ui8, i64])
def test_neg(element_type: Attribute) -> None:
    dtype = _DTYPES[element_type]
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = np.array([0, 1, 9, int(info.min), int(info.max)], dtype=dtype)
    else:
        values = np.array([0.0, -0.0, 1.5, -2.25, np.inf, np.nan]).astype(dtype)
    module = unary_module(values.shape, element_type, g.NegOp)
    decompose(module, inputs={"arg0": values}, exact=True)
    assert op_names(module) == Counter({"graph.mul": 1, "graph.constant": 1})


# --------------------------------------------------------------------------------------
# graph-decompose: options and what it leaves alone
# --------------------------------------------------------------------------------------


def test_options_keep_conv_and_pools() -> None:
    graph = Graph(((1, 2, 6, 6), f32), ((2, 2, 3, 3), f32))
    x = graph.add(g.Conv2dOp(graph.args[0], graph.args[1], pads=(1, 1, 1, 1)))
    x = graph.add(g.MaxPoolOp(x, [2, 2], [2, 2]))
    x = graph.add(g.AvgPoolOp(x, [2, 2], [1, 1]))
    x = graph.add(g.NegOp(x))
    module = graph.module(x)
    check_pass(
        module,
        GraphDecomposePass(conv=False, pool=False),
        forbidden={"graph.neg"},
        exact=True,
    )
    names = op_names(module)
    assert names["graph.conv2d"] == 1 and names["graph.max_pool"] == 1
    assert names["graph.avg_pool"] == 1


def test_direct_ops_unchanged() -> None:
    graph = Graph(((2, 3), f32), ((3, 4), f32), ((2, 4), i1))
    a, b, m = graph.args
    y = graph.add(g.MatmulOp(a, b))
    y = graph.add(g.GeluOp(graph.add(g.ReluOp(y))))
    y = graph.add(g.WhereOp(m, y, graph.add(g.ExpOp(y))))
    y = graph.add(g.ReduceSumOp(graph.add(g.TransposeOp(y, [1, 0])), [0], False))
    graph.add(g.TanhOp(a))  # dead: graph-decompose does not remove it
    module = graph.module(y)
    before = op_names(module)
    check_pass(module, GraphDecomposePass(), exact=True)
    assert op_names(module) == before
