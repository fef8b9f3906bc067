"""`graph-decompose`: rewrite the graph ops the NeuronCore has no instruction for into
graph ops that lower directly (matmul, elementwise binary ops, ScalarE activations,
reduce_sum / reduce_max / reduce_mean, transpose, reshape, slice, concat, where,
constants), keeping ONNX semantics and computing in the op's own element type:

* softmax(x)     -> e = exp(x - reduce_max(x)); e / reduce_sum(e)   (max-subtracted);
* log_softmax(x) -> s = x - reduce_max(x); s - log(reduce_sum(exp(s)));
* layer_norm     -> c = x - mean(x); c * rsqrt(mean(c * c) + eps) * scale (+ bias), the
  means over axes axis..rank-1;
* batch_norm     -> (x - mean) * (scale * rsqrt(var + eps)) + bias with the [C] parameters
  reshaped to [C, 1, ..., 1]; when all four parameters are `graph.constant`s,
  x * multiplier + shift with both folded to constants (computed in float64, rounded once);
* gemm           -> [transpose] matmul [* alpha] [+ c [* beta]] (each part only when
  needed; integer gemm with a fractional alpha / beta scales through f64 casts, as the
  interpreter does);
* leaky_relu     -> max(x, alpha * x) (0 < alpha <= 1), min(x, alpha * x) (alpha > 1),
  else (alpha <= 0) where(x < 0, alpha * x, x);
* hard_sigmoid   -> max(min(alpha * x + beta, 1), 0);
* clip           -> max(x, lo) then min(., hi) with constants of the input's type (bounds
  rounded as the interpreter does, no-op bounds dropped);
* neg            -> x * -1;
* global_avg_pool -> reduce_mean over the spatial dims (keepdims);
* max_pool / avg_pool -> max (sum, then a divide) over the kernel taps, each tap a strided
  `graph.slice` of the input padded by `graph.concat` with constant blocks (the type's
  lowest value for max, 0 for avg); avg_pool's divisor is a compile-time constant (the
  per-position counts when they vary: count_include_pad false, ceil_mode);
* conv2d         -> the input transposed to NHWC and zero-padded, then for each kernel tap
  (and group) a strided slice matmul'ed with the tap's [C/groups, O/groups] weight slice,
  accumulated with add (shifted 1x1 convolutions, as PSUM accumulates them); groups are
  concatenated on the channel axis, the bias added, the result transposed back to NCHW.
  Depthwise convolutions (one input and one output channel per group) multiply each
  tap by its per-channel weights instead of running one matmul per channel.

Ops that already lower directly are left alone, and so is an op whose decomposition would
need a non-finite or unrepresentable constant (e.g. a clip bound that rounds to +inf).
Options: `graph-decompose{conv=false pool=false}` keep conv2d / the sliding-window pools.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, f64
from xdsl.ir import Attribute, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)

from trnc.dialects import graph
from trnc.dialects.graph.base import (
    element_of,
    get_bool,
    get_float,
    get_int,
    get_ints,
    is_float,
    is_integer,
    shape_of,
)
from trnc.dialects.graph.shapes import normalize_axis
from trnc.passes._graph_rewrite_utils import (
    Emitter,
    cast_scalar,
    constant_value,
    is_finite_array,
    lowest_value,
    np_dtype,
)

# --------------------------------------------------------------------------------------
# Normalizations
# --------------------------------------------------------------------------------------


class DecomposeSoftmax(RewritePattern):
    """softmax / log_softmax -> the max-subtracted form."""

    @op_type_rewrite_pattern
    def match_and_rewrite(
        self, op: graph.SoftmaxOp | graph.LogSoftmaxOp, rewriter: PatternRewriter
    ) -> None:
        x = op.input
        ax = normalize_axis(get_int(op.axis), len(shape_of(x)))
        e = Emitter()
        shifted = e.sub(x, e.reduce(graph.ReduceMaxOp, x, [ax], True))
        exp = e.unary(graph.ExpOp, shifted)
        total = e.reduce(graph.ReduceSumOp, exp, [ax], True)
        if isinstance(op, graph.SoftmaxOp):
            result = e.div(exp, total)
        else:
            result = e.sub(shifted, e.unary(graph.LogOp, total))
        rewriter.replace(op, e.located(op), [result])


class DecomposeLayerNorm(RewritePattern):
    """layer_norm -> mean, centre, variance, rsqrt, scale (and bias)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.LayerNormOp, rewriter: PatternRewriter) -> None:
        x = op.input
        rank = len(shape_of(x))
        axes = list(range(normalize_axis(get_int(op.axis), rank), rank))
        element_type = element_of(x)
        if cast_scalar(get_float(op.epsilon), element_type) is None:
            return
        e = Emitter()
        centred = e.sub(x, e.reduce(graph.ReduceMeanOp, x, axes, True))
        var = e.reduce(graph.ReduceMeanOp, e.mul(centred, centred), axes, True)
        inv_std = e.unary(graph.RsqrtOp, e.add(var, e.scalar(get_float(op.epsilon), element_type)))
        result = e.mul(e.mul(centred, inv_std), op.scale)
        if op.bias is not None:
            result = e.add(result, op.bias)
        rewriter.replace(op, e.located(op), [result])


class DecomposeBatchNorm(RewritePattern):
    """batch_norm (inference) -> per-channel multiply and shift."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.BatchNormOp, rewriter: PatternRewriter) -> None:
        x = op.input
        shape = shape_of(x)
        element_type = element_of(x)
        channels = shape[1]
        param_shape = [channels, *([1] * (len(shape) - 2))]
        epsilon = get_float(op.epsilon)
        e = Emitter()
        folded = self.fold(op, element_type)
        if folded is not None:
            multiplier, shift = folded
            scaled = e.mul(x, e.constant(multiplier.reshape(param_shape), element_type))
            result = e.add(scaled, e.constant(shift.reshape(param_shape), element_type))
            rewriter.replace(op, e.located(op), [result])
            return
        if cast_scalar(epsilon, element_type) is None:
            return
        inv_std = e.unary(graph.RsqrtOp, e.add(op.var, e.scalar(epsilon, element_type)))
        multiplier = e.mul(op.scale, inv_std)
        centred = e.sub(x, e.reshape(op.mean, param_shape))
        scaled = e.mul(centred, e.reshape(multiplier, param_shape))
        result = e.add(scaled, e.reshape(op.bias, param_shape))
        rewriter.replace(op, e.located(op), [result])

    @staticmethod
    def fold(
        op: graph.BatchNormOp, element_type: Attribute
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(multiplier, shift) in the op's dtype when every parameter is a constant and
        both are finite, else None."""
        params = [constant_value(v) for v in (op.scale, op.bias, op.mean, op.var)]
        if any(p is None for p in params):
            return None
        scale, bias, mean, var = (np.asarray(p, dtype=np.float64) for p in params)
        dtype = np_dtype(element_type)
        with np.errstate(all="ignore"):
            multiplier = scale / np.sqrt(var + get_float(op.epsilon))
            shift = bias - mean * multiplier
            result = multiplier.astype(dtype), shift.astype(dtype)
        if not (is_finite_array(result[0]) and is_finite_array(result[1])):
            return None
        return result


# --------------------------------------------------------------------------------------
# Contractions
# --------------------------------------------------------------------------------------


def _can_scale(factor: float, element_type: Attribute) -> bool:
    """Whether `_scale` can multiply a tensor of `element_type` by `factor`."""
    if is_float(element_type) or float(factor).is_integer():
        return cast_scalar(factor, element_type) is not None
    return math.isfinite(factor)


def _scale(e: Emitter, y: SSAValue, factor: float) -> SSAValue:
    """`y * factor` in y's element type; integers with a fractional factor scale in f64
    and truncate back (the interpreter's rule). Check `_can_scale` first."""
    element_type = element_of(y)
    if is_float(element_type) or float(factor).is_integer():
        return e.mul(y, e.scalar(factor, element_type))
    wide = e.mul(e.cast(y, f64), e.scalar(factor, f64))
    return e.cast(wide, element_type)


class DecomposeGemm(RewritePattern):
    """gemm -> transposes (when trans_*), matmul, alpha and beta scaling, bias add."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.GemmOp, rewriter: PatternRewriter) -> None:
        alpha, beta = get_float(op.alpha), get_float(op.beta)
        element_type = element_of(op.a)
        use_c = op.c is not None and beta != 0.0
        if alpha != 1.0 and not _can_scale(alpha, element_type):
            return
        if use_c and beta != 1.0 and not _can_scale(beta, element_type):
            return
        e = Emitter()
        a = e.transpose(op.a, [1, 0]) if get_bool(op.trans_a) else op.a
        b = e.transpose(op.b, [1, 0]) if get_bool(op.trans_b) else op.b
        result = e.matmul(a, b)
        if alpha != 1.0:
            result = _scale(e, result, alpha)
        if use_c:
            assert op.c is not None
            result = e.add(result, op.c if beta == 1.0 else _scale(e, op.c, beta))
        rewriter.replace(op, e.located(op), [result])


# --------------------------------------------------------------------------------------
# Elementwise
# --------------------------------------------------------------------------------------


class DecomposeLeakyRelu(RewritePattern):
    """leaky_relu -> max / min with alpha * x, or a where for negative alpha."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.LeakyReluOp, rewriter: PatternRewriter) -> None:
        x = op.input
        alpha = get_float(op.alpha)
        element_type = element_of(x)
        if cast_scalar(alpha, element_type) is None:
            return
        e = Emitter()
        scaled = e.mul(x, e.scalar(alpha, element_type))
        if 0.0 < alpha <= 1.0:  # alpha = 0 would turn +inf into max(inf, 0 * inf) = NaN
            result = e.max(x, scaled)
        elif alpha > 1.0:
            result = e.min(x, scaled)
        else:
            negative = e.emit(graph.LessOp(x, e.scalar(0.0, element_type)))
            result = e.emit(graph.WhereOp(negative, scaled, x))
        rewriter.replace(op, e.located(op), [result])


class DecomposeHardSigmoid(RewritePattern):
    """hard_sigmoid -> max(min(alpha * x + beta, 1), 0)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.HardSigmoidOp, rewriter: PatternRewriter) -> None:
        x = op.input
        element_type = element_of(x)
        alpha, beta = get_float(op.alpha), get_float(op.beta)
        if cast_scalar(alpha, element_type) is None or cast_scalar(beta, element_type) is None:
            return
        e = Emitter()
        y = e.add(e.mul(x, e.scalar(alpha, element_type)), e.scalar(beta, element_type))
        y = e.min(y, e.scalar(1.0, element_type))
        result = e.max(y, e.scalar(0.0, element_type))
        rewriter.replace(op, e.located(op), [result])


def _clip_bound(value: float, element_type: Attribute, upper: bool) -> np.ndarray | bool | None:
    """The clip bound as a 0-d array of the element type; True when the bound clamps
    nothing (drop it); None when it cannot be a finite constant (leave the op alone)."""
    dtype = np_dtype(element_type)
    if math.isnan(value):
        return None
    if is_integer(element_type):
        info = np.iinfo(dtype)
        if math.isinf(value):
            bound = int(info.max if value > 0 else info.min)
        else:
            bound = math.floor(value) if upper else math.ceil(value)
            bound = min(max(bound, int(info.min)), int(info.max))
        if bound == (int(info.max) if upper else int(info.min)):
            return True
        return np.asarray(bound, dtype=dtype)
    with np.errstate(all="ignore"):
        rounded = np.asarray(value, dtype=np.float64).astype(dtype)
    wide = float(rounded.astype(np.float64))
    if wide == (math.inf if upper else -math.inf):
        return True
    return rounded if math.isfinite(wide) else None


class DecomposeClip(RewritePattern):
    """clip -> max(x, lo) and min(., hi) with constants of the input's type."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.ClipOp, rewriter: PatternRewriter) -> None:
        x = op.input
        element_type = element_of(x)
        bounds: list[tuple[type[graph.BinaryOp], np.ndarray]] = []
        for attr, cls, upper in ((op.min, graph.MaxOp, False), (op.max, graph.MinOp, True)):
            if attr is None:
                continue
            bound = _clip_bound(get_float(attr), element_type, upper)
            if bound is None:
                return
            if bound is not True:
                assert isinstance(bound, np.ndarray)
                bounds.append((cls, bound))
        e = Emitter()
        result = x
        for cls, bound in bounds:
            result = e.binary(cls, result, e.constant(bound, element_type))
        rewriter.replace(op, e.located(op), [result])


class DecomposeNeg(RewritePattern):
    """neg -> x * -1 (wrapping for integers, as negation does)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.NegOp, rewriter: PatternRewriter) -> None:
        element_type = element_of(op.input)
        e = Emitter()
        with np.errstate(all="ignore"):
            minus_one = np.asarray(-1).astype(np_dtype(element_type))
        result = e.mul(op.input, e.constant(minus_one, element_type))
        rewriter.replace(op, e.located(op), [result])


# --------------------------------------------------------------------------------------
# Sliding windows
# --------------------------------------------------------------------------------------


def _pad_for_windows(
    e: Emitter,
    x: SSAValue,
    axes: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    pads_begin: Sequence[int],
    dilations: Sequence[int],
    out: Sequence[int],
    fill: float,
) -> SSAValue:
    """`x` padded along `axes` with `fill`: the begin pads, and at the end as much as the
    last window reaches (ceil_mode windows may reach past the declared end pads)."""
    shape = shape_of(x)
    for i, ax in enumerate(axes):
        needed = (out[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1
        after = max(0, needed - pads_begin[i] - shape[ax])
        x = e.pad(x, ax, pads_begin[i], after, fill)
    return x


def _tap_slice(
    e: Emitter,
    x: SSAValue,
    axes: Sequence[int],
    tap: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    out: Sequence[int],
    extra: Sequence[tuple[int, int, int]] = (),
) -> SSAValue:
    """The strided slice of the padded `x` that kernel tap `tap` reads for every output
    position; `extra` adds (axis, start, end) ranges (a group's channels)."""
    starts = [t * d for t, d in zip(tap, dilations, strict=True)]
    ends = [s + (o - 1) * st + 1 for s, o, st in zip(starts, out, strides, strict=True)]
    return e.slice(
        x,
        [*starts, *(start for _, start, _ in extra)],
        [*ends, *(end for _, _, end in extra)],
        [*axes, *(ax for ax, _, _ in extra)],
        [*strides, *([1] * len(extra))],
    )


def _window_counts(
    size: int, kernel: int, stride: int, pad_begin: int, pad_end: int, dilation: int, out: int,
    include_pad: bool,
) -> np.ndarray:  # fmt: skip
    """How many taps of each output position's window land on counted elements along one
    axis: the input, plus the declared padding with `include_pad` (never the part of a
    ceil_mode window past the padding), as the interpreter counts."""
    low, high = (0, pad_begin + size + pad_end) if include_pad else (pad_begin, pad_begin + size)
    return np.array(
        [
            sum(1 for t in range(kernel) if low <= o * stride + t * dilation < high)
            for o in range(out)
        ],
        dtype=np.int64,
    )


_MAX_DIVISOR_ELEMENTS = 4096
"""Above this many elements the avg_pool divisor is built as a product of per-axis
constant vectors instead of one constant."""


def _avg_divisor(e: Emitter, op: graph.AvgPoolOp, out: Sequence[int]) -> SSAValue:
    """The avg_pool divisor: a scalar, or a constant broadcasting to the spatial dims."""
    x_shape = shape_of(op.input)
    kernel, strides, pads = get_ints(op.kernel), get_ints(op.strides), get_ints(op.pads)
    n = len(kernel)
    dilations = op.pool_dilations() or (1,) * n
    include = get_bool(op.count_include_pad)
    counts = [
        _window_counts(
            x_shape[2 + i],
            kernel[i],
            strides[i],
            pads[i],
            pads[n + i],
            dilations[i],
            out[i],
            include,
        )
        for i in range(n)
    ]
    element_type = element_of(op.input)
    factor = 1
    varying: list[int] = []
    for i, c in enumerate(counts):
        if np.all(c == c[0]):
            factor *= int(c[0])
        else:
            varying.append(i)
    if not varying:
        return e.scalar(float(factor), element_type)

    def shaped(i: int, values: np.ndarray) -> np.ndarray:
        return values.reshape([out[i], *([1] * (n - 1 - i))])

    if math.prod(out[i] for i in varying) <= _MAX_DIVISOR_ELEMENTS:
        total: np.ndarray = np.asarray(factor, dtype=np.int64)
        for i in varying:
            total = total * shaped(i, counts[i])
        return e.constant(total.astype(np.float64), element_type)
    parts = [shaped(i, counts[i] * (factor if j == 0 else 1)) for j, i in enumerate(varying)]
    divisor = e.constant(parts[0].astype(np.float64), element_type)
    for part in parts[1:]:
        divisor = e.mul(divisor, e.constant(part.astype(np.float64), element_type))
    return divisor


class DecomposePool(RewritePattern):
    """max_pool / avg_pool -> max / sum (then divide) over strided slices of the padded
    input."""

    @op_type_rewrite_pattern
    def match_and_rewrite(
        self, op: graph.MaxPoolOp | graph.AvgPoolOp, rewriter: PatternRewriter
    ) -> None:
        x = op.input
        x_shape = shape_of(x)
        out = shape_of(op.result)[2:]
        kernel, strides, pads = get_ints(op.kernel), get_ints(op.strides), get_ints(op.pads)
        n = len(kernel)
        dilations = op.pool_dilations() or (1,) * n
        axes = list(range(2, 2 + n))
        is_max = isinstance(op, graph.MaxPoolOp)
        if math.prod(out) == 0 or math.prod(x_shape) == 0:
            return
        fill = lowest_value(element_of(x)) if is_max else 0.0
        e = Emitter()
        padded = _pad_for_windows(e, x, axes, kernel, strides, pads[:n], dilations, out, fill)
        result: SSAValue | None = None
        for tap in itertools.product(*(range(k) for k in kernel)):
            part = _tap_slice(e, padded, axes, tap, strides, dilations, out)
            if result is None:
                result = part
            else:
                result = e.max(result, part) if is_max else e.add(result, part)
        assert result is not None
        if isinstance(op, graph.AvgPoolOp):
            result = e.div(result, _avg_divisor(e, op, out))
        rewriter.replace(op, e.located(op), [result])


class DecomposeGlobalAvgPool(RewritePattern):
    """global_avg_pool -> reduce_mean over the spatial dims (keepdims)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.GlobalAvgPoolOp, rewriter: PatternRewriter) -> None:
        rank = len(shape_of(op.input))
        e = Emitter()
        result = e.reduce(graph.ReduceMeanOp, op.input, list(range(2, rank)), True)
        rewriter.replace(op, e.located(op), [result])


@dataclass
class DecomposeConv2d(RewritePattern):
    """conv2d -> per-tap (and per-group) matmuls of strided NHWC slices, accumulated;
    with `keep_direct`, the convs graph-to-tile lowers directly are left alone."""

    keep_direct: bool = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: graph.Conv2dOp, rewriter: PatternRewriter) -> None:
        if self.keep_direct:
            from trnc.lowering.graph_to_tile_conv import fits

            if fits(op):
                return
        x, w = op.input, op.weight
        _, _, oh, ow = shape_of(op.result)
        o, cg, kh, kw = shape_of(w)
        groups = get_int(op.groups)
        og = o // groups
        strides, pads, dilations = get_ints(op.strides), get_ints(op.pads), get_ints(op.dilations)
        if 0 in shape_of(x) or 0 in (o, cg, oh, ow):
            return
        e = Emitter()
        nhwc = e.transpose(x, [0, 2, 3, 1])
        padded = _pad_for_windows(
            e, nhwc, [1, 2], (kh, kw), strides, pads[:2], dilations, (oh, ow), 0.0
        )
        # [O, C/g, KH, KW] -> [KH * KW, C/g, O]: row t holds tap t's weights.
        taps_w = e.transpose(e.reshape(w, [o, cg, kh * kw]), [2, 1, 0])
        depthwise = cg == 1 and og == 1
        outputs: list[SSAValue] = []
        for gi in range(1 if depthwise else groups):
            acc: SSAValue | None = None
            for t, tap in enumerate(itertools.product(range(kh), range(kw))):
                if depthwise:  # every channel at once: x[..., c] * w[c, tap]
                    xs = _tap_slice(e, padded, [1, 2], tap, strides, dilations, (oh, ow))
                    ws = e.reshape(e.slice(taps_w, [t], [t + 1], [0]), [o])
                    part = e.mul(xs, ws)
                else:
                    channels = (3, gi * cg, (gi + 1) * cg)
                    xs = _tap_slice(
                        e, padded, [1, 2], tap, strides, dilations, (oh, ow), [channels]
                    )
                    ws = e.slice(taps_w, [t, gi * og], [t + 1, (gi + 1) * og], [0, 2])
                    part = e.matmul(xs, e.reshape(ws, [cg, og]))
                acc = part if acc is None else e.add(acc, part)
            assert acc is not None
            outputs.append(acc)
        result = e.concat(outputs, 3)
        if op.bias is not None:
            result = e.add(result, op.bias)
        result = e.transpose(result, [0, 3, 1, 2])
        rewriter.replace(op, e.located(op), [result])


# --------------------------------------------------------------------------------------
# The pass
# --------------------------------------------------------------------------------------

DECOMPOSED_OPS: tuple[type[graph.GraphOp], ...] = (
    graph.SoftmaxOp,
    graph.LogSoftmaxOp,
    graph.LayerNormOp,
    graph.BatchNormOp,
    graph.GemmOp,
    graph.Conv2dOp,
    graph.MaxPoolOp,
    graph.AvgPoolOp,
    graph.GlobalAvgPoolOp,
    graph.LeakyReluOp,
    graph.HardSigmoidOp,
    graph.ClipOp,
    graph.NegOp,
)
"""The ops `graph-decompose` rewrites (with every option on)."""


@dataclass(frozen=True)
class GraphDecomposePass(ModulePass):
    """Rewrite graph ops without a NeuronCore instruction into ops that lower directly."""

    name = "graph-decompose"

    conv: bool = True
    """Decompose conv2d into per-tap matmuls."""

    pool: bool = True
    """Decompose max_pool / avg_pool into strided slices."""

    direct_conv: bool = False
    """Leave the conv2ds that graph-to-tile lowers directly (channels on the partitions,
    `lowering/graph_to_tile_conv.py`); the lowering pipeline sets it."""

    def patterns(self) -> list[RewritePattern]:
        patterns: list[RewritePattern] = [
            DecomposeSoftmax(),
            DecomposeLayerNorm(),
            DecomposeBatchNorm(),
            DecomposeGemm(),
            DecomposeLeakyRelu(),
            DecomposeHardSigmoid(),
            DecomposeClip(),
            DecomposeNeg(),
            DecomposeGlobalAvgPool(),
        ]
        if self.pool:
            patterns.append(DecomposePool())
        if self.conv:
            patterns.append(DecomposeConv2d(keep_direct=self.direct_conv))
        return patterns

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        applier = GreedyRewritePatternApplier(self.patterns(), dce_enabled=False)
        PatternRewriteWalker(applier, apply_recursively=False).rewrite_module(op)
