"""The simulator speed benchmark (`benchmarks/simulator_speed.py`) runs end to end at
its small timing size and writes the JSON rows it prints (figures are not asserted:
speed is measured by the benchmark, not by tests)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from load_by_path import ROOT, load_by_path


@pytest.fixture
def speed(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The benchmark module. Run as a file, it puts the repository root first on
    `sys.path` to import `benchmarks.kernels`; that would make the source `frontend/`
    shadow `tests/frontend` for later tests, so the path and the modules it imports are
    put back afterwards."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield load_by_path(ROOT / "benchmarks" / "simulator_speed.py", "trnc_bench_simulator_speed")
    for name in set(sys.modules) - before:
        if name == "benchmarks" or name.startswith(("benchmarks.", "trnc_bench_simulator")):
            del sys.modules[name]


def test_writes_every_row(
    speed: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "speed.json"
    args = ["--timing-size", "small", "--repeat", "2", "--functional-repeat", "2"]
    args += ["--bert-size", "tiny"]
    assert speed.main([*args, "--out", str(out)]) == 0
    rows = json.loads(out.read_text())
    functional = rows["functional"]
    assert functional["instructions"] == 832 and functional["runs"] == 2
    assert functional["simulate_s"] <= functional["simulate_s_median"]
    assert functional["instructions_per_s"] == pytest.approx(832 / functional["simulate_s"])
    timing = rows["timing_only"]
    assert timing["schedule_instructions_per_s"] == pytest.approx(
        timing["instructions"] / timing["schedule_s"]
    )
    oracle = rows["cost_oracle"]
    assert oracle["instructions"] > 0 and oracle["runs"] == 2
    assert oracle["decode_and_schedule_s"] <= oracle["decode_and_schedule_s_median"]
    for key in ("decode", "schedule", "decode_and_schedule"):
        assert oracle[f"{key}_instructions_per_s"] == pytest.approx(
            oracle["instructions"] / oracle[f"{key}_s"]
        )
    # Both in a row take at least as long as the faster of the two parts alone.
    assert oracle["decode_and_schedule_s"] >= min(oracle["decode_s"], oracle["schedule_s"])
    printed = capsys.readouterr().out
    for mode in ("schedule", "races", "functional", "blas floor", "bert decode", "bert both"):
        assert mode in printed
