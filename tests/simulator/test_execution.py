"""Functional execution (`simulator/execution.py`): results against the simulator's own
GEMM (`semantics.matmul_f32`) and numpy references, the same bytes from run to run, and
warnings and errors in start order, for the A.6 kernels and hand-written programs (PSUM
read mid-group, bank reuse, transposes, operands overwritten in HBM and loaded again)."""

from __future__ import annotations

import numpy as np
import pytest
from test_kernels import K  # benchmarks/kernels.py, loaded by path

from trnc.simulator import SimulationResult, simulate
from trnc.simulator.errors import PsumAccumulateError, RaceError, UninitializedReadError
from trnc.simulator.program import Program, decode
from trnc.simulator.semantics import matmul_f32
from trnc.tools.context import parse_source


def _twice(program: Program, inputs: dict[str, np.ndarray]) -> SimulationResult:
    """Two simulations of the same program and inputs: their outputs must be the same
    bytes and their warnings the same (the first result is returned)."""
    first = simulate(program, inputs)
    second = simulate(program, inputs)
    _same(first.outputs, second.outputs)
    assert first.report.warnings == second.report.warnings
    return first


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype
        assert a[name].tobytes() == b[name].tobytes(), name


@pytest.mark.parametrize("structure", K.STRUCTURES)
def test_a6_kernels_are_repeatable_and_right(structure: str) -> None:
    program = decode(K.BUILDERS[structure](K.SMALL, K.SMALL_CONFIG))
    rng = np.random.default_rng(3)
    inputs = {
        t.name: rng.standard_normal(t.shape).astype(t.np_dtype)
        for t in program.tensors
        if t.role in ("input", "weight")
    }
    result = _twice(program, inputs)
    a_t = inputs["a_t"].astype(np.float64)
    b = inputs["b"].astype(np.float64)
    got = result.outputs["c"].astype(np.float64)
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


def test_psum_read_mid_group_and_bank_reuse() -> None:
    program = _program(MID_GROUP)
    inputs = _inputs(program)
    y = _twice(program, inputs).outputs["y"]
    # the simulator's own GEMM: y[0] is P exactly, y[1] is (P + P) + P in fp32
    product = matmul_f32(inputs["a"], inputs["b"])
    np.testing.assert_array_equal(y[0], product)
    np.testing.assert_array_equal(y[1], (product + product) + product)
    exact = inputs["a"].astype(np.float64).T @ inputs["b"].astype(np.float64)
    np.testing.assert_allclose(y[0], exact, rtol=1e-5, atol=1e-4)


def test_transpose_into_a_bank_after_a_gemm() -> None:
    """A TensorE transpose writes part of the bank a GEMM filled: it runs after the GEMM,
    as its start order says."""
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
    y0 = _twice(program, inputs).outputs["y"][0]
    a = inputs["a"].astype(np.float32)
    np.testing.assert_array_equal(y0[:, :128], a.T)
    product = matmul_f32(inputs["a"], inputs["b"])
    np.testing.assert_array_equal(y0[:, 128:], product[:, 128:])


def test_errors_are_those_of_start_order() -> None:
    # An accumulation onto a bank the vector engine wrote (PSUM rule), before a store of
    # never-written bytes (an error when strict): the PSUM error comes first; once it is
    # mended, the store's.
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
    with pytest.raises(PsumAccumulateError) as info:
        simulate(program, inputs, strict_uninitialized=True)
    assert info.value.instrs == (4,)
    fixed = _program(body.replace("{accumulate = true}", "{accumulate = false}"))
    with pytest.raises(UninitializedReadError) as unread:
        simulate(fixed, inputs, strict_uninitialized=True)
    assert unread.value.instrs == (6,)


def test_the_first_error_in_start_order_is_reported() -> None:
    # A matmul writes 64 PSUM partitions; the evacuation (#3) reads all 128 and so fails
    # when strict; the store (#4, after it in start order) would fail too. The earlier
    # failure in start order is the one reported.
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
    inputs = _inputs(program)
    with pytest.raises(UninitializedReadError) as info:
        simulate(program, inputs, strict_uninitialized=True)
    assert info.value.instrs == (3,)


def test_a_gemm_operand_overwritten_in_hbm_and_loaded_again() -> None:
    """Matmuls read operands that are pending loads from HBM in place: a store over `b`'s
    bytes must not change what the first matmul read, and the second matmul sees the new
    `b` (a^T b, rounded to bf16)."""
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
    inputs = _inputs(program)
    y1 = _twice(program, inputs).outputs["y"][1]
    new_b = matmul_f32(inputs["a"], inputs["b"]).astype(inputs["b"].dtype)
    np.testing.assert_array_equal(y1, matmul_f32(inputs["a"], new_b))


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
