"""The xDSL context trnc's tools parse with: every installed universe's dialects.

`trn-opt` and `trn-run` both register the dialects and passes of every `xdsl.universe`
entry point (trnc's own included) plus any plug-in universes; a name defined twice is an
error rather than a silent override.
"""

from __future__ import annotations

from typing import Any

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.universe import Universe


def universes(plugins: list[Universe] | None = None) -> list[Universe]:
    """The installed multiverse, trnc's own universe if not installed, then `plugins`."""
    found = [Universe.get_multiverse()]
    if "graph" not in found[0].all_dialects:  # running from a source tree, not installed
        from trnc.universe import TRNC_UNIVERSE

        found.append(TRNC_UNIVERSE)
    return found + list(plugins or [])


def merge(tables: list[Universe], field: str, what: str) -> dict[str, Any]:
    """Merge one table (`all_dialects` or `all_passes`) of several universes; a name
    defined twice is a ValueError."""
    merged: dict[str, Any] = {}
    for universe in tables:
        for name, factory in getattr(universe, field).items():
            if name in merged and merged[name] is not factory:
                raise ValueError(f"{what} '{name}' is defined by two plug-ins or packages")
            merged[name] = factory
    return merged


def make_context(plugins: list[Universe] | None = None) -> Context:
    """A context with every dialect of `universes(plugins)` registered (lazily)."""
    ctx = Context()
    for name, factory in merge(universes(plugins), "all_dialects", "dialect").items():
        ctx.register_dialect(name, factory)
    return ctx


def parse_source(text: str, name: str = "<source>", ctx: Context | None = None) -> ModuleOp:
    """Parse MLIR text with every installed dialect, ops located at `name:line:col`.
    Raises xDSL's `ParseError`; the caller verifies (`diagnostics.verify_ops`)."""
    from trnc.tools.diagnostics import LocatedParser

    return LocatedParser(ctx or make_context(), text, name).parse_module()


def module_text(module: ModuleOp, debuginfo: bool = True) -> str:
    """A module as text, with its locations (ONNX node names) unless `debuginfo` is off."""
    from io import StringIO

    from xdsl.printer import Printer

    out = StringIO()
    Printer(stream=out, print_debuginfo=debuginfo).print_op(module)
    return out.getvalue() + "\n"
