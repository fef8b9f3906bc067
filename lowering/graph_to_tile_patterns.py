"""The pattern set of `graph-to-tile`: which lowering takes each graph op.

Like xDSL's lowerings (a list of `RewritePattern`s gathered by a `populate` function),
`graph-to-tile` asks its patterns in order and the first that matches an op lowers it;
the default lowerings (one per op kind, `DefaultLowering`) come last, so a pattern placed
before them takes an op from them:

    patterns = populate_graph_to_tile_patterns()          # the built-in list
    register_graph_to_tile_pattern(MyConv())              # a plug-in's, tried first

A pattern sees the lowerer (`LowererHost`: the graph value -> HBM buffer map `buffers`,
`dtype`, and the shared helpers) and a `TileBuilder` positioned where the op's tile ops
go. Patterns that take a chain of ops (the fused softmax) claim the chain at its first
op (`claim`), and lower it at its last.
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import Generic, TypeVar

from xdsl.ir import Block, Operation

from trnc.dialects import graph as g
from trnc.lowering import graph_chains as ch
from trnc.lowering.graph_to_tile_attention import (
    AttentionBuffers,
    AttentionChain,
    find_attention,
    lower_attention,
)
from trnc.lowering.graph_to_tile_attention_proj import ProjectionBuffers
from trnc.lowering.graph_to_tile_conv import fits as conv_fits
from trnc.lowering.graph_to_tile_conv import lower_conv2d
from trnc.lowering.graph_to_tile_dense import DenseChain, Epilogue, match_dense
from trnc.lowering.graph_to_tile_ffn import FfnBuffers, FfnChain, lower_ffn, match_ffn
from trnc.lowering.graph_to_tile_host import LowererHost
from trnc.lowering.graph_to_tile_layernorm import (
    LayerNormBuffers,
    LayerNormChain,
    lower_layernorm,
    match_layernorm,
)
from trnc.lowering.graph_to_tile_softmax import SoftmaxChain, lower_softmax, match_softmax
from trnc.lowering.tile_builder import TileBuilder
from trnc.lowering.tile_to_isa import LoweringError
from trnc.pass_statistics import record

ChainT = TypeVar("ChainT")


class GraphToTilePattern:
    """One lowering of graph ops to tile ops."""

    def claim(self, op: Operation) -> tuple[Operation, ...] | None:
        """For a pattern over a chain of ops: at the chain's first op, all its ops (the
        last is where it is lowered; the others are then skipped). None otherwise."""
        return None

    def match(self, op: Operation, lowerer: LowererHost) -> bool:
        """Whether this pattern lowers `op`."""
        raise NotImplementedError

    def lower(self, op: Operation, lowerer: LowererHost, b: TileBuilder) -> None:
        """Emit `op`'s tile ops with `b`."""
        raise NotImplementedError


class ChainPattern(GraphToTilePattern, Generic[ChainT]):
    """A pattern over a chain of ops found by `find` at its first op: it claims the
    chain's `ops` there and lowers the chain at the last of them (`chains`, by that op)."""

    def __init__(self) -> None:
        self.chains: dict[Operation, ChainT] = {}  # by its last op

    def find(self, op: Operation) -> ChainT | None:
        """The chain that starts at `op`, if there is one."""
        raise NotImplementedError

    def claim(self, op: Operation) -> tuple[Operation, ...] | None:
        chain = self.find(op)
        if chain is None:
            return None
        ops: tuple[Operation, ...] = chain.ops  # type: ignore[attr-defined]
        self.chains[ops[-1]] = chain
        return ops

    def match(self, op: Operation, lowerer: LowererHost) -> bool:
        return op in self.chains


class FusedSoftmax(ChainPattern[SoftmaxChain]):
    """A decomposed softmax over the last axis, too big for SBUF, as one loop over row
    tiles (`graph_to_tile_softmax.py`)."""

    def find(self, op: Operation) -> SoftmaxChain | None:
        return match_softmax(op)

    def lower(self, op: Operation, lowerer: LowererHost, b: TileBuilder) -> None:
        chain = self.chains[op]
        lower_softmax(chain, lowerer.buffers[chain.max.input], lowerer.buffers[op.results[0]], b)
        record("graph-to-tile", "fused-softmaxes", 1, "softmaxes lowered as one loop")


class FusedLayerNorm(ChainPattern[LayerNormChain]):
    """A decomposed layer normalization over the last axis, per row tile
    (`graph_to_tile_layernorm.py`)."""

    def find(self, op: Operation) -> LayerNormChain | None:
        return match_layernorm(op)

    def lower(self, op: Operation, lowerer: LowererHost, b: TileBuilder) -> None:
        chain = self.chains[op]
        gamma, beta = chain.gamma, chain.beta
        bufs = LayerNormBuffers(
            x=lowerer.buffers[chain.mean.input],
            gamma=None if gamma is None else lowerer.buffers[gamma],
            beta=None if beta is None else lowerer.buffers[beta],
            out=lowerer.buffers[op.results[0]],
        )
        lower_layernorm(chain, bufs, b)
        record("graph-to-tile", "fused-layer-norms", 1, "layer normalizations fused per row tile")


class FusedAttention(GraphToTilePattern):
    """Multi-head attention (two matmuls around a softmax, with the head transposes) as
    one loop over heads (`graph_to_tile_attention.py`)."""

    def __init__(self) -> None:
        self.blocks: set[Block] = set()  # searched for chains
        self.first: dict[Operation, AttentionChain] = {}  # by the chain's first op
        self.last: dict[Operation, AttentionChain] = {}  # by its last op

    def claim(self, op: Operation) -> tuple[Operation, ...] | None:
        block = op.parent_block()
        if block is not None and block not in self.blocks:
            self.blocks.add(block)
            self.first.update(find_attention(block))
        chain = self.first.get(op)
        if chain is None:
            return None
        self.last[chain.out] = chain
        return chain.ops

    def match(self, op: Operation, lowerer: LowererHost) -> bool:
        return op in self.last

    def lower(self, op: Operation, lowerer: LowererHost, b: TileBuilder) -> None:
        chain = self.last[op]
        mask = chain.mask_value
        proj = chain.proj
        if proj is not None:  # the projections too: the attention reads x and weights
            buffers = lowerer.buffers
            bufs = AttentionBuffers(
                q=None,
                k=None,
                v=None,
                mask=None if mask is None else buffers[mask],
                out=buffers[op.results[0]],
                proj=ProjectionBuffers(
                    x=buffers[proj.x],
                    wq=buffers[proj.q.matmul.rhs],
                    bq=buffers[proj.q.bias],
                    wk=buffers[proj.k.matmul.rhs],
                    bk=buffers[proj.k.bias],
                    wv=buffers[proj.v.matmul.rhs],
                    bv=buffers[proj.v.bias],
                ),
            )
        else:
            bufs = AttentionBuffers(
                q=lowerer.buffers[chain.q.input],
                k=lowerer.buffers[chain.k.input],
                v=lowerer.buffers[chain.v.input],
                mask=None if mask is None else lowerer.buffers[mask],
                out=lowerer.buffers[op.results[0]],
            )
        try:
            lower_attention(chain, bufs, lowerer.dtype, b)
        except ValueError as error:  # a bad override, located at the op that carries it
            raise LoweringError(f"graph-to-tile: {error}", chain.scores) from None
        record("graph-to-tile", "fused-attention", 1, "attention blocks fused into one loop")


class FusedFFN(ChainPattern[FfnChain]):
    """Two dense layers with an activation between them, the hidden activations kept
    feature-major (`graph_to_tile_ffn.py`)."""

    def find(self, op: Operation) -> FfnChain | None:
        return match_ffn(op)

    def lower(self, op: Operation, lowerer: LowererHost, b: TileBuilder) -> None:
        chain = self.chains[op]
        residual = chain.second.residual
        bufs = FfnBuffers(
            x=lowerer.buffers[chain.first.matmul.lhs],
            w1=lowerer.buffers[chain.first.matmul.rhs],
            b1=lowerer.buffers[chain.first.bias],
            w2=lowerer.buffers[chain.second.matmul.rhs],
            b2=lowerer.buffers[chain.second.bias],
            residual=None if residual is None else lowerer.buffers[residual],
            out=lowerer.buffers[op.results[0]],
        )
        lower_ffn(chain, bufs, lowerer.dtype, b)
        record("graph-to-tile", "fused-ffn", 1, "feed-forward blocks with feature-major hidden")


class FusedDense(ChainPattern[DenseChain]):
    """A matmul by a 2-D weight with its bias add, activation and residual add, the
    epilogue done on the PSUM evacuation (`graph_to_tile_dense.py`)."""

    def find(self, op: Operation) -> DenseChain | None:
        return match_dense(op)

    def lower(self, op: Operation, lowerer: LowererHost, b: TileBuilder) -> None:
        chain = self.chains[op]
        residual = chain.residual
        dims = ch.shape(op.results[0])
        rows = (prod(dims[:-1]), dims[-1])
        epilogue = Epilogue(
            bias=lowerer.buffers[chain.bias],
            func=chain.func,
            residual=None if residual is None else b.reinterpret(lowerer.buffers[residual], rows),
            chain=chain,
        )
        with b.at(chain.matmul):
            lowerer.matmul(chain.matmul, b, epilogue, op.results[0])
        record("graph-to-tile", "fused-dense", 1, "matmul epilogues fused into the evacuation")


class DirectConv(GraphToTilePattern):
    """conv2d with channels on the partitions (`graph_to_tile_conv.py`)."""

    def match(self, op: Operation, lowerer: LowererHost) -> bool:
        return isinstance(op, g.Conv2dOp) and conv_fits(op)

    def lower(self, op: Operation, lowerer: LowererHost, b: TileBuilder) -> None:
        assert isinstance(op, g.Conv2dOp)
        lower_conv2d(op, lowerer.buffers, lowerer.dtype, b)
        record("graph-to-tile", "direct-convs", 1, "convolutions lowered directly")


class DefaultLowering(GraphToTilePattern):
    """Every op kind's own lowering (the mixins of `graph_to_tile.py`); last in the list."""

    def __init__(self, lower: Callable[[Operation, TileBuilder], None]) -> None:
        self._lower = lower

    def match(self, op: Operation, lowerer: LowererHost) -> bool:
        return True

    def lower(self, op: Operation, lowerer: LowererHost, b: TileBuilder) -> None:
        self._lower(op, b)


_REGISTERED: list[Callable[[], GraphToTilePattern]] = []


def register_graph_to_tile_pattern(factory: Callable[[], GraphToTilePattern]) -> None:
    """Add a pattern (a factory: each lowering gets its own instance) ahead of the
    built-in ones; later registrations are tried first."""
    _REGISTERED.insert(0, factory)


def populate_graph_to_tile_patterns() -> list[GraphToTilePattern]:
    """The patterns in the order they are tried, before the default lowerings:
    registered ones, then the built-in fusions and special cases."""
    return [
        *(factory() for factory in _REGISTERED),
        FusedAttention(),
        FusedLayerNorm(),
        FusedSoftmax(),
        FusedFFN(),
        FusedDense(),
        DirectConv(),
    ]
