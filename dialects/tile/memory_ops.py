"""Buffer ops of the `tile` dialect: `tile.alloc`, `tile.dealloc`, `tile.view`, `tile.dma`,
`tile.dma_gather`.

    %a = tile.alloc : !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
    %p = tile.alloc address 2048 start_partition 0 bank 1 : !tile.buffer<128x512xf32, psum, ...>
    %r = tile.alloc address 0 start_partition 0 depth 3 : !tile.buffer<128x512xbf16, sbuf, ...>
    %w = tile.view %x[%i, 0] : !tile.buffer<1024x512xbf16, hbm> to !tile.buffer<128x512xbf16, hbm>
    tile.dma %w -> %a queue 3 : !tile.buffer<128x512xbf16, hbm> -> !tile.buffer<..., sbuf, ...>
    tile.dma %w -> %r queue 4 queues 8 : ...   (in a loop: the n-th run on queue 4 + n mod 8)
    tile.dma_gather %t[%ids] -> %rows queue 5 : !tile.buffer<30522x768xf32, hbm>,
        !tile.buffer<128x1xi32, sbuf, ...> -> !tile.buffer<128x768xf32, sbuf, ...>
    tile.dealloc %a : !tile.buffer<...>

Placement decisions (`address`, `start_partition`, `bank`, `depth`, `queue`, `queues`) are
optional properties a later pass fills in; when present they are verified against `TRN1`.

Inside `scf.for` loops an alloc names a fresh buffer each time it runs: with `depth` D its
n-th run (counted over the whole program, in unrolled order) takes slot n mod D of D
consecutive slots of `slot_bytes` each (rotating buffers, so a load of the next iteration
need not wait for the readers of the last); a DMA with `queues` Q runs its n-th time on
queue `queue + n mod Q`, spreading a loop's transfers over Q queues.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from xdsl.dialects.builtin import I64, DenseArrayBase, IndexType, IntegerAttr, IntegerType, i64
from xdsl.dialects.utils import DynamicIndexList
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.traits import MemoryAllocEffect, MemoryFreeEffect, Pure
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.isa_common import element_bytes
from trnc.dialects.tile.checks import buffer, check_reads, check_writes, fmt_shape
from trnc.dialects.tile.layout import LayoutAttr
from trnc.dialects.tile.types import BufferType
from trnc.machine import TRN1, Engine, Memory

DYNAMIC_OFFSET = -(2**63)
"""Sentinel in `tile.view`'s `static_offsets` for an offset given by an `index` operand."""


def _opt_int(attr: IntegerAttr | None) -> int | None:
    return None if attr is None else attr.value.data


def _check_queue(attr: IntegerAttr | None, queues: IntegerAttr | None = None) -> None:
    """The DMA queue rule (A.3): a queue, when chosen, is one of the 16 (and so is every
    queue a rotating DMA runs on)."""
    queue = _opt_int(attr)
    if queue is not None and not 0 <= queue < TRN1.dma_queues:
        raise VerifyException(
            f"dma queue rule: queue {queue} is out of range 0..{TRN1.dma_queues - 1}"
        )
    count = _opt_int(queues)
    if count is not None and (count < 1 or (queue or 0) + count > TRN1.dma_queues):
        raise VerifyException(
            f"dma queue rule: queues {queue or 0}..{(queue or 0) + count - 1} are not "
            f"within 0..{TRN1.dma_queues - 1}"
        )


def slot_bytes(buf: BufferType) -> int:
    """Bytes per partition one slot of an alloc of `buf` takes: its bytes, rounded up to
    the SBUF alignment, or in PSUM to the next power of two (>= 4), so a slot of at most a
    bank, aligned to its size, never crosses a bank (a matmul accumulates within one)."""
    size = buf.bytes_per_partition()
    if buf.space is Memory.PSUM:
        rounded = 4
        while rounded < size:
            rounded *= 2
        return rounded
    align = max(1, TRN1.sbuf_alignment)
    return -(-size // align) * align


def footprint_bytes(buf: BufferType, depth: int = 1) -> int:
    """Bytes per partition an alloc of `buf` with `depth` slots spans from its address:
    `depth - 1` whole slots, then the buffer itself."""
    return slot_bytes(buf) * (depth - 1) + buf.bytes_per_partition()


@irdl_op_definition
class AllocOp(IRDLOperation):
    """Allocate an on-chip (`sbuf` or `psum`) buffer.

    `address` is the byte offset of the buffer inside each partition, `start_partition` the
    first partition it occupies, and `bank` (psum only) the PSUM bank it starts in.
    """

    name = "tile.alloc"

    address = opt_prop_def(IntegerAttr[I64])
    start_partition = opt_prop_def(IntegerAttr[I64])
    bank = opt_prop_def(IntegerAttr[I64])
    depth = opt_prop_def(IntegerAttr[I64])
    result = result_def(BufferType)

    traits = traits_def(MemoryAllocEffect())

    assembly_format = (
        "(`address` $address^)? (`start_partition` $start_partition^)? (`bank` $bank^)? "
        "(`depth` $depth^)? attr-dict `:` type($result)"
    )

    def depth_value(self) -> int:
        """Rotating slots (1 when none is given)."""
        return _opt_int(self.depth) or 1

    def __init__(
        self,
        result_type: BufferType,
        address: int | None = None,
        start_partition: int | None = None,
        bank: int | None = None,
    ) -> None:
        props = {
            k: IntegerAttr(v, i64)
            for k, v in (("address", address), ("start_partition", start_partition), ("bank", bank))
            if v is not None
        }
        super().__init__(result_types=[result_type], properties=props)

    def verify_(self) -> None:
        buf = buffer(self.result)
        memory = buf.space
        if memory is Memory.HBM:
            raise VerifyException(
                "alloc memory rule: tile.alloc creates sbuf or psum buffers, got hbm"
            )
        depth = _opt_int(self.depth)
        if depth is not None and depth < 1:
            raise VerifyException(f"alloc depth rule: depth must be at least 1, got {depth}")
        depth = depth or 1
        size = footprint_bytes(buf, depth)
        capacity = TRN1.memory_bytes_per_partition(memory)
        address = _opt_int(self.address)
        if address is not None:
            if address < 0 or address + size > capacity:
                raise VerifyException(
                    f"address bounds rule: bytes [{address}, {address + size}) of each "
                    f"partition exceed {memory.value}'s {capacity}"
                )
            align = TRN1.psum_alignment if memory is Memory.PSUM else TRN1.sbuf_alignment
            if address % align:
                raise VerifyException(
                    f"alignment rule: {memory.value} addresses are multiples of {align}, "
                    f"got {address}"
                )
            slot = slot_bytes(buf)
            if memory is Memory.PSUM and depth > 1 and address % slot:
                raise VerifyException(
                    f"psum bank rule: rotating {slot}-byte slots must start at a multiple "
                    f"of {slot} (no slot may cross a bank), got address {address}"
                )
        start = _opt_int(self.start_partition)
        if start is not None and (
            error := TRN1.start_partition_error(start, buf.partition_count())
        ):
            raise VerifyException(error)
        bank = _opt_int(self.bank)
        if bank is not None:
            if memory is not Memory.PSUM:
                raise VerifyException(
                    f"psum bank rule: only psum buffers have a bank, got {memory.value}"
                )
            if not 0 <= bank < TRN1.psum_banks:
                raise VerifyException(
                    f"psum bank rule: bank {bank} is out of range 0..{TRN1.psum_banks - 1}"
                )
            if address is not None and address // TRN1.psum_bank_bytes != bank:
                raise VerifyException(
                    f"psum bank rule: address {address} lies in bank "
                    f"{address // TRN1.psum_bank_bytes}, not {bank}"
                )
            if bank * TRN1.psum_bank_bytes + size > capacity:
                raise VerifyException(
                    f"psum bank rule: {size} bytes per partition starting in bank {bank} "
                    f"exceed psum's {capacity}"
                )


@irdl_op_definition
class DeallocOp(IRDLOperation):
    """Free an on-chip buffer made by `tile.alloc`."""

    name = "tile.dealloc"

    buffer = operand_def(BufferType)

    traits = traits_def(MemoryFreeEffect())

    assembly_format = "$buffer attr-dict `:` type($buffer)"

    def __init__(self, buf: SSAValue | Operation) -> None:
        super().__init__(operands=[buf])

    def verify_(self) -> None:
        if buffer(self.buffer).space is Memory.HBM:
            raise VerifyException(
                "dealloc memory rule: only sbuf and psum buffers are deallocated, got hbm"
            )


@irdl_op_definition
class ViewOp(IRDLOperation):
    """A static-size window of a buffer at (static or dynamic `index`) offsets.

    The window's shape is the result's shape; it stays in the source's memory space.
    Offsets are in elements of each logical dim; `strides` (default 1 per dim) step through
    a dim, so the view takes elements `offset + i * stride` (a strided slice).
    """

    name = "tile.view"

    source = operand_def(BufferType)
    offsets = var_operand_def(IndexType)
    static_offsets = prop_def(DenseArrayBase[I64])
    strides = opt_prop_def(DenseArrayBase[I64])
    result = result_def(BufferType)

    traits = traits_def(Pure())

    assembly_format = (
        "$source custom<DynamicIndexList>($offsets, $static_offsets) (`strides` $strides^)? "
        "attr-dict `:` type($source) `to` type($result)"
    )
    custom_directives = (DynamicIndexList,)

    def __init__(
        self,
        source: SSAValue | Operation,
        offsets: Sequence[int | SSAValue | Operation],
        result_type: BufferType,
        strides: Sequence[int] | None = None,
    ) -> None:
        static = [o if isinstance(o, int) else DYNAMIC_OFFSET for o in offsets]
        dynamic = [o for o in offsets if not isinstance(o, int)]
        props: dict[str, Attribute] = {"static_offsets": DenseArrayBase.from_list(i64, static)}
        if strides is not None and any(s != 1 for s in strides):
            props["strides"] = DenseArrayBase.from_list(i64, list(strides))
        super().__init__(operands=[source, dynamic], properties=props, result_types=[result_type])

    def stride_values(self) -> tuple[int, ...]:
        """Per dim the stride (1 where none is given)."""
        if self.strides is None:
            return (1,) * len(self.static_offsets.get_values())
        return tuple(int(s) for s in self.strides.get_values())

    def static_offset_values(self) -> tuple[int | None, ...]:
        """Per dim the static offset, or None where it is an `index` operand."""
        return tuple(
            None if o == DYNAMIC_OFFSET else int(o) for o in self.static_offsets.get_values()
        )

    def verify_(self) -> None:
        src, res = buffer(self.source), buffer(self.result)
        if src.space is not res.space:
            raise VerifyException(
                f"view memory rule: a view stays in {src.space.value}, got {res.space.value}"
            )
        if src.element_type != res.element_type:
            raise VerifyException(
                f"view element type rule: expected {src.element_type}, got {res.element_type}"
            )
        if src.rank != res.rank:
            raise VerifyException(
                f"view rank rule: source has rank {src.rank} but the view has rank {res.rank}"
            )
        offsets = self.static_offset_values()
        if len(offsets) != src.rank:
            raise VerifyException(
                f"view offsets rule: expected {src.rank} offsets, got {len(offsets)}"
            )
        if sum(o is None for o in offsets) != len(self.offsets):
            raise VerifyException(
                f"view offsets rule: {sum(o is None for o in offsets)} dynamic offsets but "
                f"{len(self.offsets)} index operands"
            )
        strides = self.stride_values()
        if len(strides) != src.rank or any(s < 1 for s in strides):
            raise VerifyException(
                f"view strides rule: expected {src.rank} strides >= 1, got {list(strides)}"
            )
        for d, (off, size, full, step) in enumerate(
            zip(offsets, res.get_shape(), src.get_shape(), strides, strict=True)
        ):
            span = (size - 1) * step + 1
            if span > full or (off is not None and (off < 0 or off + span > full)):
                window = f"[{off}, {off + span})" if off is not None else f"of size {span}"
                raise VerifyException(
                    f"view bounds rule: window {window} of dim {d} exceeds the source's "
                    f"size {full} ({fmt_shape(src)})"
                )
        if src.space is Memory.HBM:
            return
        src_layout, res_layout = src.get_layout(), res.get_layout()
        extra = set(res_layout.dims_on("part")) - set(src_layout.dims_on("part"))
        if extra:
            raise VerifyException(
                f"view layout rule: the view puts d{min(extra)} on partitions but the source "
                "does not; a view cannot move data across partitions"
            )
        src_part = src_layout.axis("part")
        if len(src_part) == 1 and not src_layout.factors(src_part[0].dim):
            # One whole dim on partitions: its offset is the first partition of the view.
            start = offsets[src_part[0].dim]
            if start is not None and (
                error := TRN1.start_partition_error(start, res.partition_count())
            ):
                raise VerifyException(error)


@irdl_op_definition
class ReinterpretOp(IRDLOperation):
    """The same bytes as a row-major buffer of another shape (same element type and
    count): a reshape that moves no data.

        %r = tile.reinterpret %x : !tile.buffer<2x64x3xf32, hbm> to !tile.buffer<128x3xf32, hbm>

    On chip (sbuf or psum), both sides are partition-major (dim 0 on the partitions, the
    others free), keep dim 0, and reshape only the free dims: the same bytes of each
    partition, e.g. a padded image `[C, H, W]` seen as `[C, H * W]`.
    """

    name = "tile.reinterpret"

    source = operand_def(BufferType)
    result = result_def(BufferType)

    traits = traits_def(Pure())

    assembly_format = "$source attr-dict `:` type($source) `to` type($result)"

    def __init__(self, source: SSAValue | Operation, result_type: BufferType) -> None:
        super().__init__(operands=[source], result_types=[result_type])

    def verify_(self) -> None:
        src, res = buffer(self.source), buffer(self.result)
        if src.space is not res.space:
            raise VerifyException(
                f"reinterpret memory rule: the result must stay in {src.space.value}, got "
                f"{res.space.value}"
            )
        if src.element_type != res.element_type:
            raise VerifyException(
                f"reinterpret element type rule: expected {src.element_type}, got "
                f"{res.element_type}"
            )
        if prod(src.get_shape()) != prod(res.get_shape()):
            raise VerifyException(
                f"reinterpret size rule: {fmt_shape(src)} and {fmt_shape(res)} have different "
                "element counts"
            )
        if src.space is Memory.HBM:
            return
        for what, buf in (("source", src), ("result", res)):
            layout = buf.get_layout()
            if layout != LayoutAttr.partition_major(buf.rank) or buf.rank < 2:
                raise VerifyException(
                    f"reinterpret layout rule: on chip the {what} must be partition-major "
                    f"(dim 0 on the partitions, the rest free), got {layout}"
                )
        if src.get_shape()[0] != res.get_shape()[0]:
            raise VerifyException(
                f"reinterpret partition rule: on chip dim 0 stays, got {src.get_shape()[0]} "
                f"and {res.get_shape()[0]}"
            )


@irdl_op_definition
class DmaOp(IRDLOperation):
    """Copy a buffer to another of the same element count (hbm <-> sbuf, sbuf -> sbuf) on
    a DMA queue, casting the element type if they differ."""

    name = "tile.dma"

    source = operand_def(BufferType)
    dest = operand_def(BufferType)
    queue = opt_prop_def(IntegerAttr[I64])
    queues = opt_prop_def(IntegerAttr[I64])

    assembly_format = (
        "$source `->` $dest (`queue` $queue^)? (`queues` $queues^)? attr-dict `:` "
        "type($source) `->` type($dest)"
    )

    def __init__(
        self, source: SSAValue | Operation, dest: SSAValue | Operation, queue: int | None = None
    ) -> None:
        props = {} if queue is None else {"queue": IntegerAttr(queue, i64)}
        super().__init__(operands=[source, dest], properties=props)

    def verify_(self) -> None:
        src, dst = buffer(self.source), buffer(self.dest)
        check_reads(Engine.DMA, "source", src)
        check_writes(Engine.DMA, "dest", dst)
        if src.num_elements() != dst.num_elements():
            raise VerifyException(
                f"dma element count rule: source {fmt_shape(src)} has {src.num_elements()} "
                f"elements but dest {fmt_shape(dst)} has {dst.num_elements()}"
            )
        _check_queue(self.queue, self.queues)


@irdl_op_definition
class DmaGatherOp(IRDLOperation):
    """Rows of an HBM table picked by run-time indices: `dest[p, :] = table[indices[p], :]`
    on a DMA queue (the indirect DMA of trn1.md A.3; an index outside the table is an error
    when it runs). `table` is `[rows, E]` with each row contiguous (a row-major buffer or a
    column window of one), `indices` an i32 `[P, 1]` SBUF tile, `dest` a `[P, E]` SBUF
    tile of the table's element type."""

    name = "tile.dma_gather"

    table = operand_def(BufferType)
    indices = operand_def(BufferType)
    dest = operand_def(BufferType)
    queue = opt_prop_def(IntegerAttr[I64])

    assembly_format = (
        "$table `[` $indices `]` `->` $dest (`queue` $queue^)? attr-dict `:` type($table) "
        "`,` type($indices) `->` type($dest)"
    )

    def __init__(
        self,
        table: SSAValue | Operation,
        indices: SSAValue | Operation,
        dest: SSAValue | Operation,
        queue: int | None = None,
    ) -> None:
        props = {} if queue is None else {"queue": IntegerAttr(queue, i64)}
        super().__init__(operands=[table, indices, dest], properties=props)

    def verify_(self) -> None:
        table, indices, dest = buffer(self.table), buffer(self.indices), buffer(self.dest)
        if (
            table.space is not Memory.HBM
            or indices.space is not Memory.SBUF
            or (dest.space is not Memory.SBUF)
        ):
            raise VerifyException(
                "dma gather rule: the table must be in hbm, indices and dest in sbuf, got "
                f"{table.space.value}, {indices.space.value}, {dest.space.value}"
            )
        if any(len(b.get_shape()) != 2 for b in (table, indices, dest)):
            raise VerifyException(
                f"dma gather rule: table, indices and dest must be 2-D, got {fmt_shape(table)}, "
                f"{fmt_shape(indices)}, {fmt_shape(dest)}"
            )
        (_, width), (p, one), (dp, dw) = (tuple(b.get_shape()) for b in (table, indices, dest))
        if indices.element_type != IntegerType(32) or one != 1 or p != dp:
            raise VerifyException(
                f"dma gather rule: indices must be i32 [{dp}, 1] (one per dest row), got "
                f"{fmt_shape(indices)}x{indices.element_type}"
            )
        if dw != width or dest.element_type != table.element_type:
            raise VerifyException(
                f"dma gather rule: dest must be [{dp}, {width}] of the table's "
                f"{table.element_type}, got {fmt_shape(dest)}x{dest.element_type}"
            )
        _check_queue(self.queue)


def dma_moved_bytes(op: DmaOp | DmaGatherOp) -> int:
    """Bytes a DMA moves: its source's (a cast moves the source's element count), or the
    rows a gather copies (its dest)."""
    moved = buffer(op.source if isinstance(op, DmaOp) else op.dest)
    return prod(moved.get_shape()) * (element_bytes(moved.element_type) or 0)
