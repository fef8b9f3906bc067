"""Shared machinery of the `graph` dialect: element types, property kinds and the op base.

* element-type groups (`"float"`, `"numeric"`, `"any"`, ...) and tensor-type helpers;
* `PropKind`: how an op parameter is stored as a property (`i64`, `array<i64>`, `f64`,
  bool, string) and written in the custom syntax (`1`, `[1, 2]`, `0.5`, `true`, `"tanh"`);
* `GraphOp`: the base of every graph op. It gives the custom syntax

      %r = graph.op %a, %b {prop = value, ...} : (type_a, type_b) -> type_r   (functional)
      %r = graph.op %a {prop = value, ...} : type_a -> type_r                 (unary)
      %r = graph.op %a {prop = value, ...} : type                             (unary, same type)

  and a `verify_` that checks every tensor is statically shaped with a supported element
  type, then calls the op's `verify_graph`, turning `ShapeError`s into `VerifyException`s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import ClassVar, Literal

from xdsl.dialects.builtin import (
    I64,
    AnyFloat,
    ArrayAttr,
    BoolAttr,
    DenseArrayBase,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    TensorType,
    f64,
    i1,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import IRDLOperation
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.graph.shapes import Shape, ShapeError

# --------------------------------------------------------------------------------------
# Element types
# --------------------------------------------------------------------------------------

ElementGroup = Literal["any", "numeric", "float", "integer", "bool"]
TypeFormat = Literal["functional", "unary"]

_INT_WIDTHS = (8, 16, 32, 64)


def is_float(t: Attribute) -> bool:
    """A floating-point element type (f16, bf16, f32, f64, ...)."""
    return isinstance(t, AnyFloat)


def is_bool(t: Attribute) -> bool:
    """The boolean element type `i1`."""
    return t == i1


def is_integer(t: Attribute) -> bool:
    """A non-boolean integer element type (i8..i64, signed or unsigned)."""
    return isinstance(t, IntegerType) and t.width.data in _INT_WIDTHS


def is_supported_element(t: Attribute) -> bool:
    """Element types graph tensors may hold: floats, 8..64-bit integers and `i1`."""
    return is_float(t) or is_integer(t) or is_bool(t)


def in_group(t: Attribute, group: ElementGroup) -> bool:
    """Whether element type `t` belongs to `group`."""
    match group:
        case "any":
            return is_supported_element(t)
        case "numeric":
            return is_float(t) or is_integer(t)
        case "float":
            return is_float(t)
        case "integer":
            return is_integer(t)
        case "bool":
            return is_bool(t)


_GROUP_WORDS: dict[ElementGroup, str] = {
    "any": "a supported",
    "numeric": "a numeric (float or non-i1 integer)",
    "float": "a floating-point",
    "integer": "an integer",
    "bool": "an i1",
}


def shape_of(value: SSAValue | Attribute) -> Shape:
    """The static shape of a tensor value or tensor type."""
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType)
    return tuple(t.get_shape())


def optional_shape(value: SSAValue | Operation | None) -> Shape | None:
    """The static shape of an optional operand (a value, or the op defining it), or None."""
    return None if value is None else shape_of(SSAValue.get(value))


def element_of(value: SSAValue | Attribute) -> Attribute:
    """The element type of a tensor value or tensor type."""
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType)
    return t.get_element_type()


def tensor_type(shape: Sequence[int], element_type: Attribute) -> TensorType[Attribute]:
    """`tensor<shape x element_type>`."""
    return TensorType(element_type, shape)


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------


class PropKind(Enum):
    """How an op parameter is stored and written.

    INT: `IntegerAttr` of i64, written `3`. INTS: `array<i64: ...>`, written `[1, 2]`.
    FLOAT: `FloatAttr` of f64, written `0.5`. BOOL: `true` / `false`. STR: `"text"`.
    """

    INT = "int"
    INTS = "ints"
    FLOAT = "float"
    BOOL = "bool"
    STR = "str"


def int_attr(value: int) -> IntegerAttr[I64]:
    """An i64 property value."""
    return IntegerAttr(value, i64)


def ints_attr(values: Sequence[int]) -> DenseArrayBase[I64]:
    """An `array<i64: ...>` property value."""
    return DenseArrayBase.from_list(i64, list(values))


def float_attr(value: float) -> FloatAttr:
    """An f64 property value."""
    return FloatAttr(float(value), f64)


def bool_attr(value: bool) -> BoolAttr:
    """A boolean property value."""
    return IntegerAttr.from_bool(value)


def get_int(attr: Attribute) -> int:
    """The Python value of an INT property."""
    assert isinstance(attr, IntegerAttr)
    return attr.value.data


def get_ints(attr: Attribute) -> tuple[int, ...]:
    """The Python value of an INTS property."""
    assert isinstance(attr, DenseArrayBase)
    return tuple(int(v) for v in attr.get_values())


def get_float(attr: Attribute) -> float:
    """The Python value of a FLOAT property."""
    assert isinstance(attr, FloatAttr)
    return float(attr.value.data)


def get_bool(attr: Attribute) -> bool:
    """The Python value of a BOOL property."""
    assert isinstance(attr, IntegerAttr)
    return bool(attr.value.data)


def _is_plain_int(attr: Attribute) -> bool:
    return (
        isinstance(attr, IntegerAttr)
        and isinstance(attr.type, IntegerType)
        and attr.type.width.data > 1
    )


def coerce_property(kind: PropKind, attr: Attribute) -> Attribute:
    """The canonical storage of a value parsed from the custom syntax, e.g. `[1, 2]`
    (an `ArrayAttr`) becomes `array<i64: 1, 2>` and `1` becomes `1.0 : f64` for a FLOAT.
    Values that do not fit the kind are returned unchanged, for the verifier to reject."""
    match kind:
        case PropKind.INT if _is_plain_int(attr):
            assert isinstance(attr, IntegerAttr)
            return int_attr(attr.value.data)
        case PropKind.INTS if isinstance(attr, ArrayAttr) and all(
            _is_plain_int(a) for a in attr.data
        ):
            return ints_attr([get_int(a) for a in attr.data])
        case PropKind.FLOAT if isinstance(attr, FloatAttr):
            return float_attr(attr.value.data)
        case PropKind.FLOAT if _is_plain_int(attr):
            return float_attr(get_int(attr))
        case _:
            return attr


_KIND_WORDS: dict[PropKind, str] = {
    PropKind.INT: "an integer",
    PropKind.INTS: "a list of integers like [1, 2]",
    PropKind.FLOAT: "a number",
    PropKind.BOOL: "true or false",
    PropKind.STR: "a string",
}


def fits_kind(kind: PropKind, attr: Attribute) -> bool:
    """Whether `attr` has the canonical storage of `kind` (after `coerce_property`)."""
    match kind:
        case PropKind.INT:
            return isinstance(attr, IntegerAttr) and attr.type == i64
        case PropKind.INTS:
            return isinstance(attr, DenseArrayBase) and attr.elt_type == i64
        case PropKind.FLOAT:
            return isinstance(attr, FloatAttr) and attr.type == f64
        case PropKind.BOOL:
            return isinstance(attr, IntegerAttr) and attr.type == i1
        case PropKind.STR:
            return isinstance(attr, StringAttr)


def format_float(value: float) -> str | None:
    """A float literal that parses back to exactly `value` (None for inf and nan, which
    have no decimal literal)."""
    if not math.isfinite(value):
        return None
    text = repr(value)
    mantissa, sep, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + sep + exponent


def print_property(printer: Printer, kind: PropKind | None, attr: Attribute) -> None:
    """Print a property value in the custom syntax (canonical attribute syntax when the
    value does not have its kind's canonical storage)."""
    if kind == PropKind.INT and isinstance(attr, IntegerAttr) and attr.type == i64:
        printer.print_string(str(attr.value.data))
        return
    if kind == PropKind.INTS and isinstance(attr, DenseArrayBase) and attr.elt_type == i64:
        printer.print_string(fmt_list(get_ints(attr)))
        return
    if kind == PropKind.FLOAT and isinstance(attr, FloatAttr) and attr.type == f64:
        text = format_float(attr.value.data)
        if text is not None:
            printer.print_string(text)
            return
    printer.print_attribute(attr)


def fmt_list(values: Sequence[int]) -> str:
    """`[1, 2]`."""
    return "[" + ", ".join(str(v) for v in values) + "]"


# --------------------------------------------------------------------------------------
# The op base
# --------------------------------------------------------------------------------------


class GraphOp(IRDLOperation):
    """Base of every graph op: custom syntax from `PROPS` and `TYPE_FORMAT`, and the
    common verification (see the module docstring)."""

    PROPS: ClassVar[Mapping[str, PropKind]] = {}
    """The op's properties in printing order, with their kinds."""

    TYPE_FORMAT: ClassVar[TypeFormat] = "functional"
    """`functional`: `: (operand types) -> result type`; `unary`: one operand,
    `: operand type -> result type`, shortened to `: type` when both are the same."""

    # ---- syntax ---------------------------------------------------------------------

    @classmethod
    def parse(cls, parser: Parser) -> GraphOp:
        pos = parser.pos
        operands = parser.parse_optional_undelimited_comma_separated_list(
            parser.parse_optional_unresolved_operand, parser.parse_unresolved_operand
        )
        operands = operands or []
        entries = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        if cls.TYPE_FORMAT == "unary":
            operand_type: Attribute = parser.parse_type()
            result_type = operand_type
            if parser.parse_optional_punctuation("->") is not None:
                result_type = parser.parse_type()
            operand_types = [operand_type] * len(operands)
        else:
            function_type = parser.parse_function_type()
            operand_types = list(function_type.inputs.data)
            if len(function_type.outputs.data) != 1:
                parser.raise_error(
                    f"expected one result type, got {len(function_type.outputs.data)}"
                )
            result_type = function_type.outputs.data[0]
        values = parser.resolve_operands(operands, operand_types, pos)
        try:
            properties, attributes = cls.split_entries(entries)
        except ValueError as e:
            parser.raise_error(str(e), pos, parser.pos)
        return cls.create(
            operands=values,
            result_types=[result_type],
            properties=properties,
            attributes=attributes,
        )

    @classmethod
    def split_entries(
        cls, entries: Mapping[str, Attribute]
    ) -> tuple[dict[str, Attribute], dict[str, Attribute]]:
        """Split a parsed `{...}` dictionary into (properties, discardable attributes),
        coercing property values to their kind's storage; raises `ValueError` for a value
        that does not fit its property's kind."""
        properties: dict[str, Attribute] = {}
        attributes: dict[str, Attribute] = {}
        for key, value in entries.items():
            if key in cls.PROPS:
                kind = cls.PROPS[key]
                properties[key] = coerce_property(kind, value)
                if not fits_kind(kind, properties[key]):
                    raise ValueError(
                        f"property kind rule: '{key}' of '{cls.name}' must be "
                        f"{_KIND_WORDS[kind]}, got {value}"
                    )
            else:
                attributes[key] = value
        return properties, attributes

    def print_entries(self, printer: Printer) -> None:
        """Print ` {prop = value, ..., attr = value}` when there is anything to print."""
        items: list[tuple[str, PropKind | None, Attribute]] = [
            (k, kind, self.properties[k]) for k, kind in self.PROPS.items() if k in self.properties
        ]
        items += [(k, None, v) for k, v in self.properties.items() if k not in self.PROPS]
        items += [(k, None, v) for k, v in self.attributes.items()]
        if not items:
            return
        printer.print_string(" {")
        for i, (key, kind, value) in enumerate(items):
            if i:
                printer.print_string(", ")
            printer.print_identifier_or_string_literal(key)
            printer.print_string(" = ")
            print_property(printer, kind, value)
        printer.print_string("}")

    def print(self, printer: Printer) -> None:
        if self.operands:
            printer.print_string(" ")
            printer.print_list(self.operands, printer.print_ssa_value)
        self.print_entries(printer)
        printer.print_string(" : ")
        result_type = self.results[0].type
        if self.TYPE_FORMAT == "unary" and len(self.operands) == 1:
            printer.print_attribute(self.operands[0].type)
            if self.operands[0].type != result_type:
                printer.print_string(" -> ")
                printer.print_attribute(result_type)
            return
        printer.print_string("(")
        printer.print_list(self.operands, lambda v: printer.print_attribute(v.type))
        printer.print_string(") -> ")
        printer.print_attribute(result_type)

    # ---- verification ---------------------------------------------------------------

    def verify_(self) -> None:
        for value in (*self.operands, *self.results):
            t = value.type
            if not isinstance(t, TensorType):
                continue  # IRDL already rejects it
            if t.get_num_dims() and not all(d >= 0 for d in t.get_shape()):
                raise VerifyException(
                    f"static shape rule: graph tensors must have static shapes, got {t}"
                )
            if not is_supported_element(t.get_element_type()):
                raise VerifyException(
                    "element type rule: graph tensors hold floats, i8/i16/i32/i64 (signed or "
                    f"unsigned) integers or i1, got {t.get_element_type()}"
                )
        try:
            self.verify_graph()
        except ShapeError as e:
            raise VerifyException(str(e)) from e

    def verify_graph(self) -> None:
        """Op-specific rules; may raise `ShapeError` or `VerifyException`."""

    # ---- helpers for verifiers ------------------------------------------------------

    def require_element(self, name: str, value: SSAValue, group: ElementGroup) -> None:
        """`value`'s element type is in `group`."""
        t = element_of(value)
        if not in_group(t, group):
            raise VerifyException(
                f"{group} element type rule: {name} must have {_GROUP_WORDS[group]} "
                f"element type, got {t}"
            )

    def require_same_element(self, named: Sequence[tuple[str, SSAValue | None]]) -> None:
        """All the named values have the same element type; absent optional operands
        (None) are skipped."""
        present = [(name, value) for name, value in named if value is not None]
        first_name, first = present[0]
        for name, value in present[1:]:
            if element_of(value) != element_of(first):
                raise VerifyException(
                    f"element type mismatch: {first_name} has {element_of(first)} but "
                    f"{name} has {element_of(value)}"
                )

    def check_result(self, shape: Sequence[int], element_type: Attribute | None = None) -> None:
        """The (single) result has the inferred `shape` and, if given, `element_type`."""
        result = self.results[0].type
        assert isinstance(result, TensorType)
        elem = element_type if element_type is not None else result.get_element_type()
        expected = tensor_type(shape, elem)
        if tuple(result.get_shape()) != tuple(shape):
            raise VerifyException(f"result shape mismatch: expected {expected}, got {result}")
        if result.get_element_type() != elem:
            raise VerifyException(
                f"result element type mismatch: expected {expected}, got {result}"
            )


def check_string_choice(name: str, value: StringAttr, choices: Sequence[str]) -> None:
    """A STR property is one of `choices`."""
    if value.data not in choices:
        options = " | ".join(f'"{c}"' for c in choices)
        raise VerifyException(f'{name} rule: {name} must be {options}, got "{value.data}"')
