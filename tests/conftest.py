"""Shared pytest setup: tests/ importable for its helper modules (`onnx_node_cases`; the
suite runs with --import-mode=importlib, which does not add it), the `slow` tier, and the
ONNX node-test counts in the terminal summary.

The fast tier for daily work is `pytest -m "not slow"` (1 min 19 s on 2 cores here); the
whole suite (the README's test command, and CI) runs everything. A test is slow when it
is marked `@pytest.mark.slow`, lies in one of `SLOW_MODULES`, or is a lit file under one
of `test_lit.SLOW_DIRS` (those start a tool process per RUN line)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

SLOW_MODULES = {
    "test_onnx_node_isa.py",  # every ONNX node case compiled and simulated
    "test_robustness.py",  # the trn-opt mutation fuzzer
    "test_plugin_example.py",  # pip-installs the example plug-in
    "lowering/test_models_isa.py",  # the bundled models at the ISA level, both dtypes
    "frontend/test_cli_models.py",  # trn-compile on the models in subprocesses
    "lowering/test_bf16_weights.py",  # the MLP and CNN compiled twice each
    "lowering/test_reuse_distance.py",  # the MLP, CNN and BERT compiled twice each
}
"""Test modules (relative to tests/) that belong to the slow tier as a whole."""
SLOW_TESTS = {"test_any_permutation_matches_reference"}
"""Single slow tests, by function name."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath)).resolve()
        relative = path.relative_to(TESTS).as_posix() if path.is_relative_to(TESTS) else ""
        name = getattr(item, "originalname", item.name)
        if relative in SLOW_MODULES or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for outcome in counts:
        for report in terminalreporter.stats.get(outcome, []):
            if "test_onnx_node.py::" in getattr(report, "nodeid", ""):
                counts[outcome] += 1
    compiled = not_lowered = 0
    for report in terminalreporter.stats.get("passed", []):
        if "test_onnx_node_isa.py" in getattr(report, "nodeid", ""):
            kind = dict(getattr(report, "user_properties", [])).get("isa")
            compiled += kind == "compiled"
            not_lowered += kind == "not-lowered"
    if compiled or not_lowered:
        terminalreporter.write_line(
            f"ONNX node tests (level isa): {compiled} compiled and matched; {not_lowered} "
            "excluded at this level (ISA_EXCLUSIONS, each with its reason) stop at a located "
            "'not lowered' error"
        )
    total = sum(counts.values())
    if total:
        terminalreporter.write_line(
            f"ONNX node tests (level graph): {total} cases, {counts['passed']} passed, "
            f"{counts['failed']} failed, {counts['skipped']} excluded "
            "(reasons: tests/onnx_node_cases.py, docs/ONNX.md)"
        )
