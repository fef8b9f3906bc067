"""Lowerings between trnc levels (graph -> tile -> trn_isa), one module per pass, registered
by name as lazy factories (like `trnc.passes`).

In pipeline order: `tile-allocate` (addresses and DMA queues; in `trnc.passes`),
`tile-to-isa` (tile ops -> one `trn_isa.program`), `isa-insert-sync` (semaphores).
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.passes import ModulePass


def _tile_to_isa() -> type[ModulePass]:
    from trnc.lowering.tile_to_isa import TileToIsa

    return TileToIsa


def _isa_insert_sync() -> type[ModulePass]:
    from trnc.lowering.isa_sync import IsaInsertSync

    return IsaInsertSync


def get_lowering_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Pass name -> factory returning the pass class."""
    return {
        "tile-to-isa": _tile_to_isa,
        "isa-insert-sync": _isa_insert_sync,
    }
