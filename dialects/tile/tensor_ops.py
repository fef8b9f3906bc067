"""TensorE ops of the `tile` dialect: `tile.matmul` and `tile.transpose`.

    tile.matmul %w, %x -> %acc accumulate = false : !tile.buffer<128x128xbf16, sbuf, ...>,
        !tile.buffer<128x512xbf16, sbuf, ...> -> !tile.buffer<128x512xf32, psum, ...>
    tile.transpose %a -> %t : !tile.buffer<128x64xbf16, sbuf, ...>
        -> !tile.buffer<64x128xf32, psum, ...>

`tile.matmul` computes `acc[M, N] (=|+=) stationary[K, M]^T @ moving[K, N]`: K is the
partition axis of both inputs, M the partition axis of the accumulator. `accumulate =
false` starts an accumulation group (overwrites), `true` adds to it in fp32.
"""

from __future__ import annotations

from xdsl.dialects.builtin import BoolAttr, Float32Type, IntegerAttr
from xdsl.ir import Operation, SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, operand_def, prop_def, traits_def
from xdsl.traits import MemoryReadEffect, MemoryWriteEffect
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.tile.checks import buffer, check_reads, check_writes, fmt_shape
from trnc.dialects.tile.memory_ops import AllocOp
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
            raise VerifyException(f"matmul contraction limit: K={k} exceeds {TRN1.matmul_max_k}")
        if m > TRN1.matmul_max_stationary_free:
            raise VerifyException(
                f"matmul stationary limit: M={m} exceeds {TRN1.matmul_max_stationary_free}"
            )
        if n > TRN1.matmul_max_moving_free:
            raise VerifyException(
                f"matmul moving limit: N={n} exceeds {TRN1.matmul_max_moving_free}"
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
        # With M on partitions and N <= 512, an f32 accumulator is at most one bank
        # (2 KiB) per partition; it must also not straddle two banks.
        size = acc.bytes_per_partition()
        owner = self.acc.owner
        if isinstance(owner, AllocOp) and owner.address is not None:
            start = owner.address.value.data
            first, last = start // TRN1.psum_bank_bytes, (start + size - 1) // TRN1.psum_bank_bytes
            if first != last:
                raise VerifyException(
                    f"psum bank rule: the accumulator at address {start} spans banks "
                    f"{first} and {last}; an accumulation group lives in one bank"
                )


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
                f"transpose limit: P={p} and F={f} must both be at most {TRN1.transpose_max}"
            )
        _check_partition_dim("transpose", "input", src, "P")
        _check_partition_dim("transpose", "output", dst, "F")
