"""Lowerings between trnc levels (graph -> tile -> trn_isa), one module per pass, registered
by name as lazy factories (like `trnc.passes`).

In pipeline order: `graph-to-tile` (layout, tiling, DMA), `tile-allocate` (addresses and
DMA queues), `tile-to-isa` (tile ops -> one `trn_isa.program`), `isa-schedule`
(instruction order), `isa-insert-sync` (semaphores); `graph-to-isa{dtype=bf16|fp32}` runs them all.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.passes import ModulePass


def _tile_to_isa() -> type[ModulePass]:
    from trnc.lowering.tile_to_isa import TileToIsa

    return TileToIsa


def _isa_schedule() -> type[ModulePass]:
    from trnc.lowering.isa_schedule import IsaSchedule

    return IsaSchedule


def _isa_insert_sync() -> type[ModulePass]:
    from trnc.lowering.isa_sync import IsaInsertSync

    return IsaInsertSync


def _graph_to_tile() -> type[ModulePass]:
    from trnc.lowering.graph_to_tile import GraphToTile

    return GraphToTile


def _tile_allocate() -> type[ModulePass]:
    from trnc.lowering.tile_allocate import TileAllocate

    return TileAllocate


def _tile_plan_memory() -> type[ModulePass]:
    from trnc.lowering.tile_plan_memory import TilePlanMemory

    return TilePlanMemory


def _tile_prefetch() -> type[ModulePass]:
    from trnc.lowering.tile_prefetch import TilePrefetch

    return TilePrefetch


def _graph_plan_tiling() -> type[ModulePass]:
    from trnc.lowering.graph_plan_tiling import GraphPlanTiling

    return GraphPlanTiling


def _tile_balance_engines() -> type[ModulePass]:
    from trnc.lowering.tile_balance_engines import TileBalanceEngines

    return TileBalanceEngines


def _graph_to_isa() -> type[ModulePass]:
    from trnc.lowering.graph_to_isa import GraphToIsa

    return GraphToIsa


def get_lowering_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Pass name -> factory returning the pass class."""
    return {
        "graph-to-isa": _graph_to_isa,
        "graph-plan-tiling": _graph_plan_tiling,
        "graph-to-tile": _graph_to_tile,
        "tile-plan-memory": _tile_plan_memory,
        "tile-prefetch": _tile_prefetch,
        "tile-balance-engines": _tile_balance_engines,
        "tile-allocate": _tile_allocate,
        "tile-to-isa": _tile_to_isa,
        "isa-schedule": _isa_schedule,
        "isa-insert-sync": _isa_insert_sync,
    }
