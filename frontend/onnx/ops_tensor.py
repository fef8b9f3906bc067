"""Converters of ONNX's contraction, window and data-movement ops (ONNX node -> `graph`
ops): MatMul, Gemm, Conv (1-D and 2-D), pools, Transpose, Reshape, Flatten, Squeeze,
Unsqueeze, Expand, Concat, Split, Slice, Gather, Where. Shape-like inputs (Reshape's
shape, Slice's starts, ...) must be constants after folding."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from xdsl.ir import SSAValue

from trnc.dialects import graph as g
from trnc.dialects.graph.shapes import broadcast_shapes
from trnc.frontend.onnx.convert import Context, ConversionError, Converter, Node, Unsupported
from trnc.frontend.onnx.dtypes import element_type_of


def _ints(values: np.ndarray | Sequence[int]) -> list[int]:
    return [int(v) for v in np.asarray(values).reshape(-1)]


def _matmul(ctx: Context, node: Node) -> None:
    op = g.MatmulOp(ctx.ssa(node.inputs[0]), ctx.ssa(node.inputs[1]))
    ctx.set(node.outputs[0], ctx.emit(op))


def _gemm(ctx: Context, node: Node) -> None:
    c = ctx.ssa(node.inputs[2]) if node.has_input(2) else None
    op = g.GemmOp(
        ctx.ssa(node.inputs[0]),
        ctx.ssa(node.inputs[1]),
        c,
        float(node.attr("alpha", 1.0)),
        float(node.attr("beta", 1.0)),
        bool(node.attr("transA", 0)),
        bool(node.attr("transB", 0)),
    )
    ctx.set(node.outputs[0], ctx.emit(op))


def _window(
    node: Node, spatial: Sequence[int], kernel: Sequence[int], *, ceil_mode: bool = False
) -> tuple[list[int], list[int], list[int]]:
    """(strides, dilations, pads as [begins..., ends...]) with auto_pad resolved."""
    n = len(spatial)
    strides = _ints(node.attr("strides", [1] * n))
    dilations = _ints(node.attr("dilations", [1] * n))
    pads = _ints(node.attr("pads", [0] * (2 * n)))
    auto_pad = node.attr("auto_pad", "NOTSET")
    if len(strides) != n or len(dilations) != n or len(pads) != 2 * n:
        raise ConversionError(
            f"strides, dilations and pads must have {n}, {n} and {2 * n} values for a {n}-D window"
        )
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = [], []
        for size, k, s, d in zip(spatial, kernel, strides, dilations, strict=True):
            out = math.ceil(size / s)
            total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
            small = total // 2
            begin = small if auto_pad == "SAME_UPPER" else total - small
            begins.append(begin)
            ends.append(total - begin)
        pads = begins + ends
    elif auto_pad == "VALID":
        pads = [0] * (2 * n)
    elif auto_pad != "NOTSET":
        raise ConversionError(f"unknown auto_pad '{auto_pad}'")
    return strides, dilations, pads


def _conv(ctx: Context, node: Node) -> None:
    x_name, w_name = node.inputs[0], node.inputs[1]
    shape = ctx.shape(x_name)
    w_shape = ctx.shape(w_name)
    if len(shape) not in (3, 4):
        raise Unsupported(f"Conv on a rank-{len(shape)} input (trnc supports 1-D and 2-D)")
    kernel = list(w_shape[2:])
    strides, dilations, pads = _window(node, shape[2:], kernel)
    x, w = ctx.ssa(x_name), ctx.ssa(w_name)
    bias = ctx.ssa(node.inputs[2]) if node.has_input(2) else None
    one_d = len(shape) == 3
    if one_d:  # [N, C, L] -> [N, C, 1, L], as a 2-D conv with a 1 x k kernel
        x = ctx.emit(g.ReshapeOp(x, [*shape[:2], 1, shape[2]])).results[0]
        w = ctx.emit(g.ReshapeOp(w, [*w_shape[:2], 1, w_shape[2]])).results[0]
        strides, dilations = [1, *strides], [1, *dilations]
        pads = [0, pads[0], 0, pads[1]]
    op = g.Conv2dOp(x, w, bias, strides, pads, dilations, int(node.attr("group", 1)))
    result = ctx.emit(op).results[0]
    if one_d:
        out = ctx.shape_of(result)
        result = ctx.emit(g.ReshapeOp(result, [out[0], out[1], out[3]])).results[0]
    ctx.set(node.outputs[0], result)


def _pool_common(ctx: Context, node: Node) -> tuple[list[int], list[int], list[int], list[int]]:
    shape = ctx.shape(node.inputs[0])
    kernel = _ints(node.attr("kernel_shape", []))
    if len(kernel) != len(shape) - 2:
        raise ConversionError(
            f"kernel_shape has {len(kernel)} values for a rank-{len(shape)} input"
        )
    strides, dilations, pads = _window(node, shape[2:], kernel)
    return kernel, strides, dilations, pads


def _max_pool(ctx: Context, node: Node) -> None:
    if len(node.outputs) > 1 and node.outputs[1]:
        raise Unsupported("MaxPool's Indices output")
    kernel, strides, dilations, pads = _pool_common(ctx, node)
    op = g.MaxPoolOp(
        ctx.ssa(node.inputs[0]),
        kernel,
        strides,
        pads,
        dilations if any(d != 1 for d in dilations) else None,
        bool(node.attr("ceil_mode", 0)),
    )
    ctx.set(node.outputs[0], ctx.emit(op))


def _avg_pool(ctx: Context, node: Node) -> None:
    kernel, strides, dilations, pads = _pool_common(ctx, node)
    op = g.AvgPoolOp(
        ctx.ssa(node.inputs[0]),
        kernel,
        strides,
        pads,
        bool(node.attr("ceil_mode", 0)),
        bool(node.attr("count_include_pad", 0)),
        dilations=dilations if any(d != 1 for d in dilations) else None,
    )
    ctx.set(node.outputs[0], ctx.emit(op))


def _global_avg_pool(ctx: Context, node: Node) -> None:
    ctx.set(node.outputs[0], ctx.emit(g.GlobalAvgPoolOp(ctx.ssa(node.inputs[0]))))


def _transpose(ctx: Context, node: Node) -> None:
    perm = node.attr("perm")
    op = g.TransposeOp(ctx.ssa(node.inputs[0]), None if perm is None else _ints(perm))
    ctx.set(node.outputs[0], ctx.emit(op))


def _reshape_to(ctx: Context, node: Node, source: str, shape: Sequence[int]) -> None:
    if tuple(shape) == ctx.shape(source):
        ctx.set(node.outputs[0], ctx.values[source])
        return
    ctx.set(node.outputs[0], ctx.emit(g.ReshapeOp(ctx.ssa(source), list(shape))))


def _reshape(ctx: Context, node: Node) -> None:
    source = node.inputs[0]
    shape = ctx.shape(source)
    target = _ints(ctx.require_const(node, 1, "Reshape's shape"))
    allowzero = bool(node.attr("allowzero", 0))
    out = [
        shape[i] if d == 0 and not allowzero and i < len(shape) else d for i, d in enumerate(target)
    ]
    unknown = [i for i, d in enumerate(out) if d == -1]
    if len(unknown) > 1 or any(d < -1 for d in out):
        raise ConversionError(f"invalid target shape {target}")
    total = math.prod(shape)
    if unknown:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or total % known:
            raise ConversionError(f"cannot reshape {list(shape)} to {target}")
        out[unknown[0]] = total // known
    if math.prod(out) != total:
        raise ConversionError(f"cannot reshape {list(shape)} to {target}")
    _reshape_to(ctx, node, source, out)


def _flatten(ctx: Context, node: Node) -> None:
    shape = ctx.shape(node.inputs[0])
    axis = int(node.attr("axis", 1))
    axis = axis + len(shape) if axis < 0 else axis
    if not 0 <= axis <= len(shape):
        raise ConversionError(f"axis {node.attr('axis')} is out of range for rank {len(shape)}")
    _reshape_to(ctx, node, node.inputs[0], [math.prod(shape[:axis]), math.prod(shape[axis:])])


def _axes(ctx: Context, node: Node, rank: int) -> list[int] | None:
    if node.has_input(1):
        raw = _ints(ctx.require_const(node, 1, "axes"))
    elif "axes" in node.attrs:
        raw = _ints(node.attr("axes"))
    else:
        return None
    axes = [a + rank if a < 0 else a for a in raw]
    if any(not 0 <= a < rank for a in axes) or len(set(axes)) != len(axes):
        raise ConversionError(f"axes {raw} are invalid for rank {rank}")
    return axes


def _squeeze(ctx: Context, node: Node) -> None:
    shape = ctx.shape(node.inputs[0])
    axes = _axes(ctx, node, len(shape))
    if axes is None:
        axes = [i for i, d in enumerate(shape) if d == 1]
    if any(shape[a] != 1 for a in axes):
        raise ConversionError(f"cannot squeeze axes {axes} of shape {list(shape)}")
    _reshape_to(ctx, node, node.inputs[0], [d for i, d in enumerate(shape) if i not in axes])


def _unsqueeze(ctx: Context, node: Node) -> None:
    shape = ctx.shape(node.inputs[0])
    rank = len(shape) + (
        len(_ints(ctx.require_const(node, 1, "axes")))
        if node.has_input(1)
        else len(_ints(node.attr("axes", [])))
    )
    axes = _axes(ctx, node, rank) or []
    dims = iter(shape)
    _reshape_to(ctx, node, node.inputs[0], [1 if i in axes else next(dims) for i in range(rank)])


def _expand(ctx: Context, node: Node) -> None:
    source = node.inputs[0]
    target = _ints(ctx.require_const(node, 1, "Expand's shape"))
    shape = broadcast_shapes(ctx.shape(source), target)
    if tuple(shape) == ctx.shape(source):
        ctx.set(node.outputs[0], ctx.values[source])
        return
    # Broadcast exactly for every dtype (no arithmetic): where(true, x, x).
    mask = ctx.materialize(np.ones(shape, dtype=np.bool_), "expand_mask")
    x = ctx.ssa(source)
    ctx.set(node.outputs[0], ctx.emit(g.WhereOp(mask, x, x)))


def _concat(ctx: Context, node: Node) -> None:
    names = [i for i in node.inputs if i]
    if "axis" not in node.attrs:
        raise ConversionError("Concat needs an axis")
    op = g.ConcatOp([ctx.ssa(n) for n in names], int(node.attr("axis")))
    ctx.set(node.outputs[0], ctx.emit(op))


def _split(ctx: Context, node: Node) -> None:
    source = node.inputs[0]
    shape = ctx.shape(source)
    axis = int(node.attr("axis", 0))
    axis = axis + len(shape) if axis < 0 else axis
    if not 0 <= axis < len(shape):
        raise ConversionError(f"axis {node.attr('axis')} is out of range for rank {len(shape)}")
    count = len(node.outputs)
    if node.has_input(1):
        sizes = _ints(ctx.require_const(node, 1, "Split's split"))
    elif "split" in node.attrs:
        sizes = _ints(node.attr("split"))
    else:
        parts = int(node.attr("num_outputs", count))
        chunk = -(-shape[axis] // parts)
        sizes = [min(chunk, max(0, shape[axis] - i * chunk)) for i in range(parts)]
    if len(sizes) != count or sum(sizes) != shape[axis]:
        raise ConversionError(
            f"split sizes {sizes} do not cover dim {axis} ({shape[axis]}) in {count} outputs"
        )
    start = 0
    for name, size in zip(node.outputs, sizes, strict=True):
        if name:
            op = g.SliceOp(ctx.ssa(source), [start], [start + size], [axis], [1])
            ctx.set(name, ctx.emit(op))
        start += size


def _slice(ctx: Context, node: Node) -> None:
    starts = _ints(ctx.require_const(node, 1, "Slice's starts"))
    ends = _ints(ctx.require_const(node, 2, "Slice's ends"))
    axes = _ints(ctx.require_const(node, 3, "Slice's axes")) if node.has_input(3) else None
    steps = _ints(ctx.require_const(node, 4, "Slice's steps")) if node.has_input(4) else None
    op = g.SliceOp(ctx.ssa(node.inputs[0]), starts, ends, axes, steps)
    ctx.set(node.outputs[0], ctx.emit(op))


def _gather(ctx: Context, node: Node) -> None:
    op = g.GatherOp(ctx.ssa(node.inputs[0]), ctx.ssa(node.inputs[1]), int(node.attr("axis", 0)))
    ctx.set(node.outputs[0], ctx.emit(op))


def _where(ctx: Context, node: Node) -> None:
    cond, x, y = (ctx.ssa(n) for n in node.inputs[:3])
    ctx.set(node.outputs[0], ctx.emit(g.WhereOp(cond, x, y)))


def _constant_of_shape(ctx: Context, node: Node) -> None:
    ctx.require_const(node, 0, "ConstantOfShape's shape")
    raise AssertionError("unreachable: a constant shape is folded")


CONVERTERS: dict[str, Converter] = {
    "MatMul": _matmul,
    "Gemm": _gemm,
    "Conv": _conv,
    "MaxPool": _max_pool,
    "AveragePool": _avg_pool,
    "GlobalAveragePool": _global_avg_pool,
    "Transpose": _transpose,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Expand": _expand,
    "Concat": _concat,
    "Split": _split,
    "Slice": _slice,
    "Gather": _gather,
    "Where": _where,
    "ConstantOfShape": _constant_of_shape,
}


def _gather_nd(ctx: Context, node: Node) -> None:
    """GatherND (batch_dims 0) as a Gather on the data with its first K dims flattened,
    at linear indices (computed now for constant indices, else with graph ops)."""
    if int(node.attr("batch_dims", 0)) != 0:
        raise Unsupported("GatherND with batch_dims != 0")
    data, indices = node.inputs[0], node.inputs[1]
    shape, ishape = ctx.shape(data), ctx.shape(indices)
    k = ishape[-1] if ishape else 0
    if not ishape or not 1 <= k <= len(shape):
        raise ConversionError(
            f"indices of shape {list(ishape)} do not fit data of rank {len(shape)}"
        )
    lead = shape[:k]
    strides = [math.prod(lead[i + 1 :]) for i in range(k)]
    flat = ctx.emit(g.ReshapeOp(ctx.ssa(data), [math.prod(lead), *shape[k:]])).results[0]
    const = ctx.const(indices)
    if const is not None:
        idx = const.astype(np.int64)
        bad = (idx < -np.array(lead)) | (idx >= np.array(lead))
        if bad.any():
            raise ConversionError(f"GatherND index out of range for dims {list(lead)}")
        idx = np.where(idx < 0, idx + np.array(lead), idx)
        linear = ctx.materialize((idx * np.array(strides)).sum(axis=-1), "gather_nd_index")
    else:
        linear = _linear_index(ctx, ctx.ssa(indices), ishape, lead, strides)
    ctx.set(node.outputs[0], ctx.emit(g.GatherOp(flat, linear, 0)))


def _linear_index(
    ctx: Context,
    indices: SSAValue,
    ishape: Sequence[int],
    lead: Sequence[int],
    strides: Sequence[int],
) -> SSAValue:
    dtype = ctx.dtype_of(indices)
    total: SSAValue | None = None
    out_shape = list(ishape[:-1])
    for i, (dim, stride) in enumerate(zip(lead, strides, strict=True)):
        part = ctx.emit(g.SliceOp(indices, [i], [i + 1], [len(ishape) - 1], [1])).results[0]
        part = ctx.emit(g.ReshapeOp(part, out_shape)).results[0]
        zero = ctx.materialize(np.array(0, dtype), "zero")
        negative = ctx.emit(g.LessOp(part, zero)).results[0]
        wrapped = ctx.emit(g.AddOp(part, ctx.materialize(np.array(dim, dtype), "dim"))).results[0]
        part = ctx.emit(g.WhereOp(negative, wrapped, part)).results[0]
        if stride != 1:
            part = ctx.emit(g.MulOp(part, ctx.materialize(np.array(stride, dtype), "stride")))
            part = part.results[0]
        total = part if total is None else ctx.emit(g.AddOp(total, part)).results[0]
    assert total is not None
    return total


def _logical(kind: str) -> Converter:
    """And / Or / Xor / Not on booleans, through uint8 min / max / compare (exact)."""

    def convert(ctx: Context, node: Node) -> None:
        u8, i1 = element_type_of(np.dtype(np.uint8)), element_type_of(np.dtype(np.bool_))
        args = [ctx.emit(g.CastOp(ctx.ssa(n), u8)).results[0] for n in node.inputs if n]
        if kind == "not":
            zero = ctx.materialize(np.array(0, np.uint8), "false")
            ctx.set(node.outputs[0], ctx.emit(g.EqualOp(args[0], zero)))
            return
        if kind == "xor":
            ctx.set(
                node.outputs[0],
                ctx.emit(
                    g.CastOp(
                        ctx.emit(
                            g.SubOp(
                                ctx.emit(g.MaxOp(*args)).results[0],
                                ctx.emit(g.MinOp(*args)).results[0],
                            )
                        ).results[0],
                        i1,
                    )
                ),
            )
            return
        cls = g.MinOp if kind == "and" else g.MaxOp
        ctx.set(node.outputs[0], ctx.emit(g.CastOp(ctx.emit(cls(*args)).results[0], i1)))

    return convert


def _or_equal(cls: type[g.CompareOp]) -> Converter:
    """GreaterOrEqual / LessOrEqual = strict comparison or equality (false for NaN)."""

    def convert(ctx: Context, node: Node) -> None:
        a, b = ctx.ssa(node.inputs[0]), ctx.ssa(node.inputs[1])
        u8, i1 = element_type_of(np.dtype(np.uint8)), element_type_of(np.dtype(np.bool_))
        strict = ctx.emit(g.CastOp(ctx.emit(cls(a, b)).results[0], u8)).results[0]
        equal = ctx.emit(g.CastOp(ctx.emit(g.EqualOp(a, b)).results[0], u8)).results[0]
        ctx.set(
            node.outputs[0], ctx.emit(g.CastOp(ctx.emit(g.MaxOp(strict, equal)).results[0], i1))
        )

    return convert


def _is_nan(ctx: Context, node: Node) -> None:
    """IsNaN(x) = not (x == x); integers are never NaN."""
    x = node.inputs[0]
    if ctx.dtype(x).kind not in "fV":
        ctx.set(node.outputs[0], np.zeros(ctx.shape(x), np.bool_))
        return
    same = ctx.emit(g.EqualOp(ctx.ssa(x), ctx.ssa(x))).results[0]
    false = ctx.materialize(np.array(False), "false")
    ctx.set(node.outputs[0], ctx.emit(g.EqualOp(same, false)))


CONVERTERS.update(
    {
        "GatherND": _gather_nd,
        "And": _logical("and"),
        "Or": _logical("or"),
        "Xor": _logical("xor"),
        "Not": _logical("not"),
        "GreaterOrEqual": _or_equal(g.GreaterOp),
        "LessOrEqual": _or_equal(g.LessOp),
        "IsNaN": _is_nan,
    }
)
