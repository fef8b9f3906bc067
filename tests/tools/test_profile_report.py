"""`--profile`, `--profile-html` and `--timeline` of trn-run and trn-compile: the table,
the files, one-line errors for bad paths, and the HTML report rendered in headless
Chromium (Debian's package; installed here when missing and running as root)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path

import pytest
from cli_helpers import EXAMPLES, call

from trnc.simulator.profile import Profile, profile_of
from trnc.tools import trn_compile, trn_run
from trnc.tools.context import parse_source

MLP = EXAMPLES / "mlp.onnx"
CHROMIUM = "/usr/bin/chromium"
SECTIONS = ("per ONNX node", "per op type", "critical path by cause", "over time")


@pytest.fixture(scope="module")
def mlp_mlir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The MLP compiled to a trn_isa file (and its weights beside it)."""
    out = tmp_path_factory.mktemp("mlp") / "mlp.mlir"
    code, _, err = call(trn_compile.main, MLP, "--input-shape", "x=8x64", "-o", out)
    assert code == 0, err
    return out


def _expected(path: Path) -> Profile:
    """The profile of the program in `path`, computed here without the tool."""
    return profile_of(parse_source(path.read_text(), str(path)))


def _one_error(err: str, *needles: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], err


def test_trn_run_profile_writes_table_html_and_svg(mlp_mlir: Path, tmp_path: Path) -> None:
    html, svg = tmp_path / "p.html", tmp_path / "t.svg"
    code, out, err = call(
        trn_run.main,
        mlp_mlir,
        "--timing-only",
        "--profile",
        "--profile-html",
        html,
        "--timeline",
        svg,
    )
    assert code == 0, err
    expected = _expected(mlp_mlir)
    assert f"profile of main: {expected.instructions} instructions" in out
    assert f"{expected.simulated_ns / 1e3:.3f} us simulated" in out
    for row in expected.nodes[:20]:
        assert row.name in out or "..." in out
    for cause in expected.causes:
        assert cause in out
    ET.fromstring(svg.read_text())  # well-formed XML
    page = html.read_text()
    for table in ("summary", "nodes", "opcodes", "causes", "path", "bins"):
        assert f'id="{table}"' in page
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_trn_run_profile_of_a_functional_run(mlp_mlir: Path) -> None:
    code, out, err = call(trn_run.main, mlp_mlir, "--random-inputs", "--profile")
    assert code == 0, err
    assert "output y" in out and "critical path by cause" in out


@pytest.mark.parametrize("run", [["--run"], []], ids=["--run", "implied"])
def test_trn_compile_profile_runs_and_prints_no_ir(run: list[str], tmp_path: Path) -> None:
    svg = tmp_path / "t.svg"
    code, out, err = call(
        trn_compile.main,
        MLP,
        "--input-shape",
        "x=8x64",
        *run,
        "--random-inputs",
        "--profile",
        "--timeline",
        svg,
    )
    assert code == 0, err
    assert "trn_isa.program" not in out  # the run's output, not the IR
    for section in SECTIONS:  # the graph level gives op types
        assert section in out
    assert svg.stat().st_size > 0


@pytest.mark.parametrize("tool", ["trn-run", "trn-compile"])
@pytest.mark.parametrize(
    ("flag", "name", "needle"),
    [
        ("--timeline", "missing/t.svg", "does not exist"),
        ("--timeline", "t.png", "ending in .svg"),
        ("--profile-html", "missing/p.html", "does not exist"),
        ("--profile-html", ".", "is a directory"),
    ],
)
def test_bad_output_paths_are_one_line(
    tool: str, flag: str, name: str, needle: str, mlp_mlir: Path, tmp_path: Path
) -> None:
    target = tmp_path / name
    if tool == "trn-run":
        code, out, err = call(trn_run.main, mlp_mlir, "--timing-only", flag, target)
    else:
        code, out, err = call(trn_compile.main, MLP, "--input-shape", "x=8x64", flag, target)
    assert code == 1 and out == ""
    _one_error(err, f"{tool}: error: {flag}", needle)
    assert not target.is_file()


def test_graph_level_ir_has_no_profile(tmp_path: Path) -> None:
    graph = tmp_path / "g.mlir"
    graph.write_text(
        "func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {\n"
        "  %y = graph.relu %x : tensor<4xf32>\n"
        "  func.return %y : tensor<4xf32>\n"
        "}\n"
    )
    code, _, err = call(trn_run.main, graph, "--random-inputs", "--profile")
    assert code == 1
    _one_error(err, "trn-run: error: --profile: graph-level IR has no timing")


# ---------------------------------------------------------------- a real browser


def _chromium() -> str:
    """Chromium from Debian's packages: installed with apt-get when missing (as root);
    the test is skipped only when the package registry cannot be reached."""
    found = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if found:
        return found
    if os.geteuid() != 0:
        pytest.skip("chromium is not installed and installing it (apt-get) needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["apt-get", *args], capture_output=True, text=True, env=env, timeout=1200
        )

    install = apt("install", "-y", "-q", "chromium")
    if install.returncode != 0:
        update = apt("update", "-q")
        unreachable = re.search(
            r"Could not resolve|Failed to fetch|Temporary failure|Unable to connect|"
            r"Could not connect|Network is unreachable",
            update.stdout + update.stderr,
        )
        if update.returncode != 0 or unreachable:
            reason = unreachable.group(0) if unreachable else update.stderr.strip()[-200:]
            pytest.skip(f"the Debian package registry cannot be reached ({reason})")
        install = apt("install", "-y", "-q", "chromium")
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    assert os.path.exists(CHROMIUM)
    return CHROMIUM


def _headless(chromium: str, profile_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile_dir}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_html_report_renders_in_headless_chromium(mlp_mlir: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    html = tmp_path / "report.html"
    code, _, err = call(trn_run.main, mlp_mlir, "--timing-only", "--profile-html", html)
    assert code == 0, err
    url = html.resolve().as_uri()
    dom = _headless(chromium, tmp_path / "chrome", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [
        line
        for line in dom.stderr.splitlines()
        if "CONSOLE" in line or "Uncaught" in line or "net::ERR" in line
    ]
    assert console == []  # no script or resource error
    page = dom.stdout
    expected = _expected(mlp_mlir)
    for table in ("summary", "nodes", "opcodes", "causes", "path", "bins"):
        assert f'<table id="{table}">' in page
    assert "<svg" in page and "critical path" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing from the network
    for row in expected.nodes:
        assert f"<td>{escape(row.name, quote=False)}</td>" in page
    shot = tmp_path / "report.png"
    picture = _headless(
        chromium, tmp_path / "chrome", f"--screenshot={shot}", "--window-size=1280,1600", url
    )
    assert picture.returncode == 0, picture.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1280  # rendered at the window's width
