"""`graph-to-tile` pattern: softmax over the last axis, fused per row tile.

`graph-decompose` turns softmax into `reduce_max`, `sub`, `exp`, `reduce_sum` and `div`.
Lowered op by op, each of the five is a pass over the whole tensor, and every
intermediate (as big as the input: attention's scores at batch 4 x seq 512 are 50 MB)
goes out of SBUF and back. This pattern takes the chain, when its intermediates have no
other users and the tensor is too big to keep on chip (`FUSE_ABOVE_BYTES`), and lowers
it per tile of 128 rows in one go:

    x = load                       (the rows of this tile, all columns)
    n = -(reduce max x)            (VectorE; the negation is free)
    e = exp(x + n), s = sum(e)     (ScalarE, n as the per-partition bias, the row sums
                                    accumulated as it goes)
    y = e / s                      (VectorE)
    store y

Tiles go in groups of `GROUP`, stage by stage, so ScalarE's exp of one tile overlaps
VectorE's work on another. The same arithmetic as the op-by-op lowering (x + (-m) is
x - m exactly; the sums are fp32 sums of the same values), so the results agree to the
last bit or two (the simulator's exp,
numpy's float32 one, may round differently on differently shaped tiles); nothing but
`y` leaves the group.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from xdsl.dialects.builtin import Float32Type
from xdsl.ir import Operation, SSAValue

from trnc.dialects import graph as g
from trnc.dialects import tile
from trnc.dialects.tile.enums import ActivationFunc, AluOp
from trnc.lowering import graph_chains as ch
from trnc.lowering.tile_builder import TileBuilder, sbuf
from trnc.lowering.tile_plan_memory import DEFAULT_BUDGET
from trnc.machine import TRN1

GROUP = 4
"""Row tiles lowered stage by stage together (see `lower_softmax`)."""

FUSE_ABOVE_BYTES = DEFAULT_BUDGET * TRN1.partitions // 4
"""Softmaxes of tensors up to this size are left to the op-by-op lowering: a quarter of
the SBUF that `tile-plan-memory` keeps tensors in, so their intermediates stay on chip,
and ops like the exp run as one instruction over the whole tensor (BERT-base at seq 128:
1,449 us op by op, 1,484 us fused). Bigger ones would spill every intermediate."""


@dataclass(frozen=True)
class SoftmaxChain:
    """The five ops of a decomposed softmax over the last axis."""

    max: g.ReduceMaxOp
    sub: g.SubOp
    exp: g.ExpOp
    sum: g.ReduceSumOp
    div: g.DivOp

    @property
    def ops(self) -> tuple[Operation, ...]:
        return (self.max, self.sub, self.exp, self.sum, self.div)


def match_softmax(op: Operation, any_size: bool = False) -> SoftmaxChain | None:
    """The softmax chain that starts at `op` (a `reduce_max`), if the pattern applies:
    f32, last axis, at most FREE_ELEMS columns, intermediates used only in the chain, and
    (unless `any_size`, for a pattern that takes the chain as part of a bigger one) too
    big to keep on chip."""
    if not isinstance(op, g.ReduceMaxOp) or not ch.reduces_last_axis(op):
        return None
    x = op.input
    shape = ch.row_input(x)
    if shape is None:
        return None
    if not any_size and prod(shape) * 4 <= FUSE_ABOVE_BYTES:
        return None  # fits on chip: op by op, each op one wide instruction where it can
    users = ch.users(op.result)
    if len(users) != 1 or not isinstance(users[0], g.SubOp):
        return None
    sub = users[0]
    if sub.operands[0] is not x or sub.operands[1] is not op.result:
        return None
    if ch.shape(sub.result) != shape:
        return None
    users = ch.users(sub.result)
    if len(users) != 1 or not isinstance(users[0], g.ExpOp):
        return None
    exp = users[0]
    e_users = ch.users(exp.result)
    if len(e_users) != 2:
        return None
    total = next((u for u in e_users if isinstance(u, g.ReduceSumOp)), None)
    div = next((u for u in e_users if isinstance(u, g.DivOp)), None)
    if total is None or div is None or not ch.reduces_last_axis(total):
        return None
    if div.operands[0] is not exp.result or div.operands[1] is not total.result:
        return None
    if ch.users(total.result) != [div] or ch.shape(div.result) != shape:
        return None
    return SoftmaxChain(op, sub, exp, total, div)


def lower_softmax(chain: SoftmaxChain, source: SSAValue, result: SSAValue, b: TileBuilder) -> None:
    """Emit the fused loop (see the module docstring): `source` and `result` are the HBM
    buffers of the chain's input and output."""
    shape = ch.shape(chain.max.input)
    n = shape[-1]
    rows = prod(shape[:-1])
    src = b.reinterpret(source, (rows, n))
    dst = b.reinterpret(result, (rows, n))
    f32 = Float32Type()
    starts = list(range(0, rows, TRN1.partitions))
    for g0 in range(0, len(starts), GROUP):
        group = starts[g0 : g0 + GROUP]
        # stage by stage over the group, so VectorE works on one tile while ScalarE
        # takes the exp of another (each engine runs its queue in order)
        tiles: list[tuple[int, int, SSAValue, SSAValue]] = []
        for r0 in group:
            p = min(TRN1.partitions, rows - r0)
            x = b.load(src, r0, 0, (p, n))
            neg = b.alloc(sbuf((p, 1), f32))
            b.add(tile.ReduceOp(AluOp.MAX, x, [1], neg, negate=True))
            tiles.append((r0, p, x, neg))
        exps: list[tuple[int, int, SSAValue, SSAValue]] = []
        for r0, p, x, neg in tiles:
            e = b.alloc(sbuf((p, n), f32))
            s = b.alloc(sbuf((p, 1), f32))
            b.add(tile.ActivationOp(ActivationFunc.EXP, x, e, bias=neg, accum=s))
            b.free(x, neg)
            exps.append((r0, p, e, s))
        for r0, p, e, s in exps:
            y = b.alloc(sbuf((p, n), f32))
            b.add(tile.TensorScalarOp(AluOp.DIV, e, s, y))
            b.store(y, dst, r0, 0)
            b.free(e, s, y)
