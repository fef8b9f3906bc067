"""The plug-in's xDSL universe: what `trn-opt` and `xdsl-opt` load from the entry point."""

from __future__ import annotations

from xdsl.ir import Dialect
from xdsl.passes import ModulePass
from xdsl.universe import Universe


def _dialect() -> Dialect:
    from trnc_hswish.dialect import Hswish

    return Hswish


def _hswish_to_graph() -> type[ModulePass]:
    from trnc_hswish.hswish_to_graph import HswishToGraphPass

    return HswishToGraphPass


HSWISH_UNIVERSE = Universe(
    all_dialects={"hswish": _dialect},
    all_passes={"hswish-to-graph": _hswish_to_graph},
)
