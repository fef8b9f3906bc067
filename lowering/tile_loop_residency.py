"""Residency across loops (part of `tile-plan-memory`): a scratch tensor whose row blocks
are stored and loaded whole, also inside `scf.for` loops at dynamic offsets, stays in SBUF
as one tile when it fits, and its HBM buffer goes away.

`tile-plan-memory`'s forwarding rewrites top-level loads at static offsets. A lowering
that loops over row blocks (a matmul's `row_loop`) stores and loads row block `i` through
`tile.view %t [%i * 128, c]`, which that forwarding cannot match. Here, a scratch buffer
`%t` (2-D `[H, W]`, or reinterpreted to one) all of whose accesses are

    tile.dma %a -> view(%t) [r, c]      (a store of a whole SBUF tile `%a`)
    tile.dma view(%t) [r, c] -> %b      (a load into a whole SBUF tile `%b`)

with `r` a multiple of 128 (static, or `index` arithmetic of loop variables that is one by
construction), at most 128 rows and the same element type on both sides, is kept as one
SBUF tile `%T` of `[128, ceil(H / 128) x W]` (row block `k` at columns `[k W, (k + 1) W)`):

    %T = tile.alloc                              (before the first store's top-level op)
    %a = tile.view %T [0, (r / 128) * W + c]     (was: %a = tile.alloc; the store is gone)
    %b = tile.view %T [0, (r / 128) * W + c]     (was: %b = tile.alloc; the load is gone)
    tile.dealloc %T                              (after the last load's top-level op)

so a producer's loop writes its row blocks straight into `%T` and a consumer's loop reads
them there. Conditions that keep it exact: nothing writes a stored tile after its store
or a loaded tile after its load (an in-place consumer would change `%T` under the other
readers), and the SBUF live bytes per partition with `%T` added stay within the budget
over its whole life (the live set from `tile-allocate`'s own lifetimes: one model of what
is live). Tensors are taken in program order of their first store while they fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects import arith, func
from xdsl.dialects.builtin import IndexType, IntegerAttr
from xdsl.ir import Block, Operation, SSAValue

from trnc.dialects import tile
from trnc.dialects.tile.types import BufferType
from trnc.lowering.tile_allocate import lifetimes
from trnc.lowering.tile_loops import top_level
from trnc.lowering.tile_regions import arg_name, arg_role, retire_tile, written_operands
from trnc.machine import TRN1, Memory

ROWS = TRN1.partitions


@dataclass
class _Access:
    dma: tile.DmaOp
    view: tile.ViewOp
    """The window of the scratch buffer's 2-D form."""
    onchip: SSAValue
    """The whole SBUF tile stored or loaded (an alloc's result)."""
    store: bool


@dataclass
class _Candidate:
    arg: SSAValue
    width: int
    blocks: int
    element: object
    accesses: list[_Access] = field(default_factory=lambda: [])


def _multiple_of(value: int | SSAValue, n: int) -> bool:
    """Whether `value` (a number or `index` arithmetic) is a multiple of `n` by
    construction."""
    if isinstance(value, int):
        return value % n == 0
    owner = value.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr):
        return owner.value.value.data % n == 0
    if isinstance(owner, arith.MuliOp):
        return _multiple_of(owner.lhs, n) or _multiple_of(owner.rhs, n)
    if isinstance(owner, arith.AddiOp):
        return _multiple_of(owner.lhs, n) and _multiple_of(owner.rhs, n)
    return False


def _dominates(value: SSAValue, op: Operation) -> bool:
    """Whether `value` is defined where `op` sees it (an enclosing block's argument, or
    an op before `op` in `op`'s block or an enclosing one)."""
    if isinstance(value.owner, Block):
        block: Block | None = op.parent_block()
        while block is not None:
            if block is value.owner:
                return True
            parent = block.parent_op()
            block = parent.parent_block() if parent is not None else None
        return False
    definer = value.owner
    cur: Operation | None = op
    while cur is not None:
        here = cur.parent_block()
        if here is not None and definer.parent_block() is here:
            return here.get_operation_index(definer) < here.get_operation_index(cur)
        cur = cur.parent_op()
    return False


def _materialize(value: SSAValue, before: Operation) -> SSAValue:
    """`value`, or a copy of the `index` arithmetic computing it, usable at `before`."""
    if _dominates(value, before):
        return value
    owner = value.owner
    assert isinstance(owner, arith.ConstantOp | arith.MuliOp | arith.AddiOp), owner
    operands = [_materialize(v, before) for v in owner.operands]
    clone = owner.clone()
    for i, v in enumerate(operands):
        clone.operands[i] = v
    block = before.parent_block()
    assert block is not None
    block.insert_op_before(clone, before)
    return clone.results[0]


def _index(value: int, before: Operation) -> SSAValue:
    op = arith.ConstantOp(IntegerAttr(value, IndexType()))
    block = before.parent_block()
    assert block is not None
    block.insert_op_before(op, before)
    return op.results[0]


def _column(view: tile.ViewOp, width: int, before: Operation) -> int | SSAValue:
    """The column of the kept tile where `view`'s window starts: (row / 128) * W + col."""
    row, col = _offsets(view)
    assert isinstance(col, int)
    if isinstance(row, int):
        return row // ROWS * width + col
    block = before.parent_block()
    assert block is not None
    row = _materialize(row, before)
    k = arith.DivUIOp(row, _index(ROWS, before))
    block.insert_op_before(k, before)
    scaled = arith.MuliOp(k.result, _index(width, before))
    block.insert_op_before(scaled, before)
    if not col:
        return scaled.result
    shifted = arith.AddiOp(scaled.result, _index(col, before))
    block.insert_op_before(shifted, before)
    return shifted.result


def _offsets(view: tile.ViewOp) -> tuple[int | SSAValue, int | SSAValue]:
    dynamic = iter(view.offsets)
    values = [next(dynamic) if o is None else o for o in view.static_offset_values()]
    return values[0], values[1]


def _whole_alloc(value: SSAValue) -> bool:
    buf = value.type
    return (
        isinstance(value.owner, tile.AllocOp)
        and isinstance(buf, BufferType)
        and buf.memory.data is Memory.SBUF
        and buf.rank == 2
    )


def _written_after(value: SSAValue, dma: tile.DmaOp) -> bool:
    """Whether an op after `dma` (in its block) writes `value`, or one outside it does."""
    block = dma.parent_block()
    assert block is not None
    at = block.get_operation_index(dma)
    for use in value.uses:
        user = use.operation
        if user is dma or isinstance(user, tile.DeallocOp):
            continue
        if value not in written_operands(user):
            continue
        if user.parent_block() is not block or block.get_operation_index(user) > at:
            return True
    return False


def _candidates(function: func.FuncOp) -> list[_Candidate]:
    found: list[_Candidate] = []
    for arg in function.body.block.args:
        if arg_role(function, arg) != "scratch":
            continue
        forms: list[SSAValue] = [arg]
        views: list[tile.ViewOp] = []
        ok = True
        while forms and ok:
            value = forms.pop()
            for use in value.uses:
                user = use.operation
                if isinstance(user, tile.ReinterpretOp) and value is arg:
                    forms.append(user.result)
                elif isinstance(user, tile.ViewOp) and user.source is value:
                    views.append(user)
                else:
                    ok = False
        if not ok or not views:
            continue
        shapes = {tuple(v.source.type.get_shape()) for v in views}
        if len(shapes) != 1 or len(next(iter(shapes))) != 2:
            continue
        height, width = next(iter(shapes))
        element = arg.type.element_type  # type: ignore[attr-defined]
        candidate = _Candidate(arg, width, -(-height // ROWS), element)
        for view in views:
            access = _access(view, element)
            if access is None:
                ok = False
                break
            candidate.accesses.append(access)
        if ok and any(a.store for a in candidate.accesses):
            found.append(candidate)
    return found


def _access(view: tile.ViewOp, element: object) -> _Access | None:
    if any(s != 1 for s in view.stride_values()) or len(list(view.result.uses)) != 1:
        return None
    row, col = _offsets(view)
    rows, cols = view.result.type.get_shape()
    if not isinstance(col, int) or rows > ROWS or not _multiple_of(row, ROWS):
        return None
    dma = next(iter(view.result.uses)).operation
    if not isinstance(dma, tile.DmaOp):
        return None
    store = dma.dest is view.result
    onchip = dma.source if store else dma.dest
    if not _whole_alloc(onchip) or onchip.type.element_type != element:
        return None
    if onchip.owner.parent_block() is not dma.parent_block():
        return None  # (one tile per run of the DMA's block)
    if tuple(onchip.type.get_shape()) != (rows, cols):
        return None
    if _written_after(onchip, dma):
        return None
    return _Access(dma, view, onchip, store)


def _live_bytes(function: func.FuncOp) -> list[int]:
    """SBUF bytes per partition live at each top-level position (`tile-allocate`'s
    lifetimes and rotation depths)."""
    count = len(list(function.body.block.ops))
    diff = [0] * (count + 1)
    for interval in lifetimes(function)[Memory.SBUF]:
        diff[interval.start] += interval.size
        diff[interval.end + 1] -= interval.size
    live, running = [], 0
    for p in range(count):
        running += diff[p]
        live.append(running)
    return live


def keep_rows_on_chip(function: func.FuncOp, budget: int) -> list[str]:
    """Keep the scratch tensors described in the module docstring in SBUF; returns the
    names of those kept (their arguments lose every use)."""
    kept: list[str] = []
    candidates = _candidates(function)
    if not candidates:
        return kept
    block = function.body.block
    live = _live_bytes(function)
    ops = list(block.ops)
    index = {op: i for i, op in enumerate(ops)}
    for cand in candidates:
        tops = [index[top_level(a.dma, block)] for a in cand.accesses]
        # from the first stored tile's allocation (it becomes a view of the kept tile)
        first = min(index[top_level(a.onchip.owner, block)] for a in cand.accesses if a.store)
        last = max(tops)
        shape = (ROWS, cand.blocks * cand.width)
        keep_type = BufferType(shape, cand.element, Memory.SBUF, _layout_of(cand))
        size = keep_type.get_layout().bytes_per_partition(shape, cand.element)
        if any(live[p] + size > budget for p in range(first, last + 1)):
            continue
        for p in range(first, last + 1):
            live[p] += size
        whole = tile.AllocOp(keep_type)
        block.insert_op_before(whole, ops[first])
        block.insert_op_after(tile.DeallocOp(whole.result), ops[last])
        for access in cand.accesses:
            _rewrite(access, whole.result, cand.width)
        kept.append(arg_name(function, cand.arg))
    return kept


def _layout_of(cand: _Candidate) -> object:
    for access in cand.accesses:
        return access.onchip.type.layout  # type: ignore[attr-defined]
    raise AssertionError("a candidate has accesses")


def _rewrite(access: _Access, whole: SSAValue, width: int) -> None:
    """The access's on-chip tile becomes a view of `whole`; its DMA goes away."""
    onchip = access.onchip
    alloc = onchip.owner
    assert isinstance(alloc, tile.AllocOp)
    # stores: the tile is written from its allocation on, so the view goes there; loads:
    # the tile is first read after the load, so the view goes at the load
    at: Operation = alloc if access.store else access.dma
    column = _column(access.view, width, at)
    view = tile.ViewOp(whole, [0, column], onchip.type)
    block = at.parent_block()
    assert block is not None
    block.insert_op_before(view, at)
    retire_tile(onchip, view.result, access.dma)
    hbm_view = access.view
    if not hbm_view.result.uses:
        hbm_view.detach()
        hbm_view.erase()
