"""Normalization and reduction ops of the `graph` dialect.

* `graph.softmax`, `graph.log_softmax` (ONNX opset 13: along one axis);
* `graph.layer_norm` (ONNX LayerNormalization, output Y only) and `graph.batch_norm`
  (ONNX BatchNormalization in inference mode);
* `graph.reduce_sum`, `graph.reduce_mean`, `graph.reduce_max` (axes, keepdims).
"""

from __future__ import annotations

import math
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
    prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.graph.base import (
    ElementGroup,
    GraphOp,
    PropKind,
    TypeFormat,
    bool_attr,
    element_of,
    float_attr,
    get_bool,
    get_float,
    get_int,
    get_ints,
    int_attr,
    ints_attr,
    optional_shape,
    shape_of,
    tensor_type,
)
from trnc.dialects.graph.shapes import (
    check_batch_norm,
    check_layer_norm,
    infer_reduce_shape,
    normalize_axis,
)

Value = SSAValue | Operation


def check_epsilon(epsilon: float) -> None:
    """A normalization epsilon is finite and non-negative."""
    if not (math.isfinite(epsilon) and epsilon >= 0):
        raise VerifyException(
            f"epsilon rule: epsilon must be finite and non-negative, got {epsilon}"
        )


class SoftmaxBase(GraphOp):
    """Softmax-like op along `axis` (negative counts from the back); the result has the
    input's type."""

    TYPE_FORMAT: ClassVar[TypeFormat] = "unary"
    PROPS: ClassVar[Mapping[str, PropKind]] = {"axis": PropKind.INT}

    input = operand_def(TensorType)
    result = result_def(TensorType)

    axis = prop_def(IntegerAttr[I64])

    traits = traits_def(Pure())

    def __init__(self, input: Value, axis: int = -1, result_type: Attribute | None = None) -> None:
        if result_type is None:
            result_type = SSAValue.get(input).type
        super().__init__(
            operands=[input], result_types=[result_type], properties={"axis": int_attr(axis)}
        )

    def verify_graph(self) -> None:
        self.require_element("input", self.input, "float")
        normalize_axis(get_int(self.axis), len(shape_of(self.input)))
        self.check_result(shape_of(self.input), element_of(self.input))


@irdl_op_definition
class SoftmaxOp(SoftmaxBase):
    """ONNX Softmax (opset 13): `exp(x) / sum(exp(x))` along `axis`.

    %0 = graph.softmax %x {axis = -1} : tensor<2x12x128x128xf32>
    """

    name = "graph.softmax"


@irdl_op_definition
class LogSoftmaxOp(SoftmaxBase):
    """ONNX LogSoftmax (opset 13): `x - log(sum(exp(x)))` along `axis`."""

    name = "graph.log_softmax"


@irdl_op_definition
class LayerNormOp(GraphOp):
    """ONNX LayerNormalization (output Y): normalizes over dims `axis..rank-1`, then
    `* scale + bias`; scale and the optional bias broadcast to `x.shape[axis:]`.

        %0 = graph.layer_norm %x, %g, %b {axis = -1, epsilon = 1.0e-05}
               : (tensor<1x128x768xf32>, tensor<768xf32>, tensor<768xf32>)
               -> tensor<1x128x768xf32>
    """

    name = "graph.layer_norm"
    PROPS: ClassVar[Mapping[str, PropKind]] = {"axis": PropKind.INT, "epsilon": PropKind.FLOAT}

    input = operand_def(TensorType)
    scale = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    result = result_def(TensorType)

    axis = prop_def(IntegerAttr[I64])
    epsilon = prop_def(FloatAttr[Float64Type])

    traits = traits_def(Pure())

    def __init__(
        self,
        input: Value,
        scale: Value,
        bias: Value | None = None,
        axis: int = -1,
        epsilon: float = 1e-5,
        result_type: Attribute | None = None,
    ) -> None:
        if result_type is None:
            result_type = SSAValue.get(input).type
        props: dict[str, Attribute] = {"axis": int_attr(axis), "epsilon": float_attr(epsilon)}
        super().__init__(
            operands=[input, scale, bias], result_types=[result_type], properties=props
        )

    def verify_graph(self) -> None:
        self.require_element("input", self.input, "float")
        self.require_same_element(
            [("input", self.input), ("scale", self.scale), ("bias", self.bias)]
        )
        check_epsilon(get_float(self.epsilon))
        bias = optional_shape(self.bias)
        check_layer_norm(shape_of(self.input), get_int(self.axis), shape_of(self.scale), bias)
        self.check_result(shape_of(self.input), element_of(self.input))


@irdl_op_definition
class BatchNormOp(GraphOp):
    """ONNX BatchNormalization, inference mode:
    `(x - mean) / sqrt(var + epsilon) * scale + bias` per channel (dim 1).

        %0 = graph.batch_norm %x, %scale, %bias, %mean, %var {epsilon = 1.0e-05}
               : (tensor<1x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>,
                  tensor<64xf32>) -> tensor<1x64x56x56xf32>
    """

    name = "graph.batch_norm"
    PROPS: ClassVar[Mapping[str, PropKind]] = {"epsilon": PropKind.FLOAT}

    input = operand_def(TensorType)
    scale = operand_def(TensorType)
    bias = operand_def(TensorType)
    mean = operand_def(TensorType)
    var = operand_def(TensorType)
    result = result_def(TensorType)

    epsilon = prop_def(FloatAttr[Float64Type])

    traits = traits_def(Pure())

    def __init__(
        self,
        input: Value,
        scale: Value,
        bias: Value,
        mean: Value,
        var: Value,
        epsilon: float = 1e-5,
        result_type: Attribute | None = None,
    ) -> None:
        if result_type is None:
            result_type = SSAValue.get(input).type
        super().__init__(
            operands=[input, scale, bias, mean, var],
            result_types=[result_type],
            properties={"epsilon": float_attr(epsilon)},
        )

    def verify_graph(self) -> None:
        self.require_element("input", self.input, "float")
        params = {"scale": self.scale, "bias": self.bias, "mean": self.mean, "var": self.var}
        self.require_same_element([("input", self.input), *params.items()])
        check_epsilon(get_float(self.epsilon))
        check_batch_norm(shape_of(self.input), {k: shape_of(v) for k, v in params.items()})
        self.check_result(shape_of(self.input), element_of(self.input))


class ReduceOp(GraphOp):
    """Reduction over `axes` (empty: every axis; negative counts from the back); with
    `keepdims` the reduced dims stay as 1."""

    TYPE_FORMAT: ClassVar[TypeFormat] = "unary"
    ELEMENTS: ClassVar[ElementGroup] = "numeric"
    PROPS: ClassVar[Mapping[str, PropKind]] = {"axes": PropKind.INTS, "keepdims": PropKind.BOOL}

    input = operand_def(TensorType)
    result = result_def(TensorType)

    axes = prop_def(DenseArrayBase[I64])
    keepdims = prop_def(BoolAttr)

    traits = traits_def(Pure())

    def __init__(
        self,
        input: Value,
        axes: Sequence[int],
        keepdims: bool = True,
        result_type: Attribute | None = None,
    ) -> None:
        if result_type is None:
            x = SSAValue.get(input)
            result_type = tensor_type(
                infer_reduce_shape(shape_of(x), axes, keepdims), element_of(x)
            )
        props: dict[str, Attribute] = {"axes": ints_attr(axes), "keepdims": bool_attr(keepdims)}
        super().__init__(operands=[input], result_types=[result_type], properties=props)

    def verify_graph(self) -> None:
        self.require_element("input", self.input, self.ELEMENTS)
        shape = infer_reduce_shape(
            shape_of(self.input), get_ints(self.axes), get_bool(self.keepdims)
        )
        self.check_result(shape, element_of(self.input))


@irdl_op_definition
class ReduceSumOp(ReduceOp):
    """ONNX ReduceSum.

    %0 = graph.reduce_sum %x {axes = [1], keepdims = false} : tensor<4x8xf32> -> tensor<4xf32>
    """

    name = "graph.reduce_sum"


@irdl_op_definition
class ReduceMeanOp(ReduceOp):
    """ONNX ReduceMean."""

    name = "graph.reduce_mean"


@irdl_op_definition
class ReduceMaxOp(ReduceOp):
    """ONNX ReduceMax."""

    name = "graph.reduce_max"
