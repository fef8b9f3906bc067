"""Vector/Scalar/GpSimd data instructions of the `trn_isa` dialect.

Defines `activation`, `tensor_tensor`, `tensor_scalar`, `tensor_reduce`, `tensor_copy`,
`tensor_copy_predicated`, `reciprocal` and `memset` (trn1.md A.2, B.3). Syntax (see
`base.py` for the common parts)::

    trn_isa.activation gelu dst <ap>, src <ap>[, scale <imm|ap>][, bias <ap>][, accum <ap>]
        on scalar
    trn_isa.tensor_tensor add dst <ap>, lhs <ap>, rhs <ap> on vector
    trn_isa.tensor_scalar dst <ap>, src <ap>, op0 mul 2.0[, op1 add <ap>] on vector
    trn_isa.tensor_reduce max dst <ap>, src <ap> {axes = 1 : i64, negate = false} on vector
    trn_isa.tensor_copy dst <ap>, src <ap> on gpsimd
    trn_isa.tensor_copy_predicated dst <ap>, src <ap>, predicate <ap> on vector
    trn_isa.reciprocal dst <ap>, src <ap> on vector
    trn_isa.memset dst <ap>, value 0.0 on vector

`activation` computes `dst = func(src * scale + bias)` (scale defaults to 1.0, bias to 0),
and with `accum` also writes the sum of each partition's results to `accum` ([P, 1]).
`tensor_scalar` computes `dst = (src op0 operand0) op1 operand1`, each operand an
immediate or a [P, 1] access pattern. `tensor_reduce` reduces the last `axes` free dims
of `src` with `op` (negating the result when `negate`). Element types may differ between
operands: the engines compute in fp32 and cast on write. `tensor_copy_predicated` is the
exception: it copies `src` to `dst` bit-exactly (same element type) where the predicate
(ui8, ui16 or ui32, B.3) is nonzero and leaves the other elements of `dst` as they were,
so `dst` is read as well as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import BoolAttr, FloatAttr, IntegerAttr, i64
from xdsl.ir import Attribute
from xdsl.irdl import irdl_op_definition, opt_prop_def, prop_def, traits_def
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.isa_common import (
    check_bitvec,
    check_predicated_copy_dtypes,
    check_reduce_op,
    is_integer,
)
from trnc.dialects.trn_isa.access_pattern import AccessPatternAttr
from trnc.dialects.trn_isa.attrs import (
    ActivationFunc,
    ActivationFuncAttr,
    AluOp,
    AluOpAttr,
    EngineKind,
    MemoryKind,
    SemaphoreAttr,
    SemWaitAttr,
)
from trnc.dialects.trn_isa.base import (
    ComputeOp,
    InProgram,
    Mnemonic,
    Slot,
    SlotKind,
    ap_prop,
    f64,
)
from trnc.dialects.trn_isa.rules import check_per_partition_scalar, check_same_elements
from trnc.machine import MachineModel

AP = SlotKind.AP
ScalarOperand = AccessPatternAttr | FloatAttr
"""An immediate (f64) or a [P, 1] access pattern."""

V, S, G = EngineKind.VECTOR, EngineKind.SCALAR, EngineKind.GPSIMD


def scalar_operand(value: float | AccessPatternAttr) -> Attribute:
    """An immediate or [P, 1] operand property from a python float or a pattern."""
    if isinstance(value, AccessPatternAttr):
        return value
    return FloatAttr(float(value), f64)


def _check_bitvec(op: AluOp, aps: Sequence[tuple[str, AccessPatternAttr]]) -> None:
    check_bitvec(op, [(name, ap.dtype) for name, ap in aps])


@irdl_op_definition
class ActivationOp(ComputeOp):
    """ScalarE `dst = func(src * scale + bias)`, optionally add-reducing into `accum`."""

    name = "trn_isa.activation"

    func = prop_def(ActivationFuncAttr)
    dst = prop_def(AccessPatternAttr)
    src = prop_def(AccessPatternAttr)
    scale = opt_prop_def(ScalarOperand)
    bias = opt_prop_def(AccessPatternAttr)
    accum = opt_prop_def(AccessPatternAttr)

    MNEMONIC: ClassVar[Mnemonic] = ("func", ActivationFuncAttr)
    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("dst", AP, write=True),
        Slot("src", AP),
        Slot("scale", SlotKind.SCALAR, optional=True),
        Slot("bias", AP, optional=True),
        Slot("accum", AP, optional=True, write=True),
    )
    ENGINES: ClassVar[tuple[EngineKind, ...]] = (S,)
    traits = traits_def(InProgram())

    def __init__(
        self,
        func: ActivationFunc | str,
        dst: AccessPatternAttr,
        src: AccessPatternAttr,
        scale: float | AccessPatternAttr = 1.0,
        bias: AccessPatternAttr | None = None,
        accum: AccessPatternAttr | None = None,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        props: dict[str, Attribute | None] = {
            "func": ActivationFuncAttr(ActivationFunc(func)),
            "dst": dst,
            "src": src,
            "scale": scalar_operand(scale),
            "bias": bias,
            "accum": accum,
        }
        self.init_props(S, waits, signals, props)

    def verify_compute(self, m: MachineModel) -> None:
        check_same_elements("dst", self.dst, "src", self.src)
        p = self.src.partitions
        for name in ("scale", "bias", "accum"):
            ap = ap_prop(self.properties.get(name))
            if ap is not None:
                check_per_partition_scalar(name, ap, p)


@irdl_op_definition
class TensorTensorOp(ComputeOp):
    """Elementwise `dst = lhs op rhs` (VectorE, or GpSimdE)."""

    name = "trn_isa.tensor_tensor"

    op = prop_def(AluOpAttr)
    dst = prop_def(AccessPatternAttr)
    lhs = prop_def(AccessPatternAttr)
    rhs = prop_def(AccessPatternAttr)

    MNEMONIC: ClassVar[Mnemonic] = ("op", AluOpAttr)
    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("dst", AP, write=True),
        Slot("lhs", AP),
        Slot("rhs", AP),
    )
    ENGINES: ClassVar[tuple[EngineKind, ...]] = (V, G)
    traits = traits_def(InProgram())

    def __init__(
        self,
        op: AluOp | str,
        dst: AccessPatternAttr,
        lhs: AccessPatternAttr,
        rhs: AccessPatternAttr,
        engine: EngineKind = V,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        self.init_props(
            engine,
            waits,
            signals,
            {
                "op": AluOpAttr(AluOp(op)),
                "dst": dst,
                "lhs": lhs,
                "rhs": rhs,
            },
        )

    def verify_compute(self, m: MachineModel) -> None:
        check_same_elements("dst", self.dst, "lhs", self.lhs)
        check_same_elements("dst", self.dst, "rhs", self.rhs)
        if self.lhs.mem is MemoryKind.PSUM and self.rhs.mem is MemoryKind.PSUM:
            raise VerifyException(
                "psum input rule: at most one input of tensor_tensor may be in psum, "
                "lhs and rhs both are"
            )
        _check_bitvec(self.op.data, self.access_patterns())


@irdl_op_definition
class TensorScalarOp(ComputeOp):
    """`dst = (src op0 operand0) op1 operand1`; operands immediate or [P, 1]."""

    name = "trn_isa.tensor_scalar"

    dst = prop_def(AccessPatternAttr)
    src = prop_def(AccessPatternAttr)
    op0 = prop_def(AluOpAttr)
    operand0 = prop_def(ScalarOperand)
    op1 = opt_prop_def(AluOpAttr)
    operand1 = opt_prop_def(ScalarOperand)

    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("dst", AP, write=True),
        Slot("src", AP),
        Slot("op0", SlotKind.ALU_SCALAR, operand_prop="operand0"),
        Slot("op1", SlotKind.ALU_SCALAR, optional=True, operand_prop="operand1"),
    )
    ENGINES: ClassVar[tuple[EngineKind, ...]] = (V, S, G)
    traits = traits_def(InProgram())

    def __init__(
        self,
        dst: AccessPatternAttr,
        src: AccessPatternAttr,
        op0: AluOp | str,
        operand0: float | AccessPatternAttr,
        op1: AluOp | str | None = None,
        operand1: float | AccessPatternAttr | None = None,
        engine: EngineKind = V,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        props: dict[str, Attribute] = {
            "dst": dst,
            "src": src,
            "op0": AluOpAttr(AluOp(op0)),
            "operand0": scalar_operand(operand0),
        }
        if op1 is not None and operand1 is not None:
            props["op1"] = AluOpAttr(AluOp(op1))
            props["operand1"] = scalar_operand(operand1)
        self.init_props(engine, waits, signals, props)

    def verify_compute(self, m: MachineModel) -> None:
        if (self.op1 is None) != (self.operand1 is None):
            raise VerifyException("tensor_scalar op1 rule: op1 and operand1 go together")
        check_same_elements("dst", self.dst, "src", self.src)
        for name in ("operand0", "operand1"):
            ap = ap_prop(self.properties.get(name))
            if ap is not None:
                check_per_partition_scalar(name, ap, self.src.partitions)
        aps = [("dst", self.dst), ("src", self.src)]
        _check_bitvec(self.op0.data, aps)
        if self.op1 is not None:
            _check_bitvec(self.op1.data, aps)


@irdl_op_definition
class TensorReduceOp(ComputeOp):
    """Reduce the last `axes` free dims of `src` with `op` (VectorE), optionally negated."""

    name = "trn_isa.tensor_reduce"

    op = prop_def(AluOpAttr)
    dst = prop_def(AccessPatternAttr)
    src = prop_def(AccessPatternAttr)
    axes = prop_def(IntegerAttr.constr(type=i64), default_value=IntegerAttr(1, i64))
    negate = prop_def(BoolAttr, default_value=IntegerAttr.from_bool(False))

    MNEMONIC: ClassVar[Mnemonic] = ("op", AluOpAttr)
    SLOTS: ClassVar[tuple[Slot, ...]] = (Slot("dst", AP, write=True), Slot("src", AP))
    ENGINES: ClassVar[tuple[EngineKind, ...]] = (V,)
    traits = traits_def(InProgram())

    def __init__(
        self,
        op: AluOp | str,
        dst: AccessPatternAttr,
        src: AccessPatternAttr,
        axes: int = 1,
        negate: bool = False,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        self.init_props(
            V,
            waits,
            signals,
            {
                "op": AluOpAttr(AluOp(op)),
                "dst": dst,
                "src": src,
                "axes": IntegerAttr(axes, i64),
                "negate": IntegerAttr.from_bool(negate),
            },
        )

    @property
    def reduced_elems(self) -> int:
        """Elements of `src` folded into each element of `dst`."""
        n = 1
        for _, c in self.src.free_dims[len(self.src.free_dims) - self.axes.value.data :]:
            n *= c
        return n

    def verify_compute(self, m: MachineModel) -> None:
        op = self.op.data
        check_reduce_op(op)
        axes, ndims = self.axes.value.data, len(self.src.free_dims)
        if not 1 <= axes <= ndims:
            raise VerifyException(f"reduce axes rule: axes = {axes}, src has {ndims} free dims")
        if self.dst.partitions != self.src.partitions:
            raise VerifyException(
                f"partition count mismatch: dst spans {self.dst.partitions} partitions but "
                f"src spans {self.src.partitions}"
            )
        kept = self.src.free_elems // self.reduced_elems
        if self.dst.free_elems != kept:
            raise VerifyException(
                f"element count mismatch: reducing the last {axes} free dims of src leaves "
                f"{kept} elements per partition, dst has {self.dst.free_elems}"
            )
        _check_bitvec(op, self.access_patterns())


@irdl_op_definition
class TensorCopyOp(ComputeOp):
    """`dst = src`, casting when the dtypes differ (VectorE, ScalarE or GpSimdE)."""

    name = "trn_isa.tensor_copy"

    dst = prop_def(AccessPatternAttr)
    src = prop_def(AccessPatternAttr)

    SLOTS: ClassVar[tuple[Slot, ...]] = (Slot("dst", AP, write=True), Slot("src", AP))
    ENGINES: ClassVar[tuple[EngineKind, ...]] = (V, S, G)
    traits = traits_def(InProgram())

    def __init__(
        self,
        dst: AccessPatternAttr,
        src: AccessPatternAttr,
        engine: EngineKind = V,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        self.init_props(
            engine,
            waits,
            signals,
            {
                "dst": dst,
                "src": src,
            },
        )

    def verify_compute(self, m: MachineModel) -> None:
        check_same_elements("dst", self.dst, "src", self.src)


@irdl_op_definition
class TensorCopyPredicatedOp(ComputeOp):
    """`dst = src` where `predicate` is nonzero, else `dst` unchanged (VectorE, trn1.md B.3
    `tensor_copy_predicated`).

    A bit-exact copy (`src` and `dst` have the same element type; NaN payloads, -0.0 and
    infinities are kept); the predicate is ui8, ui16 or ui32 with the same partitions and
    elements per partition. `dst` is both read and written (its `Slot` says so), because
    the elements the predicate skips keep their old values. The predicate cannot be in
    PSUM (which holds only f32 or i32, A.1), so at most one input is, as B.3 requires.
    """

    name = "trn_isa.tensor_copy_predicated"

    dst = prop_def(AccessPatternAttr)
    src = prop_def(AccessPatternAttr)
    predicate = prop_def(AccessPatternAttr)

    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("dst", AP, write=True, read=True),
        Slot("src", AP),
        Slot("predicate", AP),
    )
    ENGINES: ClassVar[tuple[EngineKind, ...]] = (V,)
    traits = traits_def(InProgram())

    def __init__(
        self,
        dst: AccessPatternAttr,
        src: AccessPatternAttr,
        predicate: AccessPatternAttr,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        self.init_props(V, waits, signals, {"dst": dst, "src": src, "predicate": predicate})

    def verify_compute(self, m: MachineModel) -> None:
        check_same_elements("dst", self.dst, "src", self.src)
        check_same_elements("dst", self.dst, "predicate", self.predicate)
        check_predicated_copy_dtypes(
            ("src", self.src.dtype), ("dst", self.dst.dtype), ("predicate", self.predicate.dtype)
        )


@irdl_op_definition
class ReciprocalOp(ComputeOp):
    """`dst = 1 / src` on VectorE, more precise than ScalarE's `reciprocal` activation
    (trn1.md A.2 "reciprocal", B.3 `reciprocal`)."""

    name = "trn_isa.reciprocal"

    dst = prop_def(AccessPatternAttr)
    src = prop_def(AccessPatternAttr)

    SLOTS: ClassVar[tuple[Slot, ...]] = (Slot("dst", AP, write=True), Slot("src", AP))
    ENGINES: ClassVar[tuple[EngineKind, ...]] = (V,)
    traits = traits_def(InProgram())

    def __init__(
        self,
        dst: AccessPatternAttr,
        src: AccessPatternAttr,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        self.init_props(V, waits, signals, {"dst": dst, "src": src})

    def verify_compute(self, m: MachineModel) -> None:
        check_same_elements("dst", self.dst, "src", self.src)


@irdl_op_definition
class MemsetOp(ComputeOp):
    """Fill `dst` with a constant (VectorE or GpSimdE)."""

    name = "trn_isa.memset"

    dst = prop_def(AccessPatternAttr)
    value = prop_def(FloatAttr)

    SLOTS: ClassVar[tuple[Slot, ...]] = (Slot("dst", AP, write=True), Slot("value", SlotKind.FLOAT))
    ENGINES: ClassVar[tuple[EngineKind, ...]] = (V, G)
    traits = traits_def(InProgram())

    def __init__(
        self,
        dst: AccessPatternAttr,
        value: float,
        engine: EngineKind = V,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        self.init_props(
            engine,
            waits,
            signals,
            {
                "dst": dst,
                "value": FloatAttr(float(value), f64),
            },
        )

    def verify_compute(self, m: MachineModel) -> None:
        value = self.value.value.data
        if is_integer(self.dst.dtype) and not float(value).is_integer():
            raise VerifyException(
                f"memset value rule: {value} is not an integer, dst is {self.dst.dtype}"
            )
