"""Data-movement ops of the `graph` dialect: transpose, reshape, concat, slice, gather.

They only rearrange elements, so input and result share an element type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from xdsl.dialects.builtin import I64, DenseArrayBase, IntegerAttr, TensorType, i32, i64
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.graph.base import (
    GraphOp,
    PropKind,
    TypeFormat,
    element_of,
    get_int,
    get_ints,
    int_attr,
    ints_attr,
    shape_of,
    tensor_type,
)
from trnc.dialects.graph.shapes import (
    check_reshape,
    infer_concat_shape,
    infer_gather_shape,
    infer_slice_shape,
    infer_transpose_shape,
)

Value = SSAValue | Operation


@irdl_op_definition
class TransposeOp(GraphOp):
    """ONNX Transpose: `result.shape[i] = input.shape[perm[i]]`.

    %0 = graph.transpose %x {perm = [0, 2, 1]} : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
    """

    name = "graph.transpose"
    TYPE_FORMAT: ClassVar[TypeFormat] = "unary"
    PROPS: ClassVar[Mapping[str, PropKind]] = {"perm": PropKind.INTS}

    input = operand_def(TensorType)
    result = result_def(TensorType)

    perm = prop_def(DenseArrayBase[I64])

    traits = traits_def(Pure())

    def __init__(
        self,
        input: Value,
        perm: Sequence[int] | None = None,
        result_type: Attribute | None = None,
    ) -> None:
        x = SSAValue.get(input)
        if perm is None:  # ONNX default: reverse the axes
            perm = list(reversed(range(len(shape_of(x)))))
        if result_type is None:
            result_type = tensor_type(infer_transpose_shape(shape_of(x), perm), element_of(x))
        super().__init__(
            operands=[input], result_types=[result_type], properties={"perm": ints_attr(perm)}
        )

    def verify_graph(self) -> None:
        shape = infer_transpose_shape(shape_of(self.input), get_ints(self.perm))
        self.check_result(shape, element_of(self.input))


@irdl_op_definition
class ReshapeOp(GraphOp):
    """ONNX Reshape with a static target: the result type gives the new shape, the element
    count is preserved.

        %0 = graph.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
    """

    name = "graph.reshape"
    TYPE_FORMAT: ClassVar[TypeFormat] = "unary"

    input = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())

    def __init__(self, input: Value, shape: Sequence[int]) -> None:
        x = SSAValue.get(input)
        super().__init__(operands=[input], result_types=[tensor_type(shape, element_of(x))])

    def verify_graph(self) -> None:
        target = shape_of(self.result)
        check_reshape(shape_of(self.input), target)
        self.check_result(target, element_of(self.input))


@irdl_op_definition
class ConcatOp(GraphOp):
    """ONNX Concat of one or more inputs along `axis`.

    %0 = graph.concat %a, %b {axis = 1}
           : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
    """

    name = "graph.concat"
    PROPS: ClassVar[Mapping[str, PropKind]] = {"axis": PropKind.INT}

    inputs = var_operand_def(TensorType)
    result = result_def(TensorType)

    axis = prop_def(IntegerAttr[I64])

    traits = traits_def(Pure())

    def __init__(
        self, inputs: Sequence[Value], axis: int, result_type: Attribute | None = None
    ) -> None:
        if result_type is None:
            values = [SSAValue.get(v) for v in inputs]
            shape = infer_concat_shape([shape_of(v) for v in values], axis)
            result_type = tensor_type(shape, element_of(values[0]))
        super().__init__(
            operands=[inputs], result_types=[result_type], properties={"axis": int_attr(axis)}
        )

    def verify_graph(self) -> None:
        shape = infer_concat_shape([shape_of(v) for v in self.inputs], get_int(self.axis))
        self.require_same_element([(f"input #{i}", v) for i, v in enumerate(self.inputs)])
        self.check_result(shape, element_of(self.inputs[0]))


@irdl_op_definition
class SliceOp(GraphOp):
    """ONNX Slice with static parameters: along `axes[i]` (default: axis i) take
    `starts[i]:ends[i]:steps[i]` (steps default to 1); negative starts and ends count from
    the back and out-of-range values clamp, as in ONNX.

        %0 = graph.slice %x {starts = [0, 1], ends = [2, 1000], axes = [0, 1], steps = [1, 2]}
               : tensor<4x10xf32> -> tensor<2x5xf32>
    """

    name = "graph.slice"
    TYPE_FORMAT: ClassVar[TypeFormat] = "unary"
    PROPS: ClassVar[Mapping[str, PropKind]] = {
        "starts": PropKind.INTS,
        "ends": PropKind.INTS,
        "axes": PropKind.INTS,
        "steps": PropKind.INTS,
    }

    input = operand_def(TensorType)
    result = result_def(TensorType)

    starts = prop_def(DenseArrayBase[I64])
    ends = prop_def(DenseArrayBase[I64])
    axes = opt_prop_def(DenseArrayBase[I64])
    steps = opt_prop_def(DenseArrayBase[I64])

    traits = traits_def(Pure())

    def __init__(
        self,
        input: Value,
        starts: Sequence[int],
        ends: Sequence[int],
        axes: Sequence[int] | None = None,
        steps: Sequence[int] | None = None,
        result_type: Attribute | None = None,
    ) -> None:
        if result_type is None:
            x = SSAValue.get(input)
            shape = infer_slice_shape(shape_of(x), starts, ends, axes, steps)
            result_type = tensor_type(shape, element_of(x))
        props: dict[str, Attribute] = {"starts": ints_attr(starts), "ends": ints_attr(ends)}
        if axes is not None:
            props["axes"] = ints_attr(axes)
        if steps is not None:
            props["steps"] = ints_attr(steps)
        super().__init__(operands=[input], result_types=[result_type], properties=props)

    def verify_graph(self) -> None:
        shape = infer_slice_shape(
            shape_of(self.input),
            get_ints(self.starts),
            get_ints(self.ends),
            get_ints(self.axes) if self.axes is not None else None,
            get_ints(self.steps) if self.steps is not None else None,
        )
        self.check_result(shape, element_of(self.input))


@irdl_op_definition
class GatherOp(GraphOp):
    """ONNX Gather: picks entries of `data` along `axis` at integer `indices` (i32 or
    i64); the result shape is `data[:axis] + indices + data[axis+1:]`.

        %0 = graph.gather %table, %ids {axis = 0}
               : (tensor<30522x768xf32>, tensor<1x128xi64>) -> tensor<1x128x768xf32>
    """

    name = "graph.gather"
    PROPS: ClassVar[Mapping[str, PropKind]] = {"axis": PropKind.INT}

    data = operand_def(TensorType)
    indices = operand_def(TensorType)
    result = result_def(TensorType)

    axis = prop_def(IntegerAttr[I64])

    traits = traits_def(Pure())

    def __init__(
        self, data: Value, indices: Value, axis: int = 0, result_type: Attribute | None = None
    ) -> None:
        if result_type is None:
            d = SSAValue.get(data)
            shape = infer_gather_shape(shape_of(d), shape_of(SSAValue.get(indices)), axis)
            result_type = tensor_type(shape, element_of(d))
        super().__init__(
            operands=[data, indices],
            result_types=[result_type],
            properties={"axis": int_attr(axis)},
        )

    def verify_graph(self) -> None:
        index_type = element_of(self.indices)
        if index_type not in (i32, i64):
            raise VerifyException(
                f"gather index type rule: indices must be i32 or i64, got {index_type}"
            )
        shape = infer_gather_shape(shape_of(self.data), shape_of(self.indices), get_int(self.axis))
        self.check_result(shape, element_of(self.data))
