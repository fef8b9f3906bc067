"""Helpers of the command-line tests (`tests/tools/`): tiny ONNX models and the tools
run in-process (`main(argv)`, exit code and captured streams) or as processes."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent


def weighted_model(path: Path) -> Path:
    """y = relu(x + w) + z, all f32 [200]: w and z are weights (stored externally by the
    importer, too large for a dense list), ONNX opset 17."""
    rng = np.random.default_rng(7)
    w = rng.standard_normal((200,)).astype(np.float32)
    z = rng.standard_normal((200,)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["x", "w"], ["s"], name="add"),
            helper.make_node("Relu", ["s"], ["r"], name="relu"),
            helper.make_node("Add", ["r", "z"], ["y"], name="add2"),
        ],
        "weighted",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [200])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [200])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(z, "z")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def cast_model(path: Path) -> Path:
    """y = float(ids) + 1, ids int64 [4]."""
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["ids"], ["f"], to=TensorProto.FLOAT, name="cast"),
            helper.make_node("Add", ["f", "one"], ["y"], name="add"),
        ],
        "cast",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])],
        [numpy_helper.from_array(np.array([1.0], np.float32), "one")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def call(main: Callable[[Sequence[str]], int], *argv: object) -> tuple[int, str, str]:
    """Run a tool's `main` in-process: (exit code, stdout, stderr); argparse's exits too."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def tool(
    name: str, *argv: object, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run an installed tool as a process."""
    return subprocess.run(
        [str(BIN / name), *map(str, argv)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )
