"""What the `tile` and `trn_isa` dialects share: on-chip element types, ALU operations,
ScalarE activation functions and the hardware checks both verify.

Both dialects describe the same NeuronCore-v2, so they must accept and reject the same
things. This module is the one definition of:

- the element types the engines support and their byte sizes (`ELEMENT_BYTES`,
  `element_bytes`, trn1.md B.3 "Dtypes"), and the PSUM accumulator types (from
  `MachineModel.psum_accumulator_dtypes`, A.1);
- the ALU operations (`AluOp`, with `BITVEC_OPS` and `REDUCE_OPS`, B.3 "ALU ops") and the
  ScalarE activation functions (`ActivationFunc`, B.2 ScalarE "Functions"); each dialect
  wraps these enums in its own `EnumAttribute` (`tile.alu_op`, `trn_isa.alu`, ...);
- the checks both dialects run: engine, connectivity, free size, per-partition scalar,
  bitvec, reduce op, PSUM bank, TensorE output dtype and predicated copy dtype rules. Each
  raises a `VerifyException` whose message names the rule first, then the values.

Hardware numbers are not defined here: they come from `trnc.machine` (`TRN1` by default).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import auto

from xdsl.dialects.builtin import (
    BFloat16Type,
    Float8E4M3FNType,
    Float8E4M3Type,
    Float8E5M2Type,
    Float16Type,
    Float32Type,
    IntegerType,
    Signedness,
)
from xdsl.ir import Attribute
from xdsl.parser import AttrParser
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

from trnc.machine import TRN1, Engine, MachineModel, Memory

# --- element types (trn1.md B.3 "Dtypes") ---------------------------------------------

ELEMENT_BYTES: dict[str, int] = {
    "f32": 4,
    "bf16": 2,
    "f16": 2,
    "f8E4M3FN": 1,
    "f8E4M3": 1,
    "f8E5M2": 1,
    "i32": 4,
    "ui32": 4,
    "i16": 2,
    "ui16": 2,
    "i8": 1,
    "ui8": 1,
}
"""Supported on-chip element types (by `dtype_name`) and their bytes: fp32, bf16, fp16,
fp8 e4m3 / e4m3fn / e5m2 and the int8/16/32 and uint8/16/32 types (B.3). tf32, e8m0 and
the v4 MX types have no builtin type and are not supported."""

_FLOATS: tuple[tuple[type[Attribute], str], ...] = (
    (Float32Type, "f32"),
    (BFloat16Type, "bf16"),
    (Float16Type, "f16"),
    (Float8E4M3FNType, "f8E4M3FN"),
    (Float8E4M3Type, "f8E4M3"),
    (Float8E5M2Type, "f8E5M2"),
)


def dtype_name(dtype: Attribute) -> str | None:
    """The name of a supported element type in `ELEMENT_BYTES` (signless and signed
    integers are both `iN`, unsigned ones `uiN`), or None when it is not supported."""
    for cls, name in _FLOATS:
        if isinstance(dtype, cls):
            return name
    if isinstance(dtype, IntegerType):
        unsigned = dtype.signedness.data is Signedness.UNSIGNED
        name = f"{'ui' if unsigned else 'i'}{dtype.width.data}"
        return name if name in ELEMENT_BYTES else None
    return None


def element_bytes(dtype: Attribute) -> int | None:
    """Bytes of one element of a supported type, or None when the engines do not support it."""
    name = dtype_name(dtype)
    return None if name is None else ELEMENT_BYTES[name]


def byte_size(dtype: Attribute) -> int:
    """Bytes of one element of a supported type; `ValueError` for an unsupported one."""
    size = element_bytes(dtype)
    if size is None:
        raise ValueError(f"element type {dtype} is not supported on chip")
    return size


def supported_dtypes() -> str:
    """The supported element type names, for messages."""
    return ", ".join(ELEMENT_BYTES)


def is_integer(dtype: Attribute) -> bool:
    """Whether the element type is an integer type."""
    return isinstance(dtype, IntegerType)


def is_psum_accumulator(dtype: Attribute, m: MachineModel = TRN1) -> bool:
    """Whether PSUM holds elements of this type (A.1: fp32 or int32 accumulators)."""
    return dtype_name(dtype) in m.psum_accumulator_dtypes


# --- ALU operations and activation functions (trn1.md B.2, B.3) -----------------------


class AluOp(StrEnum):
    """ALU operations of VectorE, ScalarE and GpSimdE (trn1.md B.3 "ALU ops").

    Arithmetic ops compute in fp32; the bitvec ops (`BITVEC_OPS`) need integer dtypes.
    `bypass` (pass the input through) and `div` come from the nki.isa operator table.
    """

    BYPASS = auto()
    ADD = auto()
    SUB = auto()
    MUL = auto()
    DIV = auto()
    MAX = auto()
    MIN = auto()
    POW = auto()
    ABS_MAX = auto()
    ABS_MIN = auto()
    EQ = auto()
    NE = auto()
    GE = auto()
    GT = auto()
    LE = auto()
    LT = auto()
    LOGICAL_AND = auto()
    LOGICAL_OR = auto()
    LOGICAL_XOR = auto()
    BITWISE_AND = auto()
    BITWISE_OR = auto()
    BITWISE_XOR = auto()
    INVERT = auto()
    SHIFT_LEFT = auto()
    LOGICAL_SHIFT_RIGHT = auto()

    @property
    def is_bitvec(self) -> bool:
        """Whether the op works on the bits of integer operands (B.3)."""
        return self in BITVEC_OPS

    @property
    def is_reduction(self) -> bool:
        """Whether a free-axis reduction may use the op (B.3)."""
        return self in REDUCE_OPS


BITVEC_OPS: frozenset[AluOp] = frozenset(
    {
        AluOp.INVERT,
        AluOp.BITWISE_AND,
        AluOp.BITWISE_OR,
        AluOp.BITWISE_XOR,
        AluOp.SHIFT_LEFT,
        AluOp.LOGICAL_SHIFT_RIGHT,
    }
)
"""B.3 bitvec ops: invert, and, or, xor, shift left, logical shift right (there is no
arithmetic shift right)."""

REDUCE_OPS: frozenset[AluOp] = frozenset(
    {
        AluOp.ADD,
        AluOp.SUB,
        AluOp.MUL,
        AluOp.MAX,
        AluOp.MIN,
        AluOp.BITWISE_AND,
        AluOp.BITWISE_OR,
        AluOp.BITWISE_XOR,
        AluOp.LOGICAL_AND,
        AluOp.LOGICAL_OR,
        AluOp.LOGICAL_XOR,
    }
)
"""B.3: reductions are allowed for add, sub, mul, max, min, and, or, xor and the logical ops."""


class ActivationFunc(StrEnum):
    """ScalarE activation functions (trn1.md B.2 ScalarE "Functions")."""

    COPY = auto()
    RELU = auto()
    PRELU = auto()
    GELU = auto()
    GELU_TANH = auto()
    GELU_SIGMOID = auto()
    GELU_DX = auto()
    SILU = auto()
    SILU_DX = auto()
    TANH = auto()
    SIGMOID = auto()
    SOFTPLUS = auto()
    MISH = auto()
    EXP = auto()
    LOG = auto()
    ERF = auto()
    ERF_DX = auto()
    SQRT = auto()
    RSQRT = auto()
    RECIPROCAL = auto()
    SQUARE = auto()
    ABS = auto()
    SIGN = auto()
    SIN = auto()
    ARCTAN = auto()


# --- checks ---------------------------------------------------------------------------


def check_engine(op: str, engine: StrEnum, allowed: Iterable[StrEnum]) -> None:
    """Engine rule (A.2): `op` runs only on one of `allowed`."""
    allowed = tuple(allowed)
    if engine not in allowed:
        names = " or ".join(e.value for e in allowed)
        raise VerifyException(f"engine rule: {op} runs on {names}, got {engine.value}")


def check_reads(engine: Engine, what: str, memory: Memory, m: MachineModel = TRN1) -> None:
    """Connectivity rule (A.1): `engine` can read `memory` (operand `what`)."""
    if not m.can_read(engine, memory):
        raise VerifyException(
            f"connectivity rule: {engine.value} cannot read {memory.value} ({what})"
        )


def check_writes(engine: Engine, what: str, memory: Memory, m: MachineModel = TRN1) -> None:
    """Connectivity rule (A.1): `engine` can write `memory` (operand `what`)."""
    if not m.can_write(engine, memory):
        raise VerifyException(
            f"connectivity rule: {engine.value} cannot write {memory.value} ({what})"
        )


def check_free_size(
    engine: Engine, what: str, memory: Memory, elems: int, m: MachineModel = TRN1
) -> None:
    """Free size rule (A.1): a Vector/Scalar instruction covers at most 65,536 elements
    per partition of an SBUF operand and 4,096 of a PSUM operand."""
    if engine not in (Engine.VECTOR, Engine.SCALAR) or memory is Memory.HBM:
        return
    limit = m.max_free_elems_psum if memory is Memory.PSUM else m.max_free_elems_sbuf
    if elems > limit:
        raise VerifyException(
            f"free size rule: {what} has {elems} elements per partition in {memory.value}, "
            f"at most {limit} on {engine.value}"
        )


def check_per_partition_scalar(what: str, partitions: int, elems: int, expected: int) -> None:
    """Per-partition scalar rule: a scale, bias, scalar operand or reduce output is
    `[P, 1]`, one element in each of the instruction's `expected` partitions."""
    if partitions != expected or elems != 1:
        raise VerifyException(
            f"per-partition scalar rule: {what} must be [{expected}, 1], got "
            f"[{partitions}, {elems}]"
        )


def check_bitvec(op: AluOp, operands: Iterable[tuple[str, Attribute]]) -> None:
    """Bitvec rule (B.3): a bitvec ALU op needs integer dtypes on every (name, dtype)."""
    if not op.is_bitvec:
        return
    for what, dtype in operands:
        if not is_integer(dtype):
            raise VerifyException(
                f"bitvec rule: {op.value} needs integer dtypes, {what} is {dtype}"
            )


def check_reduce_op(op: AluOp) -> None:
    """Reduce op rule (B.3): only `REDUCE_OPS` reduce."""
    if not op.is_reduction:
        choices = ", ".join(o.value for o in AluOp if o in REDUCE_OPS)
        raise VerifyException(f"reduce op rule: {op.value} cannot reduce; use one of {choices}")


def check_psum_bank(what: str, lo: int, hi: int, m: MachineModel = TRN1) -> None:
    """PSUM bank rule (A.1): bytes `[lo, hi)` of each partition (a matmul or transpose
    output, an accumulation group) lie inside one bank."""
    bank = m.psum_bank_bytes
    if lo // bank != (hi - 1) // bank:
        raise VerifyException(
            f"psum bank rule: {what} touches bytes [{lo}, {hi}) of each partition, which "
            f"crosses a {bank}-byte bank boundary"
        )


def check_tensor_output(op: str, what: str, dtype: Attribute, m: MachineModel = TRN1) -> None:
    """PSUM output dtype rule (A.1): TensorE writes fp32 into PSUM."""
    if dtype_name(dtype) != m.tensor_output_dtype:
        raise VerifyException(
            f"psum output dtype rule: {op} writes {m.tensor_output_dtype} to psum, "
            f"{what} is {dtype}"
        )


PREDICATE_DTYPES: tuple[str, ...] = ("ui8", "ui16", "ui32")
"""B.3 `tensor_copy_predicated`: the predicate is uint8, uint16 or uint32."""


def check_predicated_copy_dtypes(
    src: tuple[str, Attribute], dst: tuple[str, Attribute], predicate: tuple[str, Attribute]
) -> None:
    """Predicated copy rules (B.3 `tensor_copy_predicated`), each a (name, dtype): the copy
    is bit-exact, so `src` and `dst` have the same element type (copy dtype rule); the
    predicate is an unsigned integer (predicate dtype rule)."""
    (src_name, src_type), (dst_name, dst_type) = src, dst
    if src_type != dst_type:
        raise VerifyException(
            f"copy dtype rule: a predicated copy is bit-exact, {src_name} is {src_type} but "
            f"{dst_name} is {dst_type}"
        )
    pred_name, pred_type = predicate
    if dtype_name(pred_type) not in PREDICATE_DTYPES:
        raise VerifyException(
            f"predicate dtype rule: {pred_name} must be {', '.join(PREDICATE_DTYPES)}, "
            f"got {pred_type}"
        )


def check_connectivity(
    engine: Engine,
    reads: Iterable[tuple[str, Memory]],
    writes: Iterable[tuple[str, Memory]],
    m: MachineModel = TRN1,
) -> None:
    """Connectivity rule (A.1) for every (name, memory) an instruction reads and writes."""
    for what, memory in reads:
        check_reads(engine, what, memory, m)
    for what, memory in writes:
        check_writes(engine, what, memory, m)


def parse_dims(parser: AttrParser) -> list[tuple[int, int]]:
    """Parse `[[step, count], ...]` (possibly empty) into (step, count) pairs."""

    def pair() -> tuple[int, int]:
        parser.parse_punctuation("[")
        step = parser.parse_integer(allow_boolean=False)
        parser.parse_punctuation(",")
        count = parser.parse_integer(allow_boolean=False)
        parser.parse_punctuation("]")
        return (step, count)

    return parser.parse_comma_separated_list(parser.Delimiter.SQUARE, pair)


def format_dims(dims: Sequence[tuple[int, int]]) -> str:
    """Format (step, count) pairs as `[[step, count], ...]`."""
    return "[" + ", ".join(f"[{s}, {c}]" for s, c in dims) + "]"


__all__ = [
    "BITVEC_OPS",
    "ELEMENT_BYTES",
    "PREDICATE_DTYPES",
    "REDUCE_OPS",
    "ActivationFunc",
    "AluOp",
    "byte_size",
    "check_bitvec",
    "check_connectivity",
    "check_engine",
    "check_free_size",
    "check_per_partition_scalar",
    "check_predicated_copy_dtypes",
    "check_psum_bank",
    "check_reads",
    "check_reduce_op",
    "check_tensor_output",
    "check_writes",
    "dtype_name",
    "element_bytes",
    "format_dims",
    "is_integer",
    "is_psum_accumulator",
    "parse_dims",
    "supported_dtypes",
]
