"""Pass statistics: counts a pass reports about what it did (GELUs fused, loads moved,
bytes spilled, waits added), as mlir-opt's `--mlir-pass-statistics` prints them.

A pass calls `record(pass, name, value, description)`; nothing is kept unless a caller
collects (`with collecting() as stats:`, as `trn-opt --mlir-pass-statistics` does), so a
pass costs one check when nobody asks. Values of the same statistic add up over the
functions (and runs) of a pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Statistics:
    """pass name -> statistic name -> (value, description), in the order recorded."""

    passes: dict[str, dict[str, tuple[int, str]]] = field(default_factory=lambda: {})

    def report(self) -> str:
        """The report, in mlir-opt's layout."""
        bar = "===" + "-" * 73 + "==="
        lines = [bar, "                         ... Pass statistics report ...", bar]
        for name, stats in self.passes.items():
            lines.append(f"'{name}'")
            width = max(len(str(value)) for value, _ in stats.values())
            for stat, (value, description) in stats.items():
                lines.append(f"  (S) {value:>{width}} {stat} - {description}")
        return "\n".join(lines)


_collecting: list[Statistics] = []


def record(pass_name: str, name: str, value: int, description: str) -> None:
    """Add `value` to the statistic `name` of `pass_name` (when someone collects)."""
    if not _collecting:
        return
    stats = _collecting[-1].passes.setdefault(pass_name, {})
    previous = stats.get(name, (0, description))[0]
    stats[name] = (previous + value, description)


@contextmanager
def collecting() -> Iterator[Statistics]:
    """Collect the statistics recorded inside the `with` block."""
    stats = Statistics()
    _collecting.append(stats)
    try:
        yield stats
    finally:
        _collecting.pop()
