"""`trnc.simulator.simulate` end to end on the bundled example: numerics against numpy,
the report's figures against what the program implies, and the input handling."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from trnc.simulator import InputError, simulate
from trnc.simulator.program import decode
from trnc.tools.context import parse_source

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "matmul_gelu.mlir"


def _program():  # type: ignore[no-untyped-def]
    module = parse_source(EXAMPLE.read_text(), str(EXAMPLE))
    return decode(module)


def _gelu(x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def test_matmul_gelu_matches_numpy() -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((128, 128)).astype(np.float32)
    w = rng.standard_normal((128, 512)).astype(np.float32) / 8
    outputs, report = simulate(_program(), {"x": x, "w": w})
    expected = _gelu(x.astype(np.float64) @ w.astype(np.float64))
    np.testing.assert_allclose(outputs["y"], expected, rtol=1e-4, atol=1e-4)
    assert report.warnings == []
    assert report.notes == []


def test_report_figures() -> None:
    _, report = simulate(_program(), timing_only=True)
    assert report.instructions == 7
    assert report.flops == 2 * 128 * 128 * 512
    assert report.opcodes == {
        "activation": 1,
        "dma_copy": 3,
        "matmul": 1,
        "tensor_copy": 1,
        "transpose": 1,
    }
    assert report.dma_bytes == (128 * 128 + 2 * 128 * 512) * 4
    # Compulsory bytes are x, w and y once each; the bound is bytes / 410 GB/s.
    assert report.compulsory_hbm_bytes == (128 * 128 + 2 * 128 * 512) * 4
    assert report.memory_bound_ns == pytest.approx(report.compulsory_hbm_bytes / 410.0)
    assert report.roofline_ns == max(report.compute_bound_ns, report.memory_bound_ns)
    assert 0 < report.roofline_fraction <= 1
    assert report.simulated_ns > 1300  # at least one DMA's fixed latency
    assert report.queues["tensor"].instructions == 2
    assert 0 < report.queues["tensor"].utilization <= 1
    assert report.instructions_per_second > 0


def test_missing_inputs_are_random_and_said_so() -> None:
    _, report = simulate(_program(), seed=3)
    assert any("seeded random data (seed 3): x, w" in note for note in report.notes)


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(InputError, match="input 'z' is not a tensor"):
        simulate(_program(), {"z": np.zeros(3)})
    with pytest.raises(InputError, match=r"has shape \(3,\), the program expects \(128, 128\)"):
        simulate(_program(), {"x": np.zeros(3)})


def test_row_softmax_program_matches_numpy() -> None:
    source = Path(__file__).resolve().parents[1] / "filecheck" / "tools" / "trn-run" / "report.mlir"
    module = parse_source(source.read_text(), str(source))
    x = np.random.default_rng(11).standard_normal((128, 256)).astype(np.float32)
    outputs, _ = simulate(decode(module), {"x": x})
    e = np.exp(x.astype(np.float64) * 0.5)
    np.testing.assert_allclose(outputs["y"], e / e.sum(axis=1, keepdims=True), rtol=1e-5)


def test_compulsory_bytes_count_gathered_rows_of_a_gather_only_table() -> None:
    """An embedding table that only indirect DMAs read costs the rows they gather, not the
    whole table; a table any plain DMA reads costs all of it; scratch costs nothing."""
    from trnc.simulator.report import compulsory_hbm_bytes

    tensors = [("input", 0, 512), ("weight", 512, 1 << 20), ("scratch", (1 << 20) + 512, 64)]
    gathered = [(0, None), (512 + 4096, 3072), (512, 1024)]
    assert compulsory_hbm_bytes(tensors, gathered) == 512 + 3072 + 1024
    plain_too = [*gathered, (512 + 8192, None)]
    assert compulsory_hbm_bytes(tensors, plain_too) == 512 + (1 << 20)
