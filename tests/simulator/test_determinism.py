"""The simulator's determinism guarantee (docs/SIMULATOR.md, "Determinism"): the same
program and inputs give bit-identical outputs on every run, in one process or many,
whatever number of threads the BLAS library uses. Every matmul's arithmetic goes through
`semantics.matmul_f32`, whose sums depend on the operands' shapes alone (never on how
they lie in memory); it is checked against a float64 oracle within a stated tolerance,
never byte for byte against another BLAS call (whose kernel depends on the CPU)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from trnc.simulator import simulate
from trnc.simulator.program import Program, decode
from trnc.simulator.semantics import matmul_f32
from trnc.tools.context import parse_source

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "matmul_gelu.mlir"

_RUN = """
import hashlib, sys
import numpy as np
from trnc.simulator import simulate
from trnc.simulator.program import Program, decode
from trnc.tools.context import parse_source
path = sys.argv[1]
program = decode(parse_source(open(path).read(), path))
rng = np.random.default_rng(7)
inputs = {t.name: rng.standard_normal(t.shape).astype(t.np_dtype)
          for t in program.tensors if t.role in ("input", "weight")}
digest = hashlib.sha256()
for _ in range(3):
    outputs = simulate(program, inputs).outputs
    for name in sorted(outputs):
        digest.update(name.encode()); digest.update(outputs[name].tobytes())
print(digest.hexdigest())
"""


def _program_and_inputs(path: Path, seed: int) -> tuple[Program, dict[str, np.ndarray]]:
    program = decode(parse_source(path.read_text(), str(path)))
    rng = np.random.default_rng(seed)
    inputs = {
        t.name: rng.standard_normal(t.shape).astype(t.np_dtype)
        for t in program.tensors
        if t.role in ("input", "weight")
    }
    return program, inputs


def _digest_here(path: Path) -> str:
    program, inputs = _program_and_inputs(path, 7)
    digest = hashlib.sha256()
    for _ in range(3):
        outputs = simulate(program, inputs).outputs
        for name in sorted(outputs):
            digest.update(name.encode())
            digest.update(outputs[name].tobytes())
    return digest.hexdigest()


def test_six_runs_in_one_process_are_identical() -> None:
    program, inputs = _program_and_inputs(EXAMPLE, 0)
    first = simulate(program, inputs).outputs
    assert first
    for _ in range(5):
        again = simulate(program, inputs).outputs
        assert again.keys() == first.keys()
        for name, array in first.items():
            assert again[name].tobytes() == array.tobytes(), name


@pytest.mark.parametrize("threads", [None, "1", "2"])
def test_other_processes_and_thread_counts_give_the_same_bytes(threads: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if threads is not None:
        env["OPENBLAS_NUM_THREADS"] = threads
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(EXAMPLE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == _digest_here(EXAMPLE)


SHAPES = [(128, 128, 512), (64, 32, 100), (1, 1, 1), (128, 7, 3), (5, 1, 9), (3, 8, 1)]


@pytest.mark.parametrize(("k", "m", "n"), SHAPES)
def test_the_gemm_depends_on_shapes_not_on_layout(k: int, m: int, n: int) -> None:
    """Operands as strided, transposed or bf16 views give the bytes of contiguous fp32
    copies: the sums' order cannot depend on where the operands lie in memory."""
    rng = np.random.default_rng(k * 1000 + m * 10 + n)
    st = rng.standard_normal((k, m)).astype(np.float32)
    mv = rng.standard_normal((k, n)).astype(np.float32)
    reference = matmul_f32(st.copy(), mv.copy())
    wide = np.zeros((k, 2 * m + 3), np.float32)
    wide[:, 1 : 2 * m + 1 : 2] = st
    strided = wide[:, 1 : 2 * m + 1 : 2]
    transposed = np.ascontiguousarray(mv.T).T
    assert matmul_f32(strided, transposed).tobytes() == reference.tobytes()
    half = st.astype(ml_dtypes.bfloat16)
    assert matmul_f32(half, mv).tobytes() == matmul_f32(half.astype(np.float32), mv).tobytes()


@pytest.mark.parametrize(("k", "m", "n"), SHAPES)
def test_the_gemm_against_a_float64_oracle(k: int, m: int, n: int) -> None:
    """fp32 sums of k products: within k ulps of the float64 result (a bound that holds
    for any summation order)."""
    rng = np.random.default_rng(k + m + n)
    st = rng.standard_normal((k, m)).astype(np.float32)
    mv = rng.standard_normal((k, n)).astype(np.float32)
    got = matmul_f32(st, mv).astype(np.float64)
    exact = st.astype(np.float64).T @ mv.astype(np.float64)
    scale = np.abs(st.astype(np.float64)).T @ np.abs(mv.astype(np.float64))
    assert np.all(np.abs(got - exact) <= k * 2.0**-23 * scale + 1e-30)
