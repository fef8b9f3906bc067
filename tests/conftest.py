"""Shared pytest setup: tests/ importable for its helper modules (`onnx_node_cases`; the
suite runs with --import-mode=importlib, which does not add it), and the ONNX node-test
counts in the terminal summary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


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
