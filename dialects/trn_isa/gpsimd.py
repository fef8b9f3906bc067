"""GpSimdE index instructions of the `trn_isa` dialect: `trn_isa.iota`, `trn_isa.affine_select`.

Both evaluate the affine value (trn1.md B.3)::

    v(p, i_1, ..., i_d) = base + p * channel_multiplier + sum_k i_k * step_k

where `p` counts the partitions of `dst` from 0 and `(step_k, count_k)` are the pairs of
`pattern` (outermost first; the product of the counts equals the elements per partition
of `dst`). Syntax::

    trn_isa.iota dst <ap>, base 0, channel_multiplier 1, pattern [[1, 512]] on gpsimd
    trn_isa.affine_select ge dst <ap>, src <ap>, base 0, channel_multiplier 1,
        pattern [[-1, 128]], on_false -inf on gpsimd

`iota` writes `v` (cast to the dtype of `dst`); `affine_select <cmp>` writes `src` where
`v <cmp> 0` holds and `on_false` elsewhere (e.g. a causal mask).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import FloatAttr, IntegerAttr, i64
from xdsl.ir import Attribute
from xdsl.irdl import irdl_op_definition, prop_def, traits_def
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.trn_isa.access_pattern import AccessPatternAttr
from trnc.dialects.trn_isa.attrs import (
    CompareOp,
    CompareOpAttr,
    EngineKind,
    SemaphoreAttr,
    SemWaitAttr,
    ValuePatternAttr,
)
from trnc.dialects.trn_isa.base import (
    ComputeOp,
    InProgram,
    Mnemonic,
    Slot,
    SlotKind,
    f64,
)
from trnc.dialects.trn_isa.rules import check_same_elements
from trnc.machine import MachineModel

AP = SlotKind.AP
G = EngineKind.GPSIMD


class _AffineValueOp(ComputeOp):
    """Shared properties of the instructions computing the affine value `v`."""

    dst = prop_def(AccessPatternAttr)
    base = prop_def(IntegerAttr.constr(type=i64))
    channel_multiplier = prop_def(IntegerAttr.constr(type=i64))
    pattern = prop_def(ValuePatternAttr)

    ENGINES: ClassVar[tuple[EngineKind, ...]] = (G,)
    VALUE_SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("base", SlotKind.INT),
        Slot("channel_multiplier", SlotKind.INT),
        Slot("pattern", SlotKind.PATTERN),
    )
    """The syntax slots of the affine value, shared by the subclasses."""

    @staticmethod
    def value_props(
        pattern: Sequence[tuple[int, int]], base: int, channel_multiplier: int
    ) -> dict[str, Attribute]:
        """The properties of the affine value `base + p * channel_multiplier + pattern`."""
        return {
            "base": IntegerAttr(base, i64),
            "channel_multiplier": IntegerAttr(channel_multiplier, i64),
            "pattern": ValuePatternAttr(pattern),
        }

    def value_at(self, p: int, index: Sequence[int]) -> int:
        """The affine value at partition `p` (from 0) and free index `index`."""
        v = self.base.value.data + p * self.channel_multiplier.value.data
        for i, (step, _) in zip(index, self.pattern.dims, strict=True):
            v += i * step
        return v

    def verify_pattern(self, m: MachineModel) -> None:
        dims = self.pattern.dims
        if len(dims) > m.max_free_dims:
            raise VerifyException(
                f"free-dim rule: pattern has {len(dims)} dims, at most {m.max_free_dims}"
            )
        if any(c < 1 for _, c in dims):
            raise VerifyException(f"count rule: pattern counts must be >= 1, got {dims}")
        n = self.pattern.num_elements
        if n != self.dst.free_elems:
            raise VerifyException(
                f"element count mismatch: pattern has {n} elements per partition but dst "
                f"has {self.dst.free_elems}"
            )


@irdl_op_definition
class IotaOp(_AffineValueOp):
    """Write the affine value `v(p, idx)` to `dst` (GpSimdE, SBUF only)."""

    name = "trn_isa.iota"

    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("dst", AP, write=True),
        *_AffineValueOp.VALUE_SLOTS,
    )
    traits = traits_def(InProgram())

    def __init__(
        self,
        dst: AccessPatternAttr,
        pattern: Sequence[tuple[int, int]],
        base: int = 0,
        channel_multiplier: int = 0,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        self.init_props(
            G,
            waits,
            signals,
            {"dst": dst, **self.value_props(pattern, base, channel_multiplier)},
        )

    def verify_compute(self, m: MachineModel) -> None:
        self.verify_pattern(m)


@irdl_op_definition
class AffineSelectOp(_AffineValueOp):
    """`dst = cmp(v(p, idx), 0) ? src : on_false` (GpSimdE), e.g. causal masks."""

    name = "trn_isa.affine_select"

    cmp = prop_def(CompareOpAttr)
    src = prop_def(AccessPatternAttr)
    on_false = prop_def(FloatAttr)

    MNEMONIC: ClassVar[Mnemonic] = ("cmp", CompareOpAttr)
    SLOTS: ClassVar[tuple[Slot, ...]] = (
        Slot("dst", AP, write=True),
        Slot("src", AP),
        *_AffineValueOp.VALUE_SLOTS,
        Slot("on_false", SlotKind.FLOAT),
    )
    traits = traits_def(InProgram())

    def __init__(
        self,
        cmp: CompareOp | str,
        dst: AccessPatternAttr,
        src: AccessPatternAttr,
        pattern: Sequence[tuple[int, int]],
        on_false: float,
        base: int = 0,
        channel_multiplier: int = 0,
        waits: Sequence[SemWaitAttr] = (),
        signals: Sequence[SemaphoreAttr] = (),
    ) -> None:
        self.init_props(
            G,
            waits,
            signals,
            {
                "cmp": CompareOpAttr(CompareOp(cmp)),
                "dst": dst,
                "src": src,
                **self.value_props(pattern, base, channel_multiplier),
                "on_false": FloatAttr(float(on_false), f64),
            },
        )

    def verify_compute(self, m: MachineModel) -> None:
        check_same_elements("dst", self.dst, "src", self.src)
        self.verify_pattern(m)
