"""The `tile-plan-memory` pass: residency. Intermediate tensors stay in SBUF instead of
going to HBM and back; what does not fit is spilled (kept in HBM) by furthest next use.

`graph-to-tile` lowers op by op: each op's result tiles are stored to an HBM buffer and
the next op loads them again. This pass rewrites a tile function so a load whose HBM
bytes were stored (or loaded) earlier from an SBUF tile of the same type, with neither
the bytes nor the tile written since, reads that tile instead:

    tile.dma %a -> %t[rows]          // store (kept only while some load still needs it)
    %b = tile.alloc ...              // \
    tile.dma %t[rows] -> %b          //  } gone: every use of %b uses %a
    ... %b ...                       // /

A load of a column window of the held bytes (on the same partitions) reads a
`tile.view` of the holder; a load into a window of a bigger tile (which other ops also
write) becomes a copy on GpSimdE. A scratch HBM buffer whose every load is forwarded
loses its stores and its argument (no HBM bytes, no DMAs); stores to outputs always
stay. Weights and inputs loaded more than once are loaded once while the tile fits.

Budget (Belady): a forwarded tile stays live from its last use to the forwarded load's
last use. Sweeping the program in order with the SBUF live bytes per partition, wherever
that would take the live set over `budget` (or over the program's own peak there, if
higher), the holder whose next forwarded load is furthest is evicted: that load and its
holder's later ones stay HBM reloads (spills; their bytes are `spill_bytes`). So the
live set is never taken above what the budget allows, and a program that allocated
before still allocates.

Decisions on the IR: each scratch argument gets `tile.residency = "sbuf"` (all its loads
forwarded; the argument is then removed and its name listed in the function's
`tile.resident`) or `"hbm"`; the function gets `tile.spill_bytes`. An argument that
already has `tile.residency = "hbm"` is left alone (the override). Only top-level ops of
the function are rewritten; an HBM buffer touched inside a loop or through a dynamic view
is left as it is, unless `loop_rows` keeps it whole (`tile_loop_residency.py`).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    FunctionType,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    i64,
)
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass

from trnc.dialects import tile
from trnc.lowering.tile_loop_residency import keep_rows_on_chip
from trnc.lowering.tile_loops import top_level
from trnc.lowering.tile_places import row_major
from trnc.lowering.tile_regions import (
    HbmPlace,
    Region,
    arg_name,
    arg_role,
    buffer_shape,
    bytes_per_partition,
    memory_of,
    retire_tile,
    row_key,
    set_arg_attr,
    view_part_start,
    window,
    written_operands,
)
from trnc.machine import TRN1, Engine, Memory
from trnc.pass_statistics import record

RESIDENCY_ATTR = "tile.residency"
RESIDENT_ATTR = "tile.resident"
SPILL_ATTR = "tile.spill_bytes"

DEFAULT_BUDGET = TRN1.sbuf_budget_bytes_per_partition * 3 // 4
"""Default live-bytes budget per partition: three quarters of the allocation budget, so
`tile-allocate` keeps room to rotate buffers and absorb fragmentation."""

COPY_ENGINE = Engine.GPSIMD
"""Engine of the copies that replace loads into windows of bigger tiles (the engine with
the least other work in the lowered models)."""


@dataclass
class _Load:
    op: tile.DmaOp
    pos: int
    region: Region
    dest: SSAValue
    holder: SSAValue | None = None  # the tile it reads instead, when forwarded
    column: int | None = None  # the holder's first column it reads, when a window of it
    copy: bool = False  # forwarded as an engine copy into its tile (not replacing the tile)
    root: SSAValue | None = None  # the allocation that holds its bytes, when forwarded
    extend: tuple[int, int, int] | None = None  # positions its holder's root is kept live, bytes
    bytes: int = 0


@dataclass
class _Plan:
    loads: list[_Load] = field(default_factory=list)
    spill_bytes: int = 0


class _Planner:
    def __init__(self, function: func.FuncOp, budget: int) -> None:
        self.function = function
        self.budget = budget
        self.block = function.body.block
        self.top = list(self.block.ops)
        self.pos: dict[Operation, int] = {op: i for i, op in enumerate(self.top)}
        self.places: dict[SSAValue, HbmPlace | None] = {}
        self.sbuf_root: dict[SSAValue, SSAValue] = {}
        self.part_start: dict[SSAValue, int | None] = {}  # first partition, when static
        self.writes: dict[SSAValue, list[int]] = {}
        self.last_use: dict[SSAValue, int] = {}
        self.alloc_pos: dict[SSAValue, int] = {}
        self.excluded: set[SSAValue] = set()  # HBM args left alone
        self.accesses: dict[SSAValue, list[tuple[int, str, HbmPlace, Operation]]] = {}

    # -- facts ---------------------------------------------------------------------
    def top_pos(self, op: Operation) -> int:
        return self.pos[top_level(op, self.block)]

    def analyse(self) -> None:
        args = self.block.args
        attrs = self.function.arg_attrs
        for i, arg in enumerate(args):
            if memory_of(arg) is not Memory.HBM:
                continue
            shape = buffer_shape(arg)
            self.places[arg] = HbmPlace(arg, 0, shape, row_major(shape))
            arg_attrs = attrs.data[i].data if attrs is not None else {}
            residency = arg_attrs.get(RESIDENCY_ATTR)
            if isinstance(residency, StringAttr) and residency.data == "hbm":
                self.excluded.add(arg)
        for op in self.function.body.walk():
            p = self.top_pos(op)
            nested = op.parent_op() is not self.function
            if isinstance(op, tile.AllocOp):
                self.sbuf_root[op.result] = op.result
                start = op.start_partition
                self.part_start[op.result] = start.value.data if start is not None else 0
                self.alloc_pos[op.result] = p
                self.last_use[op.result] = p
                continue
            if isinstance(op, tile.ViewOp | tile.ReinterpretOp):
                self._derive(op)
            for operand in op.operands:
                root = self.sbuf_root.get(operand)
                if root is not None and not isinstance(op, tile.DeallocOp):
                    self.last_use[root] = max(self.last_use[root], p)
                if operand in self.places and not isinstance(op, tile.ViewOp | tile.ReinterpretOp):
                    self._access(op, operand, p, nested)
            for value in written_operands(op):
                root = self.sbuf_root.get(value)
                if root is not None:
                    self.writes.setdefault(root, []).append(p)

    def _derive(self, op: tile.ViewOp | tile.ReinterpretOp) -> None:
        source = op.source
        if source in self.sbuf_root:
            self.sbuf_root[op.result] = self.sbuf_root[source]
            self.part_start[op.result] = view_part_start(op, self.part_start.get(source))
            return
        if source not in self.places:
            return
        parent = self.places[source]
        place: HbmPlace | None = None
        if parent is not None and isinstance(op, tile.ReinterpretOp):
            if parent.strides == row_major(parent.shape):
                shape = buffer_shape(op.result)
                place = HbmPlace(parent.arg, parent.offset, shape, row_major(shape))
        elif parent is not None and isinstance(op, tile.ViewOp):
            offsets = op.static_offset_values()
            if all(o is not None for o in offsets):
                delta = sum(o * s for o, s in zip(offsets, parent.strides, strict=True) if o)
                steps = op.stride_values()
                strides = tuple(s * k for s, k in zip(parent.strides, steps, strict=True))
                shape = buffer_shape(op.result)
                place = HbmPlace(parent.arg, parent.offset + delta, shape, strides)
        if place is None:
            root = parent.arg if parent is not None else None
            if root is not None:
                self.excluded.add(root)
        self.places[op.result] = place

    def _access(self, op: Operation, value: SSAValue, p: int, nested: bool) -> None:
        place = self.places[value]
        if place is None:
            return  # its argument is excluded already
        arg = place.arg
        if nested:
            self.excluded.add(arg)
            return
        kind = "other"
        if isinstance(op, tile.DmaOp):
            kind = "store" if value is op.dest else "load"
        self.accesses.setdefault(arg, []).append((p, kind, place, op))

    # -- decisions -----------------------------------------------------------------
    def _written_after(self, root: SSAValue, after: int, until: int) -> bool:
        return any(after < w <= until for w in self.writes.get(root, ()))

    def candidates(self) -> list[_Load]:
        loads: list[_Load] = []
        for arg, accesses in self.accesses.items():
            if arg in self.excluded:
                continue
            holders: dict[Region, tuple[SSAValue, int, HbmPlace]] = {}
            rows: dict[tuple[int, ...], list[Region]] = {}  # `row_key` -> regions
            for p, kind, place, op in sorted(accesses, key=lambda a: a[0]):
                region = place.region()
                lo, hi = region.span()
                if kind == "store":
                    assert isinstance(op, tile.DmaOp)
                    for key in [k for k in holders if not (k.span()[1] < lo or hi < k.span()[0])]:
                        del holders[key]
                    if self.sbuf_root.get(op.source) is not None:
                        self._hold(holders, rows, region, (op.source, p, place))
                    continue
                if kind != "load":
                    continue
                assert isinstance(op, tile.DmaOp)
                dest = op.dest
                load = _Load(op, p, region, dest)
                load.bytes = tile.dma_moved_bytes(op)
                loads.append(load)
                if memory_of(dest) is not Memory.SBUF or self.part_start.get(dest) is None:
                    continue
                # The load's tile is replaced by the holder when nothing else writes it;
                # otherwise (a window of a bigger tile) the load becomes an engine copy.
                load.copy = not (
                    isinstance(dest.owner, tile.AllocOp) and self.writes.get(dest, []) == [p]
                )
                if self._forward(load, place, holders, rows):
                    continue
                if not load.copy:
                    self._hold(holders, rows, region, (dest, p, place))
        return loads

    @staticmethod
    def _hold(
        holders: dict[Region, tuple[SSAValue, int, HbmPlace]],
        rows: dict[tuple[int, ...], list[Region]],
        region: Region,
        entry: tuple[SSAValue, int, HbmPlace],
    ) -> None:
        holders[region] = entry
        key = row_key(entry[2])
        if key is not None:
            rows.setdefault(key, []).append(region)

    def _forward(
        self,
        load: _Load,
        place: HbmPlace,
        holders: dict[Region, tuple[SSAValue, int, HbmPlace]],
        rows: dict[tuple[int, ...], list[Region]],
    ) -> bool:
        """Forward `load` from the tile holding its bytes (the same ones, or a column
        window of them on the same partitions), if that tile is not written before the
        load's last use."""
        dest = load.dest
        found: list[tuple[tuple[SSAValue, int, HbmPlace], int | None]] = []
        held = holders.get(load.region)
        if held is not None and held[0].type == dest.type:
            found.append((held, None))
        key = row_key(place)
        for region in rows.get(key, ()) if key is not None else ():
            entry = holders.get(region)
            if entry is not None:
                column = window(place, entry[2], entry[0].type, dest.type)
                if column is not None:
                    found.append((entry, column))
        until = load.pos if load.copy else self.last_use[dest]
        for (value, since, _), column in found:
            root = self.sbuf_root[value]
            if self.part_start.get(value) != self.part_start[dest]:
                continue  # another partition range: only a DMA moves data across
            if load.copy and memory_of(value) is not Memory.SBUF:
                continue
            if not self._written_after(root, since, until):
                load.holder = value
                load.column = column
                return True
        return False

    def plan(self) -> _Plan:
        plan = _Plan(self.candidates())
        # A forwarded load keeps its holder's root live from the holder's last use so far
        # to the load's last use (+ the root's bytes there), and its own tile is never
        # allocated (- its bytes over its lifetime).
        end: dict[SSAValue, int] = {}
        resolved: dict[SSAValue, SSAValue] = {}
        for load in sorted(plan.loads, key=lambda ld: ld.pos):
            if load.holder is None:
                continue
            holder = load.holder
            while holder in resolved:
                holder = resolved[holder]
            root = self.sbuf_root[holder]
            current = end.get(root, self.last_use[root])
            new_end = max(current, load.pos if load.copy else self.last_use[load.dest])
            load.extend = (current + 1, new_end, bytes_per_partition(root))
            load.root = root
            end[root] = new_end
            if not load.copy:
                resolved[load.dest] = holder
        self._fit(plan)
        return plan

    def _fit(self, plan: _Plan) -> None:
        """Belady: sweeping the program, wherever the live bytes per partition would
        exceed the budget (or the program's own peak there, if higher), give up the
        forwarded load whose next use is furthest (it stays a reload from HBM) until
        they do not."""
        n = len(self.top) + 2
        diff = [0] * (n + 1)

        def add(lo: int, hi: int, size: int) -> None:
            if lo <= hi:
                diff[lo] += size
                diff[hi + 1] -= size

        for root, start in self.alloc_pos.items():
            if memory_of(root) is Memory.SBUF:
                add(start, self.last_use[root], bytes_per_partition(root))
        base = list(diff)  # the program as it is: forwarding may not take it higher
        starts: dict[int, list[_Load]] = {}
        for load in plan.loads:
            if load.holder is None or load.extend is None:
                continue
            lo, hi, size = load.extend
            add(lo, hi, size)
            if not load.copy:
                size_b = bytes_per_partition(load.dest)
                add(self.alloc_pos[load.dest], self.last_use[load.dest], -size_b)
            starts.setdefault(min(lo, self._next_use(load)), []).append(load)
        by_root: dict[SSAValue, list[_Load]] = {}
        for load in sorted(plan.loads, key=lambda ld: ld.pos):
            if load.holder is not None and load.root is not None:
                by_root.setdefault(load.root, []).append(load)
        live = base_live = 0
        furthest: list[tuple[int, int, _Load]] = []  # (-next use, id, load)
        for p in range(n):
            live += diff[p]
            base_live += base[p]
            for load in starts.get(p, ()):
                heapq.heappush(furthest, (-self._next_use(load), id(load), load))
            while live > max(self.budget, base_live) and furthest:
                _, _, first = heapq.heappop(furthest)
                assert first.extend is not None and first.root is not None
                if first.holder is None or first.extend[1] < p:
                    continue  # given up already, or over: giving it up frees nothing now
                # Evict the holder: this load and every later one it would serve reload.
                for load in by_root[first.root]:
                    if load.pos < first.pos or load.holder is None:
                        continue
                    assert load.extend is not None
                    lo, hi, size = load.extend
                    live -= _undo(diff, p, lo, hi, size)
                    if not load.copy:
                        b_lo, b_hi = self.alloc_pos[load.dest], self.last_use[load.dest]
                        live -= _undo(diff, p, b_lo, b_hi, -bytes_per_partition(load.dest))
                    load.holder = None
                    plan.spill_bytes += load.bytes

    def _next_use(self, load: _Load) -> int:
        """Where the holder is next needed for `load`: its tile's allocation (or, for a
        copy, the copy itself)."""
        return load.pos if load.copy else self.alloc_pos[load.dest]

    # -- rewriting -----------------------------------------------------------------
    def apply(self, plan: _Plan) -> list[str]:
        """Rewrite the function; returns the names of the scratch buffers made resident."""
        replaced: dict[SSAValue, SSAValue] = {}
        forwarded: list[_Load] = []
        held: set[SSAValue] = set()
        for load in sorted(plan.loads, key=lambda ld: ld.pos):
            if load.holder is None:  # not forwarded, or spilled: a load from HBM
                continue
            holder = load.holder
            while holder in replaced:
                holder = replaced[holder]
            dest = load.dest
            if load.column is not None:
                view = tile.ViewOp(holder, [0, load.column], dest.type)
                self.block.insert_op_before(view, load.op)
                self.sbuf_root[view.result] = self.sbuf_root[holder]
                holder = view.result
            load.holder = holder
            forwarded.append(load)
            held.add(self.sbuf_root[holder])
            if load.copy:  # into a window of a bigger tile: an engine copy
                self.block.insert_op_before(tile.CopyOp(holder, dest, COPY_ENGINE), load.op)
                load.op.detach()
                load.op.erase()
                continue
            replaced[dest] = holder
            retire_tile(dest, holder, load.op)
        self._redealloc(held)
        return self._drop_dead_stores(forwarded)

    def _redealloc(self, roots: set[SSAValue]) -> None:
        """Free each of `roots` once, after its last use (forwarding made it live longer)."""
        if not roots:
            return
        derived: dict[SSAValue, SSAValue] = {r: r for r in roots}
        last: dict[SSAValue, Operation] = {}
        frees: list[Operation] = []
        for op in self.block.ops:
            for inner in op.walk():
                if isinstance(inner, tile.ViewOp) and inner.source in derived:
                    derived[inner.result] = derived[inner.source]
                for operand in inner.operands:
                    root = derived.get(operand)
                    if root is None:
                        continue
                    if isinstance(inner, tile.DeallocOp):
                        frees.append(inner)
                    else:
                        last[root] = op
        for free in frees:
            free.detach()
            free.erase()
        for root, op in last.items():
            self.block.insert_op_after(tile.DeallocOp(root), op)

    def _drop_dead_stores(self, forwarded: list[_Load]) -> list[str]:
        gone = {id(ld.op) for ld in forwarded}
        resident: list[str] = []
        attrs = self.function.arg_attrs
        for arg, accesses in self.accesses.items():
            if arg in self.excluded or arg_role(self.function, arg) != "scratch":
                continue
            reads = [
                place.region().span()
                for _, kind, place, op in accesses
                if kind != "store" and id(op) not in gone
            ]
            for _, kind, place, op in accesses:
                if kind != "store":
                    continue
                lo, hi = place.region().span()
                if any(not (b < lo or hi < a) for a, b in reads):
                    continue
                op.detach()
                op.erase()
            set_arg_attr(self.function, arg, RESIDENCY_ATTR, "hbm" if reads else "sbuf")
            if not reads:
                resident.append(arg_name(self.function, arg))
        del attrs
        self._erase_unused_args()
        return resident

    def _erase_unused_args(self) -> None:
        changed = True
        while changed:  # views of views
            changed = False
            for op in list(self.block.ops):
                if isinstance(op, tile.ViewOp | tile.ReinterpretOp) and not op.result.uses:
                    op.detach()
                    op.erase()
                    changed = True
        attrs = self.function.arg_attrs
        keep = [
            i
            for i, arg in enumerate(self.block.args)
            if arg.uses or arg_role(self.function, arg) != "scratch"
        ]
        if len(keep) == len(self.block.args):
            return
        for i in reversed(range(len(self.block.args))):
            if i not in keep:
                self.block.erase_arg(self.block.args[i])
        inputs = [self.function.function_type.inputs.data[i] for i in keep]
        outputs = list(self.function.function_type.outputs.data)
        self.function.function_type = FunctionType.from_lists(inputs, outputs)
        if attrs is not None:
            self.function.arg_attrs = ArrayAttr([attrs.data[i] for i in keep])


def plan_memory(
    function: func.FuncOp, budget: int = DEFAULT_BUDGET, loop_rows: bool = False
) -> tuple[list[str], int]:
    """Run the pass on one function; returns (resident scratch names, spill bytes)."""
    kept = keep_rows_on_chip(function, budget) if loop_rows else []
    planner = _Planner(function, budget)
    planner.analyse()
    plan = planner.plan()
    resident = kept + planner.apply(plan)
    function.attributes[RESIDENT_ATTR] = ArrayAttr([StringAttr(n) for n in resident])
    function.attributes[SPILL_ATTR] = IntegerAttr(plan.spill_bytes, i64)
    return resident, plan.spill_bytes


@dataclass(frozen=True)
class TilePlanMemory(ModulePass):
    """Keep intermediate tiles in SBUF (see the module docstring)."""

    name = "tile-plan-memory"

    budget: int = DEFAULT_BUDGET
    """Live bytes per partition the forwarded tiles may take the program to."""

    loop_rows: bool = False
    """Also keep in SBUF, whole, scratch tensors whose row blocks loops store and load
    (`tile_loop_residency.py`); off by default: measured on one BERT layer at batch 4 x
    seq 512, it cut DMA from 116.5 to 88.2 MB but took 869.6 to 968.9 us (the kept
    tensors, up to 48 KiB a partition each, left less SBUF to rotate buffers in)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.ops:
            if isinstance(function, func.FuncOp) and not function.is_declaration:
                resident, spilled = plan_memory(function, self.budget, self.loop_rows)
                record(self.name, "resident", len(resident), "scratch tensors kept on chip")
                record(self.name, "spill-bytes", spilled, "bytes spilled to HBM and back")


def _undo(diff: list[int], p: int, lo: int, hi: int, size: int) -> int:
    """Remove `size` over [lo, hi] from position `p` on (the sweep is at `p`); returns
    what it contributed at `p`."""
    lo = max(lo, p)
    if lo > hi:
        return 0
    diff[hi + 1] += size
    if lo > p:
        diff[lo] -= size
        return 0
    return size
