"""The `tile-allocate` pass: decide every on-chip address and every DMA queue of a tile
function, recorded on the IR (`tile.alloc address ... start_partition ... bank ...`,
`tile.dma ... queue q`). Decisions already present are kept (and avoided).

Addresses: a buffer is live from its `tile.alloc` to its last use (or `tile.dealloc`), in
program order of the top-level ops: a buffer used inside an `scf.for` is live for the
whole loop, and an alloc inside a loop is live for all of it, with `depth` slots that its
runs rotate over (`choose_depth`: a load from HBM in a loop gets `STREAM_DEPTH`, a PSUM
buffer as many slots as fill two banks (2 to 8), any other buffer in a loop 2), so the
next iteration's DMA need not wait for this one's readers.
Buffers whose lifetimes overlap get disjoint byte ranges of each partition (all tiles
start at partition 0 in this version). Placement is offline greedy-by-size
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
number), spreading transfers over the 16 queues so their fixed latencies overlap; a DMA in
a loop rotates over up to 16 consecutive queues (`queue q queues Q`).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass

from trnc.dialects import tile
from trnc.dialects.tile.memory_ops import footprint_bytes, slot_bytes
from trnc.dialects.tile.types import BufferType
from trnc.lowering.tile_loops import runs, top_level
from trnc.lowering.tile_to_isa import LoweringError, buffer_roots
from trnc.machine import TRN1, Memory
from trnc.pass_statistics import record

REUSE_DISTANCE = 64
"""Default of `tile-allocate{reuse_distance}` (see `place`)."""
STREAM_DEPTH = 8
"""Default slots of a buffer that a DMA in a loop loads from HBM: a transfer's fixed
latency (trn1.md A.3, `TRN1.dma_fixed_latency_ns`, 1.3 us) is about four 128x512 matmuls
of TensorE, so four loads in flight would keep it fed if nothing else delayed them; with
the row blocks of a matmul a loop (a load per K block of x in it), eight measured better
(bf16 simulated, 4 -> 8 slots: GEMM 1024^3 43.2 -> 41.6 us, 2048^3 226.2 -> 225.2 us,
one BERT layer at batch 4 x seq 512 872.2 -> 869.6 us, BERT-base the same)."""
MAX_DEPTH = 8
"""Most slots any buffer in a loop gets (halved when the working set does not fit)."""


@dataclass
class _Interval:
    op: tile.AllocOp
    size: int
    start: int
    end: int
    offset: int | None = None
    depth: int = 1
    align: int = 1


def _size(buf: BufferType) -> int:
    layout = buf.layout
    assert isinstance(layout, tile.LayoutAttr)
    return layout.bytes_per_partition(buf.get_shape(), buf.element_type)


def _streamed(op: tile.AllocOp) -> bool:
    """Written by a DMA from HBM (a streamed operand, whose loads should run ahead)."""
    for use in op.result.uses:
        user = use.operation
        if isinstance(user, tile.DmaOp) and user.dest is op.result:
            source = user.source.type
            if isinstance(source, BufferType) and source.memory.data is Memory.HBM:
                return True
    return False


def choose_depth(op: tile.AllocOp, cap: int) -> int:
    """Rotating slots of an alloc inside loops (1 outside any): `STREAM_DEPTH` for a
    buffer a DMA loads from HBM; for a PSUM buffer as many as fill two banks, 2 to 8
    (TensorE runs ahead of the evacuations; measured on BERT-base: 4 slots 1,286.6 us,
    8 slots 1,273.9 us); 2 for any other (so the next iteration's writer need not wait
    for this one's readers); never more than the runs per entry of its top-level op or
    `cap`. A depth given beforehand is kept (an override)."""
    if op.depth is not None:
        return op.depth_value()
    count = runs(op, unknown=2)
    if count <= 1:
        return 1
    want = 2
    buf = op.result.type
    assert isinstance(buf, BufferType)
    if _streamed(op):
        want = STREAM_DEPTH
    elif buf.memory.data is Memory.PSUM:  # as many slots as fill two banks, up to 8
        want = max(2, min(MAX_DEPTH, 2 * TRN1.psum_bank_bytes // slot_bytes(buf)))
    return max(1, min(count, cap, want))


def lifetimes(function: func.FuncOp, depth_cap: int = MAX_DEPTH) -> dict[Memory, list[_Interval]]:
    """Per on-chip memory, each alloc's [first, last] position in program order, counted
    in top-level ops: a use inside a loop keeps the buffer live for the whole loop, and
    every alloc inside a loop lives for all of it (its runs rotate over its `depth`
    slots, which `size` covers)."""
    block = function.body.block
    top = {op: i for i, op in enumerate(block.ops)}

    root = buffer_roots(
        function, [op.result for op in function.body.walk() if isinstance(op, tile.AllocOp)]
    )
    intervals: dict[SSAValue, _Interval] = {}
    for op in function.body.walk():
        index = top[top_level(op, block)]
        if isinstance(op, tile.AllocOp):
            buf = op.result.type
            assert isinstance(buf, BufferType)
            depth = choose_depth(op, depth_cap)
            slot = slot_bytes(buf)
            if buf.memory.data is Memory.PSUM:  # power-of-two slots, aligned to their size
                size, align = slot * depth, min(slot, TRN1.psum_bank_bytes)
            else:
                size, align = footprint_bytes(buf, depth), max(1, TRN1.sbuf_alignment)
            intervals[op.result] = _Interval(op, size, index, index, depth=depth, align=align)
        for operand in op.operands:
            r = root.get(operand)
            if r is not None:
                intervals[r].end = max(intervals[r].end, index)
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

    def lowest_free(near: list[_Interval], size: int, align: int) -> int:
        busy = sorted((p.offset, p.offset + p.size) for p in near if p.offset is not None)
        offset = 0
        for lo, hi in busy:
            if offset + size <= lo:
                break
            if hi > offset:
                offset = -(-hi // align) * align
        return offset

    for iv in todo:
        near = overlapping(iv, pad)
        offset = lowest_free(near, iv.size, iv.align)
        if pad and offset + iv.size > capacity:  # no room apart: reuse what was just freed
            near = overlapping(iv, 0)
            offset = lowest_free(near, iv.size, iv.align)
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
    """Each DMA to the queue with the fewest bytes so far; a DMA in loops that runs R
    times to the window of Q = min(R, 16) consecutive queues with the fewest, rotating
    over them (`queues`)."""
    n = TRN1.dma_queues
    load = [0] * n
    for op in function.body.walk():
        if not isinstance(op, tile.DmaOp | tile.DmaGatherOp):
            continue
        count = runs(op, unknown=2)
        size = tile.dma_moved_bytes(op) * count
        given = op.queues.value.data if isinstance(op, tile.DmaOp) and op.queues else 1
        if op.queue is not None:
            for q in range(op.queue.value.data, op.queue.value.data + given):
                load[q] += size // given
            continue
        width = min(count, n) if isinstance(op, tile.DmaOp) else 1
        base = min(range(n - width + 1), key=lambda i: (sum(load[i : i + width]), i))
        op.properties["queue"] = IntegerAttr(base, i64)
        if width > 1:
            op.properties["queues"] = IntegerAttr(width, i64)
        for q in range(base, base + width):
            load[q] += size // width


@dataclass
class AllocationReport:
    sbuf_peak_bytes_per_partition: int = 0
    psum_peak_bytes_per_partition: int = 0


def allocate(function: func.FuncOp, reuse_distance: int = REUSE_DISTANCE) -> AllocationReport:
    """Place every alloc of `function` and give every DMA a queue."""
    report = AllocationReport()
    by_cap = {MAX_DEPTH: lifetimes(function)}
    for memory in (Memory.SBUF, Memory.PSUM):
        distance, cap = reuse_distance, MAX_DEPTH
        while True:
            if cap not in by_cap:
                by_cap[cap] = lifetimes(function, cap)
            intervals = by_cap[cap][memory]
            for iv in intervals:
                if iv.op.address is None:
                    iv.offset = None
            try:
                peak = place(intervals, memory, distance)
                break
            except LoweringError:
                if not distance and cap == 1:
                    raise
                # Rotation spread the buffers over so many offsets that a long-lived one
                # finds no bytes free for its whole life: rotate less (down to none),
                # then take fewer slots for buffers in loops.
                if distance:
                    distance //= 2
                else:
                    cap //= 2
        for iv in intervals:
            op: tile.AllocOp = iv.op
            assert iv.offset is not None
            op.properties["address"] = IntegerAttr(iv.offset, i64)
            op.properties["start_partition"] = IntegerAttr(0, i64)
            if iv.depth > 1:
                op.properties["depth"] = IntegerAttr(iv.depth, i64)
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
                report = allocate(function, self.reuse_distance)
                sbuf = report.sbuf_peak_bytes_per_partition
                psum = report.psum_peak_bytes_per_partition
                record(self.name, "sbuf-peak", sbuf, "SBUF bytes per partition at the peak")
                record(self.name, "psum-peak", psum, "PSUM bytes per partition at the peak")
