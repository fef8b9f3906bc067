"""TensorE ops of the `tile` dialect: `tile.matmul` and `tile.transpose`.

    tile.matmul %w, %x -> %acc accumulate = false : !tile.buffer<128x128xbf16, sbuf, ...>,
        !tile.buffer<128x512xbf16, sbuf, ...> -> !tile.buffer<128x512xf32, psum, ...>
    tile.transpose %a -> %t : !tile.buffer<128x64xbf16, sbuf, ...>
        -> !tile.buffer<64x128xf32, psum, ...>

`tile.matmul` computes `acc[M, N] (=|+=) stationary[K, M]^T @ moving[K, N]`: K is the
partition axis of both inputs, M the partition axis of the accumulator. `accumulate =
false` starts an accumulation group (overwrites), `true` adds to it in fp32. The
accumulator (and a transpose's output) must lie in one PSUM bank once placed: its
`tile.alloc` has an `address`, possibly through `tile.view`s (psum bank rule); a transpose
writes f32 (psum output dtype rule).
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import BoolAttr, Float32Type, IntegerAttr
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, prop_def, traits_def
from xdsl.traits import MemoryReadEffect, MemoryWriteEffect
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.isa_common import check_psum_bank, check_tensor_output
from trnc.dialects.tile.checks import buffer, check_reads, check_writes, fmt_shape
from trnc.dialects.tile.memory_ops import AllocOp, ViewOp
from trnc.dialects.tile.types import BufferType
from trnc.machine import TRN1, Engine


def _check_partition_dim(op: str, what: str, buf: BufferType, letter: str) -> None:
    """TensorE reads and writes tiles whose dim 0 is exactly the partition axis."""
    layout = buf.get_layout()
    part = layout.axis("part")
    if len(part) != 1 or part[0].dim != 0 or layout.factors(0) or layout.axis("unroll"):
        raise VerifyException(
            f"{op} layout rule: {what} dim 0 ({letter}) must be exactly the partition axis, "
            f"with no unroll, got {layout}"
        )


def _check_rank2(op: str, what: str, buf: BufferType) -> None:
    if buf.rank != 2:
        raise VerifyException(f"{op} rank rule: {what} must be 2-d, got {fmt_shape(buf)}")


def _free_offset_range(
    buf: BufferType, offsets: Sequence[int | None], shape: Sequence[int]
) -> tuple[int, int, bool]:
    """`(lo, hi, exact)`: the free offsets in elements (half-open) that the window of
    `shape` at logical `offsets` of `buf` touches in each partition. The free offset is a
    sum of one term per logical dim, so each dim's extremes are found on their own; a
    dynamic offset (None) counts as 0 and makes the result inexact when its dim has a part
    on the free or unroll axis."""
    zero = [0] * buf.rank
    lo = hi = 0
    exact = True
    layout = buf.get_layout()
    for d, size in enumerate(shape):
        off = offsets[d]
        if off is None:
            exact = exact and layout.axis_of(d) <= {"part"}
            off = 0
        terms = [buf.locate([*zero[:d], x, *zero[d + 1 :]])[1] for x in range(off, off + size)]
        lo, hi = lo + min(terms), hi + max(terms)
    return lo, hi + 1, exact


def _check_psum_bank(what: str, value: SSAValue) -> None:
    """PSUM bank rule (A.1): a TensorE output (an accumulation group) lies in one bank.

    Walks `tile.view`s back to the `tile.alloc`; checks only when the alloc has an address.
    With a dynamic view offset on a free dim the position is unknown, so the output's
    extent must then fit within one bank."""
    target = buffer(value)
    offsets: list[int | None] = [0] * target.rank
    while isinstance(view := value.owner, ViewOp):
        offsets = [
            None if a is None or b is None else a + b
            for a, b in zip(offsets, view.static_offset_values(), strict=True)
        ]
        value = view.source
    alloc = value.owner
    if not isinstance(alloc, AllocOp) or alloc.address is None:
        return
    root = buffer(value)
    try:
        lo, hi, exact = _free_offset_range(root, offsets, target.get_shape())
    except ValueError:  # a view out of bounds: the view bounds rule reports it
        return
    start = alloc.address.value.data
    eb = root.element_bytes()
    if exact:
        check_psum_bank(what, start + lo * eb, start + hi * eb)
        return
    if (hi - lo) * eb > TRN1.psum_bank_bytes:
        raise VerifyException(
            f"psum bank rule: {what} is a view at a dynamic free offset, so its "
            f"{(hi - lo) * eb} bytes per partition must fit in one {TRN1.psum_bank_bytes}-byte "
            "bank"
        )


@irdl_op_definition
class MatmulOp(IRDLOperation):
    """`acc[M, N] (=|+=) stationary[K, M]^T @ moving[K, N]` on TensorE."""

    name = "tile.matmul"

    stationary = operand_def(BufferType)
    moving = operand_def(BufferType)
    acc = operand_def(BufferType)
    accumulate = prop_def(BoolAttr)

    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())

    assembly_format = (
        "$stationary `,` $moving `->` $acc `accumulate` `=` $accumulate attr-dict "
        "`:` type($stationary) `,` type($moving) `->` type($acc)"
    )

    def __init__(
        self,
        stationary: SSAValue | Operation,
        moving: SSAValue | Operation,
        acc: SSAValue | Operation,
        accumulate: bool,
    ) -> None:
        super().__init__(
            operands=[stationary, moving, acc],
            properties={"accumulate": IntegerAttr.from_bool(accumulate)},
        )

    def verify_(self) -> None:
        stat, mov, acc = buffer(self.stationary), buffer(self.moving), buffer(self.acc)
        check_reads(Engine.TENSOR, "stationary", stat)
        check_reads(Engine.TENSOR, "moving", mov)
        check_writes(Engine.TENSOR, "accumulator", acc)
        for what, buf in (("stationary", stat), ("moving", mov), ("accumulator", acc)):
            _check_rank2("matmul", what, buf)
        (k, m), (k2, n) = stat.get_shape(), mov.get_shape()
        if k != k2:
            raise VerifyException(
                f"matmul contraction mismatch: stationary has K={k} but moving has K={k2}"
            )
        if acc.get_shape() != (m, n):
            raise VerifyException(
                f"matmul result shape mismatch: expected {m}x{n}, got {fmt_shape(acc)}"
            )
        if k > TRN1.matmul_max_k:
            raise VerifyException(f"matmul contraction rule: K={k} exceeds {TRN1.matmul_max_k}")
        if m > TRN1.matmul_max_stationary_free:
            raise VerifyException(
                f"matmul stationary rule: M={m} exceeds {TRN1.matmul_max_stationary_free}"
            )
        if n > TRN1.matmul_max_moving_free:
            raise VerifyException(
                f"matmul moving rule: N={n} exceeds {TRN1.matmul_max_moving_free}"
            )
        if not isinstance(acc.element_type, Float32Type):
            raise VerifyException(
                f"matmul accumulator type rule: the accumulator must be f32, got {acc.element_type}"
            )
        stat_f32 = isinstance(stat.element_type, Float32Type)
        mov_f32 = isinstance(mov.element_type, Float32Type)
        if stat_f32 != mov_f32:
            raise VerifyException(
                f"matmul fp32 rule: fp32 inputs on both or neither, got stationary "
                f"{stat.element_type} and moving {mov.element_type}"
            )
        _check_partition_dim("matmul", "stationary", stat, "K")
        _check_partition_dim("matmul", "moving", mov, "K")
        _check_partition_dim("matmul", "accumulator", acc, "M")
        _check_psum_bank("accumulator", self.acc)


@irdl_op_definition
class TransposeOp(IRDLOperation):
    """TensorE transpose (a matmul against the identity): sbuf `[P, F]` -> psum `[F, P]`."""

    name = "tile.transpose"

    input = operand_def(BufferType)
    output = operand_def(BufferType)

    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())

    assembly_format = "$input `->` $output attr-dict `:` type($input) `->` type($output)"

    def __init__(self, input: SSAValue | Operation, output: SSAValue | Operation) -> None:
        super().__init__(operands=[input, output])

    def verify_(self) -> None:
        src, dst = buffer(self.input), buffer(self.output)
        check_reads(Engine.TENSOR, "input", src)
        check_writes(Engine.TENSOR, "output", dst)
        _check_rank2("transpose", "input", src)
        _check_rank2("transpose", "output", dst)
        p, f = src.get_shape()
        if dst.get_shape() != (f, p):
            raise VerifyException(
                f"transpose shape mismatch: expected {f}x{p}, got {fmt_shape(dst)}"
            )
        if p > TRN1.transpose_max or f > TRN1.transpose_max:
            raise VerifyException(
                f"transpose size rule: P={p} and F={f} must both be at most {TRN1.transpose_max}"
            )
        check_tensor_output("transpose", "output", dst.element_type)
        _check_partition_dim("transpose", "input", src, "P")
        _check_partition_dim("transpose", "output", dst, "F")
        _check_psum_bank("output", self.output)
