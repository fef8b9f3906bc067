"""One fp32 GEMM call for the simulator's matmuls: `gemm_tn(st, mv, target, accumulate)`
computes `target = st.T @ mv`, or `target += st.T @ mv`, in place.

It calls the `cblas_sgemm` of the OpenBLAS that numpy itself links (found next to numpy,
as its wheels ship it) with `beta = 1` to accumulate and the target's row stride as `ldc`,
so that accumulating into a strided PSUM matrix needs neither a temporary product nor a
second pass over the target (20 % of a 128 x 128 x 512 GEMM's time on the VM we
measured). The sums are those numpy's `matmul` gets from the same library: one K block
(K <= 128 here) is summed in registers and then added to `target`, as `target += st.T @
mv` rounds them. Where that library is not found (another numpy build), or the arrays do
not fit the call (not fp32, not unit-stride rows), numpy's `matmul` computes it.
"""

from __future__ import annotations

import ctypes
import glob
import os
from collections.abc import Callable
from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_SYMBOLS = (("scipy_cblas_sgemm64_", ctypes.c_int64), ("scipy_cblas_sgemm", ctypes.c_int32))
"""`cblas_sgemm` as numpy's bundled OpenBLAS (scipy-openblas, 64- or 32-bit integers)
names it."""


def _find_sgemm() -> Callable[..., None] | None:
    root = os.path.dirname(np.__file__)
    candidates = glob.glob(os.path.join(root + ".libs", "*openblas*"))
    candidates += glob.glob(os.path.join(root, ".dylibs", "*openblas*"))
    for path in sorted(candidates):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name, integer in _SYMBOLS:
            function = getattr(lib, name, None)
            if function is None:
                continue
            f32, ptr = ctypes.c_float, ctypes.c_void_p
            function.argtypes = [integer] * 6 + [f32, ptr, integer, ptr, integer, f32, ptr, integer]
            function.restype = None
            return function
    return None


_SGEMM = None if os.environ.get("TRNC_CBLAS") == "0" else _find_sgemm()
"""numpy's `cblas_sgemm`, or None (`TRNC_CBLAS=0` forces numpy's `matmul`)."""


def _fits(a: Array) -> bool:
    return a.dtype == np.float32 and a.ndim == 2 and a.flags.c_contiguous


def gemm_tn(st: Array, mv: Array, target: Array, accumulate: bool) -> None:
    """`target (+)= st.T @ mv` in fp32: `st` [K, M], `mv` [K, N], `target` [M, N] (a
    writable fp32 view whose rows may be strided)."""
    (k, m), n = st.shape, mv.shape[1]
    row, col = target.strides
    if (
        _SGEMM is not None
        and _fits(st)
        and _fits(mv)
        and target.dtype == np.float32
        and col == 4
        and row % 4 == 0
        and row >= 4 * n
        and min(k, m, n) > 0
        and target.flags.writeable
    ):
        _SGEMM(
            _ROW_MAJOR,
            _TRANS,
            _NO_TRANS,
            m,
            n,
            k,
            1.0,
            st.ctypes.data,
            m,
            mv.ctypes.data,
            n,
            1.0 if accumulate else 0.0,
            target.ctypes.data,
            row // 4,
        )
    elif accumulate:
        target += st.T @ mv
    else:
        np.matmul(st.T, mv, out=target)
