"""Contraction and sliding-window ops of the `graph` dialect.

* `graph.matmul` (ONNX MatMul: batched, broadcasting, 1-D operands) and `graph.gemm`
  (ONNX Gemm, the gemm-style bias add);
* `graph.conv2d` (ONNX Conv on NCHW / OIHW);
* `graph.max_pool`, `graph.avg_pool` (ONNX MaxPool / AveragePool over any number of
  spatial dims) and `graph.global_avg_pool`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    BoolAttr,
    DenseArrayBase,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    TensorType,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import Pure

from trnc.dialects.graph.base import (
    ElementGroup,
    GraphOp,
    PropKind,
    TypeFormat,
    bool_attr,
    element_of,
    float_attr,
    get_bool,
    get_int,
    get_ints,
    int_attr,
    ints_attr,
    optional_shape,
    shape_of,
    tensor_type,
)
from trnc.dialects.graph.shapes import (
    infer_conv2d_shape,
    infer_gemm_shape,
    infer_global_pool_shape,
    infer_matmul_shape,
    infer_pool_shape,
)

Value = SSAValue | Operation


@irdl_op_definition
class MatmulOp(GraphOp):
    """ONNX MatMul (numpy.matmul semantics): the last two dims multiply, leading (batch)
    dims broadcast; a 1-D lhs is a row vector and a 1-D rhs a column vector, their unit
    dim dropped from the result.

        %0 = graph.matmul %a, %b : (tensor<2x64x128xf32>, tensor<128x256xf32>)
                                   -> tensor<2x64x256xf32>
    """

    name = "graph.matmul"

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())

    def __init__(self, lhs: Value, rhs: Value, result_type: Attribute | None = None) -> None:
        if result_type is None:
            a, b = SSAValue.get(lhs), SSAValue.get(rhs)
            result_type = tensor_type(infer_matmul_shape(shape_of(a), shape_of(b)), element_of(a))
        super().__init__(operands=[lhs, rhs], result_types=[result_type])

    def verify_graph(self) -> None:
        self.require_element("lhs", self.lhs, "numeric")
        self.require_same_element([("lhs", self.lhs), ("rhs", self.rhs)])
        self.check_result(
            infer_matmul_shape(shape_of(self.lhs), shape_of(self.rhs)), element_of(self.lhs)
        )


@irdl_op_definition
class GemmOp(GraphOp):
    """ONNX Gemm: `alpha * op(a) @ op(b) + beta * c`, `op` transposing when `trans_a` /
    `trans_b`; a and b are 2-D, the optional bias c broadcasts unidirectionally to the
    M x N result. `alpha`, `beta` default to 1.0 and the flags to false.

        %0 = graph.gemm %a, %b, %c {trans_b = true}
               : (tensor<8x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>) -> tensor<8x3072xf32>
    """

    name = "graph.gemm"
    PROPS: ClassVar[Mapping[str, PropKind]] = {
        "alpha": PropKind.FLOAT,
        "beta": PropKind.FLOAT,
        "trans_a": PropKind.BOOL,
        "trans_b": PropKind.BOOL,
    }

    a = operand_def(TensorType)
    b = operand_def(TensorType)
    c = opt_operand_def(TensorType)
    result = result_def(TensorType)

    alpha = opt_prop_def(FloatAttr[Float64Type], default_value=float_attr(1.0))
    beta = opt_prop_def(FloatAttr[Float64Type], default_value=float_attr(1.0))
    trans_a = opt_prop_def(BoolAttr, default_value=bool_attr(False))
    trans_b = opt_prop_def(BoolAttr, default_value=bool_attr(False))

    traits = traits_def(Pure())

    def __init__(
        self,
        a: Value,
        b: Value,
        c: Value | None = None,
        alpha: float = 1.0,
        beta: float = 1.0,
        trans_a: bool = False,
        trans_b: bool = False,
        result_type: Attribute | None = None,
    ) -> None:
        if result_type is None:
            av, bv = SSAValue.get(a), SSAValue.get(b)
            c_shape = optional_shape(c)
            shape = infer_gemm_shape(shape_of(av), shape_of(bv), c_shape, trans_a, trans_b)
            result_type = tensor_type(shape, element_of(av))
        props: dict[str, Attribute] = {}
        if alpha != 1.0:
            props["alpha"] = float_attr(alpha)
        if beta != 1.0:
            props["beta"] = float_attr(beta)
        if trans_a:
            props["trans_a"] = bool_attr(True)
        if trans_b:
            props["trans_b"] = bool_attr(True)
        super().__init__(operands=[a, b, c], result_types=[result_type], properties=props)

    def verify_graph(self) -> None:
        self.require_element("a", self.a, "numeric")
        self.require_same_element([("a", self.a), ("b", self.b), ("c", self.c)])
        c_shape = optional_shape(self.c)
        shape = infer_gemm_shape(
            shape_of(self.a),
            shape_of(self.b),
            c_shape,
            get_bool(self.trans_a),
            get_bool(self.trans_b),
        )
        self.check_result(shape, element_of(self.a))


@irdl_op_definition
class Conv2dOp(GraphOp):
    """ONNX Conv in 2-D: NCHW input, OIHW weight (I = C / groups), optional bias [O];
    `pads` are [top, left, bottom, right].

        %0 = graph.conv2d %x, %w, %b {strides = [2, 2], pads = [1, 1, 1, 1],
                                      dilations = [1, 1], groups = 1}
               : (tensor<1x3x224x224xf32>, tensor<64x3x7x7xf32>, tensor<64xf32>)
               -> tensor<1x64x112x112xf32>
    """

    name = "graph.conv2d"
    PROPS: ClassVar[Mapping[str, PropKind]] = {
        "strides": PropKind.INTS,
        "pads": PropKind.INTS,
        "dilations": PropKind.INTS,
        "groups": PropKind.INT,
    }

    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    result = result_def(TensorType)

    strides = prop_def(DenseArrayBase[I64])
    pads = prop_def(DenseArrayBase[I64])
    dilations = prop_def(DenseArrayBase[I64])
    groups = prop_def(IntegerAttr[I64])

    traits = traits_def(Pure())

    def __init__(
        self,
        input: Value,
        weight: Value,
        bias: Value | None = None,
        strides: Sequence[int] = (1, 1),
        pads: Sequence[int] = (0, 0, 0, 0),
        dilations: Sequence[int] = (1, 1),
        groups: int = 1,
        result_type: Attribute | None = None,
    ) -> None:
        if result_type is None:
            x = SSAValue.get(input)
            b_shape = optional_shape(bias)
            shape = infer_conv2d_shape(
                shape_of(x), shape_of(SSAValue.get(weight)), strides, pads, dilations, groups,
                b_shape,
            )  # fmt: skip
            result_type = tensor_type(shape, element_of(x))
        props: dict[str, Attribute] = {
            "strides": ints_attr(strides),
            "pads": ints_attr(pads),
            "dilations": ints_attr(dilations),
            "groups": int_attr(groups),
        }
        super().__init__(
            operands=[input, weight, bias], result_types=[result_type], properties=props
        )

    def verify_graph(self) -> None:
        self.require_element("input", self.input, "float")
        self.require_same_element(
            [("input", self.input), ("weight", self.weight), ("bias", self.bias)]
        )
        shape = infer_conv2d_shape(
            shape_of(self.input),
            shape_of(self.weight),
            get_ints(self.strides),
            get_ints(self.pads),
            get_ints(self.dilations),
            get_int(self.groups),
            optional_shape(self.bias),
        )
        self.check_result(shape, element_of(self.input))


class PoolOp(GraphOp):
    """Sliding-window pooling over the spatial dims of an N x C x D1 x ... input; `pads`
    are [begin_1, ..., begin_n, end_1, ..., end_n]; `ceil_mode` (default false) rounds the
    output size up."""

    TYPE_FORMAT: ClassVar[TypeFormat] = "unary"
    ELEMENTS: ClassVar[ElementGroup] = "float"

    input = operand_def(TensorType)
    result = result_def(TensorType)

    kernel = prop_def(DenseArrayBase[I64])
    strides = prop_def(DenseArrayBase[I64])
    pads = prop_def(DenseArrayBase[I64])
    ceil_mode = opt_prop_def(BoolAttr, default_value=bool_attr(False))

    traits = traits_def(Pure())

    def pool_dilations(self) -> tuple[int, ...] | None:
        """The window dilations (None: all 1)."""
        return None

    def verify_graph(self) -> None:
        self.require_element("input", self.input, self.ELEMENTS)
        shape = infer_pool_shape(
            shape_of(self.input),
            get_ints(self.kernel),
            get_ints(self.strides),
            get_ints(self.pads),
            self.pool_dilations(),
            get_bool(self.ceil_mode),
        )
        self.check_result(shape, element_of(self.input))


def _pool_props(
    spatial: int,
    kernel: Sequence[int],
    strides: Sequence[int] | None,
    pads: Sequence[int] | None,
    ceil_mode: bool,
) -> dict[str, Attribute]:
    props: dict[str, Attribute] = {
        "kernel": ints_attr(kernel),
        "strides": ints_attr(strides if strides is not None else [1] * spatial),
        "pads": ints_attr(pads if pads is not None else [0] * (2 * spatial)),
    }
    if ceil_mode:
        props["ceil_mode"] = bool_attr(True)
    return props


@irdl_op_definition
class MaxPoolOp(PoolOp):
    """ONNX MaxPool (single output); `dilations` default to 1.

    %0 = graph.max_pool %x {kernel = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1]}
           : tensor<1x64x112x112xf32> -> tensor<1x64x56x56xf32>
    """

    name = "graph.max_pool"
    ELEMENTS: ClassVar[ElementGroup] = "numeric"
    PROPS: ClassVar[Mapping[str, PropKind]] = {
        "kernel": PropKind.INTS,
        "strides": PropKind.INTS,
        "pads": PropKind.INTS,
        "dilations": PropKind.INTS,
        "ceil_mode": PropKind.BOOL,
    }

    dilations = opt_prop_def(DenseArrayBase[I64])

    def __init__(
        self,
        input: Value,
        kernel: Sequence[int],
        strides: Sequence[int] | None = None,
        pads: Sequence[int] | None = None,
        dilations: Sequence[int] | None = None,
        ceil_mode: bool = False,
        result_type: Attribute | None = None,
    ) -> None:
        x = SSAValue.get(input)
        props = _pool_props(len(shape_of(x)) - 2, kernel, strides, pads, ceil_mode)
        if dilations is not None:
            props["dilations"] = ints_attr(dilations)
        if result_type is None:
            shape = infer_pool_shape(
                shape_of(x),
                get_ints(props["kernel"]),
                get_ints(props["strides"]),
                get_ints(props["pads"]),
                dilations,
                ceil_mode,
            )
            result_type = tensor_type(shape, element_of(x))
        super().__init__(operands=[input], result_types=[result_type], properties=props)

    def pool_dilations(self) -> tuple[int, ...] | None:
        return get_ints(self.dilations) if self.dilations is not None else None


@irdl_op_definition
class AvgPoolOp(PoolOp):
    """ONNX AveragePool; `count_include_pad` (default false) counts padding elements in
    the divisor; `dilations` (opset 19) default to 1.

        %0 = graph.avg_pool %x {kernel = [2, 2], strides = [2, 2], pads = [0, 0, 0, 0],
                                count_include_pad = true}
               : tensor<1x64x56x56xf32> -> tensor<1x64x28x28xf32>
    """

    name = "graph.avg_pool"
    PROPS: ClassVar[Mapping[str, PropKind]] = {
        "kernel": PropKind.INTS,
        "strides": PropKind.INTS,
        "pads": PropKind.INTS,
        "dilations": PropKind.INTS,
        "ceil_mode": PropKind.BOOL,
        "count_include_pad": PropKind.BOOL,
    }

    dilations = opt_prop_def(DenseArrayBase[I64])
    count_include_pad = opt_prop_def(BoolAttr, default_value=bool_attr(False))

    def __init__(
        self,
        input: Value,
        kernel: Sequence[int],
        strides: Sequence[int] | None = None,
        pads: Sequence[int] | None = None,
        ceil_mode: bool = False,
        count_include_pad: bool = False,
        result_type: Attribute | None = None,
        dilations: Sequence[int] | None = None,
    ) -> None:
        x = SSAValue.get(input)
        props = _pool_props(len(shape_of(x)) - 2, kernel, strides, pads, ceil_mode)
        if dilations is not None:
            props["dilations"] = ints_attr(dilations)
        if count_include_pad:
            props["count_include_pad"] = bool_attr(True)
        if result_type is None:
            shape = infer_pool_shape(
                shape_of(x),
                get_ints(props["kernel"]),
                get_ints(props["strides"]),
                get_ints(props["pads"]),
                dilations,
                ceil_mode,
            )
            result_type = tensor_type(shape, element_of(x))
        super().__init__(operands=[input], result_types=[result_type], properties=props)

    def pool_dilations(self) -> tuple[int, ...] | None:
        return get_ints(self.dilations) if self.dilations is not None else None


@irdl_op_definition
class GlobalAvgPoolOp(GraphOp):
    """ONNX GlobalAveragePool: the mean over all spatial dims, which become 1.

    %0 = graph.global_avg_pool %x : tensor<1x2048x7x7xf32> -> tensor<1x2048x1x1xf32>
    """

    name = "graph.global_avg_pool"
    TYPE_FORMAT: ClassVar[TypeFormat] = "unary"

    input = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())

    def __init__(self, input: Value, result_type: Attribute | None = None) -> None:
        if result_type is None:
            x = SSAValue.get(input)
            result_type = tensor_type(infer_global_pool_shape(shape_of(x)), element_of(x))
        super().__init__(operands=[input], result_types=[result_type])

    def verify_graph(self) -> None:
        self.require_element("input", self.input, "float")
        self.check_result(infer_global_pool_shape(shape_of(self.input)), element_of(self.input))
