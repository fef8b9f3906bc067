"""Functional execution with GEMMs on the helper process (`simulator/execution.py`,
`simulator/gemm_worker.py`): the same bytes, warnings and errors as running everything
inline (`TRNC_GEMM_WORKER=0`), for the A.6 kernels and for hand-written programs that
make instructions wait for GEMMs (PSUM read mid-group, bank reuse, transposes)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from test_kernels import K  # benchmarks/kernels.py, loaded by path

from trnc.simulator import simulate
from trnc.simulator.errors import PsumAccumulateError, RaceError, UninitializedReadError
from trnc.simulator.execution import Execution
from trnc.simulator.gemm_worker import MAX_IN_FLIGHT, GemmWorker, WorkerError
from trnc.simulator.program import Program, decode
from trnc.simulator.semantics import Gemm, deferrable
from trnc.tools.context import parse_source


def _started_worker() -> GemmWorker:
    """The GEMM worker, once it has started (it starts without blocking the simulator,
    which runs GEMMs inline meanwhile)."""
    worker = GemmWorker.start()
    assert worker is not None, "the GEMM worker should start here"
    return worker


def _both(program: Program, inputs: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch):
    """Outputs and warnings with the worker, then inline."""
    _started_worker()
    with_worker = simulate(program, inputs)
    monkeypatch.setenv("TRNC_GEMM_WORKER", "0")
    inline = simulate(program, inputs)
    monkeypatch.delenv("TRNC_GEMM_WORKER")
    return with_worker, inline


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype
        assert a[name].tobytes() == b[name].tobytes(), name


@pytest.mark.parametrize("structure", K.STRUCTURES)
def test_a6_kernels_match_inline_bit_for_bit(
    structure: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = decode(K.BUILDERS[structure](K.SMALL, K.SMALL_CONFIG))
    assert sum(map(deferrable, program.instrs)) >= 8
    rng = np.random.default_rng(3)
    inputs = {
        t.name: rng.standard_normal(t.shape).astype(t.np_dtype)
        for t in program.tensors
        if t.role in ("input", "weight")
    }
    worker, inline = _both(program, inputs, monkeypatch)
    _same(worker.outputs, inline.outputs)
    assert worker.report.warnings == inline.report.warnings
    a_t = inputs["a_t"].astype(np.float32)
    b = inputs["b"].astype(np.float32)
    got = worker.outputs["c"].astype(np.float32)
    np.testing.assert_allclose(got, a_t.T @ b, rtol=2e-2, atol=2e-1)


# --- hand-written programs ------------------------------------------------------------

HEAD = (
    "  trn_isa.hbm_tensor @a : tensor<128x128xbf16> at 0 role input\n"
    "  trn_isa.hbm_tensor @b : tensor<128x512xbf16> at 32768 role input\n"
    "  trn_isa.hbm_tensor @y : tensor<2x128x512xf32> at 163840 role output\n"
    "  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, "
    "src #trn_isa.ap<hbm + 0, [[128, 128], [1, 128]], bf16> on dma0 signal [dma0.s0]\n"
    "  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16>, "
    "src #trn_isa.ap<hbm + 32768, [[512, 128], [1, 512]], bf16> on dma1 signal [dma1.s0]\n"
)
ST = "stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>"
MV = "moving #trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16>"


def _mm(bank: int, accumulate: bool, sync: str) -> str:
    dst = f"#trn_isa.ap<psum[0:128] + {bank * 2048}, [[1, 512]], f32>"
    acc = "true" if accumulate else "false"
    return f"  trn_isa.matmul dst {dst}, {ST}, {MV} {{accumulate = {acc}}} on tensor {sync}\n"


def _evacuate(bank: int, sbuf: int, sync: str) -> str:
    src = f"#trn_isa.ap<psum[0:128] + {bank * 2048}, [[1, 512]], f32>"
    dst = f"#trn_isa.ap<sbuf[0:128] + {sbuf}, [[1, 512]], f32>"
    return f"  trn_isa.tensor_copy dst {dst}, src {src} on vector {sync}\n"


def _store(sbuf: int, k: int, sync: str) -> str:
    src = f"#trn_isa.ap<sbuf[0:128] + {sbuf}, [[1, 512]], f32>"
    dst = f"#trn_isa.ap<hbm + {163840 + k * 262144}, [[512, 128], [1, 512]], f32>"
    return f"  trn_isa.dma_copy dst {dst}, src {src} on dma{2 + k} {sync}\n"


def _program(body: str) -> Program:
    module = parse_source(f"trn_isa.program @p {{\n{HEAD}{body}}}", "x.mlir")
    module.verify()
    return decode(module)


def _inputs(program: Program) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    return {
        t.name: rng.standard_normal(t.shape).astype(t.np_dtype)
        for t in program.tensors
        if t.role == "input"
    }


LOADED = "wait [dma0.s0 >= 1, dma1.s0 >= 1] signal [tensor.s0]"

MID_GROUP = (
    # y[0] = P (read after the first matmul of the group), y[1] = 2P + P (bank 0 reused
    # after the read) and, on bank 3, a group nothing else touches.
    _mm(0, False, LOADED)
    + _evacuate(0, 4096, "wait [tensor.s0 >= 1] signal [vector.s0]")
    + _mm(0, True, "wait [vector.s0 >= 1] signal [tensor.s0]")
    + _mm(0, True, "signal [tensor.s0]")
    + _mm(3, False, "signal [tensor.s0]")
    + _evacuate(0, 8192, "wait [tensor.s0 >= 3] signal [vector.s0]")
    + _store(4096, 0, "wait [vector.s0 >= 1] signal [dma2.s0]")
    + _store(8192, 1, "wait [vector.s0 >= 2] signal [dma3.s0]")
)


def _count_parks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Instruction indices as they are parked (a spy on `Execution._park`)."""
    parked: list[int] = []
    original = Execution._park

    def spy(self: Execution, index: int) -> None:
        parked.append(index)
        original(self, index)

    monkeypatch.setattr(Execution, "_park", spy)
    return parked


def test_psum_read_mid_group_and_bank_reuse(monkeypatch: pytest.MonkeyPatch) -> None:
    program = _program(MID_GROUP)
    inputs = _inputs(program)
    parked = _count_parks(monkeypatch)
    _started_worker()
    worker = simulate(program, inputs)
    # With the worker, the first evacuation (#3) waits for its GEMM (the matmul reusing
    # bank 0 after it may or may not find it done); inline, nothing waits.
    assert 3 in parked
    parked.clear()
    monkeypatch.setenv("TRNC_GEMM_WORKER", "0")
    inline = simulate(program, inputs)
    assert parked == []
    _same(worker.outputs, inline.outputs)
    product = inputs["a"].astype(np.float32).T @ inputs["b"].astype(np.float32)
    y = worker.outputs["y"]
    np.testing.assert_allclose(y[0], product, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(y[1], 3 * product, rtol=1e-5, atol=1e-3)


def test_transpose_into_a_bank_with_a_pending_gemm_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A TensorE transpose (run here, not on the worker) writes the bank a GEMM is still
    filling: it must run after the GEMM, as its start order says."""
    transpose = (
        "  trn_isa.transpose dst #trn_isa.ap<psum[0:128] + 0, [[1, 128]], f32>, "
        "src #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16> on tensor signal [tensor.s0]\n"
    )
    body = (
        _mm(0, False, LOADED)
        + transpose
        + _evacuate(0, 4096, "wait [tensor.s0 >= 2] signal [vector.s0]")
        + _store(4096, 0, "wait [vector.s0 >= 1] signal [dma2.s0]")
    )
    program = _program(body)
    inputs = _inputs(program)
    worker, inline = _both(program, inputs, monkeypatch)
    _same(worker.outputs, inline.outputs)
    y0 = worker.outputs["y"][0]
    a = inputs["a"].astype(np.float32)
    np.testing.assert_array_equal(y0[:, :128], a.T)
    product = a.T @ inputs["b"].astype(np.float32)
    np.testing.assert_allclose(y0[:, 128:], product[:, 128:], rtol=1e-5, atol=1e-4)


def test_errors_are_those_of_start_order(monkeypatch: pytest.MonkeyPatch) -> None:
    # An accumulation onto a bank the vector engine wrote (PSUM rule), before a store of
    # never-written bytes (an error when strict): the PSUM error comes first, with or
    # without the worker; once it is mended, the store's.
    memset = (
        "  trn_isa.memset dst #trn_isa.ap<psum[0:128] + 2048, [[1, 512]], f32>, value 0.0 "
        "on vector signal [vector.s0]\n"
    )
    body = (
        _mm(0, False, LOADED)
        + memset
        + _mm(1, True, "wait [vector.s0 >= 1] signal [tensor.s0]")
        + _evacuate(0, 4096, "wait [tensor.s0 >= 1] signal [vector.s0]")
        + _store(12288, 0, "wait [vector.s0 >= 2]")
    )
    program = _program(body)
    inputs = _inputs(program)
    _started_worker()
    for setting in ("1", "0"):
        monkeypatch.setenv("TRNC_GEMM_WORKER", setting)
        with pytest.raises(PsumAccumulateError) as info:
            simulate(program, inputs, strict_uninitialized=True)
        assert info.value.instrs == (4,)
        fixed = _program(body.replace("{accumulate = true}", "{accumulate = false}"))
        with pytest.raises(UninitializedReadError) as unread:
            simulate(fixed, inputs, strict_uninitialized=True)
        assert unread.value.instrs == (6,)


def test_a_parked_instructions_error_comes_before_a_later_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A matmul writes 64 PSUM partitions; the evacuation (#3) reads all 128 and so fails
    # when strict, but with the worker it is parked first, waiting for the GEMM; the store
    # (#4, after it in start order) touches none of its bytes, runs, and fails too. The
    # earlier failure in start order is the one reported, with or without the worker.
    half = (
        "  trn_isa.matmul dst #trn_isa.ap<psum[0:64] + 0, [[1, 512]], f32>, "
        "stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 64]], bf16>, "
        f"{MV} {{accumulate = false}} on tensor {LOADED}\n"
    )
    body = (
        half
        + _evacuate(0, 4096, "wait [tensor.s0 >= 1] signal [vector.s0]")
        + _store(12288, 0, "wait [vector.s0 >= 1]")
    )
    program = _program(body)
    assert deferrable(program.instrs[2])
    inputs = _inputs(program)
    parked = _count_parks(monkeypatch)
    _started_worker()
    for setting in ("1", "0"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("TRNC_GEMM_WORKER", setting)
            with pytest.raises(UninitializedReadError) as info:
                simulate(program, inputs, strict_uninitialized=True)
        assert info.value.instrs == (3,)
        assert parked == ([3] if setting == "1" else [])
        parked.clear()


def test_a_gemm_operand_overwritten_in_hbm_and_loaded_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker reads loaded operands from HBM in place and keeps their fp32
    conversions: a store over `b`'s bytes must wait for the GEMM reading them and drop
    the conversion, so that the second matmul sees the new `b` (a^T b, rounded to bf16)."""
    cast = (
        "  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 8192, [[1, 512]], bf16>, "
        "src #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32> on vector "
        "wait [tensor.s0 >= 1] signal [vector.s0]\n"
    )
    over_b = (
        "  trn_isa.dma_copy dst #trn_isa.ap<hbm + 32768, [[512, 128], [1, 512]], bf16>, "
        "src #trn_isa.ap<sbuf[0:128] + 8192, [[1, 512]], bf16> on dma2 "
        "wait [vector.s0 >= 1] signal [dma2.s0]\n"
    )
    reload_b = (
        "  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16>, "
        "src #trn_isa.ap<hbm + 32768, [[512, 128], [1, 512]], bf16> on dma1 "
        "wait [dma2.s0 >= 1] signal [dma1.s0]\n"
    )
    body = (
        _mm(0, False, LOADED)
        + cast
        + over_b
        + reload_b
        + _mm(1, False, "wait [dma1.s0 >= 2] signal [tensor.s0]")
        + _evacuate(1, 12288, "wait [tensor.s0 >= 2] signal [vector.s0]")
        + _store(12288, 1, "wait [vector.s0 >= 2]")
    )
    program = _program(body)
    assert sum(map(deferrable, program.instrs)) == 2
    inputs = _inputs(program)
    worker, inline = _both(program, inputs, monkeypatch)
    _same(worker.outputs, inline.outputs)
    a = inputs["a"].astype(np.float32)
    new_b = (a.T @ inputs["b"].astype(np.float32)).astype(inputs["b"].dtype)
    np.testing.assert_allclose(
        worker.outputs["y"][1], a.T @ new_b.astype(np.float32), rtol=1e-4, atol=1e-2
    )


def test_a_race_is_reported_before_an_execution_error() -> None:
    # The evacuation does not wait for the matmul (a race); the store reads bytes never
    # written (an error when strict).
    body = (
        _mm(0, False, LOADED)
        + _evacuate(0, 4096, "signal [vector.s0]")
        + _store(12288, 0, "wait [vector.s0 >= 1]")
    )
    with pytest.raises(RaceError):
        simulate(_program(body), strict_uninitialized=True)


def test_a_dead_worker_is_restarted(monkeypatch: pytest.MonkeyPatch) -> None:
    program = _program(MID_GROUP)
    inputs = _inputs(program)
    worker = _started_worker()
    first = simulate(program, inputs).outputs
    worker._proc.kill()
    worker._proc.wait()
    assert _started_worker() is not worker
    _same(simulate(program, inputs).outputs, first)


@pytest.mark.parametrize(
    ("executable", "starts"),
    [("/nonexistent/python", False), ("false", True)],  # `false` runs and exits at once
)
def test_a_worker_that_cannot_start_means_inline(
    executable: str, starts: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = _program(MID_GROUP)
    inputs = _inputs(program)
    expected = simulate(program, inputs).outputs
    monkeypatch.setattr(GemmWorker, "_instance", None)  # both restored after the test
    monkeypatch.setattr(GemmWorker, "_failed", False)
    monkeypatch.setattr("sys.executable", executable)
    worker = GemmWorker.get()
    assert (worker is not None) == starts
    if worker is not None:
        GemmWorker._lock.release()
        worker._proc.wait()
        assert not worker.ready()
    assert GemmWorker._failed and GemmWorker.get() is None
    _same(simulate(program, inputs).outputs, expected)


def test_a_failing_gemm_is_reported_and_the_worker_restarted() -> None:
    worker = _started_worker()
    assert GemmWorker.get() is worker  # reserved for this test until release()
    try:
        outside = np.zeros((128, 512), np.float32)  # not in the shared PSUM
        gemm = Gemm(
            np.zeros((128, 128), np.float32), np.zeros((128, 512), np.float32), outside, False
        )
        ticket = worker.submit(gemm)
        with pytest.raises(WorkerError, match="the GEMM worker failed: ValueError"):
            worker.wait(ticket)
    finally:
        worker.release()
    assert _started_worker() is not worker


def test_a_worker_killed_while_busy_is_an_error_not_a_hang() -> None:
    worker = _started_worker()
    assert GemmWorker.get() is worker
    try:
        worker._proc.kill()
        worker._proc.wait()
        with pytest.raises(WorkerError, match="exited"):
            worker.wait(worker.submitted + 1)
    finally:
        worker.release()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_its_own_worker() -> None:
    program = _program(MID_GROUP)
    inputs = _inputs(program)
    expected = simulate(program, inputs).outputs
    parent_worker = _started_worker()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's worker is not for it
        ok = False
        try:
            worker = GemmWorker.get()
            ok = worker is not None and worker is not parent_worker
            if worker is not None:
                GemmWorker._lock.release()
            got = simulate(program, inputs).outputs
            ok = ok and all(got[k].tobytes() == expected[k].tobytes() for k in expected)
            parent_worker.stop()  # as the child's atexit would: must leave it running
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert GemmWorker._instance is parent_worker
    before = parent_worker.submitted
    _same(simulate(program, inputs).outputs, expected)
    assert parent_worker.submitted > before  # the parent's worker still serves it


def test_in_place_hbm_reads_stay_bounded_without_hbm_writes() -> None:
    """GEMMs reading the shared HBM in place are remembered until done (an HBM write must
    wait for them); with no HBM write to prune the list, `submit` prunes it."""
    worker = _started_worker()
    assert GemmWorker.get() is worker
    try:
        hbm = worker.hbm(4096)
        assert hbm is not None
        st = np.ndarray((8, 8), np.float32, hbm, 0)
        mv = np.ndarray((8, 8), np.float32, hbm, 256)
        target = worker.psum_rows[:8, :32].view(np.float32)
        for _ in range(4 * MAX_IN_FLIGHT + 100):
            worker.submit(Gemm(st, mv, target, False, 0, 256, hbm))
        worker.wait(worker.submitted)
        assert len(worker._hbm_reads) <= 4 * MAX_IN_FLIGHT + 2
        np.testing.assert_array_equal(target, st.T @ mv)  # (zeros: a fresh HBM)
    finally:
        worker.release()
