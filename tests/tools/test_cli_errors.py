"""Every bad input to trn-compile / trn-run / trn-opt is one clear line and exit code 1,
never a traceback or a silently wrong answer: inputs (missing, wrong dtype, shape, rank,
out-of-range integers, strings), empty tensors, output paths checked before any work,
a closed stdout, failing plug-ins, --check's NaN and onnxruntime refusals, and programs
too large to simulate on data."""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
from cli_helpers import BIN, EXAMPLES, call, cast_model, weighted_model

from trnc.tools import trn_compile, trn_opt, trn_run

MLP = EXAMPLES / "mlp.onnx"
GELU = EXAMPLES / "matmul_gelu.mlir"


def _one_error(err: str, *needles: str) -> None:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith(("usage:", "   "))]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], err


# ---------------------------------------------------------------------------- inputs


def test_missing_inputs_are_named_unless_random_inputs(tmp_path: Path) -> None:
    code, out, err = call(trn_compile.main, MLP, "--input-shape", "x=8x64", "--run")
    assert code == 1 and out == ""
    _one_error(err, "no data for input 'x'", "--random-inputs")
    code, out, err = call(trn_run.main, GELU)
    assert code == 1 and out == ""
    _one_error(err, "no data for inputs 'x', 'w'", "--random-inputs")
    code, out, _ = call(trn_run.main, GELU, "--random-inputs")
    assert code == 0 and "filled with seeded random data (seed 0): x, w" in out


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((8, 64)), "input 'x' has dtype float64, the model expects float32"),
        (np.zeros((8, 64), np.int32), "input 'x' has dtype int32, the model expects float32"),
        (np.zeros((8, 65), np.float32), "input 'x' has shape (8, 65), the model expects (8, 64)"),
        (np.zeros((8, 64, 1), np.float32), "has shape (8, 64, 1), the model expects (8, 64)"),
        (np.array([["a"] * 64] * 8), "input 'x' has dtype <U1, the model expects float32"),
    ],
)
def test_bad_input_arrays(array: np.ndarray, message: str, tmp_path: Path) -> None:
    np.savez(tmp_path / "in.npz", x=array)
    code, out, err = call(
        trn_compile.main, MLP, "--input-shape", "x=8x64", "--run", "--inputs", tmp_path / "in.npz"
    )
    assert code == 1 and out == ""
    _one_error(err, message)


def test_integer_inputs(tmp_path: Path) -> None:
    model = cast_model(tmp_path / "cast.onnx")
    np.savez(tmp_path / "i32.npz", ids=np.arange(4, dtype=np.int32))
    code, _, err = call(trn_compile.main, model, "--run", "--inputs", tmp_path / "i32.npz")
    assert code == 1
    _one_error(err, "input 'ids' has dtype int32, the model expects int64")
    np.savez(tmp_path / "big.npz", ids=np.array([1, 2, 3, 2**25], np.int64))
    code, _, err = call(trn_compile.main, model, "--run", "--inputs", tmp_path / "big.npz")
    assert code == 1
    _one_error(err, "input 'ids' holds integers in [1, 33554432]")
    np.savez(tmp_path / "ok.npz", ids=np.array([1, 2, 3, 2**24], np.int64))
    code, out, err = call(trn_compile.main, model, "--check", "--inputs", tmp_path / "ok.npz")
    assert code == 0, err
    assert "y  " in out and " ok" in out


@pytest.mark.parametrize("content", [b"", b"not an npz at all", b"PK\x03\x04broken zip"])
def test_unreadable_npz(content: bytes, tmp_path: Path) -> None:
    (tmp_path / "bad.npz").write_bytes(content)
    for main, argv in (
        (trn_compile.main, [MLP, "--input-shape", "x=8x64", "--run"]),
        (trn_run.main, [GELU]),
    ):
        code, out, err = call(main, *argv, "--inputs", tmp_path / "bad.npz")
        assert code == 1 and out == ""
        _one_error(err, "cannot read '", "bad.npz")


def test_empty_tensors_run_and_summarise() -> None:
    code, out, err = call(
        trn_compile.main, MLP, "--input-shape", "x=0x64", "--run", "--random-inputs"
    )
    assert code == 0, err
    assert "output y: shape (0, 10) float32: no elements" in out


# ---------------------------------------------------------------------- output paths


@pytest.mark.parametrize("flag", ["--report", "--trace", "--output-dir"])
def test_trn_run_output_paths_checked_first(flag: str, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "r.json" if flag != "--output-dir" else tmp_path / "f" / "d"
    if flag == "--output-dir":
        (tmp_path / "f").write_text("a file, not a directory")
    code, out, err = call(trn_run.main, GELU, "--random-inputs", flag, target)
    assert code == 1
    assert out == ""  # refused before the run, not after it
    _one_error(err, f"trn-run: error: {flag} '{target}'")


@pytest.mark.parametrize("flag", ["-o", "--trace", "--report"])
def test_trn_compile_output_paths_checked_first(
    flag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trnc

    def no_compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled before checking the output path")

    monkeypatch.setattr(trnc, "compile", no_compile)
    target = tmp_path / "missing" / "out.json"
    code, out, err = call(trn_compile.main, MLP, "--input-shape", "x=8x64", "--run", flag, target)
    assert code == 1 and out == ""
    _one_error(err, f"trn-compile: error: {flag} '{target}'", "does not exist")


def test_output_path_that_is_a_directory(tmp_path: Path) -> None:
    code, _, err = call(trn_run.main, GELU, "--random-inputs", "--report", tmp_path)
    assert code == 1
    _one_error(err, "is a directory")


# ----------------------------------------------------------------- pipes and plug-ins


@pytest.mark.parametrize(
    "argv",
    [
        ["trn-run", GELU, "--timing-only"],
        ["trn-compile", MLP, "--input-shape", "x=8x64"],
        ["trn-opt", GELU],
    ],
)
def test_closed_stdout_exits_quietly(argv: list[object]) -> None:
    process = subprocess.Popen(
        [str(BIN / str(argv[0])), *map(str, argv[1:])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `| head -0`: the first write hits a closed pipe
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0
    assert err == ""


def test_plugin_whose_lazy_import_fails(tmp_path: Path) -> None:
    plugin = tmp_path / "universe.py"
    plugin.write_text(
        "from xdsl.universe import Universe\n"
        "def _dialect():\n"
        "    import no_such_module_for_trnc_tests\n"
        "def _pass():\n"
        "    import no_such_pass_module_for_trnc_tests\n"
        "U = Universe(all_dialects={'zz': _dialect}, all_passes={'zz-pass': _pass})\n"
    )
    source = tmp_path / "in.mlir"
    source.write_text('"zz.op"() : () -> ()\n')
    code, out, err = call(trn_opt.main, "--load-plugin", plugin, source)
    assert code == 1 and out == ""
    _one_error(err, f"plugin '{plugin}'", "dialect 'zz'", "No module named")
    assert "internal error" not in err
    code, _, err = call(trn_opt.main, "--load-plugin", plugin, GELU, "-p", "zz-pass")
    assert code == 1
    _one_error(err, f"plugin '{plugin}'", "pass 'zz-pass'", "No module named")
    plugin.write_text("import sys\nsys.exit(3)\n")
    code, _, err = call(trn_opt.main, "--load-plugin", plugin, GELU)
    assert code == 1
    _one_error(err, f"cannot load plugin '{plugin}'", "SystemExit")


# ----------------------------------------------------------------------------- check


def test_check_says_nan_plainly() -> None:
    ref = np.array([1.0, 2.0, 3.0], np.float32)
    passed, line = trn_compile._compare("y", np.array([1.0, np.nan, 3.0]), ref, 1e-4)
    assert not passed
    assert "1 of 3 values are NaN where onnxruntime's are finite (first at index (1,))" in line
    passed, line = trn_compile._compare("y", np.array([np.inf, 2.0, 3.0]), ref, 1e-4)
    assert not passed and "values are inf where onnxruntime's are finite" in line
    passed, line = trn_compile._compare("y", ref, ref, 1e-4)
    assert passed and line.rstrip().endswith("ok")
    both = np.array([np.nan, 2.0], np.float32)
    assert trn_compile._compare("y", both, both, 1e-4)[0]


def _bad_for_onnxruntime(tmp_path: Path, how: str) -> Path:
    model = onnx.load(str(weighted_model(tmp_path / "w.onnx")))
    if how == "opset 99":
        model.opset_import[0].version = 99
    elif how == "ir_version 99":
        model.ir_version = 99
    else:
        for node in model.graph.node:
            node.name = "same"
    path = tmp_path / "bad.onnx"
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("how", ["opset 99", "ir_version 99", "duplicate node names"])
def test_onnxruntime_refusal_is_reported(how: str, tmp_path: Path) -> None:
    path = _bad_for_onnxruntime(tmp_path, how)
    with pytest.raises(trn_compile._Fail, match="onnxruntime refused the model: "):
        trn_compile._onnxruntime_session(str(path))
    code, _, err = call(trn_compile.main, path, "--check", "--random-inputs")
    assert code == 1
    assert "Traceback" not in err and "internal error" not in err
    # Whoever refuses first (trnc's importer or onnxruntime) says why, one located
    # line per problem (the importer names each duplicated node).
    lines = err.splitlines()
    assert lines and all(f"{path}: error: " in line for line in lines), err


# ------------------------------------------------------------------- host memory


_AP_IN = "src #trn_isa.ap<hbm + 0, [[131072, 128], [1, 128]], f32>"
_AP_OUT = "dst #trn_isa.ap<hbm + 8589934592, [[128, 128], [1, 128]], f32>"
_SB = "#trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f32>"
BIG = f"""trn_isa.program @big {{
  trn_isa.hbm_tensor @x : tensor<16384x131072xf32> at 0 role input
  trn_isa.hbm_tensor @y : tensor<128x128xf32> at 8589934592 role output
  trn_isa.dma_copy dst {_SB}, {_AP_IN} on dma0 signal [dma0.s0]
  trn_isa.dma_copy {_AP_OUT}, src {_SB} on dma1 wait [dma0.s0 >= 1] signal [dma1.s0]
}}
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


def test_8_gib_tensor(tmp_path: Path) -> None:
    program = tmp_path / "big.mlir"
    program.write_text(BIG)
    code, out, err = call(trn_run.main, program, "--random-inputs")
    assert code == 1 and out == ""
    _one_error(err, "uses 8.00 GiB of HBM", "largest tensor 'x': 8.00 GiB", "--timing-only")
    # --timing-only allocates none of it: it runs within 3 GiB of address space.
    result = subprocess.run(
        [str(BIN / "trn-run"), str(program), "--timing-only"],
        capture_output=True,
        text=True,
        preexec_fn=_limit_memory,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "program big: 2 instructions (timing only)" in result.stdout
