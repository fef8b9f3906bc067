"""Elementwise ops of the `graph` dialect.

* binary arithmetic with ONNX multidirectional broadcasting: add, sub, mul, div, pow, max,
  min;
* comparisons producing i1: equal, less, greater; and `where`;
* unary: relu, gelu, tanh, sigmoid, exp, log, erf, sqrt, rsqrt, reciprocal, neg, abs, clip,
  leaky_relu, hard_sigmoid;
* cast (element type change, shape kept).

Every builder takes an optional result type and infers it when omitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from xdsl.dialects.builtin import Float64Type, FloatAttr, StringAttr, TensorType, i1
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import Commutative, Pure

from trnc.dialects.graph.base import (
    ElementGroup,
    GraphOp,
    PropKind,
    TypeFormat,
    check_string_choice,
    element_of,
    float_attr,
    shape_of,
    tensor_type,
)
from trnc.dialects.graph.shapes import broadcast_shapes

Value = SSAValue | Operation

# --------------------------------------------------------------------------------------
# Binary arithmetic
# --------------------------------------------------------------------------------------


class BinaryOp(GraphOp):
    """`lhs <op> rhs` elementwise with multidirectional broadcasting; both operands and
    the result share one element type."""

    ELEMENTS: ClassVar[ElementGroup] = "numeric"

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())

    def __init__(self, lhs: Value, rhs: Value, result_type: Attribute | None = None) -> None:
        if result_type is None:
            result_type = self.infer_type(SSAValue.get(lhs).type, SSAValue.get(rhs).type)
        super().__init__(operands=[lhs, rhs], result_types=[result_type])

    @classmethod
    def infer_type(cls, lhs: Attribute, rhs: Attribute) -> TensorType[Attribute]:
        """The result type for operands of types `lhs` and `rhs`."""
        return tensor_type(broadcast_shapes(shape_of(lhs), shape_of(rhs)), element_of(lhs))

    def verify_graph(self) -> None:
        self.require_element("lhs", self.lhs, self.ELEMENTS)
        self.require_same_element([("lhs", self.lhs), ("rhs", self.rhs)])
        self.check_result(
            broadcast_shapes(shape_of(self.lhs), shape_of(self.rhs)), element_of(self.lhs)
        )


@irdl_op_definition
class AddOp(BinaryOp):
    """`lhs + rhs` (ONNX Add)."""

    name = "graph.add"
    traits = traits_def(Pure(), Commutative())


@irdl_op_definition
class SubOp(BinaryOp):
    """`lhs - rhs` (ONNX Sub)."""

    name = "graph.sub"


@irdl_op_definition
class MulOp(BinaryOp):
    """`lhs * rhs` (ONNX Mul)."""

    name = "graph.mul"
    traits = traits_def(Pure(), Commutative())


@irdl_op_definition
class DivOp(BinaryOp):
    """`lhs / rhs` (ONNX Div; integer division truncates)."""

    name = "graph.div"


@irdl_op_definition
class PowOp(BinaryOp):
    """`lhs ** rhs` (ONNX Pow): the exponent may have another numeric element type; the
    result has the base's."""

    name = "graph.pow"

    def verify_graph(self) -> None:
        self.require_element("lhs", self.lhs, "numeric")
        self.require_element("rhs", self.rhs, "numeric")
        self.check_result(
            broadcast_shapes(shape_of(self.lhs), shape_of(self.rhs)), element_of(self.lhs)
        )


@irdl_op_definition
class MaxOp(BinaryOp):
    """`max(lhs, rhs)` (ONNX Max with two inputs)."""

    name = "graph.max"
    traits = traits_def(Pure(), Commutative())


@irdl_op_definition
class MinOp(BinaryOp):
    """`min(lhs, rhs)` (ONNX Min with two inputs)."""

    name = "graph.min"
    traits = traits_def(Pure(), Commutative())


# --------------------------------------------------------------------------------------
# Comparisons and select
# --------------------------------------------------------------------------------------


class CompareOp(BinaryOp):
    """`lhs <cmp> rhs` with broadcasting; operands share an element type, the result is
    i1."""

    @classmethod
    def infer_type(cls, lhs: Attribute, rhs: Attribute) -> TensorType[Attribute]:
        return tensor_type(broadcast_shapes(shape_of(lhs), shape_of(rhs)), i1)

    def verify_graph(self) -> None:
        self.require_element("lhs", self.lhs, self.ELEMENTS)
        self.require_same_element([("lhs", self.lhs), ("rhs", self.rhs)])
        self.check_result(broadcast_shapes(shape_of(self.lhs), shape_of(self.rhs)), i1)


@irdl_op_definition
class EqualOp(CompareOp):
    """`lhs == rhs` (ONNX Equal; i1 operands allowed)."""

    name = "graph.equal"
    ELEMENTS: ClassVar[ElementGroup] = "any"
    traits = traits_def(Pure(), Commutative())


@irdl_op_definition
class LessOp(CompareOp):
    """`lhs < rhs` (ONNX Less)."""

    name = "graph.less"


@irdl_op_definition
class GreaterOp(CompareOp):
    """`lhs > rhs` (ONNX Greater)."""

    name = "graph.greater"


@irdl_op_definition
class WhereOp(GraphOp):
    """`condition ? x : y` (ONNX Where): i1 condition, x and y of one element type, all
    three broadcast together."""

    name = "graph.where"

    condition = operand_def(TensorType)
    x = operand_def(TensorType)
    y = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())

    def __init__(
        self, condition: Value, x: Value, y: Value, result_type: Attribute | None = None
    ) -> None:
        if result_type is None:
            c, a, b = (SSAValue.get(v).type for v in (condition, x, y))
            result_type = tensor_type(
                broadcast_shapes(shape_of(c), shape_of(a), shape_of(b)), element_of(a)
            )
        super().__init__(operands=[condition, x, y], result_types=[result_type])

    def verify_graph(self) -> None:
        self.require_element("condition", self.condition, "bool")
        self.require_same_element([("x", self.x), ("y", self.y)])
        shape = broadcast_shapes(shape_of(self.condition), shape_of(self.x), shape_of(self.y))
        self.check_result(shape, element_of(self.x))


# --------------------------------------------------------------------------------------
# Unary
# --------------------------------------------------------------------------------------


class UnaryOp(GraphOp):
    """`f(input)` elementwise: the result has the input's type."""

    TYPE_FORMAT: ClassVar[TypeFormat] = "unary"
    ELEMENTS: ClassVar[ElementGroup] = "float"

    input = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())

    def __init__(
        self,
        input: Value,
        result_type: Attribute | None = None,
        properties: dict[str, Attribute] | None = None,
    ) -> None:
        if result_type is None:
            result_type = SSAValue.get(input).type
        super().__init__(operands=[input], result_types=[result_type], properties=properties)

    def verify_graph(self) -> None:
        self.require_element("input", self.input, self.ELEMENTS)
        self.check_result(shape_of(self.input), element_of(self.input))


@irdl_op_definition
class ReluOp(UnaryOp):
    """`max(x, 0)` (ONNX Relu)."""

    name = "graph.relu"
    ELEMENTS: ClassVar[ElementGroup] = "numeric"


@irdl_op_definition
class GeluOp(UnaryOp):
    """ONNX Gelu: `x * Phi(x)`, exact (`approximate = "none"`, the default) or with the
    tanh approximation (`approximate = "tanh"`)."""

    name = "graph.gelu"
    PROPS: ClassVar[Mapping[str, PropKind]] = {"approximate": PropKind.STR}
    APPROXIMATIONS: ClassVar[tuple[str, ...]] = ("none", "tanh")

    approximate = opt_prop_def(StringAttr, default_value=StringAttr("none"))

    def __init__(
        self, input: Value, approximate: str = "none", result_type: Attribute | None = None
    ) -> None:
        props: dict[str, Attribute] = {}
        if approximate != "none":
            props["approximate"] = StringAttr(approximate)
        super().__init__(input, result_type, props)

    def verify_graph(self) -> None:
        check_string_choice("approximate", self.approximate, self.APPROXIMATIONS)
        super().verify_graph()


@irdl_op_definition
class TanhOp(UnaryOp):
    """`tanh(x)` (ONNX Tanh)."""

    name = "graph.tanh"


@irdl_op_definition
class SigmoidOp(UnaryOp):
    """`1 / (1 + exp(-x))` (ONNX Sigmoid)."""

    name = "graph.sigmoid"


@irdl_op_definition
class ExpOp(UnaryOp):
    """`exp(x)` (ONNX Exp)."""

    name = "graph.exp"


@irdl_op_definition
class LogOp(UnaryOp):
    """Natural logarithm (ONNX Log)."""

    name = "graph.log"


@irdl_op_definition
class ErfOp(UnaryOp):
    """The error function (ONNX Erf)."""

    name = "graph.erf"


@irdl_op_definition
class SqrtOp(UnaryOp):
    """`sqrt(x)` (ONNX Sqrt)."""

    name = "graph.sqrt"


@irdl_op_definition
class RsqrtOp(UnaryOp):
    """`1 / sqrt(x)` (ONNX `Reciprocal(Sqrt(x))`, fused)."""

    name = "graph.rsqrt"


@irdl_op_definition
class ReciprocalOp(UnaryOp):
    """`1 / x` (ONNX Reciprocal)."""

    name = "graph.reciprocal"


@irdl_op_definition
class NegOp(UnaryOp):
    """`-x` (ONNX Neg)."""

    name = "graph.neg"
    ELEMENTS: ClassVar[ElementGroup] = "numeric"


@irdl_op_definition
class AbsOp(UnaryOp):
    """`|x|` (ONNX Abs)."""

    name = "graph.abs"
    ELEMENTS: ClassVar[ElementGroup] = "numeric"


@irdl_op_definition
class ClipOp(UnaryOp):
    """ONNX Clip with static bounds: `min(max(x, min), max)`; either bound may be
    absent (no clamping on that side). As in ONNX, `min > max` is valid and makes every
    value `max`."""

    name = "graph.clip"
    ELEMENTS: ClassVar[ElementGroup] = "numeric"
    PROPS: ClassVar[Mapping[str, PropKind]] = {"min": PropKind.FLOAT, "max": PropKind.FLOAT}

    min = opt_prop_def(FloatAttr[Float64Type])
    max = opt_prop_def(FloatAttr[Float64Type])

    def __init__(
        self,
        input: Value,
        min: float | None = None,
        max: float | None = None,
        result_type: Attribute | None = None,
    ) -> None:
        props: dict[str, Attribute] = {}
        if min is not None:
            props["min"] = float_attr(min)
        if max is not None:
            props["max"] = float_attr(max)
        super().__init__(input, result_type, props)


@irdl_op_definition
class LeakyReluOp(UnaryOp):
    """ONNX LeakyRelu: `x if x >= 0 else alpha * x`."""

    name = "graph.leaky_relu"
    PROPS: ClassVar[Mapping[str, PropKind]] = {"alpha": PropKind.FLOAT}

    alpha = prop_def(FloatAttr[Float64Type])

    def __init__(
        self, input: Value, alpha: float = 0.01, result_type: Attribute | None = None
    ) -> None:
        super().__init__(input, result_type, {"alpha": float_attr(alpha)})


@irdl_op_definition
class HardSigmoidOp(UnaryOp):
    """ONNX HardSigmoid: `max(0, min(1, alpha * x + beta))`."""

    name = "graph.hard_sigmoid"
    PROPS: ClassVar[Mapping[str, PropKind]] = {"alpha": PropKind.FLOAT, "beta": PropKind.FLOAT}

    alpha = prop_def(FloatAttr[Float64Type])
    beta = prop_def(FloatAttr[Float64Type])

    def __init__(
        self,
        input: Value,
        alpha: float = 0.2,
        beta: float = 0.5,
        result_type: Attribute | None = None,
    ) -> None:
        props: dict[str, Attribute] = {"alpha": float_attr(alpha), "beta": float_attr(beta)}
        super().__init__(input, result_type, props)


@irdl_op_definition
class CastOp(GraphOp):
    """ONNX Cast: converts each element to the result's element type; the shape is kept.

    %1 = graph.cast %0 : tensor<4xf32> -> tensor<4xbf16>
    """

    name = "graph.cast"
    TYPE_FORMAT: ClassVar[TypeFormat] = "unary"

    input = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())

    def __init__(self, input: Value, element_type: Attribute) -> None:
        result_type = tensor_type(shape_of(SSAValue.get(input)), element_type)
        super().__init__(operands=[input], result_types=[result_type])

    def verify_graph(self) -> None:
        self.check_result(shape_of(self.input))
