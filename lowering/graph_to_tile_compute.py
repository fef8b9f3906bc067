"""`graph-to-tile` for arithmetic: elementwise ops (with broadcasts and immediates),
reductions over trailing axes and matmuls. A mixin of the function lowerer."""

from __future__ import annotations

import math
from math import prod
from typing import TYPE_CHECKING

import numpy as np
from xdsl.dialects.builtin import (
    AnyFloat,
    DenseIntOrFPElementsAttr,
    Float32Type,
    IntegerType,
    Signedness,
    TensorType,
)
from xdsl.ir import Attribute, Operation, SSAValue

from trnc.dialects import graph as g
from trnc.dialects import tile
from trnc.dialects.graph.base import get_ints
from trnc.dialects.isa_common import ActivationFunc, AluOp, byte_size
from trnc.dialects.tile.types import BufferType
from trnc.lowering.graph_to_tile_host import LowererHost
from trnc.lowering.matmul_plan import (
    ROW_LOAD_BYTES,
    MatmulPlan,
    PlanError,
    operand_element,
    plan_of,
)
from trnc.lowering.tile_builder import (
    FREE_ELEMS,
    REDUCE_CHUNK,
    TileBuilder,
    broadcast_kind,
    coalesce,
    onchip,
    psum,
    sbuf,
    spread2d,
    tiles,
)
from trnc.lowering.tile_to_isa import LoweringError
from trnc.machine import TRN1, Engine

if TYPE_CHECKING:
    from trnc.lowering.graph_to_tile_dense import Epilogue

ACTIVATIONS: dict[type[Operation], ActivationFunc] = {
    g.ReluOp: ActivationFunc.RELU,
    g.TanhOp: ActivationFunc.TANH,
    g.SigmoidOp: ActivationFunc.SIGMOID,
    g.ExpOp: ActivationFunc.EXP,
    g.LogOp: ActivationFunc.LOG,
    g.ErfOp: ActivationFunc.ERF,
    g.SqrtOp: ActivationFunc.SQRT,
    g.RsqrtOp: ActivationFunc.RSQRT,
    g.ReciprocalOp: ActivationFunc.RECIPROCAL,
    g.AbsOp: ActivationFunc.ABS,
}
"""Unary graph ops that are one ScalarE activation."""

ALU: dict[type[Operation], AluOp] = {
    g.AddOp: AluOp.ADD,
    g.SubOp: AluOp.SUB,
    g.MulOp: AluOp.MUL,
    g.DivOp: AluOp.DIV,
    g.MaxOp: AluOp.MAX,
    g.MinOp: AluOp.MIN,
    g.PowOp: AluOp.POW,
    g.EqualOp: AluOp.EQ,
    g.LessOp: AluOp.LT,
    g.GreaterOp: AluOp.GT,
}
"""Binary graph ops that are one VectorE ALU instruction (comparisons write 1.0 or 0.0,
the on-chip form of a boolean)."""

_MIRRORED = {AluOp.LT: AluOp.GT, AluOp.GT: AluOp.LT, AluOp.LE: AluOp.GE, AluOp.GE: AluOp.LE}
"""`c op x` as `x op' c` for the comparisons."""


def _shape_of(value: SSAValue) -> tuple[int, ...]:
    t = value.type
    assert isinstance(t, TensorType)
    return tuple(t.get_shape())


def scalar_constant(value: SSAValue) -> float | None:
    """The value of a one-element `graph.constant` (any shape), else None."""
    owner = value.owner
    if not isinstance(owner, g.ConstantOp):
        return None
    attr = owner.value
    if not isinstance(attr, DenseIntOrFPElementsAttr):
        return None
    t = value.type
    assert isinstance(t, TensorType)
    if prod(t.get_shape()) != 1:
        return None
    number = attr.get_values()[0]
    if isinstance(t.get_element_type(), IntegerType) and abs(int(number)) > 2**24:
        return None  # not exact as an fp32 immediate: a weight, checked when compiled
    return float(number)


def _split_repeated_rows(
    out: tuple[int, ...], merged_out: tuple[int, ...], merged: list[tuple[int, ...]]
) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
    """`[A, N]` with one operand `[1, N]` (a tensor repeated along leading dims, as position
    embeddings over a batch) as `[A, N / c, c]` (c: the output's last dim): A blocks of a
    2-D problem whose rows fill the partitions, instead of A-row tiles each with the
    repeated row spread by a matmul."""
    if len(merged_out) != 2 or not out or merged_out[0] >= TRN1.partitions:
        return merged_out, merged
    c = out[-1]
    a, n = merged_out
    if n % c or n == c or sorted(m[0] for m in merged) != [1, a]:
        return merged_out, merged
    return (a, n // c, c), [(m[0], n // c, c) for m in merged]


class Compute(LowererHost):
    """Arithmetic lowerings; the host class provides `buffers`, `dtype` and `_shape`."""

    def unary(self, op: Operation, b: TileBuilder) -> None:
        rows, cols = spread2d(_shape_of(op.results[0]))
        src = b.reinterpret(self.buffers[op.operands[0]], (rows, cols))
        dst = b.reinterpret(self.buffers[op.results[0]], (rows, cols))
        out_t = op.results[0].type
        assert isinstance(out_t, TensorType)
        element = out_t.get_element_type()
        to_bool = isinstance(element, IntegerType) and element.width.data == 1
        for r0, c0, p, f in tiles(rows, cols, FREE_ELEMS):
            x = b.load(src, r0, c0, (p, f))
            y = b.alloc(sbuf((p, f), onchip(element)))
            if isinstance(op, g.NegOp):
                b.add(tile.TensorScalarOp(AluOp.MUL, x, -1.0, y))
            elif isinstance(op, g.CastOp) and to_bool:  # x != 0 (NaN is true, as in ONNX)
                b.add(tile.TensorScalarOp(AluOp.NE, x, 0.0, y))
            elif isinstance(op, g.CastOp):
                b.add(tile.CopyOp(x, y, Engine.VECTOR))
            elif isinstance(op, g.GeluOp):
                tanh = op.approximate.data == "tanh"
                func = ActivationFunc.GELU_TANH if tanh else ActivationFunc.GELU
                b.add(tile.ActivationOp(func, x, y))
            else:
                b.add(tile.ActivationOp(ACTIVATIONS[type(op)], x, y))
            b.store(y, dst, r0, c0)
            b.free(x, y)

    def binary(self, op: Operation, b: TileBuilder) -> None:
        lhs_v, rhs_v = op.operands[0], op.operands[1]
        for value, other, on_left in ((rhs_v, lhs_v, False), (lhs_v, rhs_v, True)):
            scalar = scalar_constant(value)
            if scalar is not None and _shape_of(other) == _shape_of(op.results[0]):
                self.with_scalar(op, other, scalar, on_left, b)
                return
        out_t = op.results[0].type
        assert isinstance(out_t, TensorType)
        shapes = [tuple(v.type.get_shape()) for v in (lhs_v, rhs_v)]  # type: ignore[attr-defined]
        merged_out, merged = coalesce(tuple(out_t.get_shape()), shapes)
        merged_out, merged = _split_repeated_rows(tuple(out_t.get_shape()), merged_out, merged)
        # Up to one leading group is looped over (`blocks`): [A, B, C] with each operand
        # [A or 1, ...]; the trailing two groups are the 2-D problem of each block.
        outer = merged_out[0] if len(merged_out) == 3 else 1
        lead = [m[0] for m in merged] if len(merged_out) == 3 else [1, 1]
        tail_out = merged_out[1:] if len(merged_out) == 3 else merged_out
        tails = [m[1:] for m in merged] if len(merged_out) == 3 else merged
        kinds: list[str | None] = [None, None]
        if len(merged_out) <= 3:
            pad = (1,) * (2 - len(tail_out))
            out2 = pad + tuple(tail_out)
            ops2 = [pad + tuple(t) for t in tails]
            kinds = [broadcast_kind(m, out2) for m in ops2]
            if kinds == ["full", "full"] and len(merged_out) <= 1:  # plain elementwise
                out2 = spread2d(_shape_of(op.results[0]))
                ops2 = [out2, out2]
        if None in kinds or kinds == ["row", "row"] or kinds == ["col", "col"]:
            raise LoweringError(
                "graph-to-tile: this broadcast is not lowered yet (operands "
                f"{lhs_v.type} and {rhs_v.type}; lowered: same elements, a compile-time "
                "scalar, or one operand repeated along one group of dims of the other)",
                op,
            )
        rows, cols = out2
        lhs = b.reinterpret(self.buffers[lhs_v], (lead[0] * ops2[0][0], ops2[0][1]))
        rhs = b.reinterpret(self.buffers[rhs_v], (lead[1] * ops2[1][0], ops2[1][1]))
        dst = b.reinterpret(self.buffers[op.results[0]], (outer * rows, cols))
        blocks = [
            (a * rows, [a * ops2[i][0] if lead[i] > 1 else 0 for i in range(2)])
            for a in range(outer)
        ]
        element = onchip(out_t.get_element_type())
        alu = ALU[type(op)]
        ones = None
        if "row" in kinds:  # broadcast a row to the partitions with a K=1 matmul by ones
            ones = b.ones_row()
        # A row operand is spread in chunks of what one matmul can move; the tile itself
        # (what is loaded and stored) is FREE_ELEMS wide like every elementwise tile.
        chunk = TRN1.matmul_max_moving_free if "row" in kinds else FREE_ELEMS
        work = [
            (base, bases, r0, c0, p, f)
            for base, bases in blocks
            for r0, c0, p, f in tiles(rows, cols, FREE_ELEMS)
        ]
        for base, bases, r0, c0, p, f in work:
            loaded: list[SSAValue | None] = []
            for kind, buf, ob in zip(kinds, (lhs, rhs), bases, strict=True):
                if kind == "full":
                    loaded.append(b.load(buf, ob + r0, c0, (p, f)))
                elif kind == "col":
                    loaded.append(b.load(buf, ob + r0, 0, (p, 1)))
                else:
                    loaded.append(None)
            z = b.alloc(sbuf((p, f), element))
            for c1 in range(0, f, chunk):
                fc = min(chunk, f - c1)
                operands: list[SSAValue] = []
                temps: list[SSAValue] = []
                for kind, buf, ob, tile_ in zip(kinds, (lhs, rhs), bases, loaded, strict=True):
                    if kind == "full":
                        assert tile_ is not None
                        operands.append(b.view(tile_, (0, c1), (p, fc)))
                    elif kind == "col":
                        assert tile_ is not None
                        operands.append(tile_)
                    else:
                        assert ones is not None
                        row = b.load(buf, ob, c0 + c1, (1, fc))
                        spread = b.spread(ones, row, p)
                        operands.append(spread)
                        temps += [row, spread]
                zc = b.view(z, (0, c1), (p, fc))
                if "col" in kinds:
                    col_left = kinds[0] == "col"
                    full_op = operands[1] if col_left else operands[0]
                    col_op = operands[0] if col_left else operands[1]
                    self._with_column(alu, full_op, col_op, zc, col_left, op, b)
                else:
                    b.add(tile.TensorTensorOp(alu, operands[0], operands[1], zc))
                if temps:
                    b.free(*temps)
            b.store(z, dst, base + r0, c0)
            b.free(*(t for t in loaded if t is not None), z)
        if ones is not None:
            b.free(ones)

    def _with_column(
        self,
        alu: AluOp,
        full: SSAValue,
        column: SSAValue | float,
        out: SSAValue,
        column_left: bool,
        op: Operation,
        b: TileBuilder,
    ) -> None:
        """`x op c` with `c` a per-partition [P, 1] operand or a compile-time scalar (one
        VectorE tensor_scalar); `c - x` and `c / x` through a negation or reciprocal first."""
        symmetric = (AluOp.ADD, AluOp.MUL, AluOp.MAX, AluOp.MIN, AluOp.EQ, AluOp.NE)
        if not column_left or alu in symmetric:
            b.add(tile.TensorScalarOp(alu, full, column, out))
            return
        if alu in _MIRRORED:
            b.add(tile.TensorScalarOp(_MIRRORED[alu], full, column, out))
            return
        shape = full.type.get_shape()  # type: ignore[attr-defined]
        element = out.type.element_type  # type: ignore[attr-defined]
        if alu not in (AluOp.SUB, AluOp.DIV):
            raise LoweringError(
                f"graph-to-tile: {alu.value} with a scalar or broadcast column on the left "
                "is not lowered yet",
                op,
            )
        t = b.alloc(sbuf(tuple(shape), element))
        if alu is AluOp.SUB:  # c - x = (-1 * x) + c
            b.add(tile.TensorScalarOp(AluOp.MUL, full, -1.0, t))
            b.add(tile.TensorScalarOp(AluOp.ADD, t, column, out))
        else:  # c / x = c * (1 / x)
            b.add(tile.ActivationOp(ActivationFunc.RECIPROCAL, full, t))
            b.add(tile.TensorScalarOp(AluOp.MUL, t, column, out))
        b.free(t)

    def with_scalar(
        self, op: Operation, x_v: SSAValue, value: float, on_left: bool, b: TileBuilder
    ) -> None:
        """`x op c` (or `c op x`) with a compile-time scalar `c`: one VectorE tensor_scalar
        (two for `c - x` and `c / x`)."""
        alu = ALU[type(op)]
        rows, cols = spread2d(_shape_of(op.results[0]))
        src = b.reinterpret(self.buffers[x_v], (rows, cols))
        dst = b.reinterpret(self.buffers[op.results[0]], (rows, cols))
        out_t = op.results[0].type
        assert isinstance(out_t, TensorType)
        element = onchip(out_t.get_element_type())
        for r0, c0, p, f in tiles(rows, cols, FREE_ELEMS):
            x = b.load(src, r0, c0, (p, f))
            y = b.alloc(sbuf((p, f), element))
            self._with_column(alu, x, value, y, on_left, op, b)
            b.store(y, dst, r0, c0)
            b.free(x, y)

    def reduce(self, op: g.ReduceOp, b: TileBuilder) -> None:
        """A reduction over trailing axes: the input seen as [rows, n] (n = the product of
        the reduced dims), each row tile reduced along the free axis by VectorE in chunks
        of `REDUCE_CHUNK` columns combined with the same op (the mean scales the sum)."""
        in_t = op.input.type
        assert isinstance(in_t, TensorType)
        shape = tuple(in_t.get_shape())
        axes = sorted({a % len(shape) for a in get_ints(op.axes)}) if shape else []
        if not axes:  # ONNX: no axes means every axis
            axes = list(range(len(shape)))
        element = in_t.get_element_type()
        exact_on_integers = isinstance(op, g.ReduceMaxOp)
        if not isinstance(element, Float32Type) and (
            isinstance(element, AnyFloat) or not exact_on_integers
        ):
            raise LoweringError(
                f"graph-to-tile: {op.name} is lowered for f32 (and max for integers and "
                f"booleans), not {element}",
                op,
            )
        if 0 in shape:  # a reduction over no elements: the op's identity
            if isinstance(op, g.ReduceMeanOp):
                self._fill(op, math.nan, b)  # 0 / 0
            elif not isinstance(op, g.ReduceMaxOp):
                self._fill(op, 0.0, b)
            elif isinstance(element, AnyFloat):
                self._fill(op, -math.inf, b)
            elif isinstance(element, IntegerType) and (
                element.width.data == 1 or element.signedness.data is Signedness.UNSIGNED
            ):
                self._fill(op, 0.0, b)  # false, or the unsigned minimum
            elif isinstance(element, IntegerType) and element.width.data <= 32:
                self._fill(op, -(2.0 ** (element.width.data - 1)), b)  # exact in fp32
            else:
                raise LoweringError(
                    f"graph-to-tile: the max of no {element} elements (the type's minimum) "
                    "is not lowered yet",
                    op,
                )
            return
        source = self.buffers[op.input]
        if axes != list(range(len(shape) - len(axes), len(shape))):
            # the reduced axes moved last (kept axes keep their order), then reduced there
            perm = [d for d in range(len(shape)) if d not in axes] + axes
            permuted = tuple(shape[d] for d in perm)
            moved = self.temporary(permuted, element, op)
            self.permute(source, shape, perm, moved, op, b)
            source, shape = moved, permuted
            axes = list(range(len(shape) - len(axes), len(shape)))
        n = prod(shape[len(shape) - len(axes) :]) if axes else 1
        rows = prod(shape) // n if n else 0
        src = b.reinterpret(source, (rows, n))
        dst = b.reinterpret(self.buffers[op.results[0]], (rows, 1))
        alu = AluOp.MAX if isinstance(op, g.ReduceMaxOp) else AluOp.ADD
        element = onchip(element)
        for r0 in range(0, rows, TRN1.partitions):
            p = min(TRN1.partitions, rows - r0)
            acc = b.alloc(sbuf((p, 1), element))
            for i, c0 in enumerate(range(0, n, REDUCE_CHUNK)):
                f = min(REDUCE_CHUNK, n - c0)
                x = b.load(src, r0, c0, (p, f))
                part = acc if i == 0 else b.alloc(sbuf((p, 1), element))
                b.add(tile.ReduceOp(alu, x, [1], part))
                if i:
                    b.add(tile.TensorTensorOp(alu, acc, part, acc))
                    b.free(part)
                b.free(x)
            if isinstance(op, g.ReduceMeanOp):
                b.add(tile.TensorScalarOp(AluOp.MUL, acc, 1.0 / n, acc))
            b.store(acc, dst, r0, 0)
            b.free(acc)

    def _fill(self, op: Operation, value: float, b: TileBuilder) -> None:
        """Write `value` to every element of the op's result."""
        rows, cols = spread2d(_shape_of(op.results[0]))
        dst = b.reinterpret(self.buffers[op.results[0]], (rows, cols))
        for r0, c0, p, f in tiles(rows, cols, FREE_ELEMS):
            t = b.alloc(sbuf((p, f), Float32Type()))
            b.add(tile.MemsetOp(t, value))
            b.store(t, dst, r0, c0)
            b.free(t)

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
                    if epilogue is not None and epilogue.finishes:
                        y = epilogue.finish(y, o0 + m0, s0, out_element, b)
                    b.store(y, out, o0 + m0, s0)
                    b.free(*{ys[r], y})
            if wholes:
                b.free(*wholes)
            elif keep:
                for per_row in kept:
                    b.free(*per_row)
