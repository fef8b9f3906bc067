"""`graph-to-tile` lowering of `graph.matmul`: 2-D and batched matmuls tiled as their
`tile.plan` says (x^T's K blocks kept or transposed again, K steps as loops over panels
of w, row groups sharing w's tiles), with an optional epilogue (a fused dense chain)
applied on the PSUM evacuation. A mixin of the function lowerer."""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Attribute, SSAValue

from trnc.dialects import graph as g
from trnc.dialects import tile
from trnc.dialects.isa_common import byte_size
from trnc.dialects.tile.types import BufferType
from trnc.lowering.graph_to_tile_host import LowererHost
from trnc.lowering.matmul_plan import (
    ROW_LOAD_BYTES,
    MatmulPlan,
    PlanError,
    operand_element,
    plan_of,
)
from trnc.lowering.tile_builder import FREE_ELEMS, Offset, TileBuilder, onchip, psum, sbuf
from trnc.lowering.tile_to_isa import LoweringError
from trnc.machine import TRN1, Engine

if TYPE_CHECKING:
    from trnc.lowering.graph_to_tile_dense import Epilogue


class Matmuls(LowererHost):
    """The matmul lowering; the host class provides `buffers` and `dtype`."""

    def matmul(
        self,
        op: g.MatmulOp,
        b: TileBuilder,
        epilogue: Epilogue | None = None,
        out_value: SSAValue | None = None,
    ) -> None:
        """`[..., M, K] @ [K, N]` (batch folded into M), or batched `[A..., M, K] @
        [B..., K, N]` with numpy's broadcasting of the batch dims (one 2-D matmul per
        batch index of the result); a 1-D operand is a single row (`[K]` on the left) or
        column (`[K]` on the right), its dim dropped from the result as in numpy.

        With an `epilogue` (a fused dense chain, `graph_to_tile_dense.py`; `[K, N]` on
        the right only), the result is `out_value`'s buffer, written by the epilogue."""
        lhs_t, rhs_t = op.lhs.type, op.rhs.type
        assert isinstance(lhs_t, TensorType) and isinstance(rhs_t, TensorType)
        ls, rs = tuple(lhs_t.get_shape()), tuple(rhs_t.get_shape())
        if len(ls) == 1:
            ls = (1, *ls)
        if len(rs) == 1:
            rs = (*rs, 1)
        element = operand_element(op, self.dtype)  # bf16 mode: fp32 accumulation in PSUM
        m, k, n = ls[-2], ls[-1], rs[-1]
        try:
            plan = plan_of(op, self.dtype)
        except PlanError as error:
            raise LoweringError(f"graph-to-tile: {error}", op) from None
        x = b.reinterpret(self.buffers[op.lhs], (prod(ls[:-1]), k))
        w = b.reinterpret(self.buffers[op.rhs], (prod(rs[:-1]), n))
        if len(rs) == 2:
            out_buffer = self.buffers[out_value if out_value is not None else op.result]
            out = b.reinterpret(out_buffer, (prod(ls[:-1]), n))
            if epilogue is not None:
                epilogue.prepare(prod(ls[:-1]), b)
            self._matmul_2d(
                x, w, out, (prod(ls[:-1]), k, n), (0, 0, 0), element, lhs_t, b, plan, epilogue
            )
            if epilogue is not None:
                epilogue.release(b)
            return
        assert epilogue is None, "a fused epilogue needs a 2-D right operand"
        batch = tuple(np.broadcast_shapes(ls[:-2], rs[:-2]))
        out = b.reinterpret(self.buffers[op.result], (prod(batch) * m, n))
        lhs_index = np.arange(prod(ls[:-2])).reshape(ls[:-2])
        rhs_index = np.arange(prod(rs[:-2])).reshape(rs[:-2])
        pairs = zip(
            np.broadcast_to(lhs_index, batch).reshape(-1),
            np.broadcast_to(rhs_index, batch).reshape(-1),
            strict=True,
        )
        for i, (li, ri) in enumerate(pairs):
            rows = (int(li) * m, int(ri) * k, i * m)
            self._matmul_2d(x, w, out, (m, k, n), rows, element, lhs_t, b, plan)

    def _matmul_2d(
        self,
        x: SSAValue,
        w: SSAValue,
        out: SSAValue,
        mkn: tuple[int, int, int],
        rows: tuple[int, int, int],
        element: Attribute,
        lhs_t: TensorType[Attribute],
        b: TileBuilder,
        plan: MatmulPlan,
        epilogue: Epilogue | None = None,
    ) -> None:
        """out[o0 + i, j] = sum_k x[x0 + i, k] * w[w0 + k, j] for i < M, j < N (the three
        buffers are 2-D row-major; x0, w0, o0 = `rows`), tiled as `plan` says; each PSUM
        block leaves through `epilogue.evacuate` and each result segment is finished by
        `epilogue.finish` before its store, when there is an epilogue."""
        if plan.row_loop:
            self._matmul_rows(x, w, out, mkn, rows, element, lhs_t, b, plan.x_row_loads, epilogue)
            return
        m, k, n = mkn
        x0, w0, o0 = rows
        w_type = w.type
        assert isinstance(w_type, BufferType)
        cast = element != w_type.element_type  # (a bf16-stored weight needs no cast)
        part, moving = TRN1.partitions, TRN1.matmul_max_moving_free
        blocks = range(0, k, part)
        # The result tiles are in the output's type (bf16 when only matmuls read it: the
        # evacuation rounds once), unless an epilogue's activation or residual add
        # computes on them first (f32; its last op writes the output's type).
        out_element = onchip(out.type.element_type)  # type: ignore[attr-defined]
        finishing = epilogue is not None and epilogue.finishes
        y_element = lhs_t.get_element_type() if finishing else out_element
        keep, group = plan.keep_xt, plan.row_group
        row_blocks = [(m0, min(part, m - m0)) for m0 in range(0, m, part)]
        full = k // part
        looped = plan.k_loop and full >= 1
        panel_blocks = plan.panel_blocks

        def transposed(k0: int, m0: int, mt: int, into: SSAValue | None = None) -> SSAValue:
            kt = min(part, k - k0)
            xs = b.load(x, x0 + m0, k0, (mt, kt))
            xt_psum = b.alloc(psum((kt, mt)))
            b.add(tile.TransposeOp(xs, xt_psum))
            xt = b.alloc(sbuf((kt, mt), element)) if into is None else into
            b.add(tile.CopyOp(xt_psum, xt, Engine.VECTOR))
            b.free(xs, xt_psum)
            return xt

        # x^T's K blocks of a row block side by side in one tile (block i at column
        # i * mt): the looped K steps view block i; with `x_row_loads` the row block is
        # loaded with one DMA per ROW_LOAD_BYTES and its K blocks transposed by a loop.
        x_bytes = byte_size(onchip(x.type.element_type))  # type: ignore[attr-defined]
        one_load = plan.x_row_loads and full >= 1
        side_by_side = looped or one_load

        def kept_blocks(m0: int, mt: int) -> tuple[SSAValue | None, list[SSAValue]]:
            """x^T's K blocks of one row block: separate tiles, or side by side in one
            tile (returned too), with a static view of each block."""
            if not side_by_side:
                return None, [transposed(k0, m0, mt) for k0 in blocks]
            whole = b.alloc(sbuf((min(part, k), len(blocks) * mt), element))
            views = [
                b.view(whole, (0, i * mt), (min(part, k - k0), mt)) for i, k0 in enumerate(blocks)
            ]
            if not one_load:
                for k0, view in zip(blocks, views, strict=True):
                    transposed(k0, m0, mt, view)
                return whole, views
            # chunks of whole blocks, each loaded with one DMA and transposed by a loop
            per_chunk = max(1, ROW_LOAD_BYTES // (x_bytes * part))
            for c0 in range(0, len(blocks), per_chunk):
                c1 = min(len(blocks), c0 + per_chunk)
                width = min(k, c1 * part) - c0 * part
                xs = b.load(x, x0 + m0, c0 * part, (mt, width))
                loop_end = min(c1, full)
                if loop_end - c0 >= 2:
                    with b.loop(c0, loop_end) as i:
                        xt_psum = b.alloc(psum((part, mt)))
                        src = b.view(xs, (0, b.affine(i, part, -c0 * part)), (mt, part))
                        b.add(tile.TransposeOp(src, xt_psum))
                        into = b.view(whole, (0, b.affine(i, mt)), (part, mt))
                        b.add(tile.CopyOp(xt_psum, into, Engine.VECTOR))
                        b.free(xt_psum)
                    statics = range(loop_end, c1)
                else:
                    statics = range(c0, c1)
                for i in statics:
                    kt = min(part, k - blocks[i])
                    xt_psum = b.alloc(psum((kt, mt)))
                    src = b.view(xs, (0, blocks[i] - c0 * part), (mt, kt))
                    b.add(tile.TransposeOp(src, xt_psum))
                    b.add(tile.CopyOp(xt_psum, views[i], Engine.VECTOR))
                    b.free(xt_psum)
                b.free(xs)
            return whole, views

        for g0 in range(0, len(row_blocks), group):
            rows_here = row_blocks[g0 : g0 + group]
            wholes: list[SSAValue] = []
            kept: list[list[SSAValue]] = []
            if keep:
                for m0, mt in rows_here:
                    whole, views = kept_blocks(m0, mt)
                    kept.append(views)
                    if whole is not None:
                        wholes.append(whole)

            def k_step(
                i: int | SSAValue,
                n0: int,
                nt: int,
                accs: list[SSAValue],
                panel: SSAValue | None,
                first: int = 0,
                rows_here: list[tuple[int, int]] = rows_here,
                kept: list[list[SSAValue]] = kept,
                wholes: list[SSAValue] = wholes,
            ) -> None:
                """One K block: w's tile (from the panel holding blocks `first`..., else
                loaded; cast when w is not stored in `element`) accumulated into every row
                block's PSUM tile."""
                kt = part if not isinstance(i, int) else min(part, k - blocks[i])
                owned = panel is None
                if panel is not None:
                    at = (i - first) * nt if isinstance(i, int) else b.affine(i, nt, -first * nt)
                    ws = b.view(panel, (0, at), (part, nt))
                else:
                    assert isinstance(i, int)
                    ws = b.load(w, w0 + blocks[i], n0, (kt, nt))
                if cast:
                    wc = b.alloc(sbuf((kt, nt), element))
                    b.add(tile.CopyOp(ws, wc, Engine.GPSIMD))
                    if owned:
                        b.free(ws)
                    ws, owned = wc, True
                for r, (m0, mt) in enumerate(rows_here):
                    if not keep:
                        assert isinstance(i, int)
                        xt = transposed(blocks[i], m0, mt)
                    elif isinstance(i, int):
                        xt = kept[r][i]
                    else:
                        xt = b.view(wholes[r], (0, b.affine(i, mt)), (part, mt))
                    b.add(tile.MatmulOp(xt, ws, accs[r], accumulate=i != 0))
                    if not keep:
                        b.free(xt)
                if owned:
                    b.free(ws)

            # The result rows go out in segments of FREE_ELEMS columns (the elementwise
            # tiles' width, so a consumer's tile is the same bytes or a window of them:
            # tile-plan-memory keeps it on chip), each the PSUM blocks evacuated side by side.
            for s0 in range(0, n, FREE_ELEMS):
                st = min(FREE_ELEMS, n - s0)
                ys = [b.alloc(sbuf((mt, st), y_element)) for _, mt in rows_here]
                for n0 in range(s0, s0 + st, moving):
                    nt = min(moving, s0 + st - n0)
                    accs = [b.alloc(psum((mt, nt))) for _, mt in rows_here]
                    if looped:
                        # w's full K blocks go through panels of up to `panel_blocks`
                        # blocks, each filled by a loop of loads (which tile-prefetch can
                        # move ahead as one) and read by a loop of matmuls; block 0 starts
                        # the accumulation; a partial last block is loaded on its own.
                        stored = onchip(w_type.element_type)
                        for c0 in range(0, full, panel_blocks):
                            c1 = min(full, c0 + panel_blocks)
                            panel = b.alloc(sbuf((part, (c1 - c0) * nt), stored))
                            with b.loop(c0, c1) as i:
                                src = b.view(w, (b.affine(i, part, w0), n0), (part, nt))
                                at = b.affine(i, nt, -c0 * nt)
                                b.add(tile.DmaOp(src, b.view(panel, (0, at), (part, nt))))
                            if c0 == 0:
                                k_step(0, n0, nt, accs, panel)
                            with b.loop(max(c0, 1), c1) as i:
                                k_step(i, n0, nt, accs, panel, c0)
                            b.free(panel)
                        for j in range(full, len(blocks)):
                            k_step(j, n0, nt, accs, None)
                    else:
                        for j in range(len(blocks)):
                            k_step(j, n0, nt, accs, None)
                    for r, (_, mt) in enumerate(rows_here):
                        dst = b.view(ys[r], (0, n0 - s0), (mt, nt))
                        if epilogue is not None:
                            epilogue.evacuate(accs[r], dst, n0, b)
                        else:
                            b.add(tile.CopyOp(accs[r], dst, Engine.VECTOR))
                        b.free(accs[r])
                for r, (m0, _) in enumerate(rows_here):
                    y = ys[r]
                    if epilogue is not None:
                        y = epilogue.finish(y, o0 + m0, s0, out_element, b)
                    b.store(y, out, o0 + m0, s0)
                    b.free(*{ys[r], y})
            if wholes:
                b.free(*wholes)
            elif keep:
                for per_row in kept:
                    b.free(*per_row)

    def _matmul_rows(
        self,
        x: SSAValue,
        w: SSAValue,
        out: SSAValue,
        mkn: tuple[int, int, int],
        rows: tuple[int, int, int],
        element: Attribute,
        lhs_t: TensorType[Attribute],
        b: TileBuilder,
        row_loads: bool,
        epilogue: Epilogue | None = None,
    ) -> None:
        """The `row_loop` tiling: w loaded once, whole (its K blocks' row panels side by
        side, block i at columns [i N, (i+1) N), converted to `element` by the DMA), then
        one body per 128-row block of x, an `scf.for` over the full blocks (a partial
        last block after it): the block's rows (with `row_loads` one DMA, else one per K
        block, so the loads of a graph input pipeline with the transposes) transposed K
        block by K block into x^T, each result segment accumulated over the K blocks
        (step 0, then a loop), evacuated (through the epilogue), finished and stored."""
        m, k, n = mkn
        x0, w0, o0 = rows
        part, moving = TRN1.partitions, TRN1.matmul_max_moving_free
        full_k, rest_k = k // part, k % part
        blocks = full_k + (1 if rest_k else 0)
        w_full = b.load_blocks(w, w0, part, full_k, (part, n), element) if full_k else None
        w_rest = b.load(w, w0 + full_k * part, 0, (rest_k, n), element=element) if rest_k else None
        out_element = onchip(out.type.element_type)  # type: ignore[attr-defined]
        finishing = epilogue is not None and epilogue.finishes
        y_element = lhs_t.get_element_type() if finishing else out_element

        def body(r: Offset, mt: int) -> None:
            xt = b.alloc(sbuf((min(part, k), blocks * mt), element))
            if row_loads:
                xs = b.load(x, b.affine(r, part, x0), 0, (mt, k))
                b.transpose_blocks_into(xs, xt, 0, mt)
                b.free(xs)
            else:
                row = b.affine(r, part, x0)

                def block(i: Offset, kt: int) -> None:
                    xs = b.load(x, row, b.affine(i, part), (mt, kt))
                    t = b.alloc(psum((kt, mt)))
                    b.add(tile.TransposeOp(xs, t))
                    into = b.view(xt, (0, b.affine(i, mt)), (kt, mt))
                    b.add(tile.CopyOp(t, into, Engine.VECTOR))
                    b.free(xs, t)

                if full_k >= 2:
                    with b.loop(0, full_k) as i:
                        block(i, part)
                elif full_k == 1:
                    block(0, part)
                if rest_k:
                    block(full_k, rest_k)
            for s0 in range(0, n, FREE_ELEMS):
                st = min(FREE_ELEMS, n - s0)
                y = b.alloc(sbuf((mt, st), y_element))
                for n0 in range(s0, s0 + st, moving):
                    nt = min(moving, s0 + st - n0)
                    acc = b.alloc(psum((mt, nt)))
                    if w_full is not None:
                        for i in b.steps(full_k):
                            xv = b.view(xt, (0, b.affine(i, mt)), (part, mt))
                            wv = b.view(w_full, (0, b.affine(i, n, n0)), (part, nt))
                            b.add(tile.MatmulOp(xv, wv, acc, accumulate=i != 0))
                    if w_rest is not None:
                        xv = b.view(xt, (0, full_k * mt), (rest_k, mt))
                        wv = b.view(w_rest, (0, n0), (rest_k, nt))
                        b.add(tile.MatmulOp(xv, wv, acc, accumulate=full_k > 0))
                    dst = b.view(y, (0, n0 - s0), (mt, nt))
                    if epilogue is not None:
                        epilogue.evacuate(acc, dst, n0, b)
                    else:
                        b.add(tile.CopyOp(acc, dst, Engine.VECTOR))
                    b.free(acc)
                row = b.affine(r, part, o0)
                done = y if epilogue is None else epilogue.finish(y, row, s0, out_element, b)
                b.store(done, out, row, s0)
                b.free(*{y, done})
            b.free(xt)

        full_m = m // part
        if full_m >= 2:
            with b.loop(0, full_m) as r:
                body(r, part)
        elif full_m == 1:
            body(0, part)
        if m % part:
            body(full_m, m % part)
        b.free(*(t for t in (w_full, w_rest) if t is not None))
