"""`graph-to-tile` for selection: `graph.where` and `graph.gather`. A mixin of the
function lowerer.

* `where(c, x, y)`: per tile, `y` is loaded (or filled), `x` likewise, and one VectorE
  predicated copy writes `x` where `c` is nonzero: a bit-exact select (NaN, infinities
  and -0.0 included), for any element type. Broadcasts coalesce as in `Compute.binary`
  (one looped leading group): an operand is the full tile, a column (spread along the
  free axis by `1 * v`), a row or one value (spread to the partitions by a K=1 matmul by
  ones, which turns a -0.0 there into +0.0), or a compile-time scalar (a memset).
* `gather` with compile-time indices (a `graph.constant`): one DMA window per run of
  consecutive indices, along any axis, for any element type; an index out of range is a
  located error, as onnxruntime reports one.
* `gather` with indices known only at run time (embeddings, on axis 0): the indirect DMA
  of trn1.md A.3 (on another axis: that axis permuted first, and the result's dims back
  after). Per block of up to 128 indices, the indices are loaded one per partition, wrapped
  when negative and converted to i32 on VectorE, and one `tile.dma_gather` per column
  chunk of the table copies each partition's row into SBUF, stored from there: bit-exact
  for any element type in either dtype (no matmul, no rounding, no finiteness needed). An
  index outside `[-V, V)` is an error when the program runs, as onnxruntime reports one.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    Float32Type,
    IntegerType,
    Signedness,
    TensorType,
)
from xdsl.ir import Attribute, SSAValue

from trnc.dialects import graph as g
from trnc.dialects import tile
from trnc.dialects.graph.base import get_int
from trnc.dialects.isa_common import AluOp
from trnc.dialects.tile.types import BufferType
from trnc.lowering.graph_to_tile_compute import scalar_constant
from trnc.lowering.graph_to_tile_host import LowererHost
from trnc.lowering.tile_builder import (
    FREE_ELEMS,
    TileBuilder,
    broadcast_kind,
    coalesce,
    onchip,
    sbuf,
    spread2d,
    tiles,
)
from trnc.lowering.tile_to_isa import LoweringError
from trnc.machine import TRN1, Engine

PREDICATE = IntegerType(8, Signedness.UNSIGNED)
"""The element type of a predicated copy's predicate tile (trn1.md B.3: ui8/16/32)."""


def _shape(value: SSAValue) -> tuple[int, ...]:
    t = value.type
    assert isinstance(t, TensorType)
    return tuple(t.get_shape())


def _element(value: SSAValue) -> Attribute:
    t = value.type
    assert isinstance(t, TensorType)
    return t.get_element_type()


def constant_ints(value: SSAValue) -> np.ndarray | None:
    """The values of a `graph.constant` of integers as an int64 array, else None."""
    owner = value.owner
    if not isinstance(owner, g.ConstantOp) or not isinstance(owner.value, DenseIntOrFPElementsAttr):
        return None
    values = np.asarray(owner.value.get_values(), dtype=np.int64)
    count = prod(_shape(value))
    return np.broadcast_to(values, (count,)) if values.size == 1 else values.reshape(count)


@dataclass(frozen=True)
class _WhereOperand:
    """How a where operand meets the result's coalesced 2-D blocks: `full`, `col`, `row`,
    `one` (one value per block) from `buffer` (`block_rows` rows per leading block, 0 when
    the operand is not repeated per block), or a compile-time `scalar` of `value`."""

    kind: str
    buffer: SSAValue | None
    block_rows: int
    value: float = 0.0


class Selection(LowererHost):
    """`where` and `gather`; the host class provides `buffers`, `dtype`, `_copy_window`."""

    # --- where -----------------------------------------------------------------------

    def where(self, op: g.WhereOp, b: TileBuilder) -> None:
        out = _shape(op.result)
        element = onchip(_element(op.result))
        values = (op.condition, op.x, op.y)
        merged_out, merged = coalesce(out, [_shape(v) for v in values])
        if len(merged_out) > 3:
            raise LoweringError(
                f"graph-to-tile: where with operands {[str(v.type) for v in values]} is not "
                "lowered yet (lowered: broadcasts that coalesce to at most three groups of dims)",
                op,
            )
        # Up to one leading group is looped over, as in `Compute.binary`.
        outer = merged_out[0] if len(merged_out) == 3 else 1
        tail = merged_out[1:] if len(merged_out) == 3 else merged_out
        out2 = (1,) * (2 - len(tail)) + tuple(tail)
        if len(merged_out) <= 1 and all(
            m == tuple(merged_out) or scalar_constant(v) is not None
            for v, m in zip(values, merged, strict=True)
        ):  # plain elementwise: spread over the partitions
            tail = spread2d(out)
            merged = [tail if m == tuple(merged_out) else (1, 1) for m in merged]
            out2 = tail
        rows, cols = out2
        sources: list[_WhereOperand] = []
        for value, shape in zip(values, merged, strict=True):
            lead = shape[0] if len(merged_out) == 3 else 1
            shape2 = (1,) * (2 - len(tail)) + tuple(shape[len(shape) - len(tail) :])
            scalar = scalar_constant(value)
            kind = broadcast_kind(shape2, out2)
            if scalar is not None and prod(_shape(value)) == 1:
                sources.append(_WhereOperand("scalar", None, 0, scalar))
                continue
            if kind is None and shape2 == (1, 1):
                kind = "one"
            if kind is None:
                raise LoweringError(
                    f"graph-to-tile: where with operands {[str(v.type) for v in values]} is "
                    "not lowered yet (an operand broadcast along both dims of a group)",
                    op,
                )
            buf = b.reinterpret(self.buffers[value], (lead * shape2[0], shape2[1]))
            sources.append(_WhereOperand(kind, buf, shape2[0] if lead > 1 else 0))
        cond, x, y = sources
        dst = b.reinterpret(self.buffers[op.result], (outer * rows, cols))
        select = cond.kind != "scalar"
        if not select:  # decided at compile time
            y = x if cond.value != 0 else y
        spread = {"row", "one"} & {s.kind for s in (x, y, cond) if select or s is y}
        ones = None
        if spread:
            ones = b.ones_row()
        free = TRN1.matmul_max_moving_free if "row" in spread else FREE_ELEMS
        for block in range(outer):
            for r0, c0, p, f in tiles(rows, cols, free):
                temps: list[SSAValue] = []
                at = (block, r0, c0, p, f)
                result = self._where_operand(y, at, element, ones, temps, b)
                if select:
                    on_true = self._where_operand(x, at, element, ones, temps, b)
                    pred = self._where_operand(cond, at, PREDICATE, ones, temps, b)
                    b.add(tile.CopyPredicatedOp(on_true, pred, result))
                b.store(result, dst, block * rows + r0, c0)
                b.free(*temps)
        if ones is not None:
            b.free(ones)

    def _where_operand(
        self,
        source: _WhereOperand,
        at: tuple[int, int, int, int, int],
        element: Attribute,
        ones: SSAValue | None,
        temps: list[SSAValue],
        b: TileBuilder,
    ) -> SSAValue:
        """The `[p, f]` SBUF tile at rows `r0`, columns `c0` of leading block `block` of a
        where operand, in `element` (appended to `temps`)."""
        block, r0, c0, p, f = at
        base = block * source.block_rows
        if source.kind == "full":  # a predicate is loaded as ui8: the DMA converts 1.0 to 1
            assert source.buffer is not None
            tile_ = b.load(source.buffer, base + r0, c0, (p, f), element=element)
            temps.append(tile_)
            return tile_
        tile_ = b.alloc(sbuf((p, f), element))
        temps.append(tile_)
        if source.kind == "scalar":
            b.add(tile.MemsetOp(tile_, source.value))
            return tile_
        assert source.buffer is not None
        wide = b.alloc(sbuf((p, f), onchip(element)))
        b.add(tile.MemsetOp(wide, 1.0))
        if source.kind == "col":  # one value per row: 1 * v = v, even -0.0
            column = b.load(source.buffer, base + r0, 0, (p, 1))
            b.add(tile.TensorScalarOp(AluOp.MUL, wide, column, wide))
            b.free(column)
        else:  # a row (or one value) spread to the partitions by a K=1 matmul by ones
            assert ones is not None
            width = f if source.kind == "row" else 1
            row = b.load(source.buffer, base, c0 if source.kind == "row" else 0, (1, width))
            spread = b.spread(ones, row, p)
            if source.kind == "row":
                b.add(tile.CopyOp(spread, wide, Engine.VECTOR))
            else:
                b.add(tile.TensorScalarOp(AluOp.MUL, wide, spread, wide))
            b.free(row, spread)
        b.add(tile.CopyOp(wide, tile_, Engine.VECTOR))
        b.free(wide)
        return tile_

    # --- gather ----------------------------------------------------------------------

    def gather(self, op: g.GatherOp, b: TileBuilder) -> None:
        data = _shape(op.data)
        axis = get_int(op.axis) % len(data)
        indices = constant_ints(op.indices)
        if indices is not None:
            self._gather_static(op, data, axis, indices, b)
        elif axis == 0:
            self._gather_rows(self.buffers[op.data], data, op, self.buffers[op.result], b)
        else:  # the axis moved first, gathered there, the result's dims moved back
            element = _element(op.data)
            moved_shape = (data[axis], *data[:axis], *data[axis + 1 :])
            moved = self.temporary(moved_shape, element, op)
            perm = [axis, *range(axis), *range(axis + 1, len(data))]
            self.permute(self.buffers[op.data], data, perm, moved, op, b)
            ni = len(_shape(op.indices))
            if ni == 0:  # one index: the result has the data's order already
                self._gather_rows(moved, moved_shape, op, self.buffers[op.result], b)
                return
            picked_shape = (*_shape(op.indices), *moved_shape[1:])
            picked = self.temporary(picked_shape, element, op)
            self._gather_rows(moved, moved_shape, op, picked, b)
            back = [*range(ni, ni + axis), *range(ni), *range(ni + axis, len(picked_shape))]
            self.permute(picked, picked_shape, back, self.buffers[op.result], op, b)

    def _gather_static(
        self, op: g.GatherOp, data: tuple[int, ...], axis: int, indices: np.ndarray, b: TileBuilder
    ) -> None:
        size = data[axis]
        wrapped = np.where(indices < 0, indices + size, indices)
        bad = np.flatnonzero((wrapped < 0) | (wrapped >= size))
        if bad.size:
            raise LoweringError(
                f"graph-to-tile: gather index {int(indices[bad[0]])} is out of range for "
                f"axis {axis} of size {size}",
                op,
            )
        picked = [int(i) for i in wrapped]
        self.take(self.buffers[op.data], data, axis, picked, self.buffers[op.result], b)

    def _gather_rows(
        self,
        source: SSAValue,
        data: tuple[int, ...],
        op: g.GatherOp,
        result: SSAValue,
        b: TileBuilder,
    ) -> None:
        """Rows of `source` (a tensor of shape `data`) at `op`'s run-time indices into
        `result`, by indirect DMA (see the module docstring)."""
        vocab, width = data[0], prod(data[1:])
        count = prod(_shape(op.indices))
        table = b.reinterpret(source, (vocab, width))
        ids = b.reinterpret(self.buffers[op.indices], (count, 1))
        dst = b.reinterpret(result, (count, width))
        table_type = table.type
        assert isinstance(table_type, BufferType)
        stored = table_type.element_type
        for n0 in range(0, count, TRN1.partitions):
            nt = min(TRN1.partitions, count - n0)
            row = b.load(ids, n0, 0, (nt, 1))  # exact f32 values on chip
            wrap = b.alloc(sbuf((nt, 1), Float32Type()))
            b.add(tile.TensorScalarOp(AluOp.LT, row, 0.0, wrap))
            b.add(tile.TensorScalarOp(AluOp.MUL, wrap, float(vocab), wrap))
            b.add(tile.TensorTensorOp(AluOp.ADD, row, wrap, row))
            index = b.alloc(sbuf((nt, 1), IntegerType(32)))
            b.add(tile.CopyOp(row, index, Engine.VECTOR))
            b.free(row, wrap)
            for c0 in range(0, width, FREE_ELEMS):
                dc = min(FREE_ELEMS, width - c0)
                rows = b.alloc(sbuf((nt, dc), stored))
                b.add(tile.DmaGatherOp(b.view(table, (0, c0), (vocab, dc)), index, rows))
                b.store(rows, dst, n0, c0)
                b.free(rows)
            b.free(index)
