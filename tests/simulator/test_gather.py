"""The indirect DMA `trn_isa.dma_gather` (trn1.md A.3) in the simulator: its rows, its
errors, its cost (a transfer with one chunk per row after `64 + 2 x rows` GpSimdE cycles
of descriptor generation) and its place in the race check."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest

from trnc.machine import TRN1, Engine
from trnc.simulator import simulate
from trnc.simulator.errors import OutOfBoundsError, RaceError, UninitializedReadError
from trnc.simulator.program import decode
from trnc.tools.context import parse_source


def _program(p: int, rows: int, e: int, dtype: str = "f32", wait: bool = True) -> str:
    size = {"f32": 4, "bf16": 2}[dtype]
    table_at = 1024
    out_at = table_at + rows * e * size + 1024
    sync = "wait [dma0.s0 >= 1] " if wait else ""
    ids_sb = f"#trn_isa.ap<sbuf[0:{p}] + 0, [], i32>"
    rows_sb = f"#trn_isa.ap<sbuf[0:{p}] + 64, [[1, {e}]], {dtype}>"
    table_ap = f"#trn_isa.ap<hbm + {table_at}, [[{e}, {rows}], [1, {e}]], {dtype}>"
    return (
        "trn_isa.program @g {\n"
        f"  trn_isa.hbm_tensor @ids : tensor<{p}x1xi32> at 0 role input\n"
        f"  trn_isa.hbm_tensor @table : tensor<{rows}x{e}x{dtype}> at {table_at} role input\n"
        f"  trn_isa.hbm_tensor @y : tensor<{p}x{e}x{dtype}> at {out_at} role output\n"
        f"  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:{p}] + 0, [[1, 1]], i32>, "
        f"src #trn_isa.ap<hbm + 0, [[1, {p}], [1, 1]], i32> on dma0 signal [dma0.s0]\n"
        f"  trn_isa.dma_gather dst {rows_sb}, table {table_ap}, indices {ids_sb} "
        f"on dma1 {sync}signal [dma1.s0]\n"
        f"  trn_isa.dma_copy dst #trn_isa.ap<hbm + {out_at}, [[{e}, {p}], [1, {e}]], {dtype}>, "
        f"src {rows_sb} on dma2 wait [dma1.s0 >= 1] signal [dma2.s0]\n"
        "}\n"
    )


def _module(text: str):  # type: ignore[no-untyped-def]
    module = parse_source(text, "gather.mlir")
    module.verify()
    return module


@pytest.mark.parametrize("dtype", ["f32", "bf16"])
def test_rows_are_gathered_bit_exactly(dtype: str) -> None:
    rng = np.random.default_rng(1)
    np_dtype = np.float32 if dtype == "f32" else ml_dtypes.bfloat16
    table = rng.standard_normal((1000, 48)).astype(np_dtype)
    ids = rng.integers(0, 1000, (128, 1)).astype(np.int32)
    ids[5] = ids[9] = 999  # repeats and the last row
    ids[7] = 0
    out = simulate(_module(_program(128, 1000, 48, dtype)), {"ids": ids, "table": table}).outputs
    assert out["y"].tobytes() == table[ids[:, 0]].tobytes()


@pytest.mark.parametrize("bad", [-1, 1000])
def test_an_index_outside_the_table_is_an_error(bad: int) -> None:
    ids = np.zeros((4, 1), np.int32)
    ids[2] = bad
    table = np.zeros((1000, 8), np.float32)
    with pytest.raises(
        OutOfBoundsError, match=rf"index {bad} \(partition 2\) is outside the table's 1000 rows"
    ):
        simulate(_module(_program(4, 1000, 8)), {"ids": ids, "table": table})


def test_its_cost_is_a_transfer_with_one_chunk_per_row_after_descriptor_generation() -> None:
    p, rows, e = 64, 500, 96
    program = decode(_module(_program(p, rows, e)))
    result = simulate(program, timing_only=True)
    plan = result.schedule
    gather = 1
    setup = (64 + 2 * p) / TRN1.clock_ghz[Engine.GPSIMD]
    nbytes = p * (e * 4 + TRN1.dma_descriptor_overhead_bytes)
    rate = min(math.ceil(p / 8), 16) * TRN1.dma_engine_gbps  # bytes per ns, alone in flight
    expected = setup + TRN1.dma_fixed_latency_ns + nbytes / min(rate, TRN1.hbm_gbps)
    assert plan.end_ns[gather] - plan.start_ns[gather] == pytest.approx(expected, rel=1e-9)
    assert result.report.dma_bytes == p * 4 + 2 * p * e * 4  # the ids, the rows twice


def test_a_gather_not_ordered_after_its_index_load_is_a_race() -> None:
    with pytest.raises(RaceError):
        simulate(_module(_program(4, 10, 8, wait=False)), timing_only=True)


def test_never_written_rows_are_reported_only_for_the_rows_gathered() -> None:
    text = _program(4, 10, 8).replace(
        "@table : tensor<10x8xf32> at 1024 role input",
        "@table : tensor<10x8xf32> at 1024 role scratch",
    )
    ids = np.array([[1], [2], [2], [3]], np.int32)
    with pytest.raises(UninitializedReadError, match="reads 128 of 128 bytes"):
        simulate(_module(text), {"ids": ids}, strict_uninitialized=True)


def test_the_error_names_the_partition_of_the_bad_index() -> None:
    text = _program(4, 10, 8)
    for old in ("sbuf[0:4] + 0, [[1, 1]], i32", "sbuf[0:4] + 0, [], i32"):
        text = text.replace(old, old.replace("[0:4]", "[32:36]"))
    ids = np.array([[1], [2], [11], [3]], np.int32)
    table = np.zeros((10, 8), np.float32)
    with pytest.raises(OutOfBoundsError, match=r"index 11 \(partition 34\)"):
        simulate(_module(text), {"ids": ids, "table": table})
