"""The `isa-schedule` pass: reorder a `trn_isa.program`'s instructions by list scheduling
over the engines and DMA queues, so each in-order queue runs its work in the order the
critical path wants rather than in the order the ops were lowered.

`tile-to-isa` emits instructions op by op, and every engine and DMA queue runs its own
instructions in program order: TensorE runs all of one op's matmuls before the next op's,
even when the next op's inputs are ready and the current one waits for a softmax on
VectorE. This pass computes the program's dependence graph (two instructions conflict
when they touch the same bytes and one writes: RAW, WAR, WAW), and list-schedules it:
each queue, when free, starts the ready instruction with the longest path to the end
of the program (the classic critical-path priority, e.g. Hu 1961; Graham 1969; here with
the engines' costs), else waits for the next one to become ready. The new program order
is the instructions sorted by their scheduled start; it is a topological order of the
dependence graph, so the program computes exactly what it did. `isa-insert-sync` runs
after it and places the semaphores for the new order.

Costs are the simulator's (one cost model): `simulator.costs.cost_ns` and the result
latency of each compute instruction; for transfers `dma_info` and the simulator's own
fluid model of their data phase (`simulator.timing.FluidDMA`: max-min fair shares of
HBM), after the fixed latency; the semaphore visibility delays of `machine.py`.

Conflicts are tracked per unit: on chip, 32 partitions x `_BLOCK` bytes; in HBM, one
declared tensor. A unit keeps its last writer and the readers since; a read depends on
the last writer of each unit it touches, a write on the last writer and every reader
since (the transitive closure of these is the byte-level conflict order, made coarser).
Each access covers its bounding box, as in `isa-insert-sync`: needless edges cost time,
never correctness.

DMA queues are the scheduler's to choose (`queues=assign`, the default): a transfer
waits in one pool for any DMA queue, and when it is the ready transfer with the longest
path it goes to the queue that has been free longest, so it never waits behind a
transfer that `tile-allocate`'s byte-balanced choice happened to put ahead of it on the
same queue. Two transfers whose queues are still to be chosen are ordered by their
dependences alone (as if on different queues). `queues=keep` keeps `tile-allocate`'s
queues.

The decisions are the order and the queues, visible in the printed program; `mode=none`
keeps the program order (the override).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64
from xdsl.passes import ModulePass

from trnc.dialects import trn_isa as isa
from trnc.machine import TRN1, MachineModel
from trnc.pass_statistics import record
from trnc.simulator.costs import (
    ENGINE_OF_QUEUE,
    DmaInfo,
    cost_ns,
    dma_info,
    queue_latency_ns,
)
from trnc.simulator.program import AP, FIRST_DMA_QUEUE, QUEUE_NAMES, Instr, decode
from trnc.simulator.timing import FluidDMA

_BLOCK = 512
"""Bytes per partition of one on-chip conflict unit."""
_QUADRANT = 32
"""Partitions of one on-chip conflict unit."""
_MEMORIES = {"sbuf": 1, "psum": 2}


@dataclass(frozen=True)
class Plan:
    """What the scheduler decided: the new order (old indices) and its estimate."""

    order: list[int]
    estimate_ns: float
    """The scheduler's own estimate of the program's end (its model, not the simulator)."""
    edges: int
    queues: dict[int, int]
    """The DMA queue of each transfer (by old index) where it is not the one it had."""


def _box_units(ap: AP, hbm_starts: list[int]) -> list[int]:
    """The conflict units `ap` touches (see the module docstring)."""
    lo = hi = 0
    for step, count in ap.dims:
        span = step * (count - 1)
        if span < 0:
            lo += span
        else:
            hi += span
    if ap.mem == "hbm":
        first = ap.offset + min(0, ap.pstep * (ap.partitions - 1)) * ap.itemsize + lo * ap.itemsize
        return [-1 - max(0, bisect_right(hbm_starts, first) - 1)]
    memory = _MEMORIES[ap.mem]
    b0 = (ap.offset + lo * ap.itemsize) // _BLOCK
    b1 = (ap.offset + (hi + 1) * ap.itemsize - 1) // _BLOCK
    q0 = ap.start // _QUADRANT
    q1 = (ap.start + max(1, ap.partitions) - 1) // _QUADRANT
    return [(memory << 24) | (q << 16) | b for q in range(q0, q1 + 1) for b in range(b0, b1 + 1)]


def dependences(instrs: list[Instr], hbm_starts: list[int]) -> list[list[tuple[int, bool]]]:
    """For each instruction, the earlier instructions it must follow, each with whether
    it reads what that one wrote (RAW; else the order alone matters: WAR, WAW). See the
    module docstring."""
    last_write: dict[int, int] = {}
    readers: dict[int, list[int]] = {}
    preds: list[list[tuple[int, bool]]] = []
    for ins in instrs:
        i = ins.index
        found: dict[int, bool] = {}
        read_units = [u for ap in ins.reads for u in _box_units(ap, hbm_starts)]
        write_units = [u for ap in ins.writes for u in _box_units(ap, hbm_starts)]
        for u in read_units:
            w = last_write.get(u)
            if w is not None:
                found[w] = True
        for u in write_units:
            w = last_write.get(u)
            if w is not None and w not in found:
                found[w] = False
            for r in readers.get(u, ()):
                if r not in found:
                    found[r] = False
        for u in write_units:
            last_write[u] = i
            readers[u] = []
        for u in read_units:
            if last_write.get(u) != i:
                readers.setdefault(u, []).append(i)
        found.pop(i, None)
        preds.append(sorted(found.items()))
    return preds


def list_schedule(
    instrs: list[Instr],
    preds: list[list[tuple[int, bool]]],
    machine: MachineModel,
    assign_queues: bool = True,
) -> Plan:
    """Critical-path list scheduling of `instrs` over their queues (module docstring);
    with `assign_queues`, each transfer goes to whichever DMA queue is free first."""
    n = len(instrs)
    nq = len(QUEUE_NAMES)
    pool = nq  # with assign_queues: the transfers wait here, for any DMA queue
    occupy = [0.0] * n  # compute: time on its engine; DMA: an estimate, for the priority
    after = [0.0] * n  # from its end until successors may start (result latency)
    dma: list[DmaInfo | None] = [None] * n
    lat_of_queue = [queue_latency_ns(q, machine) for q in range(FIRST_DMA_QUEUE)]
    for ins in instrs:
        i = ins.index
        if ins.queue >= FIRST_DMA_QUEUE:
            info = dma[i] = dma_info(ins, machine)
            rate = min(info.rate_cap, machine.hbm_gbps) if info.uses_hbm else info.rate_cap
            occupy[i] = info.setup_ns + machine.dma_fixed_latency_ns + info.effective_bytes / rate
        else:
            occupy[i] = cost_ns(ins, machine)
            after[i] = lat_of_queue[ins.queue]
    delay = [
        machine.semaphore_visibility_cycles / machine.clock_ghz[ENGINE_OF_QUEUE[q]]
        if q < FIRST_DMA_QUEUE
        else machine.dma_semaphore_visibility_ns
        for q in range(nq)
    ]
    queue_of = [ins.queue for ins in instrs]
    dma_queues = range(FIRST_DMA_QUEUE, nq)
    home = [pool if assign_queues and q >= FIRST_DMA_QUEUE else q for q in queue_of]
    # An edge's successor may start once the predecessor's results are visible (and
    # the semaphore seen, on another queue); on the same queue, an edge that is not RAW
    # is kept by the queue's order alone (two transfers whose queues are still to be
    # chosen: as if on different queues).
    succs: list[list[tuple[int, bool]]] = [[] for _ in range(n)]
    edges = 0
    for i, ps in enumerate(preds):
        edges += len(ps)
        for p, raw in ps:
            succs[p].append((i, raw or home[p] != home[i] or home[i] == pool))
    # priority: the longest path from the instruction's start to the program's end
    rank = [0.0] * n
    for i in range(n - 1, -1, -1):
        tail = 0.0
        for s, waits in succs[i]:
            r = rank[s] + (occupy[i] + after[i] if waits else 0.0)
            if r > tail:
                tail = r
        rank[i] = max(tail, occupy[i] + after[i])
    missing = [len(ps) for ps in preds]
    ready_at = [0.0] * n
    waiting: list[list[tuple[float, int]]] = [[] for _ in range(nq + 1)]  # (ready time, i)
    available: list[list[tuple[float, int]]] = [[] for _ in range(nq + 1)]  # (-rank, i)
    free = [0.0] * nq
    busy = [False] * nq
    events: list[tuple[float, int, int]] = []  # (time, kind, queue or instruction)
    for i in range(n):
        if not missing[i]:
            heapq.heappush(waiting[home[i]], (0.0, i))
    for q in range(nq + 1):
        if waiting[q]:
            heapq.heappush(events, (0.0, _LOOK, q))
    start = [0.0] * n
    done = 0
    end_estimate = 0.0
    fluid = FluidDMA(machine.hbm_gbps)
    next_done = float("inf")

    def finish(i: int, end: float, visible: float) -> None:
        nonlocal done, end_estimate
        q = queue_of[i]
        done += 1
        end_estimate = max(end_estimate, visible)
        for s, waits in succs[i]:
            qs = home[s]
            r = (visible if qs == q else visible + delay[q]) if waits else start[i]
            if r > ready_at[s]:
                ready_at[s] = r
            missing[s] -= 1
            if not missing[s]:
                heapq.heappush(waiting[qs], (ready_at[s], s))
                at = ready_at[s] if qs == pool else max(ready_at[s], free[qs])
                heapq.heappush(events, (at, _LOOK, qs))

    def take(home_queue: int, t: float) -> int | None:
        """The ready instruction of `home_queue` (a queue, or the DMA pool) with the
        longest path, if one is ready at `t` (else a look when the next one is)."""
        pend, avail = waiting[home_queue], available[home_queue]
        while pend and pend[0][0] <= t:
            _, ready = heapq.heappop(pend)
            heapq.heappush(avail, (-rank[ready], ready))
        if not avail:
            if pend:
                heapq.heappush(events, (pend[0][0], _LOOK, home_queue))
            return None
        return heapq.heappop(avail)[1]

    while events or next_done < float("inf"):
        if not events or next_done < events[0][0]:
            finished, next_done = fluid.pop_done(next_done)
            t = fluid.t
            for i in finished:
                q = queue_of[i]
                free[q], busy[q] = t, False
                finish(i, t, t)
                heapq.heappush(events, (t, _LOOK, home[i]))
            continue
        t, kind, x = heapq.heappop(events)
        if kind == _FLOW:
            info = dma[x]
            assert info is not None
            next_done = fluid.add(x, info.effective_bytes, info.rate_cap, info.uses_hbm, t)
            continue
        q = x
        if q == pool:  # the DMA queue free longest, if any
            idle = [d for d in dma_queues if not busy[d] and free[d] <= t]
            if not idle:
                continue  # looked at again when a transfer completes
            taken = take(pool, t)
            if taken is None:
                continue
            q = min(idle, key=lambda d: (free[d], d))
            queue_of[taken] = q
            heapq.heappush(events, (t, _LOOK, pool))  # another queue may take another
        else:
            if busy[q] or t < free[q]:
                continue  # busy: it is looked at again when free
            taken = take(q, t)
            if taken is None:
                continue
        i = taken
        start[i] = t
        info = dma[i]
        if info is not None:  # on its queue until the transfer completes
            busy[q] = True
            heapq.heappush(events, (t + info.setup_ns + machine.dma_fixed_latency_ns, _FLOW, i))
            continue
        end = t + occupy[i]
        free[q] = end
        finish(i, end, end + after[i])
        heapq.heappush(events, (end, _LOOK, q))
    assert done == n, "the dependence graph has a cycle"
    order = sorted(range(n), key=lambda i: (start[i], i))
    moved = {i: queue_of[i] for i in range(n) if queue_of[i] != instrs[i].queue}
    return Plan(order, end_estimate, edges, moved)


_LOOK = 1
"""Event: a queue may start its next instruction."""
_FLOW = 0
"""Event: a transfer's data phase starts (after its fixed latency)."""


def schedule_program(
    program: isa.ProgramOp, machine: MachineModel = TRN1, assign_queues: bool = True
) -> Plan:
    """Reorder `program`'s instructions (see the module docstring); returns the plan."""
    ops = program.instructions()
    decoded = decode(program, machine)
    starts = sorted(t.address for t in decoded.tensors)
    preds = dependences(decoded.instrs, starts)
    plan = list_schedule(decoded.instrs, preds, machine, assign_queues)
    for i, q in plan.queues.items():
        ops[i].properties["queue"] = IntegerAttr(q - FIRST_DMA_QUEUE, i64)
    if plan.order != list(range(len(ops))):
        block = program.body.block
        for op in ops:
            op.detach()
        for i in plan.order:
            block.add_op(ops[i])
    return plan


@dataclass(frozen=True)
class IsaSchedule(ModulePass):
    """List-schedule every `trn_isa.program` (see the module docstring)."""

    name = "isa-schedule"

    mode: str = "list"
    """`list`: critical-path list scheduling; `none`: keep the program order."""

    queues: str = "assign"
    """`assign`: each transfer to the DMA queue free first; `keep`: the queues
    `tile-allocate` chose."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.mode not in ("list", "none"):
            raise ValueError(f"isa-schedule: mode must be 'list' or 'none', got '{self.mode}'")
        if self.queues not in ("assign", "keep"):
            raise ValueError(
                f"isa-schedule: queues must be 'assign' or 'keep', got '{self.queues}'"
            )
        if self.mode == "none":
            return
        for program in op.walk():
            if isinstance(program, isa.ProgramOp):
                plan = schedule_program(program, assign_queues=self.queues == "assign")
                moved = sum(1 for k, i in enumerate(plan.order) if k != i)
                record(self.name, "moved", moved, "instructions given another position")
                record(self.name, "edges", plan.edges, "dependences between instructions")
                requeued = len(plan.queues)
                record(self.name, "requeued", requeued, "transfers given another DMA queue")
                estimate = round(plan.estimate_ns)
                record(self.name, "estimate-ns", estimate, "the schedule's end by its own model")
