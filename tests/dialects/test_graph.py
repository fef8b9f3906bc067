"""Tests for the Python helpers of the `graph` dialect: shape inference (checked against
numpy and ONNX / ONNX Runtime), op builders, verifiers and the custom property syntax."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from io import StringIO
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from xdsl.context import Context
from xdsl.dialects.builtin import (
    Builtin,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    bf16,
    f16,
    f32,
    i1,
    i32,
    i64,
)
from xdsl.dialects.func import Func, FuncOp, ReturnOp
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import ParseError, VerifyException

from trnc.dialects import graph as g
from trnc.dialects.graph.base import (
    PropKind,
    coerce_property,
    float_attr,
    format_float,
    get_ints,
    ints_attr,
)
from trnc.dialects.graph.shapes import (
    ShapeError,
    broadcast_shapes,
    check_reshape,
    infer_concat_shape,
    infer_conv2d_shape,
    infer_gather_shape,
    infer_gemm_shape,
    infer_global_pool_shape,
    infer_matmul_shape,
    infer_pool_shape,
    infer_reduce_shape,
    infer_slice_shape,
    infer_transpose_shape,
    is_unidirectionally_broadcastable,
    normalize_axis,
)

# --------------------------------------------------------------------------------------
# Reference results from numpy and ONNX Runtime
# --------------------------------------------------------------------------------------


def zeros(shape: Sequence[int]) -> np.ndarray[Any, Any]:
    return np.zeros(tuple(shape), dtype=np.float32)


def ort_output_shape(
    op_type: str,
    input_shapes: Sequence[Sequence[int]],
    attrs: dict[str, Any],
    int_inputs: Sequence[Sequence[int]] = (),
) -> tuple[int, ...]:
    """Run one ONNX node in ONNX Runtime on zero float inputs (plus constant int64 inputs,
    e.g. Slice's starts / ends) and return the shape of its (first) output; also checks
    that ONNX's own shape inference agrees."""
    names = [f"x{i}" for i in range(len(input_shapes))]
    consts = [f"c{i}" for i in range(len(int_inputs))]
    node = helper.make_node(op_type, names + consts, ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [
            helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
            for n, s in zip(names, input_shapes, strict=True)
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[
            helper.make_tensor(n, TensorProto.INT64, [len(v)], list(v))
            for n, v in zip(consts, int_inputs, strict=True)
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    model.ir_version = 10
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    dims = inferred.graph.output[0].type.tensor_type.shape.dim
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {n: zeros(s) for n, s in zip(names, input_shapes, strict=True)}
    out = session.run(None, feeds)[0]
    assert tuple(d.dim_value for d in dims) == out.shape
    return tuple(out.shape)


# --------------------------------------------------------------------------------------
# Shape inference
# --------------------------------------------------------------------------------------

BROADCASTS = [
    ((2, 3), (3,)),
    ((2, 1, 4), (3, 1)),
    ((1,), (5, 4)),
    ((), (2, 2)),
    ((8, 1, 6, 1), (7, 1, 5)),
    ((0, 1), (1, 3)),
]


@pytest.mark.parametrize(("a", "b"), BROADCASTS)
def test_broadcast_matches_numpy(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    assert broadcast_shapes(a, b) == np.broadcast_shapes(a, b)


def test_broadcast_three_and_errors() -> None:
    assert broadcast_shapes((2, 1), (1, 3), (4, 1, 1)) == (4, 2, 3)
    assert broadcast_shapes() == ()
    with pytest.raises(ShapeError, match=r"broadcast rule: .* \(dimension -1 has sizes 3 and 4\)"):
        broadcast_shapes((2, 3), (4,))


def test_unidirectional_broadcast() -> None:
    assert is_unidirectionally_broadcastable((3,), (2, 3))
    assert is_unidirectionally_broadcastable((1, 3), (2, 3))
    assert not is_unidirectionally_broadcastable((2, 3), (3,))
    assert not is_unidirectionally_broadcastable((2, 1), (1, 3))


MATMULS = [
    ((2, 3), (3, 4)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((3,), (3,)),
    ((5, 2, 3), (3, 4)),
    ((5, 1, 2, 3), (7, 3, 4)),
    ((3,), (6, 3, 4)),
    ((6, 2, 3), (3,)),
]


@pytest.mark.parametrize(("a", "b"), MATMULS)
def test_matmul_matches_numpy(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    assert infer_matmul_shape(a, b) == np.matmul(zeros(a), zeros(b)).shape


def test_matmul_errors() -> None:
    with pytest.raises(
        ShapeError, match="matmul contraction mismatch: lhs has K=3 but rhs has K=4"
    ):
        infer_matmul_shape((2, 3), (4, 5))
    with pytest.raises(ShapeError, match="matmul rank rule"):
        infer_matmul_shape((), (4,))
    with pytest.raises(ShapeError, match="broadcast rule"):
        infer_matmul_shape((2, 4, 3), (5, 3, 6))


@pytest.mark.parametrize(
    ("a", "b", "c", "trans_a", "trans_b"),
    [
        ((4, 3), (3, 5), None, False, False),
        ((3, 4), (3, 5), (5,), True, False),
        ((4, 3), (5, 3), (4, 1), False, True),
        ((3, 4), (5, 3), (1,), True, True),
    ],
)
def test_gemm_matches_onnx(
    a: tuple[int, ...],
    b: tuple[int, ...],
    c: tuple[int, ...] | None,
    trans_a: bool,
    trans_b: bool,
) -> None:
    shapes = [a, b] if c is None else [a, b, c]
    expected = ort_output_shape("Gemm", shapes, {"transA": int(trans_a), "transB": int(trans_b)})
    assert infer_gemm_shape(a, b, c, trans_a, trans_b) == expected


def test_gemm_errors() -> None:
    with pytest.raises(ShapeError, match="gemm contraction mismatch: A has K=3 but B has K=4"):
        infer_gemm_shape((3, 4), (4, 5), trans_a=True)
    with pytest.raises(ShapeError, match=r"gemm bias broadcast rule: C of shape \[3\]"):
        infer_gemm_shape((3, 4), (4, 5), (3,))
    with pytest.raises(ShapeError, match="gemm rank rule"):
        infer_gemm_shape((3,), (3, 5))


@pytest.mark.parametrize(
    ("shape", "axes", "keepdims"),
    [
        ((4, 8, 16), [1], True),
        ((4, 8, 16), [-1, 0], False),
        ((4, 8), [], False),
        ((4, 8), [], True),
    ],
)
def test_reduce_matches_numpy(shape: tuple[int, ...], axes: list[int], keepdims: bool) -> None:
    np_axes = tuple(axes) if axes else None
    expected = np.sum(zeros(shape), axis=np_axes, keepdims=keepdims).shape
    assert infer_reduce_shape(shape, axes, keepdims) == expected


def test_axis_rules() -> None:
    assert normalize_axis(-1, 3) == 2
    assert normalize_axis(0, 3) == 0
    with pytest.raises(ShapeError, match=r"axis range rule: axis must be in \[-3, 3\), got 3"):
        normalize_axis(3, 3)
    assert infer_reduce_shape((2, 3), [1, -2], False) == ()
    with pytest.raises(ShapeError, match="axes uniqueness rule"):
        infer_reduce_shape((2, 3), [1, -1], True)


def test_transpose_concat_reshape() -> None:
    x = zeros((2, 3, 4))
    assert infer_transpose_shape((2, 3, 4), [2, 0, 1]) == np.transpose(x, [2, 0, 1]).shape
    with pytest.raises(ShapeError, match="permutation rule"):
        infer_transpose_shape((2, 3, 4), [0, 1, 1])
    parts = [(2, 3, 4), (2, 5, 4), (2, 1, 4)]
    expected = np.concatenate([zeros(p) for p in parts], axis=-2).shape
    assert infer_concat_shape(parts, -2) == expected
    with pytest.raises(ShapeError, match="concat shape rule"):
        infer_concat_shape([(2, 3), (3, 3)], 1)
    check_reshape((2, 3, 4), (4, 6))
    with pytest.raises(ShapeError, match=r"reshape element count rule: .* 24 elements .* 25"):
        check_reshape((2, 3, 4), (5, 5))


SLICES: list[tuple[tuple[int, ...], list[int], list[int], list[int] | None, list[int] | None]] = [
    ((4, 10), [0, 1], [2, 1000], [0, 1], [1, 2]),
    ((4, 10), [-1], [-1000], [1], [-3]),
    ((4, 10), [1], [-1], None, None),
    ((4, 10), [20], [30], [1], None),
    ((4, 10), [-100], [100], [-1], [4]),
    ((4, 10), [8], [2], [1], [-1]),
    ((4, 10), [2], [8], [1], [-1]),
    ((5, 6, 7), [9223372036854775807], [-9223372036854775808], [2], [-2]),
]


@pytest.mark.parametrize(("shape", "starts", "ends", "axes", "steps"), SLICES)
def test_slice_matches_onnx_runtime(
    shape: tuple[int, ...],
    starts: list[int],
    ends: list[int],
    axes: list[int] | None,
    steps: list[int] | None,
) -> None:
    consts: list[list[int]] = [starts, ends]
    if axes is not None or steps is not None:
        consts.append(axes if axes is not None else list(range(len(starts))))
    if steps is not None:
        consts.append(steps)
    expected = ort_output_shape("Slice", [shape], {}, consts)
    assert infer_slice_shape(shape, starts, ends, axes, steps) == expected


def test_slice_errors() -> None:
    with pytest.raises(ShapeError, match="slice step rule"):
        infer_slice_shape((4,), [0], [4], None, [0])
    with pytest.raises(ShapeError, match="slice length rule"):
        infer_slice_shape((4, 4), [0, 0], [4])


def test_gather_matches_numpy() -> None:
    data = zeros((5, 6, 7))
    idx = np.zeros((2, 3), dtype=np.int64)
    for axis in (0, 1, -1):
        assert infer_gather_shape((5, 6, 7), (2, 3), axis) == np.take(data, idx, axis).shape
    assert infer_gather_shape((5, 6), (), 0) == (6,)
    with pytest.raises(ShapeError, match="gather rank rule"):
        infer_gather_shape((), (2,), 0)


CONVS = [
    # x, w, strides, pads, dilations, groups
    ((1, 3, 224, 224), (64, 3, 7, 7), [2, 2], [3, 3, 3, 3], [1, 1], 1),
    ((2, 8, 17, 11), (16, 2, 3, 5), [2, 1], [1, 0, 2, 3], [2, 1], 4),
    ((1, 64, 56, 56), (64, 1, 3, 3), [1, 1], [1, 1, 1, 1], [1, 1], 64),
    ((1, 4, 9, 9), (6, 4, 2, 2), [3, 3], [0, 0, 0, 0], [3, 3], 1),
]


@pytest.mark.parametrize(("x", "w", "strides", "pads", "dilations", "groups"), CONVS)
def test_conv2d_matches_onnx_runtime(
    x: tuple[int, ...],
    w: tuple[int, ...],
    strides: list[int],
    pads: list[int],
    dilations: list[int],
    groups: int,
) -> None:
    attrs = {"strides": strides, "pads": pads, "dilations": dilations, "group": groups}
    expected = ort_output_shape("Conv", [x, w], attrs)
    assert infer_conv2d_shape(x, w, strides, pads, dilations, groups) == expected
    assert infer_conv2d_shape(x, w, strides, pads, dilations, groups, (w[0],)) == expected


def test_conv2d_errors() -> None:
    with pytest.raises(ShapeError, match="groups rule: groups must divide"):
        infer_conv2d_shape((1, 6, 8, 8), (4, 3, 3, 3), [1, 1], [0] * 4, [1, 1], 3)
    with pytest.raises(ShapeError, match="conv2d channel rule"):
        infer_conv2d_shape((1, 6, 8, 8), (4, 2, 3, 3), [1, 1], [0] * 4, [1, 1], 1)
    with pytest.raises(ShapeError, match="kernel fit rule: dilated kernel extent 5"):
        infer_conv2d_shape((1, 3, 4, 4), (4, 3, 3, 3), [1, 1], [0] * 4, [2, 2], 1)
    with pytest.raises(ShapeError, match="pads rule"):
        infer_conv2d_shape((1, 3, 8, 8), (4, 3, 3, 3), [1, 1], [0, -1, 0, 0], [1, 1], 1)
    with pytest.raises(ShapeError, match=r"conv2d bias rule: bias must have shape \[4\]"):
        infer_conv2d_shape((1, 3, 8, 8), (4, 3, 3, 3), [1, 1], [0] * 4, [1, 1], 1, (3,))


POOLS = [
    # op, x, kernel, strides, pads, dilations, ceil_mode
    ("MaxPool", (1, 64, 112, 112), [3, 3], [2, 2], [1, 1, 1, 1], None, False),
    ("MaxPool", (1, 2, 7, 7), [2, 2], [2, 2], [0, 0, 0, 0], None, True),
    ("MaxPool", (1, 1, 6, 6), [2, 2], [2, 2], [0, 0, 1, 1], None, True),
    ("MaxPool", (1, 1, 9, 10), [2, 3], [2, 2], [0, 1, 1, 0], [2, 1], True),
    ("MaxPool", (2, 3, 11), [3], [2], [1, 1], None, False),
    ("AveragePool", (1, 1, 6, 6), [3, 3], [2, 2], [1, 1, 1, 1], None, True),
    ("AveragePool", (1, 2, 5, 6, 7), [2, 2, 3], [1, 2, 3], [0, 0, 1, 1, 1, 0], None, False),
]


@pytest.mark.parametrize(("op", "x", "kernel", "strides", "pads", "dilations", "ceil"), POOLS)
def test_pool_matches_onnx_runtime(
    op: str,
    x: tuple[int, ...],
    kernel: list[int],
    strides: list[int],
    pads: list[int],
    dilations: list[int] | None,
    ceil: bool,
) -> None:
    attrs: dict[str, Any] = {
        "kernel_shape": kernel,
        "strides": strides,
        "pads": pads,
        "ceil_mode": int(ceil),
    }
    if dilations is not None:
        attrs["dilations"] = dilations
    expected = ort_output_shape(op, [x], attrs)
    assert infer_pool_shape(x, kernel, strides, pads, dilations, ceil) == expected


def test_global_pool() -> None:
    assert infer_global_pool_shape((2, 3, 7, 5)) == ort_output_shape(
        "GlobalAveragePool", [(2, 3, 7, 5)], {}
    )
    with pytest.raises(ShapeError, match="pool rank rule"):
        infer_global_pool_shape((2, 3))


# --------------------------------------------------------------------------------------
# Builders and verifiers
# --------------------------------------------------------------------------------------


def args(*types: Attribute) -> tuple[Block, list[SSAValue]]:
    block = Block(arg_types=types)
    return block, list(block.args)


def t(*shape_and_elem: Any) -> TensorType[Attribute]:
    *shape, elem = shape_and_elem
    return TensorType(elem, shape)


def build(block: Block, op: Operation) -> Operation:
    block.add_op(op)
    op.verify()
    return op


def context() -> Context:
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(g.Graph)
    ctx.load_dialect(Func)
    return ctx


def roundtrip(ops: Callable[[list[SSAValue]], list[Operation]], *types: Attribute) -> str:
    """Build ops into a function, verify, print, parse back and print again."""
    func = FuncOp("f", (list(types), []))
    block = func.body.block
    for op in ops(list(block.args)):
        block.add_op(op)
    block.add_op(ReturnOp())
    module = ModuleOp([func])
    module.verify()
    text = str(module)
    reparsed = Parser(context(), text).parse_module()
    reparsed.verify()
    assert str(reparsed) == text
    return text


def test_binary_builders_infer_types() -> None:
    block, (a, b, m) = args(t(2, 1, 4, f32), t(3, 1, f32), t(3, 4, i1))
    for cls in (g.AddOp, g.SubOp, g.MulOp, g.DivOp, g.PowOp, g.MaxOp, g.MinOp):
        assert build(block, cls(a, b)).results[0].type == t(2, 3, 4, f32)
    for cls in (g.EqualOp, g.LessOp, g.GreaterOp):
        assert build(block, cls(a, b)).results[0].type == t(2, 3, 4, i1)
    assert build(block, g.WhereOp(m, a, b)).results[0].type == t(2, 3, 4, f32)


def test_unary_builders() -> None:
    block, (x,) = args(t(4, 16, f16))
    unary = (g.ReluOp, g.TanhOp, g.SigmoidOp, g.ExpOp, g.LogOp, g.ErfOp, g.SqrtOp,
             g.RsqrtOp, g.ReciprocalOp, g.NegOp, g.AbsOp)  # fmt: skip
    for cls in unary:
        assert build(block, cls(x)).results[0].type == t(4, 16, f16)
    gelu = build(block, g.GeluOp(x, approximate="tanh"))
    assert isinstance(gelu, g.GeluOp) and gelu.approximate == StringAttr("tanh")
    assert g.GeluOp(x).approximate == StringAttr("none")  # the default
    clip = build(block, g.ClipOp(x, min=0.0, max=6.0))
    assert isinstance(clip, g.ClipOp) and clip.max == float_attr(6.0)
    leaky = build(block, g.LeakyReluOp(x))
    assert isinstance(leaky, g.LeakyReluOp) and leaky.alpha == float_attr(0.01)
    hs = build(block, g.HardSigmoidOp(x))
    assert isinstance(hs, g.HardSigmoidOp) and (hs.alpha, hs.beta) == (
        float_attr(0.2),
        float_attr(0.5),
    )
    assert build(block, g.CastOp(x, bf16)).results[0].type == t(4, 16, bf16)


def test_nn_builders() -> None:
    block, (a, b, v, x, w, bias) = args(
        t(2, 64, 128, f32), t(128, 256, f32), t(128, f32),
        t(1, 3, 224, 224, f32), t(64, 3, 7, 7, f32), t(64, f32),
    )  # fmt: skip
    assert build(block, g.MatmulOp(a, b)).results[0].type == t(2, 64, 256, f32)
    assert build(block, g.MatmulOp(v, b)).results[0].type == t(256, f32)
    gemm = build(block, g.GemmOp(b, b, None, trans_a=True, alpha=0.5))
    assert gemm.results[0].type == t(256, 256, f32)
    assert set(gemm.properties) == {"alpha", "trans_a"}  # defaults are left out
    conv = build(block, g.Conv2dOp(x, w, bias, strides=[2, 2], pads=[3, 3, 3, 3]))
    assert conv.results[0].type == t(1, 64, 112, 112, f32)
    (p,) = conv.results
    mp = build(block, g.MaxPoolOp(p, [3, 3], [2, 2], [1, 1, 1, 1]))
    assert mp.results[0].type == t(1, 64, 56, 56, f32)
    ap = build(block, g.AvgPoolOp(p, [2, 2], [2, 2], ceil_mode=True, count_include_pad=True))
    assert ap.results[0].type == t(1, 64, 56, 56, f32)
    assert build(block, g.GlobalAvgPoolOp(p)).results[0].type == t(1, 64, 1, 1, f32)


def test_normalization_and_reduction_builders() -> None:
    block, (x, s, c, img) = args(t(1, 128, 768, f32), t(768, f32), t(64, f32), t(2, 64, 5, 5, f32))
    assert build(block, g.SoftmaxOp(x)).results[0].type == t(1, 128, 768, f32)
    assert build(block, g.LogSoftmaxOp(x, axis=1)).results[0].type == t(1, 128, 768, f32)
    ln = build(block, g.LayerNormOp(x, s, s, epsilon=1e-12))
    assert ln.results[0].type == t(1, 128, 768, f32)
    bn = build(block, g.BatchNormOp(img, c, c, c, c))
    assert bn.results[0].type == t(2, 64, 5, 5, f32)
    assert build(block, g.ReduceSumOp(x, [1])).results[0].type == t(1, 1, 768, f32)
    assert build(block, g.ReduceMeanOp(x, [-1], keepdims=False)).results[0].type == t(1, 128, f32)
    assert build(block, g.ReduceMaxOp(x, [], keepdims=False)).results[0].type == t(f32)


def test_data_movement_builders() -> None:
    block, (x, y, e, ids) = args(
        t(2, 3, 4, f32), t(2, 5, 4, f32), t(30522, 768, f32), t(1, 128, i64)
    )
    tr = build(block, g.TransposeOp(x))
    assert isinstance(tr, g.TransposeOp) and get_ints(tr.perm) == (2, 1, 0)
    assert tr.results[0].type == t(4, 3, 2, f32)
    assert build(block, g.ReshapeOp(x, [6, 4])).results[0].type == t(6, 4, f32)
    assert build(block, g.ConcatOp([x, y, x], axis=1)).results[0].type == t(2, 11, 4, f32)
    sl = build(block, g.SliceOp(y, [1], [-1], axes=[1]))
    assert sl.results[0].type == t(2, 3, 4, f32)
    assert build(block, g.GatherOp(e, ids)).results[0].type == t(1, 128, 768, f32)


def test_constant_and_weight_builders() -> None:
    block = Block()
    value = DenseIntOrFPElementsAttr.from_list(TensorType(f32, [2]), [1.0, 2.0])
    assert build(block, g.ConstantOp(value)).results[0].type == t(2, f32)
    blob = DenseResourceAttr.from_params("wq", t(8, 8, bf16))
    assert build(block, g.ConstantOp(blob)).results[0].type == t(8, 8, bf16)
    w = build(block, g.WeightOp("encoder.0.wq", "bert.weights", 1024, t(768, 768, f32)))
    assert isinstance(w, g.WeightOp)
    assert (w.weight_name.data, w.file.data) == ("encoder.0.wq", "bert.weights")
    with pytest.raises(VerifyException, match="weight offset rule"):
        g.WeightOp("w", "w.bin", -4, t(4, f32)).verify()


def test_verifier_messages() -> None:
    _, (a, b, ix) = args(t(2, 3, f32), t(4, 5, f32), t(3, f32))
    with pytest.raises(ShapeError, match="matmul contraction mismatch"):
        g.MatmulOp(a, b)  # inference already refuses
    with pytest.raises(VerifyException, match="matmul contraction mismatch: lhs has K=3"):
        g.MatmulOp(a, b, result_type=t(2, 5, f32)).verify()
    with pytest.raises(VerifyException, match="result shape mismatch: expected tensor<2x3xf32>"):
        g.AddOp(a, ix, result_type=t(3, 2, f32)).verify()
    with pytest.raises(VerifyException, match="gather index type rule"):
        g.GatherOp(a, ix).verify()
    with pytest.raises(VerifyException, match="float element type rule"):
        g.ExpOp(Block(arg_types=[t(4, i32)]).args[0]).verify()


def test_roundtrip_of_built_ops() -> None:
    def ops(vals: list[SSAValue]) -> list[Operation]:
        x, w, fc, s = vals
        conv = g.Conv2dOp(x, w, strides=[2, 2], pads=[1, 1, 1, 1])
        pool = g.MaxPoolOp(conv, [2, 2], [2, 2], ceil_mode=True, dilations=[1, 1])
        red = g.ReduceMeanOp(pool, [2, 3], keepdims=False)
        gemm = g.GemmOp(red, fc, alpha=0.125, trans_b=True)
        return [conv, pool, red, gemm, g.ClipOp(s, max=6.0), g.GeluOp(s, "tanh")]

    text = roundtrip(ops, t(1, 3, 16, 16, f32), t(16, 3, 3, 3, f32), t(8, 16, f32), t(4, f32))
    assert "{strides = [2, 2], pads = [1, 1, 1, 1], dilations = [1, 1], groups = 1}" in text
    assert (
        "{kernel = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1], "
        "ceil_mode = true} : tensor<1x16x8x8xf32> -> tensor<1x16x4x4xf32>"
    ) in text
    assert "{axes = [2, 3], keepdims = false} : tensor<1x16x4x4xf32> -> tensor<1x16xf32>" in text
    assert "{alpha = 0.125, trans_b = true} : (tensor<1x16xf32>, tensor<8x16xf32>)" in text
    assert "graph.clip %3 {max = 6.0} : tensor<4xf32>" in text
    assert 'graph.gelu %3 {approximate = "tanh"} : tensor<4xf32>' in text


# --------------------------------------------------------------------------------------
# Property syntax
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0.01, 1e-5, 1e-12, 0.5, 2.0, -0.0, 1e300, 0.1 + 0.2, 3.0e-7])
def test_format_float_roundtrips(value: float) -> None:
    text = format_float(value)
    assert text is not None and "." in text.split("e")[0]
    assert float(text) == value
    parsed = Parser(context(), text).parse_attribute()
    assert coerce_property(PropKind.FLOAT, parsed) == float_attr(value)


def test_format_float_non_finite() -> None:
    assert format_float(float("inf")) is None
    assert format_float(float("nan")) is None


def test_coerce_property() -> None:
    parse = Parser(context(), "[1, -2, 3]").parse_attribute()
    assert coerce_property(PropKind.INTS, parse) == ints_attr([1, -2, 3])
    assert coerce_property(PropKind.FLOAT, Parser(context(), "3").parse_attribute()) == float_attr(
        3.0
    )
    odd = StringAttr("x")
    assert coerce_property(PropKind.INT, odd) is odd  # left for the verifier / parser to reject


def test_parse_errors_name_the_property() -> None:
    src = (
        "func.func @f(%x: tensor<4xf32>) {\n"
        '  %0 = graph.softmax %x {axis = "x"} : tensor<4xf32>\n'
        "  func.return\n"
        "}"
    )
    with pytest.raises(
        ParseError, match=r"property kind rule: 'axis' of 'graph.softmax' must be an integer"
    ):
        Parser(context(), src).parse_module()


def test_printer_falls_back_for_non_finite_floats() -> None:
    _, (x,) = args(t(4, f32))
    stream = StringIO()
    Printer(stream=stream).print_op(g.ClipOp(x, min=float("-inf")))
    assert "{min = 0xfff0000000000000 : f64}" in stream.getvalue()
