"""Loading trn-opt plug-ins named on the command line (`--load-plugin`).

A plug-in is a Python module, named as a module (`my_pkg.universe`), as a module and an
attribute (`my_pkg.universe:MY_UNIVERSE`) or as a path to a `.py` file. What it
contributes is collected into one `xdsl.universe.Universe`:

* every `Universe` instance it defines (the same object an `xdsl.universe` entry point
  would publish), or the one attribute named after `:`;
* otherwise every `Dialect` object and every `ModulePass` subclass defined in the module
  itself, so a single file with a dialect and a pass needs no packaging at all.

A universe's factories import lazily; each is wrapped so that a failing one is a
`PluginError` naming the plug-in, the dialect or pass and the error (the tools print it as
a one-line error), not an internal error of trnc.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from xdsl.ir import Dialect
from xdsl.passes import ModulePass
from xdsl.universe import Universe


class PluginError(Exception):
    """A plug-in that cannot be loaded; the message is for the user."""


def _import(spec: str) -> ModuleType:
    if spec.endswith(".py") or os.sep in spec:
        path = os.path.abspath(spec)
        if not os.path.isfile(path):
            raise PluginError(f"cannot load plugin '{spec}': no such file")
        name = "trnc_plugin_" + os.path.splitext(os.path.basename(path))[0]
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise PluginError(f"cannot load plugin '{spec}': not a Python file")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        module_spec.loader.exec_module(module)
        return module
    return importlib.import_module(spec)


_GUARDED: dict[tuple[str, str, int], Callable[[], Any]] = {}


def _guarded(spec: str, kind: str, name: str, factory: Callable[[], Any]) -> Callable[[], Any]:
    """`factory`, raising a `PluginError` that names the plug-in when it fails (one wrapper
    per factory, so the same plug-in loaded twice is not two definitions)."""
    key = (kind, name, id(factory))
    if key in _GUARDED:
        return _GUARDED[key]

    def load() -> Any:
        try:
            return factory()
        except PluginError:
            raise
        except (Exception, SystemExit) as error:
            raise PluginError(
                f"plugin '{spec}': cannot load {kind} '{name}': {type(error).__name__}: {error}"
            ) from None

    load.__wrapped__ = factory  # type: ignore[attr-defined]
    _GUARDED[key] = load
    return load


def _guard(spec: str, universe: Universe) -> Universe:
    return Universe(
        all_dialects={n: _guarded(spec, "dialect", n, f) for n, f in universe.all_dialects.items()},
        all_passes={n: _guarded(spec, "pass", n, f) for n, f in universe.all_passes.items()},
        all_targets=dict(universe.all_targets),
    )


def _const_dialect(dialect: Dialect) -> Callable[[], Dialect]:
    return lambda: dialect


def _const_pass(pass_type: type[ModulePass]) -> Callable[[], type[ModulePass]]:
    return lambda: pass_type


def load_plugin(spec: str) -> Universe:
    """Import the plug-in `spec` and return what it contributes as one universe."""
    return _guard(spec, _load(spec))


def _load(spec: str) -> Universe:
    module_name, _, attribute = spec.partition(":") if not spec.endswith(".py") else (spec, "", "")
    try:
        module = _import(module_name)
    except PluginError:
        raise
    except (Exception, SystemExit) as error:  # the plug-in's own import failed: say why
        raise PluginError(f"cannot load plugin '{spec}': {type(error).__name__}: {error}") from None

    if attribute:
        value = getattr(module, attribute, None)
        if not isinstance(value, Universe):
            raise PluginError(f"plugin '{spec}': '{attribute}' is not an xdsl Universe")
        return value

    universes = [v for v in vars(module).values() if isinstance(v, Universe)]
    if universes:
        merged = Universe()
        for universe in universes:
            merged.all_dialects.update(universe.all_dialects)
            merged.all_passes.update(universe.all_passes)
            merged.all_targets.update(universe.all_targets)
        return merged

    dialects = {v.name: _const_dialect(v) for v in vars(module).values() if isinstance(v, Dialect)}
    passes = {
        v.name: _const_pass(v)
        for v in vars(module).values()
        if inspect.isclass(v)
        and issubclass(v, ModulePass)
        and v.__module__ == module.__name__
        and isinstance(getattr(v, "name", None), str)
    }
    if not dialects and not passes:
        raise PluginError(f"plugin '{spec}' defines no xdsl Universe, Dialect or ModulePass")
    return Universe(all_dialects=dialects, all_passes=passes)
