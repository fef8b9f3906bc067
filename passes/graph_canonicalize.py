"""`graph-canonicalize`: local simplifications of `graph` ops, each exact under the graph
interpreter's semantics:

* transpose(transpose(x)) -> one transpose with the composed perm (x when the composition
  is the identity); transpose with the identity perm -> x;
* reshape(reshape(x)) -> reshape(x); reshape to the operand's own shape -> x;
* cast to the operand's type -> x; cast(cast(x)) -> x when the inner cast is lossless and
  the outer one goes back to x's type (f32 -> f64 -> f32, i32 -> i64 -> i32, i1 -> f32 ->
  i1, ...), -> one cast when both casts are lossless (f16 -> f32 -> f64); a rounding inner
  cast (f32 -> bf16 -> f32) is kept;
* where(c, a, a) -> a, where(all-true constant, a, b) -> a and where(all-false constant,
  a, b) -> b, only when the kept operand already has the result's type (otherwise the
  where also broadcasts);
* constant folding: a graph op whose operands are all `graph.constant`s with inline data of
  at most 1024 elements each, and whose result has at most 1024 elements, is evaluated by
  the graph interpreter and replaced by a `graph.constant` (not when the evaluation fails,
  e.g. an integer division by zero, or the result holds inf / NaN, which xDSL cannot print
  and parse back);
* graph ops whose results are unused are erased (they are all pure).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.interpreter import Interpreter
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.transforms.dead_code_elimination import is_trivially_dead

from trnc.dialects import graph
from trnc.dialects.graph.base import element_of, get_ints, shape_of
from trnc.dialects.graph.shapes import num_elements
from trnc.passes._graph_rewrite_utils import (
    constant_value,
    dense_attr,
    is_finite_array,
    np_dtype,
)

MAX_FOLD_ELEMENTS = 1024
"""Constant folding evaluates ops whose operands and result have at most this many
elements each."""


# --------------------------------------------------------------------------------------
# Data movement
# --------------------------------------------------------------------------------------


class FoldTranspose(RewritePattern):
    """Identity transposes and transposes of transposes."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.TransposeOp, rewriter: PatternRewriter) -> None:
        perm = get_ints(op.perm)
        source = op.input
        inner = source.owner
        if isinstance(inner, graph.TransposeOp):
            inner_perm = get_ints(inner.perm)
            perm = tuple(inner_perm[p] for p in perm)
            source = inner.input
        if perm == tuple(range(len(perm))):
            rewriter.replace(op, [], [source])
        elif source is not op.input:
            rewriter.replace(op, graph.TransposeOp(source, perm))


class FoldReshape(RewritePattern):
    """Reshapes to the same shape and reshapes of reshapes."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.ReshapeOp, rewriter: PatternRewriter) -> None:
        source = op.input
        inner = source.owner
        if isinstance(inner, graph.ReshapeOp):
            source = inner.input
        if source.type == op.result.type:
            rewriter.replace(op, [], [source])
        elif source is not op.input:
            rewriter.replace(op, graph.ReshapeOp(source, shape_of(op.result)))


# --------------------------------------------------------------------------------------
# Casts
# --------------------------------------------------------------------------------------

_MANTISSA_BITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
"""Significand precision (implicit bit included) of the floats lossless casts know."""

_FLOAT_WIDENINGS = {
    ("float16", "float32"),
    ("float16", "float64"),
    ("bfloat16", "float32"),
    ("bfloat16", "float64"),
    ("float32", "float64"),
}


def is_lossless_cast(source: np.dtype[Any], target: np.dtype[Any]) -> bool:
    """Whether the interpreter's cast from `source` to `target` keeps every value exactly
    (so casting back restores it): bool to anything, integer widenings, integers into a
    float with enough significand bits, float widenings among f16 / bf16 / f32 / f64."""
    if source == target or source == np.bool_:
        return True
    if source.kind in "iu" and target.kind in "iu":
        if source.kind == target.kind:
            return target.itemsize >= source.itemsize
        return source.kind == "u" and target.itemsize > source.itemsize
    if source.kind in "iu":
        bits = _MANTISSA_BITS.get(target.name)
        magnitude_bits = 8 * source.itemsize - (1 if source.kind == "i" else 0)
        return bits is not None and magnitude_bits <= bits
    return (source.name, target.name) in _FLOAT_WIDENINGS


class FoldCast(RewritePattern):
    """Casts to the same type and exact cast pairs."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.CastOp, rewriter: PatternRewriter) -> None:
        if op.input.type == op.result.type:
            rewriter.replace(op, [], [op.input])
            return
        inner = op.input.owner
        if not isinstance(inner, graph.CastOp):
            return
        source = inner.input
        first = (np_dtype(element_of(source)), np_dtype(element_of(inner.result)))
        second = (first[1], np_dtype(element_of(op.result)))
        if not is_lossless_cast(*first):
            return
        if source.type == op.result.type:
            rewriter.replace(op, [], [source])
        elif is_lossless_cast(*second):
            rewriter.replace(op, graph.CastOp(source, element_of(op.result)))


# --------------------------------------------------------------------------------------
# Select
# --------------------------------------------------------------------------------------


def _uniform_bool(value: SSAValue) -> bool | None:
    """True / False when `value` is a constant of all-true / all-false, else None."""
    array = constant_value(value)
    if array is None or array.size == 0:
        return None
    if bool(array.all()):
        return True
    if not bool(array.any()):
        return False
    return None


class FoldWhere(RewritePattern):
    """where with a uniform constant condition or equal branches, when no broadcast."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.WhereOp, rewriter: PatternRewriter) -> None:
        result_type = op.result.type
        if op.x is op.y and op.x.type == result_type:
            rewriter.replace(op, [], [op.x])
            return
        condition = _uniform_bool(op.condition)
        if condition is True and op.x.type == result_type:
            rewriter.replace(op, [], [op.x])
        elif condition is False and op.y.type == result_type:
            rewriter.replace(op, [], [op.y])


# --------------------------------------------------------------------------------------
# Constant folding and dead ops
# --------------------------------------------------------------------------------------


class FoldConstantOps(RewritePattern):
    """Evaluate small all-constant graph ops with the graph interpreter."""

    def __init__(self) -> None:
        self._interpreter: Interpreter | None = None

    def interpreter(self) -> Interpreter:
        if self._interpreter is None:
            from trnc.interpreters.graph_ops import GraphFunctions

            self._interpreter = Interpreter(ModuleOp([]))
            self._interpreter.register_implementations(GraphFunctions())
        return self._interpreter

    def evaluate(self, op: Operation, args: list[np.ndarray]) -> np.ndarray | None:
        """The op's result on `args`, or None when the interpreter fails on them."""
        from trnc.interpreters.graph import Abort

        try:
            with np.errstate(all="ignore"):
                results = self.interpreter().run_op(op, tuple(args))
        except (Abort, Exception):
            return None
        value = results[0] if len(results) == 1 else None
        if not isinstance(value, np.ndarray):
            return None
        expected = (shape_of(op.results[0]), np_dtype(element_of(op.results[0])))
        if (value.shape, value.dtype) != expected:
            return None
        return value

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, graph.GraphOp) or isinstance(op, graph.ConstantOp | graph.WeightOp):
            return
        if not op.operands or len(op.results) != 1:
            return
        if num_elements(shape_of(op.results[0])) > MAX_FOLD_ELEMENTS:
            return
        args: list[np.ndarray] = []
        for operand in op.operands:
            value = constant_value(operand, MAX_FOLD_ELEMENTS)
            if value is None:
                return
            args.append(value)
        result = self.evaluate(op, args)
        if result is None or not is_finite_array(result):
            return
        rewriter.replace(op, graph.ConstantOp(dense_attr(result, element_of(op.results[0]))))


class RemoveDeadGraphOps(RewritePattern):
    """Erase graph ops whose results are unused."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, graph.GraphOp) and op.parent is not None and is_trivially_dead(op):
            rewriter.erase(op)


# --------------------------------------------------------------------------------------
# The pass
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphCanonicalizePass(ModulePass):
    """Simplify graph ops (transpose/reshape/cast chains, wheres, constants, dead ops).

    See the module docstring for the exact rewrites."""

    name = "graph-canonicalize"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        applier = GreedyRewritePatternApplier(
            [
                RemoveDeadGraphOps(),
                FoldTranspose(),
                FoldReshape(),
                FoldCast(),
                FoldWhere(),
                FoldConstantOps(),
            ],
            dce_enabled=False,
        )
        PatternRewriteWalker(applier).rewrite_module(op)
