"""Verification helpers shared by the `tile` ops.

Each helper raises a `VerifyException` whose message names the broken rule first, then
the offending values. All hardware numbers come from `trnc.machine.TRN1`. The rules
`trn_isa` checks too (engine, connectivity, free size, per-partition scalar, bitvec) are
defined once in `trnc.dialects.isa_common`; the helpers here apply them to buffers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from xdsl.ir import SSAValue
from xdsl.utils.exceptions import VerifyException

from trnc.dialects import isa_common
from trnc.dialects.isa_common import AluOp
from trnc.dialects.tile.types import BufferType
from trnc.machine import Engine


def fmt_shape(buffer: BufferType) -> str:
    """`128x512` for a buffer of shape (128, 512)."""
    return "x".join(map(str, buffer.get_shape()))


def buffer(value: SSAValue) -> BufferType:
    """The buffer type of an operand (IRDL already constrains it)."""
    assert isinstance(value.type, BufferType)
    return value.type


def check_engine(op: str, engine: Engine, allowed: Collection[Engine]) -> None:
    """Engine rule: `op` runs only on one of `allowed`."""
    isa_common.check_engine(op, engine, allowed)


def check_reads(engine: Engine, what: str, buf: BufferType) -> None:
    """Connectivity rule (A.1): `engine` must be able to read `buf`'s memory."""
    isa_common.check_reads(engine, what, buf.space)


def check_writes(engine: Engine, what: str, buf: BufferType) -> None:
    """Connectivity rule (A.1): `engine` must be able to write `buf`'s memory."""
    isa_common.check_writes(engine, what, buf.space)


def check_free_size(engine: Engine, what: str, buf: BufferType) -> None:
    """Free size rule (A.1): a Vector/Scalar instruction covers at most 65,536 free elements
    per partition in SBUF and 4,096 in PSUM (per unrolled tile)."""
    isa_common.check_free_size(engine, what, buf.space, buf.free_count())


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
    isa_common.check_per_partition_scalar(
        what, scalar.partition_count(), scalar.elems_per_partition(), data.partition_count()
    )


def check_bitvec(op: AluOp, operands: Iterable[tuple[str, BufferType]]) -> None:
    """Bitvec rule (B.3): a bitvec ALU op needs integer element types."""
    isa_common.check_bitvec(op, [(what, buf.element_type) for what, buf in operands])


def check_compute_engine(engine: Engine) -> None:
    """Compute ops run on a compute engine, not on a DMA queue."""
    if engine is Engine.DMA:
        raise VerifyException("engine rule: compute ops cannot run on dma; use tile.dma")


def is_integer(buf: BufferType) -> bool:
    """True for an integer element type."""
    return isa_common.is_integer(buf.element_type)
