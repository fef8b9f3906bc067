"""The DMA instructions of the `trn_isa` dialect: `trn_isa.dma_copy` and
`trn_isa.dma_gather`.

Syntax (see `base.py` for the common parts)::

    trn_isa.dma_copy dst <ap>, src <ap> [{cast}] on dma<q> wait [...] signal [...]
    trn_isa.dma_gather dst <ap>, table <ap>, indices <ap> on dma<q> wait [...] signal [...]

Copies `src` to `dst` on DMA queue `q` (0..15, trn1.md A.3) between HBM and SBUF (either
direction, or within one of them). Both sides have the same number of partitions (for an
HBM side: the count of its partition-mapped dim, see `access_pattern.py`) and the same
number of elements per partition, matched in iteration order. When the dtypes differ the
copy must be marked `{cast}`; it then converts through fp32.

`dma_gather` is the indirect DMA of trn1.md A.3: partition `p` of `dst` (SBUF, `[P, E]`)
receives row `indices[p]` of `table` (HBM, `[rows, E]` with each row contiguous), where
`indices` is an int32 `[P, 1]` vector in SBUF written at run time. An index outside
`[0, rows)` is an error when it runs. It costs a transfer with one contiguous chunk per
row, after a descriptor-generation step of `64 + 2 x P` GpSimdE cycles (A.3).
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

from trnc.dialects.isa_common import dtype_name
from trnc.dialects.trn_isa.access_pattern import AccessPatternAttr, DmaChunks, dma_chunks
from trnc.dialects.trn_isa.attrs import SemaphoreAttr, SemWaitAttr
from trnc.dialects.trn_isa.base import InProgram, InstructionOp, Slot, SlotKind, sync_props
from trnc.dialects.trn_isa.rules import check_connectivity, check_same_elements
from trnc.machine import Engine, MachineModel


class DmaQueueOp(InstructionOp):
    """An instruction issued on a DMA queue (`on dma<q>`)."""

    queue = prop_def(IntegerAttr.constr(type=i64))
    """The DMA queue, 0..15 (trn1.md A.3)."""

    ISSUER_PROPS: ClassVar[tuple[str, ...]] = ("queue",)

    @property
    def queue_index(self) -> int:
        """The DMA queue number."""
        return self.queue.value.data

    @property
    def machine_engine(self) -> Engine:
        return Engine.DMA

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


@irdl_op_definition
class DmaCopyOp(DmaQueueOp):
    """Copy between HBM and SBUF on one DMA queue, optionally casting."""

    name = "trn_isa.dma_copy"

    dst = prop_def(AccessPatternAttr)
    src = prop_def(AccessPatternAttr)
    cast = opt_prop_def(UnitAttr)
    """Present when the dtypes differ; the copy converts through fp32."""

    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("dst", SlotKind.AP, write=True),
        Slot("src", SlotKind.AP),
    )
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

    def chunks(self) -> DmaChunks:
        """The chunks contiguous on both sides (each costs a descriptor, trn1.md A.3)."""
        return dma_chunks(self.dst, self.src)

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


@irdl_op_definition
class DmaGatherOp(DmaQueueOp):
    """Indirect DMA: `dst[p, :] = table[indices[p], :]` (see the module docstring)."""

    name = "trn_isa.dma_gather"

    dst = prop_def(AccessPatternAttr)
    table = prop_def(AccessPatternAttr)
    """The whole table `[rows, E]` in HBM: the partition-mapped dim is the rows."""
    indices = prop_def(AccessPatternAttr)
    """int32 `[P, 1]` in SBUF: the row of each partition of `dst`."""

    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("dst", SlotKind.AP, write=True),
        Slot("table", SlotKind.AP),
        Slot("indices", SlotKind.AP),
    )
    ROWS_BOUND: ClassVar[tuple[str, ...]] = ("table",)
    traits = traits_def(InProgram())

    def __init__(
        self,
        dst: AccessPatternAttr,
        table: AccessPatternAttr,
        indices: AccessPatternAttr,
        queue: int,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        props: dict[str, Attribute] = {
            "dst": dst,
            "table": table,
            "indices": indices,
            "queue": IntegerAttr(queue, i64),
            **sync_props(waits, signals),
        }
        super().__init__(properties=props)

    def verify_instruction(self, m: MachineModel) -> None:
        dst, table, indices = self.dst, self.table, self.indices
        if dst.is_hbm or not table.is_hbm or indices.is_hbm:
            raise VerifyException(
                f"dma gather rule: dst and indices must be on chip and table in HBM, got dst in "
                f"{dst.mem.value}, table in {table.mem.value}, indices in {indices.mem.value}"
            )
        check_connectivity(Engine.DMA, self.reads(), self.writes(), m)
        if dtype_name(indices.dtype) != "i32" or indices.free_elems != 1:
            raise VerifyException(
                f"dma gather rule: indices must be one i32 per partition, got "
                f"{indices.free_elems} x {indices.dtype}"
            )
        if indices.partitions != dst.partitions:
            raise VerifyException(
                f"dma gather rule: {indices.partitions} indices for {dst.partitions} dst partitions"
            )
        dims = table.free_dims
        if len(dims) != 1 or dims[0][0] != 1:
            raise VerifyException(
                "dma gather rule: each table row must be contiguous (one free dim of step 1), "
                f"got {dims}"
            )
        if table.free_elems != dst.free_elems:
            raise VerifyException(
                f"dma gather rule: table rows have {table.free_elems} elements, dst partitions "
                f"{dst.free_elems}"
            )
        if table.dtype != dst.dtype:
            raise VerifyException(
                f"dma gather rule: table is {table.dtype} but dst is {dst.dtype} (no cast)"
            )
