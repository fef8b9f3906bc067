"""`graph-decompose` and `graph-canonicalize` against the graph interpreter.

Each case builds a small graph module with the dialect's Python builders, runs the graph
interpreter on seeded random inputs, applies the pass, verifies the module, runs the
interpreter again on the same inputs and compares: float32 with rtol 1e-5 / atol 1e-5,
integers and booleans (and the elementwise rewrites whose arithmetic is unchanged)
exactly. After `graph-decompose` none of the decomposed ops may remain. Random shapes and
attributes come from hypothesis (derandomized, a bounded number of examples) or explicit
parameters for the configurations that matter (conv2d stride / pads / dilation / groups /
1x1, pools with ceil_mode and count_include_pad). The real test models are run through
both passes too.
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.context import Context
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    IntegerType,
    ModuleOp,
    Signedness,
    TensorType,
    bf16,
    f16,
    f32,
    f64,
    i1,
    i8,
    i32,
    i64,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.printer import Printer

from trnc.dialects import graph as g
from trnc.interpreters import graph_kernels
from trnc.interpreters.graph import run_graph
from trnc.passes import get_all_passes
from trnc.passes.graph_canonicalize import GraphCanonicalizePass, is_lossless_cast
from trnc.passes.graph_decompose import DECOMPOSED_OPS, GraphDecomposePass
from trnc.tools.context import parse_source

FAST = settings(max_examples=20, deadline=None, derandomize=True)
SLOW = settings(max_examples=12, deadline=None, derandomize=True)

ui8 = IntegerType(8, Signedness.UNSIGNED)
BF16 = np.dtype(ml_dtypes.bfloat16)

_DTYPES: dict[Attribute, np.dtype[Any]] = {
    f32: np.dtype(np.float32),
    f64: np.dtype(np.float64),
    f16: np.dtype(np.float16),
    bf16: BF16,
    i1: np.dtype(np.bool_),
    i8: np.dtype(np.int8),
    i32: np.dtype(np.int32),
    i64: np.dtype(np.int64),
    ui8: np.dtype(np.uint8),
}


# --------------------------------------------------------------------------------------
# Building and running modules
# --------------------------------------------------------------------------------------


class Graph:
    """A `func.func @main` under construction: arguments, then ops added with `add`."""

    def __init__(self, *arg_types: tuple[Sequence[int], Attribute]) -> None:
        self.types = [TensorType(t, list(shape)) for shape, t in arg_types]
        self.block = Block(arg_types=self.types)
        self.args: list[SSAValue] = list(self.block.args)

    def add(self, op: Operation) -> SSAValue:
        self.block.add_op(op)
        return op.results[0]

    def const(self, array: np.ndarray, element_type: Attribute) -> SSAValue:
        flat = np.asarray(array).reshape(-1)
        if element_type in (f32, f64, f16, bf16):
            data: list[Any] = [float(v) for v in flat.astype(np.float64)]
        else:
            data = [int(v) for v in flat.astype(np.int64)]
        tensor_type: TensorType[Any] = TensorType(element_type, array.shape)
        attr = DenseIntOrFPElementsAttr.from_list(tensor_type, data)
        return self.add(g.ConstantOp(attr))

    def module(self, *results: SSAValue) -> ModuleOp:
        self.block.add_op(ReturnOp(*results))
        function = FuncOp("main", (self.types, [r.type for r in results]), Region(self.block))
        module = ModuleOp([function])
        module.verify()
        return module


def random_array(
    rng: np.random.Generator, shape: Sequence[int], dtype: np.dtype[Any], scale: float = 1.0
) -> np.ndarray:
    """Floats uniform in [-scale, scale), integers in [-9, 9] (unsigned [0, 9]), bools."""
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if dtype.kind in "iu":
        low = 0 if dtype.kind == "u" else -9
        return rng.integers(low, 10, size=shape).astype(dtype)
    return (rng.uniform(-scale, scale, size=shape)).astype(dtype)


def inputs_for(module: ModuleOp, seed: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    function = next(op for op in module.ops if isinstance(op, FuncOp))
    rng = np.random.default_rng(seed)
    result = {}
    for i, t in enumerate(function.function_type.inputs.data):
        assert isinstance(t, TensorType)
        dtype = _DTYPES[t.get_element_type()]
        result[f"arg{i}"] = random_array(rng, t.get_shape(), dtype, scale)
    return result


def op_names(module: ModuleOp) -> Counter[str]:
    return Counter(op.name for op in module.walk() if op.name.startswith("graph."))


FORBIDDEN = {cls.name for cls in DECOMPOSED_OPS}


def compare(before: np.ndarray, after: np.ndarray, exact: bool) -> None:
    assert before.shape == after.shape and before.dtype == after.dtype
    if before.dtype.kind not in "iubf":  # ml_dtypes floats: numpy's NaN checks miss them
        before, after = before.astype(np.float64), after.astype(np.float64)
    if exact or before.dtype.kind in "iub":
        np.testing.assert_array_equal(after, before)
    else:
        np.testing.assert_allclose(
            after.astype(np.float64), before.astype(np.float64), rtol=1e-5, atol=1e-5
        )


def check_pass(
    module: ModuleOp,
    pass_: GraphDecomposePass | GraphCanonicalizePass,
    inputs: dict[str, np.ndarray] | None = None,
    *,
    seed: int = 0,
    exact: bool = False,
    forbidden: set[str] | None = None,
) -> ModuleOp:
    """Run the module, apply the pass, verify, run again, compare; returns the module."""
    inputs = inputs if inputs is not None else inputs_for(module, seed)
    before = run_graph(module, inputs).outputs
    pass_.apply(Context(), module)
    module.verify()
    names = op_names(module)
    banned = FORBIDDEN if forbidden is None else forbidden
    assert not (set(names) & banned), f"left: {sorted(set(names) & banned)}"
    after = run_graph(module, inputs).outputs
    for name in before:
        compare(before[name], after[name], exact)
    return module


def decompose(module: ModuleOp, **kwargs: Any) -> ModuleOp:
    return check_pass(module, GraphDecomposePass(), **kwargs)


def roundtrip(module: ModuleOp) -> ModuleOp:
    """Print the module and parse it back (constants must survive the text form)."""
    stream = io.StringIO()
    Printer(stream=stream).print_op(module)
    reparsed = parse_source(stream.getvalue(), "roundtrip.mlir")
    reparsed.verify()
    return reparsed


def shapes(min_rank: int = 1, max_rank: int = 4, max_side: int = 5) -> st.SearchStrategy:
    return st.lists(st.integers(1, max_side), min_size=min_rank, max_size=max_rank).map(tuple)


def unary_module(
    shape: Sequence[int], element_type: Attribute, build: Callable[[SSAValue], Operation]
) -> ModuleOp:
    graph = Graph((shape, element_type))
    return graph.module(graph.add(build(graph.args[0])))


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
# graph-decompose: pools
# --------------------------------------------------------------------------------------


@FAST
@given(shape=shapes(min_rank=3, max_rank=5, max_side=4), seed=st.integers(0, 2**16))
def test_global_avg_pool(shape: tuple[int, ...], seed: int) -> None:
    module = unary_module(shape, f32, g.GlobalAvgPoolOp)
    decompose(module, seed=seed)
    assert op_names(module) == Counter({"graph.reduce_mean": 1})


@st.composite
def pool_params(draw: st.DrawFn) -> dict[str, Any]:
    spatial = draw(st.integers(1, 3))
    kernel, strides, dilations, begins, ends, sizes = [], [], [], [], [], []
    for _ in range(spatial):
        k = draw(st.integers(1, 3))
        d = draw(st.integers(1, 2))
        extent = (k - 1) * d + 1
        pb, pe = draw(st.integers(0, k)), draw(st.integers(0, k))
        kernel.append(k)
        dilations.append(d)
        strides.append(draw(st.integers(1, 3)))
        begins.append(pb)
        ends.append(pe)
        sizes.append(draw(st.integers(max(1, extent - pb - pe), max(1, extent - pb - pe) + 4)))
    return {
        "shape": (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *sizes),
        "kernel": kernel,
        "strides": strides,
        "pads": begins + ends,
        "dilations": dilations,
        "ceil_mode": draw(st.booleans()),
    }


def _pool_module(
    p: dict[str, Any], kind: str, element_type: Attribute = f32, include_pad: bool = False
) -> ModuleOp:
    def build(x: SSAValue) -> Operation:
        common = (x, p["kernel"], p["strides"], p["pads"])
        if kind == "max":
            return g.MaxPoolOp(*common, dilations=p["dilations"], ceil_mode=p["ceil_mode"])
        return g.AvgPoolOp(
            *common,
            ceil_mode=p["ceil_mode"],
            count_include_pad=include_pad,
            dilations=p["dilations"],
        )

    return unary_module(p["shape"], element_type, build)


@SLOW
@given(p=pool_params(), seed=st.integers(0, 2**16))
def test_max_pool(p: dict[str, Any], seed: int) -> None:
    module = _pool_module(p, "max")
    decompose(module, seed=seed, exact=True)
    assert op_names(module)["graph.max"] == math.prod(p["kernel"]) - 1


@SLOW
@given(p=pool_params(), include_pad=st.booleans(), seed=st.integers(0, 2**16))
def test_avg_pool(p: dict[str, Any], include_pad: bool, seed: int) -> None:
    module = _pool_module(p, "avg", include_pad=include_pad)
    inputs = inputs_for(module, seed)
    before = run_graph(module, inputs).outputs["output0"]
    GraphDecomposePass().apply(Context(), module)
    module.verify()
    assert not set(op_names(module)) & FORBIDDEN
    after = run_graph(module, inputs).outputs["output0"]
    # windows that cover no counted element are 0 / 0 = NaN on both sides
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-5, equal_nan=True)
    assert op_names(module)["graph.div"] == 1


POOL_CASES = [
    # kernel, strides, pads, dilations, ceil_mode, count_include_pad, shape
    ([3, 3], [2, 2], [1, 1, 1, 1], [1, 1], False, False, (1, 2, 7, 7)),
    ([3, 3], [2, 2], [1, 1, 1, 1], [1, 1], True, False, (1, 2, 6, 6)),
    ([3, 3], [2, 2], [1, 1, 1, 1], [1, 1], True, True, (1, 2, 6, 6)),
    ([2, 2], [2, 2], [0, 0, 0, 0], [2, 2], True, False, (2, 3, 7, 5)),
    ([3, 2], [1, 3], [2, 0, 1, 1], [2, 1], True, True, (1, 1, 8, 7)),
    ([2], [2], [1, 1], [1], True, True, (2, 2, 5)),
    ([1, 1], [2, 2], [0, 0, 0, 0], [1, 1], False, False, (1, 3, 5, 5)),
]


@pytest.mark.parametrize(
    ("kernel", "strides", "pads", "dilations", "ceil_mode", "include_pad", "shape"), POOL_CASES
)
def test_pool_cases(
    kernel: list[int],
    strides: list[int],
    pads: list[int],
    dilations: list[int],
    ceil_mode: bool,
    include_pad: bool,
    shape: tuple[int, ...],
) -> None:
    p = {
        "shape": shape,
        "kernel": kernel,
        "strides": strides,
        "pads": pads,
        "dilations": dilations,
        "ceil_mode": ceil_mode,
    }
    decompose(_pool_module(p, "max"), exact=True)
    avg = decompose(_pool_module(p, "avg", include_pad=include_pad))
    # the divisor is one constant: a scalar when every window counts the same
    divisor = next(op for op in avg.walk() if isinstance(op, g.DivOp)).rhs
    assert isinstance(divisor.owner, g.ConstantOp)
    decompose(roundtrip(avg))


def test_max_pool_integer_and_low_values() -> None:
    """Integer max_pool pads with the type's minimum; float padding never wins, even over
    the type's lowest finite value."""
    p = {
        "shape": (1, 2, 5, 5),
        "kernel": [3, 3],
        "strides": [2, 2],
        "pads": [1, 1, 1, 1],
        "dilations": [1, 1],
        "ceil_mode": True,
    }
    ints = _pool_module(p, "max", i32)
    values = np.full((1, 2, 5, 5), np.iinfo(np.int32).min, dtype=np.int32)
    values[0, 0, 2, 2] = 5
    decompose(ints, inputs={"arg0": values}, exact=True)
    floats = _pool_module(p, "max", f32)
    lowest = np.full((1, 2, 5, 5), np.finfo(np.float32).min, dtype=np.float32)
    decompose(floats, inputs={"arg0": lowest}, exact=True)


def test_avg_pool_large_output_uses_separable_divisor() -> None:
    """Above 4096 output positions the varying divisor is a product of per-axis vectors."""
    p = {
        "shape": (1, 1, 70, 70),
        "kernel": [3, 3],
        "strides": [1, 1],
        "pads": [1, 1, 1, 1],
        "dilations": [1, 1],
        "ceil_mode": False,
    }
    module = decompose(_pool_module(p, "avg"))
    divisor = next(op for op in module.walk() if isinstance(op, g.DivOp)).rhs
    assert isinstance(divisor.owner, g.MulOp)


# --------------------------------------------------------------------------------------
# graph-decompose: conv2d
# --------------------------------------------------------------------------------------


def _conv_module(
    n: int,
    c: int,
    h: int,
    w: int,
    o: int,
    kernel: tuple[int, int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    groups: int,
    bias: bool,
    element_type: Attribute = f32,
) -> ModuleOp:
    arg_types: list[tuple[Sequence[int], Attribute]] = [
        ((n, c, h, w), element_type),
        ((o, c // groups, *kernel), element_type),
    ]
    if bias:
        arg_types.append(((o,), element_type))
    graph = Graph(*arg_types)
    b = graph.args[2] if bias else None
    y = graph.add(g.Conv2dOp(graph.args[0], graph.args[1], b, strides, pads, dilations, groups))
    return graph.module(y)


CONV_CASES = [
    # n, c, h, w, o, kernel, strides, pads, dilations, groups, bias
    (1, 3, 7, 7, 4, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 1, True),  # stride 2, pads
    (2, 4, 8, 7, 6, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 1, False),  # dilation 2
    (1, 4, 6, 6, 6, (3, 2), (1, 2), (1, 0, 1, 1), (1, 1), 2, True),  # groups 2
    (2, 6, 5, 5, 4, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1, True),  # 1x1
    (1, 6, 5, 5, 4, (1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 2, False),  # 1x1, stride 2, groups 2
    (1, 4, 6, 6, 4, (3, 3), (2, 1), (1, 2, 0, 1), (2, 1), 4, True),  # depthwise
    (1, 3, 6, 6, 6, (2, 2), (1, 1), (1, 1, 1, 1), (1, 1), 3, True),  # channel multiplier 2
    (1, 2, 9, 9, 3, (3, 3), (2, 2), (1, 1, 2, 2), (2, 2), 1, True),  # everything at once
]


@pytest.mark.parametrize(
    ("n", "c", "h", "w", "o", "kernel", "strides", "pads", "dilations", "groups", "bias"),
    CONV_CASES,
)
def test_conv2d_cases(
    n: int,
    c: int,
    h: int,
    w: int,
    o: int,
    kernel: tuple[int, int],
    strides: tuple[int, int],
    pads: tuple[int, int, int, int],
    dilations: tuple[int, int],
    groups: int,
    bias: bool,
) -> None:
    module = _conv_module(n, c, h, w, o, kernel, strides, pads, dilations, groups, bias)
    decompose(module, seed=n + c + h)
    names = op_names(module)
    taps = kernel[0] * kernel[1]
    depthwise = c // groups == 1 and o // groups == 1
    if depthwise:
        assert names["graph.mul"] == taps and "graph.matmul" not in names
    else:
        assert names["graph.matmul"] == taps * groups
        assert names["graph.concat"] >= (1 if groups > 1 else 0)
    accumulations = taps - 1 if depthwise else groups * (taps - 1)
    assert names["graph.add"] == accumulations + (1 if bias else 0)


@st.composite
def conv_params(draw: st.DrawFn) -> dict[str, Any]:
    groups = draw(st.integers(1, 3))
    cg, og = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel, strides, dilations, sizes = [], [], [], []
    pads = [draw(st.integers(0, 2)) for _ in range(4)]
    for axis in range(2):
        k, d = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        extent = (k - 1) * d + 1
        low = max(1, extent - pads[axis] - pads[axis + 2])
        kernel.append(k)
        dilations.append(d)
        strides.append(draw(st.integers(1, 2)))
        sizes.append(draw(st.integers(low, low + 4)))
    return {
        "n": draw(st.integers(1, 2)),
        "c": cg * groups,
        "h": sizes[0],
        "w": sizes[1],
        "o": og * groups,
        "kernel": tuple(kernel),
        "strides": strides,
        "pads": pads,
        "dilations": dilations,
        "groups": groups,
        "bias": draw(st.booleans()),
    }


@SLOW
@given(p=conv_params(), seed=st.integers(0, 2**16))
def test_conv2d(p: dict[str, Any], seed: int) -> None:
    decompose(_conv_module(**p), seed=seed)


def test_conv2d_bf16() -> None:
    """bf16 conv2d decomposes in bf16 (intermediate sums rounded: a looser tolerance)."""
    module = _conv_module(1, 4, 6, 6, 4, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2, True, bf16)
    inputs = inputs_for(module, 11)
    before = run_graph(module, inputs).outputs["output0"].astype(np.float32)
    GraphDecomposePass().apply(Context(), module)
    module.verify()
    after = run_graph(module, inputs).outputs["output0"].astype(np.float32)
    np.testing.assert_allclose(after, before, rtol=3e-2, atol=3e-2)


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
