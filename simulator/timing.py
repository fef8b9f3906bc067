"""Event-driven timing of a decoded `Program` (trn1.md A.2-A.4): `schedule(program)`.

Queues (program.py numbering): the four compute engines each run one in-order queue; the
16 DMA queues are in order within a queue and concurrent across queues.

Compute instruction (A.2). It starts when (1) its queue is free, (2) every wait
`sem >= v` is satisfied and seen: the v-th increment of `sem` was made at time `t` and the
waiting engine sees it at `t + 64 cycles` of its own clock (A.4), and (3) its inputs
written by earlier instructions of the same engine are visible (exact byte overlap of the
reads with pending writes, `footprint.py`). It occupies the engine for its cost
(`costs.py`); its results, and its signals, become visible `L` cycles later.

DMA transfer (A.3). It starts when its queue is free and its waits are seen (a DMA queue
sees an update `machine.dma_semaphore_visibility_ns` after it is made, assumed 0). After
the fixed latency of 1,300 ns (an indirect DMA first generates its descriptors:
`DmaInfo.setup_ns`) its bytes flow: `payload + 256 B per chunk` at a rate set by
a fluid model. Whenever the set of flowing transfers changes, rates are recomputed by
max-min fairness: each transfer is capped by its engines (`min(16, ceil(P/8))` x 27.2 GB/s)
and transfers touching HBM share 410 GB/s (SBUF -> SBUF ones do not). A DMA queue holds
one transfer at a time: it is busy from issue to the last byte (so the fixed latency
overlaps transfers of other queues, not of its own). Results and signals are visible when
the last byte lands.

Signals increment their semaphores when the instruction's results are visible, in time
order (ties: compute signals first, in issue order, then DMA completions by index).
`wait_sources[i][k]` is the instruction whose increment brought the k-th waited semaphore
to the waited value (-1 for a wait on a value <= 0).

Deadlock: when no event is left and some queue still has instructions, every queue is
blocked on a wait; `DeadlockError` names each blocked instruction, the wait and the
semaphore's current value.

Speed: costs and sync data are precomputed into flat lists; compute queues issue eagerly
(an instruction whose waits are already met has a start time that no later event can
change), so the event heap holds only compute signal deliveries and DMA data-phase
starts; the next DMA completion (`FluidDMA`, one virtual clock per class of transfers with
equal caps) is compared with the heap's head rather than pushed.
"""

from __future__ import annotations

import gc
import heapq
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from trnc.simulator.costs import (
    ENGINE_OF_QUEUE,
    cost_ns,
    dma_info,
    matmul_flops,
    queue_latency_ns,
)
from trnc.simulator.errors import DeadlockError
from trnc.simulator.footprint import footprint, overlap
from trnc.simulator.program import AP, FIRST_DMA_QUEUE, QUEUE_NAMES, Program

_SIGNAL = 0
_STREAM_EVERY = 8
"""Events between batches given to `schedule`'s `on_started`."""
_DMA_FLOW = 2
_EPS_BYTES = 1e-6


@dataclass
class Schedule:
    """When every instruction ran, and per-queue totals. Times in ns from program start."""

    start_ns: list[float]
    """Issue time (for a DMA: start of its fixed latency)."""
    end_ns: list[float]
    """When the queue is free again (compute: start + cost; DMA: last byte)."""
    visible_ns: list[float]
    """When results are visible and signals applied (compute: end + L; DMA: end)."""
    wait_sources: list[tuple[int, ...]]
    """Per instruction, per wait: the instruction whose signal satisfied it (-1: none)."""
    signal_order: list[list[int]]
    """Per semaphore: the signalling instructions in the order their increments landed."""
    busy_ns: list[float]
    """Per queue: sum of `end - start`."""
    wait_ns: list[float]
    """Per queue: time free but blocked on semaphores."""
    stall_ns: list[float]
    """Per queue: time free but waiting for its own engine's results (A.2)."""
    queue_instrs: list[int]
    """Per queue: instruction count."""
    opcode_counts: dict[str, int]
    total_ns: float
    """When the last result is visible."""
    dma_bytes: int
    """Payload bytes of all DMA transfers."""
    hbm_bytes: int
    """HBM bytes read or written by DMA transfers."""
    flops: int
    """2 * K * M * N summed over matmuls (transposes not counted)."""
    peak_hbm_gbps: float = 0.0
    """Highest aggregate HBM rate of the fluid model at any instant (<= 410 GB/s)."""
    queue_names: tuple[str, ...] = field(default=QUEUE_NAMES)

    def utilization(self, queue: int) -> float:
        """Busy fraction of a queue over the whole program."""
        return self.busy_ns[queue] / self.total_ns if self.total_ns else 0.0


def schedule(program: Program, on_started: Callable[[list[int]], None] | None = None) -> Schedule:
    """Simulate the timing of `program`; raise `DeadlockError` if it cannot finish.

    `on_started`, if given, receives every instruction once, in batches, in order of
    start time (ties by index), each batch as soon as those start times are final: an
    event at time t only starts instructions at t or later, so once the next event is at
    T every start before T is known. Functional execution runs them meanwhile."""
    # The simulation makes no reference cycles; the collector's passes over the freshly
    # decoded program would cost ~20 % of the run.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _schedule(program, on_started)
    finally:
        if enabled:
            gc.enable()


def _schedule(program: Program, on_started: Callable[[list[int]], None] | None) -> Schedule:
    m = program.machine
    instrs = program.instrs
    n = len(instrs)
    nq = len(QUEUE_NAMES)
    nsem = len(program.semaphore_names)

    # --- precomputation ---------------------------------------------------------------
    queues: list[list[int]] = [[] for _ in range(nq)]
    dur = [0.0] * n  # compute: cost ns; DMA: effective bytes
    lat = [0.0] * n
    cap = [0.0] * n
    setup = [0.0] * n  # DMA: time from issue to the fixed latency (indirect DMA's descriptors)
    uses_hbm = [False] * n
    dma_bytes = hbm_bytes = flops = 0
    waits = [ins.waits for ins in instrs]
    signals = [ins.signals for ins in instrs]
    lat_of_queue = [queue_latency_ns(q, m) for q in range(FIRST_DMA_QUEUE)]
    for ins in instrs:
        i = ins.index
        queues[ins.queue].append(i)
        if ins.queue >= FIRST_DMA_QUEUE:
            info = dma_info(ins, m)
            dur[i] = float(info.effective_bytes)
            cap[i] = info.rate_cap
            setup[i] = info.setup_ns
            uses_hbm[i] = info.uses_hbm
            dma_bytes += info.payload_bytes
            hbm_bytes += info.hbm_bytes
            continue
        dur[i] = cost_ns(ins, m)
        lat[i] = lat_of_queue[ins.queue]
        if ins.opcode == "matmul":
            flops += matmul_flops(ins)

    opcode_counts = dict(Counter(ins.opcode for ins in instrs))
    delay = [0.0] * nq
    for q in range(nq):
        if q < FIRST_DMA_QUEUE:
            delay[q] = m.semaphore_visibility_cycles / m.clock_ghz[ENGINE_OF_QUEUE[q]]
        else:
            delay[q] = m.dma_semaphore_visibility_ns

    # --- state ------------------------------------------------------------------------
    start = [0.0] * n
    end = [0.0] * n
    visible = [0.0] * n
    sources: list[tuple[int, ...]] = [()] * n
    ptr = [0] * nq
    free = [0.0] * nq
    busy = [0.0] * nq
    wait_total = [0.0] * nq
    stall_total = [0.0] * nq
    sem_val = [0] * nsem
    sem_src: list[list[int]] = [[] for _ in range(nsem)]
    waiters: list[list[int]] = [[] for _ in range(nsem)]
    blocked: list[tuple[int, int] | None] = [None] * nq
    pending: list[list[tuple[float, int]]] = [[] for _ in range(FIRST_DMA_QUEUE)]
    heap: list[tuple[float, int, int, int]] = []
    seq = 0
    fluid = FluidDMA(m.hbm_gbps)

    push = heapq.heappush
    started: list[tuple[float, int]] | None = [] if on_started is not None else None
    """(start, index) of instructions started and not yet given to `on_started`."""
    fixed_latency = m.dma_fixed_latency_ns
    instr_reads = [ins.reads for ins in instrs]
    instr_writes = [ins.writes for ins in instrs]
    queue_of = [ins.queue for ins in instrs]

    def ready_time(q: int, i: int) -> float:
        """When the waits of `i` (next on queue `q`) are seen, or -1.0 if one is not met
        yet (then `q` is registered as a waiter)."""
        dq = delay[q]
        t_wait = 0.0
        srcs: list[int] = []
        for sem, v in waits[i]:
            if v <= 0:
                srcs.append(-1)
                continue
            if sem_val[sem] < v:
                blocked[q] = (sem, v)
                waiters[sem].append(q)
                return -1.0
            j = sem_src[sem][v - 1]
            tw = visible[j] + dq  # the increment landed when j's results became visible
            if tw > t_wait:
                t_wait = tw
            srcs.append(j)
        sources[i] = tuple(srcs)
        blocked[q] = None
        return t_wait

    def try_issue(q: int) -> None:
        """Issue what queue `q` can: a compute queue eagerly up to its first unmet wait, a
        DMA queue its next transfer (it is called when the queue is free)."""
        nonlocal seq
        order = queues[q]
        k = ptr[q]
        if q >= FIRST_DMA_QUEUE:
            if k == len(order):
                return
            i = order[k]
            t_wait = ready_time(q, i) if waits[i] else 0.0
            if t_wait < 0.0:
                return
            f = free[q]
            if t_wait > f:
                wait_total[q] += t_wait - f
                f = t_wait
            ptr[q] = k + 1
            start[i] = f
            if started is not None:
                push(started, (f, i))
            push(heap, (f + setup[i] + fixed_latency, _DMA_FLOW, seq, i))
            seq += 1
            return
        count = len(order)
        pend = pending[q]
        while k < count:
            i = order[k]
            t_wait = 0.0
            if waits[i]:
                t_wait = ready_time(q, i)
                if t_wait < 0.0:
                    ptr[q] = k
                    return
            f = free[q]
            s = t_wait if t_wait > f else f
            if s > f:
                wait_total[q] += s - f
            k += 1
            # Same-engine inputs not yet visible stall the engine (A.2).
            if pend:
                live = [(vt, j) for vt, j in pend if vt > s]
                ready = s
                for vt, j in live:
                    if vt > ready and _overlaps(instr_reads[i], instr_writes[j]):
                        ready = vt
                if ready > s:
                    stall_total[q] += ready - s
                    s = ready
                pend[:] = live
            e = s + dur[i]
            vis = e + lat[i]
            start[i] = s
            end[i] = e
            if started is not None:
                push(started, (s, i))
            visible[i] = vis
            busy[q] += e - s
            free[q] = e
            if instr_writes[i]:
                pend.append((vis, i))
            if signals[i]:
                push(heap, (vis, _SIGNAL, seq, i))
                seq += 1
        ptr[q] = k

    def apply_signals(i: int) -> None:
        """Increment the semaphores `i` signals (now: its results are visible)."""
        for sem in signals[i]:
            sem_val[sem] += 1
            sem_src[sem].append(i)
            woken = waiters[sem]
            if not woken:
                continue
            waiters[sem] = []
            for q in woken:
                b = blocked[q]
                if b is not None and b[0] == sem and sem_val[sem] >= b[1]:
                    try_issue(q)
                elif b is not None and b[0] == sem:
                    waiters[sem].append(q)

    for q in range(nq):
        try_issue(q)

    # The next DMA completion is not an event in the heap (it moves whenever the set of
    # flowing transfers changes); it is compared with the heap's head instead. At equal
    # times: signals, then DMA completions, then DMA data-phase starts.
    inf = float("inf")
    next_done = inf
    pop = heapq.heappop
    events = 0
    while True:
        events += 1
        if started and events % _STREAM_EVERY == 0 and on_started is not None:
            cut = min(heap[0][0], next_done) if heap else next_done
            batch = []
            while started and started[0][0] < cut:
                batch.append(pop(started)[1])
            if batch:
                on_started(batch)
        if heap:
            head = heap[0]
            if head[0] < next_done or (head[0] == next_done and head[1] == _SIGNAL):
                t, kind, _, i = pop(heap)
                if kind == _SIGNAL:
                    apply_signals(i)
                else:
                    next_done = fluid.add(i, dur[i], cap[i], uses_hbm[i], t)
                continue
        elif next_done == inf:
            break
        t = next_done
        finished, next_done = fluid.pop_done(t)
        for i in finished:
            q = queue_of[i]
            end[i] = visible[i] = t
            busy[q] += t - start[i]
            free[q] = t
            apply_signals(i)
            try_issue(q)

    stuck = [q for q in range(nq) if ptr[q] < len(queues[q])]
    if stuck:
        _raise_deadlock(program, queues, ptr, blocked, sem_val, stuck)
    if started and on_started is not None:
        on_started([pop(started)[1] for _ in range(len(started))])

    return Schedule(
        start_ns=start,
        end_ns=end,
        visible_ns=visible,
        wait_sources=sources,
        signal_order=sem_src,
        busy_ns=busy,
        wait_ns=wait_total,
        stall_ns=stall_total,
        queue_instrs=[len(o) for o in queues],
        opcode_counts=opcode_counts,
        total_ns=max(visible, default=0.0),
        dma_bytes=dma_bytes,
        hbm_bytes=hbm_bytes,
        flops=flops,
        peak_hbm_gbps=fluid.peak_gbps,
    )


class _RateClass:
    """Flowing transfers with the same cap and HBM use: they always get the same rate,
    so one virtual clock `v` (bytes served to each member since the class was last empty)
    and a heap of finish tags (`v` at join + bytes) track them all."""

    __slots__ = ("cap", "hbm", "rate", "tags", "v")

    def __init__(self, cap: float, hbm: bool) -> None:
        self.cap = cap
        self.hbm = hbm
        self.rate = 0.0
        self.v = 0.0
        self.tags: list[tuple[float, int]] = []


class FluidDMA:
    """The A.3 fluid model of transfers in their data phase: max-min fair rates, each
    transfer capped by its engines, HBM transfers sharing `hbm_gbps` (bytes per ns).
    Cost per change is in the number of distinct caps, not of transfers."""

    def __init__(self, hbm_gbps: float) -> None:
        self.hbm_gbps = hbm_gbps
        self.classes: dict[tuple[float, bool], _RateClass] = {}
        self.active: list[_RateClass] = []
        self.t = 0.0
        self.peak_gbps = 0.0
        self._argmin: _RateClass | None = None

    def _advance(self, t: float) -> None:
        dt = t - self.t
        if dt > 0:
            for c in self.active:
                c.v += c.rate * dt
        self.t = t

    def add(self, i: int, nbytes: float, cap: float, hbm: bool, t: float) -> float:
        """Transfer `i` starts flowing `nbytes` at time `t`; returns `next_done()`."""
        self._advance(t)
        c = self.classes.get((cap, hbm))
        if c is None:
            c = self.classes[(cap, hbm)] = _RateClass(cap, hbm)
        if not c.tags:
            c.v = 0.0
            self.active.append(c)
        heapq.heappush(c.tags, (c.v + nbytes, i))
        return self._rerate()

    def pop_done(self, t: float) -> tuple[list[int], float]:
        """Advance to `t` (the time `next_done` gave), remove the finished transfers;
        returns them and the new `next_done()`."""
        self._advance(t)
        done: list[int] = []
        forced = self._argmin
        emptied = False
        for c in self.active:
            tags = c.tags
            v = c.v
            while tags and (tags[0][0] - v <= 1e-9 * tags[0][0] + 1e-6 or c is forced):
                done.append(heapq.heappop(tags)[1])
                forced = None
            emptied = emptied or not tags
        if emptied:
            self.active = [c for c in self.active if c.tags]
        if len(done) > 1:
            done.sort()
        return done, self._rerate()

    def next_done(self) -> float:
        """When the next flowing transfer finishes at the current rates (inf: idle)."""
        best = float("inf")
        for c in self.active:
            r = (c.tags[0][0] - c.v) / c.rate
            if r < best:
                best = r
                self._argmin = c
        return self.t + max(best, 0.0)

    def _rerate(self) -> float:
        """Recompute the rates by max-min fairness; returns `next_done()`."""
        active = self.active
        if len(active) == 1:
            c = active[0]
            c.rate = c.cap
            if c.hbm:
                n = len(c.tags)
                share = self.hbm_gbps / n
                if share < c.cap:
                    c.rate = share
                if c.rate * n > self.peak_gbps:
                    self.peak_gbps = c.rate * n
            self._argmin = c
            return self.t + max((c.tags[0][0] - c.v) / c.rate, 0.0)
        shared = sorted((c for c in active if c.hbm), key=lambda c: c.cap)
        left = self.hbm_gbps
        count = sum(len(c.tags) for c in shared)
        total = 0.0
        for idx, c in enumerate(shared):
            share = left / count
            if c.cap > share:
                for rest in shared[idx:]:
                    rest.rate = share
                total += share * count
                break
            c.rate = c.cap
            n = len(c.tags)
            left -= c.cap * n
            count -= n
            total += c.cap * n
        for c in active:
            if not c.hbm:
                c.rate = c.cap
        self.peak_gbps = max(self.peak_gbps, total)
        self._argmin = None
        return self.next_done()


def _overlaps(reads: tuple[AP, ...], writes: tuple[AP, ...]) -> bool:
    """Whether an instruction reading `reads` needs bytes of `writes` (exact)."""
    for ra in reads:
        for wa in writes:
            if ra.mem != wa.mem:
                continue
            r, w = footprint(ra), footprint(wa)
            if (
                r.lo < w.hi
                and w.lo < r.hi
                and r.plo < w.phi
                and w.plo < r.phi
                and overlap(r, w) is not None
            ):
                return True
    return False


def _raise_deadlock(
    program: Program,
    queues: list[list[int]],
    ptr: list[int],
    blocked: list[tuple[int, int] | None],
    sem_val: list[int],
    stuck: list[int],
) -> None:
    names = program.semaphore_names
    lines: list[str] = []
    idx: list[int] = []
    locs: list[str] = []
    for q in stuck:
        i = queues[q][ptr[q]]
        instr = program.instrs[i]
        b = blocked[q]
        if b is None:  # pragma: no cover - a free queue always progresses
            what = "is never issued"
        else:
            sem, v = b
            what = f"waits for {names[sem]} >= {v} (current value {sem_val[sem]})"
        lines.append(f"{QUEUE_NAMES[q]}: instruction #{i} {instr.opcode} at {instr.loc} {what}")
        idx.append(i)
        locs.append(instr.loc)
    raise DeadlockError(
        f"no queue can make progress; {len(stuck)} blocked instruction(s):\n  "
        + "\n  ".join(lines),
        instrs=tuple(idx),
        locs=tuple(locs),
    )
