"""The `hswish` dialect: one op, `hswish.hard_swish`, that trnc's `graph` dialect lacks.

    %y = hswish.hard_swish %x : tensor<1x16x32x32xf32>

computes y = x * hard_sigmoid(x) = x * clip(x / 6 + 1/2, 0, 1) elementwise, as ONNX
HardSwish does. The `hswish-to-graph` pass rewrites it into `graph` ops.
"""

from __future__ import annotations

from typing import ClassVar

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Attribute, Dialect, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    VarConstraint,
    base,
    irdl_op_definition,
    operand_def,
    result_def,
    traits_def,
)
from xdsl.traits import Pure


@irdl_op_definition
class HardSwishOp(IRDLOperation):
    """y = x * clip(x / 6 + 1/2, 0, 1), elementwise; the result has the operand's type."""

    name = "hswish.hard_swish"

    T: ClassVar = VarConstraint("T", base(TensorType))

    input = operand_def(T)
    result = result_def(T)

    traits = traits_def(Pure())

    assembly_format = "$input attr-dict `:` type($input)"

    def __init__(self, input: SSAValue, result_type: Attribute | None = None) -> None:
        super().__init__(operands=[input], result_types=[result_type or input.type])


Hswish = Dialect("hswish", [HardSwishOp], [])
