"""trnc's dialects: `graph` (tensor ops), `tile` (on-chip tiles) and `trn_isa` (instructions).

Each dialect is one module; `get_all_dialects` maps dialect names to lazy factories so that
start-up imports only what a file uses.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.ir import Dialect


def get_all_dialects() -> dict[str, Callable[[], Dialect]]:
    """Dialect name -> factory returning the dialect."""

    def get_graph() -> Dialect:
        from trnc.dialects.graph import Graph

        return Graph

    def get_tile() -> Dialect:
        from trnc.dialects.tile import Tile

        return Tile

    def get_trn_isa() -> Dialect:
        from trnc.dialects.trn_isa import TrnIsa

        return TrnIsa

    return {"graph": get_graph, "tile": get_tile, "trn_isa": get_trn_isa}
