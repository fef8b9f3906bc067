"""A seeded fuzz test of bad command lines for trn-compile, trn-run and trn-opt: random
combinations of bad flags, missing or malformed files, bad `--input-shape` specs, bad
.npz/.npy inputs and unwritable output paths (under a regular file, so unwritable even
for root). Every case must end with exit code 0, 1 or 2 (argparse usage), no traceback
text on stderr, a message on stderr when it fails, and within its time limit. Bounded:
`CASES` cases, in-process, each under `LIMIT` seconds (~10 s in all)."""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

import numpy as np
import pytest
from cli_helpers import EXAMPLES, call, weighted_model

from trnc.tools import trn_compile, trn_opt, trn_run

CASES = 150
LIMIT = 20
SEED = 12


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _Hang


def _files(tmp: Path) -> dict[str, Path]:
    """Good and bad files the cases pick from."""
    files = {
        "onnx": weighted_model(tmp / "w.onnx"),
        "mlp": EXAMPLES / "mlp.onnx",
        "isa": EXAMPLES / "matmul_gelu.mlir",
        "missing": tmp / "missing.onnx",
        "dir": tmp,
        "empty": tmp / "empty.mlir",
        "garbage": tmp / "garbage.onnx",
        "binary": tmp / "binary.mlir",
        "graph": tmp / "graph.mlir",
    }
    files["empty"].write_text("")
    files["garbage"].write_bytes(b"\x08\x07garbage" * 50)
    files["binary"].write_bytes(bytes(range(256)))
    files["graph"].write_text(
        'func.func @main(%x: tensor<200xf32> {graph.name = "x"}) -> tensor<200xf32> {\n'
        "  %0 = graph.relu %x : tensor<200xf32>\n  return %0 : tensor<200xf32>\n}\n"
    )
    arrays = {
        "good.npz": {"x": np.zeros(200, np.float32)},
        "f64.npz": {"x": np.zeros(200)},
        "rank.npz": {"x": np.zeros((2, 100), np.float32)},
        "name.npz": {"nope": np.zeros(200, np.float32)},
        "strings.npz": {"x": np.array(["s"] * 200)},
        "huge.npz": {"x": np.full(200, 1e30, np.float32)},
    }
    for name, data in arrays.items():
        np.savez(tmp / name, **data)  # type: ignore[arg-type]
        files[name] = tmp / name
    np.save(tmp / "x.npy", np.zeros(200, np.float32))
    files["x.npy"] = tmp / "x.npy"
    np.save(tmp / "obj.npy", np.array([object()], dtype=object), allow_pickle=True)
    files["obj.npy"] = tmp / "obj.npy"
    (tmp / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    files["bad.npz"] = tmp / "bad.npz"
    return files


SHAPES = ["x=", "x=-1", "x=2x", "=4", "x=99999999999x64", "x=2147483648", "x=200", "x=8x64",
          "x=0x64", "x=1e3", "x=2,,3", "y=200", "x=200x", "x==200", ""]  # fmt: skip
BAD_FLAGS = [["--dtype", "fp16"], ["--emit", "llvm"], ["--seed", "abc"], ["--bogus"],
             ["-p", "no-such-pass"], ["--pass-pipeline", "builtin.module("], ["--seed"],
             ["--input", "x="], ["--input", "=f"], ["--inputs"], ["-o"]]  # fmt: skip


def _case(rng: random.Random, files: dict[str, Path], tmp: Path) -> list[str]:
    """One random command line: [tool, args...]."""
    name = rng.choice(["trn-compile", "trn-run", "trn-opt"])
    sources = {
        "trn-compile": ["onnx", "onnx", "mlp", "missing", "dir", "garbage", "isa", "empty"],
        "trn-run": ["isa", "isa", "graph", "missing", "dir", "empty", "binary", "garbage"],
        "trn-opt": ["onnx", "isa", "graph", "missing", "dir", "binary", "garbage", "empty"],
    }[name]
    argv = [name, str(files[rng.choice(sources)])]
    for _ in range(rng.randint(0, 4)):
        kind = rng.randrange(6)
        if kind == 0 and name != "trn-run":
            argv += ["--input-shape", rng.choice(SHAPES)]
        elif kind == 1 and name != "trn-opt":
            npz = rng.choice(["good.npz", "f64.npz", "rank.npz", "name.npz", "strings.npz",
                              "huge.npz", "bad.npz", "missing", "x.npy", "dir"])  # fmt: skip
            argv += ["--inputs", str(files[npz])]
        elif kind == 2 and name == "trn-run":
            npy = rng.choice(["x.npy", "obj.npy", "good.npz", "missing", "bad.npz"])
            argv += ["--input", f"x={files[npy]}"]
        elif kind == 3:
            flag = {"trn-compile": ["-o", "--report", "--trace"],
                    "trn-run": ["--report", "--trace", "--output-dir"],
                    "trn-opt": ["-o"]}[name]  # fmt: skip
            where = rng.choice([str(files["graph"]) + "/sub/f.json", str(tmp),
                                str(tmp / "out.json"), str(files["graph"]) + "/sub"])  # fmt: skip
            argv += [rng.choice(flag), where]
        elif kind == 4:
            argv += rng.choice(BAD_FLAGS)
        else:
            options = {"trn-compile": ["--run", "--check", "--random-inputs", "--dtype=fp32"],
                       "trn-run": ["--timing-only", "--random-inputs", "--strict-uninitialized"],
                       "trn-opt": ["--verify-diagnostics", "--split-input-file"]}[name]  # fmt: skip
            argv.append(rng.choice(options))
    return argv


MAINS: dict[str, Callable[[Sequence[str]], int]] = {
    "trn-compile": trn_compile.main,
    "trn-run": trn_run.main,
    "trn-opt": trn_opt.main,
}


def test_bad_command_lines(tmp_path: Path) -> None:
    files = _files(tmp_path)
    rng = random.Random(SEED)
    previous = signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    try:
        for index in range(CASES):
            argv = _case(rng, files, tmp_path)
            signal.alarm(LIMIT)
            try:
                code, _, err = call(MAINS[argv[0]], *argv[1:])
            except _Hang:
                pytest.fail(f"case {index} ran over {LIMIT} s: {' '.join(argv)}")
            finally:
                signal.alarm(0)
            context = f"case {index}: {' '.join(argv)}\n{err}"
            assert code in (0, 1, 2), context
            assert "Traceback" not in err, context
            assert code == 0 or err.strip(), context
            assert "internal error" not in err, context
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert time.perf_counter() - start < CASES * LIMIT
