"""The `tile-prefetch` pass: loads of weights and inputs move up in program order, so their
DMAs run while earlier work computes.

`graph-to-tile` places each load right before the op that needs it. DMA queues run in
program order and a load waits for nothing but its fresh buffer, so a load placed earlier
starts earlier: its fixed latency and transfer overlap the compute before it instead of
stalling the consumer (issue 13's "prefetched ahead of their consumer").

Each load of a read-only HBM buffer (a weight or an input: nothing writes it) into a
fresh SBUF tile (a `tile.dma`, or an `scf.for` whose body only loads such buffers into
views of one fresh tile, as a matmul's weight panel is filled) moves, with its allocation
and the views naming its source (a loop: the constants of its bounds), up to the point
where it must start, no further: the pass estimates when each top-level op starts (the
engines' time of the ops before it, by the simulator's costs, `tile_costs.run_ns`), lays
the program's DMAs out as late as their ops need them on one stream at the HBM bandwidth
(each no faster than its own engines allow, trn1.md A.3), and moves each load to the
last op that starts before its DMA must start (its fixed latency before its data flows),
`lead_ns` earlier still. A load moved further than it needs only holds SBUF longer, which
the loads after it need (BERT-base 542.1 -> 540.1 us, one layer at batch 4 x seq 512
954.1 -> 939.9 us against moving every load as far as the budget allows). A move also
stops at `distance` top-level ops and where the SBUF live bytes per partition would
exceed `budget` over the stretch it is moved across (the tile is live longer). Nothing
else moves; the order of everything else is kept. The decision is the new position,
visible in the IR; `distance=0` leaves the program as it is.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, scf
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass

from trnc.dialects import tile
from trnc.lowering.tile_costs import run_ns, transfer_ns
from trnc.lowering.tile_loops import runs
from trnc.lowering.tile_plan_memory import DEFAULT_BUDGET
from trnc.lowering.tile_regions import (
    arg_role,
    bytes_per_partition,
    memory_of,
    written_operands,
)
from trnc.machine import TRN1, Engine, Memory
from trnc.pass_statistics import record

DISTANCE = 1000
"""Default of `tile-prefetch{distance}`: top-level ops a load may move up."""


def _read_only_args(function: func.FuncOp) -> set[SSAValue]:
    """Weights and inputs that no op writes."""
    roots: dict[SSAValue, SSAValue] = {arg: arg for arg in function.body.block.args}
    keep = {a for a in roots if arg_role(function, a) in ("weight", "input")}
    for op in function.body.walk():
        if isinstance(op, tile.ViewOp | tile.ReinterpretOp) and op.source in roots:
            roots[op.result] = roots[op.source]
        for value in written_operands(op):
            keep.discard(roots.get(value, value))
    return keep


def start_times(ops: list[Operation]) -> list[float]:
    """When each top-level op starts, estimated from the engine time of the ops before it
    (each engine's work in program order, the engines overlapping, no waits for DMAs):
    the busiest engine's time so far. Nondecreasing."""
    busy = dict.fromkeys(Engine, 0.0)
    times: list[float] = []
    for op in ops:
        times.append(max(busy.values()))
        for inner in op.walk():
            cost = run_ns(inner)
            if cost is not None:
                busy[cost[0]] += cost[1] * runs(inner)
    return times


def wanted_starts(
    ops: list[Operation], times: list[float], movable: set[Operation]
) -> dict[Operation, float]:
    """When each movable load should start so that it is done before its op (the next
    one) starts: the DMAs of the program, each in its place, done as late as their ops
    need them (`times`) by a single stream at the HBM bandwidth (trn1.md A.3), each no
    faster than its queues allow, latest first; a load's DMA starts one fixed latency
    before its data flows."""
    wanted: dict[Operation, float] = {}
    next_start = float("inf")
    for i in range(len(ops) - 1, -1, -1):
        op = ops[i]
        nbytes = 0.0
        own = 0.0  # the longest single transfer (a loop's run on several queues at once)
        for inner in op.walk():
            if isinstance(inner, tile.DmaOp | tile.DmaGatherOp):
                nbytes += tile.dma_moved_bytes(inner) * runs(inner)
                own = max(own, transfer_ns(inner))
        if not nbytes:
            continue
        deadline = times[i + 1] if i + 1 < len(times) else times[i]
        finish = min(deadline, next_start)
        start = finish - max(nbytes / TRN1.hbm_gbps, own)
        next_start = finish - nbytes / TRN1.hbm_gbps
        if op in movable:
            wanted[op] = start - TRN1.dma_fixed_latency_ns
    return wanted


def prefetch(
    function: func.FuncOp,
    distance: int = DISTANCE,
    budget: int = DEFAULT_BUDGET,
    lead_ns: float = 0.0,
) -> int:
    """Move loads up (see the module docstring); returns how many moved."""
    if distance <= 0:
        return 0
    block = function.body.block
    ops = list(block.ops)
    pos: dict[Operation, float] = {op: float(i) for i, op in enumerate(ops)}
    read_only = _read_only_args(function)
    # The SBUF live bytes per partition at each top-level position.
    last: dict[SSAValue, int] = {}
    for i, op in enumerate(ops):
        for inner in op.walk():
            for operand in inner.operands:
                root = _alloc_root(operand)
                if root is not None:  # a dealloc too, as tile-allocate counts it
                    last[root] = i
    diff = [0] * (len(ops) + 2)
    for root, end in last.items():
        alloc = root.owner
        assert isinstance(alloc, tile.AllocOp)
        if memory_of(root) is Memory.SBUF and alloc in pos:
            diff[int(pos[alloc])] += bytes_per_partition(root)
            diff[end + 1] -= bytes_per_partition(root)
    live = [0] * (len(ops) + 1)
    running = 0
    for p in range(len(ops) + 1):
        running += diff[p]
        live[p] = running
    times = start_times(ops)
    chains = {op: _movable_load(op, read_only) for op in ops}
    wanted = wanted_starts(ops, times, {op for op, c in chains.items() if c is not None})
    moved = 0
    for op in ops:
        chain = chains[op]
        if chain is None:
            continue
        alloc, views = chain
        size = bytes_per_partition(alloc.result)
        if pos[alloc] != int(pos[alloc]):
            continue  # moved already (shared with another load): leave it
        start = int(pos[alloc])
        # the latest op that starts by the time the load should start
        earliest = max(0, bisect.bisect_right(times, wanted[op] - lead_ns) - 1)
        target = start
        while target > earliest and start - target < distance:
            before = ops[target - 1]
            if isinstance(before, func.ReturnOp | arith.ConstantOp):
                break  # (index constants are at the function's start)
            if live[target - 1] + size > budget:
                break
            target -= 1
        anchor = ops[target]
        if target == start or pos[anchor] != target:
            continue  # nowhere to go, or the anchor itself moved
        # just before the anchor (after it, if it is one of the load's own views), in
        # this order: the views after it, the allocation, the load
        where = target - 0.5 if anchor not in views else target + 0.5
        to_move = [v for v in views if pos[v] > target] + [alloc, op]
        previous = anchor
        for moved_op in to_move:
            moved_op.detach()
            if anchor in views:
                block.insert_op_after(moved_op, previous)
                previous = moved_op
            else:
                block.insert_op_before(moved_op, anchor)
            pos[moved_op] = where
        for p in range(target, start):
            live[p] += size
        moved += 1
    return moved


def _alloc_root(value: SSAValue) -> SSAValue | None:
    root, _ = _source_root(value)
    return root if isinstance(root.owner, tile.AllocOp) else None


def _source_root(value: SSAValue) -> tuple[SSAValue, list[Operation]]:
    """The buffer a chain of views names, and the views, outermost first."""
    views: list[Operation] = []
    while isinstance(value.owner, tile.ViewOp | tile.ReinterpretOp):
        views.append(value.owner)
        value = value.owner.source
    views.reverse()
    return value, views


def _movable_loop(
    loop: scf.ForOp, read_only: set[SSAValue]
) -> tuple[tile.AllocOp, list[Operation]] | None:
    """A loop that only loads read-only HBM buffers into views of one fresh SBUF tile,
    which nothing else writes: that tile's allocation and the constants of the loop's
    bounds."""
    target: tile.AllocOp | None = None
    for inner in loop.body.block.ops:
        if isinstance(inner, arith.ConstantOp | arith.AddiOp | arith.MuliOp | scf.YieldOp):
            continue
        if isinstance(inner, tile.ViewOp | tile.ReinterpretOp):
            continue
        if not isinstance(inner, tile.DmaOp):
            return None
        source, _ = _source_root(inner.source)
        dest, views = _source_root(inner.dest)
        if source not in read_only or not isinstance(dest.owner, tile.AllocOp):
            return None
        if any(v.parent_block() is not loop.body.block for v in views):
            return None
        if target is not None and dest.owner is not target:
            return None
        target = dest.owner
    if target is None or target.parent_block() is not loop.parent_block():
        return None
    if memory_of(target.result) is not Memory.SBUF:
        return None
    inside = set(loop.walk())
    for use in _all_uses(target.result):
        if use not in inside and target.result in written_operands(use):
            return None
    bounds = [v.owner for v in (loop.lb, loop.ub, loop.step)]
    if not all(isinstance(b, arith.ConstantOp) for b in bounds):
        return None
    return target, [b for b in bounds if isinstance(b, Operation)]


def _all_uses(value: SSAValue) -> list[Operation]:
    """The ops using `value` or a view of it (the views' users, not the views)."""
    found: list[Operation] = []
    for use in value.uses:
        user = use.operation
        if isinstance(user, tile.ViewOp | tile.ReinterpretOp):
            found.extend(_all_uses(user.result))
        else:
            found.append(user)
    return found


def _movable_load(
    op: Operation, read_only: set[SSAValue]
) -> tuple[tile.AllocOp, list[Operation]] | None:
    """A DMA from a read-only HBM buffer into a fresh SBUF allocation (or a loop of them
    filling one: `_movable_loop`): the allocation and the ops naming the source (views,
    or a loop's bounds), outermost first."""
    if isinstance(op, scf.ForOp):
        return _movable_loop(op, read_only)
    if not isinstance(op, tile.DmaOp):
        return None
    alloc = op.dest.owner
    if not isinstance(alloc, tile.AllocOp) or memory_of(op.dest) is not Memory.SBUF:
        return None
    if alloc.parent_block() is not op.parent_block():
        return None
    writers = [u.operation for u in op.dest.uses if op.dest in written_operands(u.operation)]
    if writers != [op]:
        return None
    source, views = _source_root(op.source)
    if source not in read_only:
        return None
    if any(v.parent_block() is not op.parent_block() for v in views):
        return None
    return alloc, views


@dataclass(frozen=True)
class TilePrefetch(ModulePass):
    """Move loads of weights and inputs earlier (see the module docstring)."""

    name = "tile-prefetch"

    distance: int = DISTANCE
    """Top-level ops a load may move up (0: none)."""

    budget: int = DEFAULT_BUDGET
    """SBUF live bytes per partition the moved loads may take the program to."""

    lead_ns: float = 0.0
    """How much earlier than its estimated need a load should start (ns)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.ops:
            if isinstance(function, func.FuncOp) and not function.is_declaration:
                moved = prefetch(function, self.distance, self.budget, self.lead_ns)
                record(self.name, "loads-moved", moved, "loads (or loops of loads) moved up")
