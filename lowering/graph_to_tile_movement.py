"""`graph-to-tile` for data movement: transpose (TensorE blocks), concat, slices (strided
DMAs), reshape (a no-copy reinterpret) and copies. A mixin of the function lowerer."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product
from math import prod

from xdsl.dialects.builtin import (
    TensorType,
)
from xdsl.ir import Operation, SSAValue

from trnc.dialects import graph as g
from trnc.dialects import tile
from trnc.dialects.graph.base import get_int, get_ints
from trnc.dialects.tile.types import BufferType
from trnc.lowering.graph_to_tile_host import LowererHost
from trnc.lowering.tile_builder import (
    FREE_ELEMS,
    TileBuilder,
    onchip,
    psum,
    sbuf,
    tiles,
)
from trnc.machine import TRN1, Engine, Memory


class DataMovement(LowererHost):
    """Data-movement lowerings; the host class provides `buffers` and `_shape`."""

    def transpose(self, op: g.TransposeOp, b: TileBuilder) -> None:
        """Any permutation. One that swaps two adjacent groups of trailing dims (`[.., A..,
        B..] -> [.., B.., A..]`: 2-D transposes, NCHW <-> NHWC, ...) is batched 2-D
        transposes on TensorE, 128 x 128 blocks through PSUM; one that keeps the last dim
        in place (attention's `[0, 2, 1, 3]`) is strided DMAs of whole rows; any other is
        the second kind into a scratch buffer (the last dim still last), then the first."""
        in_t = op.input.type
        assert isinstance(in_t, TensorType)
        shape = tuple(in_t.get_shape())
        perm = list(get_ints(op.perm))
        if perm == list(range(len(shape))):  # the identity
            self.copy_into(op.input, op.result, b)
            return
        src, dst = self.buffers[op.input], self.buffers[op.result]
        self.permute(src, shape, perm, dst, op, b)

    def permute(
        self,
        src: SSAValue,
        shape: tuple[int, ...],
        perm: list[int],
        dst: SSAValue,
        owner: Operation,
        b: TileBuilder,
    ) -> None:
        """Write the row-major tensor of `shape` in `src`, permuted by `perm` (not the
        identity), to `dst` (see `transpose`); a scratch buffer made for it names `owner`."""
        n = len(shape)
        k = next(i for i, p in enumerate(perm) if p != i)
        j = perm[k]
        if perm == [*range(k), *range(j, n), *range(k, j)]:
            self._swap_groups(src, shape, k, j, dst, b)
            return
        q = perm.index(n - 1)
        if q == n - 1:
            self._permute_rows(src, shape, perm, dst, b)
            return
        first = [p for p in perm if p != n - 1] + [n - 1]
        mid_shape = tuple(shape[p] for p in first)
        element = src.type.element_type  # type: ignore[attr-defined]
        mid = self.temporary(mid_shape, element, owner)
        self._permute_rows(src, shape, first, mid, b)
        self._swap_groups(mid, mid_shape, q, n - 1, dst, b)

    def _swap_groups(
        self,
        source: SSAValue,
        shape: tuple[int, ...],
        k: int,
        j: int,
        result: SSAValue,
        b: TileBuilder,
    ) -> None:
        """`[O.., A.., C..] -> [O.., C.., A..]` (O = dims before k, A = dims k..j-1) as
        2-D transposes of [A, C] blocks on TensorE."""
        outer, a, c = prod(shape[:k]), prod(shape[k:j]), prod(shape[j:])
        src = b.reinterpret(source, (outer * a, c))
        dst = b.reinterpret(result, (outer * c, a))
        element = onchip(src.type.element_type)
        part = TRN1.partitions
        for o in range(outer):
            for a0 in range(0, a, part):
                at = min(part, a - a0)
                for c0 in range(0, c, part):
                    ct = min(part, c - c0)
                    x = b.load(src, o * a + a0, c0, (at, ct))
                    t = b.alloc(psum((ct, at)))
                    b.add(tile.TransposeOp(x, t))
                    y = b.alloc(sbuf((ct, at), element))
                    b.add(tile.CopyOp(t, y, Engine.VECTOR))
                    b.store(y, dst, o * c + c0, a0)
                    b.free(x, t, y)

    def _permute_rows(
        self,
        source: SSAValue,
        shape: tuple[int, ...],
        perm: list[int],
        result: SSAValue,
        b: TileBuilder,
    ) -> None:
        """A permutation that keeps the last dim last: every output row is an input row.
        The output dim (of all but the last) with the most indices goes on the partitions
        (the last of them on a tie): up to 128 of its rows are one strided DMA. Where
        the output dims after it (but the last) fit one tile's free axis, their rows are
        gathered side by side into one tile and stored with one DMA, so the result goes
        out in whole row tiles like any other op's (attention's head merge
        `[b, h, s, d] -> [b, s, h, d]`: per 128 tokens, one tile of all the heads)."""
        n = len(shape)
        width = shape[-1]
        out = [shape[p] for p in perm]
        rows_in = prod(shape[:-1])
        # rows between consecutive indices of each input dim (the last dim is the row)
        step = [prod(shape[d + 1 : n - 1]) for d in range(n - 1)]
        src = b.reinterpret(source, (rows_in, width))
        lead = out[: n - 1]
        dp = max(range(n - 1), key=lambda d: (lead[d], d))
        in_step = step[perm[dp]]
        out_step = prod(lead[dp + 1 :])  # output rows between consecutive dp indices
        inner = out_step  # rows of the dims after dp, side by side in one tile
        gather = inner > 1 and inner * width <= FREE_ELEMS
        others = [d for d in range(n - 1) if d != dp and (not gather or d < dp)]
        outer_rows = prod(lead[: dp + 1])
        dst = b.reinterpret(result, (outer_rows, inner * width) if gather else (rows_in, width))
        element = onchip(src.type.element_type)
        for index in product(*(range(lead[d]) for d in others)):
            base_in = sum(i * step[perm[d]] for d, i in zip(others, index, strict=True))
            base_out = sum(i * prod(lead[d + 1 :]) for d, i in zip(others, index, strict=True))
            for r0 in range(0, lead[dp], TRN1.partitions):
                p = min(TRN1.partitions, lead[dp] - r0)
                if not gather:
                    for c0 in range(0, width, FREE_ELEMS):
                        f = min(FREE_ELEMS, width - c0)
                        x = b.load(src, base_in + r0 * in_step, c0, (p, f), (in_step, 1))
                        b.store(x, dst, base_out + r0 * out_step, c0, (out_step, 1))
                        b.free(x)
                    continue
                t = b.alloc(sbuf((p, inner * width), element))
                for j, sub in enumerate(product(*(range(lead[d]) for d in range(dp + 1, n - 1)))):
                    row = base_in + r0 * in_step
                    row += sum(
                        i * step[perm[d]] for d, i in zip(range(dp + 1, n - 1), sub, strict=True)
                    )
                    window = b.view(t, (0, j * width), (p, width))
                    b.add(tile.DmaOp(b.view(src, (row, 0), (p, width), (in_step, 1)), window))
                b.store(t, dst, base_out // inner + r0, 0)
                b.free(t)

    def _copy_window(
        self,
        src: SSAValue,
        src_c0: int,
        dst: SSAValue,
        dst_c0: int,
        rows: int,
        cols: int,
        b: TileBuilder,
    ) -> None:
        """Copy `src[:, src_c0 : src_c0 + cols]` to `dst[:, dst_c0 : ...]` through SBUF."""
        for r0, c0, p, f in tiles(rows, cols, FREE_ELEMS):
            x = b.load(src, r0, src_c0 + c0, (p, f))
            b.store(x, dst, r0, dst_c0 + c0)
            b.free(x)

    def concat(self, op: g.ConcatOp, b: TileBuilder) -> None:
        """Concatenation on axis k: with P = prod(dims before k), every input is a
        [P, its rest] window of the output seen as [P, prod(dims from k)]."""
        out_t = op.result.type
        assert isinstance(out_t, TensorType)
        shape = tuple(out_t.get_shape())
        k = get_int(op.axis) % len(shape)
        outer = prod(shape[:k])
        dst = b.reinterpret(self.buffers[op.result], (outer, prod(shape[k:])))
        offset = 0
        for value in op.inputs:
            t = value.type
            assert isinstance(t, TensorType)
            width = prod(t.get_shape()[k:])
            if width:
                src = b.reinterpret(self.buffers[value], (outer, width))
                self._copy_window(src, 0, dst, offset, outer, width, b)
            offset += width

    def slice(self, op: g.SliceOp, b: TileBuilder) -> None:
        """A slice with positive steps, as strided DMAs: the input is seen with each sliced
        axis as its own dim and each run of untouched dims merged into one (at most 5
        dims), the first dim on the partitions (128 at a time), the rest on the free axis
        (the second chunked to `FREE_ELEMS` elements per partition); each tile is one
        strided view into SBUF and out again. With a negative step, or past what one
        strided DMA per tile holds, each sliced axis is a take of its indices instead
        (`_slice_by_takes`)."""
        in_t, out_t = op.input.type, op.result.type
        assert isinstance(in_t, TensorType) and isinstance(out_t, TensorType)
        shape, out = tuple(in_t.get_shape()), tuple(out_t.get_shape())
        n = len(shape)
        axes = (
            [a % n for a in get_ints(op.axes)]
            if op.axes is not None
            else list(range(len(get_ints(op.starts))))
        )
        steps = list(get_ints(op.steps)) if op.steps is not None else [1] * len(axes)
        if any(sp < 0 for sp in steps):
            self._slice_by_takes(op, shape, out, axes, steps, b)
            return
        sliced: dict[int, tuple[int, int]] = {}
        for a, st, sp in zip(axes, get_ints(op.starts), steps, strict=True):
            if shape[a] != out[a] or sp != 1:
                st = st + shape[a] if st < 0 else st
                sliced[a] = (max(0, min(shape[a] - 1, st)), sp)
        if not sliced:
            self.copy_into(op.input, op.result, b)
            return
        # groups: (input size, output size, start, step)
        groups: list[list[int]] = []
        for d in range(n):
            if d in sliced:
                groups.append([shape[d], out[d], *sliced[d]])
            elif (
                groups
                and groups[-1][3] == 1
                and groups[-1][0] == groups[-1][1]
                and (d - 1 not in sliced)
            ):
                groups[-1][0] *= shape[d]
                groups[-1][1] *= shape[d]
            else:
                groups.append([shape[d], shape[d], 0, 1])
        rest = prod(g[1] for g in groups[2:])
        if len(groups) > 5 or rest > FREE_ELEMS * 8:  # beyond one strided DMA per tile
            self._slice_by_takes(op, shape, out, axes, steps, b)
            return
        if len(groups) == 1:
            groups.insert(0, [1, 1, 0, 1])
        src = b.reinterpret_as(self.buffers[op.input], tuple(g[0] for g in groups))
        dst = b.reinterpret_as(self.buffers[op.result], tuple(g[1] for g in groups))
        element = src.type.element_type
        out_element = dst.type.element_type
        chunk = max(1, FREE_ELEMS // max(1, rest))
        first, second = groups[0], groups[1]
        for r0 in range(0, first[1], TRN1.partitions):
            p = min(TRN1.partitions, first[1] - r0)
            for c0 in range(0, second[1], chunk):
                ct = min(chunk, second[1] - c0)
                window = (p, ct, *(g[1] for g in groups[2:]))
                offsets = [
                    first[2] + r0 * first[3],
                    second[2] + c0 * second[3],
                    *(g[2] for g in groups[2:]),
                ]
                hbm_t = BufferType(window, element, Memory.HBM)
                view = b.add(
                    tile.ViewOp(src, offsets, hbm_t, strides=[g[3] for g in groups])
                ).results[0]
                layout = tile.LayoutAttr.partition_major(len(window))
                t = b.alloc(BufferType(window, element, Memory.SBUF, layout))
                b.add(tile.DmaOp(view, t))
                out_offsets = [r0, c0, *([0] * (len(window) - 2))]
                out_t = BufferType(window, out_element, Memory.HBM)
                out_view = b.add(tile.ViewOp(dst, out_offsets, out_t)).results[0]
                b.add(tile.DmaOp(t, out_view))
                b.free(t)

    def _slice_by_takes(
        self,
        op: g.SliceOp,
        shape: tuple[int, ...],
        out: tuple[int, ...],
        axes: list[int],
        steps: list[int],
        b: TileBuilder,
    ) -> None:
        """A slice as one `take` per sliced axis (through scratch buffers), each a DMA
        window per run of consecutive indices (per index where the step is not 1): for
        negative steps, and slices too wide or with too many dims for one strided DMA."""
        takes: list[tuple[int, list[int]]] = []
        for a, st, sp in zip(axes, get_ints(op.starts), steps, strict=True):
            st = st + shape[a] if st < 0 else st
            st = min(max(st, -1), shape[a] - 1) if sp < 0 else min(max(st, 0), shape[a])
            indices = [st + i * sp for i in range(out[a])]
            if indices != list(range(shape[a])):
                takes.append((a, indices))
        if not takes:
            self.copy_into(op.input, op.result, b)
            return
        source, current = self.buffers[op.input], list(shape)
        for i, (a, indices) in enumerate(takes):
            current[a] = len(indices)
            last = i == len(takes) - 1
            element = source.type.element_type
            target = (
                self.buffers[op.result] if last else self.temporary(tuple(current), element, op)
            )
            shape_before = (*current[:a], shape[a], *current[a + 1 :])
            self.take(source, tuple(shape_before), a, indices, target, b)
            source = target

    def take(
        self,
        source: SSAValue,
        shape: tuple[int, ...],
        axis: int,
        indices: Sequence[int],
        result: SSAValue,
        b: TileBuilder,
    ) -> None:
        """`result` = the tensor of `shape` in `source` at `indices` (in range) of `axis`:
        one DMA window per run of consecutive indices."""
        outer, size, inner = prod(shape[:axis]), shape[axis], prod(shape[axis + 1 :])
        src = b.reinterpret(source, (outer, size * inner))
        dst = b.reinterpret(result, (outer, len(indices) * inner))
        start = 0
        for j in range(1, len(indices) + 1):
            if j < len(indices) and indices[j] == indices[j - 1] + 1:
                continue  # the run of consecutive indices goes on
            first, run = int(indices[start]), j - start
            self._copy_window(src, first * inner, dst, start * inner, outer, run * inner, b)
            start = j

    def copy_into(self, source: SSAValue, result: SSAValue, b: TileBuilder) -> None:
        rows, cols = self._shape(result)
        self._copy_window(self.buffers[source], 0, self.buffers[result], 0, rows, cols, b)

    def reshape(self, op: g.ReshapeOp, b: TileBuilder) -> None:
        """Row-major tensors: a reshape is the same bytes (`tile.reinterpret`, no data
        moves), unless the result is a graph output with its own buffer: then a copy."""
        src = self.buffers[op.input]
        rows, cols = self._shape(op.result)
        alias = b.reinterpret(src, (rows, cols))
        dst = self.buffers.get(op.result)
        if dst is None:
            self.buffers[op.result] = alias
            return
        self._copy_window(alias, 0, dst, 0, rows, cols, b)
