"""`graph-to-tile` pattern: a feed-forward block (two dense layers with an activation
between them) whose hidden activations stay feature-major, so they are never transposed.

    h = act(x @ w1 + b1)              (x [M, K], w1 [K, F], b1 [F]; F a multiple of 128)
    y = h @ w2 + b2 [+ r]             (w2 [F, N], b2 [N], r [M, N])

Lowered as two dense layers, h would be computed token-major ([M, F]: tokens on the
partitions), and the second matmul would transpose every 128 x 128 block of it back
(TensorE needs the contraction dim, F, on the partitions), with b1 spread over the
partitions by an fp32 matmul and added by the evacuation. This pattern swaps the
operands of the first matmul instead: with w1's block as the stationary operand and x^T
as the moving one, TensorE produces h^T ([F, M]: features on the partitions) directly,
b1 is a per-partition bias, and the evacuation is one ScalarE activation
`act(acc + b1)` writing h^T in the matmul input type. h^T's blocks are the second
matmul's stationary operands as they are (the layout its consumer wants):

    b1col = transpose(b1 as [F/128, 128])            (once: [128, F/128])
    per group of up to 512 tokens (the moving operand's limit):
      x^T = transposes of x's row blocks             ([K, T], as a dense layer does)
      per 128 features f: acc = sum_k w1[k, f]^T . x^T[k]      (PSUM [128, T])
                          h^T[f] = act(acc + b1col[f])          (ScalarE)
      per 128 tokens t, 512 outputs n: acc2 = sum_f h^T[f, t]^T . w2[f, n]
                          y = acc2 + b2 [+ r]        (the dense epilogue)

w1 and w2 are loaded once (row panels), for every token group. The arithmetic is the
two dense layers' (the same products, summed over the same K blocks; the activation
of (acc + b1) rounded once to the matmul input type), only the layout differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from xdsl.dialects.builtin import Float32Type
from xdsl.ir import Operation, SSAValue

from trnc.dialects import tile
from trnc.lowering import graph_chains as ch
from trnc.lowering.graph_to_tile_dense import DenseChain, Epilogue, match_dense
from trnc.lowering.matmul_plan import operand_element
from trnc.lowering.tile_builder import TileBuilder, onchip, psum, sbuf
from trnc.machine import TRN1

GROUP_TOKENS = TRN1.matmul_max_moving_free
"""Tokens per group: the moving operand's most columns (trn1.md A.2)."""


@dataclass(frozen=True)
class FfnChain:
    """Two dense chains, the first with an activation and no residual, feeding the
    second's left operand and nothing else."""

    first: DenseChain
    second: DenseChain

    @property
    def ops(self) -> tuple[Operation, ...]:
        return (*self.first.ops, *self.second.ops)


def match_ffn(op: Operation) -> FfnChain | None:
    """The feed-forward block that starts at `op` (the first matmul), if the pattern
    applies (see the module docstring)."""
    first = match_dense(op)
    if first is None or first.activation is None or first.residual_add is not None:
        return None
    hidden = first.last.results[0]
    second_mm = ch.only_user(hidden)
    if second_mm is None:
        return None
    second = match_dense(second_mm)
    if second is None or second.matmul.lhs is not hidden or second.matmul.rhs is hidden:
        return None
    x_dims, f_dims = ch.shape(first.matmul.lhs), ch.shape(first.matmul.rhs)
    if len(x_dims) < 2 or f_dims[1] % TRN1.partitions:
        return None
    return FfnChain(first, second)


@dataclass(frozen=True)
class FfnBuffers:
    """The HBM buffers of the block's operands and result."""

    x: SSAValue
    w1: SSAValue
    b1: SSAValue
    w2: SSAValue
    b2: SSAValue
    residual: SSAValue | None
    out: SSAValue


def lower_ffn(chain: FfnChain, bufs: FfnBuffers, dtype: str, b: TileBuilder) -> None:
    """Emit the block (see the module docstring)."""
    part = TRN1.partitions
    mm1 = chain.first.matmul
    x_dims = ch.shape(mm1.lhs)
    m, k = prod(x_dims[:-1]), x_dims[-1]
    f = ch.shape(mm1.rhs)[1]
    n = ch.shape(chain.second.matmul.rhs)[1]
    element = operand_element(mm1, dtype)
    f32 = Float32Type()
    func = chain.first.func
    assert func is not None
    x = b.reinterpret(bufs.x, (m, k))
    w1 = b.reinterpret(bufs.w1, (k, f))
    w2 = b.reinterpret(bufs.w2, (f, n))
    out = b.reinterpret(bufs.out, (m, n))
    nf = f // part

    # each stage is located at the graph op it computes (profiles name the ONNX node):
    # the first dense layer, its activation, the second dense layer
    first_loc, act_loc = chain.first.matmul, chain.first.activation
    second_loc = chain.second.matmul
    b.where = first_loc
    # b1 as one column per block of 128 features: [F/128, 128] transposed
    b1_col = b.bias_columns(bufs.b1, f)
    # the weights' row panels ([128 rows, all columns]) side by side, each weight loaded
    # once by a loop of DMAs (which tile-prefetch can move ahead), converted to the
    # matmul input type by the DMA if it is stored otherwise; a partial last K block of
    # w1 is a panel of its own
    full_k = k // part
    w1_full = b.load_blocks(w1, 0, part, full_k, (part, f), element) if full_k else None
    kt = k - full_k * part
    w1_rest = b.load(w1, full_k * part, 0, (kt, f), element=element) if kt else None
    w2_all = b.load_blocks(w2, 0, part, nf, (part, n), element)
    residual = None if bufs.residual is None else b.reinterpret(bufs.residual, (m, n))
    b.where = second_loc
    epilogue = Epilogue(bias=bufs.b2, func=chain.second.func, residual=residual, chain=chain.second)
    epilogue.prepare(m, b)
    out_element = onchip(out.type.element_type)
    y_element = f32 if epilogue.finishes else out_element
    for g0 in range(0, m, GROUP_TOKENS):
        b.where = first_loc
        t = min(GROUP_TOKENS, m - g0)
        rows = [(r0, min(part, g0 + t - r0)) for r0 in range(g0, g0 + t, part)]
        # x^T of the group: K blocks side by side, each [kt, T]
        xt = b.alloc(sbuf((part, -(-k // part) * t), element))
        for r0, rt in rows:
            xs = b.load(x, r0, 0, (rt, k))
            b.transpose_blocks_into(xs, xt, r0 - g0, t)
            b.free(xs)
        # h^T = act(w1^T x^T + b1), 128 features per iteration
        ht = b.alloc(sbuf((part, nf * t), element))
        with b.loop(0, nf) as j:
            acc = b.alloc(psum((part, t)))
            if w1_full is not None:
                for i in b.steps(full_k):
                    at = b.linear([(i, f), (j, part)])
                    stationary = b.view(w1_full, (0, at), (part, part))
                    moving = b.view(xt, (0, b.affine(i, t)), (part, t))
                    b.add(tile.MatmulOp(stationary, moving, acc, accumulate=i != 0))
            if w1_rest is not None:
                stationary = b.view(w1_rest, (0, b.affine(j, part)), (kt, part))
                moving = b.view(xt, (0, full_k * t), (kt, t))
                b.add(tile.MatmulOp(stationary, moving, acc, accumulate=full_k > 0))
            bias = b.view(b1_col, (0, j), (part, 1))
            into = b.view(ht, (0, b.affine(j, t)), (part, t))
            with b.at(act_loc):
                b.add(tile.ActivationOp(func, acc, into, bias=bias))
            b.free(acc)
        b.free(xt)
        if g0 + GROUP_TOKENS >= m:  # the last group: w1 and b1 are read no more
            b.free(b1_col, *(w for w in (w1_full, w1_rest) if w is not None))
        # y = h w2 + b2 [+ r], 128 tokens at a time
        b.where = second_loc
        for r0, rt in rows:
            y = b.alloc(sbuf((rt, n), y_element))
            for n0 in range(0, n, TRN1.matmul_max_moving_free):
                nt = min(TRN1.matmul_max_moving_free, n - n0)
                acc2 = b.alloc(psum((rt, nt)))
                for j in b.steps(nf):
                    stationary = b.view(ht, (0, b.affine(j, t, r0 - g0)), (part, rt))
                    moving = b.view(w2_all, (0, b.affine(j, n, n0)), (part, nt))
                    b.add(tile.MatmulOp(stationary, moving, acc2, accumulate=j != 0))
                epilogue.evacuate(acc2, b.view(y, (0, n0), (rt, nt)), n0, b)
                b.free(acc2)
            stored = epilogue.finish(y, r0, 0, out_element, b)
            b.store(stored, out, r0, 0)
            b.free(*{y, stored})
        b.free(ht)
    epilogue.release(b)
    b.free(w2_all)
