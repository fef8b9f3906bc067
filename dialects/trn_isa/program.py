"""The program container of the `trn_isa` dialect: `trn_isa.program` and `trn_isa.hbm_tensor`.

A program is one NeuronCore's complete instruction stream::

    trn_isa.program @mlp weights "mlp.weights.npz" {
      trn_isa.hbm_tensor @x : tensor<128x768xbf16> at 0 role input
      trn_isa.hbm_tensor @w : tensor<768x512xbf16> at 196608 role weight
      ...instructions, in program order...
    }

The body is one block without terminator: first the table of HBM tensors (each with a
byte address in HBM and a role: `input`, `output`, `weight` or `scratch`), then the
instructions in program order. Each engine and DMA queue executes its own instructions in
that order; semaphores order them across queues. The optional `weights` file holds the
data of the `weight` tensors, keyed by tensor name.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Sequence

from xdsl.dialects.builtin import IntegerAttr, StringAttr, TensorType, i64
from xdsl.ir import Attribute, Block, Operation, Region
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    opt_prop_def,
    prop_def,
    region_def,
    traits_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import HasParent, IsolatedFromAbove, NoTerminator, SymbolOpInterface
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.isa_common import element_bytes
from trnc.dialects.trn_isa.attrs import HbmRole, HbmRoleAttr
from trnc.dialects.trn_isa.base import InstructionOp
from trnc.machine import TRN1


@irdl_op_definition
class ProgramOp(IRDLOperation):
    """`trn_isa.program @name [weights "file"] { hbm tensors; instructions }`."""

    name = "trn_isa.program"

    sym_name = prop_def(StringAttr)
    weights_file = opt_prop_def(StringAttr)
    """File holding the data of the `weight` tensors, keyed by tensor name."""
    body = region_def("single_block")

    traits = traits_def(NoTerminator(), SymbolOpInterface(), IsolatedFromAbove())

    def __init__(
        self,
        name: str,
        ops: Iterable[Operation] = (),
        weights_file: str | None = None,
    ) -> None:
        """Build a program from HBM tensor declarations followed by instructions."""
        props: dict[str, Attribute | None] = {"sym_name": StringAttr(name)}
        if weights_file is not None:
            props["weights_file"] = StringAttr(weights_file)
        super().__init__(properties=props, regions=[Region(Block(ops))])

    def hbm_tensors(self) -> list[HbmTensorOp]:
        """The declared HBM tensors, in order."""
        return [op for op in self.body.ops if isinstance(op, HbmTensorOp)]

    def instructions(self) -> list[InstructionOp]:
        """The instructions, in program order."""
        return [op for op in self.body.ops if isinstance(op, InstructionOp)]

    def tensor(self, name: str) -> HbmTensorOp | None:
        """The HBM tensor called `name`, if declared."""
        for t in self.hbm_tensors():
            if t.sym_name.data == name:
                return t
        return None

    def tensor_at(self, lo: int, hi: int) -> HbmTensorOp | None:
        """The HBM tensor containing the byte range [lo, hi), if one does."""
        for t in self.hbm_tensors():
            start, end = t.byte_range
            if start <= lo and hi <= end:
                return t
        return None

    @classmethod
    def parse(cls, parser: Parser) -> ProgramOp:
        name = parser.parse_symbol_name().data
        weights = None
        if parser.parse_optional_keyword("weights") is not None:
            weights = parser.parse_str_literal("weights file")
        attributes = parser.parse_optional_attr_dict_with_keyword()
        region = parser.parse_region()
        if not region.blocks:
            region.add_block(Block())
        op = cls(name, (), weights)
        op.body.detach_block(0)
        op.body.add_block(region.detach_block(0))
        if attributes is not None:
            op.attributes.update(attributes.data)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        if self.weights_file is not None:
            printer.print_string(" weights ")
            printer.print_string_literal(self.weights_file.data)
        if self.attributes:
            printer.print_op_attributes(self.attributes, print_keyword=True)
        printer.print_string(" ")
        if not self.body.block.ops:
            printer.print_string("{\n")
            printer.print_string("}")
        else:
            printer.print_region(self.body, print_entry_block_args=False)

    def verify_(self) -> None:
        seen_instruction: InstructionOp | None = None
        names: dict[str, HbmTensorOp] = {}
        for op in self.body.ops:
            if isinstance(op, HbmTensorOp):
                name = op.sym_name.data
                if seen_instruction is not None:
                    raise VerifyException(
                        f"program layout rule: hbm_tensor @{name} must precede the first "
                        f"instruction ({seen_instruction.name})"
                    )
                if name in names:
                    raise VerifyException(f"hbm tensor name rule: @{name} is declared twice")
                names[name] = op
            elif isinstance(op, InstructionOp):
                seen_instruction = op
            else:
                raise VerifyException(
                    f"program content rule: a program holds hbm_tensor ops and instructions, "
                    f"got {op.name}"
                )
        ordered = sorted(names.values(), key=lambda t: t.byte_range)
        for a, b in itertools.pairwise(ordered):
            (alo, ahi), (blo, bhi) = a.byte_range, b.byte_range
            if blo < ahi:
                raise VerifyException(
                    f"hbm overlap rule: @{a.sym_name.data} at bytes [{alo}, {ahi}) overlaps "
                    f"@{b.sym_name.data} at bytes [{blo}, {bhi})"
                )
        # Tensors do not overlap (checked above): the candidate holding [lo, hi) is the
        # last one starting at or before lo. One pass, O(log T) per access.
        starts = [t.byte_range[0] for t in ordered]
        for inst in self.instructions():
            for operand, ap in inst.access_patterns():
                if not ap.is_hbm:
                    continue
                lo, hi = ap.byte_range()
                tensor = None
                pos = bisect.bisect_right(starts, lo) - 1
                if pos >= 0 and hi <= ordered[pos].byte_range[1]:
                    tensor = ordered[pos]
                if tensor is None:
                    raise VerifyException(
                        f"hbm access rule: {operand} of {inst.name} touches bytes "
                        f"[{lo}, {hi}), which lie inside no single hbm_tensor"
                    )
                if tensor.element_type != ap.dtype:
                    raise VerifyException(
                        f"hbm dtype mismatch: {operand} of {inst.name} accesses "
                        f"@{tensor.sym_name.data} as {ap.dtype}, but it holds "
                        f"{tensor.element_type}"
                    )


@irdl_op_definition
class HbmTensorOp(IRDLOperation):
    """`trn_isa.hbm_tensor @x : tensor<128x768xbf16> at <byte address> role <role>`.

    Declares a row-major tensor in HBM at a byte address. The program verifier checks
    that declarations do not overlap and that every HBM access lies inside one of them.
    """

    name = "trn_isa.hbm_tensor"

    sym_name = prop_def(StringAttr)
    tensor_type = prop_def(TensorType, prop_name="type")
    address = prop_def(IntegerAttr.constr(type=i64))
    role = prop_def(HbmRoleAttr)

    traits = traits_def(SymbolOpInterface(), HasParent(ProgramOp))

    def __init__(
        self, name: str, tensor_type: TensorType, address: int, role: HbmRole | str
    ) -> None:
        super().__init__(
            properties={
                "sym_name": StringAttr(name),
                "type": tensor_type,
                "address": IntegerAttr(address, i64),
                "role": HbmRoleAttr(HbmRole(role)),
            }
        )

    @property
    def element_type(self) -> Attribute:
        """The element type of the tensor."""
        return self.tensor_type.element_type

    @property
    def shape(self) -> Sequence[int]:
        """The static shape."""
        return self.tensor_type.get_shape()

    @property
    def size_bytes(self) -> int:
        """Bytes the tensor occupies (row-major, dense)."""
        return math.prod(self.shape) * (element_bytes(self.element_type) or 0)

    @property
    def byte_range(self) -> tuple[int, int]:
        """Half-open HBM byte range [address, address + size)."""
        start = self.address.value.data
        return start, start + self.size_bytes

    @property
    def role_kind(self) -> HbmRole:
        """The role as an `HbmRole`."""
        return self.role.data

    @classmethod
    def parse(cls, parser: Parser) -> HbmTensorOp:
        name = parser.parse_symbol_name().data
        parser.parse_punctuation(":")
        pos = parser.pos
        ty = parser.parse_type()
        if not isinstance(ty, TensorType):
            parser.raise_error("expected a tensor type", pos)
        parser.parse_keyword("at")
        address = parser.parse_integer(allow_boolean=False)
        parser.parse_keyword("role")
        role = parser.parse_str_enum(HbmRole)
        op = cls(name, ty, address, role)
        attributes = parser.parse_optional_attr_dict_with_keyword()
        if attributes is not None:
            op.attributes.update(attributes.data)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        printer.print_string(" : ")
        printer.print_attribute(self.tensor_type)
        printer.print_string(f" at {self.address.value.data} role {self.role.data.value}")
        if self.attributes:
            printer.print_op_attributes(self.attributes, print_keyword=True)

    def verify_(self) -> None:
        ty = self.tensor_type
        if element_bytes(ty.element_type) is None:
            raise VerifyException(
                f"dtype rule: @{self.sym_name.data} has unsupported element type {ty.element_type}"
            )
        if any(d < 0 for d in ty.get_shape()):
            raise VerifyException(
                f"static shape rule: @{self.sym_name.data} must have a static shape, got {ty}"
            )
        lo, hi = self.byte_range
        if lo < 0 or hi > TRN1.hbm_bytes:
            raise VerifyException(
                f"hbm bounds rule: @{self.sym_name.data} occupies bytes [{lo}, {hi}), "
                f"outside [0, {TRN1.hbm_bytes})"
            )
