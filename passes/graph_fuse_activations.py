"""`graph-fuse-activations`: activation functions that exporters spell out in elementary
ops become the one graph op the engines compute in one instruction.

* GELU, as HuggingFace and torch export it without the ONNX Gelu op:
  `x * 0.5 * (1 + erf(x / sqrt(2)))` in any association and operand order of its
  multiplications and addition (`(x * 0.5) * (1 + erf(..))`, `x * ((1 + erf(..)) * 0.5)`,
  `(x * (1 + erf(..))) * 0.5`), with `x / sqrt(2)` or `x * (1 / sqrt(2))` and `x * 0.5` or
  `x / 2` -> `graph.gelu x` (exact form). The ScalarE GELU (trn1.md B.2) is one
  instruction where the chain is five passes over the tensor (on BERT-base's FFN, the
  whole activation). Within fp32 rounding of the same formula: the constants must be
  sqrt(2) (or its inverse) to fp32 precision, 0.5 and 1 exactly, and every intermediate
  must have no other user.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from trnc.dialects import graph
from trnc.dialects.graph.base import shape_of
from trnc.passes._graph_rewrite_utils import constant_value

SQRT2 = math.sqrt(2.0)


def _scalar(value: SSAValue) -> float | None:
    """The value of a one-element constant (any shape), else None."""
    array = constant_value(value, 1)
    if array is None or array.size != 1:
        return None
    return float(array.reshape(-1)[0])


def _close(a: float | None, b: float) -> bool:
    """Equal to fp32 precision."""
    return a is not None and abs(a - b) <= 1e-6 * abs(b)


def _single_use(value: SSAValue) -> bool:
    return len(list(value.uses)) == 1


def _scaled_by(value: SSAValue, factor: float) -> SSAValue | None:
    """x when `value` is `x * factor` (either order) or `x / (1 / factor)`, used only
    once."""
    op = value.owner
    if not _single_use(value):
        return None
    if isinstance(op, graph.MulOp):
        for x, c in ((op.operands[0], op.operands[1]), (op.operands[1], op.operands[0])):
            if _close(_scalar(c), factor) and shape_of(x) == shape_of(value):
                return x
    if not isinstance(op, graph.DivOp):
        return None
    x, c = op.operands
    if _close(_scalar(c), 1.0 / factor) and shape_of(x) == shape_of(value):
        return x
    return None


def _one_plus_erf(value: SSAValue) -> SSAValue | None:
    """x when `value` is `1 + erf(x / sqrt 2)` (either order of the addition), used only
    once."""
    op = value.owner
    if not isinstance(op, graph.AddOp) or not _single_use(value):
        return None
    for e, one in ((op.operands[0], op.operands[1]), (op.operands[1], op.operands[0])):
        if _scalar(one) != 1.0 or not isinstance(e.owner, graph.ErfOp) or not _single_use(e):
            continue
        if shape_of(e) != shape_of(value):
            continue
        x = _scaled_by(e.owner.input, 1.0 / SQRT2)
        if x is not None:
            return x
    return None


def match_gelu(op: graph.MulOp) -> SSAValue | None:
    """x when `op` computes `x * 0.5 * (1 + erf(x / sqrt 2))` (see the module docstring)."""
    if shape_of(op.result) != shape_of(op.operands[0]) and shape_of(op.result) != shape_of(
        op.operands[1]
    ):
        return None
    for a, b in ((op.operands[0], op.operands[1]), (op.operands[1], op.operands[0])):
        # (x * 0.5) * (1 + erf(..))
        x = _scaled_by(a, 0.5)
        if x is not None and _one_plus_erf(b) is x:
            return x
        # x * ((1 + erf(..)) * 0.5)
        inner = _scaled_by(b, 0.5)
        if inner is not None and _one_plus_erf(inner) is a:
            return a
        # (x * (1 + erf(..))) * 0.5
        if _close(_scalar(b), 0.5) and isinstance(a.owner, graph.MulOp) and _single_use(a):
            first, second = a.owner.operands
            for x, rest in ((first, second), (second, first)):
                if _one_plus_erf(rest) is x:
                    return x
    return None


class FuseGelu(RewritePattern):
    """The spelled-out exact GELU -> `graph.gelu`."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.MulOp, rewriter: PatternRewriter) -> None:
        x = match_gelu(op)
        if x is None or op.result.type != x.type:
            return
        rewriter.replace_op(op, graph.GeluOp(x, result_type=x.type))


@dataclass(frozen=True)
class GraphFuseActivationsPass(ModulePass):
    """Spelled-out activations -> their graph op (see the module docstring); the ops of
    the chain, left unused, are erased (graph ops are pure)."""

    name = "graph-fuse-activations"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(FuseGelu(), apply_recursively=False).rewrite_module(op)
        dead = True
        while dead:  # the chain's other ops and constants, now unused
            dead = False
            for inner in list(op.walk()):
                unused = inner.results and all(not r.uses for r in inner.results)
                if isinstance(inner, graph.GraphOp) and unused:
                    inner.detach()
                    inner.erase()
                    dead = True
