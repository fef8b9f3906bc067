"""`graph-to-tile` pattern: layer normalization over the last axis, fused per row tile.

`graph-decompose` turns LayerNormalization into

    m = reduce_mean(x) ; c = x - m ; v = reduce_mean(c * c) ; r = rsqrt(v + eps)
    y = c * r [* gamma] [+ beta]

(gamma and beta `[n]`, broadcast over the rows). Lowered op by op, each op is a pass over
the tensor with its own loads and stores, and gamma and beta are spread over the
partitions by a matmul for every row tile. This pattern takes the chain (intermediates
with no other users, f32, at most `FREE_ELEMS` columns) and lowers it per tile of 128
rows, gamma and beta spread once:

    x = load                                 (the rows of this tile)
    s = reduce add x ; n = s * (-1/n)        (VectorE; n = -mean, exactly -(s * (1/n)))
    c = copy(x + n)                          (ScalarE, n as the per-partition bias)
    _ = square(c), q = its row sums          (ScalarE, accumulated as it goes)
    r = rsqrt(q * (1/n) + eps)               (ScalarE: scale 1/n, eps as the bias)
    y = c * r [* gamma] [+ beta]             (VectorE / GpSimdE)
    store y

The same arithmetic as the op-by-op lowering (the mean and the variance are fp32 sums
scaled by 1/n; x + (-m) is x - m exactly), so results agree to the last bit or two
(the sums may be added in another order). Row tiles go in groups of `GROUP`, stage by
stage, so ScalarE's passes over one tile overlap VectorE's over another.
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
from trnc.lowering.graph_to_tile_compute import scalar_constant
from trnc.lowering.tile_builder import TileBuilder, sbuf
from trnc.machine import TRN1

GROUP = 4
"""Row tiles lowered stage by stage together (see the module docstring)."""


@dataclass(frozen=True)
class LayerNormChain:
    """The ops of a decomposed layer normalization over the last axis."""

    mean: g.ReduceMeanOp
    center: g.SubOp
    square: g.MulOp
    var: g.ReduceMeanOp
    add_eps: g.AddOp
    rsqrt: g.RsqrtOp
    normed: g.MulOp
    scale: g.MulOp | None
    shift: g.AddOp | None

    @property
    def ops(self) -> tuple[Operation, ...]:
        ops: list[Operation] = [self.mean, self.center, self.square, self.var, self.add_eps]
        ops += [self.rsqrt, self.normed]
        ops += [op for op in (self.scale, self.shift) if op is not None]
        block = self.mean.parent_block()
        assert block is not None
        return tuple(sorted(ops, key=block.get_operation_index))

    @property
    def last(self) -> Operation:
        return self.shift or self.scale or self.normed

    @property
    def gamma(self) -> SSAValue | None:
        return None if self.scale is None else ch.other(self.scale, self.normed.result)

    @property
    def beta(self) -> SSAValue | None:
        if self.shift is None:
            return None
        return ch.other(self.shift, (self.scale or self.normed).results[0])

    @property
    def eps(self) -> float:
        value = scalar_constant(ch.other(self.add_eps, self.var.result))
        assert value is not None
        return value


def _row_vector(value: SSAValue, n: int) -> bool:
    """An f32 tensor of n elements along the last axis only ([n], [1, n], ...)."""
    if not ch.is_f32(value):
        return False
    shape = ch.shape(value)
    return bool(shape) and shape[-1] == n and prod(shape) == n


def match_layernorm(op: Operation) -> LayerNormChain | None:
    """The layer normalization chain that starts at `op` (a `reduce_mean`), if the
    pattern applies (see the module docstring)."""
    if not isinstance(op, g.ReduceMeanOp) or not ch.reduces_last_axis(op):
        return None
    x = op.input
    shape = ch.row_input(x)
    if shape is None:
        return None
    n = shape[-1]
    center = ch.only_user(op.result)
    if not isinstance(center, g.SubOp):
        return None
    if center.operands[0] is not x or center.operands[1] is not op.result:
        return None
    c = center.result
    if ch.shape(c) != shape:
        return None
    users = ch.users(c)  # the square (twice) and the normalization
    square = next(
        (u for u in users if isinstance(u, g.MulOp) and u.operands[0] is c and u.operands[1] is c),
        None,
    )
    other = next((u for u in users if isinstance(u, g.MulOp) and u is not square), None)
    if not isinstance(square, g.MulOp) or not isinstance(other, g.MulOp) or len(users) != 3:
        return None
    normed: g.MulOp = other
    var = ch.only_user(square.result)
    if not isinstance(var, g.ReduceMeanOp) or not ch.reduces_last_axis(var):
        return None
    add_eps = ch.only_user(var.result)
    if not isinstance(add_eps, g.AddOp) or var.result not in add_eps.operands:
        return None
    eps = scalar_constant(ch.other(add_eps, var.result))
    if eps is None or ch.shape(add_eps.result) != ch.shape(var.result):
        return None
    rsqrt = ch.only_user(add_eps.result)
    if not isinstance(rsqrt, g.RsqrtOp) or ch.users(rsqrt.result) != [normed]:
        return None
    if ch.other(normed, c) is not rsqrt.result or ch.shape(normed.result) != shape:
        return None
    value: SSAValue = normed.result
    scale: g.MulOp | None = None
    user = ch.only_user(value)
    if isinstance(user, g.MulOp) and _row_vector(ch.other(user, value), n):
        if ch.shape(user.results[0]) != shape:
            return None
        scale, value = user, user.results[0]
        user = ch.only_user(value)
    shift: g.AddOp | None = None
    if isinstance(user, g.AddOp) and _row_vector(ch.other(user, value), n):
        if ch.shape(user.result) != shape:
            return None
        shift = user
    return LayerNormChain(op, center, square, var, add_eps, rsqrt, normed, scale, shift)


@dataclass(frozen=True)
class LayerNormBuffers:
    """The HBM buffers of the chain's input, gamma, beta and output."""

    x: SSAValue
    gamma: SSAValue | None
    beta: SSAValue | None
    out: SSAValue


def lower_layernorm(chain: LayerNormChain, bufs: LayerNormBuffers, b: TileBuilder) -> None:
    """Emit the fused loop (see the module docstring)."""
    shape = ch.shape(chain.mean.input)
    n = shape[-1]
    rows = prod(shape[:-1])
    src = b.reinterpret(bufs.x, (rows, n))
    dst = b.reinterpret(bufs.out, (rows, n))
    f32 = Float32Type()
    part = min(TRN1.partitions, rows)
    ones = b.ones_row() if bufs.gamma is not None or bufs.beta is not None else None
    rows_of: list[SSAValue] = []  # gamma and beta on every partition, once
    for vector in (bufs.gamma, bufs.beta):
        if vector is None:
            continue
        assert ones is not None
        rows_of.append(b.spread_vector(vector, part, ones))
    if ones is not None:
        b.free(ones)
    gamma = rows_of[0] if bufs.gamma is not None else None
    beta = rows_of[-1] if bufs.beta is not None else None
    eps = b.alloc(sbuf((part, 1), f32))
    b.add(tile.MemsetOp(eps, chain.eps))
    starts = list(range(0, rows, TRN1.partitions))
    for g0 in range(0, len(starts), GROUP):
        group = [(r0, min(TRN1.partitions, rows - r0)) for r0 in starts[g0 : g0 + GROUP]]
        xs = [b.load(src, r0, 0, (p, n)) for r0, p in group]
        negs = []
        for (_, p), x in zip(group, xs, strict=True):
            neg = b.alloc(sbuf((p, 1), f32))
            b.add(tile.ReduceOp(AluOp.ADD, x, [1], neg))
            b.add(tile.TensorScalarOp(AluOp.MUL, neg, -1.0 / n, neg))
            negs.append(neg)
        centered = []
        for (_, p), x, neg in zip(group, xs, negs, strict=True):
            c = b.alloc(sbuf((p, n), f32))
            b.add(tile.ActivationOp(ActivationFunc.COPY, x, c, bias=neg))
            centered.append(c)
        b.free(*xs, *negs)
        inverse = []
        for (_, p), c in zip(group, centered, strict=True):
            sq = b.alloc(sbuf((p, n), f32))
            q = b.alloc(sbuf((p, 1), f32))
            b.add(tile.ActivationOp(ActivationFunc.SQUARE, c, sq, accum=q))
            b.free(sq)
            eps_p = b.view(eps, (0, 0), (p, 1))
            b.add(tile.ActivationOp(ActivationFunc.RSQRT, q, q, bias=eps_p, scale=1.0 / n))
            inverse.append(q)
        for (r0, p), c, r in zip(group, centered, inverse, strict=True):
            y = b.alloc(sbuf((p, n), f32))
            b.add(tile.TensorScalarOp(AluOp.MUL, c, r, y))
            if gamma is not None:
                b.add(tile.TensorTensorOp(AluOp.MUL, y, b.view(gamma, (0, 0), (p, n)), y))
            if beta is not None:
                b.add(tile.TensorTensorOp(AluOp.ADD, y, b.view(beta, (0, 0), (p, n)), y))
            b.store(y, dst, r0, 0)
            b.free(c, r, y)
    b.free(eps, *rows_of)
