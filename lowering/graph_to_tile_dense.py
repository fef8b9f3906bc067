"""`graph-to-tile` pattern: a dense layer's epilogue fused into its matmul's PSUM
evacuation.

A linear layer comes out of the importers as a chain

    y = matmul(x, w)                 (w a 2-D weight [K, N])
    y = y + b                        (b [N], broadcast over the rows)
    [y = act(y)]                     (GELU, ReLU, tanh, sigmoid, ...: one ScalarE activation)
    [y = y + r]                      (a residual of y's shape)

Lowered op by op, each op after the matmul is another pass over the tensor (its own
loads, stores and instructions). This pattern takes the chain (intermediates with no
other users, f32) and lowers it as the matmul alone with its epilogue: the bias is spread
over the partitions once, every PSUM block is evacuated by adding the bias on the way out
(`tile.tensor_tensor` reading PSUM, which costs what the plain copy did), and the
activation and the residual are applied to each result segment before its store:

    bias = spread(b)                            (once: [128, N] in SBUF)
    ... matmul K steps into acc (PSUM) ...
    tensor_tensor add(acc, bias[:, n0:n1]) -> y[:, n0:n1]
    [activation act(y) -> y]
    [r = load ; tensor_tensor add(y, r) -> y]
    store y

The arithmetic is the op-by-op lowering's, in the same order ((x w + b), then act, then
+ r, each rounded to f32), so the results are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from xdsl.ir import Attribute, Operation, SSAValue

from trnc.dialects import graph as g
from trnc.dialects import tile
from trnc.dialects.tile.enums import ActivationFunc, AluOp, Engine
from trnc.lowering import graph_chains as ch
from trnc.lowering.graph_to_tile_compute import ACTIVATIONS
from trnc.lowering.tile_builder import Offset, TileBuilder, sbuf
from trnc.machine import TRN1


@dataclass(frozen=True)
class DenseChain:
    """A matmul by a 2-D weight with its bias, activation and residual."""

    matmul: g.MatmulOp
    bias_add: g.AddOp
    activation: Operation | None
    residual_add: g.AddOp | None

    @property
    def ops(self) -> tuple[Operation, ...]:
        ops = [self.matmul, self.bias_add, self.activation, self.residual_add]
        return tuple(op for op in ops if op is not None)

    @property
    def last(self) -> Operation:
        return self.ops[-1]

    @property
    def bias(self) -> SSAValue:
        return ch.other(self.bias_add, self.matmul.result)

    @property
    def residual(self) -> SSAValue | None:
        if self.residual_add is None:
            return None
        before = (self.activation or self.bias_add).results[0]
        return ch.other(self.residual_add, before)

    @property
    def func(self) -> ActivationFunc | None:
        op = self.activation
        if op is None:
            return None
        if isinstance(op, g.GeluOp):
            tanh = op.approximate.data == "tanh"
            return ActivationFunc.GELU_TANH if tanh else ActivationFunc.GELU
        return ACTIVATIONS[type(op)]


def _activation(op: Operation | None) -> bool:
    return isinstance(op, g.GeluOp) or type(op) in ACTIVATIONS


def match_dense(op: Operation) -> DenseChain | None:
    """The dense chain that starts at `op` (a `graph.matmul`), if the pattern applies
    (see the module docstring)."""
    if not isinstance(op, g.MatmulOp) or not ch.is_f32(op.result):
        return None
    lhs, rhs, out = ch.shape(op.lhs), ch.shape(op.rhs), ch.shape(op.result)
    if len(lhs) < 2 or len(rhs) != 2 or 0 in out:
        return None
    n = rhs[1]
    bias_add = ch.only_user(op.result)
    if not isinstance(bias_add, g.AddOp) or ch.shape(bias_add.result) != out:
        return None
    bias = ch.other(bias_add, op.result)
    if bias is op.result or not ch.is_f32(bias):
        return None
    dims = ch.shape(bias)
    if not dims or dims[-1] != n or prod(dims) != n:
        return None
    value: SSAValue = bias_add.result
    activation: Operation | None = None
    user = ch.only_user(value)
    if _activation(user):
        assert user is not None
        activation, value = user, user.results[0]
        user = ch.only_user(value)
    residual_add: g.AddOp | None = None
    if isinstance(user, g.AddOp) and ch.shape(user.result) == out:
        other = ch.other(user, value)
        if other is not value and ch.is_f32(other) and ch.shape(other) == out:
            residual_add = user
    return DenseChain(op, bias_add, activation, residual_add)


@dataclass
class Epilogue:
    """What `Compute._matmul_2d` does to each PSUM block and result segment of a fused
    dense chain: `prepare` spreads the bias, `evacuate` adds it on the way out of PSUM,
    `finish` applies the activation and the residual, `release` frees the bias."""

    bias: SSAValue
    """The bias, an HBM buffer of N f32 values."""
    func: ActivationFunc | None
    residual: SSAValue | None
    """The residual, an HBM buffer reinterpreted as the result's 2-D shape."""
    chain: DenseChain | None = None
    """The chain, if the epilogue's ops are to be located at its activation and residual
    add (else at the builder's current op)."""
    spread: SSAValue | None = None

    def prepare(self, rows: int, b: TileBuilder) -> None:
        ones = b.ones_row()
        self.spread = b.spread_vector(self.bias, min(TRN1.partitions, rows), ones)
        b.free(ones)

    def evacuate(self, acc: SSAValue, dst: SSAValue, n0: int, b: TileBuilder) -> None:
        assert self.spread is not None
        mt, nt = dst.type.get_shape()  # type: ignore[attr-defined]
        bias = b.view(self.spread, (0, n0), (mt, nt))
        b.add(tile.TensorTensorOp(AluOp.ADD, acc, bias, dst, Engine.VECTOR))

    @property
    def finishes(self) -> bool:
        """Whether `finish` has work (an activation or a residual)."""
        return self.func is not None or self.residual is not None

    def finish(
        self, y: SSAValue, row: Offset, s0: int, element: Attribute, b: TileBuilder
    ) -> SSAValue:
        """Apply the activation and the residual to the result tile `y` (rows from
        `row`, columns from `s0`; f32 when there is either); the last op writes a tile of
        `element` (`y` itself when it has that type), which is returned for the store.
        With neither, `y` is returned as it is (then already of `element`)."""
        if not self.finishes:
            return y
        shape = tuple(y.type.get_shape())  # type: ignore[attr-defined]
        out = y if element == y.type.element_type else b.alloc(sbuf(shape, element))  # type: ignore[attr-defined]
        chain = self.chain
        if self.func is not None:
            with b.at(None if chain is None else chain.activation):
                b.add(tile.ActivationOp(self.func, y, y if self.residual is not None else out))
        if self.residual is not None:
            with b.at(None if chain is None else chain.residual_add):
                r = b.load(self.residual, row, s0, (shape[0], shape[1]))
                b.add(tile.TensorTensorOp(AluOp.ADD, y, r, out, Engine.VECTOR))
                b.free(r)
        return out

    def release(self, b: TileBuilder) -> None:
        if self.spread is not None:
            b.free(self.spread)
