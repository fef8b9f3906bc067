"""TensorE instructions of the `trn_isa` dialect: `trn_isa.matmul` and `trn_isa.transpose`.

Syntax (see `base.py` for the common parts)::

    trn_isa.matmul dst <psum ap>, stationary <sbuf ap>, moving <sbuf ap>
        {accumulate = false} on tensor wait [...] signal [...]
    trn_isa.transpose dst <psum ap>, src <sbuf ap> on tensor

`matmul` computes `dst[M, N] (+)= stationary[K, M]^T @ moving[K, N]` with K on the
partitions of both inputs (trn1.md A.2); `accumulate = true` adds into the PSUM region
in fp32, `false` overwrites it. `transpose` writes `dst[F, P] = src[P, F]` (an identity
matmul).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import BoolAttr, Float32Type, IntegerAttr
from xdsl.irdl import irdl_op_definition, prop_def, traits_def
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.isa_common import check_tensor_output
from trnc.dialects.trn_isa.access_pattern import AccessPatternAttr
from trnc.dialects.trn_isa.attrs import EngineKind, SemaphoreAttr, SemWaitAttr
from trnc.dialects.trn_isa.base import ComputeOp, InProgram, Slot, SlotKind
from trnc.dialects.trn_isa.rules import check_psum_bank
from trnc.machine import MachineModel

AP = SlotKind.AP


@irdl_op_definition
class MatmulOp(ComputeOp):
    """TensorE matmul: `dst[M, N] (+)= stationary[K, M]^T @ moving[K, N]` (trn1.md A.2)."""

    name = "trn_isa.matmul"

    dst = prop_def(AccessPatternAttr)
    stationary = prop_def(AccessPatternAttr)
    moving = prop_def(AccessPatternAttr)
    accumulate = prop_def(BoolAttr, default_value=IntegerAttr.from_bool(False))

    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("dst", AP, write=True),
        Slot("stationary", AP),
        Slot("moving", AP),
    )
    ENGINES: ClassVar[tuple[EngineKind, ...]] = (EngineKind.TENSOR,)
    traits = traits_def(InProgram())

    def __init__(
        self,
        dst: AccessPatternAttr,
        stationary: AccessPatternAttr,
        moving: AccessPatternAttr,
        accumulate: bool = False,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        self.init_props(
            EngineKind.TENSOR,
            waits,
            signals,
            {
                "dst": dst,
                "stationary": stationary,
                "moving": moving,
                "accumulate": IntegerAttr.from_bool(accumulate),
            },
        )

    @property
    def k(self) -> int:
        """Contraction size (partitions of both inputs)."""
        return self.stationary.partitions

    @property
    def m(self) -> int:
        """Stationary free size = output partitions."""
        return self.stationary.free_elems

    @property
    def n(self) -> int:
        """Moving free size = output free size."""
        return self.moving.free_elems

    @property
    def is_accumulate(self) -> bool:
        """Whether the matmul adds into its PSUM output."""
        return bool(self.accumulate.value.data)

    def verify_compute(self, m: MachineModel) -> None:
        st, mv, dst = self.stationary, self.moving, self.dst
        if st.partitions != mv.partitions:
            raise VerifyException(
                f"matmul contraction mismatch: stationary has K={st.partitions} but moving "
                f"has K={mv.partitions}"
            )
        if st.partitions > m.matmul_max_k:
            raise VerifyException(
                f"matmul contraction rule: K={st.partitions}, at most {m.matmul_max_k}"
            )
        if st.free_elems > m.matmul_max_stationary_free:
            raise VerifyException(
                f"matmul stationary rule: stationary free size is {st.free_elems}, at most "
                f"{m.matmul_max_stationary_free}"
            )
        if mv.free_elems > m.matmul_max_moving_free:
            raise VerifyException(
                f"matmul moving rule: moving free size is {mv.free_elems}, at most "
                f"{m.matmul_max_moving_free}"
            )
        if (dst.partitions, dst.free_elems) != (st.free_elems, mv.free_elems):
            raise VerifyException(
                f"matmul output shape mismatch: expected dst [{st.free_elems}, "
                f"{mv.free_elems}] (stationary free x moving free), got "
                f"[{dst.partitions}, {dst.free_elems}]"
            )
        st32, mv32 = isinstance(st.dtype, Float32Type), isinstance(mv.dtype, Float32Type)
        if st32 != mv32:
            raise VerifyException(
                f"matmul fp32 rule: fp32 inputs on both or neither, got stationary "
                f"{st.dtype} and moving {mv.dtype}"
            )
        check_tensor_output(self.name, "dst", dst.dtype, m)
        check_psum_bank("dst", dst, m)


@irdl_op_definition
class TransposeOp(ComputeOp):
    """TensorE transpose `dst[F, P] = src[P, F]`, P, F <= 128 (trn1.md A.2)."""

    name = "trn_isa.transpose"

    dst = prop_def(AccessPatternAttr)
    src = prop_def(AccessPatternAttr)

    SLOTS: ClassVar[tuple[Slot, ...]] = (Slot("dst", AP, write=True), Slot("src", AP))
    ENGINES: ClassVar[tuple[EngineKind, ...]] = (EngineKind.TENSOR,)
    traits = traits_def(InProgram())

    def __init__(
        self,
        dst: AccessPatternAttr,
        src: AccessPatternAttr,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        self.init_props(
            EngineKind.TENSOR,
            waits,
            signals,
            {
                "dst": dst,
                "src": src,
            },
        )

    def verify_compute(self, m: MachineModel) -> None:
        src, dst = self.src, self.dst
        p, f = src.partitions, src.free_elems
        if p > m.transpose_max:
            raise VerifyException(
                f"transpose partition rule: src spans {p} partitions, at most {m.transpose_max}"
            )
        if f > m.transpose_max:
            raise VerifyException(
                f"transpose size rule: src has {f} elements per partition, at most "
                f"{m.transpose_max}"
            )
        if (dst.partitions, dst.free_elems) != (f, p):
            raise VerifyException(
                f"transpose output shape mismatch: expected dst [{f}, {p}], got "
                f"[{dst.partitions}, {dst.free_elems}]"
            )
        check_tensor_output(self.name, "dst", dst.dtype, m)
        check_psum_bank("dst", dst, m)
