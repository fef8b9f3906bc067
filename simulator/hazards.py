"""Race detection (trn1.md A.4): `check_races(program, schedule)`.

Happens-before (HB) is program order within a queue plus semaphore edges: an instruction
that waits for `sem >= v` happens after the first `v` increments of `sem` (in the order
they landed, `Schedule.signal_order`; the v-th is `Schedule.wait_sources`), transitively.
It is tracked with one vector clock per instruction (component q = how many instructions
of queue q happen before or at it), computed in order of start time, which every HB edge
respects (a waiter starts after the signal it waited for is visible).

Race: two accesses from different queues to a common byte, at least one a write (RAW,
WAW, or WAR: a write to bytes another queue still reads), with no HB between them. The
error names the two instructions in program order (the order the author intended), the
later one first, and classifies the pair in that order.
Bytes are compared exactly: partition range x the free bytes of the access patterns,
strided patterns as their contiguous runs (`footprint.py`), so interleaved disjoint
strided accesses are not races. Checking a new access against every earlier access
still live (not only the last writer) gives the same answer as a last-writer shadow
memory up to the first race, because an overwritten access is HB-before its overwriter.

Speed: live accesses are bucketed by memory and address block; an access is dropped once
the next instruction of every queue with work left happens after it (the schedule gives
all clocks up front, so the bound is exact, not "every queue has issued since").
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from itertools import pairwise

from trnc.simulator.errors import RaceError
from trnc.simulator.footprint import MEM_IDS, Footprint, accesses, describe, overlap
from trnc.simulator.program import QUEUE_NAMES, Program
from trnc.simulator.timing import Schedule

_SHIFT = {MEM_IDS["hbm"]: 20, MEM_IDS["sbuf"]: 9, MEM_IDS["psum"]: 9}
"""log2 of the address-block size of the buckets, per memory."""
_MAX_BUCKETS = 64
"""An access spanning more blocks goes to its memory's 'wide' list instead."""
_PRUNE_EVERY = 64
STEP = 32
"""Instructions checked between two yields of `race_check_steps`."""

# A live access: (instruction, its queue's clock component, 1-based position in its queue,
# is_write, footprint).
_Access = tuple[int, int, int, bool, Footprint]


def queue_slots(program: Program) -> list[int]:
    """Per queue, its component in the vector clocks: only queues with instructions have
    one (-1 otherwise), so that clocks are as short as the program allows (a kernel uses a
    few of the 20 queues, and joining clocks is most of the work)."""
    slots = [-1] * len(QUEUE_NAMES)
    for k, q in enumerate(sorted({ins.queue for ins in program.instrs})):
        slots[q] = k
    return slots


def vector_clocks(program: Program, schedule: Schedule) -> list[tuple[int, ...]]:
    """The HB vector clock of every instruction (see the module docstring), with one
    component per queue that has instructions (`queue_slots`)."""
    slots = queue_slots(program)
    nq = max(slots) + 1
    instrs = program.instrs
    n = len(instrs)
    order = sorted(range(n), key=lambda i: (schedule.start_ns[i], i))
    clocks: list[tuple[int, ...]] = [()] * n
    qclock: list[tuple[int, ...]] = [(0,) * nq for _ in range(nq)]
    prefix: list[list[tuple[int, ...]]] = [[(0,) * nq] for _ in program.semaphore_names]
    # A semaphore incremented by one queue only, in its program order (the usual case):
    # the first v increments happen before the v-th incrementer, whose clock is already
    # their join (clocks grow along a queue), so no prefix join is needed.
    one_queue = [_one_queue(program, incs) for incs in schedule.signal_order]
    for i in order:
        ins = instrs[i]
        q = slots[ins.queue]
        vc = qclock[q]
        for sem, v in ins.waits:
            if v <= 0:
                continue
            incs = schedule.signal_order[sem]
            if one_queue[sem]:
                other = clocks[incs[v - 1]]
                r = slots[instrs[incs[v - 1]].queue]
                if vc[r] >= other[r]:  # already known to happen before: nothing to add
                    continue
            else:
                pre = prefix[sem]
                while len(pre) <= v:
                    pre.append(tuple(map(max, pre[-1], clocks[incs[len(pre) - 1]])))
                other = pre[v]
            vc = tuple(map(max, vc, other))
        vc = (*vc[:q], vc[q] + 1, *vc[q + 1 :])
        qclock[q] = vc
        clocks[i] = vc
    return clocks


def _one_queue(program: Program, incs: list[int]) -> bool:
    """Whether the increments `incs` (in landing order) all come from one queue, in its
    program order."""
    if not incs:
        return True
    queue = program.instrs[incs[0]].queue
    return all(program.instrs[b].queue == queue and a < b for a, b in pairwise(incs))


def happens_before(clocks: list[tuple[int, ...]], program: Program, a: int, b: int) -> bool:
    """Whether instruction `a` happens before (or is) instruction `b`."""
    qa = queue_slots(program)[program.instrs[a].queue]
    return clocks[b][qa] >= clocks[a][qa]


def check_races(program: Program, schedule: Schedule) -> None:
    """Raise `RaceError` for the first pair of conflicting accesses not ordered by HB."""
    enabled = gc.isenabled()
    gc.disable()  # no reference cycles are made; see timing.schedule
    try:
        for _ in race_check_steps(program, schedule):
            pass
    finally:
        if enabled:
            gc.enable()


def race_check_steps(program: Program, schedule: Schedule) -> Iterator[None]:
    """`check_races` in steps: yields after every `STEP` instructions checked, so a caller
    can interleave other work (`simulate` runs parked instructions between steps); raises
    `RaceError` like `check_races`."""
    instrs = program.instrs
    n = len(instrs)
    if n == 0:
        return
    slots = queue_slots(program)
    nq = max(slots) + 1
    clocks = vector_clocks(program, schedule)
    order = sorted(range(n), key=lambda i: (schedule.start_ns[i], i))

    # Per queue (by clock component): its instructions in program order, and how many
    # were processed.
    per_queue: list[list[int]] = [[] for _ in range(nq)]
    for ins in instrs:
        per_queue[slots[ins.queue]].append(ins.index)
    done = [0] * nq

    # Live accesses by number; buckets keyed (memory, block, is_write) hold numbers, so a
    # read only meets writes. Accesses spanning too many blocks go to `wide`.
    recs: dict[int, _Access] = {}
    buckets: dict[tuple[int, int, bool], list[int]] = {}
    wide: dict[tuple[int, bool], list[int]] = {}
    counter = 0

    def add(k: int, acc: _Access) -> None:
        fp = acc[4]
        w = acc[3]
        shift = _SHIFT[fp.mem]
        b0, b1 = fp.lo >> shift, (fp.hi - 1) >> shift
        if b1 - b0 >= _MAX_BUCKETS:
            wide.setdefault((fp.mem, w), []).append(k)
            return
        for b in range(b0, b1 + 1):
            buckets.setdefault((fp.mem, b, w), []).append(k)

    def candidates(fp: Footprint, is_write: bool) -> list[_Access]:
        shift = _SHIFT[fp.mem]
        mem = fp.mem
        b0, b1 = fp.lo >> shift, (fp.hi - 1) >> shift
        kinds = (True, False) if is_write else (True,)
        if b1 - b0 >= _MAX_BUCKETS:
            return [a for a in recs.values() if a[4].mem == mem and (is_write or a[3])]
        found: set[int] = set()
        for w in kinds:
            found.update(wide.get((mem, w), ()))
            for b in range(b0, b1 + 1):
                bucket = buckets.get((mem, b, w))
                if bucket:
                    found.update(bucket)
        return [recs[k] for k in found]

    def prune() -> None:
        floor = [n + 1] * nq
        for r in range(nq):
            if done[r] < len(per_queue[r]):
                nxt = clocks[per_queue[r][done[r]]]
                floor = [min(x, y) for x, y in zip(floor, nxt, strict=True)]
        kept = {k: acc for k, acc in recs.items() if floor[acc[1]] < acc[2]}
        recs.clear()
        recs.update(kept)
        buckets.clear()
        wide.clear()
        for k, acc in kept.items():
            add(k, acc)

    for step, i in enumerate(order):
        ins = instrs[i]
        q = slots[ins.queue]
        vc = clocks[i]
        mine: list[_Access] = []
        for fp, is_write in accesses(ins):
            for acc in candidates(fp, is_write):
                j, qj, pos, other_write, ofp = acc
                if qj == q or vc[qj] >= pos:
                    continue
                if ofp.plo >= fp.phi or fp.plo >= ofp.phi:
                    continue
                if ofp.lo >= fp.hi or fp.lo >= ofp.hi:
                    continue
                common = overlap(fp, ofp)
                if common is not None:
                    _raise_race(program, i, j, is_write, other_write, common, fp.mem)
            mine.append((i, q, vc[q], is_write, fp))
        for acc in mine:
            recs[counter] = acc
            add(counter, acc)
            counter += 1
        done[q] += 1
        if step % _PRUNE_EVERY == _PRUNE_EVERY - 1:
            prune()
        if step % STEP == STEP - 1:
            yield


def _raise_race(
    program: Program,
    later: int,
    earlier: int,
    later_writes: bool,
    earlier_writes: bool,
    common: tuple[int, int, int, int],
    mem: int,
) -> None:
    if later < earlier:  # name them in program order: the intended order
        later, earlier = earlier, later
        later_writes, earlier_writes = earlier_writes, later_writes
    a, b = program.instrs[later], program.instrs[earlier]
    where = describe(mem, *common)
    if later_writes and earlier_writes:
        kind, verb, other = "WAW", "writes", "also written by"
    elif later_writes:
        kind, verb, other = "WAR", "writes", "still read by"
    else:
        kind, verb, other = "RAW", "reads", "written by"
    raise RaceError(
        f"{kind}: instruction #{later} {a.opcode} on {QUEUE_NAMES[a.queue]} {verb} {where}, "
        f"{other} instruction #{earlier} {b.opcode} on {QUEUE_NAMES[b.queue]} ({b.loc}), "
        "and no chain of semaphore waits orders the two",
        instrs=(later, earlier),
        locs=(a.loc, b.loc),
    )
