"""The `isa-insert-sync` pass: semaphore waits and signals that make a `trn_isa.program`
race-free, in program order (trn1.md A.4).

Input: a program whose instructions have queues but no waits or signals (existing ones are
replaced). Program order is the intended order. Every instruction signals semaphore `s0`
of its own queue, so after the n-th instruction of queue `q` completes, `q.s0 >= n`.
An instruction waits `r.s0 >= n` for the latest instruction `n` of another queue `r` it
conflicts with (a byte both touch, at least one writing: RAW, WAR, WAW) unless that order
is already implied: each queue's knowledge is a vector clock (how many instructions of
each queue are known complete), merged transitively through the instructions it waited
for, so a wait is only added when it is needed. Same-queue order needs no semaphore
(queues are in order). Overlap is tested on each access's bounding box (partition range x
byte range), which is conservative: a needless wait costs time, never correctness.

Speed: near-linear in the number of instructions. Earlier accesses are found through an
index by address block (`_Index`) in which an access costs at most `_MAX_BLOCKS` + 1 entries
however many bytes its box spans (an HBM tile whose rows lie a whole tensor row apart
spans the tensor: filing it under every 64 KiB block made one Relu over 128 x 1e6 take
over 90 s); scans run newest first and stop at what the queue already knows complete;
entries every queue with work left knows complete are pruned whenever the index doubles.
`tests/lowering/test_isa_sync.py` checks the waits against the definition computed the
slow way; `benchmarks/sync_scale.py` measures the scaling.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import TypeVar

from xdsl.context import Context
from xdsl.dialects.builtin import ArrayAttr, ModuleOp
from xdsl.passes import ModulePass

from trnc.dialects import trn_isa as isa
from trnc.dialects.isa_common import byte_size
from trnc.dialects.trn_isa.access_pattern import AccessPatternAttr
from trnc.dialects.trn_isa.attrs import SemaphoreAttr, SemWaitAttr
from trnc.pass_statistics import record

_BLOCK = {"hbm": 1 << 16, "sbuf": 2048, "psum": 2048}
"""Block size (bytes) of the access index, per memory."""
_MAX_BLOCKS = 64
"""An access spanning more blocks than this is indexed as 'wide' (see `_Index`)."""
_PRUNE_MIN = 4096
"""Index entries before the first pruning; later ones come when the index has doubled."""


@dataclass(frozen=True)
class Box:
    """An access's bounding box: memory, partitions [plo, phi), bytes [lo, hi)."""

    memory: str
    plo: int
    phi: int
    lo: int
    hi: int

    def overlaps(self, other: Box) -> bool:
        return (
            self.memory == other.memory
            and self.plo < other.phi
            and other.plo < self.phi
            and self.lo < other.hi
            and other.lo < self.hi
        )


def box(ap: AccessPatternAttr) -> Box:
    """The bounding box of an access pattern."""
    eb = byte_size(ap.dtype)
    dims = [(s.data, c.data) for s, c in zip(ap.steps.data, ap.counts.data, strict=True)]
    lo = sum(min(0, s * (c - 1)) for s, c in dims) * eb
    hi = (sum(max(0, s * (c - 1)) for s, c in dims) + 1) * eb
    memory = ap.memory.data.value
    pcount = ap.partition_count.data
    if memory == "hbm":
        pstep = ap.partition_step.data * eb
        lo += ap.offset.data + min(0, pstep * (pcount - 1))
        hi += ap.offset.data + max(0, pstep * (pcount - 1))
        return Box(memory, 0, 1, lo, hi)
    start = ap.partition_start.data
    return Box(memory, start, start + pcount, ap.offset.data + lo, ap.offset.data + hi)


def queue_name(op: isa.InstructionOp) -> str:
    """The queue an instruction is issued to: an engine name or `dma<q>`."""
    if isinstance(op, isa.DmaQueueOp):
        return f"dma{op.queue_index}"
    engine = op.properties["engine"]
    return str(engine.data.value)


Entry = tuple[int, int, int, int, int]
"""An indexed access: (1-based position in its queue, plo, phi, lo, hi) of its box."""
PerQueue = dict[int, list[Entry]]
"""Queue -> its entries, in program order."""


class _Index:
    """The accesses of the instructions seen so far, by memory and kind (write or read),
    for one question: per other queue, the newest access that conflicts with a new one.

    An access spanning at most `_MAX_BLOCKS` blocks of its memory (`_BLOCK`) is filed
    under each of them; a wider one (HBM tiles with a long row stride span the whole
    tensor) under its memory only. A narrow access looks in its blocks and among the wide
    ones; a wide one among all the accesses of its memory (`every`). So each access costs
    at most `_MAX_BLOCKS` lookups whatever its size; the lookup's scans run newest first
    and stop at the first conflict or at what the asking queue already knows complete.
    """

    def __init__(self) -> None:
        self.blocks: dict[tuple[str, int, bool], PerQueue] = {}
        self.wide: dict[tuple[str, bool], PerQueue] = {}
        self.every: dict[tuple[str, bool], PerQueue] = {}
        self.size = 0
        """Entries stored (an access filed under several blocks counts once per block)."""

    def places(self, b: Box, is_write: bool) -> list[PerQueue]:
        """Where accesses of kind `is_write` that may overlap `b` are filed."""
        size = _BLOCK[b.memory]
        first, last = b.lo // size, (b.hi - 1) // size
        if last - first >= _MAX_BLOCKS:
            found = self.every.get((b.memory, is_write))
            return [found] if found else []
        places = [self.blocks.get((b.memory, k, is_write)) for k in range(first, last + 1)]
        places.append(self.wide.get((b.memory, is_write)))
        return [p for p in places if p]

    def add(self, q: int, pos: int, is_write: bool, b: Box) -> None:
        entry = (pos, b.plo, b.phi, b.lo, b.hi)
        size = _BLOCK[b.memory]
        first, last = b.lo // size, (b.hi - 1) // size
        kind = (b.memory, is_write)
        self.every.setdefault(kind, {}).setdefault(q, []).append(entry)
        if last - first >= _MAX_BLOCKS:
            self.wide.setdefault(kind, {}).setdefault(q, []).append(entry)
            self.size += 2
            return
        for k in range(first, last + 1):
            self.blocks.setdefault((b.memory, k, is_write), {}).setdefault(q, []).append(entry)
        self.size += last - first + 2

    def prune(self, floor: list[int]) -> None:
        """Drop the entries of queue r at positions <= floor[r] (no queue that still has
        instructions can be ordered by them any more)."""
        self.size = (
            _prune(self.blocks, floor) + _prune(self.wide, floor) + _prune(self.every, floor)
        )


K = TypeVar("K")


def _prune(table: dict[K, PerQueue], floor: list[int]) -> int:
    """`_Index.prune` on one table; returns the number of entries kept."""
    kept = 0
    for key, per_queue in list(table.items()):
        for r, entries in list(per_queue.items()):
            cut = bisect_right(entries, floor[r], key=_position)
            if cut == len(entries):
                del per_queue[r]
                continue
            if cut:
                del entries[:cut]
            kept += len(entries)
        if not per_queue:
            del table[key]
    return kept


def _position(entry: Entry) -> int:
    return entry[0]


def _newest_overlap(entries: list[Entry], floor: int, b: Box) -> int:
    """The position of the newest entry above `floor` whose box overlaps `b`, or 0."""
    plo, phi, lo, hi = b.plo, b.phi, b.lo, b.hi
    for k in range(len(entries) - 1, -1, -1):
        pos, eplo, ephi, elo, ehi = entries[k]
        if pos <= floor:
            return 0
        if eplo < phi and plo < ephi and elo < hi and lo < ehi:
            return pos
    return 0


def insert_sync(program: isa.ProgramOp) -> int:
    """Rewrite the waits and signals of `program`; returns the number of waits added."""
    instrs = program.instructions()
    queues: dict[str, int] = {}
    for op in instrs:
        queues.setdefault(queue_name(op), len(queues))
    nq = len(queues)
    names = list(queues)
    last = [0] * nq
    for i, op in enumerate(instrs):
        last[queues[queue_name(op)]] = i
    known: list[list[int]] = [[0] * nq for _ in range(nq)]
    """known[q][r]: instructions of queue r known complete before q's next instruction."""
    clocks: list[list[tuple[int, ...]]] = [[] for _ in range(nq)]
    """clocks[q][n - 1]: what queue q knew when its n-th instruction completed."""
    index = _Index()
    next_prune = _PRUNE_MIN
    sems = [SemaphoreAttr(name, 0) for name in names]
    signal = [ArrayAttr([sem]) for sem in sems]
    no_waits: ArrayAttr[SemWaitAttr] = ArrayAttr(())

    added = 0
    for i, op in enumerate(instrs):
        q = queues[queue_name(op)]
        accesses = [(True, box(ap)) for _, ap in op.writes()] + [
            (False, box(ap)) for _, ap in op.reads()
        ]
        mine = known[q]
        need = [0] * nq
        for is_write, b in accesses:
            # a write conflicts with earlier writes and reads, a read with writes only
            for kind in (True, False) if is_write else (True,):
                for per_queue in index.places(b, kind):
                    for r, entries in per_queue.items():
                        if r != q:
                            floor = mine[r] if mine[r] > need[r] else need[r]
                            pos = _newest_overlap(entries, floor, b)
                            if pos:
                                need[r] = pos
        wanted = [r for r in range(nq) if need[r] > mine[r]]
        # a wait another wait already implies (transitively) is dropped
        implied = {
            r for r in wanted for r2 in wanted if r2 != r and clocks[r2][need[r2] - 1][r] >= need[r]
        }
        waits = []
        for r in wanted:
            if r in implied:
                continue
            waits.append(SemWaitAttr(sems[r], need[r]))
            mine = [max(a, c) for a, c in zip(mine, clocks[r][need[r] - 1], strict=True)]
            added += 1
        pos = len(clocks[q]) + 1
        mine[q] = pos
        known[q] = mine
        clocks[q].append(tuple(mine))
        op.properties["waits"] = ArrayAttr(waits) if waits else no_waits
        op.properties["signals"] = signal[q]
        for is_write, b in accesses:
            index.add(q, pos, is_write, b)
        if index.size >= next_prune:
            active = [r for r in range(nq) if last[r] > i]
            if active:
                index.prune([min(known[a][r] for a in active) for r in range(nq)])
            next_prune = max(_PRUNE_MIN, 2 * index.size)
    return added


class IsaInsertSync(ModulePass):
    """Insert semaphore waits and signals into every `trn_isa.program`."""

    name = "isa-insert-sync"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for program in op.walk():
            if isinstance(program, isa.ProgramOp):
                waits = insert_sync(program)
                record(self.name, "waits", waits, "semaphore waits added")
