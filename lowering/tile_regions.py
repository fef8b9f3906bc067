"""What `tile-plan-memory` (and `tile-prefetch`) know about tile buffers: the HBM region
a view names (`HbmPlace`, `Region`), where a load lies inside a held tile (`window`,
`row_key`), the first partition of an on-chip view, the buffers an op writes, and the
attributes of a tile function's arguments."""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, StringAttr
from xdsl.ir import Attribute, Operation, SSAValue

from trnc.dialects import tile
from trnc.dialects.tile.types import BufferType
from trnc.lowering.tile_places import merge_dims
from trnc.lowering.tile_to_isa import NAME_ATTR, ROLE_ATTR
from trnc.machine import Memory

_WRITTEN = ("dest", "output", "acc", "accum")
"""Operand names through which tile ops write a buffer."""


def written_operands(op: Operation) -> list[SSAValue]:
    """The buffers `op` writes."""
    out: list[SSAValue] = []
    for name in _WRITTEN:
        value = getattr(op, name, None)
        if isinstance(value, SSAValue):
            out.append(value)
    return out


@dataclass(frozen=True)
class Region:
    """The HBM elements a view names, in its row-major order: argument, element offset
    and (stride, count) runs merged as far as they go."""

    arg: SSAValue
    offset: int
    runs: tuple[tuple[int, int], ...]

    def span(self) -> tuple[int, int]:
        lo = self.offset
        hi = self.offset + sum(s * (c - 1) for s, c in self.runs)
        return lo, hi


def runs(shape: tuple[int, ...], strides: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    return tuple(merge_dims(list(zip(strides, shape, strict=True))))


@dataclass
class HbmPlace:
    arg: SSAValue
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]

    def region(self) -> Region:
        return Region(self.arg, self.offset, runs(self.shape, self.strides))


def buffer_shape(value: SSAValue) -> tuple[int, ...]:
    buf = value.type
    assert isinstance(buf, BufferType)
    return tuple(buf.get_shape())


def memory_of(value: SSAValue) -> Memory | None:
    buf = value.type
    return buf.memory.data if isinstance(buf, BufferType) else None


def arg_index(function: func.FuncOp, arg: SSAValue) -> int:
    return next(i for i, a in enumerate(function.body.block.args) if a is arg)


def arg_attr(function: func.FuncOp, arg: SSAValue, name: str) -> Attribute | None:
    attrs = function.arg_attrs
    if attrs is None:
        return None
    return attrs.data[arg_index(function, arg)].data.get(name)


def arg_role(function: func.FuncOp, arg: SSAValue) -> str | None:
    role = arg_attr(function, arg, ROLE_ATTR)
    return role.data if isinstance(role, StringAttr) else None


def arg_name(function: func.FuncOp, arg: SSAValue) -> str:
    name = arg_attr(function, arg, NAME_ATTR)
    return name.data if isinstance(name, StringAttr) else f"arg{arg_index(function, arg)}"


def set_arg_attr(function: func.FuncOp, arg: SSAValue, name: str, value: str) -> None:
    attrs = function.arg_attrs
    if attrs is None:
        return
    index = arg_index(function, arg)
    entries = list(attrs.data)
    entries[index] = DictionaryAttr({**entries[index].data, name: StringAttr(value)})
    function.arg_attrs = ArrayAttr(entries)


def view_part_start(op: tile.ViewOp | tile.ReinterpretOp, parent: int | None) -> int | None:
    """The first partition of an on-chip view (None when it is not static)."""
    if parent is None or not isinstance(op, tile.ViewOp):
        return None
    buf = op.source.type
    assert isinstance(buf, BufferType)
    layout = buf.layout
    assert isinstance(layout, tile.LayoutAttr)
    parts = layout.axis("part")
    if len(parts) != 1 or layout.factors(parts[0].dim):
        return None
    offset = op.static_offset_values()[parts[0].dim]
    return None if offset is None else parent + offset


def row_key(place: HbmPlace) -> tuple[int, ...] | None:
    """Tiles of a 2-D view over the same rows share a key (column windows are looked up
    among them)."""
    if len(place.shape) != 2 or place.shape[0] < 2 or place.strides[0] <= 0:
        return None
    return (place.strides[0], place.strides[1], place.shape[0], place.offset // place.strides[0])


def window(
    load: HbmPlace, held: HbmPlace, held_type: Attribute, dest_type: Attribute
) -> int | None:
    """The first column of `held` (a 2-D SBUF tile's HBM place) at which the load's
    columns lie, on the same partitions; None if they do not."""
    if not isinstance(held_type, BufferType) or not isinstance(dest_type, BufferType):
        return None
    if (
        held_type.element_type != dest_type.element_type
        or held_type.memory != dest_type.memory
        or held_type.layout != dest_type.layout
        or len(held.shape) != 2
        or tuple(dest_type.get_shape()) != load.shape
    ):
        return None
    (p, f), (t0, t1) = held.shape, held.strides
    if load.shape[0] != p or (load.strides[0] != t0) or t1 <= 0 or t0 < f * t1:
        return None
    if load.shape[1] > 1 and load.strides[1] != t1:
        return None
    delta = load.offset - held.offset
    if delta % t1:
        return None
    column = delta // t1
    if column < 0 or column + load.shape[1] > f:
        return None
    return column


def bytes_per_partition(value: SSAValue) -> int:
    buf = value.type
    assert isinstance(buf, BufferType)
    layout = buf.layout
    assert isinstance(layout, tile.LayoutAttr)
    return layout.bytes_per_partition(buf.get_shape(), buf.element_type)


def retire_tile(tile_value: SSAValue, by: SSAValue, dma: Operation) -> None:
    """An SBUF tile (an alloc's result) that `by` now stands for: its deallocs and the DMA
    that filled or emptied it are erased, its uses take `by`, its alloc goes."""
    alloc = tile_value.owner
    assert isinstance(alloc, tile.AllocOp)
    for use in list(tile_value.uses):
        if isinstance(use.operation, tile.DeallocOp):
            use.operation.detach()
            use.operation.erase()
    dma.detach()
    dma.erase()
    tile_value.replace_all_uses_with(by)
    alloc.detach()
    alloc.erase()
