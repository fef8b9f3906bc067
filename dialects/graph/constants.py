"""Weights and constants of the `graph` dialect.

* `graph.constant`: a tensor given inline, as `dense<...>` (small data) or
  `dense_resource<blob>` (data in the file's resource section, out of the op text);
* `graph.weight`: a tensor stored in an external weights file, referenced by name, file
  (relative to the .mlir file) and byte offset; the verifier never opens the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute
from xdsl.irdl import base, irdl_op_definition, prop_def, result_def, traits_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import ConstantLike, Pure
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.graph.base import GraphOp, PropKind, get_int, int_attr


@irdl_op_definition
class ConstantOp(GraphOp):
    """A constant tensor; the result type is the value's type.

    %0 = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
    %1 = graph.constant dense_resource<wq> : tensor<768x768xf32>
    """

    name = "graph.constant"

    value = prop_def(base(DenseIntOrFPElementsAttr) | base(DenseResourceAttr))
    result = result_def(TensorType)

    traits = traits_def(Pure(), ConstantLike())

    def __init__(self, value: DenseIntOrFPElementsAttr | DenseResourceAttr) -> None:
        super().__init__(result_types=[value.get_type()], properties={"value": value})

    @classmethod
    def parse(cls, parser: Parser) -> ConstantOp:
        attributes = parser.parse_optional_attr_dict()
        pos = parser.pos
        value = parser.parse_attribute()
        if not isinstance(value, DenseIntOrFPElementsAttr | DenseResourceAttr):
            parser.raise_error(
                f"expected a dense<...> or dense_resource<...> tensor value, got {value}", pos
            )
        return cls.create(
            result_types=[value.get_type()], properties={"value": value}, attributes=attributes
        )

    def print(self, printer: Printer) -> None:
        if self.attributes:
            printer.print_string(" ")
            printer.print_attr_dict(self.attributes)
        printer.print_string(" ")
        printer.print_attribute(self.value)

    def verify_graph(self) -> None:
        value_type = self.value.get_type()
        if value_type != self.result.type:
            raise VerifyException(
                f"constant type rule: value has type {value_type} but the result has type "
                f"{self.result.type}"
            )


@irdl_op_definition
class WeightOp(GraphOp):
    """A tensor read from an external weights file: `weight_name` is the tensor's name,
    `file` the weights file relative to the .mlir file, `offset` the byte offset of the
    tensor's data (dense, row-major, in the result's element type) in that file.

        %0 = graph.weight "encoder.0.wq" from "bert.weights" at 1024 : tensor<768x768xf32>
    """

    name = "graph.weight"
    PROPS: ClassVar[Mapping[str, PropKind]] = {
        "name": PropKind.STR,
        "file": PropKind.STR,
        "offset": PropKind.INT,
    }

    weight_name = prop_def(StringAttr, prop_name="name")
    file = prop_def(StringAttr)
    offset = prop_def(IntegerAttr[I64])
    result = result_def(TensorType)

    traits = traits_def(Pure())

    def __init__(self, weight_name: str, file: str, offset: int, result_type: Attribute) -> None:
        super().__init__(
            result_types=[result_type],
            properties={
                "name": StringAttr(weight_name),
                "file": StringAttr(file),
                "offset": int_attr(offset),
            },
        )

    @classmethod
    def parse(cls, parser: Parser) -> WeightOp:
        weight_name = parser.parse_str_literal(" (the weight's name)")
        parser.parse_keyword("from")
        file = parser.parse_str_literal(" (the weights file)")
        parser.parse_keyword("at")
        offset = parser.parse_integer(allow_boolean=False, context_msg=" (the byte offset)")
        attributes = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        result_type = parser.parse_type()
        properties: dict[str, Attribute] = {
            "name": StringAttr(weight_name),
            "file": StringAttr(file),
            "offset": int_attr(offset),
        }
        return cls.create(result_types=[result_type], properties=properties, attributes=attributes)

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_string_literal(self.weight_name.data)
        printer.print_string(" from ")
        printer.print_string_literal(self.file.data)
        printer.print_string(f" at {get_int(self.offset)}")
        if self.attributes:
            printer.print_string(" ")
            printer.print_attr_dict(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.result.type)

    def verify_graph(self) -> None:
        if not self.weight_name.data:
            raise VerifyException("weight name rule: the weight name must be non-empty")
        if not self.file.data:
            raise VerifyException("weight file rule: the weights file path must be non-empty")
        if get_int(self.offset) < 0:
            raise VerifyException(
                f"weight offset rule: the byte offset must be non-negative, got "
                f"{get_int(self.offset)}"
            )
