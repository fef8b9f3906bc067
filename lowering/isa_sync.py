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
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ArrayAttr, ModuleOp
from xdsl.passes import ModulePass

from trnc.dialects import trn_isa as isa
from trnc.dialects.isa_common import byte_size
from trnc.dialects.trn_isa.access_pattern import AccessPatternAttr
from trnc.dialects.trn_isa.attrs import SemaphoreAttr, SemWaitAttr

_BLOCK = {"hbm": 1 << 16, "sbuf": 2048, "psum": 2048}
"""Bucket size (bytes) of the access index, per memory."""


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
    if isinstance(op, isa.DmaCopyOp):
        return f"dma{op.queue.value.data}"
    engine = op.properties["engine"]
    return str(engine.data.value)


def insert_sync(program: isa.ProgramOp) -> int:
    """Rewrite the waits and signals of `program`; returns the number of waits added."""
    instrs = program.instructions()
    queues: dict[str, int] = {}
    for op in instrs:
        queues.setdefault(queue_name(op), len(queues))
    nq = len(queues)
    known: list[list[int]] = [[0] * nq for _ in range(nq)]
    """known[q][r]: instructions of queue r known complete before q's next instruction."""
    count = [0] * nq
    clocks: dict[tuple[int, int], list[int]] = {}
    """(queue, position) -> what that instruction's queue knew when it completed."""
    buckets: dict[tuple[str, int], dict[int, list[tuple[int, bool, Box]]]] = {}
    """(memory, block) -> per queue, its accesses there in program order (pos, write, box)."""
    names = list(queues)
    last = {queues[queue_name(op)]: i for i, op in enumerate(instrs)}
    added = 0
    for index, op in enumerate(instrs):
        q = queues[queue_name(op)]
        accesses = [(True, box(ap)) for _, ap in op.writes()] + [
            (False, box(ap)) for _, ap in op.reads()
        ]
        need = [0] * nq
        for is_write, b in accesses:
            size = _BLOCK[b.memory]
            for block in range(b.lo // size, (b.hi - 1) // size + 1):
                for r, entries in buckets.get((b.memory, block), {}).items():
                    if r == q:
                        continue
                    floor = max(known[q][r], need[r])
                    # newest first: the first conflict is the one to wait for, and
                    # anything at or below `floor` is already ordered
                    for pos, other_write, ob in reversed(entries):
                        if pos <= floor:
                            break
                        if (is_write or other_write) and b.overlaps(ob):
                            need[r] = pos
                            break
        waits = []
        wanted = [r for r in range(nq) if need[r] > known[q][r]]
        # a wait another wait already implies (transitively) is dropped
        implied = {
            r for r in wanted for r2 in wanted if r2 != r and clocks[(r2, need[r2])][r] >= need[r]
        }
        for r in wanted:
            if r in implied:
                continue
            waits.append(SemWaitAttr(SemaphoreAttr(names[r], 0), need[r]))
            known[q] = [max(a, c) for a, c in zip(known[q], clocks[(r, need[r])], strict=True)]
            added += 1
        count[q] += 1
        known[q][q] = count[q]
        clocks[(q, count[q])] = list(known[q])
        op.properties["waits"] = ArrayAttr(waits)
        op.properties["signals"] = ArrayAttr([SemaphoreAttr(names[q], 0)])
        for is_write, b in accesses:
            size = _BLOCK[b.memory]
            for block in range(b.lo // size, (b.hi - 1) // size + 1):
                per_queue = buckets.setdefault((b.memory, block), {})
                per_queue.setdefault(q, []).append((count[q], is_write, b))
        if index % 256 == 255:
            _prune(buckets, known, [r for r in range(nq) if last[r] > index])
    return added


def _prune(
    buckets: dict[tuple[str, int], dict[int, list[tuple[int, bool, Box]]]],
    known: list[list[int]],
    active: list[int],
) -> None:
    """Drop accesses every queue with instructions left already knows complete (they can
    order nothing new)."""
    if not active:
        return
    floor = [min(known[q][r] for q in active) for r in range(len(known))]
    for key, per_queue in list(buckets.items()):
        for r, entries in list(per_queue.items()):
            kept = [e for e in entries if e[0] > floor[r]]
            if kept:
                per_queue[r] = kept
            else:
                del per_queue[r]
        if not per_queue:
            del buckets[key]


class IsaInsertSync(ModulePass):
    """Insert semaphore waits and signals into every `trn_isa.program`."""

    name = "isa-insert-sync"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for program in op.walk():
            if isinstance(program, isa.ProgramOp):
                insert_sync(program)
