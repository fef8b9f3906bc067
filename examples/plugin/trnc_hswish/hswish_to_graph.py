"""The `hswish-to-graph` pass: rewrites `hswish.hard_swish` into trnc `graph` ops.

    %y = hswish.hard_swish %x : T
becomes
    %s = graph.hard_sigmoid %x {alpha = 1/6, beta = 0.5} : T
    %y = graph.mul %x, %s : (T, T) -> T

which is ONNX's definition of HardSwish: x * max(0, min(1, x / 6 + 1/2)).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from trnc.dialects.graph import HardSigmoidOp, MulOp
from trnc_hswish.dialect import HardSwishOp


class HardSwishToGraph(RewritePattern):
    """hard_swish(x) = x * hard_sigmoid(x; alpha = 1/6, beta = 1/2)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: HardSwishOp, rewriter: PatternRewriter) -> None:
        gate = HardSigmoidOp(op.input, alpha=1.0 / 6.0, beta=0.5)
        product = MulOp(op.input, gate.result)
        rewriter.replace_op(op, [gate, product])


@dataclass(frozen=True)
class HswishToGraphPass(ModulePass):
    """Rewrite hswish.hard_swish into graph.hard_sigmoid and graph.mul."""

    name = "hswish-to-graph"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(HardSwishToGraph()).rewrite_module(op)
