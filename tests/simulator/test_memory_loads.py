"""Loads from HBM into SBUF that `Memory.copy` leaves pending: every way of touching
their bytes sees what an eager copy would have left, and a matmul operand that is exactly
a pending load is read from HBM (`Memory.operand`). Also the AP geometry a program keeps
for its next simulation."""

from __future__ import annotations

import numpy as np
import pytest
from semantics_helpers import ap, ins, memory, randn, sb, tensor

from trnc.simulator import memory as memory_module
from trnc.simulator.errors import OutOfBoundsError
from trnc.simulator.memory import Memory
from trnc.simulator.program import Program
from trnc.simulator.semantics import execute


def _loaded(rows: int = 128, cols: int = 64) -> tuple[Memory, np.ndarray]:
    """A memory whose HBM tensor `x` [rows, cols] f32 is loaded, and the array."""
    mem = memory([tensor("x", (rows, cols), "f32", 0, "input")])
    x = randn(rows, cols)
    mem.load_tensor("x", x)
    return mem, x


def _load(mem: Memory, sbuf_offset: int, hbm_offset: int = 0, cols: int = 64) -> None:
    src = ap("hbm", hbm_offset, [(1, cols)], pstep=64)
    execute(ins("dma_copy", dst=sb(sbuf_offset, cols), src=src), mem)


def test_a_load_is_pending_until_its_bytes_are_read() -> None:
    mem, x = _loaded()
    _load(mem, 0)
    assert len(mem._lazy) == 1
    np.testing.assert_array_equal(mem.read(sb(0, 64)), x)
    assert mem._lazy == []
    _load(mem, 1024)
    np.testing.assert_array_equal(mem.sbuf[:, 1024:1280].view(np.float32), x)  # flushes


def test_a_read_of_part_of_a_pending_load_copies_it_in() -> None:
    mem, x = _loaded()
    _load(mem, 0)
    part = ap("sbuf", 8 * 4, [(1, 4)], start=16, partitions=8)
    np.testing.assert_array_equal(mem.read(part), x[16:24, 8:12])


def test_a_write_over_part_of_a_pending_load_keeps_the_rest() -> None:
    mem, x = _loaded()
    _load(mem, 0)
    execute(ins("memset", dst=ap("sbuf", 0, [(1, 8)], start=4, partitions=2), value=7.0), mem)
    expected = x.copy()
    expected[4:6, :8] = 7.0
    np.testing.assert_array_equal(mem.read(sb(0, 64)), expected)


def test_writing_the_hbm_source_copies_the_load_in_first() -> None:
    mem, x = _loaded()
    _load(mem, 0)
    overwrite = ap("hbm", 0, [(1, 64)], pstep=64)
    mem.write(overwrite, np.zeros((128, 64), np.float32))
    np.testing.assert_array_equal(mem.read(sb(0, 64)), x)  # the load saw the old bytes
    mem.load_tensor("x", x + 1)  # a tensor load counts as a write too
    _load(mem, 1024)
    mem.load_tensor("x", x + 2)
    np.testing.assert_array_equal(mem.read(sb(1024, 64)), x + 1)


def test_a_second_load_into_the_same_bytes_replaces_the_first() -> None:
    mem = memory([tensor("x", (256, 64), "f32", 0, "input")])
    x = randn(256, 64)
    mem.load_tensor("x", x)
    _load(mem, 0)
    _load(mem, 0, hbm_offset=128 * 64 * 4)
    assert len(mem._lazy) == 1
    np.testing.assert_array_equal(mem.read(sb(0, 64)), x[128:])


def test_a_load_overlapping_a_pending_one_copies_it_in_first() -> None:
    mem, x = _loaded()
    _load(mem, 0)
    _load(mem, 128, cols=32)  # the upper half of the first load's bytes, from column 0
    expected = x.copy()
    expected[:, 32:] = x[:, :32]
    np.testing.assert_array_equal(mem.read(sb(0, 64)), expected)


def test_too_many_pending_loads_copy_the_oldest_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory_module, "MAX_PENDING_LOADS", 2)
    mem, x = _loaded()
    for k in range(3):
        _load(mem, k * 256)
    assert [load.dst.offset for load in mem._lazy] == [256, 512]
    assert mem._sbuf[:, :256].view(np.float32).tobytes() == x.tobytes()


def test_a_matmul_operand_that_is_a_pending_load_is_read_from_hbm() -> None:
    mem, x = _loaded()
    _load(mem, 0)
    operand = mem.operand(sb(0, 64))
    assert np.shares_memory(operand, mem.hbm)
    np.testing.assert_array_equal(operand, x)
    assert len(mem._lazy) == 1  # still pending: SBUF was not written
    shifted = mem.operand(sb(4, 60))  # not exactly the load: copied in, read from SBUF
    np.testing.assert_array_equal(shifted, x[:, 1:61])
    assert mem._lazy == [] and not np.shares_memory(shifted, mem.hbm)


def test_an_operand_from_hbm_rows_in_two_runs_is_a_copy() -> None:
    # Loaded from HBM as [128, 2 x 16] with a gap between the halves of each row: one
    # operand row is not one strided run of HBM, so the operand is a copy, not in place.
    mem, x = _loaded()
    halves = ap("hbm", 0, [(32, 2), (1, 16)], pstep=64)
    execute(ins("dma_copy", dst=sb(0, 32), src=halves), mem)
    operand = mem.operand(sb(0, 32))
    assert not np.shares_memory(operand, mem.hbm)
    np.testing.assert_array_equal(operand, np.concatenate([x[:, :16], x[:, 32:48]], axis=1))


def test_matmul_on_pending_loads_and_uninitialized_reads_as_if_eager() -> None:
    mem = memory(
        [tensor("a", (128, 32), "f32", 0, "input"), tensor("b", (128, 64), "f32", 16384, "input")],
        strict=False,
    )
    a, b = randn(128, 32), randn(128, 64)
    mem.load_tensor("a", a)
    mem.load_tensor("b", b)
    execute(ins("dma_copy", dst=sb(0, 32), src=ap("hbm", 0, [(1, 32)], pstep=32)), mem)
    execute(ins("dma_copy", dst=sb(256, 64), src=ap("hbm", 16384, [(1, 64)], pstep=64)), mem)
    dst = ap("psum", 0, [(1, 64)], partitions=32)
    execute(ins("matmul", dst=dst, stationary=sb(0, 32), moving=sb(256, 64)), mem)
    np.testing.assert_allclose(mem.read(dst), a.T @ b, rtol=1e-5, atol=1e-5)
    assert mem.warnings == []
    mem.read(sb(512, 4))  # never written, loaded or not: still a warning
    assert len(mem.warnings) == 1


def test_a_second_memory_reuses_the_programs_geometry_and_still_bounds_checks() -> None:
    program = Program("t", [tensor("x", (128, 64), "f32", 0, "input")], [], [])
    x = randn(128, 64)
    tile, outside = sb(0, 64), sb(196608 - 128, 64)  # the second ends past SBUF's bytes
    for run in range(2):
        mem = Memory(program, strict_uninitialized=True)
        mem.load_tensor("x", x)
        mem.write(tile, x + run)
        np.testing.assert_array_equal(mem.read(tile), x + run)
        with pytest.raises(OutOfBoundsError):
            mem.read(outside)
        ((geometry, *_),) = (v for k, v in program.cache.items() if k[0] == "geometry")
        assert [entry[0] for entry in geometry.values()] == [tile]  # kept: tile, not outside
