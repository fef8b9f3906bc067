"""Enumeration attributes of the `tile` dialect.

* `#tile<memory sbuf>` (`MemorySpaceAttr`): a memory of `trnc.machine.Memory` (hbm, sbuf, psum).
* `#tile<engine vector>` (`EngineAttr`): an engine of `trnc.machine.Engine`.
* `#tile<act_func gelu>` (`ActivationFuncAttr`): a ScalarE activation function.
* `#tile<alu_op add>` (`AluOpAttr`): an ALU operation of VectorE / ScalarE / GpSimdE.

`ActivationFunc` and `AluOp` (with their bitvec and reduction sets) are the enums shared with
`trn_isa`, defined in `trnc.dialects.isa_common`.

In the generic form they print opaquely as above; inside an op's custom syntax (and
inside `!tile.buffer`) they print as a bare keyword, e.g. `on vector`, `relu`, `sbuf`.
"""

from __future__ import annotations

from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Data, SpacedOpaqueSyntaxAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer

from trnc.dialects.isa_common import ActivationFunc, AluOp
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


@irdl_attr_definition
class ActivationFuncAttr(EnumAttribute[ActivationFunc], SpacedOpaqueSyntaxAttribute):
    """The function `tile.activation` applies: `func(input * scale + bias)`."""

    name = "tile.act_func"


@irdl_attr_definition
class AluOpAttr(EnumAttribute[AluOp], SpacedOpaqueSyntaxAttribute):
    """An ALU operation, e.g. the `op` of `tile.tensor_tensor`."""

    name = "tile.alu_op"
