"""Race detection (trn1.md A.4): `check_races(program, schedule)`.

Happens-before (HB) is program order within a queue plus semaphore edges, transitively.
A wait for `sem >= v` happens after the increments of `sem` that have landed in *every*
execution once `sem` reaches v, whatever the durations: not "the first v in the order
the schedule landed them", which would make the verdict follow the modelled durations
when several queues increment `sem`. One queue's increments land in its program order,
so per signalling queue r the wait is after r's first `v - m` increments, where m is the
most the other queues can land before the waiter (`_guaranteed`): all their increments,
less those of the waiter's own queue from the waiter on and those of instructions that
happen after the waiter (found by iterating to a fixed point). With one signalling queue
(what `isa-insert-sync` emits) that is its first v increments.
It is tracked with one vector clock per instruction (component q = how many instructions
of queue q happen before or at it), computed in order of start time, which every HB edge
respects (a waiter starts after the increments it is ordered after are visible).

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
from bisect import bisect_left
from collections.abc import Iterator

from trnc.simulator.errors import RaceError
from trnc.simulator.footprint import MEM_IDS, Footprint, accesses, describe, overlap
from trnc.simulator.program import QUEUE_NAMES, Program
from trnc.simulator.timing import Schedule

_SHIFT = {MEM_IDS["hbm"]: 20, MEM_IDS["sbuf"]: 9, MEM_IDS["psum"]: 9}
"""log2 of the address-block size of the buckets, per memory."""
_MAX_BUCKETS = 64
"""An access spanning more blocks goes to its memory's 'wide' list instead."""
_PRUNE_EVERY = 64

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
    component per queue that has instructions (`queue_slots`). The schedule only gives
    an order to compute them in; the clocks depend on the program alone."""
    slots = queue_slots(program)
    order = sorted(range(len(program.instrs)), key=lambda i: (schedule.start_ns[i], i))
    increments = _increments(program, slots)
    clocks = _clocks(program, slots, order, increments, None)
    if all(len(by_queue) <= 1 for by_queue in increments):
        return clocks
    # A semaphore several queues increment: a wait may only count on increments that can
    # land before it, and those of instructions that happen after it cannot. Each round
    # knows more of those (from the last round's clocks) and adds edges, never removes one.
    while True:
        again = _clocks(program, slots, order, increments, clocks)
        if again == clocks:
            return clocks
        clocks = again


def _increments(program: Program, slots: list[int]) -> list[dict[int, list[int]]]:
    """Per semaphore, per queue slot: the instructions of that queue that increment it, in
    program order (an instruction signalling it twice is there twice)."""
    found: list[dict[int, list[int]]] = [{} for _ in program.semaphore_names]
    for ins in program.instrs:
        for sem in ins.signals:
            found[sem].setdefault(slots[ins.queue], []).append(ins.index)
    return found


def _clocks(
    program: Program,
    slots: list[int],
    order: list[int],
    increments: list[dict[int, list[int]]],
    before: list[tuple[int, ...]] | None,
) -> list[tuple[int, ...]]:
    """One round of `vector_clocks`, in `order` (a topological order of HB); `before`:
    the previous round's clocks (None in the first round)."""
    instrs = program.instrs
    nq = max(slots) + 1
    clocks: list[tuple[int, ...]] = [()] * len(instrs)
    qclock: list[tuple[int, ...]] = [(0,) * nq for _ in range(nq)]
    # A semaphore one queue increments (the usual case): its v-th increment, inline.
    single = [next(iter(b.items())) if len(b) == 1 else None for b in increments]
    for i in order:
        ins = instrs[i]
        q = slots[ins.queue]
        vc = qclock[q]
        for sem, v in ins.waits:
            if v <= 0:
                continue
            only = single[sem]
            if only is not None:
                r, incs = only
                if r != q:
                    other = clocks[incs[min(v, len(incs)) - 1]]
                    if vc[r] < other[r]:  # else already known to happen before
                        vc = tuple(map(max, vc, other))
                continue
            for r, j in _guaranteed(increments[sem], v, i, q, vc[q] + 1, before):
                other = clocks[j]
                if r != q and vc[r] < other[r]:
                    vc = tuple(map(max, vc, other))
        vc = (*vc[:q], vc[q] + 1, *vc[q + 1 :])
        qclock[q] = vc
        clocks[i] = vc
    return clocks


def _guaranteed(
    by_queue: dict[int, list[int]],
    v: int,
    waiter: int,
    q: int,
    position: int,
    before: list[tuple[int, ...]] | None,
) -> Iterator[tuple[int, int]]:
    """(queue slot, instruction): per signalling queue, its last increment that has landed
    in every execution where the semaphore reaches `v` before instruction `waiter` (the
    `position`-th of queue slot `q`) starts.

    Increments of one queue land in its program order. The other queues can contribute at
    most what they can land before the waiter: the waiter's own queue, its increments from
    instructions before it; another queue, all of them except those of instructions that
    happen after the waiter (by `before`, the previous round's clocks: such an
    instruction's clock counts the waiter in component q). So queue r has landed at least
    `v - (what the others can land)` increments."""
    can_land: dict[int, int] = {}
    for r, incs in by_queue.items():
        if r == q:
            can_land[r] = bisect_left(incs, waiter)
        elif before is None:
            can_land[r] = len(incs)
        else:
            can_land[r] = bisect_left(incs, position, key=lambda j: before[j][q])
    total = sum(can_land.values())
    for r, incs in by_queue.items():
        landed = min(v - (total - can_land[r]), len(incs))
        if landed > 0:
            yield r, incs[landed - 1]


def happens_before(clocks: list[tuple[int, ...]], program: Program, a: int, b: int) -> bool:
    """Whether instruction `a` happens before (or is) instruction `b`."""
    qa = queue_slots(program)[program.instrs[a].queue]
    return clocks[b][qa] >= clocks[a][qa]


def check_races(program: Program, schedule: Schedule) -> None:
    """Raise `RaceError` for the first pair of conflicting accesses not ordered by HB."""
    enabled = gc.isenabled()
    gc.disable()  # no reference cycles are made; see timing.schedule
    try:
        _check_races(program, schedule)
    finally:
        if enabled:
            gc.enable()


def _check_races(program: Program, schedule: Schedule) -> None:
    """`check_races` without the garbage-collector pause."""
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
