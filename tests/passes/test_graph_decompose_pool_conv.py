"""`graph-decompose` of the pools and conv2d against the graph interpreter.

Each case builds a small graph module, runs the graph interpreter on seeded random
inputs, applies the pass, verifies the module, runs the interpreter again on the same
inputs and compares (tolerances: tests/graph_pass_helpers.py); none of the decomposed
ops may remain. Random shapes and attributes come from hypothesis (derandomized, a
bounded number of examples) or explicit parameters for the configurations that matter
(conv2d stride / pads / dilation / groups / 1x1, pools with ceil_mode and
count_include_pad).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from graph_pass_helpers import (
    FAST,
    FORBIDDEN,
    SLOW,
    Graph,
    decompose,
    inputs_for,
    op_names,
    roundtrip,
    shapes,
    unary_module,
)
from hypothesis import given
from hypothesis import strategies as st
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, bf16, f32, i32
from xdsl.ir import Attribute, Operation, SSAValue

from trnc.dialects import graph as g
from trnc.interpreters.graph import run_graph
from trnc.passes.graph_decompose import GraphDecomposePass

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
