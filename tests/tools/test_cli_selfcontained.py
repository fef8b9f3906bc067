"""A compiled program is self-contained where the user puts it: `-o model.mlir` writes
`model.weights` beside it (named relative to it, so the pair moves together), IR printed
to stdout carries its weights inline (no temp-dir path, no file left in the cwd),
`CompiledModel.save` / `trnc.load` round-trip, and missing or short weights are errors
naming the file (never a run on made-up weights)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import call, tool, weighted_model

import trnc
from trnc.compiler import CompileError
from trnc.tools import trn_compile, trn_run

X = np.random.default_rng(1).standard_normal((200,)).astype(np.float32)


def _run_isa(mlir: Path, tmp: Path) -> np.ndarray:
    np.savez(tmp / "in.npz", x=X)
    code, _, err = call(trn_run.main, mlir, "--inputs", tmp / "in.npz", "--output-dir", tmp / "o")
    assert code == 0, err
    return np.load(tmp / "o" / "y.npy")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return weighted_model(tmp_path_factory.mktemp("model") / "w.onnx")


@pytest.fixture(scope="module")
def expected(model_path: Path) -> np.ndarray:
    return trnc.compile(str(model_path)).run({"x": X})["y"]


def test_output_file_and_weights_move_together(
    model_path: Path, expected: np.ndarray, tmp_path: Path
) -> None:
    first = tmp_path / "first"
    first.mkdir()
    code, _, err = call(trn_compile.main, model_path, "-o", first / "model.mlir")
    assert code == 0, err
    text = (first / "model.mlir").read_text()
    assert 'tile.weight_file = "model.weights"' in text
    assert "trnc-compile-" not in text
    moved = tmp_path / "elsewhere" / "deeper"
    shutil.move(str(first), str(moved))
    np.testing.assert_array_equal(_run_isa(moved / "model.mlir", tmp_path), expected)


def test_stdout_ir_is_self_contained(
    model_path: Path, expected: np.ndarray, tmp_path: Path
) -> None:
    result = tool("trn-compile", model_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing scattered in the cwd
    assert "weight_file" not in result.stdout and "trnc-compile-" not in result.stdout
    saved = tmp_path / "sub" / "stdout.mlir"
    saved.parent.mkdir()
    saved.write_text(result.stdout)
    np.testing.assert_array_equal(_run_isa(saved, tmp_path), expected)


@pytest.mark.parametrize("level", ["graph", "tile"])
def test_other_levels_are_self_contained(model_path: Path, level: str, tmp_path: Path) -> None:
    code, out, err = call(trn_compile.main, model_path, "--emit", level)
    assert code == 0, err
    assert "trnc-compile-" not in out and "weight_file" not in out and "graph.weight" not in out
    code, _, err = call(trn_compile.main, model_path, "--emit", level, "-o", tmp_path / "l.mlir")
    assert code == 0, err
    text = (tmp_path / "l.mlir").read_text()
    assert "trnc-compile-" not in text and "l.weights" in text
    assert (tmp_path / "l.weights").stat().st_size >= 2 * 200 * 4


def test_graph_levels_give_the_same_answer(
    model_path: Path, expected: np.ndarray, tmp_path: Path
) -> None:
    np.savez(tmp_path / "in.npz", x=X)
    for name, extra in (("inline", []), ("file", ["-o", tmp_path / "g.mlir"])):
        code, out, err = call(trn_compile.main, model_path, "--emit", "graph", *extra)
        assert code == 0, err
        mlir = tmp_path / "g.mlir"
        if name == "inline":
            mlir.write_text(out)
        code, _, err = call(
            trn_run.main, mlir, "--inputs", tmp_path / "in.npz", "--output-dir", tmp_path / name
        )
        assert code == 0, err
        np.testing.assert_allclose(np.load(tmp_path / name / "y.npy"), expected, rtol=1e-6)


def test_trn_opt_onnx_on_stdout_leaves_no_file(model_path: Path, tmp_path: Path) -> None:
    for pipeline in ([], ["-p", "graph-to-isa{dtype=fp32}"]):
        result = tool("trn-opt", model_path, *pipeline, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert list(tmp_path.iterdir()) == []
        assert "w.weights" not in result.stdout and "trn-opt-" not in result.stdout
        (tmp_path / "out.mlir").write_text(result.stdout)
        np.savez(tmp_path / "in.npz", x=X)
        run = tool("trn-run", tmp_path / "out.mlir", "--inputs", tmp_path / "in.npz")
        assert run.returncode == 0, run.stderr
        for leftover in tmp_path.iterdir():
            leftover.unlink()


def test_save_and_load(model_path: Path, expected: np.ndarray, tmp_path: Path) -> None:
    model = trnc.compile(str(model_path))
    (tmp_path / "a").mkdir()
    weights = model.save(tmp_path / "a" / "m.mlir")
    assert weights == tmp_path / "a" / "m.weights" and weights.exists()
    shutil.move(str(tmp_path / "a"), str(tmp_path / "b"))
    loaded = trnc.load(tmp_path / "b" / "m.mlir")
    assert loaded.input_names == ["x"] and loaded.output_names == ["y"]
    np.testing.assert_array_equal(loaded.run({"x": X})["y"], expected)
    with pytest.raises(CompileError, match="no graph level"):
        loaded.ir("graph")
    (tmp_path / "b" / "m.weights").unlink()
    with pytest.raises(CompileError, match=r"cannot read weights file '.*m\.weights'"):
        trnc.load(tmp_path / "b" / "m.mlir")


def test_a_failed_save_in_place_keeps_the_old_weights(
    model_path: Path, expected: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-saving a loaded program over itself when the disk fills up: an error naming the
    file, and the weights it had are still there (written to a side file, then renamed)."""
    trnc.compile(str(model_path)).save(tmp_path / "m.mlir")
    before = (tmp_path / "m.weights").read_bytes()
    loaded = trnc.load(tmp_path / "m.mlir")
    from trnc.frontend.onnx.weights import WeightsWriter

    original = WeightsWriter.add

    def full(self: WeightsWriter, name: str, array: np.ndarray) -> tuple[str, int]:
        original(self, name, array.reshape(-1)[: array.size // 2])  # half of it fits
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(WeightsWriter, "add", full)
    with pytest.raises(CompileError, match=r"cannot write weights file '.*m\.weights'"):
        loaded.save(tmp_path / "m.mlir")
    assert (tmp_path / "m.weights").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.mlir", "m.weights"]
    np.testing.assert_array_equal(trnc.load(tmp_path / "m.mlir").run({"x": X})["y"], expected)


@pytest.mark.parametrize("damage", ["missing", "short", "directory"])
def test_missing_or_short_weights_are_an_error(
    model_path: Path, damage: str, tmp_path: Path
) -> None:
    code, _, err = call(trn_compile.main, model_path, "-o", tmp_path / "m.mlir")
    assert code == 0, err
    weights = tmp_path / "m.weights"
    if damage == "missing":
        weights.unlink()
    elif damage == "short":
        weights.write_bytes(weights.read_bytes()[:900])
    else:
        weights.unlink()
        weights.mkdir()
    np.savez(tmp_path / "in.npz", x=X)
    code, out, err = call(trn_run.main, tmp_path / "m.mlir", "--inputs", tmp_path / "in.npz")
    assert code == 1
    assert out == ""
    assert err.startswith("trn-run: error: weight '") and "m.weights" in err, err
    assert err.count("\n") == 1


def test_legacy_npz_weights_file_missing_is_an_error(tmp_path: Path) -> None:
    program = tmp_path / "p.mlir"
    program.write_text(
        'trn_isa.program @p weights "gone.npz" {\n'
        "  trn_isa.hbm_tensor @w : tensor<4xf32> at 0 role weight\n"
        "}\n"
    )
    code, _, err = call(trn_run.main, program)
    assert code == 1
    assert "gone.npz" in err and "Traceback" not in err
