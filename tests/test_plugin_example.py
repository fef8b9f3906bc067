"""The out-of-tree plug-in in `examples/plugin/` works as a user would use it.

1. Installed (into a throw-away directory, never into this environment), its
   `xdsl.universe` entry point makes `trn-opt` find its dialect and pass, and its own lit
   suite passes.
2. Not installed, `trn-opt --load-plugin` loads it from a module name or a file path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "examples" / "plugin"
BIN = Path(sys.executable).parent


def _env(pythonpath: Path) -> dict[str, str]:
    return dict(
        os.environ,
        PYTHONPATH=str(pythonpath),
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )


def _trn_opt(
    args: list[str], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "trn-opt"), *args], input=stdin, capture_output=True, text=True, env=env
    )


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("plugin-site")
    build = tmp_path_factory.mktemp("plugin-src")
    # Build from a copy so that no build/ or egg-info litter lands in the repository.
    subprocess.run(["cp", "-r", f"{PLUGIN}/.", str(build)], check=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(build),
        ],
        check=True,
    )
    return target


def test_installed_plugin_is_found_through_its_entry_point(installed_plugin: Path) -> None:
    listing = _trn_opt(["--list-passes"], _env(installed_plugin))
    assert listing.returncode == 0, listing.stderr
    assert "hswish-to-graph" in listing.stdout
    # Without the plug-in on the path, the pass is unknown.
    bare = _trn_opt(["-p", "hswish-to-graph"], _env(ROOT / "does-not-exist"), stdin="")
    assert bare.returncode == 1
    assert "unknown pass 'hswish-to-graph'" in bare.stderr


def test_installed_plugin_lit_suite_passes(installed_plugin: Path) -> None:
    completed = subprocess.run(
        [str(BIN / "lit"), "-v", str(PLUGIN / "tests")],
        capture_output=True,
        text=True,
        env=_env(installed_plugin),
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Passed" in completed.stdout and "Failed" not in completed.stdout


def test_load_plugin_by_module_name_without_installing() -> None:
    source = (PLUGIN / "tests" / "hswish-to-graph.mlir").read_text()
    result = _trn_opt(
        ["--load-plugin", "trnc_hswish.universe", "-p", "hswish-to-graph"],
        _env(PLUGIN),
        stdin=source,
    )
    assert result.returncode == 0, result.stderr
    assert "hswish.hard_swish" not in result.stdout
    assert "graph.hard_sigmoid" in result.stdout


def test_list_passes_shows_a_loaded_plugins_passes_under_their_own_heading() -> None:
    listing = _trn_opt(["--load-plugin", "trnc_hswish.universe", "--list-passes"], _env(PLUGIN))
    assert listing.returncode == 0, listing.stderr
    text = listing.stdout
    trnc_at, plugin_at = text.index("trnc passes"), text.index("Plug-in passes:")
    others_at = text.index("xDSL and other installed passes:")
    assert trnc_at < plugin_at < text.index("hswish-to-graph") < others_at


def test_load_plugin_by_file_path_registers_its_dialect(tmp_path: Path) -> None:
    ir = (
        "func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {\n"
        "  %y = hswish.hard_swish %x : tensor<4xf32>\n  return %y : tensor<4xf32>\n}\n"
    )
    env = _env(tmp_path)
    without = _trn_opt([], env, stdin=ir)
    assert without.returncode == 1 and "hswish.hard_swish is not registered" in without.stderr
    loaded = _trn_opt(["--load-plugin", str(PLUGIN / "trnc_hswish" / "dialect.py")], env, stdin=ir)
    assert loaded.returncode == 0, loaded.stderr
    assert "hswish.hard_swish %x : tensor<4xf32>" in loaded.stdout
