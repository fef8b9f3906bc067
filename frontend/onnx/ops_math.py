"""Converters of ONNX's arithmetic ops: elementwise, activations, casts, reductions and
normalizations (ONNX node -> `graph` ops; attribute defaults as the ONNX spec gives them
for opsets 13-21)."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from trnc.dialects import graph as g
from trnc.frontend.onnx.convert import Context, ConversionError, Converter, Node, Unsupported
from trnc.frontend.onnx.dtypes import element_type_of
from trnc.frontend.onnx.load import dtype_name, numpy_dtype_name


def unary(cls: type[g.UnaryOp]) -> Converter:
    def convert(ctx: Context, node: Node) -> None:
        ctx.set(node.outputs[0], ctx.emit(cls(ctx.ssa(node.inputs[0]))))

    return convert


def binary(cls: type[g.BinaryOp] | type[g.CompareOp]) -> Converter:
    def convert(ctx: Context, node: Node) -> None:
        lhs, rhs = ctx.ssa(node.inputs[0]), ctx.ssa(node.inputs[1])
        ctx.set(node.outputs[0], ctx.emit(cls(lhs, rhs)))

    return convert


def variadic(cls: type[g.BinaryOp]) -> Converter:
    """Max, Min, Sum: a left fold of the binary op (one input: the input itself)."""

    def convert(ctx: Context, node: Node) -> None:
        names = [i for i in node.inputs if i]
        if not names:
            raise ConversionError("needs at least one input")
        acc = ctx.ssa(names[0])
        for name in names[1:]:
            acc = ctx.emit(cls(acc, ctx.ssa(name))).results[0]
        ctx.set(node.outputs[0], acc)

    return convert


def _pow(ctx: Context, node: Node) -> None:
    base, exponent = node.inputs[0], node.inputs[1]
    if ctx.dtype(exponent) != ctx.dtype(base):
        const = ctx.const(exponent)
        if const is not None:
            ctx.set(exponent, const.astype(ctx.dtype(base)))
        else:
            cast = ctx.emit(g.CastOp(ctx.ssa(exponent), element_type_of(ctx.dtype(base))))
            ctx.set(exponent, cast)
    ctx.set(node.outputs[0], ctx.emit(g.PowOp(ctx.ssa(base), ctx.ssa(exponent))))


def _clip(ctx: Context, node: Node) -> None:
    bounds: list[float | None] = []
    for index, what in ((1, "min"), (2, "max")):
        if node.has_input(index):
            value = ctx.require_const(node, index, f"Clip's {what}")
            bounds.append(float(value.reshape(-1)[0]) if value.size else None)
        else:
            bounds.append(None)
    lo, hi = bounds
    ctx.set(node.outputs[0], ctx.emit(g.ClipOp(ctx.ssa(node.inputs[0]), lo, hi)))


def _leaky_relu(ctx: Context, node: Node) -> None:
    op = g.LeakyReluOp(ctx.ssa(node.inputs[0]), float(node.attr("alpha", 0.01)))
    ctx.set(node.outputs[0], ctx.emit(op))


def _hard_sigmoid(ctx: Context, node: Node) -> None:
    op = g.HardSigmoidOp(
        ctx.ssa(node.inputs[0]), float(node.attr("alpha", 0.2)), float(node.attr("beta", 0.5))
    )
    ctx.set(node.outputs[0], ctx.emit(op))


def _gelu(ctx: Context, node: Node) -> None:
    approximate = node.attr("approximate", "none")
    if approximate not in ("none", "tanh"):
        raise ConversionError(f"approximate must be 'none' or 'tanh', got '{approximate}'")
    ctx.set(node.outputs[0], ctx.emit(g.GeluOp(ctx.ssa(node.inputs[0]), approximate)))


def _cast(ctx: Context, node: Node) -> None:
    to = int(node.attr("to"))
    name = numpy_dtype_name(to)
    if name is None:
        raise Unsupported(f"Cast to {dtype_name(to)}")
    target = np.dtype(helper.tensor_dtype_to_np_dtype(to))
    source = node.inputs[0]
    if ctx.dtype(source) == target:
        ctx.set(node.outputs[0], ctx.values[source])
        return
    ctx.set(node.outputs[0], ctx.emit(g.CastOp(ctx.ssa(source), element_type_of(target))))


def _cast_like(ctx: Context, node: Node) -> None:
    source, like = node.inputs[0], node.inputs[1]
    target = ctx.dtype(like)
    if ctx.dtype(source) == target:
        ctx.set(node.outputs[0], ctx.values[source])
        return
    ctx.set(node.outputs[0], ctx.emit(g.CastOp(ctx.ssa(source), element_type_of(target))))


def _alias(ctx: Context, node: Node) -> None:
    """Identity, and Dropout in inference (its mask, when asked for, is all true)."""
    if node.op_type == "Dropout" and node.has_input(2):
        training = ctx.require_const(node, 2, "Dropout's training_mode")
        ratio = ctx.require_const(node, 1, "Dropout's ratio") if node.has_input(1) else None
        if bool(training.reshape(-1)[0]) and (ratio is None or float(ratio.reshape(-1)[0])):
            raise Unsupported("Dropout with training_mode = true and a nonzero ratio (random)")
    source = node.inputs[0]
    ctx.set(node.outputs[0], ctx.values[source])
    if len(node.outputs) > 1 and node.outputs[1]:
        ctx.set(node.outputs[1], np.ones(ctx.shape(source), dtype=np.bool_))


def _softmax(cls: type[g.SoftmaxOp] | type[g.LogSoftmaxOp]) -> Converter:
    def convert(ctx: Context, node: Node) -> None:
        axis = int(node.attr("axis", -1))
        ctx.set(node.outputs[0], ctx.emit(cls(ctx.ssa(node.inputs[0]), axis)))

    return convert


def reduce_axes(ctx: Context, node: Node, axes_input_since: int) -> tuple[list[int], bool] | None:
    """A reduce node's (axes, keepdims): axes from its input (opset `axes_input_since` on)
    or attribute, all of them when none are given; None when the node is a no-op
    (`noop_with_empty_axes` and no axes)."""
    rank = len(ctx.shape(node.inputs[0]))
    if ctx.opset >= axes_input_since:
        axes_arr = ctx.require_const(node, 1, "axes") if node.has_input(1) else None
        axes = [] if axes_arr is None else [int(a) for a in axes_arr.reshape(-1)]
    else:
        axes = [int(a) for a in node.attr("axes", [])]
    keepdims = bool(node.attr("keepdims", 1))
    if not axes:
        if node.attr("noop_with_empty_axes", 0):
            return None
        axes = list(range(rank))
    return axes, keepdims


def _reduce(cls: type[g.ReduceOp], axes_input_since: int) -> Converter:
    def convert(ctx: Context, node: Node) -> None:
        x = node.inputs[0]
        found = reduce_axes(ctx, node, axes_input_since)
        if found is None:
            ctx.set(node.outputs[0], ctx.values[x])
            return
        axes, keepdims = found
        value = ctx.ssa(x)
        boolean = ctx.dtype(x) == np.bool_
        if boolean:  # ReduceMax/Min of bool (opset 20) is any/all: reduce as uint8
            value = ctx.emit(g.CastOp(value, element_type_of(np.dtype(np.uint8)))).results[0]
        result = ctx.emit(cls(value, axes, keepdims)).results[0]
        if boolean:
            result = ctx.emit(g.CastOp(result, element_type_of(np.dtype(np.bool_)))).results[0]
        ctx.set(node.outputs[0], result)

    return convert


def _layer_norm(ctx: Context, node: Node) -> None:
    x = node.inputs[0]
    axis = int(node.attr("axis", -1))
    epsilon = float(node.attr("epsilon", 1e-5))
    if int(node.attr("stash_type", 1)) != TensorProto.FLOAT:
        raise Unsupported("LayerNormalization with stash_type other than float")
    bias = ctx.ssa(node.inputs[2]) if node.has_input(2) else None
    op = g.LayerNormOp(ctx.ssa(x), ctx.ssa(node.inputs[1]), bias, axis, epsilon)
    ctx.set(node.outputs[0], ctx.emit(op))
    wants = [i for i in (1, 2) if len(node.outputs) > i and node.outputs[i]]
    if wants:
        _layer_norm_stats(ctx, node, axis, epsilon)


def _layer_norm_stats(ctx: Context, node: Node, axis: int, epsilon: float) -> None:
    """LayerNormalization's optional Mean and InvStdDev outputs (kept dims, fp32)."""
    x = ctx.ssa(node.inputs[0])
    rank = len(ctx.shape(node.inputs[0]))
    axes = list(range(axis % rank if rank else 0, rank))
    if ctx.dtype(node.inputs[0]) != np.float32:
        x = ctx.emit(g.CastOp(x, element_type_of(np.dtype(np.float32)))).results[0]
    mean = ctx.emit(g.ReduceMeanOp(x, axes, True)).results[0]
    centred = ctx.emit(g.SubOp(x, mean)).results[0]
    square = ctx.emit(g.MulOp(centred, centred)).results[0]
    var = ctx.emit(g.ReduceMeanOp(square, axes, True)).results[0]
    eps = ctx.materialize(np.array(epsilon, dtype=np.float32), "epsilon")
    shifted = ctx.emit(g.AddOp(var, eps)).results[0]
    inv_std = ctx.emit(g.RsqrtOp(shifted)).results[0]
    if len(node.outputs) > 1 and node.outputs[1]:
        ctx.set(node.outputs[1], mean)
    if len(node.outputs) > 2 and node.outputs[2]:
        ctx.set(node.outputs[2], inv_std)


def _batch_norm(ctx: Context, node: Node) -> None:
    if int(node.attr("training_mode", 0)):
        raise Unsupported("BatchNormalization with training_mode = 1")
    if any(o for o in node.outputs[1:]):
        raise Unsupported("BatchNormalization's training outputs (running mean/var)")
    x, scale, bias, mean, var = (ctx.ssa(n) for n in node.inputs[:5])
    op = g.BatchNormOp(x, scale, bias, mean, var, float(node.attr("epsilon", 1e-5)))
    ctx.set(node.outputs[0], ctx.emit(op))


CONVERTERS: dict[str, Converter] = {
    "Add": binary(g.AddOp),
    "Sub": binary(g.SubOp),
    "Mul": binary(g.MulOp),
    "Div": binary(g.DivOp),
    "Pow": _pow,
    "Max": variadic(g.MaxOp),
    "Min": variadic(g.MinOp),
    "Sum": variadic(g.AddOp),
    "Equal": binary(g.EqualOp),
    "Less": binary(g.LessOp),
    "Greater": binary(g.GreaterOp),
    "Relu": unary(g.ReluOp),
    "Tanh": unary(g.TanhOp),
    "Sigmoid": unary(g.SigmoidOp),
    "Exp": unary(g.ExpOp),
    "Log": unary(g.LogOp),
    "Erf": unary(g.ErfOp),
    "Sqrt": unary(g.SqrtOp),
    "Reciprocal": unary(g.ReciprocalOp),
    "Neg": unary(g.NegOp),
    "Abs": unary(g.AbsOp),
    "LeakyRelu": _leaky_relu,
    "HardSigmoid": _hard_sigmoid,
    "Gelu": _gelu,
    "Clip": _clip,
    "Cast": _cast,
    "CastLike": _cast_like,
    "Identity": _alias,
    "Dropout": _alias,
    "Softmax": _softmax(g.SoftmaxOp),
    "LogSoftmax": _softmax(g.LogSoftmaxOp),
    "ReduceMean": _reduce(g.ReduceMeanOp, 18),
    "ReduceSum": _reduce(g.ReduceSumOp, 13),
    "ReduceMax": _reduce(g.ReduceMaxOp, 18),
    "LayerNormalization": _layer_norm,
    "BatchNormalization": _batch_norm,
}
