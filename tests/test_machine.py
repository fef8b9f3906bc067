"""The machine description: derived values and the rules the dialects share."""

from __future__ import annotations

import pytest

from trnc.machine import TRN1, Engine, Memory


def test_psum_bank_holds_512_fp32_accumulators() -> None:
    assert TRN1.psum_bank_fp32 == 512
    assert TRN1.psum_banks * TRN1.psum_bank_bytes == TRN1.psum_bytes_per_partition


@pytest.mark.parametrize(
    ("count", "allowed"),
    [
        (128, (0,)),
        (65, (0,)),
        (64, (0, 64)),
        (33, (0, 64)),
        (32, (0, 32, 64, 96)),
        (1, (0, 32, 64, 96)),
    ],
)
def test_start_partition_rule(count: int, allowed: tuple[int, ...]) -> None:
    assert TRN1.allowed_start_partitions(count) == allowed
    for start in range(TRN1.partitions):
        error = TRN1.start_partition_error(start, count)
        if start in allowed:
            assert error is None
        else:
            assert error == (
                f"start-partition rule: an access over {count} partitions must start at "
                f"partition {' or '.join(map(str, allowed))}, got {start}"
            )


def test_connectivity_matches_trn1_table() -> None:
    assert TRN1.can_read(Engine.TENSOR, Memory.SBUF)
    assert not TRN1.can_read(Engine.TENSOR, Memory.PSUM)
    assert TRN1.can_write(Engine.TENSOR, Memory.PSUM)
    assert not TRN1.can_write(Engine.TENSOR, Memory.SBUF)
    assert not TRN1.can_read(Engine.GPSIMD, Memory.PSUM)
    assert TRN1.can_read(Engine.DMA, Memory.HBM) and not TRN1.can_write(Engine.DMA, Memory.PSUM)
    for engine in (Engine.VECTOR, Engine.SCALAR):
        for memory in (Memory.SBUF, Memory.PSUM):
            assert TRN1.can_read(engine, memory) and TRN1.can_write(engine, memory)
        assert not TRN1.can_read(engine, Memory.HBM)
