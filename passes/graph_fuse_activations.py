"""`graph-fuse-activations`: activation functions that exporters spell out in elementary
ops become the one graph op the engines compute in one instruction.

* GELU, as HuggingFace and torch export it without the ONNX Gelu op:
  `x * 0.5 * (1 + erf(x / sqrt(2)))` in any association and operand order of its
  multiplications and addition (`(x * 0.5) * (1 + erf(..))`, `x * ((1 + erf(..)) * 0.5)`,
  `(x * (1 + erf(..))) * 0.5`), with `x / sqrt(2)` or `x * (1 / sqrt(2))` and `x * 0.5` or
  `x / 2` -> `graph.gelu x` (exact form);
* its tanh approximation (GPT-2's `gelu_new`), `x * 0.5 * (1 + tanh(sqrt(2 / pi) *
  (x + 0.044715 * x^3)))` with `pow(x, 3)` or `x * x * x`, in the same associations ->
  `graph.gelu x {approximate = "tanh"}`.

The ScalarE GELU (trn1.md B.2) is one instruction where the chain is five to eight
passes over the tensor (on BERT-base's FFN, the whole activation). Within fp32 rounding
of the same formula: the constants must be sqrt(2) (or its inverse), sqrt(2 / pi) and
0.044715 to fp32 precision, 0.5, 1 and 3 exactly, and every intermediate must have no
other user.
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
from trnc.pass_statistics import record
from trnc.passes._graph_rewrite_utils import constant_value
from trnc.passes.graph_canonicalize import RemoveDeadGraphOps

SQRT2 = math.sqrt(2.0)
TANH_SCALE = math.sqrt(2.0 / math.pi)
TANH_CUBIC = 0.044715


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


def _one_plus(value: SSAValue) -> tuple[SSAValue, str] | None:
    """(x, approximation) when `value` is `1 + erf(x / sqrt 2)` ("none") or
    `1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))` ("tanh"), either order of the
    addition, used only once."""
    op = value.owner
    if not isinstance(op, graph.AddOp) or not _single_use(value):
        return None
    for f, one in ((op.operands[0], op.operands[1]), (op.operands[1], op.operands[0])):
        if _scalar(one) != 1.0 or not _single_use(f) or shape_of(f) != shape_of(value):
            continue
        if isinstance(f.owner, graph.ErfOp):
            x = _scaled_by(f.owner.input, 1.0 / SQRT2)
            if x is not None:
                return x, "none"
        if isinstance(f.owner, graph.TanhOp):
            x = _tanh_argument(f.owner.input)
            if x is not None:
                return x, "tanh"
    return None


def _cubed(value: SSAValue) -> SSAValue | None:
    """x when `value` is `pow(x, 3)` or `x * (x * x)` (used only once)."""
    op = value.owner
    if not _single_use(value):
        return None
    if isinstance(op, graph.PowOp) and _scalar(op.operands[1]) == 3.0:
        return op.operands[0]
    if not isinstance(op, graph.MulOp):
        return None
    for a, b in ((op.operands[0], op.operands[1]), (op.operands[1], op.operands[0])):
        square = b.owner
        if isinstance(square, graph.MulOp) and _single_use(b) and _squares(square, a):
            return a
    return None


def _squares(op: graph.MulOp, x: SSAValue) -> bool:
    """Whether `op` is `x * x`."""
    return op.operands[0] is x and op.operands[1] is x


def _tanh_argument(value: SSAValue) -> SSAValue | None:
    """x when `value` is `sqrt(2 / pi) * (x + 0.044715 * x^3)`."""
    inner = _scaled_by(value, TANH_SCALE)
    if inner is None or not isinstance(inner.owner, graph.AddOp) or not _single_use(inner):
        return None
    first, second = inner.owner.operands
    for x, term in ((first, second), (second, first)):
        cube = _scaled_by(term, TANH_CUBIC)
        if cube is not None and _cubed(cube) is x:
            return x
    return None


def match_gelu(op: graph.MulOp) -> tuple[SSAValue, str] | None:
    """(x, approximation) when `op` is `x * 0.5 * (1 + f(..))` (see `_one_plus`) in any
    of the associations of the module docstring."""
    for a, b in ((op.operands[0], op.operands[1]), (op.operands[1], op.operands[0])):
        # (x * 0.5) * (1 + f(..))
        x = _scaled_by(a, 0.5)
        found = _one_plus(b) if x is not None else None
        if found is not None and found[0] is x:
            return found
        # x * ((1 + f(..)) * 0.5)
        half = _scaled_by(b, 0.5)
        found = _one_plus(half) if half is not None else None
        if found is not None and found[0] is a:
            return found
        # (x * (1 + f(..))) * 0.5
        if _close(_scalar(b), 0.5) and isinstance(a.owner, graph.MulOp) and _single_use(a):
            first, second = a.owner.operands
            for x, rest in ((first, second), (second, first)):
                found = _one_plus(rest)
                if found is not None and found[0] is x:
                    return found
    return None


class FuseGelu(RewritePattern):
    """A spelled-out GELU -> `graph.gelu` (exact, or its tanh approximation)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.MulOp, rewriter: PatternRewriter) -> None:
        found = match_gelu(op)
        if found is None or op.result.type != found[0].type:
            return
        x, approximate = found
        gelu = graph.GeluOp(x, approximate, result_type=x.type)
        gelu.location = op.location  # the chain's last node names it (profiles, errors)
        rewriter.replace_op(op, gelu)
        record(GraphFuseActivationsPass.name, "gelus", 1, "spelled-out GELUs fused")


@dataclass(frozen=True)
class GraphFuseActivationsPass(ModulePass):
    """Spelled-out activations -> their graph op (see the module docstring); the ops of
    the chain, left unused, are erased by `graph-canonicalize`'s dead-op rule."""

    name = "graph-fuse-activations"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(FuseGelu(), apply_recursively=False).rewrite_module(op)
        # the chain's other ops and constants, now unused: graph-canonicalize's dead-op rule
        PatternRewriteWalker(RemoveDeadGraphOps()).rewrite_module(op)
