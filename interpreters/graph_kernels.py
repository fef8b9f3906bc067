"""The numpy kernels of the graph interpreter: one function per graph op (family), with
ONNX semantics as onnxruntime's CPU provider computes them.

Numeric conventions (the interpreter's contract, checked against onnxruntime):

* float32 and float64 ops compute in their own type (no silent float64); float16,
  bfloat16 and the fp8 types compute in float32 and round the result (round to nearest
  even) to the declared type. The exceptions are more accurate, never less: Erf and Gelu
  evaluate in float64 and round once (numpy has no float32 erf), LayerNormalization
  accumulates its mean and variance in float64 (as onnxruntime does);
* integer arithmetic wraps around like onnxruntime's C++ arithmetic (integer ReduceSum and
  ReduceMean accumulate in float64 and saturate, as onnxruntime's do); Div truncates toward
  zero; integer Pow, and float -> integer Cast, truncate (as `static_cast` does);
* every kernel takes plain arrays and Python parameters and returns a new array of the
  declared dtype; kernels never modify their inputs.

Problems in the data (an index out of range, an integer division by zero) raise
`KernelError`, which the interpreter turns into a located error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ml_dtypes
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from trnc.dialects.graph.shapes import normalize_axes, normalize_axis, slice_range
from trnc.interpreters.erf import erf

DType = np.dtype[Any]
Shape = tuple[int, ...]


class KernelError(ValueError):
    """The data makes an op fail at run time; the message is for the user."""


# --------------------------------------------------------------------------------------
# dtype helpers
# --------------------------------------------------------------------------------------


_NARROW_FLOATS = frozenset(
    np.dtype(t)
    for t in (
        ml_dtypes.bfloat16,
        ml_dtypes.float8_e4m3fn,
        ml_dtypes.float8_e4m3,
        ml_dtypes.float8_e5m2,
    )
)


def is_float(dtype: DType) -> bool:
    """A floating-point dtype (the ml_dtypes ones included)."""
    return dtype.kind == "f" or dtype in _NARROW_FLOATS


def is_int(dtype: DType) -> bool:
    """A (non-bool) integer dtype."""
    return dtype.kind in "iu"


def compute_dtype(dtype: DType) -> DType:
    """The dtype arithmetic on `dtype` runs in: float32 for the narrow floats."""
    if dtype == np.float32 or dtype == np.float64 or not is_float(dtype):
        return dtype
    return np.dtype(np.float32)


def widen(x: np.ndarray) -> np.ndarray:
    """`x` in its compute dtype."""
    return np.asarray(x).astype(compute_dtype(x.dtype), copy=False)


def narrow(x: Any, dtype: DType) -> np.ndarray:
    """`x` (an array or numpy scalar) as an array of `dtype` (rounding to nearest even)."""
    return np.asarray(x).astype(dtype, copy=False)


def scalar(value: float, dtype: DType) -> np.ndarray:
    """A float attribute as a 0-d array of the compute dtype (ONNX float attributes are
    float32; they arrive here as exact float64 copies)."""
    return np.asarray(value, dtype=np.float64).astype(compute_dtype(dtype))


# --------------------------------------------------------------------------------------
# Elementwise binary
# --------------------------------------------------------------------------------------


def arith(ufunc: Callable[..., Any], a: np.ndarray, b: np.ndarray, dtype: DType) -> np.ndarray:
    """Add, Sub, Mul, Max, Min: `ufunc(a, b)` with broadcasting, in the compute dtype."""
    return narrow(ufunc(widen(a), widen(b)), dtype)


def div(a: np.ndarray, b: np.ndarray, dtype: DType) -> np.ndarray:
    """ONNX Div: true division for floats, division truncating toward zero for integers."""
    if not is_int(dtype):
        return narrow(np.true_divide(widen(a), widen(b)), dtype)
    if np.any(b == 0):
        raise KernelError("integer division by zero")
    quotient = np.floor_divide(a, b)
    if dtype.kind == "i":
        inexact = np.remainder(a, b) != 0
        quotient = quotient + (inexact & ((a < 0) != (b < 0))).astype(dtype)
    return narrow(quotient, dtype)


def to_integer(x: np.ndarray, dtype: DType) -> np.ndarray:
    """Float values to an integer dtype as C++ `static_cast` compiles on x86-64:
    truncation toward zero; NaN and values out of range give the minimum of the
    intermediate type (int32 for targets of at most 16 bits and int32, int64 otherwise),
    then wrap around to the target width."""
    values = np.asarray(x).astype(np.float64, copy=False)
    via: DType
    if dtype.itemsize <= 2 or dtype == np.int32:
        low, high, via = -(2.0**31), 2.0**31, np.dtype(np.int32)
    else:
        low, high, via = -(2.0**63), 2.0**63, np.dtype(np.int64)
    if dtype == np.uint64:
        high = 2.0**64
    bad = ~((values > low - 1) & (values < high))
    truncated = np.trunc(np.where(bad, 0.0, values))
    if dtype == np.uint64:
        big = truncated >= 2.0**63
        result = np.where(big, truncated - 2.0**64, truncated).astype(np.int64)
        result = np.where(bad, np.iinfo(np.int64).min, result)
        return result.astype(dtype)
    result = truncated.astype(via)
    result = np.where(bad, np.iinfo(via).min, result).astype(via)
    return result.astype(dtype)


def power(a: np.ndarray, b: np.ndarray, dtype: DType) -> np.ndarray:
    """ONNX Pow: float32 ** float32 in float32; any other pairing in float64 (as
    `std::pow` promotes), rounded (floats) or truncated (integers) to the base's type."""
    if a.dtype == np.float32 and b.dtype == np.float32:
        return narrow(np.power(a, b), dtype)
    if compute_dtype(a.dtype) == np.float32 and compute_dtype(b.dtype) == np.float32:
        return narrow(np.power(widen(a), widen(b)), dtype)
    result = np.power(a.astype(np.float64), b.astype(np.float64))
    return to_integer(result, dtype) if is_int(dtype) else narrow(result, dtype)


def compare(ufunc: Callable[..., Any], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal, Less, Greater: a bool array."""
    return narrow(ufunc(widen(a), widen(b)), np.dtype(np.bool_))


def where(condition: np.ndarray, x: np.ndarray, y: np.ndarray, dtype: DType) -> np.ndarray:
    """ONNX Where with broadcasting of all three operands."""
    return narrow(np.where(condition, x, y), dtype)


# --------------------------------------------------------------------------------------
# Elementwise unary
# --------------------------------------------------------------------------------------


def unary(fn: Callable[[np.ndarray], Any], x: np.ndarray, dtype: DType) -> np.ndarray:
    """`fn` on `x` in the compute dtype, rounded to `dtype`."""
    return narrow(fn(widen(x)), dtype)


def relu(x: np.ndarray, dtype: DType) -> np.ndarray:
    """max(x, 0), as onnxruntime computes it: NaN and -0.0 pass through."""
    w = widen(x)
    return narrow(np.where(w < 0, w.dtype.type(0), w), dtype)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow: exp(-|x|) only."""
    e = np.exp(-np.abs(x))
    one = x.dtype.type(1)
    return np.where(x >= 0, one / (one + e), e / (one + e))


def erf_in(x: np.ndarray, dtype: DType) -> np.ndarray:
    """ONNX Erf (computed in float64, rounded once)."""
    return narrow(erf(x.astype(np.float64)), dtype)


def gelu(x: np.ndarray, approximate: str, dtype: DType) -> np.ndarray:
    """ONNX Gelu (opset 20): `0.5 x (1 + erf(x / sqrt 2))`, or with `approximate = "tanh"`
    `0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))`; computed in float64 and rounded
    once."""
    v = x.astype(np.float64)
    if approximate == "tanh":
        inner = np.sqrt(2.0 / np.pi) * (v + 0.044715 * v * v * v)
        return narrow(0.5 * v * (1.0 + np.tanh(inner)), dtype)
    return narrow(0.5 * v * (1.0 + erf(v * np.sqrt(0.5))), dtype)


def _int_bound(value: float, dtype: DType, upper: bool) -> int:
    info = np.iinfo(dtype)
    if np.isnan(value):
        raise KernelError("clip bound is NaN")
    if np.isinf(value):
        return int(info.max if value > 0 else info.min)
    bound = int(np.floor(value)) if upper else int(np.ceil(value))
    return min(max(bound, int(info.min)), int(info.max))


def clip(x: np.ndarray, low: float | None, high: float | None, dtype: DType) -> np.ndarray:
    """ONNX Clip `min(max(x, low), high)` with absent bounds skipped. Float bounds are
    first rounded to the tensor's type (in ONNX they are tensors of that type); integer
    tensors clamp to the integers inside [low, high] (the bounds saturate to the type)."""
    w = widen(x)
    if is_int(dtype):
        if low is not None:
            w = np.maximum(w, dtype.type(_int_bound(low, dtype, upper=False)))
        if high is not None:
            w = np.minimum(w, dtype.type(_int_bound(high, dtype, upper=True)))
        return narrow(w, dtype)
    if low is not None:
        w = np.maximum(w, np.asarray(low, np.float64).astype(dtype).astype(w.dtype))
    if high is not None:
        w = np.minimum(w, np.asarray(high, np.float64).astype(dtype).astype(w.dtype))
    return narrow(w, dtype)


def leaky_relu(x: np.ndarray, alpha: float, dtype: DType) -> np.ndarray:
    """`x if x >= 0 else alpha * x`."""
    w = widen(x)
    return narrow(np.where(w >= 0, w, scalar(alpha, dtype) * w), dtype)


def hard_sigmoid(x: np.ndarray, alpha: float, beta: float, dtype: DType) -> np.ndarray:
    """`max(0, min(1, alpha * x + beta))`."""
    w = widen(x)
    y = scalar(alpha, dtype) * w + scalar(beta, dtype)
    return narrow(np.maximum(np.minimum(y, w.dtype.type(1)), w.dtype.type(0)), dtype)


def cast(x: np.ndarray, dtype: DType) -> np.ndarray:
    """ONNX Cast as onnxruntime does it: to bool is `x != 0` (NaN is true); float to
    integer truncates (`to_integer`); integers wrap; to float16 / bfloat16 from anything
    but float32 goes through float32; floats round to nearest even."""
    source = x.dtype
    if dtype == source:
        return np.array(x)
    if dtype == np.bool_:
        return narrow(widen(x) != 0, dtype)
    if is_int(dtype) and is_float(source):
        return to_integer(widen(x), dtype)
    if is_float(dtype) and compute_dtype(dtype) != dtype and source != np.float32:
        return narrow(np.asarray(x).astype(np.float32), dtype)
    return narrow(x, dtype)


# --------------------------------------------------------------------------------------
# Contractions
# --------------------------------------------------------------------------------------


def matmul(a: np.ndarray, b: np.ndarray, dtype: DType) -> np.ndarray:
    """ONNX MatMul (numpy.matmul semantics), accumulating in the compute dtype."""
    return narrow(np.matmul(widen(a), widen(b)), dtype)


def _int_scaled(y: np.ndarray, factor: float, dtype: DType) -> np.ndarray:
    if float(factor).is_integer():
        return y * dtype.type(int(factor))
    return to_integer(y.astype(np.float64) * factor, dtype)


def gemm(
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray | None,
    alpha: float,
    beta: float,
    trans_a: bool,
    trans_b: bool,
    dtype: DType,
) -> np.ndarray:
    """ONNX Gemm: `alpha * op(a) @ op(b) + beta * c`; c is skipped when beta is 0 (as
    onnxruntime does). Integer tensors with non-integral alpha or beta scale in float64 and
    truncate."""
    wa, wb = widen(a), widen(b)
    if trans_a:
        wa = wa.T
    if trans_b:
        wb = wb.T
    y = np.matmul(wa, wb)
    if is_int(dtype):
        y = _int_scaled(y, alpha, dtype) if alpha != 1.0 else y
        if c is not None and beta != 0.0:
            y = y + (_int_scaled(widen(c), beta, dtype) if beta != 1.0 else widen(c))
        return narrow(y, dtype)
    if alpha != 1.0:
        y = y * scalar(alpha, dtype)
    if c is not None and beta != 0.0:
        wc = widen(c)
        y = y + (wc * scalar(beta, dtype) if beta != 1.0 else wc)
    return narrow(y, dtype)


# --------------------------------------------------------------------------------------
# Sliding windows
# --------------------------------------------------------------------------------------


def _windows(
    x: np.ndarray,
    fill: Any,
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    out: Sequence[int],
) -> np.ndarray:
    """The sliding windows over the trailing `len(kernel)` dims of `x` padded with `fill`
    (`pads` = begins then ends; more fill at the end when a ceil-mode window runs past
    the padding): shape `x.shape[:-n] + out + kernel`, a view where possible."""
    n = len(kernel)
    lead = x.ndim - n
    widths: list[tuple[int, int]] = [(0, 0)] * lead
    for i in range(n):
        size = x.shape[lead + i]
        needed = (out[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1
        widths.append((pads[i], max(0, needed - pads[i] - size)))
    padded = np.pad(x, widths, constant_values=fill) if any(map(any, widths)) else x
    extents = [(k - 1) * d + 1 for k, d in zip(kernel, dilations, strict=True)]
    view = sliding_window_view(padded, extents, axis=tuple(range(lead, x.ndim)))
    index: tuple[slice, ...] = (slice(None),) * lead
    index += tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out, strides, strict=True))
    index += tuple(slice(None, None, d) for d in dilations)
    return view[index]


def _window_counts(
    spatial: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    out: Sequence[int],
    include_pad: bool,
) -> np.ndarray:
    """How many elements each window covers: input elements only, or (`include_pad`)
    input and padding elements (never what a ceil-mode window covers past the padding)."""
    n = len(spatial)
    mask = np.ones(tuple(spatial), dtype=np.int64)
    if include_pad:
        mask = np.pad(mask, [(pads[i], pads[n + i]) for i in range(n)], constant_values=1)
        pads = [0] * (2 * n)
    windows = _windows(mask, 0, kernel, strides, pads, dilations, out)
    return windows.sum(axis=tuple(range(n, 2 * n)))


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray | None,
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    groups: int,
    out_shape: Shape,
    dtype: DType,
) -> np.ndarray:
    """ONNX Conv in 2-D (NCHW, OIHW, pads [top, left, bottom, right]), accumulating in the
    compute dtype."""
    wx, ww = widen(x), widen(w)
    n = wx.shape[0]
    o, cg, kh, kw = ww.shape
    oh, ow = out_shape[2:]
    windows = _windows(wx, 0, (kh, kw), strides, pads, dilations, (oh, ow))  # N C OH OW KH KW
    og = o // groups
    if groups == 1 or cg * kh * kw >= 32:  # a BLAS contraction per group
        parts = [
            np.tensordot(
                windows[:, i * cg : (i + 1) * cg], ww[i * og : (i + 1) * og], ([1, 4, 5], [1, 2, 3])
            )
            for i in range(groups)
        ]  # each N OH OW og
        y = np.moveaxis(np.concatenate(parts, axis=3) if groups > 1 else parts[0], 3, 1)
    else:  # tiny groups (depthwise): one einsum
        grouped = windows.reshape(n, groups, cg, oh, ow, kh, kw)
        y = np.einsum("ngcyxij,gocij->ngoyx", grouped, ww.reshape(groups, og, cg, kh, kw))
        y = y.reshape(n, o, oh, ow)
    if bias is not None:
        y = y + widen(bias).reshape(1, o, 1, 1)
    return narrow(y, dtype)


def max_pool(
    x: np.ndarray,
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    out_shape: Shape,
    dtype: DType,
) -> np.ndarray:
    """ONNX MaxPool; padding never wins, NaN propagates (onnxruntime's result for NaN
    depends on which of its code paths runs). A window holding no input element (only
    possible with pads >= kernel, which onnxruntime rejects) gives the type's lowest
    finite value, onnxruntime's initial maximum."""
    w = widen(x)
    lowest = np.finfo(w.dtype).min if is_float(w.dtype) else np.iinfo(w.dtype).min
    fill = -np.inf if is_float(w.dtype) else lowest
    out = out_shape[2:]
    n = len(kernel)
    windows = _windows(w, fill, kernel, strides, pads, dilations, out)
    y = windows.max(axis=tuple(range(w.ndim, w.ndim + n)))
    counts = _window_counts(w.shape[2:], kernel, strides, pads, dilations, out, False)
    if np.any(counts == 0):
        y = np.where(counts == 0, w.dtype.type(lowest), y)
    return narrow(y, dtype)


def avg_pool(
    x: np.ndarray,
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    count_include_pad: bool,
    out_shape: Shape,
    dtype: DType,
) -> np.ndarray:
    """ONNX AveragePool: the window sum over the number of input elements it covers, or
    with `count_include_pad` over the input and padding elements it covers (a ceil-mode
    window running past the padding does not count the part beyond); a dilated window
    covers every `dilations[i]`-th element."""
    w = widen(x)
    out = out_shape[2:]
    n = len(kernel)
    windows = _windows(w, 0, kernel, strides, pads, dilations, out)
    total = windows.sum(axis=tuple(range(w.ndim, w.ndim + n)), dtype=w.dtype)
    counts = _window_counts(w.shape[2:], kernel, strides, pads, dilations, out, count_include_pad)
    return narrow(total / counts.astype(w.dtype), dtype)


def global_avg_pool(x: np.ndarray, dtype: DType) -> np.ndarray:
    """ONNX GlobalAveragePool: the mean over every spatial dim, kept as 1."""
    w = widen(x)
    axes = tuple(range(2, w.ndim))
    return narrow(w.mean(axis=axes, keepdims=True, dtype=w.dtype), dtype)


# --------------------------------------------------------------------------------------
# Normalization and reductions
# --------------------------------------------------------------------------------------


def softmax(x: np.ndarray, axis: int, log: bool, dtype: DType) -> np.ndarray:
    """ONNX Softmax / LogSoftmax (opset 13) along `axis`, max-subtracted."""
    w = widen(x)
    ax = normalize_axis(axis, w.ndim)
    shifted = w - w.max(axis=ax, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=ax, keepdims=True, dtype=w.dtype)
    return narrow(shifted - np.log(total) if log else e / total, dtype)


def layer_norm(
    x: np.ndarray,
    scale: np.ndarray,
    bias: np.ndarray | None,
    axis: int,
    epsilon: float,
    dtype: DType,
) -> np.ndarray:
    """ONNX LayerNormalization (output Y, stash type float32 for narrow floats):
    `(x - mean) / sqrt(var + epsilon) * scale + bias` over dims `axis..rank-1`. As in
    onnxruntime, mean and variance are accumulated in float64 (two-pass here) and rounded
    to the compute type, the normalization runs in the compute type."""
    w = widen(x)
    axes = tuple(range(normalize_axis(axis, w.ndim), w.ndim))
    wide = w.astype(np.float64)
    mean64 = wide.mean(axis=axes, keepdims=True)
    var64 = np.square(wide - mean64).mean(axis=axes, keepdims=True)
    mean, var = mean64.astype(w.dtype), var64.astype(w.dtype)
    y = (w - mean) / np.sqrt(var + scalar(epsilon, w.dtype)) * widen(scale)
    if bias is not None:
        y = y + widen(bias)
    return narrow(y, dtype)


def batch_norm(
    x: np.ndarray,
    scale: np.ndarray,
    bias: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    epsilon: float,
    dtype: DType,
) -> np.ndarray:
    """ONNX BatchNormalization, inference: per channel (dim 1)
    `(x - mean) / sqrt(var + epsilon) * scale + bias`."""
    w = widen(x)
    shape = (1, w.shape[1]) + (1,) * (w.ndim - 2)

    def param(p: np.ndarray) -> np.ndarray:
        return widen(p).reshape(shape)

    std = np.sqrt(param(var) + scalar(epsilon, w.dtype))
    return narrow((w - param(mean)) / std * param(scale) + param(bias), dtype)


def _reduce_axes(x: np.ndarray, axes: Sequence[int]) -> tuple[int, ...]:
    return normalize_axes(axes, x.ndim) if axes else tuple(range(x.ndim))


def _saturate(values: np.ndarray, dtype: DType) -> np.ndarray:
    """float64 values truncated toward zero and saturated to integer `dtype`."""
    info = np.iinfo(dtype)
    truncated = np.trunc(values)
    high, low = truncated >= float(info.max), truncated <= float(info.min)
    inside = np.where(high | low, 0.0, truncated).astype(dtype)
    return np.where(high, dtype.type(info.max), np.where(low, dtype.type(info.min), inside))


def reduce_sum(x: np.ndarray, axes: Sequence[int], keepdims: bool, dtype: DType) -> np.ndarray:
    """ONNX ReduceSum (empty axes: all). Integers accumulate in float64 and saturate to
    the type's range, as onnxruntime does (exact below 2**53, never wrapping around)."""
    w = widen(x)
    ax = _reduce_axes(w, axes)
    if is_int(dtype):
        return narrow(_saturate(w.astype(np.float64).sum(axis=ax, keepdims=keepdims), dtype), dtype)
    return narrow(w.sum(axis=ax, keepdims=keepdims, dtype=w.dtype), dtype)


def reduce_mean(x: np.ndarray, axes: Sequence[int], keepdims: bool, dtype: DType) -> np.ndarray:
    """ONNX ReduceMean; integers as onnxruntime: the float64 sum over the count, truncated
    toward zero and saturated."""
    w = widen(x)
    ax = _reduce_axes(w, axes)
    count = int(np.prod([w.shape[a] for a in ax], dtype=np.int64))
    if is_int(dtype):
        if count == 0:
            raise KernelError("integer mean of an empty set")
        total = w.astype(np.float64).sum(axis=ax, keepdims=keepdims)
        return narrow(_saturate(total / count, dtype), dtype)
    total = w.sum(axis=ax, keepdims=keepdims, dtype=w.dtype)
    return narrow(total / w.dtype.type(count), dtype)


def reduce_max(x: np.ndarray, axes: Sequence[int], keepdims: bool, dtype: DType) -> np.ndarray:
    """ONNX ReduceMax; the max of an empty set is -inf (integers: the type's minimum)."""
    w = widen(x)
    if w.dtype == np.bool_:
        initial: Any = False
    else:
        initial = -np.inf if is_float(w.dtype) else np.iinfo(w.dtype).min
    result = w.max(axis=_reduce_axes(w, axes), keepdims=keepdims, initial=initial)
    return narrow(result, dtype)


# --------------------------------------------------------------------------------------
# Data movement
# --------------------------------------------------------------------------------------


def slice_tensor(
    x: np.ndarray,
    starts: Sequence[int],
    ends: Sequence[int],
    axes: Sequence[int] | None,
    steps: Sequence[int] | None,
) -> np.ndarray:
    """ONNX Slice with static parameters (clamping as `shapes.slice_range`)."""
    n = len(starts)
    axes = normalize_axes(axes if axes is not None else range(n), x.ndim)
    steps = steps if steps is not None else [1] * n
    index: list[slice] = [slice(None)] * x.ndim
    for ax, start, end, step in zip(axes, starts, ends, steps, strict=True):
        r = slice_range(x.shape[ax], start, end, step)
        index[ax] = slice(r.start, r.stop if r.stop >= 0 else None, r.step) if r else slice(0, 0)
    return np.array(x[tuple(index)])


def gather(data: np.ndarray, indices: np.ndarray, axis: int) -> np.ndarray:
    """ONNX Gather; negative indices count from the back, others out of range fail."""
    ax = normalize_axis(axis, data.ndim)
    size = data.shape[ax]
    idx = np.asarray(indices).astype(np.int64)
    bad = (idx < -size) | (idx >= size)
    if np.any(bad):
        first = int(idx[bad].flat[0])
        raise KernelError(
            f"gather index {first} is out of range for axis {ax} of size {size} "
            f"(valid: [{-size}, {size - 1}])"
        )
    return np.take(data, np.where(idx < 0, idx + size, idx), axis=ax)
