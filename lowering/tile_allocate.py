"""The `tile-allocate` pass: decide every on-chip address and every DMA queue of a tile
function, recorded on the IR (`tile.alloc address ... start_partition ... bank ...`,
`tile.dma ... queue q`). Decisions already present are kept (and avoided).

Addresses: a buffer is live from its `tile.alloc` to its last use (or `tile.dealloc`), in
program order. Buffers whose lifetimes overlap get disjoint byte ranges of each partition
(all tiles start at partition 0 in this version). Placement is offline greedy-by-size
(Pisarchyk & Lee, "Efficient memory management for deep neural net inference", 2020: the
best of the published heuristics for this offline interval-packing problem, close to
optimal on inference graphs): buffers in decreasing size order, each at the lowest
offset that no already-placed, lifetime-overlapping buffer occupies. Lifetimes are padded
by `reuse_distance` program positions (default 64) for that search, so bytes freed
shortly before are not reused while others are free: consecutive tiles of a stream rotate
over several buffers and a load need not wait for the previous tile's readers (BERT-base
16.6 -> 6.2 ms simulated); where the padded search finds no room the buffer is placed by
its real lifetime, and where even that fails (a long-lived buffer finds no bytes free
for its whole life among rotated ones) the function is placed again with half the
distance, down to none, so no working set that fits unpadded fails. PSUM buffers never
cross a 2 KiB bank (a matmul accumulates within one bank): sizes are rounded up to a
power of two (at most a bank), which aligns them. A working set that does not fit is an
error at the buffer that does not fit (smaller tiles or spilling come later).

Reuse is safe whatever the engines' timing: `isa-insert-sync` orders every later writer
of the same bytes after their earlier readers (WAR) and writers (WAW).

DMA queues: each DMA goes to the queue with the fewest bytes so far (ties: lowest
number), spreading transfers over the 16 queues so their fixed latencies overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass

from trnc.dialects import tile
from trnc.dialects.tile.types import BufferType
from trnc.lowering.tile_to_isa import LoweringError, buffer_roots
from trnc.machine import TRN1, Memory


@dataclass
class _Interval:
    op: tile.AllocOp
    size: int
    start: int
    end: int
    offset: int | None = None


def _size(buf: BufferType) -> int:
    layout = buf.layout
    assert isinstance(layout, tile.LayoutAttr)
    return layout.bytes_per_partition(buf.get_shape(), buf.element_type)


def _psum_size(size: int) -> int:
    """The next power of two (>= 4): a buffer of at most a bank, aligned to that size,
    never crosses a bank boundary."""
    rounded = 4
    while rounded < size:
        rounded *= 2
    return rounded


def lifetimes(function: func.FuncOp) -> dict[Memory, list[_Interval]]:
    """Per on-chip memory, each alloc's [first, last] op index in program order."""
    ops = list(function.body.walk())
    root = buffer_roots(
        function, [op.result for op in function.body.walk() if isinstance(op, tile.AllocOp)]
    )
    intervals: dict[SSAValue, _Interval] = {}
    for index, op in enumerate(ops):
        if isinstance(op, tile.AllocOp):
            buf = op.result.type
            assert isinstance(buf, BufferType)
            size = _size(buf)
            if buf.memory.data is Memory.PSUM:
                size = _psum_size(size)
            intervals[op.result] = _Interval(op, size, index, index)
        for operand in op.operands:
            r = root.get(operand)
            if r is not None:
                intervals[r].end = index
    out: dict[Memory, list[_Interval]] = {Memory.SBUF: [], Memory.PSUM: []}
    for value, interval in intervals.items():
        buf = value.type
        assert isinstance(buf, BufferType)
        out[buf.memory.data].append(interval)
    return out


_BUCKET = 256
"""Program positions per time bucket of `place`'s index of placed intervals."""


def _capacity(memory: Memory) -> int:
    if memory is Memory.PSUM:
        return TRN1.psum_bytes_per_partition
    return TRN1.sbuf_budget_bytes_per_partition


REUSE_DISTANCE = 64
"""Default of `tile-allocate{reuse_distance}` (see `place`)."""


def place(intervals: list[_Interval], memory: Memory, reuse_distance: int = 0) -> int:
    """Greedy-by-size placement; returns the peak bytes per partition. With
    `reuse_distance` D, bytes a buffer frees are not given to a buffer allocated less
    than D program positions later when other bytes are free (lifetimes are padded by D
    for the search, then placed unpadded where the padded search finds no room): the
    next tile of a stream lands beside the last instead of on it, so its load need not
    wait for the last one's readers (rotating buffers, as deep as the budget allows)."""
    placed: list[_Interval] = []
    # Placed intervals by time bucket, so a query meets only those near its lifetime.
    buckets: dict[int, list[_Interval]] = {}
    pad = max(0, reuse_distance)

    def add(iv: _Interval) -> None:
        placed.append(iv)
        for k in range(iv.start // _BUCKET, (iv.end + pad) // _BUCKET + 1):
            buckets.setdefault(k, []).append(iv)

    def overlapping(iv: _Interval, gap: int) -> list[_Interval]:
        seen: dict[int, _Interval] = {}
        for k in range(max(0, iv.start - gap) // _BUCKET, (iv.end + gap) // _BUCKET + 1):
            for p in buckets.get(k, ()):
                if p.start <= iv.end + gap and iv.start <= p.end + gap:
                    seen[id(p)] = p
        return list(seen.values())

    for iv in intervals:
        if iv.op.address is not None:
            iv.offset = iv.op.address.value.data
            add(iv)
    todo = sorted(
        (iv for iv in intervals if iv.offset is None), key=lambda iv: (-iv.size, iv.start)
    )
    capacity = _capacity(memory)
    align = TRN1.psum_alignment if memory is Memory.PSUM else max(1, TRN1.sbuf_alignment)

    def lowest_free(near: list[_Interval], size: int) -> int:
        busy = sorted((p.offset, p.offset + p.size) for p in near if p.offset is not None)
        offset = 0
        for lo, hi in busy:
            if offset + size <= lo:
                break
            if hi > offset:
                offset = hi
                if memory is Memory.PSUM:  # keep power-of-two buffers aligned to their size
                    step = min(size, TRN1.psum_bank_bytes)
                    offset = -(-offset // step) * step
                else:
                    offset = -(-offset // align) * align
        return offset

    for iv in todo:
        near = overlapping(iv, pad)
        offset = lowest_free(near, iv.size)
        if pad and offset + iv.size > capacity:  # no room apart: reuse what was just freed
            near = overlapping(iv, 0)
            offset = lowest_free(near, iv.size)
        if offset + iv.size > capacity:
            live = sum(p.size for p in near)
            raise LoweringError(
                f"tile-allocate: {memory.value} working set does not fit: this "
                f"{iv.size}-byte buffer needs room beside {live} bytes per partition already "
                f"live, of {capacity} (smaller tiles or spilling are not implemented yet)",
                iv.op,
            )
        iv.offset = offset
        add(iv)
    return max((p.offset + p.size for p in placed if p.offset is not None), default=0)


def assign_queues(function: func.FuncOp) -> None:
    load = [0] * TRN1.dma_queues
    for op in function.body.walk():
        if not isinstance(op, tile.DmaOp | tile.DmaGatherOp):
            continue
        size = tile.dma_moved_bytes(op)
        if op.queue is not None:
            load[op.queue.value.data] += size
            continue
        q = min(range(len(load)), key=lambda i: (load[i], i))
        op.properties["queue"] = IntegerAttr(q, i64)
        load[q] += size


@dataclass
class AllocationReport:
    sbuf_peak_bytes_per_partition: int = 0
    psum_peak_bytes_per_partition: int = 0


def allocate(function: func.FuncOp, reuse_distance: int = REUSE_DISTANCE) -> AllocationReport:
    """Place every alloc of `function` and give every DMA a queue."""
    report = AllocationReport()
    for memory, intervals in lifetimes(function).items():
        distance = reuse_distance
        while True:
            try:
                peak = place(intervals, memory, distance)
                break
            except LoweringError:
                if not distance:
                    raise
                # Rotation spread the buffers over so many offsets that a long-lived one
                # finds no bytes free for its whole life: rotate less (down to none).
                for iv in intervals:
                    if iv.op.address is None:
                        iv.offset = None
                distance //= 2
        for iv in intervals:
            op: Operation = iv.op
            assert iv.offset is not None
            op.properties["address"] = IntegerAttr(iv.offset, i64)
            op.properties["start_partition"] = IntegerAttr(0, i64)
            if memory is Memory.PSUM:
                op.properties["bank"] = IntegerAttr(iv.offset // TRN1.psum_bank_bytes, i64)
        if memory is Memory.SBUF:
            report.sbuf_peak_bytes_per_partition = peak
        else:
            report.psum_peak_bytes_per_partition = peak
    assign_queues(function)
    return report


@dataclass(frozen=True)
class TileAllocate(ModulePass):
    """Assign on-chip addresses and DMA queues (see the module docstring)."""

    name = "tile-allocate"

    reuse_distance: int = REUSE_DISTANCE
    """Program positions within which freed bytes are not reused while others are free
    (`place`); 0 packs as tightly as greedy-by-size can."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.ops:
            if isinstance(function, func.FuncOp) and not function.is_declaration:
                allocate(function, self.reuse_distance)
