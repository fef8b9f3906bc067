"""The `tile-prefetch` pass: loads of weights and inputs move up in program order, so their
DMAs run while earlier work computes.

`graph-to-tile` places each load right before the op that needs it. DMA queues run in
program order and a load waits for nothing but its fresh buffer, so a load placed earlier
starts earlier: its fixed latency and transfer overlap the compute before it instead of
stalling the consumer (issue 13's "prefetched ahead of their consumer").

Each load of a read-only HBM buffer (a weight or an input: nothing writes it) into a
fresh SBUF tile (a `tile.dma`, or an `scf.for` whose body only loads such buffers into
views of one fresh tile, as a matmul's weight panel is filled) moves, with its allocation
and the views naming its source (a loop: the constants of its bounds), up to
`distance` top-level ops earlier, as far as the SBUF live bytes per partition stay within
`budget` over the stretch it is moved across (the tile is live longer). Nothing else
moves; the order of everything else is kept. The decision is the new position, visible
in the IR; `distance=0` leaves the program as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, scf
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass

from trnc.dialects import tile
from trnc.lowering.tile_plan_memory import DEFAULT_BUDGET
from trnc.lowering.tile_regions import (
    arg_role,
    bytes_per_partition,
    memory_of,
    written_operands,
)
from trnc.machine import Memory
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


def prefetch(function: func.FuncOp, distance: int = DISTANCE, budget: int = DEFAULT_BUDGET) -> int:
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
    moved = 0
    for op in ops:
        chain = _movable_load(op, read_only)
        if chain is None:
            continue
        alloc, views = chain
        size = bytes_per_partition(alloc.result)
        if pos[alloc] != int(pos[alloc]):
            continue  # moved already (shared with another load): leave it
        start = int(pos[alloc])
        target = start
        while target > 0 and start - target < distance:
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

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.ops:
            if isinstance(function, func.FuncOp) and not function.is_declaration:
                moved = prefetch(function, self.distance, self.budget)
                record(self.name, "loads-moved", moved, "loads (or loops of loads) moved up")
