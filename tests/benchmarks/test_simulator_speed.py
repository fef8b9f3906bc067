"""The simulator speed benchmark (`benchmarks/simulator_speed.py`) runs end to end at
its small timing size and writes the JSON rows it prints (figures are not asserted:
speed is measured by the benchmark, not by tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from load_by_path import ROOT, load_by_path

speed = load_by_path(ROOT / "benchmarks" / "simulator_speed.py", "trnc_bench_simulator_speed")


def test_writes_every_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "speed.json"
    args = ["--timing-size", "small", "--repeat", "1", "--functional-repeat", "2"]
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
    printed = capsys.readouterr().out
    for mode in ("schedule", "races", "functional", "blas floor"):
        assert mode in printed
