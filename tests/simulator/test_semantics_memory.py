"""Functional semantics of the simulator: `Memory` (layout, access patterns, rounding
on write, HBM tensors and DMA) and `execute`'s errors, against numpy."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from semantics_helpers import BF16, ap, ins, memory, ps, put, randn, sb, tensor

from trnc.simulator.errors import (
    OutOfBoundsError,
    PsumAccumulateError,
    UninitializedReadError,
    UnsupportedError,
)
from trnc.simulator.semantics import execute

# --- memory -----------------------------------------------------------------------------


def test_read_write_roundtrip_and_layout() -> None:
    mem = memory()
    x = randn(128, 64)
    put(mem, sb(100, 64), x)
    np.testing.assert_array_equal(mem.read(sb(100, 64)), x)
    # partition p, element i lives at byte 100 + 4 i of partition p
    assert mem.sbuf[5, 100:104].view(np.float32)[0] == x[5, 0]
    sub = ap("sbuf", 100 + 4 * 10, [(1, 8)], start=32, partitions=32)
    np.testing.assert_array_equal(mem.read(sub), x[32:64, 10:18])


def test_strided_and_negative_step_access_patterns() -> None:
    mem = memory()
    x = randn(128, 64)
    put(mem, sb(0, 64), x)
    rev = ap("sbuf", 63 * 4, [(-1, 64)])
    np.testing.assert_array_equal(mem.read(rev), x[:, ::-1])
    two_d = ap("sbuf", 4, [(16, 4), (2, 8)])  # rows of 16, every other element from 1
    np.testing.assert_array_equal(mem.read(two_d), x.reshape(128, 4, 16)[:, :, 1::2])
    # negative outer step and a write through a strided pattern
    back = ap("sbuf", 48 * 4, [(-16, 4), (1, 16)])
    np.testing.assert_array_equal(mem.read(back), x.reshape(128, 4, 16)[:, ::-1, :])
    y = randn(128, 32)
    put(mem, ap("sbuf", 4096 + 31 * 8, [(-2, 32)]), y)
    got = mem.read(ap("sbuf", 4096, [(2, 32)]))
    np.testing.assert_array_equal(got, y[:, ::-1])


def test_tensor_scalar_with_negative_step_src() -> None:
    mem = memory()
    x = randn(64, 32)
    put(mem, sb(0, 32, partitions=64), x)
    src = ap("sbuf", 31 * 4, [(-1, 32)], partitions=64)
    execute(
        ins("tensor_scalar", dst=sb(512, 32, partitions=64), src=src, op0="add", operand0=1.0), mem
    )
    np.testing.assert_array_equal(mem.read(sb(512, 32, partitions=64)), x[:, ::-1] + 1)


def test_write_rounds_to_nearest_even_bf16_and_fp8() -> None:
    mem = memory()
    vals = np.array([1 + 2**-8, 1 + 3 * 2**-8, -(1 + 2**-8), 3.3, 1e30], np.float32)
    x = np.tile(vals, (128, 1))
    put(mem, sb(0, 5, "bf16"), x)
    got = mem.read(sb(0, 5, "bf16"))
    assert got.dtype == BF16
    np.testing.assert_array_equal(got, x.astype(BF16))
    assert float(got[0, 0]) == 1.0 and float(got[0, 1]) == 1 + 2**-6
    put(mem, sb(64, 5, "f8E4M3FN"), x)
    expect = x.astype(ml_dtypes.float8_e4m3fn)
    np.testing.assert_array_equal(
        mem.read(sb(64, 5, "f8E4M3FN")).view(np.uint8), expect.view(np.uint8)
    )


def test_float_to_int_write_rounds_and_saturates() -> None:
    mem = memory()
    x = np.tile(np.array([2.5, -3.5, 1e10, np.nan, -1e10], np.float32), (128, 1))
    put(mem, sb(0, 5, "i16"), x)
    assert mem.read(sb(0, 5, "i16"))[0].tolist() == [2, -4, 32767, 0, -32768]


def test_hbm_tensors_and_dma_with_cast() -> None:
    x = tensor("x", (128, 64), "f32", 0, "input")
    y = tensor("y", (128, 64), "bf16", 128 * 64 * 4, "output")
    mem = memory([x, y])
    data = randn(128, 64)
    mem.load_tensor("x", data)
    # HBM -> SBUF with cast f32 -> bf16, rows of x on partitions
    src = ap("hbm", 0, [(1, 64)], pstep=64)
    execute(ins("dma_copy", dst=sb(0, 64, "bf16"), src=src, cast=True), mem)
    np.testing.assert_array_equal(mem.read(sb(0, 64, "bf16")), data.astype(BF16))
    # SBUF -> HBM, same dtype, written transposed-by-rows (row order reversed)
    dst = ap("hbm", y.address + 127 * 64 * 2, [(1, 64)], "bf16", pstep=-64)
    execute(ins("dma_copy", dst=dst, src=sb(0, 64, "bf16")), mem)
    np.testing.assert_array_equal(mem.read_tensor("y"), data.astype(BF16)[::-1])
    # SBUF bf16 -> SBUF f32 (exact) through a cast
    execute(ins("dma_copy", dst=sb(1024, 64), src=sb(0, 64, "bf16"), cast=True), mem)
    np.testing.assert_array_equal(mem.read(sb(1024, 64)), data.astype(BF16).astype(np.float32))


def test_dma_hbm_column_block_into_fewer_partitions() -> None:
    x = tensor("x", (16, 32), "f32", 0, "input")
    mem = memory([x])
    data = randn(16, 32)
    mem.load_tensor("x", data)
    # columns 8..15 of rows 0..15 -> partitions 32..47
    src = ap("hbm", 8 * 4, [(1, 8)], pstep=32, partitions=16)
    dst = ap("sbuf", 0, [(1, 8)], start=32, partitions=16)
    execute(ins("dma_copy", dst=dst, src=src), mem)
    np.testing.assert_array_equal(mem.read(dst), data[:, 8:16])


# --- errors -----------------------------------------------------------------------------


def test_out_of_bounds_errors_name_the_instruction() -> None:
    mem = memory(strict=False)
    bad = sb(196_608 - 8, 4)
    with pytest.raises(OutOfBoundsError) as err:
        execute(ins("memset", index=7, dst=bad, value=0.0), mem)
    assert "test.mlir:8:3" in str(err.value) and err.value.instrs == (7,)
    with pytest.raises(OutOfBoundsError):
        execute(ins("memset", dst=ap("sbuf", 0, [(1, 4)], start=96, partitions=64), value=0.0), mem)
    with pytest.raises(OutOfBoundsError):
        execute(ins("memset", dst=ap("sbuf", 0, [(-1, 4)]), value=0.0), mem)
    with pytest.raises(OutOfBoundsError):
        execute(ins("memset", dst=ps(16_384 - 4, 2), value=0.0), mem)
    t = tensor("x", (4, 4), "f32", 0, "input")
    mem = memory([t], strict=False)
    with pytest.raises(OutOfBoundsError):
        execute(
            ins(
                "dma_copy",
                dst=sb(0, 4, partitions=5),
                src=ap("hbm", 0, [(1, 4)], pstep=4, partitions=5),
            ),
            mem,
        )


def test_uninitialized_read_warns_or_raises() -> None:
    lax = memory(strict=False)
    execute(ins("tensor_copy", index=3, dst=sb(0, 8), src=sb(64, 8)), lax)
    assert len(lax.warnings) == 1
    warning = lax.warnings[0]
    assert isinstance(warning, UninitializedReadError) and warning.instrs == (3,)
    assert "never written" in str(warning)
    strict = memory(strict=True)
    with pytest.raises(UninitializedReadError):
        execute(ins("tensor_copy", dst=sb(0, 8), src=sb(64, 8)), strict)
    # partially written: one byte missing is still reported
    put(strict, sb(64, 8), randn(128, 8))
    execute(ins("tensor_copy", dst=sb(0, 8), src=sb(64, 8)), strict)
    with pytest.raises(UninitializedReadError):
        execute(ins("tensor_copy", dst=sb(0, 8), src=sb(65, 8)), strict)
    # HBM: an input counts as written only once loaded
    t = tensor("x", (128, 8), "f32", 0, "input")
    mem = memory([t], strict=True)
    src = ap("hbm", 0, [(1, 8)], pstep=8)
    with pytest.raises(UninitializedReadError):
        execute(ins("dma_copy", dst=sb(0, 8), src=src), mem)
    mem.load_tensor("x", np.zeros((128, 8), np.float32))
    execute(ins("dma_copy", dst=sb(0, 8), src=src), mem)


def test_psum_accumulate_rule() -> None:
    mem = memory()
    put(mem, sb(0, 16, "bf16", partitions=32), randn(32, 16))
    put(mem, sb(64, 8, "bf16", partitions=32), randn(32, 8))
    mm = {"stationary": sb(64, 8, "bf16", partitions=32), "moving": sb(0, 16, "bf16", 32)}
    dst = ps(2048, 16, partitions=8)
    execute(ins("memset", dst=dst, value=0.0), mem)
    with pytest.raises(PsumAccumulateError) as err:
        execute(ins("matmul", index=4, dst=dst, accumulate=True, **mm), mem)
    assert err.value.instrs == (4,)
    execute(ins("matmul", dst=dst, accumulate=False, **mm), mem)
    execute(ins("matmul", dst=dst, accumulate=True, **mm), mem)
    # a partial overwrite by a vector instruction poisons the group again
    execute(ins("memset", dst=ps(2048 + 60, 1, partitions=8), value=1.0), mem)
    with pytest.raises(PsumAccumulateError):
        execute(ins("matmul", dst=dst, accumulate=True, **mm), mem)
    # a transpose counts as a matmul write
    execute(ins("transpose", dst=ps(2048, 32, partitions=16), src=sb(0, 16, "bf16", 32)), mem)
    tr = {"stationary": sb(64, 16, "bf16", partitions=32), "moving": sb(0, 32, "bf16", 32)}
    put(mem, sb(64, 16, "bf16", partitions=32), randn(32, 16))
    put(mem, sb(0, 32, "bf16", partitions=32), randn(32, 32))
    execute(ins("matmul", dst=ps(2048, 32, partitions=16), accumulate=True, **tr), mem)


def test_unsupported() -> None:
    mem = memory()
    put(mem, sb(0, 4), randn(128, 4))
    with pytest.raises(UnsupportedError):
        execute(ins("activation", func="prelu", dst=sb(64, 4), src=sb(0, 4)), mem)
    with pytest.raises(UnsupportedError):
        execute(ins("bn_stats", dst=sb(64, 4), src=sb(0, 4)), mem)
