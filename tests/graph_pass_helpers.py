"""Shared helpers for the `graph-decompose` and `graph-canonicalize` tests (tests/passes/).

A case builds a small graph module with the dialect's Python builders (`Graph`), runs the
graph interpreter on seeded random inputs (`inputs_for`), applies the pass, verifies the
module, runs the interpreter again on the same inputs and compares (`check_pass`):
float32 with rtol 1e-5 / atol 1e-5, integers and booleans (and the rewrites whose
arithmetic is unchanged, `exact=True`) exactly. After `graph-decompose` none of the
decomposed ops (`FORBIDDEN`) may remain. `FAST` / `SLOW` are the hypothesis settings
(derandomized, a bounded number of examples).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import ml_dtypes
import numpy as np
from hypothesis import settings
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
from trnc.interpreters.graph import run_graph
from trnc.passes.graph_canonicalize import GraphCanonicalizePass
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
