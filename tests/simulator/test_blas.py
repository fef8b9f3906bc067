"""`simulator.blas.gemm_tn`: numpy's own cblas_sgemm called in place gives the sums numpy's
matmul gives, into strided targets, set and accumulated."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from trnc.simulator import blas

BF16 = np.dtype(ml_dtypes.bfloat16)


def _operands(k: int, m: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    st = rng.standard_normal((k, m)).astype(BF16).astype(np.float32)
    mv = rng.standard_normal((k, n)).astype(BF16).astype(np.float32)
    return st, mv


def test_numpy_blas_is_found() -> None:
    # The wheels this project pins ship OpenBLAS next to numpy; without it the simulator
    # still runs (numpy's matmul), only slower.
    assert blas._SGEMM is not None


@pytest.mark.parametrize(("k", "m", "n"), [(128, 128, 512), (64, 32, 100), (1, 1, 1), (128, 7, 3)])
@pytest.mark.parametrize("accumulate", [False, True])
def test_matches_numpy_matmul_into_strided_rows(k: int, m: int, n: int, accumulate: bool) -> None:
    st, mv = _operands(k, m, n, seed=k + m + n)
    rows = np.random.default_rng(1).standard_normal((m, n + 40)).astype(np.float32)
    target = rows[:, 8 : 8 + n]  # strided rows, as a PSUM matrix is
    expected = rows.copy()
    if accumulate:
        expected[:, 8 : 8 + n] += st.T @ mv
    else:
        expected[:, 8 : 8 + n] = st.T @ mv
    blas.gemm_tn(st, mv, target, accumulate)
    np.testing.assert_array_equal(rows, expected)  # bit for bit, padding untouched


def test_arrays_that_do_not_fit_the_call_use_numpy() -> None:
    st, mv = _operands(16, 8, 12, seed=3)
    target = np.zeros((12, 8), np.float32).T  # column-major target: not unit-stride rows
    blas.gemm_tn(st, mv, target, accumulate=False)
    np.testing.assert_array_equal(target, st.T @ mv)
    mv_view = np.asfortranarray(mv)  # operands that are not C-contiguous
    target2 = np.ones((8, 12), np.float32)
    blas.gemm_tn(st, mv_view, target2, accumulate=True)
    np.testing.assert_array_equal(target2, 1 + st.T @ mv)


def test_without_the_library_numpy_computes_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    st, mv = _operands(128, 64, 96, seed=5)
    with_blas = np.full((64, 96), 2.0, np.float32)
    blas.gemm_tn(st, mv, with_blas, accumulate=True)
    monkeypatch.setattr(blas, "_SGEMM", None)
    without = np.full((64, 96), 2.0, np.float32)
    blas.gemm_tn(st, mv, without, accumulate=True)
    np.testing.assert_array_equal(with_blas, without)
