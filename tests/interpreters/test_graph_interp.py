"""The graph interpreter against onnxruntime, op by op.

Each case builds one graph op with the dialect's Python builders (so the builders' shape
inference is exercised too) and the equivalent single-node ONNX model with the same
attributes, runs both on the same seeded random inputs and compares: float32 with
rtol 1e-5 / atol 1e-6, integers and booleans exactly, shapes and dtypes strictly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import onnxruntime as ort
import pytest
from onnx import NodeProto, TensorProto, helper, numpy_helper
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    IntegerType,
    ModuleOp,
    Signedness,
    StringAttr,
    TensorType,
    bf16,
    f16,
    f32,
    f64,
    i1,
)
from xdsl.ir import Attribute, Block, Operation, Region

from trnc.dialects import graph as g
from trnc.interpreters.graph import run_graph
from trnc.interpreters.graph_ops import GraphFunctions

OPSET = 21
BF16 = np.dtype(ml_dtypes.bfloat16)

_MLIR: dict[np.dtype[Any], Attribute] = {
    np.dtype(np.float32): f32,
    np.dtype(np.float16): f16,
    np.dtype(np.float64): f64,
    BF16: bf16,
    np.dtype(np.bool_): i1,
    **{np.dtype(f"i{n // 8}"): IntegerType(n) for n in (8, 16, 32, 64)},
    **{np.dtype(f"u{n // 8}"): IntegerType(n, Signedness.UNSIGNED) for n in (8, 16, 32, 64)},
}


def mlir_type(array: np.ndarray) -> TensorType[Attribute]:
    return TensorType(_MLIR[array.dtype], array.shape)


Build = Callable[..., Operation | list[Operation]]


def run_interpreter(build: Build, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Run the op(s) `build(*args)` makes (the last one's result is the output)."""
    types = [mlir_type(a) for a in inputs.values()]
    block = Block(arg_types=types)
    built = build(*block.args)
    ops = built if isinstance(built, list) else [built]
    result = ops[-1].results[0]
    block.add_ops([*ops, func.ReturnOp(result)])
    names = ArrayAttr([DictionaryAttr({"graph.name": StringAttr(n)}) for n in inputs])
    function = func.FuncOp("main", (types, [result.type]), Region(block), arg_attrs=names)
    module = ModuleOp([function])
    module.verify()
    outputs = run_graph(module, inputs).outputs
    return outputs["output0"]


def run_onnxruntime(
    nodes: Sequence[NodeProto],
    inputs: dict[str, np.ndarray],
    out_dtype: np.dtype[Any],
    initializers: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    graph_inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
        for n, a in inputs.items()
    ]
    out = helper.make_tensor_value_info(
        nodes[-1].output[0], helper.np_dtype_to_tensor_dtype(out_dtype), None
    )
    inits = [numpy_helper.from_array(v, n) for n, v in (initializers or {}).items()]
    graph = helper.make_graph(list(nodes), "case", graph_inputs, [out], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)[0]


def assert_matches(
    got: np.ndarray, want: np.ndarray, rtol: float = 1e-5, atol: float = 1e-6
) -> None:
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, strict=True)
        if rtol == atol == 0.0:  # exact: zeros keep their sign too
            zeros = (got == 0) & (want == 0)
            np.testing.assert_array_equal(np.signbit(got[zeros]), np.signbit(want[zeros]))
    else:
        np.testing.assert_array_equal(got, want, strict=True)


def node(op_type: str, inputs: Sequence[str], **attrs: Any) -> NodeProto:
    return helper.make_node(op_type, list(inputs), ["out"], **attrs)


# --------------------------------------------------------------------------------------
# Random data
# --------------------------------------------------------------------------------------

_RNG_SEED = 1234


def rand(shape: Sequence[int], dtype: Any = np.float32, low: float = -1.0, high: float = 1.0,
         seed: int = 0) -> np.ndarray:  # fmt: skip
    rng = np.random.default_rng(_RNG_SEED + seed + 7 * len(shape) + sum(shape))
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return rng.integers(0, 2, size=tuple(shape)).astype(np.bool_)
    if dt.kind in "iu":
        return rng.integers(int(low), int(high) + 1, size=tuple(shape)).astype(dt)
    return rng.uniform(low, high, size=tuple(shape)).astype(dt)


def nonzero_ints(shape: Sequence[int], dtype: Any, seed: int = 0) -> np.ndarray:
    a = rand(shape, dtype, -9, 9, seed)
    return np.where(a == 0, np.asarray(3, a.dtype), a)


# --------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------


@dataclass
class Case:
    """One graph op (or short chain) and its ONNX equivalent."""

    id: str
    op: type[Operation]
    build: Build
    nodes: list[NodeProto]
    inputs: dict[str, np.ndarray]
    inits: dict[str, np.ndarray] = field(default_factory=dict)
    rtol: float = 1e-5
    atol: float = 1e-6


CASES: list[Case] = []


def case(*args: Any, **kwargs: Any) -> None:
    CASES.append(Case(*args, **kwargs))


def i64s(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


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


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_against_onnxruntime(c: Case) -> None:
    got = run_interpreter(c.build, c.inputs)
    want = run_onnxruntime(c.nodes, c.inputs, got.dtype, c.inits)
    assert_matches(got, want, c.rtol, c.atol)


def test_weight_against_onnx_external_data(tmp_path: Path) -> None:
    """`graph.weight` reads what an ONNX initializer with external data at the same file,
    offset and length holds."""
    w = rand((3, 4))
    k = rand((5,), np.int64, -9, 9)
    data = b"\x00" * 8 + w.tobytes() + k.tobytes()
    (tmp_path / "w.bin").write_bytes(data)

    def external(name: str, array: np.ndarray, offset: int) -> TensorProto:
        tensor = TensorProto()
        tensor.name = name
        tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
        tensor.dims.extend(array.shape)
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (
            ("location", "w.bin"),
            ("offset", str(offset)),
            ("length", str(array.nbytes)),
        ):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        return tensor

    nodes = [helper.make_node("Identity", ["W"], ["y"]), helper.make_node("Identity", ["K"], ["z"])]
    outs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
        for n, a in (("y", w), ("z", k))
    ]
    graph = helper.make_graph(
        nodes, "w", [], outs, initializer=[external("W", w, 8), external("K", k, 8 + w.nbytes)]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model_path = tmp_path / "model.onnx"
    model_path.write_bytes(model.SerializeToString())
    want_w, want_k = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"]).run(
        None, {}
    )

    block = Block()
    op_w = g.WeightOp("W", "w.bin", 8, TensorType(f32, (3, 4)))
    op_k = g.WeightOp("K", "w.bin", 8 + w.nbytes, TensorType(IntegerType(64), (5,)))
    block.add_ops([op_w, op_k, func.ReturnOp(op_w.result, op_k.result)])
    function = func.FuncOp("main", ([], [op_w.result.type, op_k.result.type]), Region(block))
    outputs = run_graph(ModuleOp([function]), base_dir=tmp_path).outputs
    assert_matches(outputs["output0"], want_w, 0.0, 0.0)
    assert_matches(outputs["output1"], want_k)


# --------------------------------------------------------------------------------------
# bf16: computed in float32 and rounded once, checked against float32 onnxruntime
# --------------------------------------------------------------------------------------

_BF16_CASES: list[tuple[str, Build, list[NodeProto], dict[str, tuple[int, ...]], float]] = [
    ("Add", g.AddOp, [node("Add", "ab")], {"a": (3, 4), "b": (4,)}, 0.0),
    ("Mul", g.MulOp, [node("Mul", "ab")], {"a": (3, 4), "b": (3, 1)}, 0.0),
    ("Relu", g.ReluOp, [node("Relu", "a")], {"a": (3, 4)}, 0.0),
    ("Gelu", g.GeluOp, [node("Gelu", "a")], {"a": (3, 4)}, 0.0),
    ("MatMul", g.MatmulOp, [node("MatMul", "ab")], {"a": (4, 16), "b": (16, 3)}, 0.0),
    ("Softmax", lambda a: g.SoftmaxOp(a, -1), [node("Softmax", "a", axis=-1)], {"a": (3, 8)}, 0.0),
    (
        "ReduceMean",
        lambda a: g.ReduceMeanOp(a, [1], False),
        [node("ReduceMean", ["a", "axes"], keepdims=0)],
        {"a": (3, 8)},
        0.0,
    ),
]


@pytest.mark.parametrize(
    "name, build, nodes, shapes, tol", _BF16_CASES, ids=[c[0] for c in _BF16_CASES]
)
def test_bf16_rounds_float32_result(
    name: str, build: Build, nodes: list[NodeProto], shapes: dict[str, tuple[int, ...]], tol: float
) -> None:
    inputs = {n: rand(s, seed=i).astype(BF16) for i, (n, s) in enumerate(shapes.items())}
    got = run_interpreter(build, inputs)
    assert got.dtype == BF16
    inits = {"axes": i64s(1)} if name == "ReduceMean" else {}
    f32_inputs = {n: a.astype(np.float32) for n, a in inputs.items()}
    want = run_onnxruntime(nodes, f32_inputs, np.dtype(np.float32), inits).astype(BF16)
    mismatch = got.astype(np.float32) != want.astype(np.float32)
    # float32 reductions may differ in the last float32 bits, which can move a bf16 rounding
    # by one bf16 ulp; elementwise ops match exactly.
    if name in ("Add", "Mul", "Relu", "Gelu"):
        assert not mismatch.any()
    else:
        np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), rtol=2**-7)


# --------------------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------------------


def test_every_graph_op_is_implemented_and_checked() -> None:
    ops = set(g.Graph.operations)
    implemented = {op_type for op_type, _ in GraphFunctions._impls()}
    assert ops <= implemented, sorted(o.name for o in ops - implemented)
    checked = {c.op for c in CASES} | {g.WeightOp}
    assert ops <= checked, sorted(o.name for o in ops - checked)
