"""`graph-to-tile` for arithmetic: elementwise ops (with broadcasts and immediates) and
reductions over trailing axes (matmuls: `graph_to_tile_matmul.py`). A mixin of the
function lowerer."""

from __future__ import annotations

import math
from math import prod
from typing import TYPE_CHECKING

from xdsl.dialects.builtin import (
    AnyFloat,
    DenseIntOrFPElementsAttr,
    Float32Type,
    IntegerType,
    Signedness,
    TensorType,
)
from xdsl.ir import Operation, SSAValue

from trnc.dialects import graph as g
from trnc.dialects import tile
from trnc.dialects.graph.base import get_ints
from trnc.dialects.isa_common import ActivationFunc, AluOp
from trnc.lowering.graph_to_tile_host import LowererHost
from trnc.lowering.tile_builder import (
    FREE_ELEMS,
    REDUCE_CHUNK,
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

if TYPE_CHECKING:
    pass

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
