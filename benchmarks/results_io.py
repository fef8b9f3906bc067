"""The benchmarks' JSON results: one row per configuration, other rows kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def existing_rows(path: Path) -> dict[str, Any]:
    """The rows already in `path` (none if it is missing or not JSON)."""
    if not path.exists():
        return {}
    try:
        rows = json.loads(path.read_text())
    except ValueError:
        return {}
    return rows if isinstance(rows, dict) else {}
