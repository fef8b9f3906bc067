"""The graph interpreter's cases against onnxruntime (run by
tests/interpreters/test_graph_interp.py): contractions (matmul, gemm), convolution and
pooling, normalization and reductions, data movement (transpose, reshape, concat, slice,
gather) and constants.

Each `case(...)` appends one `Case` (tests/graph_interp_helpers.py) to `CASES`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from graph_interp_helpers import Case, i64s, node, rand
from onnx import numpy_helper
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, IntegerType, TensorType, f32, f64, i1

from trnc.dialects import graph as g

CASES: list[Case] = []


def case(*args: Any, **kwargs: Any) -> None:
    CASES.append(Case(*args, **kwargs))


# ---- contractions ---------------------------------------------------------------------

_MATMULS = [
    ((2, 3, 4), (4, 5)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 1, 3, 4), (5, 4, 6)),
    ((64, 128), (128, 32)),
]
for lhs, rhs in _MATMULS:
    shapes = "x".join(map(str, lhs)) + "_" + "x".join(map(str, rhs))
    case(
        f"MatMul-{shapes}",
        g.MatmulOp,
        g.MatmulOp,
        [node("MatMul", "ab")],
        {"a": rand(lhs), "b": rand(rhs, seed=1)},
    )
case(
    "MatMul-i32",
    g.MatmulOp,
    g.MatmulOp,
    [node("MatMul", "ab")],
    {"a": rand((3, 4), np.int32, -9, 9), "b": rand((4, 2), np.int32, -9, 9, seed=1)},
)
case(
    "MatMul-f16",
    g.MatmulOp,
    g.MatmulOp,
    [node("MatMul", "ab")],
    {"a": rand((3, 8), np.float16), "b": rand((8, 2), np.float16, seed=1)},
    rtol=2e-3,
    atol=2e-3,
)

_GEMMS: list[
    tuple[str, tuple[int, ...], tuple[int, ...], tuple[int, ...] | None, dict[str, Any]]
] = [
    ("plain", (3, 4), (4, 5), None, {}),
    ("trans-a", (4, 3), (4, 5), (5,), {"trans_a": True}),
    ("trans-b", (3, 4), (5, 4), (3, 5), {"trans_b": True}),
    (
        "trans-ab-alpha-beta",
        (4, 3),
        (5, 4),
        (3, 1),
        {"trans_a": True, "trans_b": True, "alpha": 0.5, "beta": 2.0},
    ),
    ("bias-scalar", (3, 4), (4, 5), (), {"alpha": 1.5}),
    ("bias-1x5", (3, 4), (4, 5), (1, 5), {"beta": -1.25}),
    ("beta-zero", (3, 4), (4, 5), (5,), {"beta": 0.0}),
]
_ONNX_GEMM_ATTRS = {"trans_a": "transA", "trans_b": "transB", "alpha": "alpha", "beta": "beta"}
for gid, sa, sb, sc, attrs in _GEMMS:
    ins = {"a": rand(sa), "b": rand(sb, seed=1)}
    if sc is not None:
        ins["c"] = rand(sc, seed=2)
    onnx_attrs = {
        _ONNX_GEMM_ATTRS[k]: (int(v) if isinstance(v, bool) else v) for k, v in attrs.items()
    }
    case(
        f"Gemm-{gid}",
        g.GemmOp,
        lambda a, b, c=None, attrs=attrs: g.GemmOp(a, b, c, **attrs),
        [node("Gemm", list(ins), **onnx_attrs)],
        ins,
    )

# ---- convolution and pooling ----------------------------------------------------------

_CONVS: list[tuple[str, tuple[int, ...], tuple[int, ...], bool, dict[str, Any]]] = [
    ("3x3-pad1", (1, 3, 8, 8), (4, 3, 3, 3), True, {"pads": (1, 1, 1, 1)}),
    ("stride2", (2, 3, 9, 7), (5, 3, 3, 3), True, {"strides": (2, 2)}),
    (
        "dilation2-pad2",
        (1, 2, 10, 10),
        (3, 2, 3, 3),
        False,
        {"pads": (2, 2, 2, 2), "dilations": (2, 2)},
    ),
    ("groups2", (1, 4, 6, 6), (6, 2, 3, 3), True, {"groups": 2, "pads": (1, 1, 1, 1)}),
    (
        "depthwise-stride2",
        (1, 8, 9, 9),
        (8, 1, 3, 3),
        True,
        {"groups": 8, "strides": (2, 2), "pads": (1, 1, 1, 1)},
    ),
    (
        "asymmetric",
        (1, 2, 7, 6),
        (3, 2, 2, 3),
        False,
        {"pads": (0, 1, 2, 0), "strides": (2, 1), "dilations": (1, 2)},
    ),
    ("1x1-64ch", (1, 64, 5, 5), (32, 64, 1, 1), True, {}),
    ("groups4-wide", (2, 32, 6, 5), (12, 8, 3, 3), True, {"groups": 4, "pads": (1, 0, 1, 2)}),
]
_ONNX_CONV_ATTRS = {
    "strides": "strides",
    "pads": "pads",
    "dilations": "dilations",
    "groups": "group",
}
for cid, sx, sw, with_bias, attrs in _CONVS:
    ins = {"x": rand(sx), "w": rand(sw, seed=1)}
    if with_bias:
        ins["b"] = rand((sw[0],), seed=2)
    case(
        f"Conv-{cid}",
        g.Conv2dOp,
        lambda x, w, b=None, attrs=attrs: g.Conv2dOp(x, w, b, **attrs),
        [node("Conv", list(ins), **{_ONNX_CONV_ATTRS[k]: v for k, v in attrs.items()})],
        ins,
    )

_POOLS: list[tuple[str, tuple[int, ...], dict[str, Any]]] = [
    ("k3s2p1", (1, 2, 9, 9), {"kernel": (3, 3), "strides": (2, 2), "pads": (1, 1, 1, 1)}),
    ("k2s2", (2, 3, 8, 6), {"kernel": (2, 2), "strides": (2, 2)}),
    ("ceil", (1, 2, 8, 8), {"kernel": (3, 3), "strides": (2, 2), "ceil_mode": True}),
    (
        "ceil-pad",
        (1, 1, 5, 5),
        {"kernel": (3, 3), "strides": (2, 2), "pads": (1, 1, 1, 1), "ceil_mode": True},
    ),
    ("asymmetric-pads", (1, 2, 7, 6), {"kernel": (3, 2), "strides": (1, 2), "pads": (0, 1, 2, 0)}),
    (
        "1d-ceil-pad",
        (1, 1, 6),
        {"kernel": (3,), "strides": (2,), "pads": (1, 1), "ceil_mode": True},
    ),
    ("1d", (2, 3, 10), {"kernel": (4,), "strides": (3,), "pads": (0, 2)}),
    (
        "3d",
        (1, 2, 5, 6, 4),
        {"kernel": (2, 3, 2), "strides": (1, 2, 2), "pads": (1, 0, 1, 0, 1, 1)},
    ),
]


def _onnx_pool_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    out = {
        "kernel_shape": attrs["kernel"],
        "strides": attrs.get("strides", (1,) * len(attrs["kernel"])),
    }
    out["pads"] = attrs.get("pads", (0,) * (2 * len(attrs["kernel"])))
    for key in ("ceil_mode", "count_include_pad"):
        if key in attrs:
            out[key] = int(attrs[key])
    if "dilations" in attrs:
        out["dilations"] = attrs["dilations"]
    return out


for pid, shape, attrs in _POOLS:
    case(
        f"MaxPool-{pid}",
        g.MaxPoolOp,
        lambda x, attrs=attrs: g.MaxPoolOp(x, **attrs),
        [node("MaxPool", "x", **_onnx_pool_attrs(attrs))],
        {"x": rand(shape)},
    )
    for cip in (False, True):
        with_cip = {**attrs, "count_include_pad": cip}
        case(
            f"AveragePool-{pid}-cip{int(cip)}",
            g.AvgPoolOp,
            lambda x, attrs=with_cip: g.AvgPoolOp(x, **attrs),
            [node("AveragePool", "x", **_onnx_pool_attrs(with_cip))],
            {"x": rand(shape)},
        )
_DILATED: list[tuple[str, tuple[int, ...], dict[str, Any]]] = [
    ("dilated", (1, 2, 9, 9), {"kernel": (2, 2), "strides": (1, 1), "dilations": (2, 2)}),
    (
        "dilated-pads",
        (1, 2, 8, 7),
        {"kernel": (3, 2), "strides": (2, 1), "pads": (2, 1, 1, 1), "dilations": (2, 3)},
    ),
    (
        "dilated-ceil",
        (1, 1, 10, 10),
        {
            "kernel": (2, 3),
            "strides": (2, 2),
            "pads": (1, 1, 0, 1),
            "dilations": (2, 2),
            "ceil_mode": True,
        },
    ),
]
for pid, shape, dattrs in _DILATED:
    case(
        f"MaxPool-{pid}",
        g.MaxPoolOp,
        lambda x, attrs=dattrs: g.MaxPoolOp(x, **attrs),
        [node("MaxPool", "x", **_onnx_pool_attrs(dattrs))],
        {"x": rand(shape)},
    )
    for cip in (False, True):
        dattrs_cip = {**dattrs, "count_include_pad": cip}
        case(
            f"AveragePool-{pid}-cip{int(cip)}",
            g.AvgPoolOp,
            lambda x, attrs=dattrs_cip: g.AvgPoolOp(x, **attrs),
            [node("AveragePool", "x", **_onnx_pool_attrs(dattrs_cip))],
            {"x": rand(shape)},
        )
case(
    "MaxPool-i8",
    g.MaxPoolOp,
    lambda x: g.MaxPoolOp(x, kernel=(2, 2), strides=(2, 2), pads=(1, 1, 1, 1)),
    [node("MaxPool", "x", kernel_shape=(2, 2), strides=(2, 2), pads=(1, 1, 1, 1))],
    {"x": rand((1, 2, 5, 5), np.int8, -128, 127)},
)
for shape in ((2, 3, 5, 4), (1, 4, 7), (1, 2, 3, 4, 5)):
    case(
        f"GlobalAveragePool-{len(shape)}d",
        g.GlobalAvgPoolOp,
        g.GlobalAvgPoolOp,
        [node("GlobalAveragePool", "x")],
        {"x": rand(shape)},
    )

# ---- normalization and reductions -----------------------------------------------------

for cls, onnx_op in ((g.SoftmaxOp, "Softmax"), (g.LogSoftmaxOp, "LogSoftmax")):
    for axis in (-1, 1, 0):
        case(
            f"{onnx_op}-axis{axis}",
            cls,
            lambda x, cls=cls, axis=axis: cls(x, axis),
            [node(onnx_op, "x", axis=axis)],
            {"x": rand((3, 4, 5), np.float32, -5, 5)},
        )

_LAYER_NORMS: list[tuple[str, tuple[int, ...], int, tuple[int, ...], bool, float]] = [
    ("last-axis", (2, 5, 16), -1, (16,), True, 1e-5),
    ("axis1", (2, 3, 4, 5), 1, (3, 4, 5), True, 1e-5),
    ("axis1-broadcast-scale", (2, 3, 4, 5), 1, (5,), False, 1e-5),
    ("no-bias-eps1e-12", (4, 8), 1, (8,), False, 1e-12),
    ("axis0", (3, 4), 0, (3, 4), True, 1e-3),
    ("large-mean", (4, 256), -1, (256,), True, 1e-5),
]
for lid, shape, axis, pshape, with_bias, eps in _LAYER_NORMS:
    low, high = (1000.0, 1010.0) if lid == "large-mean" else (-3.0, 3.0)
    ins = {"x": rand(shape, np.float32, low, high), "scale": rand(pshape, seed=1)}
    if with_bias:
        ins["bias"] = rand(pshape, seed=2)
    eps32 = float(np.float32(eps))
    case(
        f"LayerNormalization-{lid}",
        g.LayerNormOp,
        lambda x, s, b=None, axis=axis, eps=eps32: g.LayerNormOp(x, s, b, axis, eps),
        [node("LayerNormalization", list(ins), axis=axis, epsilon=eps)],
        ins,
    )

for shape in ((2, 3, 4, 5), (2, 3, 7), (4, 3)):
    c = shape[1]
    ins = {
        "x": rand(shape, np.float32, -3, 3),
        "scale": rand((c,), seed=1),
        "bias": rand((c,), seed=2),
        "mean": rand((c,), seed=3),
        "var": rand((c,), np.float32, 0.1, 2.0, seed=4),
    }
    case(
        f"BatchNormalization-{len(shape)}d",
        g.BatchNormOp,
        lambda x, s, b, m, v: g.BatchNormOp(x, s, b, m, v, epsilon=float(np.float32(1e-5))),
        [node("BatchNormalization", list(ins), epsilon=1e-5)],
        ins,
    )

_REDUCES: list[tuple[tuple[int, ...], tuple[int, ...], bool]] = [
    ((3, 4, 5), (1,), True),
    ((3, 4, 5), (-1, 0), False),
    ((3, 4, 5), (), True),
    ((3, 4, 5), (), False),
    ((2, 3), (-2,), False),
]
for cls, onnx_op in (
    (g.ReduceSumOp, "ReduceSum"),
    (g.ReduceMeanOp, "ReduceMean"),
    (g.ReduceMaxOp, "ReduceMax"),
):
    for shape, axes, keepdims in _REDUCES:
        rid = f"{onnx_op}-axes{'_'.join(map(str, axes)) or 'all'}-keep{int(keepdims)}"
        inits = {"axes": i64s(*axes)} if axes else {}
        onnx_inputs = ["x", "axes"] if axes else ["x"]
        for rdtype in (np.float32, np.int32):
            x = rand(shape, rdtype, -9, 9) if rdtype == np.int32 else rand(shape, rdtype, -3, 3)
            case(
                f"{rid}-{np.dtype(rdtype).name}",
                cls,
                lambda x, cls=cls, axes=axes, keepdims=keepdims: cls(x, axes, keepdims),
                [node(onnx_op, onnx_inputs, keepdims=int(keepdims))],
                {"x": x},
                inits,
            )

# Integer sums and means never wrap around: onnxruntime accumulates in float64 and
# saturates to the type's range.
_BIG_INT_REDUCES: list[tuple[str, np.ndarray]] = [
    ("i32-saturates-high", np.array([[2**30, 2**30, 2**30, 5], [2**31 - 1, 1, -5, 0]], np.int32)),
    ("i32-saturates-low", np.array([[-(2**30)] * 4, [2**30, -(2**30), 7, -8]], np.int32)),
    ("i64-large", np.array([[2**62, 2**62, 2**62], [2**53 + 1, 0, -(2**62)]], np.int64)),
]
for bid, big in _BIG_INT_REDUCES:
    for cls, onnx_op in ((g.ReduceSumOp, "ReduceSum"), (g.ReduceMeanOp, "ReduceMean")):
        case(
            f"{onnx_op}-{bid}",
            cls,
            lambda x, cls=cls: cls(x, [1], False),
            [node(onnx_op, ["x", "axes"], keepdims=0)],
            {"x": big},
            {"axes": i64s(1)},
        )

# ---- data movement --------------------------------------------------------------------

for perm in ((0, 2, 1), (2, 0, 1), None):
    case(
        f"Transpose-{perm}",
        g.TransposeOp,
        lambda x, perm=perm: g.TransposeOp(x, perm),
        [node("Transpose", "x", **({"perm": perm} if perm is not None else {}))],
        {"x": rand((2, 3, 4))},
    )
for src, dst in (((2, 3, 4), (6, 4)), ((2, 3, 4), (24,)), ((1,), ()), ((2, 6), (3, 1, 4))):
    case(
        f"Reshape-{src}-{dst}",
        g.ReshapeOp,
        lambda x, dst=dst: g.ReshapeOp(x, dst),
        [node("Reshape", ["x", "shape"])],
        {"x": rand(src, np.int64, -9, 9)},
        {"shape": i64s(*dst)},
    )
case(
    "Concat-axis1",
    g.ConcatOp,
    lambda a, b: g.ConcatOp([a, b], 1),
    [node("Concat", "ab", axis=1)],
    {"a": rand((2, 3)), "b": rand((2, 5), seed=1)},
)
case(
    "Concat-axis-2-three",
    g.ConcatOp,
    lambda a, b, c: g.ConcatOp([a, b, c], -2),
    [node("Concat", "abc", axis=-2)],
    {"a": rand((2, 3, 4)), "b": rand((2, 5, 4), seed=1), "c": rand((2, 1, 4), seed=2)},
)
case(
    "Concat-one-i64",
    g.ConcatOp,
    lambda a: g.ConcatOp([a], 0),
    [node("Concat", "a", axis=0)],
    {"a": rand((3, 2), np.int64, 0, 9)},
)

_SLICES: list[
    tuple[str, tuple[int, ...], list[int], list[int], list[int] | None, list[int] | None]
] = [
    ("basic", (4, 10), [0, 1], [2, 1000], [0, 1], [1, 2]),
    ("negative-step-clamped", (4, 10), [-1], [-1000], [1], [-3]),
    ("negative-start-end", (4, 10), [1], [-1], None, None),
    ("negative-axis", (3, 4, 5), [-4], [5], [-1], None),
    ("reverse-all", (6,), [1000], [-1000], [0], [-1]),
    ("empty", (4, 5), [3], [1], [0], [1]),
    ("step-3-clamped-start", (3, 10), [-100, 0], [100, 2], [1, 0], [3, 1]),
    ("negative-step-from-end", (8,), [-2], [1], None, [-2]),
]
for sid, shape, starts, ends, saxes, steps in _SLICES:
    inits = {"starts": i64s(*starts), "ends": i64s(*ends)}
    onnx_inputs = ["x", "starts", "ends"]
    if saxes is not None or steps is not None:
        inits["axes"] = i64s(*(saxes if saxes is not None else range(len(starts))))
        onnx_inputs.append("axes")
    if steps is not None:
        inits["steps"] = i64s(*steps)
        onnx_inputs.append("steps")
    case(
        f"Slice-{sid}",
        g.SliceOp,
        lambda x, starts=starts, ends=ends, saxes=saxes, steps=steps: g.SliceOp(
            x, starts, ends, saxes, steps
        ),
        [node("Slice", onnx_inputs)],
        {"x": rand(shape)},
        inits,
    )

_GATHERS: list[tuple[str, tuple[int, ...], np.ndarray, int]] = [
    ("axis0-2d-indices", (5, 3), np.array([[0, 4], [-1, 2]], np.int64), 0),
    ("axis1-negative", (2, 4, 3), np.array([-4, -1, 0, 3], np.int64), 1),
    ("axis-1-i32", (2, 3, 4), np.array([3, -2, 0], np.int32), -1),
    ("scalar-index", (4, 3), np.array(-2, np.int64), 0),
    ("axis2-of-3", (2, 3, 5), np.array([[4, 0, -5]], np.int32), 2),
]
for gid, shape, idx, axis in _GATHERS:
    case(
        f"Gather-{gid}",
        g.GatherOp,
        lambda d, i, axis=axis: g.GatherOp(d, i, axis),
        [node("Gather", "di", axis=axis)],
        {"d": rand(shape), "i": idx},
    )

# ---- constants ------------------------------------------------------------------------

_CONSTANTS: list[tuple[str, np.ndarray, Any]] = [
    ("f32", rand((2, 3)), f32),
    ("i64", rand((4,), np.int64, -9, 9), IntegerType(64)),
    ("bool", rand((3, 2), np.bool_), i1),
    ("f64-scalar", np.array(2.5), f64),
]
for cid, value, elem in _CONSTANTS:
    attr = DenseIntOrFPElementsAttr.from_list(
        TensorType(elem, value.shape), value.flatten().tolist()
    )
    case(
        f"Constant-{cid}",
        g.ConstantOp,
        lambda attr=attr: g.ConstantOp(attr),
        [node("Constant", [], value=numpy_helper.from_array(value, "v"))],
        {},
    )
