"""Import a module from a file path, for the tests of files that are not in the `trnc`
package: `benchmarks/*.py` (xDSL installs an unrelated top-level `benchmarks` package, so
they cannot be imported by name) and the test-input generators."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
"""The repository root."""


def load_by_path(path: Path, name: str) -> ModuleType:
    """The module in `path`, imported under `name` (registered in `sys.modules`, so its
    dataclasses and pickling work)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
