"""The graph interpreter's cases against onnxruntime (run by
tests/interpreters/test_graph_interp.py): elementwise binary ops, comparisons and select,
elementwise unary ops (with NaN, infinities and signed zeros), clip and cast.

Each `case(...)` appends one `Case` (tests/graph_interp_helpers.py) to `CASES`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from graph_interp_helpers import Case, node, nonzero_ints, rand
from onnx import TensorProto, helper
from xdsl.dialects.builtin import IntegerType, Signedness, bf16, f16, f32, f64, i1
from xdsl.ir import Attribute

from trnc.dialects import graph as g

CASES: list[Case] = []


def case(*args: Any, **kwargs: Any) -> None:
    CASES.append(Case(*args, **kwargs))


# ---- elementwise binary ---------------------------------------------------------------

_BINARY: list[tuple[type[g.BinaryOp], str]] = [
    (g.AddOp, "Add"),
    (g.SubOp, "Sub"),
    (g.MulOp, "Mul"),
    (g.DivOp, "Div"),
    (g.MaxOp, "Max"),
    (g.MinOp, "Min"),
]
_BROADCASTS = [((2, 3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((3, 4), (3, 4))]

for cls, onnx_op in _BINARY:
    for lhs, rhs in _BROADCASTS:
        shapes = "x".join(map(str, lhs)) + "_" + "x".join(map(str, rhs))
        b = rand(rhs, seed=1)
        if cls is g.DivOp:
            b = np.where(np.abs(b) < 0.1, np.float32(0.5), b)
        case(f"{onnx_op}-f32-{shapes}", cls, cls, [node(onnx_op, "ab")], {"a": rand(lhs), "b": b})
    for dtype in (np.int32, np.int64):
        a = rand((3, 4), dtype, -20, 20)
        b = nonzero_ints((4,), dtype, seed=2)
        name = np.dtype(dtype).name
        case(f"{onnx_op}-{name}", cls, cls, [node(onnx_op, "ab")], {"a": a, "b": b})
    case(
        f"{onnx_op}-f64",
        cls,
        cls,
        [node(onnx_op, "ab")],
        {"a": rand((2, 3), np.float64), "b": rand((3,), np.float64, 0.5, 2.0)},
        rtol=1e-12,
        atol=0.0,
    )

# Integer division truncates toward zero, with every sign combination.
case(
    "Div-i32-signs",
    g.DivOp,
    g.DivOp,
    [node("Div", "ab")],
    {
        "a": np.array([7, -7, 7, -7, 0, 6, -6, 1, -1, 2**31 - 1], np.int32),
        "b": np.array([2, 2, -2, -2, 3, 3, 3, -5, 5, -1], np.int32),
    },
)
case(
    "Add-i32-wraps",
    g.AddOp,
    g.AddOp,
    [node("Add", "ab")],
    {"a": np.array([2**31 - 1, -(2**31)], np.int32), "b": np.array([1, -1], np.int32)},
)
case(
    "Add-f16",
    g.AddOp,
    g.AddOp,
    [node("Add", "ab")],
    {"a": rand((3, 4), np.float16), "b": rand((4,), np.float16)},
    rtol=1e-3,
    atol=1e-3,
)

case(
    "Pow-f32",
    g.PowOp,
    g.PowOp,
    [node("Pow", "ab")],
    {"a": rand((3, 4), np.float32, 0.1, 3.0), "b": rand((4,), np.float32, -2.0, 3.0)},
)
case(
    "Pow-f32-i64-exponent",
    g.PowOp,
    g.PowOp,
    [node("Pow", "ab")],
    {"a": rand((3, 4), np.float32, -2.0, 2.0), "b": rand((4,), np.int64, -3, 4)},
)
case(
    "Pow-i64",
    g.PowOp,
    g.PowOp,
    [node("Pow", "ab")],
    {"a": rand((3, 4), np.int64, -5, 5), "b": rand((4,), np.int64, 0, 5)},
)
case(
    "Pow-i32-f32-exponent",
    g.PowOp,
    g.PowOp,
    [node("Pow", "ab")],
    {"a": rand((3, 4), np.int32, 0, 9), "b": rand((4,), np.float32, 0.0, 2.5)},
)

# ---- comparisons and select -----------------------------------------------------------

for cls, onnx_op in ((g.EqualOp, "Equal"), (g.LessOp, "Less"), (g.GreaterOp, "Greater")):
    # small integer-valued floats, so that ties happen
    a = np.round(rand((2, 3, 4), np.float32, -2, 2))
    b = np.round(rand((3, 1), np.float32, -2, 2, seed=3))
    case(f"{onnx_op}-f32", cls, cls, [node(onnx_op, "ab")], {"a": a, "b": b})
    ia, ib = rand((3, 4), np.int64, -3, 3), rand((4,), np.int64, -3, 3, seed=4)
    case(f"{onnx_op}-i64", cls, cls, [node(onnx_op, "ab")], {"a": ia, "b": ib})
case(
    "Equal-bool",
    g.EqualOp,
    g.EqualOp,
    [node("Equal", "ab")],
    {"a": rand((1, 3), np.bool_), "b": rand((2, 3), np.bool_, seed=5)},
)
case(
    "Where-f32",
    g.WhereOp,
    g.WhereOp,
    [node("Where", "cxy")],
    {"c": rand((1, 3), np.bool_), "x": rand((2, 3)), "y": rand((3,), seed=6)},
)
case(
    "Where-i64",
    g.WhereOp,
    g.WhereOp,
    [node("Where", "cxy")],
    {
        "c": rand((2, 1), np.bool_, seed=2),
        "x": rand((2, 3), np.int64, 0, 9),
        "y": rand((), np.int64, 0, 9),
    },
)

# ---- elementwise unary ----------------------------------------------------------------

_UNARY: list[tuple[type[g.UnaryOp], str, float, float]] = [
    (g.ReluOp, "Relu", -1, 1),
    (g.TanhOp, "Tanh", -4, 4),
    (g.SigmoidOp, "Sigmoid", -20, 20),
    (g.ExpOp, "Exp", -10, 10),
    (g.LogOp, "Log", 0.01, 100),
    (g.ErfOp, "Erf", -4, 4),
    (g.SqrtOp, "Sqrt", 0, 100),
    (g.ReciprocalOp, "Reciprocal", 0.1, 10),
    (g.NegOp, "Neg", -1, 1),
    (g.AbsOp, "Abs", -1, 1),
]
for cls, onnx_op, low, high in _UNARY:
    case(
        f"{onnx_op}-f32",
        cls,
        cls,
        [node(onnx_op, "x")],
        {"x": rand((3, 5, 7), np.float32, low, high)},
    )
# NaN, infinities and signed zeros
_SPECIALS = np.array([np.nan, -1.0, 2.0, -np.inf, np.inf, -0.0, 0.0, 1e-30], np.float32)
for cls, onnx_op, _, _ in _UNARY:
    exact = cls in (g.ReluOp, g.NegOp, g.AbsOp)
    case(
        f"{onnx_op}-f32-specials",
        cls,
        cls,
        [node(onnx_op, "x")],
        {"x": _SPECIALS},
        rtol=0.0 if exact else 1e-5,
        atol=0.0 if exact else 1e-6,
    )
for cls, onnx_op in ((g.ReluOp, "Relu"), (g.NegOp, "Neg"), (g.AbsOp, "Abs")):
    case(f"{onnx_op}-i32", cls, cls, [node(onnx_op, "x")], {"x": rand((4, 5), np.int32, -9, 9)})
case(
    "Rsqrt-f32",
    g.RsqrtOp,
    g.RsqrtOp,
    [helper.make_node("Sqrt", ["x"], ["s"]), node("Reciprocal", ["s"])],
    {"x": rand((4, 6), np.float32, 0.01, 100)},
)
for approximate in ("none", "tanh"):
    case(
        f"Gelu-{approximate}",
        g.GeluOp,
        lambda x, approximate=approximate: g.GeluOp(x, approximate),
        [node("Gelu", "x", approximate=approximate)],
        {"x": rand((4, 64), np.float32, -5, 5)},
    )
case(
    "LeakyRelu",
    g.LeakyReluOp,
    lambda x: g.LeakyReluOp(x, alpha=float(np.float32(0.1))),
    [node("LeakyRelu", "x", alpha=0.1)],
    {"x": rand((4, 6))},
)
case(
    "HardSigmoid",
    g.HardSigmoidOp,
    lambda x: g.HardSigmoidOp(x, alpha=float(np.float32(0.3)), beta=float(np.float32(0.4))),
    [node("HardSigmoid", "x", alpha=0.3, beta=0.4)],
    {"x": rand((4, 6), np.float32, -5, 5)},
)

# Clip: both bounds, one bound, inverted bounds, integers.
_CLIPS: list[tuple[str, float | None, float | None, Any]] = [
    ("both", -0.5, 0.5, np.float32),
    ("min-only", -0.25, None, np.float32),
    ("max-only", None, 0.3, np.float32),
    ("inverted", 0.5, -0.5, np.float32),
    ("i32-both", -3.0, 4.0, np.int32),
    ("i32-max-only", None, 2.0, np.int32),
    ("i64-min-only", -1.0, None, np.int64),
]
for cid, lo, hi, cdtype in _CLIPS:
    x = rand((5, 6), cdtype, -9, 9) if np.dtype(cdtype).kind == "i" else rand((5, 6))
    inits = {}
    if lo is not None:
        inits["lo"] = np.array(lo, dtype=cdtype)
    if hi is not None:
        inits["hi"] = np.array(hi, dtype=cdtype)
    case(
        f"Clip-{cid}",
        g.ClipOp,
        lambda x, lo=lo, hi=hi: g.ClipOp(x, lo, hi),
        [node("Clip", ["x", "lo" if lo is not None else "", "hi" if hi is not None else ""])],
        {"x": x},
        inits,
    )

# Cast between floats, integers and bools.
_CASTS: list[tuple[str, np.ndarray, Any, Attribute]] = [
    ("f32-i32", rand((4, 5), np.float32, -10, 10), np.int32, IntegerType(32)),
    ("f32-i64", rand((4, 5), np.float32, -1e6, 1e6), np.int64, IntegerType(64)),
    ("f32-i8", rand((4, 5), np.float32, -100, 100), np.int8, IntegerType(8)),
    ("f32-u8", rand((4, 5), np.float32, 0, 255), np.uint8, IntegerType(8, Signedness.UNSIGNED)),
    ("f32-bool", np.array([0.0, -0.0, 1.5, -2.0, np.nan, np.inf], np.float32), np.bool_, i1),
    ("f32-f16", rand((4, 5), np.float32, -100, 100), np.float16, f16),
    ("f32-f64", rand((4, 5)), np.float64, f64),
    ("f64-f32", rand((4, 5), np.float64), np.float32, f32),
    ("i64-f32", rand((4, 5), np.int64, -(2**40), 2**40), np.float32, f32),
    ("i32-i8-wraps", rand((4, 5), np.int32, -300, 300), np.int8, IntegerType(8)),
    ("i32-bool", rand((4, 5), np.int32, -2, 2), np.bool_, i1),
    ("bool-f32", rand((4, 5), np.bool_), np.float32, f32),
    ("bool-i64", rand((4, 5), np.bool_), np.int64, IntegerType(64)),
    ("i8-u16", rand((4, 5), np.int8, -128, 127), np.uint16, IntegerType(16, Signedness.UNSIGNED)),
]
for cid, x, dtype, elem in _CASTS:
    to = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    case(
        f"Cast-{cid}",
        g.CastOp,
        lambda x, elem=elem: g.CastOp(x, elem),
        [node("Cast", "x", to=to)],
        {"x": x},
    )
# f32 -> bf16 -> f32 (onnxruntime's Python API has no bf16 arrays): round to nearest even.
_bf16_ties = np.array([1.00390625, 1.01171875, 3.3, -1.01171875, 1e-40, 3.4e38], np.float32)
case(
    "Cast-f32-bf16-f32",
    g.CastOp,
    lambda x: [first := g.CastOp(x, bf16), g.CastOp(first.results[0], f32)],
    [
        helper.make_node("Cast", ["x"], ["t"], to=TensorProto.BFLOAT16),
        node("Cast", "t", to=TensorProto.FLOAT),
    ],
    {"x": np.concatenate([_bf16_ties, rand((20,), np.float32, -100, 100)])},
    rtol=0.0,
    atol=0.0,
)
