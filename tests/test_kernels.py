"""The A.6 matmul kernel generators (`benchmarks/kernels.py`) at a small size: each program
verifies, has the instruction counts its loop structure implies, stays within the SBUF and
PSUM budgets, schedules without deadlock, is race-free, and computes A_T^T @ B."""

from __future__ import annotations

from collections import Counter
from typing import Any

import ml_dtypes
import numpy as np
import pytest
from load_by_path import ROOT, load_by_path
from xdsl.dialects.builtin import ModuleOp

from trnc.machine import TRN1
from trnc.simulator.program import Program, decode

K = load_by_path(ROOT / "benchmarks" / "kernels.py", "trnc_bench_kernels")
T_M, T_N, T_K = 128, 512, 128


def expected_counts(structure: str, p: Any, cfg: Any) -> Counter[str]:
    """Instruction counts by opcode, from each structure's loop nest."""
    m, n, k = p.m, p.n, p.k
    tiles_m, tiles_n, tiles_k = m // T_M, n // T_N, k // T_K
    matmuls = tiles_m * tiles_n * tiles_k
    out_tiles = tiles_m * tiles_n
    c: Counter[str] = Counter(matmul=matmuls)
    if structure == "tiled":
        # per (m, n, k): two loads; per (m, n): copy + store
        c.update(dma_copy=2 * matmuls + out_tiles, tensor_copy=out_tiles)
    elif structure in ("hoisted", "block_free"):
        tm, tn = (1, 1) if structure == "hoisted" else (cfg.tiles_m, cfg.tiles_n)
        lhs_loads = (m // (tm * T_M)) * tm * tiles_k  # per M block: tm columns of K tiles
        rhs_loads = (m // (tm * T_M)) * (n // (tn * T_N)) * tn * tiles_k
        c.update(dma_copy=lhs_loads + rhs_loads + out_tiles, tensor_copy=out_tiles)
    else:
        bm, bn, bk = cfg.block_m, cfg.block_n, cfg.block_k
        nbm, nbn, nbk = m // bm, n // bn, k // bk
        tk = bk // T_K
        rhs_loads = nbn * nbk * tk  # per (n, k) block: tk rows [128, BLOCK_N]
        lhs_loads = nbn * nbk * nbm * tk  # per (n, k, m) block: tk rows [128, BLOCK_M]
        stores = nbn * tiles_m  # per n block: one [128, BLOCK_N] row of C per M tile
        groups_per_kblock = tiles_m * (bn // T_N)  # PSUM groups per (n, k) block
        c.update(
            dma_copy=rhs_loads + lhs_loads + stores,
            tensor_copy=nbn * groups_per_kblock,  # first K block copies
            tensor_tensor=nbn * (nbk - 1) * groups_per_kblock,  # later ones add
        )
    return c


def _usage(program: Program) -> tuple[int, set[int]]:
    """(highest SBUF byte + 1 per partition, PSUM banks touched); asserts every PSUM
    access stays inside one bank."""
    sbuf_top, banks = 0, set()
    bank = TRN1.psum_bank_bytes
    for instr in program.instrs:
        for ap in (*instr.reads, *instr.writes):
            if ap.mem == "hbm":
                continue
            hi = ap.offset + sum((c - 1) * s for s, c in ap.dims) * ap.itemsize + ap.itemsize
            if ap.mem == "sbuf":
                sbuf_top = max(sbuf_top, hi)
            else:
                assert ap.offset // bank == (hi - 1) // bank
                banks.add(ap.offset // bank)
    return sbuf_top, banks


@pytest.fixture(scope="module", params=K.STRUCTURES)
def kernel(request: pytest.FixtureRequest) -> Any:
    return next(k for k in K.small_kernels() if k.structure == request.param)


def test_small_kernels_cover_every_structure() -> None:
    assert [k.structure for k in K.small_kernels()] == list(K.STRUCTURES)
    assert all(k.problem == K.SMALL for k in K.small_kernels())
    assert [k.published_ms for k in K.a6_kernels()] == [51.80, 42.96, 22.07, 6.97]


def test_verifies_with_expected_counts(kernel: Any) -> None:
    op = kernel.build()
    op.verify()
    program = decode(op)
    got = Counter(i.opcode for i in program.instrs)
    assert got == expected_counts(kernel.structure, kernel.problem, kernel.config)
    # every instruction signals its own queue; every wait names a count that is reached
    signals = Counter(s for i in program.instrs for s in i.signals)
    for instr in program.instrs:
        assert len(instr.signals) == 1
        for sem, value in instr.waits:
            assert 1 <= value <= signals[sem]


def test_within_budgets(kernel: Any) -> None:
    sbuf_top, banks = _usage(decode(kernel.build()))
    assert sbuf_top <= TRN1.sbuf_budget_bytes_per_partition
    assert banks and max(banks) < TRN1.psum_banks


def test_block_all_fp32_partial_sums_fit_at_a6_blocks() -> None:
    """At A.6's blocks and M = 4096 the fp32 partial sums take 128 KiB per partition; the
    program still fits (single-buffered tiles) and schedules race-free."""
    from trnc.simulator.hazards import check_races
    from trnc.simulator.timing import schedule

    program = decode(K.build_block_all(K.Problem(4096, 1024, 2048), K.Config()))
    sbuf_top, _ = _usage(program)
    assert 4096 * 1024 * 4 // 128 < sbuf_top <= TRN1.sbuf_budget_bytes_per_partition
    check_races(program, schedule(program))


def test_too_large_blocks_are_rejected() -> None:
    with pytest.raises(ValueError, match="SBUF budget exceeded"):
        K.build_block_all(K.Problem(8192, 1024, 1024), K.Config())
    with pytest.raises(ValueError, match="multiple"):
        K.build_tiled(K.Problem(100, 512, 128))


def test_schedules_race_free(kernel: Any) -> None:
    from trnc.simulator.hazards import check_races
    from trnc.simulator.timing import schedule

    program = decode(kernel.build())
    plan = schedule(program)
    check_races(program, plan)
    assert plan.total_ns > 0
    assert plan.flops == kernel.problem.flops


def test_computes_the_matmul(kernel: Any) -> None:
    from trnc.simulator import simulate

    p = kernel.problem
    rng = np.random.default_rng(7)
    a_t = rng.standard_normal((p.k, p.m)).astype(ml_dtypes.bfloat16)
    b = rng.standard_normal((p.k, p.n)).astype(ml_dtypes.bfloat16)
    outputs, _ = simulate(ModuleOp([kernel.build()]), {"a_t": a_t, "b": b})
    ref = a_t.astype(np.float32).T @ b.astype(np.float32)
    np.testing.assert_allclose(outputs["c"].astype(np.float32), ref, rtol=1e-2, atol=0.1)
