"""Loops of tile IR: the trip count of an `scf.for` with constant bounds, how many times
an op inside loops runs (for the passes that count bytes or choose rotating buffers, and
the compile report), and the top-level op around an op (the passes that reason in
top-level positions)."""

from __future__ import annotations

from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import IntegerAttr
from xdsl.ir import Block, Operation


def trip_count(loop: scf.ForOp) -> int | None:
    """Iterations of `loop`, or None when a bound is not an `arith.constant`."""
    bounds: list[int] = []
    for value in (loop.lb, loop.ub, loop.step):
        owner = value.owner
        if not isinstance(owner, arith.ConstantOp) or not isinstance(owner.value, IntegerAttr):
            return None
        bounds.append(owner.value.value.data)
    lb, ub, step = bounds
    return max(0, -(-(ub - lb) // step)) if step > 0 else None


def runs(op: Operation, unknown: int = 1) -> int:
    """How many times `op` runs each time the top-level op around it does: the product of
    the trip counts of the loops around it (`unknown` for a loop whose bounds are not
    constants)."""
    count = 1
    parent = op.parent_op()
    while parent is not None:
        if isinstance(parent, scf.ForOp):
            trips = trip_count(parent)
            count *= unknown if trips is None else trips
        parent = parent.parent_op()
    return count


def top_level(op: Operation, block: Block) -> Operation:
    """The op of `block` that is `op` or holds it."""
    cur = op
    while cur.parent_block() is not block:
        parent = cur.parent_op()
        assert parent is not None, "op is not inside the block"
        cur = parent
    return cur
