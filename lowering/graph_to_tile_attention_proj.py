"""The Q, K and V projections of a self-attention block, taken into the fused attention
(`graph_to_tile_attention.py`) so that Q and K come out feature-major.

HuggingFace's BERT (and most encoders) compute q, k and v as three dense layers of the
same input x ([B, S, E]) before the attention reshapes them into heads. Lowered as dense
layers, each transposes x again (TensorE needs E on the partitions), and the attention
then transposes every head's Q and K blocks back (its scores matmul needs D on the
partitions). Taken into the attention, per batch index:

    x^T   = transposes of x's rows, once for the three projections   ([E, S])
    Q^T   = per 128 features f: wq[:, f]^T . x^T (w's block stationary, x^T moving),
            evacuated by one ScalarE activation: (acc + bq[f]) (x the q scaling, a power
            of two folded into the activation's scale and the bias)   ([H*D, S])
    K^T   = the same with wk, bk (and the k scaling)
    V     = x . wv + bv, token-major, as a dense layer does          ([S, H*D])

and head h's Q^T and K^T are the partitions [h*D mod 128, +D) of feature block
h*D / 128: views, no transposes. Taken only for self-attention (q, k and v from one x)
with S <= 512 (one moving operand), 128 a multiple of D and H*D of 128, the projections
used only by the attention, and a q or k scaling (if any) a power of two. The values
are the dense layers' (the same products over the same K blocks, bias added in fp32,
rounded once to the matmul input type).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import frexp, prod

from xdsl.ir import Attribute, Operation, SSAValue

from trnc.dialects import graph as g
from trnc.dialects import tile
from trnc.dialects.tile.enums import ActivationFunc
from trnc.lowering import graph_chains as ch
from trnc.lowering.graph_to_tile_compute import scalar_constant
from trnc.lowering.graph_to_tile_dense import DenseChain, Epilogue, match_dense
from trnc.lowering.tile_builder import TileBuilder, psum, sbuf
from trnc.machine import TRN1


@dataclass(frozen=True)
class Projections:
    """The three dense layers that compute q, k and v from one x, and the reshapes
    into heads."""

    q: DenseChain
    k: DenseChain
    v: DenseChain
    reshapes: tuple[g.ReshapeOp, g.ReshapeOp, g.ReshapeOp]

    @property
    def x(self) -> SSAValue:
        return self.q.matmul.lhs

    @property
    def ops(self) -> tuple[Operation, ...]:
        return (*self.q.ops, *self.k.ops, *self.v.ops, *self.reshapes)


def _projection(head_input: SSAValue) -> tuple[DenseChain, g.ReshapeOp] | None:
    """The dense layer and the reshape whose result is `head_input` ([B, S, H, D]),
    each used only on the way there."""
    reshape = head_input.owner
    if not isinstance(reshape, g.ReshapeOp) or ch.only_user(reshape.result) is None:
        return None
    value = reshape.input
    add = value.owner
    if not isinstance(add, g.AddOp) or ch.only_user(value) is not reshape:
        return None
    for operand in add.operands:
        if isinstance(operand.owner, g.MatmulOp):
            dense = match_dense(operand.owner)
            if dense is not None and dense.last is add and dense.activation is None:
                return dense, reshape
    return None


def power_of_two(value: float) -> bool:
    """Whether scaling by `value` (multiplying or dividing) is exact: a power of two."""
    mantissa, _ = frexp(value)
    return value > 0 and mantissa == 0.5


def scale_factor(op: g.MulOp | g.DivOp | None) -> float | None:
    """The factor of a scaling by a power of two (1.0 for none); None for another one."""
    if op is None:
        return 1.0
    value = scalar_constant(op.operands[1])
    if value is None or not power_of_two(value):
        return None
    return 1.0 / value if isinstance(op, g.DivOp) else value


def match_projections(
    q: SSAValue,
    k: SSAValue,
    v: SSAValue,
    q_scale: g.MulOp | g.DivOp | None,
    k_scale: g.MulOp | g.DivOp | None,
) -> Projections | None:
    """The projections of the heads' inputs `q`, `k`, `v` ([B, S, H, D] each), if the
    attention can take them (see the module docstring)."""
    found = [_projection(value) for value in (q, k, v)]
    if any(p is None for p in found):
        return None
    (qd, qr), (kd, kr), (vd, vr) = found  # type: ignore[misc]
    x = qd.matmul.lhs
    if kd.matmul.lhs is not x or vd.matmul.lhs is not x:
        return None
    dims = ch.shape(x)
    _, s, heads, d = ch.shape(q)
    if len(dims) != 3 or dims[1] != s or s > TRN1.matmul_max_moving_free:
        return None
    if TRN1.partitions % d or (heads * d) % TRN1.partitions:
        return None
    if scale_factor(q_scale) is None or scale_factor(k_scale) is None:
        return None
    return Projections(qd, kd, vd, (qr, kr, vr))


@dataclass(frozen=True)
class ProjectionBuffers:
    """The HBM buffers the projections read."""

    x: SSAValue
    wq: SSAValue
    bq: SSAValue
    wk: SSAValue
    bk: SSAValue
    wv: SSAValue
    bv: SSAValue


class ProjectedInputs:
    """Per batch index, Q^T and K^T feature-major and V token-major, from x (see the
    module docstring); `prepare` loads the weights once, `batch` computes one batch
    index's tiles, `release` frees what `prepare` made."""

    def __init__(
        self,
        bufs: ProjectionBuffers,
        shape: tuple[int, int, int],
        element: Attribute,
        factors: tuple[float, float],
        b: TileBuilder,
        at: Projections | None = None,
    ) -> None:
        bsz, s, e = shape
        self.s, self.e, self.element, self.factors = s, e, element, factors
        part = TRN1.partitions
        self.x = b.reinterpret(bufs.x, (bsz * s, e))
        self.k_blocks = [(k0, min(part, e - k0)) for k0 in range(0, e, part)]
        width = prod(bufs.wq.type.get_shape()) // e  # type: ignore[attr-defined]
        self.width = width
        # each projection's ops are located at its matmul (profiles name its ONNX node)
        self.locs: tuple[Operation | None, ...] = (
            (at.q.matmul, at.k.matmul, at.v.matmul) if at is not None else (None, None, None)
        )
        # each weight's row panels side by side, loaded by a loop of DMAs (a partial
        # last K block is a panel of its own)
        full = e // part
        self.full = full
        self.panels: list[tuple[SSAValue | None, SSAValue | None]] = []
        for w, loc in zip((bufs.wq, bufs.wk, bufs.wv), self.locs, strict=True):
            with b.at(loc):
                rows = b.reinterpret(w, (e, width))
                whole = b.load_blocks(rows, 0, part, full, (part, width), element) if full else None
                rest = (
                    b.load(rows, full * part, 0, (e - full * part, width), element=element)
                    if e % part
                    else None
                )
            self.panels.append((whole, rest))
        self.columns = []
        for bias, factor, loc in (
            (bufs.bq, factors[0], self.locs[0]),
            (bufs.bk, factors[1], self.locs[1]),
        ):
            with b.at(loc):
                self.columns.append(b.bias_columns(bias, width, factor))
        self.v_epilogue = Epilogue(bias=bufs.bv, func=None, residual=None)
        with b.at(self.locs[2]):
            self.v_epilogue.prepare(s, b)

    def batch(self, bi: int, b: TileBuilder) -> tuple[SSAValue, SSAValue, list[SSAValue]]:
        """Q^T and K^T ([128, H*D/128 x S]: feature block f at columns [f S, (f+1) S))
        and V's tiles (one per 128 tokens) of batch index `bi`."""
        part, s, element = TRN1.partitions, self.s, self.element
        rows = [(r0, min(part, s - r0)) for r0 in range(0, s, part)]
        home = b.where  # (x^T, which all three read, is located at the query's matmul)
        b.where = self.locs[0] or home
        xt = b.alloc(sbuf((part, len(self.k_blocks) * s), element))
        for r0, rt in rows:
            xs = b.load(self.x, bi * s + r0, 0, (rt, self.e))
            b.transpose_blocks_into(xs, xt, r0, s)
            b.free(xs)
        blocks = self.width // part
        transposed = []
        for which in (0, 1):
            b.where = self.locs[which] or home
            out = b.alloc(sbuf((part, blocks * s), element))
            with b.loop(0, blocks) as f:
                acc = b.alloc(psum((part, s)))
                whole, rest = self.panels[which]
                if whole is not None:
                    for i in b.steps(self.full):
                        at = b.linear([(i, self.width), (f, part)])
                        w = b.view(whole, (0, at), (part, part))
                        b.add(
                            tile.MatmulOp(
                                w, b.view(xt, (0, b.affine(i, s)), (part, s)), acc, i != 0
                            )
                        )
                if rest is not None:
                    kt = self.e - self.full * part
                    w = b.view(rest, (0, b.affine(f, part)), (kt, part))
                    xv = b.view(xt, (0, self.full * s), (kt, s))
                    b.add(tile.MatmulOp(w, xv, acc, self.full != 0))
                bias = b.view(self.columns[which], (0, f), (part, 1))
                into = b.view(out, (0, b.affine(f, s)), (part, s))
                factor = self.factors[which]
                b.add(tile.ActivationOp(ActivationFunc.COPY, acc, into, bias=bias, scale=factor))
                b.free(acc)
            transposed.append(out)
        vs = []
        b.where = self.locs[2] or home
        for r0, rt in rows:
            vt = b.alloc(sbuf((rt, self.width), element))
            for n0 in range(0, self.width, TRN1.matmul_max_moving_free):
                nt = min(TRN1.matmul_max_moving_free, self.width - n0)
                acc = b.alloc(psum((rt, nt)))
                whole, rest = self.panels[2]
                if whole is not None:
                    for i in b.steps(self.full):
                        xv = b.view(xt, (0, b.affine(i, s, r0)), (part, rt))
                        w = b.view(whole, (0, b.affine(i, self.width, n0)), (part, nt))
                        b.add(tile.MatmulOp(xv, w, acc, i != 0))
                if rest is not None:
                    kt = self.e - self.full * part
                    xv = b.view(xt, (0, self.full * s + r0), (kt, rt))
                    w = b.view(rest, (0, n0), (kt, nt))
                    b.add(tile.MatmulOp(xv, w, acc, self.full != 0))
                self.v_epilogue.evacuate(acc, b.view(vt, (0, n0), (rt, nt)), n0, b)
                b.free(acc)
            vs.append(vt)
        b.where = self.locs[0] or home
        b.free(xt)
        b.where = home
        return transposed[0], transposed[1], vs

    def _free_weight(self, which: int, b: TileBuilder) -> None:
        """Free weight `which` (0: Q, 1: K, 2: V) and its bias columns, once."""
        if self.panels[which] == (None, None):
            return
        b.free(*(p for p in self.panels[which] if p is not None))
        if which < 2:
            b.free(self.columns[which])
        self.panels[which] = (None, None)

    def release(self, b: TileBuilder) -> None:
        """Free the weights, their bias columns and V's bias."""
        self.v_epilogue.release(b)
        for which in range(3):
            self._free_weight(which, b)
