"""Per-partition compute ops of the `tile` dialect, with the engine as a property.

    tile.activation gelu %x bias %b scale 0.5 -> %y on scalar : !X, !B -> !Y
    tile.tensor_tensor add %a, %b -> %c on vector : !A, !B -> !C
    tile.tensor_scalar mul %x, 2.0 -> %y on vector : !X -> !Y
    tile.tensor_scalar max %x, %s -> %y on gpsimd : !X, !S -> !Y
    tile.reduce max %x axes [1] -> %r on vector : !X -> !R
    tile.copy %x -> %y on scalar : !X -> !Y
    tile.copy_predicated %x, %mask -> %y on vector : !X, !M -> !Y
    tile.memset %y value 0.0 on gpsimd : !Y
    tile.iota %y base 0 channel_multiplier 1 pattern [[128, 4]] on gpsimd : !Y

Each op works lane by lane: input and output keep every element on its partition, so
their layouts must put the same dims on partitions. Every op checks its engine against
the ops that engine implements (trn1.md B), the engine against the memories it touches
(A.1 connectivity) and the free size of one instruction (A.1).

`tile.copy`, `tile.tensor_tensor` and `tile.tensor_scalar` may name a second engine for
the odd runs of a loop around them (`tile-balance-engines` chooses it; `tile-to-isa`
unrolls the loop so), which the op's rules must allow too:

    tile.copy %acc -> %y on vector alternating scalar : !P -> !Y

`tile.copy_predicated` copies `input` to `output` bit-exactly where `predicate` is nonzero
and leaves the other elements of `output` as they were (so `output` is read as well as
written). `tile.iota` writes `base + p * channel_multiplier + sum_k i_k * step_k` to
`output`, where `p` is the element's partition (counted from the buffer's first) and
`i_k` its index along the k-th part of the layout's free axis, whose `(step, count)` is
the k-th pair of `pattern` (the counts are the free parts' extents).
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import (
    I64,
    DenseArrayBase,
    Float32Type,
    FloatAttr,
    IntegerAttr,
    UnitAttr,
    f32,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    AttrSizedOperandSegments,
    IRDLOperation,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    traits_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import MemoryReadEffect, MemoryWriteEffect
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.isa_common import (
    check_predicated_copy_dtypes,
    check_reduce_op,
    format_dims,
    parse_dims,
)
from trnc.dialects.tile.checks import (
    buffer,
    check_bitvec,
    check_compute_engine,
    check_engine,
    check_free_size,
    check_per_partition_scalar,
    check_reads,
    check_same_partitions,
    check_same_shape,
    check_writes,
    fmt_shape,
    is_integer,
)
from trnc.dialects.tile.enums import (
    ActivationFunc,
    ActivationFuncAttr,
    AluOp,
    AluOpAttr,
    EngineAttr,
)
from trnc.dialects.tile.types import BufferType
from trnc.machine import Engine, Memory

ACTIVATION_ENGINES = (Engine.SCALAR,)
TENSOR_TENSOR_ENGINES = (Engine.VECTOR, Engine.GPSIMD)
TENSOR_SCALAR_ENGINES = (Engine.VECTOR, Engine.SCALAR, Engine.GPSIMD)
REDUCE_ENGINES = (Engine.VECTOR,)
COPY_ENGINES = (Engine.VECTOR, Engine.SCALAR, Engine.GPSIMD)
COPY_PREDICATED_ENGINES = (Engine.VECTOR,)
MEMSET_ENGINES = (Engine.VECTOR, Engine.GPSIMD)
IOTA_ENGINES = (Engine.GPSIMD,)


def _engine(engine: Engine | EngineAttr) -> EngineAttr:
    return engine if isinstance(engine, EngineAttr) else EngineAttr(engine)


def _engines(op: IRDLOperation) -> tuple[Engine, ...]:
    """The engines an op's runs use: its `engine`, and its `alternate` (odd runs in a
    loop) when it has one."""
    engine: EngineAttr = op.engine  # type: ignore[attr-defined]
    alternate: EngineAttr | None = op.alternate  # type: ignore[attr-defined]
    return (engine.data,) if alternate is None else (engine.data, alternate.data)


def _check_unary(
    op: str, engine: Engine, allowed: tuple[Engine, ...], src: BufferType, dst: BufferType
) -> None:
    """Engine, connectivity, shape, lane and free-size rules of a one-input op."""
    check_compute_engine(engine)
    check_engine(op, engine, allowed)
    check_reads(engine, "input", src)
    check_writes(engine, "output", dst)
    check_same_shape("input", src, "output", dst)
    check_same_partitions("input", src, "output", dst)
    check_free_size(engine, "input", src)
    check_free_size(engine, "output", dst)


@irdl_op_definition
class ActivationOp(IRDLOperation):
    """`output = func(input * scale + bias)` on ScalarE; `bias` is a per-partition [P, 1]
    buffer, `scale` an immediate (default 1.0)."""

    name = "tile.activation"

    func = prop_def(ActivationFuncAttr)
    input = operand_def(BufferType)
    bias = opt_operand_def(BufferType)
    output = operand_def(BufferType)
    accum = opt_operand_def(BufferType)
    """Also written: each partition's sum of the output ([P, 1], f32)."""
    scale = prop_def(FloatAttr[Float32Type], default_value=FloatAttr(1.0, f32))
    engine = prop_def(EngineAttr)

    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())
    irdl_options = (AttrSizedOperandSegments(as_property=True),)

    assembly_format = (
        "$func $input (`bias` $bias^)? (`scale` $scale^)? `->` $output (`accum` $accum^)? "
        "`on` $engine attr-dict `:` type($input) (`,` type($bias)^)? `->` type($output) "
        "(`,` type($accum)^)?"
    )

    def __init__(
        self,
        func: ActivationFunc,
        input: SSAValue | Operation,
        output: SSAValue | Operation,
        *,
        bias: SSAValue | Operation | None = None,
        accum: SSAValue | Operation | None = None,
        scale: float = 1.0,
        engine: Engine | EngineAttr = Engine.SCALAR,
    ) -> None:
        super().__init__(
            operands=[
                input,
                [] if bias is None else [bias],
                output,
                [] if accum is None else [accum],
            ],
            properties={
                "func": ActivationFuncAttr(func),
                "scale": FloatAttr(scale, f32),
                "engine": _engine(engine),
            },
        )

    def verify_(self) -> None:
        src, dst = buffer(self.input), buffer(self.output)
        engine = self.engine.data
        _check_unary("activation", engine, ACTIVATION_ENGINES, src, dst)
        if self.bias is not None:
            bias = buffer(self.bias)
            check_reads(engine, "bias", bias)
            check_per_partition_scalar("bias", bias, src)
        if self.accum is not None:
            accum = buffer(self.accum)
            check_writes(engine, "accum", accum)
            check_per_partition_scalar("accum", accum, dst)
            if not isinstance(accum.element_type, Float32Type):
                raise VerifyException(
                    f"activation accum rule: the sums are f32, got {accum.element_type}"
                )


@irdl_op_definition
class TensorTensorOp(IRDLOperation):
    """`output = lhs op rhs`, elementwise, on VectorE or GpSimdE."""

    name = "tile.tensor_tensor"

    op = prop_def(AluOpAttr)
    lhs = operand_def(BufferType)
    rhs = operand_def(BufferType)
    output = operand_def(BufferType)
    engine = prop_def(EngineAttr)
    alternate = opt_prop_def(EngineAttr)
    """In a loop, the engine of the odd runs (`tile-balance-engines` splits a loop's
    runs over two engines)."""

    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())

    assembly_format = (
        "$op $lhs `,` $rhs `->` $output `on` $engine (`alternating` $alternate^)? attr-dict "
        "`:` type($lhs) `,` type($rhs) `->` type($output)"
    )

    def __init__(
        self,
        op: AluOp,
        lhs: SSAValue | Operation,
        rhs: SSAValue | Operation,
        output: SSAValue | Operation,
        engine: Engine | EngineAttr = Engine.VECTOR,
    ) -> None:
        super().__init__(
            operands=[lhs, rhs, output],
            properties={"op": AluOpAttr(op), "engine": _engine(engine)},
        )

    def verify_(self) -> None:
        lhs, rhs, dst = buffer(self.lhs), buffer(self.rhs), buffer(self.output)
        for engine in _engines(self):
            _check_unary("tensor_tensor", engine, TENSOR_TENSOR_ENGINES, lhs, dst)
            check_reads(engine, "rhs", rhs)
            check_free_size(engine, "rhs", rhs)
        check_same_shape("lhs", lhs, "rhs", rhs)
        check_same_partitions("lhs", lhs, "rhs", rhs)
        if lhs.space is Memory.PSUM and rhs.space is Memory.PSUM:
            raise VerifyException(
                "tensor_tensor psum rule: at most one input may be in psum, got both"
            )
        check_bitvec(self.op.data, [("lhs", lhs), ("rhs", rhs), ("output", dst)])


@irdl_op_definition
class TensorScalarOp(IRDLOperation):
    """`output = input op scalar`, where the scalar is an immediate or a per-partition
    [P, 1] buffer; on VectorE, ScalarE or GpSimdE."""

    name = "tile.tensor_scalar"

    op = prop_def(AluOpAttr)
    input = operand_def(BufferType)
    scalar_operand = opt_operand_def(BufferType)
    output = operand_def(BufferType)
    scalar = opt_prop_def(FloatAttr[Float32Type])
    engine = prop_def(EngineAttr)
    alternate = opt_prop_def(EngineAttr)
    """In a loop, the engine of the odd runs (see `TensorTensorOp.alternate`)."""

    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())

    def __init__(
        self,
        op: AluOp,
        input: SSAValue | Operation,
        scalar: float | SSAValue | Operation,
        output: SSAValue | Operation,
        engine: Engine | EngineAttr = Engine.VECTOR,
    ) -> None:
        props = {"op": AluOpAttr(op), "engine": _engine(engine)}
        operand: list[SSAValue | Operation] = []
        if isinstance(scalar, float | int):
            props["scalar"] = FloatAttr(float(scalar), f32)
        else:
            operand = [scalar]
        super().__init__(operands=[input, operand, output], properties=props)

    @classmethod
    def parse(cls, parser: Parser) -> TensorScalarOp:
        op = AluOpAttr(AluOpAttr.parse_parameter(parser))
        src = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        scalar_operand = parser.parse_optional_unresolved_operand()
        scalar: FloatAttr | None = None
        if scalar_operand is None:
            scalar = FloatAttr(parser.parse_number(), f32)
        parser.parse_punctuation("->")
        dst = parser.parse_unresolved_operand()
        parser.parse_keyword("on")
        engine = EngineAttr(EngineAttr.parse_parameter(parser))
        alternate = None
        if parser.parse_optional_keyword("alternating") is not None:
            alternate = EngineAttr(EngineAttr.parse_parameter(parser))
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        src_type = parser.parse_type()
        scalar_type = None
        if scalar_operand is not None:
            parser.parse_punctuation(",")
            scalar_type = parser.parse_type()
        parser.parse_punctuation("->")
        dst_type = parser.parse_type()
        operands: list[SSAValue] = [parser.resolve_operand(src, src_type)]
        if scalar_operand is not None and scalar_type is not None:
            operands.append(parser.resolve_operand(scalar_operand, scalar_type))
        operands.append(parser.resolve_operand(dst, dst_type))
        props: dict[str, Attribute] = {"op": op, "engine": engine}
        if alternate is not None:
            props["alternate"] = alternate
        if scalar is not None:
            props["scalar"] = scalar
        result = cls.create(
            operands=operands,
            properties=props,
            attributes=attrs,
        )
        return result

    def print(self, printer: Printer) -> None:
        printer.print_string(f" {self.op.data.value} ")
        printer.print_operand(self.input)
        printer.print_string(", ")
        if self.scalar_operand is not None:
            printer.print_operand(self.scalar_operand)
        elif self.scalar is not None:
            printer.print_float(self.scalar.value.data, f32)
        printer.print_string(" -> ")
        printer.print_operand(self.output)
        printer.print_string(f" on {self.engine.data.value}")
        if self.alternate is not None:
            printer.print_string(f" alternating {self.alternate.data.value}")
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.input.type)
        if self.scalar_operand is not None:
            printer.print_string(", ")
            printer.print_attribute(self.scalar_operand.type)
        printer.print_string(" -> ")
        printer.print_attribute(self.output.type)

    def verify_(self) -> None:
        src, dst = buffer(self.input), buffer(self.output)
        for engine in _engines(self):
            _check_unary("tensor_scalar", engine, TENSOR_SCALAR_ENGINES, src, dst)
            if self.scalar_operand is not None:
                check_reads(engine, "scalar", buffer(self.scalar_operand))
        if (self.scalar is None) == (self.scalar_operand is None):
            raise VerifyException(
                "tensor_scalar operand rule: give exactly one of an immediate scalar or a "
                "[P, 1] scalar buffer"
            )
        bufs = [("input", src), ("output", dst)]
        if self.scalar_operand is not None:
            scalar = buffer(self.scalar_operand)
            check_per_partition_scalar("scalar", scalar, src)
            bufs.append(("scalar", scalar))
        check_bitvec(self.op.data, bufs)


@irdl_op_definition
class ReduceOp(IRDLOperation):
    """Reduce `input` with `op` over trailing free `axes`; the output keeps those dims
    with size 1 (e.g. [128, 512] -> [128, 1] for `axes [1]`)."""

    name = "tile.reduce"

    op = prop_def(AluOpAttr)
    input = operand_def(BufferType)
    axes = prop_def(DenseArrayBase[I64])
    output = operand_def(BufferType)
    engine = prop_def(EngineAttr)
    negate = opt_prop_def(UnitAttr)
    """Write the negated result (free on the engine, trn1.md B.3)."""

    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())

    assembly_format = (
        "$op $input `axes` $axes (`negate` $negate^)? `->` $output `on` $engine attr-dict "
        "`:` type($input) `->` type($output)"
    )

    def __init__(
        self,
        op: AluOp,
        input: SSAValue | Operation,
        axes: list[int],
        output: SSAValue | Operation,
        engine: Engine | EngineAttr = Engine.VECTOR,
        negate: bool = False,
    ) -> None:
        props: dict[str, Attribute] = {
            "op": AluOpAttr(op),
            "axes": DenseArrayBase.from_list(i64, axes),
            "engine": _engine(engine),
        }
        if negate:
            props["negate"] = UnitAttr()
        super().__init__(operands=[input, output], properties=props)

    def verify_(self) -> None:
        src, dst = buffer(self.input), buffer(self.output)
        engine = self.engine.data
        check_compute_engine(engine)
        check_engine("reduce", engine, REDUCE_ENGINES)
        check_reads(engine, "input", src)
        check_writes(engine, "output", dst)
        check_free_size(engine, "input", src)
        op = self.op.data
        check_reduce_op(op)
        axes = sorted(int(a) for a in self.axes.get_values())
        if (
            not axes
            or axes != list(range(src.rank - len(axes), src.rank))
            or len(set(axes)) != len(axes)
        ):
            raise VerifyException(
                f"reduce axis rule: axes must be the trailing dims of a rank-{src.rank} input, "
                f"got {axes}"
            )
        layout = src.get_layout()
        free = layout.axis("free")
        tail = free[len(free) - sum(1 for r in free if r.dim in axes) :]
        on_free = all(r.dim in axes for r in tail) and all(
            layout.axis_of(a) == {"free"} for a in axes
        )
        if not on_free:
            raise VerifyException(
                f"reduce axis rule: reduced dims {axes} must be the innermost free parts of "
                f"the input layout, got {layout}"
            )
        expected = tuple(1 if d in axes else s for d, s in enumerate(src.get_shape()))
        if dst.get_shape() != expected:
            raise VerifyException(
                f"reduce shape mismatch: expected output {'x'.join(map(str, expected))}, "
                f"got {fmt_shape(dst)}"
            )
        check_same_partitions("input", src, "output", dst)
        check_bitvec(op, [("input", src), ("output", dst)])


@irdl_op_definition
class CopyOp(IRDLOperation):
    """Copy (and cast) `input` to `output` on VectorE, ScalarE or GpSimdE."""

    name = "tile.copy"

    input = operand_def(BufferType)
    output = operand_def(BufferType)
    engine = prop_def(EngineAttr)
    alternate = opt_prop_def(EngineAttr)
    """In a loop, the engine of the odd runs (see `TensorTensorOp.alternate`)."""

    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())

    assembly_format = (
        "$input `->` $output `on` $engine (`alternating` $alternate^)? attr-dict "
        "`:` type($input) `->` type($output)"
    )

    def __init__(
        self,
        input: SSAValue | Operation,
        output: SSAValue | Operation,
        engine: Engine | EngineAttr = Engine.VECTOR,
    ) -> None:
        super().__init__(operands=[input, output], properties={"engine": _engine(engine)})

    def verify_(self) -> None:
        for engine in _engines(self):
            _check_unary("copy", engine, COPY_ENGINES, buffer(self.input), buffer(self.output))


@irdl_op_definition
class MemsetOp(IRDLOperation):
    """Fill `output` with a constant on VectorE or GpSimdE."""

    name = "tile.memset"

    output = operand_def(BufferType)
    value = prop_def(FloatAttr[Float32Type])
    engine = prop_def(EngineAttr)

    traits = traits_def(MemoryWriteEffect())

    assembly_format = "$output `value` $value `on` $engine attr-dict `:` type($output)"

    def __init__(
        self,
        output: SSAValue | Operation,
        value: float,
        engine: Engine | EngineAttr = Engine.VECTOR,
    ) -> None:
        super().__init__(
            operands=[output],
            properties={"value": FloatAttr(float(value), f32), "engine": _engine(engine)},
        )

    def verify_(self) -> None:
        dst = buffer(self.output)
        engine = self.engine.data
        check_compute_engine(engine)
        check_engine("memset", engine, MEMSET_ENGINES)
        check_writes(engine, "output", dst)
        check_free_size(engine, "output", dst)
        value = self.value.value.data
        if is_integer(dst) and value != int(value):
            raise VerifyException(
                f"memset value rule: an integer buffer needs an integral value, got {value}"
            )


@irdl_op_definition
class CopyPredicatedOp(IRDLOperation):
    """`output = input` where `predicate` is nonzero, elsewhere `output` unchanged, on
    VectorE (trn1.md B.3 `tensor_copy_predicated`): a bit-exact copy, so `input` and
    `output` have the same element type; the predicate (ui8, ui16 or ui32) has their
    shape. `output` is read as well as written."""

    name = "tile.copy_predicated"

    input = operand_def(BufferType)
    predicate = operand_def(BufferType)
    output = operand_def(BufferType)
    engine = prop_def(EngineAttr)

    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())

    assembly_format = (
        "$input `,` $predicate `->` $output `on` $engine attr-dict "
        "`:` type($input) `,` type($predicate) `->` type($output)"
    )

    def __init__(
        self,
        src: SSAValue | Operation,
        pred: SSAValue | Operation,
        dst: SSAValue | Operation,
        engine: Engine | EngineAttr = Engine.VECTOR,
    ) -> None:
        super().__init__(operands=[src, pred, dst], properties={"engine": _engine(engine)})

    def verify_(self) -> None:
        src, pred, dst = buffer(self.input), buffer(self.predicate), buffer(self.output)
        engine = self.engine.data
        _check_unary("copy_predicated", engine, COPY_PREDICATED_ENGINES, src, dst)
        check_reads(engine, "output", dst)
        check_reads(engine, "predicate", pred)
        check_same_shape("predicate", pred, "output", dst)
        check_same_partitions("predicate", pred, "output", dst)
        check_free_size(engine, "predicate", pred)
        check_predicated_copy_dtypes(
            ("input", src.element_type),
            ("output", dst.element_type),
            ("predicate", pred.element_type),
        )


@irdl_op_definition
class IotaOp(IRDLOperation):
    """Write `base + p * channel_multiplier + sum_k i_k * step_k` to `output` on GpSimdE
    (trn1.md B.3 `iota`, SBUF only): `p` is the element's partition, counted from the
    buffer's first, and `i_k` its index along the k-th part of the layout's free axis,
    `pattern[k] = (step_k, count_k)` with `count_k` that part's extent. Values are exact
    integers, cast to the element type."""

    name = "tile.iota"

    output = operand_def(BufferType)
    steps = prop_def(DenseArrayBase[I64])
    counts = prop_def(DenseArrayBase[I64])
    base = prop_def(IntegerAttr[I64], default_value=IntegerAttr(0, i64))
    channel_multiplier = prop_def(IntegerAttr[I64], default_value=IntegerAttr(0, i64))
    engine = prop_def(EngineAttr)

    traits = traits_def(MemoryWriteEffect())

    def __init__(
        self,
        dst: SSAValue | Operation,
        pattern: Sequence[tuple[int, int]],
        base: int = 0,
        channel_multiplier: int = 0,
        engine: Engine | EngineAttr = Engine.GPSIMD,
    ) -> None:
        super().__init__(
            operands=[dst],
            properties={
                "steps": DenseArrayBase.from_list(i64, [s for s, _ in pattern]),
                "counts": DenseArrayBase.from_list(i64, [c for _, c in pattern]),
                "base": IntegerAttr(base, i64),
                "channel_multiplier": IntegerAttr(channel_multiplier, i64),
                "engine": _engine(engine),
            },
        )

    @property
    def pattern(self) -> list[tuple[int, int]]:
        """The (step, count) pairs, outermost free part first."""
        steps = [int(v) for v in self.steps.get_values()]
        counts = [int(v) for v in self.counts.get_values()]
        return list(zip(steps, counts, strict=False))

    @classmethod
    def parse(cls, parser: Parser) -> IotaOp:
        dst = parser.parse_unresolved_operand()
        parser.parse_keyword("base")
        base = parser.parse_integer(allow_boolean=False)
        parser.parse_keyword("channel_multiplier")
        multiplier = parser.parse_integer(allow_boolean=False)
        parser.parse_keyword("pattern")
        pattern = parse_dims(parser)
        parser.parse_keyword("on")
        engine = EngineAttr(EngineAttr.parse_parameter(parser))
        attrs = parser.parse_optional_attr_dict()
        parser.parse_punctuation(":")
        dst_type = parser.parse_type()
        return cls.create(
            operands=[parser.resolve_operand(dst, dst_type)],
            properties={
                "steps": DenseArrayBase.from_list(i64, [s for s, _ in pattern]),
                "counts": DenseArrayBase.from_list(i64, [c for _, c in pattern]),
                "base": IntegerAttr(base, i64),
                "channel_multiplier": IntegerAttr(multiplier, i64),
                "engine": engine,
            },
            attributes=attrs,
        )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.output)
        printer.print_string(
            f" base {self.base.value.data} channel_multiplier "
            f"{self.channel_multiplier.value.data} pattern {format_dims(self.pattern)} "
            f"on {self.engine.data.value}"
        )
        printer.print_op_attributes(self.attributes)
        printer.print_string(" : ")
        printer.print_attribute(self.output.type)

    def verify_(self) -> None:
        dst = buffer(self.output)
        engine = self.engine.data
        check_compute_engine(engine)
        check_engine("iota", engine, IOTA_ENGINES)
        check_writes(engine, "output", dst)
        check_free_size(engine, "output", dst)
        steps, counts = self.steps.get_values(), self.counts.get_values()
        if len(steps) != len(counts):
            raise VerifyException(f"iota pattern rule: {len(steps)} steps but {len(counts)} counts")
        layout = dst.get_layout()
        if layout.axis("unroll"):
            raise VerifyException(
                f"iota layout rule: the output must not be unrolled, got {layout}"
            )
        free = list(layout.axis_sizes(dst.get_shape(), "free"))
        if [int(c) for c in counts] != free:
            raise VerifyException(
                f"iota pattern rule: the counts {[int(c) for c in counts]} must be the "
                f"extents of the output's free parts, {free}"
            )
