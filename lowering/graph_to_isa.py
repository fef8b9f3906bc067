"""The `graph-to-isa` pass: the whole way from `graph` to `trn_isa`, each stage also
runnable alone:

    graph-decompose, graph-canonicalize   (graph -> graph; when installed)
    graph-to-tile{dtype}                  (layout, tiling, DMA; see graph_to_tile.py)
    tile-plan-memory                      (residency: intermediates stay in SBUF)
    tile-allocate                         (SBUF/PSUM addresses, DMA queues)
    tile-to-isa                           (one trn_isa.program per function)
    isa-insert-sync                       (semaphores)

`trn-opt model.mlir -p graph-to-isa{dtype=bf16}` is the same as naming the stages.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from trnc.lowering.graph_to_tile import GraphToTile
from trnc.lowering.isa_sync import IsaInsertSync
from trnc.lowering.tile_allocate import TileAllocate
from trnc.lowering.tile_plan_memory import TilePlanMemory
from trnc.lowering.tile_to_isa import TileToIsa


def graph_passes() -> list[ModulePass]:
    """The graph-level passes that run first (decomposition, then canonicalization)."""
    from trnc.passes import get_all_passes

    available = get_all_passes()
    return [
        available[name]()()
        for name in ("graph-decompose", "graph-canonicalize")
        if name in available
    ]


@dataclass(frozen=True)
class GraphToIsa(ModulePass):
    """Lower graph IR to a `trn_isa.program` (see the module docstring)."""

    name = "graph-to-isa"

    dtype: str = "bf16"

    def stages(self) -> list[ModulePass]:
        return [
            *graph_passes(),
            GraphToTile(dtype=self.dtype),
            TilePlanMemory(),
            TileAllocate(),
            TileToIsa(),
            IsaInsertSync(),
        ]

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for stage in self.stages():
            stage.apply(ctx, op)
