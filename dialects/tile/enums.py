"""Enumeration attributes of the `tile` dialect.

* `#tile<memory sbuf>` (`MemorySpaceAttr`): a memory of `trnc.machine.Memory` (hbm, sbuf, psum).
* `#tile<engine vector>` (`EngineAttr`): an engine of `trnc.machine.Engine`.
* `#tile<act_func gelu>` (`ActivationFuncAttr`): a ScalarE activation function.
* `#tile<alu_op add>` (`AluOpAttr`): an ALU operation of VectorE / ScalarE / GpSimdE.

In the generic form they print opaquely as above; inside an op's custom syntax (and
inside `!tile.buffer`) they print as a bare keyword, e.g. `on vector`, `relu`, `sbuf`.
"""

from __future__ import annotations

from enum import auto

from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Data, SpacedOpaqueSyntaxAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.str_enum import StrEnum

from trnc.machine import Engine, Memory


def _parse_member(parser: AttrParser, what: str, members: list[str]) -> str:
    """Parse a bare keyword that must be one of `members`."""
    pos = parser.pos
    word = parser.parse_identifier(f" ({what})")
    if word not in members:
        parser.raise_error(
            f"unknown {what} '{word}', expected one of {', '.join(members)}", pos, parser.pos
        )
    return word


@irdl_attr_definition
class MemorySpaceAttr(Data[Memory], SpacedOpaqueSyntaxAttribute):
    """A memory space: `hbm`, `sbuf` or `psum` (trn1.md A.1)."""

    name = "tile.memory"

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> Memory:
        return Memory(_parse_member(parser, "memory space", [m.value for m in Memory]))

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string(self.data.value)


@irdl_attr_definition
class EngineAttr(Data[Engine], SpacedOpaqueSyntaxAttribute):
    """The engine (instruction queue) that runs an op: `tensor`, `vector`, ... (A.2)."""

    name = "tile.engine"

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> Engine:
        return Engine(_parse_member(parser, "engine", [e.value for e in Engine]))

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string(self.data.value)


class ActivationFunc(StrEnum):
    """ScalarE activation functions (trn1.md B, ScalarE function list)."""

    COPY = auto()
    RELU = auto()
    GELU = auto()
    GELU_TANH = auto()
    GELU_SIGMOID = auto()
    SILU = auto()
    TANH = auto()
    SIGMOID = auto()
    SOFTPLUS = auto()
    MISH = auto()
    EXP = auto()
    LOG = auto()
    ERF = auto()
    SIN = auto()
    ARCTAN = auto()
    SQRT = auto()
    RSQRT = auto()
    RECIPROCAL = auto()
    SQUARE = auto()
    SIGN = auto()
    ABS = auto()


@irdl_attr_definition
class ActivationFuncAttr(EnumAttribute[ActivationFunc], SpacedOpaqueSyntaxAttribute):
    """The function `tile.activation` applies: `func(input * scale + bias)`."""

    name = "tile.act_func"


class AluOp(StrEnum):
    """ALU operations of VectorE, ScalarE and GpSimdE (trn1.md B, ALU ops)."""

    ADD = auto()
    SUB = auto()
    MUL = auto()
    DIV = auto()
    MAX = auto()
    MIN = auto()
    POW = auto()
    ABS_MAX = auto()
    ABS_MIN = auto()
    IS_EQUAL = auto()
    NOT_EQUAL = auto()
    IS_GT = auto()
    IS_GE = auto()
    IS_LT = auto()
    IS_LE = auto()
    LOGICAL_AND = auto()
    LOGICAL_OR = auto()
    LOGICAL_XOR = auto()
    BITWISE_AND = auto()
    BITWISE_OR = auto()
    BITWISE_XOR = auto()
    SHIFT_LEFT = auto()
    SHIFT_RIGHT = auto()


BITVEC_OPS: frozenset[AluOp] = frozenset(
    {AluOp.BITWISE_AND, AluOp.BITWISE_OR, AluOp.BITWISE_XOR, AluOp.SHIFT_LEFT, AluOp.SHIFT_RIGHT}
)
"""ALU ops that work on the bits of integer operands (the others compute in fp32)."""

REDUCE_OPS: frozenset[AluOp] = frozenset(
    {
        AluOp.ADD,
        AluOp.SUB,
        AluOp.MUL,
        AluOp.MAX,
        AluOp.MIN,
        AluOp.BITWISE_AND,
        AluOp.BITWISE_OR,
        AluOp.BITWISE_XOR,
        AluOp.LOGICAL_AND,
        AluOp.LOGICAL_OR,
        AluOp.LOGICAL_XOR,
    }
)
"""ALU ops a free-axis reduction may use."""


@irdl_attr_definition
class AluOpAttr(EnumAttribute[AluOp], SpacedOpaqueSyntaxAttribute):
    """An ALU operation, e.g. the `op` of `tile.tensor_tensor`."""

    name = "tile.alu_op"
