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

An op inside a loop may also split its runs over two engines: `on vector alternating
scalar` runs the even iterations on VectorE and the odd ones on ScalarE (`tile-to-isa`
unrolls it so), when that finishes earlier than all runs on one engine. A loop of PSUM
evacuations then keeps both engines that can read PSUM busy, as an unrolled sequence
would (BERT-base 547.7 -> 541.8 us simulated once its feed-forward blocks became loops).

An op with the `tile.fixed_engine` attribute keeps its engine (an override);
`engines=vector,scalar` limits the choice; `alternate=false` keeps each op on one engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.irdl import IRDLOperation
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import VerifyException

from trnc.dialects import tile
from trnc.dialects.tile.elementwise_ops import (
    COPY_ENGINES,
    MEMSET_ENGINES,
    TENSOR_SCALAR_ENGINES,
    TENSOR_TENSOR_ENGINES,
)
from trnc.dialects.tile.enums import EngineAttr
from trnc.lowering.tile_costs import work_of
from trnc.lowering.tile_loops import runs
from trnc.machine import Engine
from trnc.pass_statistics import record
from trnc.simulator.costs import work_ns

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


def _properties(op: Operation) -> dict[str, object]:
    """The properties `op`'s definition declares (set or not)."""
    assert isinstance(op, IRDLOperation)
    return dict(type(op).get_irdl_definition().properties)


def _allowed(op: Operation, engine: Engine) -> bool:
    """Whether `op` verifies on `engine` (it is left on that engine when it does)."""
    op.properties["engine"] = EngineAttr(engine)
    try:
        op.verify_()
    except VerifyException:
        return False
    return True


def _choose(
    costs: dict[Engine, float], count: int, busy: dict[Engine, float], alternates: bool
) -> tuple[Engine, Engine | None]:
    """The engine (and, for an op in a loop that may alternate, the engine of its odd
    runs) where the op's runs finish first, given each engine's busy time so far and the
    cost of all `count` runs on each engine."""
    options: list[tuple[float, int, Engine, Engine | None]] = [
        (busy[e] + costs[e], CHOICES.index(e) * 4, e, None) for e in costs
    ]
    if alternates and count >= 2:
        even, odd = (count + 1) // 2, count // 2
        for e in costs:
            for a in costs:
                if a is not e:
                    finish = max(
                        busy[e] + costs[e] * even / count, busy[a] + costs[a] * odd / count
                    )
                    options.append((finish, CHOICES.index(e) * 4 + CHOICES.index(a) + 1, e, a))
    _, _, engine, alternate = min(options, key=lambda o: (o[0], o[1]))
    return engine, alternate


def balance(
    function: func.FuncOp, engines: tuple[Engine, ...] = CHOICES, alternate: bool = True
) -> int:
    """Choose the engine of each movable op of `function` (and, with `alternate`, a
    second engine for the odd runs of an op in a loop); returns how many moved."""
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
            had = op.properties.pop("alternate", None)
            costs: dict[Engine, float] = {}
            for e in engines:
                work = work_of(op, e)
                if e in movable and work is not None and _allowed(op, e):
                    costs[e] = work_ns(work) * count
            op.properties["engine"] = engine_attr
            if costs:
                alternates = alternate and "alternate" in _properties(op)
                best, second = _choose(costs, count, busy, alternates)
                before = (current, had.data if isinstance(had, EngineAttr) else None)
                if (best, second) != before:
                    moved += 1
                op.properties["engine"] = EngineAttr(best)
                if second is None:
                    busy[best] += costs[best]
                    continue
                op.properties["alternate"] = EngineAttr(second)
                busy[best] += costs[best] * ((count + 1) // 2) / count
                busy[second] += costs[second] * (count // 2) / count
                continue
            if had is not None:
                op.properties["alternate"] = had
        work = work_of(op, engine_attr.data)
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

    alternate: bool = True
    """Whether an op in a loop may alternate its runs over two engines."""

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
                moved = balance(function, chosen, self.alternate)
                record(self.name, "ops-moved", moved, "ops put on another engine")
