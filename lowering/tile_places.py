"""Where tile buffers are, for `tile-to-isa`: a `Place` per buffer value (memory, first
partition, byte offset, per-dim strides and extents) from its allocation, views and
reinterprets, and the access patterns of `trn_isa` built from places."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import prod

from xdsl.dialects import func
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.utils.exceptions import DiagnosticException

from trnc.dialects import tile
from trnc.dialects.isa_common import byte_size
from trnc.dialects.tile.types import BufferType
from trnc.dialects.trn_isa.access_pattern import AccessPatternAttr
from trnc.machine import Memory


class LoweringError(DiagnosticException):
    """An op tile-to-isa cannot lower; located at `op`."""

    def __init__(self, message: str, op: Operation) -> None:
        super().__init__(message)
        self.op = op


@dataclass(frozen=True)
class Place:
    """Where a buffer value's elements are: memory, partitions, byte offset of element 0
    and per logical dim (stride in elements within a partition or in HBM, extent)."""

    memory: Memory
    start: int  # first partition (on chip)
    offset: int  # bytes: within each partition on chip, absolute in HBM
    shape: tuple[int, ...]
    strides: tuple[int, ...]  # elements; for the partition dim on chip: partitions
    part_dim: int | None  # on chip: the logical dim on the partition axis
    free_dims: tuple[int, ...]  # on chip: the free dims, outermost first
    dtype: Attribute


def buffer_roots(function: func.FuncOp, seeds: Iterable[SSAValue]) -> dict[SSAValue, SSAValue]:
    """Each of `seeds` and every `tile.view` / `tile.reinterpret` derived from one (in
    program order), mapped to the seed whose bytes it names."""
    roots: dict[SSAValue, SSAValue] = {v: v for v in seeds}
    for op in function.body.walk():
        if isinstance(op, tile.ViewOp | tile.ReinterpretOp) and op.source in roots:
            roots[op.result] = roots[op.source]
    return roots


def row_major(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(prod(shape[i + 1 :]) for i in range(len(shape)))


def onchip_place(op: tile.AllocOp, buf: BufferType) -> Place:
    shape = tuple(buf.get_shape())
    layout = buf.layout
    assert isinstance(layout, tile.LayoutAttr)
    if layout.axis("unroll") or any(layout.factors(d) for d in range(layout.rank)):
        raise LoweringError(
            f"tile-to-isa: layout {layout} splits or unrolls dims, which is not lowered yet",
            op,
        )
    parts = [r.dim for r in layout.axis("part")]
    if len(parts) > 1:
        raise LoweringError(
            f"tile-to-isa: layout {layout} puts {len(parts)} dims on partitions (not lowered yet)",
            op,
        )
    free = tuple(r.dim for r in layout.axis("free"))
    strides = [0] * len(shape)
    running = 1
    for d in reversed(free):
        strides[d] = running
        running *= shape[d]
    part = parts[0] if parts else None
    if part is not None:
        strides[part] = 1
    if op.address is None:
        raise LoweringError("tile-to-isa: buffer has no address; run tile-allocate first", op)
    start = op.start_partition.value.data if op.start_partition is not None else 0
    memory = buf.memory.data
    return Place(
        memory, start, op.address.value.data, shape, tuple(strides), part, free, buf.element_type
    )


def view_place(
    op: tile.ViewOp, parent: Place, buf: BufferType, dynamic: Sequence[int] = ()
) -> Place:
    """The place of a view of `parent`; `dynamic` gives the values of its `index`
    operands (in order), as the loop iteration being unrolled has them."""
    given = iter(dynamic)
    found = [next(given, None) if o is None else o for o in op.static_offset_values()]
    offsets: list[int] = [o for o in found if o is not None]
    if len(offsets) != len(found):
        raise LoweringError("tile-to-isa: a dynamic view offset has no value here", op)
    steps = op.stride_values()
    shape = tuple(buf.get_shape())
    eb = byte_size(parent.dtype)
    strides = tuple(s * k for s, k in zip(parent.strides, steps, strict=True))
    if parent.memory is Memory.HBM:
        delta = sum(o * s for o, s in zip(offsets, parent.strides, strict=True))
        offset = parent.offset + delta * eb
        return Place(parent.memory, 0, offset, shape, strides, None, (), parent.dtype)
    if parent.part_dim is not None and steps[parent.part_dim] != 1:
        raise LoweringError("tile-to-isa: a view cannot step over partitions", op)
    start, offset = parent.start, parent.offset
    for d, o in enumerate(offsets):
        if d == parent.part_dim:
            start += o
        else:
            offset += o * parent.strides[d] * eb
    return Place(
        parent.memory,
        start,
        offset,
        shape,
        strides,
        parent.part_dim,
        parent.free_dims,
        parent.dtype,
    )


def onchip_reinterpret(op: tile.ReinterpretOp, parent: Place, shape: tuple[int, ...]) -> Place:
    """The free dims of a partition-major on-chip buffer reshaped (the same bytes of each
    partition); the source's free dims must be one contiguous run."""
    n = len(parent.shape)
    contiguous = (
        parent.part_dim == 0
        and parent.free_dims == tuple(range(1, n))
        and parent.strides[1:] == row_major(parent.shape[1:])
    )
    if not contiguous:
        raise LoweringError(
            "tile-to-isa: reinterpret of an on-chip view whose free dims are not one "
            "contiguous run is not lowered",
            op,
        )
    return Place(
        parent.memory,
        parent.start,
        parent.offset,
        shape,
        (1, *row_major(shape[1:])),
        0,
        tuple(range(1, len(shape))),
        parent.dtype,
    )


def memory_name(memory: Memory) -> str:
    return memory.value


def onchip_ap(place: Place, dims: list[tuple[int, int]] | None = None) -> AccessPatternAttr:
    """The access pattern of an on-chip place: its partitions, and `dims` as its free
    (step, count) pairs (by default its free dims, merged as far as they go)."""
    count = place.shape[place.part_dim] if place.part_dim is not None else 1
    if dims is None:
        dims = merge_dims([(place.strides[d], place.shape[d]) for d in place.free_dims])
    return AccessPatternAttr(
        memory_name(place.memory),
        (place.start, count),
        place.offset,
        dims,
        place.dtype,
    )


def merge_dims(dims: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop count-1 dims and merge dims that continue their inner neighbour's run."""
    kept = [(s, c) for s, c in dims if c != 1]
    if not kept:
        return [(1, 1)]
    merged = [kept[-1]]
    for step, count in reversed(kept[:-1]):
        inner_step, inner_count = merged[-1]
        if step == inner_step * inner_count:
            merged[-1] = (inner_step, inner_count * count)
        else:
            merged.append((step, count))
    merged.reverse()
    return merged


def hbm_ap(place: Place, like: Place) -> AccessPatternAttr:
    """The HBM side of a DMA with on-chip side `like`: partition-mapped dim and free dims
    follow `like`'s layout so elements correspond one for one."""
    if like.part_dim is not None:
        pstep, pcount = place.strides[like.part_dim], place.shape[like.part_dim]
    else:
        pstep, pcount = 0, 1
    onchip = [(like.strides[d], like.shape[d]) for d in like.free_dims]
    mine = [(place.strides[d], place.shape[d]) for d in like.free_dims]
    dims = merge_pairwise(mine, onchip)
    return AccessPatternAttr("hbm", (pstep, pcount), place.offset, dims, place.dtype)


def merge_pairwise(
    mine: list[tuple[int, int]], other: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Merge adjacent dims only where both sides can (so both patterns keep one shape)."""
    pairs = [(a, b) for a, b in zip(mine, other, strict=True) if a[1] != 1]
    if not pairs:
        return [(1, 1)]
    out = [pairs[-1]]
    for a, b in reversed(pairs[:-1]):
        (ia, ib) = out[-1]
        if a[0] == ia[0] * ia[1] and b[0] == ib[0] * ib[1]:
            out[-1] = ((ia[0], ia[1] * a[1]), (ib[0], ib[1] * b[1]))
        else:
            out.append((a, b))
    out.reverse()
    return [a for a, _ in out]


def onchip_ap_matching(place: Place, other: Place) -> AccessPatternAttr:
    """An on-chip AP whose free dims are merged consistently with the HBM side."""
    mine = [(place.strides[d], place.shape[d]) for d in place.free_dims]
    hbm = [(other.strides[d], other.shape[d]) for d in place.free_dims]
    return onchip_ap(place, merge_pairwise(mine, hbm))
