"""Verification helpers shared by the `tile` ops.

Each helper raises a `VerifyException` whose message names the broken rule first, then
the offending values. All hardware numbers come from `trnc.machine.TRN1`.
"""

from __future__ import annotations

from collections.abc import Collection

from xdsl.dialects.builtin import IntegerType
from xdsl.ir import SSAValue
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.tile.types import BufferType
from trnc.machine import TRN1, Engine, Memory


def fmt_shape(buffer: BufferType) -> str:
    """`128x512` for a buffer of shape (128, 512)."""
    return "x".join(map(str, buffer.get_shape()))


def buffer(value: SSAValue) -> BufferType:
    """The buffer type of an operand (IRDL already constrains it)."""
    assert isinstance(value.type, BufferType)
    return value.type


def check_engine(op: str, engine: Engine, allowed: Collection[Engine]) -> None:
    """Engine rule: `op` runs only on one of `allowed`."""
    if engine not in allowed:
        names = " or ".join(e.value for e in allowed)
        raise VerifyException(f"engine rule: {op} runs on {names}, got {engine.value}")


def check_reads(engine: Engine, what: str, buf: BufferType) -> None:
    """Connectivity rule (A.1): `engine` must be able to read `buf`'s memory."""
    if not TRN1.can_read(engine, buf.space):
        raise VerifyException(
            f"connectivity rule: the {engine.value} engine cannot read {buf.space.value} ({what})"
        )


def check_writes(engine: Engine, what: str, buf: BufferType) -> None:
    """Connectivity rule (A.1): `engine` must be able to write `buf`'s memory."""
    if not TRN1.can_write(engine, buf.space):
        raise VerifyException(
            f"connectivity rule: the {engine.value} engine cannot write {buf.space.value} ({what})"
        )


def check_free_size(engine: Engine, what: str, buf: BufferType) -> None:
    """Free size rule (A.1): a Vector/Scalar instruction covers at most 65,536 free elements
    per partition in SBUF and 4,096 in PSUM (per unrolled tile)."""
    if engine not in (Engine.VECTOR, Engine.SCALAR):
        return
    limit = TRN1.max_free_elems_psum if buf.space is Memory.PSUM else TRN1.max_free_elems_sbuf
    if buf.free_count() > limit:
        raise VerifyException(
            f"free size rule: {what} has {buf.free_count()} free elements per partition in "
            f"{buf.space.value}, at most {limit} per {engine.value} instruction"
        )


def check_same_shape(what_a: str, a: BufferType, what_b: str, b: BufferType) -> None:
    """Shape rule: two operands of an elementwise op have the same logical shape."""
    if a.get_shape() != b.get_shape():
        raise VerifyException(
            f"shape mismatch: {what_a} is {fmt_shape(a)} but {what_b} is {fmt_shape(b)}"
        )


def check_same_partitions(what_a: str, a: BufferType, what_b: str, b: BufferType) -> None:
    """Lane rule: an elementwise op keeps each element on its partition, so both layouts
    must put the same logical dims (with the same splits) on the partition axis."""
    sig_a = a.get_layout().partition_signature(a.get_shape())
    sig_b = b.get_layout().partition_signature(b.get_shape())
    if sig_a != sig_b:
        raise VerifyException(
            f"partition mapping rule: {what_a} and {what_b} must place the same dims on "
            f"partitions, got {a.get_layout()} and {b.get_layout()}"
        )


def check_per_partition_scalar(what: str, scalar: BufferType, data: BufferType) -> None:
    """Per-partition scalar rule: a scalar operand is a [P, 1] buffer, one element in each
    of the data's P partitions."""
    if scalar.partition_count() != data.partition_count() or scalar.elems_per_partition() != 1:
        raise VerifyException(
            f"per-partition scalar rule: {what} must hold one element in each of the "
            f"{data.partition_count()} partitions, got {scalar.partition_count()} partitions "
            f"x {scalar.elems_per_partition()} elements"
        )


def check_compute_engine(engine: Engine) -> None:
    """Compute ops run on a compute engine, not on a DMA queue."""
    if engine is Engine.DMA:
        raise VerifyException("engine rule: compute ops cannot run on dma; use tile.dma")


def is_integer(buf: BufferType) -> bool:
    """True for an integer element type."""
    return isinstance(buf.element_type, IntegerType)
