"""Building blocks of `graph-to-tile`: tile sizes, buffer types, the 2-D view of a
tensor, the op builder (`TileBuilder`: alloc, view, load, store, reinterpret, free, and
`scf.for` loops with `index` arithmetic for offsets that vary per iteration) and
broadcast coalescing."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from math import prod

from xdsl.dialects import arith, scf
from xdsl.dialects.builtin import (
    AnyFloat,
    BFloat16Type,
    Float32Type,
    IndexType,
    IntegerAttr,
    IntegerType,
    Signedness,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue

from trnc.dialects import tile
from trnc.dialects.tile.enums import AluOp
from trnc.dialects.tile.types import BufferType
from trnc.machine import TRN1, Engine, Memory

FREE_ELEMS = 4096
"""Columns per elementwise tile (8 KiB of fp32 per partition per operand)."""
REDUCE_CHUNK = 8192
"""Columns per reduction instruction (32 KiB of fp32 per partition)."""
Offset = int | SSAValue
"""A view offset: static, or an `index` value (a loop's iteration variable, derived)."""


def flat2d(shape: Sequence[int]) -> tuple[int, int]:
    """The 2-D row-major view `[rows, cols]` of a tensor shape."""
    if not shape:
        return (1, 1)
    return (prod(shape[:-1]), shape[-1])


def spread2d(shape: Sequence[int]) -> tuple[int, int]:
    """The 2-D row-major view `[rows, cols]` of a contiguous tensor that an elementwise op
    tiles best: of `flat2d(shape)` and the view with as many rows as possible up to the 128
    partitions (the largest divisor of the element count not above 128), the one whose
    tiles cost fewer engine cycles (`max(64, columns)` per tile, trn1.md A.2); on a tie
    `flat2d`, whose fewer, longer rows make fewer DMA chunks."""
    count = prod(shape)

    def cycles(view: tuple[int, int]) -> int:
        rows, cols = view
        return sum(max(64, f) for _, _, _, f in tiles(rows, cols, FREE_ELEMS))

    if not count:
        return flat2d(shape)
    rows = max(d for d in range(1, min(count, TRN1.partitions) + 1) if count % d == 0)
    spread = (rows, count // rows)
    # on a tie, the graph's own rows: fewer, longer DMA chunks
    return spread if cycles(spread) < cycles(flat2d(shape)) else flat2d(shape)


def onchip(element: Attribute) -> Attribute:
    """The element type a tensor is computed in on chip: a float type as it is; integers
    and booleans as f32 holding their exact values (the engines compute in fp32)."""
    return element if isinstance(element, AnyFloat) else Float32Type()


def storage(element: Attribute, role: str) -> Attribute:
    """The element type of a tensor's HBM buffer: a float type as it is; an intermediate
    (`scratch`) integer or boolean as f32 (its on-chip form); an input, output or weight
    integer as itself, narrowed to i32 from 64 bits, and a boolean as ui8 (0 or 1).
    Raises ValueError for unsigned 64-bit integers."""
    if isinstance(element, AnyFloat) or not isinstance(element, IntegerType):
        return element
    if role == "scratch":
        return Float32Type()
    width = element.width.data
    if width == 1:
        return IntegerType(8, Signedness.UNSIGNED)
    if width == 64:
        if element.signedness.data is Signedness.UNSIGNED:
            raise ValueError(f"{element} tensors are not lowered (no 64-bit integers on chip)")
        return IntegerType(32)
    return element


@functools.cache
def _layout() -> tile.LayoutAttr:
    """The 2-D partition-major layout (attributes are immutable: built once)."""
    return tile.LayoutAttr.partition_major(2)


def sbuf(shape: tuple[int, int], element: Attribute) -> BufferType:
    return BufferType(shape, element, Memory.SBUF, _layout())


def psum(shape: tuple[int, int]) -> BufferType:
    return BufferType(shape, Float32Type(), Memory.PSUM, _layout())


def hbm(shape: tuple[int, int], element: Attribute) -> BufferType:
    return BufferType(shape, element, Memory.HBM)


class TileBuilder:
    """Emits tile ops into `block`, each located at the graph op it comes from."""

    def __init__(self, block: Block) -> None:
        self.block = block
        self.where: Operation | None = None
        self.entry = block
        """The function's block: `index` constants go to its start, once per value."""
        self.constants: dict[int, SSAValue] = {}
        self.affines: dict[tuple[Block, SSAValue, int, int], SSAValue] = {}
        """`iv * scale + offset` computed in a block (reused there)."""

    def add(self, op: Operation) -> Operation:
        if self.where is not None:
            op.location = self.where.location
        self.block.add_op(op)
        return op

    def alloc(self, buf: BufferType) -> SSAValue:
        return self.add(tile.AllocOp(buf)).results[0]

    def constant(self, value: int) -> SSAValue:
        """An `index` constant: one per value, defined at the start of the function (where
        it dominates every loop), in the order they are first asked for."""
        found = self.constants.get(value)
        if found is not None:
            return found
        op = arith.ConstantOp(IntegerAttr(value, IndexType()))
        if self.constants:
            last = list(self.constants.values())[-1].owner
            assert isinstance(last, Operation)
            self.entry.insert_op_after(op, last)
        elif self.entry.first_op is None:
            self.entry.add_op(op)
        else:
            self.entry.insert_op_before(op, self.entry.first_op)
        self.constants[value] = op.results[0]
        return op.results[0]

    @contextmanager
    def at(self, op: Operation | None) -> Iterator[None]:
        """Ops added inside the `with` are located at `op` (a graph op of a fused chain,
        so each instruction names the ONNX node it computes), then the location before."""
        before = self.where
        if op is not None:
            self.where = op
        try:
            yield
        finally:
            self.where = before

    @contextmanager
    def loop(self, lb: int, ub: int, step: int = 1) -> Iterator[SSAValue]:
        """`scf.for iv = lb to ub step step`: ops added inside the `with` go into its body,
        which runs once per iteration (`tile-to-isa` unrolls it)."""
        bounds = [self.constant(v) for v in (lb, ub, step)]
        body = Block(arg_types=[IndexType()])
        self.add(scf.ForOp(bounds[0], bounds[1], bounds[2], [], body))
        outer, self.block = self.block, body
        try:
            yield body.args[0]
        finally:
            self.add(scf.YieldOp())
            self.block = outer

    def affine(self, iv: Offset, scale: int, offset: int = 0) -> Offset:
        """`iv * scale + offset` as `index` arithmetic (in the current block, once per
        block); a number when `iv` is one."""
        if isinstance(iv, int):
            return iv * scale + offset
        key = (self.block, iv, scale, offset)
        found = self.affines.get(key)
        if found is not None:
            return found
        value = iv
        if scale != 1:
            value = self.add(arith.MuliOp(value, self.constant(scale))).results[0]
        if offset:
            value = self.add(arith.AddiOp(value, self.constant(offset))).results[0]
        self.affines[key] = value
        return value

    def linear(self, terms: Sequence[tuple[Offset, int]], offset: int = 0) -> Offset:
        """The sum of `iv * scale` over `terms`, plus `offset`, as `index` arithmetic in
        the current block (a number when every `iv` is one)."""
        dynamic = [(iv, scale) for iv, scale in terms if not isinstance(iv, int)]
        static = offset + sum(iv * scale for iv, scale in terms if isinstance(iv, int))
        if not dynamic:
            return static
        total = self.affine(dynamic[0][0], dynamic[0][1], static)
        for iv, scale in dynamic[1:]:
            term = self.affine(iv, scale)
            assert not isinstance(total, int) and not isinstance(term, int)
            total = self.add(arith.AddiOp(total, term)).results[0]
        return total

    def view(
        self,
        source: SSAValue,
        offsets: Sequence[Offset],
        shape: tuple[int, ...],
        strides: Sequence[int] | None = None,
    ) -> SSAValue:
        src = source.type
        assert isinstance(src, BufferType)
        result = BufferType(shape, src.element_type, src.memory.data, src.layout)
        plain = strides is None or all(s == 1 for s in strides)
        static_zero = all(isinstance(o, int) and o == 0 for o in offsets)
        if plain and static_zero and tuple(src.get_shape()) == shape:
            return source
        return self.add(tile.ViewOp(source, list(offsets), result, strides)).results[0]

    def load(
        self,
        source: SSAValue,
        r0: Offset,
        c0: Offset,
        shape: tuple[int, int],
        strides: Sequence[int] | None = None,
        element: Attribute | None = None,
    ) -> SSAValue:
        """DMA a window of an HBM buffer (rows `strides[0]` apart) into a new SBUF tile of
        `element`, by default its on-chip element type (`onchip`: the DMA converts
        integers to f32)."""
        src = source.type
        assert isinstance(src, BufferType)
        buf = self.alloc(sbuf(shape, element or onchip(src.element_type)))
        self.add(tile.DmaOp(self.view(source, (r0, c0), shape, strides), buf))
        return buf

    def load_blocks(
        self,
        source: SSAValue,
        r0: int,
        rows: int,
        blocks: int,
        shape: tuple[int, int],
        element: Attribute | None = None,
    ) -> SSAValue:
        """`blocks` windows of an HBM buffer, window j at rows `r0 + j * rows` and columns
        `[0, shape[1])`, side by side in one new SBUF tile `[shape[0], blocks * shape[1]]`
        (window j at columns `j * shape[1]`), loaded by an `scf.for` of DMAs (which
        `tile-prefetch` moves ahead as one)."""
        src = source.type
        assert isinstance(src, BufferType)
        height, width = shape
        buf = self.alloc(sbuf((height, blocks * width), element or onchip(src.element_type)))
        if blocks == 1:
            self.add(tile.DmaOp(self.view(source, (r0, 0), shape), buf))
            return buf
        with self.loop(0, blocks) as j:
            window = self.view(source, (self.affine(j, rows, r0), 0), shape)
            self.add(tile.DmaOp(window, self.view(buf, (0, self.affine(j, width)), shape)))
        return buf

    def steps(self, count: int) -> Iterator[Offset]:
        """The steps `0 .. count - 1` of an accumulation: step 0 as the number (it starts
        the accumulation: `accumulate=i != 0`), step 1 too when it is the last, the
        others as the induction variable of an `scf.for` that holds the ops the caller
        adds for them."""
        if count >= 1:
            yield 0
        if count == 2:
            yield 1
        elif count > 2:
            with self.loop(1, count) as i:
                yield i

    def reinterpret(self, source: SSAValue, shape: tuple[int, int]) -> SSAValue:
        """The same HBM bytes as a row-major buffer of another 2-D shape (no data moves)."""
        return self.reinterpret_as(source, shape)

    def reinterpret_as(self, source: SSAValue, shape: tuple[int, ...]) -> SSAValue:
        """The same HBM bytes as a row-major buffer of any shape (no data moves)."""
        src = source.type
        assert isinstance(src, BufferType)
        if tuple(src.get_shape()) == shape:
            return source
        result = BufferType(shape, src.element_type, Memory.HBM)
        return self.add(tile.ReinterpretOp(source, result)).results[0]

    def store(
        self,
        buf: SSAValue,
        dest: SSAValue,
        r0: Offset,
        c0: Offset,
        strides: Sequence[int] | None = None,
    ) -> None:
        """DMA an SBUF tile to a window of an HBM buffer (rows `strides[0]` apart). An f32
        tile bound for a bf16 buffer is cast on an engine first, so the stored bytes are
        a tile of the buffer's type (which `tile-plan-memory` can keep on chip for the
        buffer's readers)."""
        shape = tuple(buf.type.get_shape())  # type: ignore[attr-defined]
        element = buf.type.element_type  # type: ignore[attr-defined]
        stored = dest.type.element_type  # type: ignore[attr-defined]
        cast = (
            isinstance(element, Float32Type)
            and isinstance(stored, BFloat16Type)
            and buf.type.memory.data is Memory.SBUF  # type: ignore[attr-defined]
            and len(shape) == 2
        )
        if cast:
            narrow = self.alloc(sbuf((shape[0], shape[1]), stored))
            self.add(tile.CopyOp(buf, narrow, Engine.VECTOR))
            buf = narrow
        self.add(tile.DmaOp(buf, self.view(dest, (r0, c0), shape, strides)))
        if cast:
            self.free(buf)

    def ones_row(self) -> SSAValue:
        """A `[1, 128]` SBUF tile of 1.0, the stationary operand of `spread`."""
        ones = self.alloc(sbuf((1, TRN1.partitions), Float32Type()))
        self.add(tile.MemsetOp(ones, 1.0))
        return ones

    def spread(self, ones: SSAValue, row: SSAValue, partitions: int) -> SSAValue:
        """A `[1, w]` SBUF row repeated on `partitions` partitions, in a new PSUM tile: a
        K=1 matmul by a `ones_row` (exact in fp32, except that -0.0 becomes +0.0)."""
        width = row.type.get_shape()[1]  # type: ignore[attr-defined]
        out = self.alloc(psum((partitions, width)))
        stationary = self.view(ones, (0, 0), (1, partitions))
        self.add(tile.MatmulOp(stationary, row, out, accumulate=False))
        return out

    def spread_vector(self, vector: SSAValue, partitions: int, ones: SSAValue) -> SSAValue:
        """An HBM vector of n f32 values (any shape of n elements) repeated on
        `partitions` partitions, in a new `[partitions, n]` SBUF tile: `spread` per chunk
        of what one matmul moves, by the `ones_row` `ones`."""
        n = prod(vector.type.get_shape())  # type: ignore[attr-defined]
        flat = self.reinterpret(vector, (1, n))
        full = self.alloc(sbuf((partitions, n), Float32Type()))
        # chunks of equal width where n splits evenly into as few as the moving operand
        # allows (768 = 2 x 384), so one loop spreads them all; else full chunks and a
        # last partial one
        count = -(-n // TRN1.matmul_max_moving_free)
        width = n // count if n % count == 0 else TRN1.matmul_max_moving_free
        whole = n // width

        # one load of the whole vector (tile-prefetch moves it ahead) while it is small;
        # a long one (a vocabulary's bias) is loaded a chunk at a time, so it never needs
        # its own row of SBUF beside the spread copy
        row = self.load(flat, 0, 0, (1, n)) if n <= FREE_ELEMS else None

        def chunk(at: Offset, nt: int) -> None:
            part = self.load(flat, 0, at, (1, nt)) if row is None else None
            source = self.view(row, (0, at), (1, nt)) if row is not None else part
            assert source is not None
            spread = self.spread(ones, source, partitions)
            self.add(tile.CopyOp(spread, self.view(full, (0, at), (partitions, nt)), Engine.VECTOR))
            self.free(spread, *([part] if part is not None else []))

        if whole == 1:
            chunk(0, width)
        else:
            with self.loop(0, whole) as i:
                chunk(self.affine(i, width), width)
        if whole * width < n:
            chunk(whole * width, n - whole * width)
        if row is not None:
            self.free(row)
        return full

    def transpose_blocks_into(self, xs: SSAValue, xt: SSAValue, column: int, stride: int) -> None:
        """The K blocks of 128 columns of SBUF rows `xs` ([rows, K]) transposed by TensorE
        into `xt`: block i ([kt, rows]) at columns `column + i * stride` (converted to
        `xt`'s type on the way out of PSUM); the full blocks by an `scf.for`, a last
        partial one on its own."""
        rows, k = xs.type.get_shape()  # type: ignore[attr-defined]
        part = TRN1.partitions
        full = k // part
        if full:
            with self.loop(0, full) as i:
                t = self.alloc(psum((part, rows)))
                self.add(
                    tile.TransposeOp(self.view(xs, (0, self.affine(i, part)), (rows, part)), t)
                )
                into = self.view(xt, (0, self.affine(i, stride, column)), (part, rows))
                self.add(tile.CopyOp(t, into, Engine.VECTOR))
                self.free(t)
        if full * part < k:
            kt = k - full * part
            t = self.alloc(psum((kt, rows)))
            self.add(tile.TransposeOp(self.view(xs, (0, full * part), (rows, kt)), t))
            at = column + full * stride
            self.add(tile.CopyOp(t, self.view(xt, (0, at), (kt, rows)), Engine.VECTOR))
            self.free(t)

    def bias_columns(self, bias: SSAValue, width: int, factor: float = 1.0) -> SSAValue:
        """An HBM vector of `width` f32 values (a multiple of 128) as one column per 128
        of them, `[128, width / 128]` in SBUF (element `j * 128 + p` at `[p, j]`), times
        `factor` (exact for a power of two): a per-partition bias for the blocks of a
        feature-major tensor. One load of the vector as rows, one TensorE transpose."""
        part = TRN1.partitions
        blocks = width // part
        rows = self.load(self.reinterpret(bias, (blocks, part)), 0, 0, (blocks, part))
        t = self.alloc(psum((part, blocks)))
        self.add(tile.TransposeOp(rows, t))
        columns = self.alloc(sbuf((part, blocks), Float32Type()))
        if factor == 1.0:
            self.add(tile.CopyOp(t, columns, Engine.VECTOR))
        else:
            self.add(tile.TensorScalarOp(AluOp.MUL, t, factor, columns))
        self.free(rows, t)
        return columns

    def free(self, *bufs: SSAValue) -> None:
        for b in bufs:
            self.add(tile.DeallocOp(b))


def tiles(rows: int, cols: int, free: int) -> list[tuple[int, int, int, int]]:
    return [
        (r0, c0, min(TRN1.partitions, rows - r0), min(free, cols - c0))
        for r0 in range(0, rows, TRN1.partitions)
        for c0 in range(0, cols, free)
    ]


def coalesce(
    out: tuple[int, ...], shapes: Sequence[tuple[int, ...]]
) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
    """Broadcasting shapes with size-1 output dims dropped and adjacent dims merged where
    every operand is broadcast (or not) alike: `[1,16,32,32]` with `[16,1,1]` becomes
    `[16, 1024]` with `[16, 1]`. Row-major element order is kept, so the buffers can be
    reinterpreted in the merged shapes."""
    padded = [(1,) * (len(out) - len(s)) + tuple(s) for s in shapes]
    dims = [d for d in range(len(out)) if out[d] != 1]
    merged_out: list[int] = []
    merged: list[list[int]] = [[] for _ in shapes]
    previous: tuple[bool, ...] | None = None
    for d in dims:
        status = tuple(p[d] == out[d] for p in padded)
        if status == previous:
            merged_out[-1] *= out[d]
            for m, p in zip(merged, padded, strict=True):
                m[-1] *= p[d]
        else:
            merged_out.append(out[d])
            for m, p in zip(merged, padded, strict=True):
                m.append(p[d])
        previous = status
    return tuple(merged_out), [tuple(m) for m in merged]


def broadcast_kind(shape: tuple[int, int], out: tuple[int, int]) -> str | None:
    """How a coalesced 2-D operand meets the coalesced 2-D output: `full`, `row` (one row
    for every row), `col` (one value per row), else None."""
    if shape == out:
        return "full"
    if shape == (1, out[1]) and out[0] > 1:
        return "row"
    if shape == (out[0], 1) and out[1] > 1:
        return "col"
    return None
