"""Progress and verbosity of trn-compile and trn-run (`tools/progress.py`): a status line
only on a terminal (a stub stream whose `isatty` is true, or a real pseudo-terminal),
never into a pipe or captured output, and not for tiny programs (no `tqdm` import); `-q`
silences it; `-v` prints one line per pass (or step) with its wall time, on a terminal or
not."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import BIN, EXAMPLES, call

from trnc.tools import progress as progress_module
from trnc.tools import trn_compile, trn_run
from trnc.tools.progress import Progress

MLP = EXAMPLES / "mlp.onnx"
GELU = EXAMPLES / "matmul_gelu.mlir"


class _Terminal(io.StringIO):
    """A captured stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _stages() -> list[str]:
    from trnc.lowering.graph_to_isa import pipeline
    from trnc.passes.graph_fold_weights import GraphFoldWeightsPass

    return [stage.name for stage in pipeline("bf16", fold=GraphFoldWeightsPass())]


def _wait_shown(progress: Progress) -> None:
    deadline = time.monotonic() + 5
    while not progress.shown and time.monotonic() < deadline:
        time.sleep(0.01)
    assert progress.shown


# ------------------------------------------------------------------------ the display


def test_a_terminal_shows_the_current_pass_and_clears_it() -> None:
    stream = _Terminal()
    with Progress(stream=stream, delay=0) as progress:
        progress.update("pass 3/14 graph-fuse-activations", 2, 14)
        _wait_shown(progress)
        progress.update("pass 7/14 graph-to-tile", 6, 14)
    text = stream.getvalue()
    assert "pass 7/14 graph-to-tile" in text
    assert not progress.shown  # closed: the line is cleared (tqdm's leave=False)


def test_no_terminal_no_display_and_no_thread() -> None:
    stream = io.StringIO()
    with Progress(stream=stream, delay=0) as progress:
        progress.update("pass 1/2 a", 0, 2)
        assert not progress.interactive
        time.sleep(2 * progress_module.INTERVAL)
        assert not progress.shown
    assert stream.getvalue() == ""


def test_quiet_silences_the_display_and_the_lines() -> None:
    stream = _Terminal()
    with Progress(-1, stream=stream, delay=0) as progress:
        progress.update("pass 1/2 a", 0, 2)
        progress.line("trn-compile: pass 1/2 a: 0.001 s")
        assert not progress.interactive
    assert stream.getvalue() == ""


def test_verbose_lines_print_also_without_a_terminal() -> None:
    stream = io.StringIO()
    with Progress(1, stream=stream) as progress:
        progress.line("one")
        progress.line("two")
    assert stream.getvalue() == "one\ntwo\n"


def test_work_shorter_than_the_delay_shows_nothing() -> None:
    stream = _Terminal()
    with Progress(stream=stream, delay=30) as progress:
        progress.update("pass 1/2 a", 0, 2)
    assert not progress.shown and stream.getvalue() == ""


# ------------------------------------------------------------------------ the tools


def _pass_lines(err: str) -> list[tuple[int, int, str]]:
    found = re.findall(r"^trn-compile: pass (\d+)/(\d+) (\S+): \d+\.\d+ s$", err, re.M)
    return [(int(i), int(n), name) for i, n, name in found]


def test_trn_compile_verbose_prints_one_line_per_pass(tmp_path: Path) -> None:
    out = tmp_path / "mlp.mlir"
    code, _, err = call(trn_compile.main, MLP, "--input-shape", "x=8x64", "-v", "-o", out)
    assert code == 0, err
    stages = _stages()
    lines = _pass_lines(err)
    assert [name for _, _, name in lines] == stages
    assert [(i, n) for i, n, _ in lines] == [(i + 1, len(stages)) for i in range(len(stages))]
    assert re.search(r"^trn-compile: import .*mlp\.onnx: \d+\.\d+ s$", err, re.M)
    assert re.search(r"^trn-compile: compiled .* in \d+\.\d+ s \(\d+ instructions\)$", err, re.M)


@pytest.mark.parametrize("flag", [[], ["-q"]], ids=["default", "quiet"])
def test_trn_compile_prints_nothing_on_stderr_without_verbose(
    flag: list[str], tmp_path: Path
) -> None:
    code, out, err = call(
        trn_compile.main, MLP, "--input-shape", "x=8x64", "--run", "--random-inputs", *flag
    )
    assert code == 0 and "output" in out
    assert err == ""


def test_quiet_and_verbose_exclude_each_other() -> None:
    code, _, err = call(trn_compile.main, MLP, "-q", "-v")
    assert code == 1 and "not allowed with argument" in err


def test_trn_run_verbose_prints_one_line_per_step_and_quiet_nothing() -> None:
    code, out, err = call(trn_run.main, GELU, "--random-inputs", "-v")
    assert code == 0 and "simulated time" in out
    steps = re.findall(r"^trn-run: (.+): \d+\.\d+ s$", err, re.M)
    assert [s.split()[0] for s in steps] == ["parse", "verify", "decode", "simulate"]
    assert all(line.startswith("trn-run: ") for line in err.splitlines())
    code, _, err = call(trn_run.main, GELU, "--random-inputs", "-q")
    assert code == 0 and err == ""


def test_trn_run_shows_the_simulation_only_past_the_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With stderr said to be a terminal (the `isatty` stub), a program under
    `SIMULATION_THRESHOLD` instructions shows nothing; lowering the threshold below its
    size shows `simulate N instructions`."""
    monkeypatch.setattr(progress_module, "is_terminal", lambda stream: True)
    monkeypatch.setenv("TRNC_PROGRESS_DELAY", "0")
    code, _, err = call(trn_run.main, GELU, "--random-inputs")
    assert code == 0 and err == ""
    monkeypatch.setattr(trn_run, "SIMULATION_THRESHOLD", 1)
    code, _, err = call(trn_run.main, GELU, "--random-inputs")
    assert code == 0
    assert re.search(r"simulate \d+ instructions", err)


# ------------------------------------------------------------------------ a real terminal


def _on_a_terminal(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run `argv` with stderr on a pseudo-terminal (stdout to /dev/null): (exit code,
    what the terminal received)."""
    master, slave = pty.openpty()
    with open(os.devnull, "w") as devnull:
        process = subprocess.Popen(
            argv, stdout=devnull, stderr=slave, stdin=subprocess.DEVNULL, env=env, cwd=cwd
        )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return process.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def test_a_pseudo_terminal_shows_the_passes_and_quiet_hides_them(tmp_path: Path) -> None:
    env = {**os.environ, "TRNC_PROGRESS_DELAY": "0"}
    argv = [str(BIN / "trn-compile"), str(MLP), "--input-shape", "x=8x64", "-o", "m.mlir"]
    code, shown = _on_a_terminal(argv, env, tmp_path)
    assert code == 0, shown
    assert re.search(rf"pass \d+/{len(_stages())} \S+", shown), shown
    code, shown = _on_a_terminal([*argv, "-q"], env, tmp_path)
    assert code == 0 and shown == ""


def test_a_tiny_run_on_a_terminal_does_not_import_tqdm(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from trnc.tools import trn_run\n"
        f"code = trn_run.main([{str(GELU)!r}, '--random-inputs'])\n"
        "print('tqdm imported:', 'tqdm' in sys.modules, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TRNC_PROGRESS_DELAY"}
    code, shown = _on_a_terminal([sys.executable, "-c", script], env, tmp_path)
    assert code == 0, shown
    assert shown.strip() == "tqdm imported: False"
