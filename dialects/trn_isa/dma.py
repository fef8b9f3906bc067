"""The DMA instruction of the `trn_isa` dialect: `trn_isa.dma_copy`.

Syntax (see `base.py` for the common parts)::

    trn_isa.dma_copy dst <ap>, src <ap> [{cast}] on dma<q> wait [...] signal [...]

Copies `src` to `dst` on DMA queue `q` (0..15, trn1.md A.3) between HBM and SBUF (either
direction, or within one of them). Both sides have the same number of partitions (for an
HBM side: the count of its partition-mapped dim, see `access_pattern.py`) and the same
number of elements per partition, matched in iteration order. When the dtypes differ the
copy must be marked `{cast}`; it then converts through fp32.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import IntegerAttr, UnitAttr, i64
from xdsl.ir import Attribute
from xdsl.irdl import irdl_op_definition, opt_prop_def, prop_def, traits_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.trn_isa.access_pattern import AccessPatternAttr, DmaChunks, dma_chunks
from trnc.dialects.trn_isa.attrs import SemaphoreAttr, SemWaitAttr
from trnc.dialects.trn_isa.base import InProgram, InstructionOp, Slot, SlotKind, sync_props
from trnc.dialects.trn_isa.rules import check_connectivity, check_same_elements
from trnc.machine import Engine, MachineModel


@irdl_op_definition
class DmaCopyOp(InstructionOp):
    """Copy between HBM and SBUF on one DMA queue, optionally casting."""

    name = "trn_isa.dma_copy"

    dst = prop_def(AccessPatternAttr)
    src = prop_def(AccessPatternAttr)
    queue = prop_def(IntegerAttr.constr(type=i64))
    """The DMA queue, 0..15 (trn1.md A.3)."""
    cast = opt_prop_def(UnitAttr)
    """Present when the dtypes differ; the copy converts through fp32."""

    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("dst", SlotKind.AP, write=True),
        Slot("src", SlotKind.AP),
    )
    ISSUER_PROPS: ClassVar[tuple[str, ...]] = ("queue",)
    traits = traits_def(InProgram())

    def __init__(
        self,
        dst: AccessPatternAttr,
        src: AccessPatternAttr,
        queue: int,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        """Build a copy; `cast` is set when the dtypes differ."""
        props: dict[str, Attribute] = {
            "dst": dst,
            "src": src,
            "queue": IntegerAttr(queue, i64),
            **sync_props(waits, signals),
        }
        if dst.dtype != src.dtype:
            props["cast"] = UnitAttr()
        super().__init__(properties=props)

    @property
    def queue_index(self) -> int:
        """The DMA queue number."""
        return self.queue.value.data

    @property
    def machine_engine(self) -> Engine:
        return Engine.DMA

    def chunks(self) -> DmaChunks:
        """The chunks contiguous on both sides (each costs a descriptor, trn1.md A.3)."""
        return dma_chunks(self.dst, self.src)

    @classmethod
    def parse_issuer(cls, parser: Parser) -> dict[str, Attribute]:
        pos = parser.pos
        ident = parser.parse_identifier("dma queue (e.g. dma0)")
        if not (ident.startswith("dma") and ident[3:].isdigit()):
            parser.raise_error(f"expected a dma queue 'dma<q>', got '{ident}'", pos)
        return {"queue": IntegerAttr(int(ident[3:]), i64)}

    def print_issuer(self, printer: Printer) -> None:
        printer.print_string(f"dma{self.queue_index}")

    def verify_issuer(self, m: MachineModel) -> None:
        q = self.queue_index
        if not 0 <= q < m.dma_queues:
            raise VerifyException(f"dma queue rule: queue {q}, queues are 0..{m.dma_queues - 1}")

    def verify_instruction(self, m: MachineModel) -> None:
        check_connectivity(Engine.DMA, self.reads(), self.writes(), m)
        check_same_elements("dst", self.dst, "src", self.src)
        same = self.dst.dtype == self.src.dtype
        if not same and self.cast is None:
            raise VerifyException(
                f"dma cast rule: src is {self.src.dtype} but dst is {self.dst.dtype}, "
                "mark the copy {cast}"
            )
        if same and self.cast is not None:
            raise VerifyException(
                f"dma cast rule: marked {{cast}} but both sides are {self.dst.dtype}"
            )
