"""`graph-to-tile` pattern: multi-head attention, fused per head in one `scf.for` loop.

The chain, as exporters write it and `graph-decompose` leaves it (HuggingFace BERT,
torch's `scaled_dot_product_attention` decomposed, ...):

    q = transpose(q4, [0, 2, 1, 3])       q4, k4, v4: [B, S, H, D] (a reshape of [B, S, H*D])
    kt = transpose(k4, [0, 2, 3, 1])
    v = transpose(v4, [0, 2, 1, 3])
    s = matmul(q, kt)                     [B, H, Sq, Sk]
    s = s / c   (or s * c)                optional, c a compile-time scalar
    s = s + mask                          optional, mask [B or 1, 1, Sq or 1, Sk]
    p = softmax(s) over the last axis     (reduce_max, sub, exp, reduce_sum, div)
    o = matmul(p, v)                      [B, H, Sq, D]
    out = transpose(o, [0, 2, 1, 3])      [B, Sq, H, D]

Lowered op by op, every head of every op is its own set of tiles (and BERT-base's tile IR
had ~2,600 ops per layer for it), and the scores and probabilities go through SBUF whole.
This pattern keeps them in PSUM and small per-head tiles instead. Per batch index:

    Q, K, V rows: loaded whole ([<=128 tokens, H*D] per row block, the bytes the
      projections stored, so `tile-plan-memory` serves them from SBUF); the mask's rows
    scf.for over groups of heads:         (tile-to-isa unrolls it; tile-allocate gives
                                           the loop body's tiles rotating slots)
      per head h of the group, stage by stage over the group's heads and query blocks:
      K_h^T, Q_h^T: TensorE transposes of the columns [h*D, h*D + D) of the rows
        (a scaling of q or k, or a power-of-two one of the scores, applied on the way
        out of PSUM)
      s = Q_h^T . K_h^T (PSUM) ; s = s op c ; s = s + mask (VectorE; one pass when the
        scaling went to Q^T)
      -m = -max(s) (the reduction's free negation) ; e = exp(s - m), l = sum(e) (one
        ScalarE instruction: -m as its bias, l accumulated as it writes e)
      e^T per key block (TensorE) ; o = e^T . V_h (PSUM, accumulated over key blocks)
      out[:, h*D : h*D + D] = o / l     (the softmax's division, applied to D columns
                                         instead of Sk)
    out rows: stored whole (the bytes the next matmul loads)

The division by the row sums moves after the second matmul ((e / l) . v = (e . v) / l
up to rounding); with torch's NaN guard, p = e / l is formed, its NaNs replaced by 0,
and transposed instead. Claimed only when every intermediate has no other user, the
element type is f32, D <= 128, H*D <= FREE_ELEMS, Sk fits the PSUM tiles (`MAX_KEYS`)
and one head's tiles fit a loop body (`head_group`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import ceil

from xdsl.dialects.builtin import BFloat16Type, Float32Type, IntegerAttr
from xdsl.ir import Attribute, Block, Operation, SSAValue

from trnc.dialects import graph as g
from trnc.dialects import tile
from trnc.dialects.graph.base import get_ints
from trnc.dialects.tile.enums import ActivationFunc, AluOp, Engine
from trnc.lowering import graph_chains as ch
from trnc.lowering.graph_to_tile_attention_proj import (
    ProjectedInputs,
    ProjectionBuffers,
    Projections,
    match_projections,
    power_of_two,
)
from trnc.lowering.graph_to_tile_compute import scalar_constant
from trnc.lowering.graph_to_tile_select import PREDICATE
from trnc.lowering.graph_to_tile_softmax import SoftmaxChain, match_softmax
from trnc.lowering.tile_builder import FREE_ELEMS, TileBuilder, psum, sbuf
from trnc.machine import TRN1

MAX_KEYS = 2048
"""The most keys a query block's scores may have: its [128, Sk] f32 scores take Sk / 512
PSUM banks (of the 8), in chunks of what one matmul moves."""


HEAD_GROUP = 4
"""The most heads per loop iteration, lowered stage by stage (see `lower_attention`)."""

HEAD_GROUP_ATTR = "tile.head_group"
"""The attribute on an attention's first matmul that overrides the heads per iteration."""

BODY_BYTES = 32 * 1024
"""SBUF bytes per partition that one iteration's tiles may take (tile-allocate gives
them rotating slots on top)."""


def head_group(chain: AttentionChain, dtype: str, aligned: bool = False) -> int | None:
    """The heads per loop iteration: the largest divisor of H up to `HEAD_GROUP` whose
    per-iteration SBUF tiles (all live during the loop, see `lower_attention`) fit
    `BODY_BYTES` per partition (with `aligned`, a multiple of the heads in 128
    features, so an iteration's heads fill whole feature blocks); None if none does."""
    _, sq, heads, _ = ch.shape(chain.q.input)
    sk = ch.shape(chain.k.input)[1]
    size = 2 if dtype == "bf16" else 4
    part = TRN1.partitions
    per_block = part * size + 2 * sk * 4 + ceil(sk / part) * part * size + 8
    if chain.guard is not None:
        per_block += 2 * sk * 4 + sk
    per_head = sk * size + ceil(sq / part) * per_block
    fits = [g for g in range(1, min(heads, HEAD_GROUP) + 1) if heads % g == 0]
    fits = [g for g in fits if g * per_head <= BODY_BYTES]
    if aligned:
        fits = [g for g in fits if (g * ch.shape(chain.q.input)[3]) % part == 0]
    return max(fits) if fits else None


def chosen_group(chain: AttentionChain, dtype: str) -> int:
    """The heads per iteration: `tile.head_group` on the first matmul (an override,
    checked: a divisor of H), else `head_group`'s."""
    heads = ch.shape(chain.q.input)[2]
    given = chain.scores.attributes.get(HEAD_GROUP_ATTR)
    if given is None:
        group = head_group(chain, dtype, aligned=chain.proj is not None)
        assert group is not None  # match_attention (find_attention) checked that it fits
        return group
    if not isinstance(given, IntegerAttr) or not 1 <= given.value.data <= heads:
        raise ValueError(f"{HEAD_GROUP_ATTR} must be an integer in [1, {heads}], got {given}")
    if heads % given.value.data:
        raise ValueError(
            f"{HEAD_GROUP_ATTR} = {given.value.data} does not divide the {heads} heads"
        )
    return given.value.data


@dataclass(frozen=True)
class AttentionChain:
    """The ops of one attention block (see the module docstring)."""

    q: g.TransposeOp
    k: g.TransposeOp
    v: g.TransposeOp
    q_scale: g.MulOp | g.DivOp | None
    k_scale: g.MulOp | g.DivOp | None
    scores: g.MatmulOp
    scale: g.DivOp | g.MulOp | None
    mask: g.AddOp | None
    softmax: SoftmaxChain
    guard: tuple[g.EqualOp, g.EqualOp, g.WhereOp] | None
    context: g.MatmulOp
    out: g.TransposeOp
    proj: Projections | None = None
    """The q, k, v projections, when the attention takes them too
    (`graph_to_tile_attention_proj.py`)."""

    @property
    def ops(self) -> tuple[Operation, ...]:
        """Every op of the chain, in block order (the last is where it is lowered)."""
        ops: list[Operation] = [self.q, self.k, self.v, self.scores]
        ops += list(self.proj.ops) if self.proj is not None else []
        ops += [op for op in (self.q_scale, self.k_scale, self.scale, self.mask) if op]
        ops += [*self.softmax.ops, *(self.guard or ()), self.context, self.out]
        block = self.out.parent_block()
        assert block is not None
        return tuple(sorted(ops, key=block.get_operation_index))

    @property
    def mask_value(self) -> SSAValue | None:
        if self.mask is None:
            return None
        return (
            self.mask.operands[1]
            if self.mask.operands[0] is self.scores_value
            else (self.mask.operands[0])
        )

    @property
    def scores_value(self) -> SSAValue:
        """The scores as the mask add reads them (after the scaling, if any)."""
        return self.scores.result if self.scale is None else self.scale.results[0]


def scale_of(op: g.MulOp | g.DivOp | None) -> tuple[AluOp, float] | None:
    """The ALU op and immediate of a scaling by a compile-time scalar."""
    if op is None:
        return None
    value = scalar_constant(op.operands[1])
    assert value is not None
    return (AluOp.DIV if isinstance(op, g.DivOp) else AluOp.MUL), value


def _scaled(value: SSAValue) -> tuple[SSAValue, g.MulOp | g.DivOp | None]:
    """`value` as `x * c` or `x / c` with a compile-time scalar `c` (and x used only
    there): (x, the op); else (value, None)."""
    op = value.owner
    if (
        isinstance(op, g.MulOp | g.DivOp)
        and scalar_constant(op.operands[1]) is not None
        and ch.shape(op.operands[0]) == ch.shape(value)
        and ch.only_user(op.operands[0]) is op
    ):
        return op.operands[0], op
    return value, None


def _transpose_of(value: SSAValue, perm: list[int]) -> g.TransposeOp | None:
    """The transpose with `perm` of a 4-D tensor that defines `value`, used only there."""
    op = value.owner
    if not isinstance(op, g.TransposeOp) or tuple(get_ints(op.perm)) != tuple(perm):
        return None
    if ch.only_user(op.result) is None or len(ch.shape(op.input)) != 4:
        return None
    return op


def _mask_fits(mask: SSAValue, b: int, sq: int, sk: int) -> bool:
    """Whether an added mask broadcasts as [B or 1, 1, Sq or 1, Sk] (any rank up to 4)."""
    shape = ch.shape(mask)
    if len(shape) > 4 or not ch.is_f32(mask):
        return False
    mb, mh, mq, mk = (1,) * (4 - len(shape)) + shape
    return mb in (1, b) and mh == 1 and mq in (1, sq) and mk == sk


def _nan_guard(p: SSAValue) -> tuple[g.EqualOp, g.EqualOp, g.WhereOp] | None:
    """`where(equal(equal(p, p), false), 0, p)`: NaN probabilities (of a row masked
    everywhere) replaced by 0, as torch's exporter writes `scaled_dot_product_attention`."""
    users = {use.operation for use in p.uses}
    same = next((u for u in users if isinstance(u, g.EqualOp)), None)
    where = next((u for u in users if isinstance(u, g.WhereOp)), None)
    if len(users) != 2 or not isinstance(same, g.EqualOp) or not isinstance(where, g.WhereOp):
        return None
    if same.operands[0] is not p or same.operands[1] is not p:
        return None
    test = ch.only_user(same.result)
    if not isinstance(test, g.EqualOp) or test.operands[0] is not same.result:
        return None
    select: g.WhereOp = where
    if scalar_constant(test.operands[1]) != 0.0 or ch.only_user(test.result) is not select:
        return None
    cond, then, other = where.operands
    if cond is not test.result or other is not p or scalar_constant(then) != 0.0:
        return None
    if ch.shape(where.result) != ch.shape(p) or not ch.is_f32(where.result):
        return None
    return same, test, where


def match_attention(scores: Operation) -> AttentionChain | None:
    """The attention chain whose first matmul is `scores`, if the pattern applies."""
    if not isinstance(scores, g.MatmulOp) or not all(
        ch.is_f32(v) for v in (scores.lhs, scores.rhs, scores.result)
    ):
        return None
    q_value, q_scale = _scaled(scores.lhs)
    k_value, k_scale = _scaled(scores.rhs)
    q = _transpose_of(q_value, [0, 2, 1, 3])
    k = _transpose_of(k_value, [0, 2, 3, 1])
    if q is None or k is None:
        return None
    bsz, sq, heads, d = ch.shape(q.input)
    kb, sk, kh, kd = ch.shape(k.input)
    if (kb, kh, kd) != (bsz, heads, d) or d > TRN1.partitions or heads * d > FREE_ELEMS:
        return None
    if sk > MAX_KEYS or ch.shape(scores.result) != (bsz, heads, sq, sk):
        return None
    x = scores.result
    user = ch.only_user(x)
    scale: g.DivOp | g.MulOp | None = None
    if isinstance(user, g.DivOp | g.MulOp) and user.operands[0] is x:
        if scalar_constant(user.operands[1]) is None or ch.shape(user.results[0]) != ch.shape(x):
            return None
        scale, x = user, user.results[0]
        user = ch.only_user(x)
    mask: g.AddOp | None = None
    if isinstance(user, g.AddOp) and x in user.operands:
        other = user.operands[1] if user.operands[0] is x else user.operands[0]
        if other is x or not _mask_fits(other, bsz, sq, sk):
            return None
        if ch.shape(user.result) != ch.shape(x):
            return None
        mask, x = user, user.result
        user = ch.only_user(x)
    uses = [use.operation for use in x.uses]
    top = next((u for u in uses if isinstance(u, g.ReduceMaxOp)), None)
    if top is None or len(uses) != 2:  # the max and the sub
        return None
    softmax = match_softmax(top, any_size=True)
    if softmax is None or softmax.sub.operands[0] is not x:
        return None
    p = softmax.div.result
    guard = _nan_guard(p)
    if guard is not None:
        p = guard[2].result
    context = ch.only_user(p)
    if not isinstance(context, g.MatmulOp) or context.lhs is not p:
        return None
    v = _transpose_of(context.rhs, [0, 2, 1, 3])
    if v is None or ch.shape(v.input) != (bsz, sk, heads, d) or not ch.is_f32(context.rhs):
        return None
    out = ch.only_user(context.result)
    if not isinstance(out, g.TransposeOp) or tuple(get_ints(out.perm)) != (0, 2, 1, 3):
        return None
    if ch.shape(out.result) != (bsz, sq, heads, d) or not ch.is_f32(out.result):
        return None
    chain = AttentionChain(
        q, k, v, q_scale, k_scale, scores, scale, mask, softmax, guard, context, out
    )
    if head_group(chain, "fp32") is None:
        return None  # too long a sequence for one head's tiles: op by op
    return chain


def find_attention(block: Block) -> dict[Operation, AttentionChain]:
    """Every attention chain of `block`, by its first op in block order."""
    chains: dict[Operation, AttentionChain] = {}
    for op in block.ops:
        chain = match_attention(op)
        if chain is None:
            continue
        proj = match_projections(
            chain.q.input, chain.k.input, chain.v.input, chain.q_scale, chain.k_scale
        )
        if proj is not None and HEAD_GROUP_ATTR not in chain.scores.attributes:
            with_proj = replace(chain, proj=proj)
            if head_group(with_proj, "fp32", aligned=True) is not None:
                chain = with_proj
        chains[chain.ops[0]] = chain
    return chains


@dataclass(frozen=True)
class AttentionBuffers:
    """The HBM buffers of the chain's inputs and output."""

    q: SSAValue | None
    k: SSAValue | None
    v: SSAValue | None
    mask: SSAValue | None
    out: SSAValue
    proj: ProjectionBuffers | None = None
    """What the projections read, when the attention takes them (then q, k, v are
    None)."""


def lower_attention(
    chain: AttentionChain, bufs: AttentionBuffers, dtype: str, b: TileBuilder
) -> None:
    """Emit the fused attention (see the module docstring)."""
    bsz, sq, heads, d = ch.shape(chain.q.input)
    sk = ch.shape(chain.k.input)[1]
    group = chosen_group(chain, dtype)
    width = heads * d
    part, moving = TRN1.partitions, TRN1.matmul_max_moving_free
    f32 = Float32Type()
    element: Attribute = BFloat16Type() if dtype == "bf16" else f32
    projected: ProjectedInputs | None = None
    if bufs.proj is None:
        assert bufs.q is not None and bufs.k is not None and bufs.v is not None
        q2 = b.reinterpret(bufs.q, (bsz * sq, width))
        k2 = b.reinterpret(bufs.k, (bsz * sk, width))
        v2 = b.reinterpret(bufs.v, (bsz * sk, width))
    out2 = b.reinterpret(bufs.out, (bsz * sq, width))
    q_blocks = [(m0, min(part, sq - m0)) for m0 in range(0, sq, part)]
    k_blocks = [(k0, min(part, sk - k0)) for k0 in range(0, sk, part)]
    chunks = [(n0, min(moving, sk - n0)) for n0 in range(0, sk, moving)]
    mask2: SSAValue | None = None
    mb = mq = 1
    if bufs.mask is not None and chain.mask_value is not None:
        mshape = (1,) * (4 - len(ch.shape(chain.mask_value))) + ch.shape(chain.mask_value)
        mb, mq = mshape[0], mshape[2]
        mask2 = b.reinterpret(bufs.mask, (mb * mq, sk))
    scale = scale_of(chain.scale)
    q_scale, k_scale = scale_of(chain.q_scale), scale_of(chain.k_scale)
    if scale is not None and q_scale is None and power_of_two(scale[1]):
        # (q / 2^k) . k^T is (q . k^T) / 2^k to the last bit: scaled on the way into Q^T,
        # the scores leave PSUM with one pass (the mask added) instead of two
        q_scale, scale = scale, None
    if bufs.proj is not None:  # the scalings go into Q^T's and K^T's activations
        factors = (_factor(q_scale), _factor(k_scale))
        e = ch.shape(chain.proj.x)[-1] if chain.proj is not None else width
        projected = ProjectedInputs(bufs.proj, (bsz, sq, e), element, factors, b, chain.proj)
        q_scale = k_scale = None
    ones = b.ones_row() if mask2 is not None and mq == 1 else None
    owned: list[SSAValue] = []  # the mask tiles of this batch index
    masks: list[SSAValue] = []  # per query block: the mask rows of this batch index
    home = b.where
    for bi in range(bsz):
        b.where = home
        if mask2 is not None and (bi == 0 or mb > 1):
            b.free(*owned)
            owned, masks = _mask_rows(mask2, bi if mb > 1 else 0, mq, sq, sk, q_blocks, ones, b)
        qs: list[SSAValue] = []
        ks: list[SSAValue] = []
        if projected is not None:  # Q^T, K^T feature-major, V token-major, from x
            q_t, k_t, vs = projected.batch(bi, b)
        else:
            qs = [b.load(q2, bi * sq + m0, 0, (mt, width)) for m0, mt in q_blocks]
            ks = [b.load(k2, bi * sk + k0, 0, (kt, width)) for k0, kt in k_blocks]
            vs = [b.load(v2, bi * sk + k0, 0, (kt, width)) for k0, kt in k_blocks]
        if element != f32 and projected is None:  # the second matmul's moving operand
            cast = []
            for vt, (_, kt) in zip(vs, k_blocks, strict=True):
                c = b.alloc(sbuf((kt, width), element))
                b.add(tile.CopyOp(vt, c, Engine.VECTOR))
                cast.append(c)
            b.free(*vs)
            vs = cast
        outs = [b.alloc(sbuf((mt, width), f32)) for _, mt in q_blocks]
        with b.loop(0, heads // group) as step:
            # the heads of this step, stage by stage, so each engine has the same stage
            # of `group` heads in a row (its queue runs in order) while the others work;
            # PSUM tiles from pools of two (the loop body's buffers are all live at once)
            base = b.affine(step, group * d)
            cols = [base, *(b.affine(base, 1, j * d) for j in range(1, group))]
            work = [(j, i, mt) for j in range(group) for i, (_, mt) in enumerate(q_blocks)]
            flips = _Pool(b, (part, part), 2)
            score_accs = _Pool(b, (part, min(moving, sk)), 2)
            # each stage located at the graph op it computes (profiles name the node)
            b.where = chain.scores
            kts: list[SSAValue] = []
            qts: list[SSAValue] = []
            if projected is not None:
                # head j of the step: partitions [j*D mod 128, +D) of feature block
                # step * (G*D / 128) + j*D / 128 (whole blocks per step: static partitions)
                per_step = group * d // part * sq
                for j in range(group):
                    at = (j * d) % part
                    col = b.affine(step, per_step, (j * d) // part * sq)
                    kts.append(b.view(k_t, (at, col), (d, sk)))
                for j, i, mt in work:
                    at = (j * d) % part
                    col = b.affine(step, per_step, (j * d) // part * sq + q_blocks[i][0])
                    qts.append(b.view(q_t, (at, col), (d, mt)))
            else:
                for col in cols:
                    kt_all = b.alloc(sbuf((d, sk), element))
                    for kv, (k0, kt) in zip(ks, k_blocks, strict=True):
                        dst = b.view(kt_all, (0, k0), (d, kt))
                        _transpose_into(b.view(kv, (0, col), (kt, d)), dst, k_scale, flips, b)
                    kts.append(kt_all)
                for j, i, mt in work:
                    qt = b.alloc(sbuf((d, mt), element))
                    src = b.view(qs[i], (0, cols[j]), (mt, d))
                    _transpose_into(src, qt, q_scale, flips, b)
                    qts.append(qt)
            scores: list[SSAValue] = []
            for (j, i, mt), qt in zip(work, qts, strict=True):
                s = b.alloc(sbuf((mt, sk), f32))
                for n0, nt in chunks:
                    acc = score_accs.take((mt, nt))
                    b.add(tile.MatmulOp(qt, b.view(kts[j], (0, n0), (d, nt)), acc, False))
                    into = b.view(s, (0, n0), (mt, nt))
                    if scale is None and masks:  # the mask added on the way out of PSUM
                        mask = b.view(masks[i], (0, n0), (mt, nt))
                        b.add(tile.TensorTensorOp(AluOp.ADD, acc, mask, into))
                    else:
                        _evacuate(acc, into, scale, b)
                scores.append(s)
            if scale is not None and masks:
                for (_, i, _), s in zip(work, scores, strict=True):
                    b.add(tile.TensorTensorOp(AluOp.ADD, s, masks[i], s))
            b.where = chain.softmax.max
            maxima: list[SSAValue] = []  # -max of each row (the exp's bias)
            for (_, _, mt), s in zip(work, scores, strict=True):
                m = b.alloc(sbuf((mt, 1), f32))
                b.add(tile.ReduceOp(AluOp.MAX, s, [1], m, negate=True))
                maxima.append(m)
            exps: list[SSAValue] = []
            totals: list[SSAValue] = []  # the row sums, accumulated by the exp
            for (_, _, mt), s, m in zip(work, scores, maxima, strict=True):
                e = b.alloc(sbuf((mt, sk), f32))
                total = b.alloc(sbuf((mt, 1), f32))
                b.add(tile.ActivationOp(ActivationFunc.EXP, s, e, bias=m, accum=total))
                exps.append(e)
                totals.append(total)
            if chain.guard is not None:  # p = e / l, its NaNs replaced by 0
                exps = [_guarded(e, total, b) for e, total in zip(exps, totals, strict=True)]
            b.where = chain.context
            transposed: list[list[SSAValue]] = []
            for (_, _, mt), e in zip(work, exps, strict=True):
                ets = []
                for k0, kt in k_blocks:
                    et = b.alloc(sbuf((kt, mt), element))
                    _transpose_into(b.view(e, (0, k0), (mt, kt)), et, None, flips, b)
                    ets.append(et)
                transposed.append(ets)
            ctx_accs = _Pool(b, (part, d), 2)
            for (j, i, mt), ets, total in zip(work, transposed, totals, strict=True):
                acc = ctx_accs.take((mt, d))
                for kb, (et, (_, kt), vt) in enumerate(zip(ets, k_blocks, vs, strict=True)):
                    b.add(tile.MatmulOp(et, b.view(vt, (0, cols[j]), (kt, d)), acc, kb > 0))
                into = b.view(outs[i], (0, cols[j]), (mt, d))
                if chain.guard is None:  # (e . v) / l
                    b.add(tile.TensorScalarOp(AluOp.DIV, acc, total, into))
                else:
                    b.add(tile.CopyOp(acc, into, Engine.VECTOR))
            if projected is None:
                b.free(*kts, *qts)
            b.free(*scores, *maxima, *exps, *totals)
            b.free(*(et for ets in transposed for et in ets))
            b.free(*flips.tiles, *score_accs.tiles, *ctx_accs.tiles)
        b.where = chain.out
        for (m0, _), o in zip(q_blocks, outs, strict=True):
            b.store(o, out2, bi * sq + m0, 0)
        b.free(*qs, *ks, *vs, *outs)
        if projected is not None:
            b.free(q_t, k_t)
    b.where = home
    if projected is not None:
        projected.release(b)
    b.free(*owned)
    if ones is not None:
        b.free(ones)


def _factor(scale: tuple[AluOp, float] | None) -> float:
    """The factor of a scaling (its op and constant) by a power of two (1.0 for none)."""
    if scale is None:
        return 1.0
    op, value = scale
    return 1.0 / value if op is AluOp.DIV else value


def _evacuate(
    src: SSAValue, dst: SSAValue, scale: tuple[AluOp, float] | None, b: TileBuilder
) -> None:
    """dst = src (PSUM to SBUF), scaled on the way if `scale` says so."""
    if scale is None:
        b.add(tile.CopyOp(src, dst, Engine.VECTOR))
    else:
        b.add(tile.TensorScalarOp(scale[0], src, scale[1], dst))


def _transpose_into(
    src: SSAValue,
    dst: SSAValue,
    scale: tuple[AluOp, float] | None,
    pool: _Pool,
    b: TileBuilder,
) -> None:
    """dst = (src op c)^T through a PSUM tile of `pool` (TensorE), converted to dst's type
    on the way out; the scaling commutes with the transpose exactly (TensorE moves fp32
    values unchanged)."""
    p, f = src.type.get_shape()  # type: ignore[attr-defined]
    t = pool.take((f, p))
    b.add(tile.TransposeOp(src, t))
    _evacuate(t, dst, scale, b)


class _Pool:
    """`count` PSUM tiles of `shape`, handed out in turn (as views of the size asked):
    a use waits only for the use `count` before it."""

    def __init__(self, b: TileBuilder, shape: tuple[int, int], count: int) -> None:
        self.b = b
        self.tiles = [b.alloc(psum(shape)) for _ in range(count)]
        self.next = 0

    def take(self, shape: tuple[int, int]) -> SSAValue:
        t = self.tiles[self.next % len(self.tiles)]
        self.next += 1
        return self.b.view(t, (0, 0), shape)


def _guarded(e: SSAValue, total: SSAValue, b: TileBuilder) -> SSAValue:
    """`e / total` with NaNs replaced by 0 (the NaN guard; e is freed)."""
    shape = e.type.get_shape()  # type: ignore[attr-defined]
    f32 = Float32Type()
    p = b.alloc(sbuf(shape, f32))
    b.add(tile.TensorScalarOp(AluOp.DIV, e, total, p))
    b.free(e)
    number = b.alloc(sbuf(shape, PREDICATE))
    b.add(tile.TensorTensorOp(AluOp.EQ, p, p, number))  # 1 where p is not NaN
    guarded = b.alloc(sbuf(shape, f32))
    b.add(tile.MemsetOp(guarded, 0.0))
    b.add(tile.CopyPredicatedOp(p, number, guarded))
    b.free(p, number)
    return guarded


def _mask_rows(
    mask2: SSAValue,
    bi: int,
    mq: int,
    sq: int,
    sk: int,
    q_blocks: list[tuple[int, int]],
    ones: SSAValue | None,
    b: TileBuilder,
) -> tuple[list[SSAValue], list[SSAValue]]:
    """The tiles to free and, per query block, the [rows, Sk] mask of batch index `bi` in
    SBUF: its own rows, or one row spread over the partitions (a K=1 matmul by ones,
    exact)."""
    f32 = Float32Type()
    if mq > 1:
        rows = [b.load(mask2, bi * sq + m0, 0, (mt, sk)) for m0, mt in q_blocks]
        return rows, rows
    assert ones is not None
    height = max(mt for _, mt in q_blocks)
    full = b.alloc(sbuf((height, sk), f32))
    for n0 in range(0, sk, TRN1.matmul_max_moving_free):
        nt = min(TRN1.matmul_max_moving_free, sk - n0)
        row = b.load(mask2, bi, n0, (1, nt))
        spread = b.spread(ones, row, height)
        b.add(tile.CopyOp(spread, b.view(full, (0, n0), (height, nt)), Engine.VECTOR))
        b.free(row, spread)
    return [full], [b.view(full, (0, 0), (mt, sk)) for _, mt in q_blocks]
