"""Shape inference for the `graph` dialect, on plain Python tuples.

One function per op family, each returning the exact ONNX result shape or raising
`ShapeError` whose message names the broken rule and the offending values (the op
verifiers turn it into a `VerifyException`; the ONNX importer and the op builders call the
same functions to compute result types). Shapes are tuples of non-negative ints; a rank-0
tensor has the shape `()`.
"""

from __future__ import annotations

from collections.abc import Sequence

Shape = tuple[int, ...]


class ShapeError(ValueError):
    """A shape or attribute rule is broken; the message says which rule, then the values."""


def fmt(values: Sequence[int]) -> str:
    """`[1, 2, 3]`: how shapes and integer lists appear in messages."""
    return "[" + ", ".join(str(v) for v in values) + "]"


def normalize_axis(axis: int, rank: int, what: str = "axis") -> int:
    """`axis` in `[-rank, rank)` mapped to `[0, rank)` (negative counts from the back)."""
    if not -rank <= axis < rank:
        raise ShapeError(f"{what} range rule: {what} must be in [{-rank}, {rank}), got {axis}")
    return axis + rank if axis < 0 else axis


def normalize_axes(axes: Sequence[int], rank: int, what: str = "axes") -> tuple[int, ...]:
    """Each axis normalized as in `normalize_axis`; duplicates (after normalization) fail."""
    result = tuple(normalize_axis(a, rank, what) for a in axes)
    if len(set(result)) != len(result):
        raise ShapeError(f"{what} uniqueness rule: {what} must be distinct, got {fmt(axes)}")
    return result


def broadcast_shapes(*shapes: Sequence[int]) -> Shape:
    """Numpy / ONNX multidirectional broadcasting of any number of shapes.

    Shapes are right-aligned; in each position the sizes must be equal or 1 (a 1 stretches
    to the other size, including to 0).
    """
    rank = max((len(s) for s in shapes), default=0)
    result: list[int] = []
    for i in range(rank):
        size = 1
        for shape in shapes:
            j = len(shape) - rank + i
            if j < 0 or shape[j] == 1:
                continue
            if size not in (1, shape[j]):
                listed = ", ".join(fmt(s) for s in shapes)
                raise ShapeError(
                    f"broadcast rule: shapes {listed} are not broadcastable "
                    f"(dimension {i - rank} has sizes {size} and {shape[j]})"
                )
            size = shape[j]
        result.append(size)
    return tuple(result)


def is_unidirectionally_broadcastable(source: Sequence[int], target: Sequence[int]) -> bool:
    """True when `source` broadcasts to `target` without changing `target` (ONNX's
    unidirectional broadcasting: rank at most the target's, each size 1 or equal)."""
    if len(source) > len(target):
        return False
    offset = len(target) - len(source)
    return all(s in (1, target[offset + i]) for i, s in enumerate(source))


def infer_matmul_shape(lhs: Sequence[int], rhs: Sequence[int]) -> Shape:
    """ONNX MatMul (numpy.matmul): batched, broadcasting batch dimensions.

    A 1-D lhs gets a 1 prepended and a 1-D rhs a 1 appended; those dims are removed from
    the result again.
    """
    if len(lhs) == 0 or len(rhs) == 0:
        raise ShapeError(
            f"matmul rank rule: operands must have rank >= 1, got lhs {fmt(lhs)} and rhs {fmt(rhs)}"
        )
    a = (1, *lhs) if len(lhs) == 1 else tuple(lhs)
    b = (*rhs, 1) if len(rhs) == 1 else tuple(rhs)
    if a[-1] != b[-2]:
        raise ShapeError(f"matmul contraction mismatch: lhs has K={a[-1]} but rhs has K={b[-2]}")
    batch = broadcast_shapes(a[:-2], b[:-2])
    result = [*batch]
    if len(lhs) > 1:
        result.append(a[-2])
    if len(rhs) > 1:
        result.append(b[-1])
    return tuple(result)


def infer_gemm_shape(
    a: Sequence[int],
    b: Sequence[int],
    c: Sequence[int] | None = None,
    trans_a: bool = False,
    trans_b: bool = False,
) -> Shape:
    """ONNX Gemm: `alpha * A' @ B' + beta * C` with 2-D A and B; C (optional) must
    broadcast unidirectionally to the (M, N) result."""
    if len(a) != 2 or len(b) != 2:
        raise ShapeError(f"gemm rank rule: A and B must be 2-D, got A {fmt(a)} and B {fmt(b)}")
    m, k = (a[1], a[0]) if trans_a else (a[0], a[1])
    k2, n = (b[1], b[0]) if trans_b else (b[0], b[1])
    if k != k2:
        raise ShapeError(f"gemm contraction mismatch: A has K={k} but B has K={k2}")
    if c is not None and not is_unidirectionally_broadcastable(c, (m, n)):
        raise ShapeError(
            f"gemm bias broadcast rule: C of shape {fmt(c)} does not broadcast to {fmt((m, n))}"
        )
    return (m, n)


def infer_reduce_shape(shape: Sequence[int], axes: Sequence[int], keepdims: bool) -> Shape:
    """ONNX ReduceSum/Mean/Max: empty `axes` reduces every axis; reduced axes become 1
    with `keepdims`, and disappear without."""
    reduced = set(normalize_axes(axes, len(shape))) if axes else set(range(len(shape)))
    if keepdims:
        return tuple(1 if i in reduced else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in reduced)


def infer_transpose_shape(shape: Sequence[int], perm: Sequence[int]) -> Shape:
    """ONNX Transpose: `result[i] = shape[perm[i]]`; `perm` is a permutation of the axes."""
    if sorted(perm) != list(range(len(shape))):
        raise ShapeError(
            f"permutation rule: perm must be a permutation of [0, {len(shape)}), got {fmt(perm)}"
        )
    return tuple(shape[p] for p in perm)


def num_elements(shape: Sequence[int]) -> int:
    """The number of elements of a tensor of this shape (1 for rank 0)."""
    count = 1
    for d in shape:
        count *= d
    return count


def check_reshape(source: Sequence[int], target: Sequence[int]) -> None:
    """A reshape keeps the element count."""
    if num_elements(source) != num_elements(target):
        raise ShapeError(
            f"reshape element count rule: {fmt(source)} has {num_elements(source)} "
            f"elements but {fmt(target)} has {num_elements(target)}"
        )


def infer_concat_shape(shapes: Sequence[Sequence[int]], axis: int) -> Shape:
    """ONNX Concat: equal ranks, equal sizes except along `axis`, which adds up."""
    if not shapes:
        raise ShapeError("concat operand rule: at least one input is required, got 0")
    rank = len(shapes[0])
    for shape in shapes:
        if len(shape) != rank:
            raise ShapeError(
                f"concat rank rule: inputs must have equal ranks, got {fmt(shapes[0])} "
                f"and {fmt(shape)}"
            )
    ax = normalize_axis(axis, rank)
    for shape in shapes:
        for i in range(rank):
            if i != ax and shape[i] != shapes[0][i]:
                raise ShapeError(
                    f"concat shape rule: inputs must agree outside axis {ax}, got "
                    f"{fmt(shapes[0])} and {fmt(shape)}"
                )
    return tuple(sum(s[ax] for s in shapes) if i == ax else shapes[0][i] for i in range(rank))


def slice_range(dim: int, start: int, end: int, step: int) -> range:
    """The indices ONNX Slice takes along one axis of size `dim` (negative start/end count
    from the back; out-of-range values clamp: to [0, dim] for a positive step and to
    [0, dim - 1] / [-1, dim - 1] for a negative one)."""
    if step == 0:
        raise ShapeError("slice step rule: steps must be non-zero, got 0")
    if start < 0:
        start += dim
    if end < 0:
        end += dim
    if step > 0:
        start = min(max(start, 0), dim)
        end = min(max(end, 0), dim)
    else:
        start = min(max(start, 0), dim - 1)
        end = min(max(end, -1), dim - 1)
    return range(start, end, step)


def infer_slice_shape(
    shape: Sequence[int],
    starts: Sequence[int],
    ends: Sequence[int],
    axes: Sequence[int] | None = None,
    steps: Sequence[int] | None = None,
) -> Shape:
    """ONNX Slice with static starts/ends/axes/steps (axes default to `0..len(starts)-1`,
    steps to 1)."""
    n = len(starts)
    if axes is None:
        axes = list(range(n))
    if steps is None:
        steps = [1] * n
    if not len(ends) == len(axes) == len(steps) == n:
        raise ShapeError(
            f"slice length rule: starts, ends, axes and steps must have equal lengths, got "
            f"{n}, {len(ends)}, {len(axes)} and {len(steps)}"
        )
    result = list(shape)
    for ax, start, end, step in zip(
        normalize_axes(axes, len(shape)), starts, ends, steps, strict=True
    ):
        result[ax] = len(slice_range(shape[ax], start, end, step))
    return tuple(result)


def infer_gather_shape(data: Sequence[int], indices: Sequence[int], axis: int) -> Shape:
    """ONNX Gather: `data.shape[:axis] + indices.shape + data.shape[axis + 1:]`."""
    if len(data) == 0:
        raise ShapeError("gather rank rule: data must have rank >= 1, got []")
    ax = normalize_axis(axis, len(data))
    return (*data[:ax], *indices, *data[ax + 1 :])


def _check_positive(values: Sequence[int], what: str) -> None:
    if any(v < 1 for v in values):
        raise ShapeError(f"{what} rule: {what} must be positive, got {fmt(values)}")


def _check_window_params(
    spatial_rank: int,
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
) -> None:
    for what, values, expected in (
        ("kernel", kernel, spatial_rank),
        ("strides", strides, spatial_rank),
        ("pads", pads, 2 * spatial_rank),
        ("dilations", dilations, spatial_rank),
    ):
        if len(values) != expected:
            raise ShapeError(
                f"{what} length rule: expected {expected} values for {spatial_rank} spatial "
                f"dims, got {fmt(values)}"
            )
    _check_positive(kernel, "kernel")
    _check_positive(strides, "strides")
    _check_positive(dilations, "dilations")
    if any(p < 0 for p in pads):
        raise ShapeError(f"pads rule: pads must be non-negative, got {fmt(pads)}")


def window_output_size(
    size: int,
    kernel: int,
    stride: int,
    pad_begin: int,
    pad_end: int,
    dilation: int,
    ceil_mode: bool = False,
) -> int:
    """Output length of a sliding window along one axis (ONNX Conv / pooling).

    With `ceil_mode`, the last window must still start inside the input or the leading
    padding (as ONNX Runtime and PyTorch do); the result is at least 1 or an error.
    """
    padded = size + pad_begin + pad_end
    effective = dilation * (kernel - 1) + 1
    if effective > padded:
        raise ShapeError(
            f"kernel fit rule: dilated kernel extent {effective} exceeds padded input size {padded}"
        )
    span = padded - effective
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + pad_begin:
            out -= 1
    else:
        out = span // stride + 1
    return out


def infer_conv2d_shape(
    x: Sequence[int],
    w: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    groups: int,
    bias: Sequence[int] | None = None,
) -> Shape:
    """ONNX Conv in 2-D: x is NCHW, w is OIHW with I = C / groups, pads are
    [top, left, bottom, right]; the optional bias has shape [O]."""
    if len(x) != 4 or len(w) != 4:
        raise ShapeError(
            f"conv2d rank rule: input and weight must be 4-D (NCHW, OIHW), got "
            f"{fmt(x)} and {fmt(w)}"
        )
    n, c, h, wd = x
    o, i, kh, kw = w
    if groups < 1:
        raise ShapeError(f"groups rule: groups must be positive, got {groups}")
    if c % groups or o % groups:
        raise ShapeError(
            f"groups rule: groups must divide input channels {c} and output channels {o}, "
            f"got {groups}"
        )
    if i * groups != c:
        raise ShapeError(
            f"conv2d channel rule: weight has {i} input channels per group but input has "
            f"{c} channels in {groups} groups"
        )
    if bias is not None and tuple(bias) != (o,):
        raise ShapeError(f"conv2d bias rule: bias must have shape [{o}], got {fmt(bias)}")
    _check_window_params(2, (kh, kw), strides, pads, dilations)
    oh = window_output_size(h, kh, strides[0], pads[0], pads[2], dilations[0])
    ow = window_output_size(wd, kw, strides[1], pads[1], pads[3], dilations[1])
    return (n, o, oh, ow)


def infer_pool_shape(
    x: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int] | None = None,
    ceil_mode: bool = False,
) -> Shape:
    """ONNX MaxPool / AveragePool over the trailing spatial dims of an N x C x D1 x ...
    input; pads are [begin_1, ..., begin_n, end_1, ..., end_n]."""
    if len(x) < 3:
        raise ShapeError(
            f"pool rank rule: input must be N x C x spatial dims (rank >= 3), got {fmt(x)}"
        )
    spatial = len(x) - 2
    if dilations is None:
        dilations = [1] * spatial
    _check_window_params(spatial, kernel, strides, pads, dilations)
    out = [
        window_output_size(
            x[2 + i], kernel[i], strides[i], pads[i], pads[spatial + i], dilations[i], ceil_mode
        )
        for i in range(spatial)
    ]
    return (x[0], x[1], *out)


def infer_global_pool_shape(x: Sequence[int]) -> Shape:
    """ONNX GlobalAveragePool: every spatial dim of N x C x D1 x ... becomes 1."""
    if len(x) < 3:
        raise ShapeError(
            f"pool rank rule: input must be N x C x spatial dims (rank >= 3), got {fmt(x)}"
        )
    return (x[0], x[1], *([1] * (len(x) - 2)))


def check_layer_norm(
    x: Sequence[int], axis: int, scale: Sequence[int], bias: Sequence[int] | None = None
) -> Shape:
    """ONNX LayerNormalization: scale (and bias) must broadcast unidirectionally to the
    normalized shape `x.shape[axis:]`; returns that normalized shape."""
    ax = normalize_axis(axis, len(x))
    normalized = tuple(x[ax:])
    for what, shape in (("scale", scale), ("bias", bias)):
        if shape is not None and not is_unidirectionally_broadcastable(shape, normalized):
            raise ShapeError(
                f"layer_norm {what} rule: {what} of shape {fmt(shape)} does not broadcast "
                f"to the normalized shape {fmt(normalized)}"
            )
    return normalized


def check_batch_norm(x: Sequence[int], params: dict[str, Sequence[int]]) -> None:
    """ONNX BatchNormalization (inference): x is N x C x ..., each of scale, bias, mean
    and var has shape [C]."""
    if len(x) < 2:
        raise ShapeError(f"batch_norm rank rule: input must have rank >= 2, got {fmt(x)}")
    for what, shape in params.items():
        if tuple(shape) != (x[1],):
            raise ShapeError(
                f"batch_norm channel rule: {what} must have shape [{x[1]}] (the channel "
                f"count), got {fmt(shape)}"
            )
