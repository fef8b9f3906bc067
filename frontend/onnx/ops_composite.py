"""Converters of ONNX ops that are compositions of ops trnc already has (ONNX node ->
several `graph` ops, each exact where its parts are): HardSwish, Softplus, Mish, PRelu,
Sign, ReduceSumSquare, ReduceL1, ReduceL2, ReduceLogSumExp, ReduceMin, GlobalMaxPool,
InstanceNormalization.

    HardSwish(x)        = x * HardSigmoid(x; 1/6, 1/2)        (the ONNX definition)
    Softplus(x)         = relu(x) + log(1 + exp(-|x|))        (= log(1 + exp(x)), without
                                                                its overflow for large x)
    Mish(x)             = x * tanh(Softplus(x))
    PRelu(x, slope)     = relu(x) + slope * min(x, 0)
    Sign(x)             = (x > 0) - (x < 0)                   (in x's type)
    ReduceSumSquare(x)  = ReduceSum(x * x)
    ReduceL1(x)         = ReduceSum(|x|)
    ReduceL2(x)         = sqrt(ReduceSum(x * x))
    ReduceLogSumExp(x)  = log(ReduceSum(exp(x - m))) + ReduceMax(x),  m = ReduceMax(x)
                                                                kept dims (the usual shift)
    ReduceMin(x)        = -ReduceMax(-x)                     (unsigned and bool, as uint8:
                                                                C - ReduceMax(C - x))
    GlobalMaxPool(x)    = ReduceMax over the spatial axes, dims kept
    InstanceNormalization(x, scale, bias)
                        = (x - m) * rsqrt(v + eps) * scale + bias, m and v the mean and
                          variance (mean of squared deviations) over the spatial axes,
                          scale and bias per channel (reshaped to [C, 1, ...])
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import SSAValue

from trnc.dialects import graph as g
from trnc.frontend.onnx.convert import Context, Converter, Node, Unsupported
from trnc.frontend.onnx.dtypes import element_type_of
from trnc.frontend.onnx.ops_math import reduce_axes


def _scalar(ctx: Context, value: float, like: SSAValue) -> SSAValue:
    """A scalar constant of `like`'s element type."""
    return ctx.materialize(np.array(value, dtype=ctx.dtype_of(like)), "const")


def _emit(ctx: Context, op: g.GraphOp) -> SSAValue:
    return ctx.emit(op).results[0]


def _softplus(ctx: Context, x: SSAValue) -> SSAValue:
    magnitude = _emit(ctx, g.AbsOp(x))
    decay = _emit(ctx, g.ExpOp(_emit(ctx, g.NegOp(magnitude))))
    log = _emit(ctx, g.LogOp(_emit(ctx, g.AddOp(decay, _scalar(ctx, 1.0, x)))))
    return _emit(ctx, g.AddOp(_emit(ctx, g.ReluOp(x)), log))


def _hard_swish(ctx: Context, node: Node) -> None:
    x = ctx.ssa(node.inputs[0])
    gate = _emit(ctx, g.HardSigmoidOp(x, 1.0 / 6.0, 0.5))
    ctx.set(node.outputs[0], _emit(ctx, g.MulOp(x, gate)))


def _softplus_node(ctx: Context, node: Node) -> None:
    ctx.set(node.outputs[0], _softplus(ctx, ctx.ssa(node.inputs[0])))


def _mish(ctx: Context, node: Node) -> None:
    x = ctx.ssa(node.inputs[0])
    ctx.set(node.outputs[0], _emit(ctx, g.MulOp(x, _emit(ctx, g.TanhOp(_softplus(ctx, x))))))


def _prelu(ctx: Context, node: Node) -> None:
    x, slope = ctx.ssa(node.inputs[0]), ctx.ssa(node.inputs[1])
    negative = _emit(ctx, g.MinOp(x, _scalar(ctx, 0.0, x)))
    scaled = _emit(ctx, g.MulOp(negative, slope))
    ctx.set(node.outputs[0], _emit(ctx, g.AddOp(_emit(ctx, g.ReluOp(x)), scaled)))


def _sign(ctx: Context, node: Node) -> None:
    x = ctx.ssa(node.inputs[0])
    element = element_type_of(ctx.dtype_of(x))
    zero = _scalar(ctx, 0.0, x)
    above = _emit(ctx, g.CastOp(_emit(ctx, g.GreaterOp(x, zero)), element))
    below = _emit(ctx, g.CastOp(_emit(ctx, g.LessOp(x, zero)), element))
    ctx.set(node.outputs[0], _emit(ctx, g.SubOp(above, below)))


def _reduce_of(transform: str, finish: str | None = None) -> Converter:
    """A reduce (opset 18: axes as an input) of `transform(x)` then `finish`."""

    def convert(ctx: Context, node: Node) -> None:
        x = ctx.ssa(node.inputs[0])
        found = reduce_axes(ctx, node, 18)
        if found is None:  # noop_with_empty_axes: the input as it is
            ctx.set(node.outputs[0], x)
            return
        axes, keepdims = found
        dtype = ctx.dtype_of(x)
        if dtype == np.bool_ and transform != "neg":
            raise Unsupported(f"{node.op_type} of booleans")
        boolean = dtype == np.bool_
        if boolean:  # ReduceMin of bool is all(): as uint8
            x = _emit(ctx, g.CastOp(x, element_type_of(np.dtype(np.uint8))))
        unsigned = ctx.dtype_of(x).kind == "u"
        if transform == "square":
            value = _emit(ctx, g.MulOp(x, x))
        elif transform == "abs":
            value = _emit(ctx, g.AbsOp(x))
        else:
            value = x
        if transform == "neg" and unsigned:  # min(x) = C - max(C - x), C the type's top
            top = _scalar(ctx, 1 if boolean else np.iinfo(ctx.dtype_of(x)).max, x)
            peak = _emit(ctx, g.ReduceMaxOp(_emit(ctx, g.SubOp(top, x)), axes, keepdims))
            result = _emit(ctx, g.SubOp(top, peak))
        elif transform == "neg":
            peak = _emit(ctx, g.ReduceMaxOp(_emit(ctx, g.NegOp(x)), axes, keepdims))
            result = _emit(ctx, g.NegOp(peak))
        elif transform == "logsumexp":
            shift = _emit(ctx, g.ReduceMaxOp(x, axes, True))
            exps = _emit(ctx, g.ExpOp(_emit(ctx, g.SubOp(x, shift))))
            total = _emit(ctx, g.ReduceSumOp(exps, axes, keepdims))
            peak = _emit(ctx, g.ReduceMaxOp(x, axes, keepdims))
            result = _emit(ctx, g.AddOp(_emit(ctx, g.LogOp(total)), peak))
        else:
            result = _emit(ctx, g.ReduceSumOp(value, axes, keepdims))
        if finish == "sqrt":
            result = _emit(ctx, g.SqrtOp(result))
        if boolean:
            result = _emit(ctx, g.CastOp(result, element_type_of(dtype)))
        ctx.set(node.outputs[0], result)

    return convert


def _global_max_pool(ctx: Context, node: Node) -> None:
    x = ctx.ssa(node.inputs[0])
    rank = len(ctx.shape_of(x))
    if rank < 3:
        raise Unsupported(f"GlobalMaxPool of a rank-{rank} tensor (needs N, C and spatial dims)")
    ctx.set(node.outputs[0], _emit(ctx, g.ReduceMaxOp(x, list(range(2, rank)), True)))


def _instance_norm(ctx: Context, node: Node) -> None:
    x = ctx.ssa(node.inputs[0])
    shape = ctx.shape_of(x)
    if len(shape) < 3:
        raise Unsupported(f"InstanceNormalization of a rank-{len(shape)} tensor")
    axes = list(range(2, len(shape)))
    per_channel = [shape[1], *([1] * (len(shape) - 2))]
    mean = _emit(ctx, g.ReduceMeanOp(x, axes, True))
    centered = _emit(ctx, g.SubOp(x, mean))
    variance = _emit(ctx, g.ReduceMeanOp(_emit(ctx, g.MulOp(centered, centered)), axes, True))
    eps = _scalar(ctx, float(node.attr("epsilon", 1e-5)), x)
    inverse = _emit(ctx, g.RsqrtOp(_emit(ctx, g.AddOp(variance, eps))))
    normed = _emit(ctx, g.MulOp(centered, inverse))
    scale = _emit(ctx, g.ReshapeOp(ctx.ssa(node.inputs[1]), per_channel))
    bias = _emit(ctx, g.ReshapeOp(ctx.ssa(node.inputs[2]), per_channel))
    ctx.set(node.outputs[0], _emit(ctx, g.AddOp(_emit(ctx, g.MulOp(normed, scale)), bias)))


CONVERTERS: dict[str, Converter] = {
    "HardSwish": _hard_swish,
    "Softplus": _softplus_node,
    "Mish": _mish,
    "PRelu": _prelu,
    "Sign": _sign,
    "ReduceSumSquare": _reduce_of("square"),
    "ReduceL1": _reduce_of("abs"),
    "ReduceL2": _reduce_of("square", "sqrt"),
    "ReduceLogSumExp": _reduce_of("logsumexp"),
    "ReduceMin": _reduce_of("neg"),
    "GlobalMaxPool": _global_max_pool,
    "InstanceNormalization": _instance_norm,
}
