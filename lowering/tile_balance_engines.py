"""The `tile-balance-engines` pass: choose the engine of every `tile.copy`,
`tile.tensor_scalar`, `tile.tensor_tensor` and `tile.memset` (VectorE, ScalarE or GpSimdE,
as the dialect allows each: connectivity, per-engine ALU ops) so the three engines share
the elementwise work; the choice is the `on <engine>` of each op, printed on the IR.

`graph-to-tile` puts every copy on VectorE, which also runs most of the elementwise ops
(the PSUM evacuations of matmuls and transposes are copies: on BERT-base VectorE was the
busiest engine on the critical path while ScalarE, whose copies cost the same cycles at a
faster clock, idled). The pass walks the ops in program order, keeping each engine's
accumulated busy time (an op in loops counts once per run), and puts each such op on the
engine where it would finish first: list scheduling by earliest finish time (HEFT's
engine choice, Topcuoglu et al. 2002), without the dependences, which the in-order
queues and `isa-insert-sync` keep. Costs are the simulator's (`simulator.costs.Work`,
`work_ns`): one cost model.

An op with the `tile.fixed_engine` attribute keeps its engine (an override);
`engines=vector,scalar` limits the choice.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import VerifyException

from trnc.dialects import tile
from trnc.dialects.isa_common import dtype_name
from trnc.dialects.tile.elementwise_ops import (
    COPY_ENGINES,
    MEMSET_ENGINES,
    TENSOR_SCALAR_ENGINES,
    TENSOR_TENSOR_ENGINES,
)
from trnc.dialects.tile.enums import EngineAttr
from trnc.dialects.tile.types import BufferType
from trnc.lowering.tile_loops import runs
from trnc.lowering.tile_regions import written_operands
from trnc.machine import Engine
from trnc.pass_statistics import record
from trnc.simulator.costs import Operand, Work, fast_case, work_ns

FIXED_ATTR = "tile.fixed_engine"
CHOICES = (Engine.VECTOR, Engine.SCALAR, Engine.GPSIMD)
MOVABLE: dict[type[Operation], tuple[Engine, ...]] = {
    tile.CopyOp: COPY_ENGINES,
    tile.TensorScalarOp: TENSOR_SCALAR_ENGINES,
    tile.TensorTensorOp: TENSOR_TENSOR_ENGINES,
    tile.MemsetOp: MEMSET_ENGINES,
}
"""Ops whose engine the pass chooses, with the engines the dialect allows them (each
choice is also checked by the op's verifier: connectivity, per-engine ALU ops)."""
_OPCODES: dict[type[Operation], str] = {
    tile.CopyOp: "tensor_copy",
    tile.TensorScalarOp: "tensor_scalar",
    tile.TensorTensorOp: "tensor_tensor",
    tile.ActivationOp: "activation",
    tile.ReduceOp: "tensor_reduce",
    tile.MemsetOp: "memset",
    tile.IotaOp: "iota",
    tile.CopyPredicatedOp: "tensor_copy_predicated",
}
"""Tile ops that become one instruction off TensorE, by the instruction's opcode."""


def _operand(value: SSAValue) -> Operand:
    """The facts `fast_case` asks of a tile operand (a strided view's last step is its
    innermost one)."""
    buf = value.type
    assert isinstance(buf, BufferType)
    owner = value.owner
    steps = owner.stride_values() if isinstance(owner, tile.ViewOp) else ()
    unit = all(s == 1 for s in steps[-1:])
    return Operand(buf.memory.data.value, dtype_name(buf.element_type) or "", unit)


def _work(op: Operation, engine: Engine) -> Work | None:
    opcode = _OPCODES.get(type(op))
    if opcode is None:
        return None
    buffers = [v for v in op.operands if isinstance(v.type, BufferType)]
    written = set(written_operands(op))
    reads = tuple(_operand(v) for v in buffers if v not in written)
    writes = tuple(_operand(v) for v in buffers if v in written)
    n = max((v.type.free_count() for v in buffers if isinstance(v.type, BufferType)), default=1)
    alu = getattr(op, "op", None)
    value = getattr(op, "value", None)
    fast = fast_case(
        opcode,
        reads,
        writes,
        alu.data.value if alu is not None else None,
        value.value.data if value is not None else None,
    )
    return Work(opcode, engine, n, fast)


def _allowed(op: Operation, engine: Engine) -> bool:
    """Whether `op` verifies on `engine` (it is left on that engine when it does)."""
    op.properties["engine"] = EngineAttr(engine)
    try:
        op.verify_()
    except VerifyException:
        return False
    return True


def balance(function: func.FuncOp, engines: tuple[Engine, ...] = CHOICES) -> int:
    """Choose the engine of each movable op of `function`; returns how many moved."""
    busy = {e: 0.0 for e in Engine}
    moved = 0
    for op in function.body.walk():
        engine_attr = getattr(op, "engine", None)
        if not isinstance(engine_attr, EngineAttr):
            continue
        count = runs(op)
        movable = MOVABLE.get(type(op))
        if movable is not None and FIXED_ATTR not in op.attributes:
            current = engine_attr.data
            costs: dict[Engine, float] = {}
            for e in engines:
                work = _work(op, e)
                if e in movable and work is not None and _allowed(op, e):
                    costs[e] = work_ns(work) * count
            op.properties["engine"] = engine_attr
            if costs:
                best = min(costs, key=lambda e: (busy[e] + costs[e], CHOICES.index(e)))
                if best is not current:
                    op.properties["engine"] = EngineAttr(best)
                    moved += 1
                busy[best] += costs[best]
                continue
        work = _work(op, engine_attr.data)
        if work is not None and engine_attr.data is not Engine.TENSOR:
            busy[engine_attr.data] += work_ns(work) * count
    return moved


@dataclass(frozen=True)
class TileBalanceEngines(ModulePass):
    """Choose each elementwise op's engine to balance VectorE, ScalarE and GpSimdE (see
    the module docstring)."""

    name = "tile-balance-engines"

    engines: str = "vector,scalar,gpsimd"
    """The engines the ops may be moved to, comma-separated."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        names = [e.strip() for e in self.engines.split(",") if e.strip()]
        allowed = {e.value: e for e in CHOICES}
        bad = [n for n in names if n not in allowed]
        if bad or not names:
            raise ValueError(
                f"tile-balance-engines: engines must name some of vector, scalar, gpsimd; "
                f"got '{self.engines}'"
            )
        chosen = tuple(allowed[n] for n in names)
        for function in op.ops:
            if isinstance(function, func.FuncOp) and not function.is_declaration:
                moved = balance(function, chosen)
                record(self.name, "ops-moved", moved, "ops put on another engine")
