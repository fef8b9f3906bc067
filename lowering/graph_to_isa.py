"""The `graph-to-isa` pass: the whole way from `graph` to `trn_isa`, each stage also
runnable alone:

    graph-decompose, graph-canonicalize,  (graph -> graph; when installed)
    graph-fuse-activations
    graph-plan-tiling{dtype}              (each matmul's tiling, as `tile.plan`)
    graph-to-tile{dtype}                  (layout, tiles, DMA; see graph_to_tile.py)
    tile-plan-memory                      (residency: intermediates stay in SBUF)
    tile-prefetch                         (loads of weights and inputs moved earlier)
    tile-balance-engines                  (each copy's engine: VectorE, ScalarE, GpSimdE)
    tile-allocate                         (SBUF/PSUM addresses, DMA queues)
    tile-to-isa                           (one trn_isa.program per function)
    isa-schedule                          (instructions reordered by list scheduling)
    isa-insert-sync                       (semaphores)

`trn-opt model.mlir -p graph-to-isa{dtype=bf16}` is the same as naming the stages, and
trn-opt runs it as a nested pipeline: `--time-passes` and `--print-ir-after-all` report
each stage (`graph-to-isa/tile-allocate`). `pipeline()` is the one definition of the
stages; `trnc.compile` runs the same list (with `graph-fold-weights`).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from trnc.lowering.graph_plan_tiling import GraphPlanTiling
from trnc.lowering.graph_to_tile import GraphToTile
from trnc.lowering.isa_schedule import IsaSchedule
from trnc.lowering.isa_sync import IsaInsertSync
from trnc.lowering.tile_allocate import TileAllocate
from trnc.lowering.tile_balance_engines import TileBalanceEngines
from trnc.lowering.tile_plan_memory import TilePlanMemory
from trnc.lowering.tile_prefetch import TilePrefetch
from trnc.lowering.tile_to_isa import TileToIsa


def graph_passes() -> list[ModulePass]:
    """The graph-level passes that run first (decomposition, canonicalization, then
    activations spelled out in elementary ops fused back into one op)."""
    from trnc.passes import get_all_passes

    available = get_all_passes()
    passes: list[ModulePass] = []
    if "graph-decompose" in available:  # keeping the convs graph-to-tile lowers directly
        passes.append(available["graph-decompose"]()(direct_conv=True))
    if "graph-canonicalize" in available:
        passes.append(available["graph-canonicalize"]()())
    if "graph-fuse-activations" in available:
        passes.append(available["graph-fuse-activations"]()())
    return passes


def pipeline(dtype: str = "bf16", fold: ModulePass | None = None) -> list[ModulePass]:
    """The lowering pipeline, defined once: `graph-to-isa` runs it and `trnc.compile` runs
    it with `fold` (a `graph-fold-weights` pass, which writes a weights file) after the
    graph passes, and canonicalizes again after it."""
    graph = graph_passes()
    stages = list(graph)
    if fold is not None:
        stages += [fold, *(p for p in graph if p.name == "graph-canonicalize")]
    return [
        *stages,
        GraphPlanTiling(dtype=dtype),
        GraphToTile(dtype=dtype),
        TilePlanMemory(),
        TilePrefetch(),
        TileBalanceEngines(),
        TileAllocate(),
        TileToIsa(),
        IsaSchedule(),
        IsaInsertSync(),
    ]


@dataclass(frozen=True)
class GraphToIsa(ModulePass):
    """Lower graph IR to a `trn_isa.program` (see the module docstring)."""

    name = "graph-to-isa"

    dtype: str = "bf16"

    def stages(self) -> list[ModulePass]:
        """The passes it runs, in order (trn-opt runs and reports each one: a nested
        pipeline)."""
        return pipeline(self.dtype)

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for stage in self.stages():
            stage.apply(ctx, op)
