"""trnc's xDSL universe: every trnc dialect and pass, by name, as lazy factories.

Published through the `xdsl.universe` entry point (see `pyproject.toml`), so plain
`xdsl-opt` parses trnc IR, and `trn-opt` merges it with every other installed universe.
"""

from __future__ import annotations

from xdsl.universe import Universe

from trnc.dialects import get_all_dialects
from trnc.lowering import get_lowering_passes
from trnc.passes import get_all_passes

TRNC_UNIVERSE = Universe(
    all_dialects=get_all_dialects(), all_passes={**get_all_passes(), **get_lowering_passes()}
)
