"""Runs the lit + FileCheck suite under pytest: one pytest test per lit file.

lit runs once for the whole suite (in parallel), writing a JUnit report; each `.mlir`
test file becomes one pytest test that passes when lit passed it and otherwise fails
with lit's output for that file. So the pytest summary counts every FileCheck test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

SUITE = Path(__file__).parent / "filecheck"
BIN = Path(sys.executable).parent
SLOW_DIRS = ("tools/", "frontend/", "examples/")
"""Lit files here start trn-opt / trn-run / trn-compile once per RUN line: the slow tier."""


def _lit_files() -> list[str]:
    files = []
    for path in sorted(SUITE.rglob("*.mlir")):
        if "Inputs" in path.parts or "Output" in path.parts:
            continue
        if "RUN:" in path.read_text(encoding="utf-8", errors="replace"):
            files.append(path.relative_to(SUITE).as_posix())
    return files


def _params() -> list[Any]:
    return [
        pytest.param(f, marks=pytest.mark.slow) if f.startswith(SLOW_DIRS) else f
        for f in _lit_files()
    ]


@pytest.fixture(scope="session")
def lit_results(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[str, str]]:
    """lit's verdict on each lit file that this pytest session selected (all of them
    unless `-m`, `-k` or node ids narrowed the selection), from one lit run."""
    selected = sorted(
        {
            str(item.callspec.params["test_file"])
            for item in request.session.items
            if isinstance(item, pytest.Function)
            and item.originalname == "test_filecheck"
            and hasattr(item, "callspec")
        }
    )
    report = tmp_path_factory.mktemp("lit") / "lit.xml"
    lit = BIN / "lit"
    command = [str(lit)] if lit.exists() else [sys.executable, "-m", "lit.main"]
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    completed = subprocess.run(
        [
            *command,
            "-q",
            f"-j{os.cpu_count() or 2}",
            "--xunit-xml-output",
            str(report),
            *(str(SUITE / f) for f in selected),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
    )
    if not report.exists():
        pytest.fail(f"lit did not run:\n{completed.stdout}\n{completed.stderr}")
    results: dict[str, tuple[str, str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        # classname is "<suite name>.<directory>", name the file: key by the relative path.
        directory = case.get("classname", "").partition(".")[2]
        name = f"{directory}/{case.get('name', '')}".lstrip("/")
        failure = case.find("failure")
        skipped = case.find("skipped")
        if failure is not None:
            results[name] = ("fail", failure.text or "")
        elif skipped is not None:
            results[name] = ("skip", skipped.get("message", ""))
        else:
            results[name] = ("pass", "")
    return results


@pytest.mark.parametrize("test_file", _params())
def test_filecheck(test_file: str, lit_results: dict[str, tuple[str, str]]) -> None:
    assert test_file in lit_results, f"lit did not report {test_file}: {sorted(lit_results)}"
    status, output = lit_results[test_file]
    assert status == "pass", f"lit {status}: {test_file}\n{output}"
