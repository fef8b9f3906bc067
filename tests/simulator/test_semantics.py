"""Functional semantics of the simulator: `Memory` and `execute` against numpy."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pytest
from xdsl.dialects import builtin

from trnc.simulator.errors import (
    OutOfBoundsError,
    PsumAccumulateError,
    UninitializedReadError,
    UnsupportedError,
)
from trnc.simulator.memory import Memory
from trnc.simulator.program import AP, NUMPY_DTYPES, Instr, Program, Tensor, decode
from trnc.simulator.semantics import ACTIVATIONS, erf, execute
from trnc.tools.context import parse_source

BF16 = np.dtype(ml_dtypes.bfloat16)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "matmul_gelu.mlir"


def ap(
    mem: str,
    offset: int,
    dims: list[tuple[int, int]],
    dtype: str = "f32",
    start: int = 0,
    partitions: int = 128,
    pstep: int = 0,
) -> AP:
    d = NUMPY_DTYPES[dtype]
    return AP(mem, start, partitions, pstep, offset, tuple(dims), dtype, d, d.itemsize)


def sb(offset: int, n: int, dtype: str = "f32", partitions: int = 128) -> AP:
    """A contiguous [partitions, n] SBUF tile."""
    return ap("sbuf", offset, [(1, n)], dtype, partitions=partitions)


def ps(offset: int, n: int, partitions: int = 128) -> AP:
    return ap("psum", offset, [(1, n)], "f32", partitions=partitions)


def ins(opcode: str, index: int = 0, **args: Any) -> Instr:
    return Instr(index, opcode, 1, (), (), (), (), args, f"test.mlir:{index + 1}:3")


def tensor(name: str, shape: tuple[int, ...], dtype: str, address: int, role: str) -> Tensor:
    d = NUMPY_DTYPES[dtype]
    return Tensor(name, shape, dtype, d, address, math.prod(shape) * d.itemsize, role)


def memory(tensors: list[Tensor] | None = None, strict: bool = True) -> Memory:
    return Memory(Program("t", tensors or [], [], []), strict_uninitialized=strict)


RNG = np.random.default_rng(1234)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def put(mem: Memory, where: AP, values: np.ndarray) -> None:
    mem.write(where, values)


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


# --- TensorE ----------------------------------------------------------------------------


def test_matmul_bf16_exact_products_and_fp32_accumulation() -> None:
    mem = memory()
    k, m, n = 128, 64, 512
    dst = ps(0, n, partitions=m)
    total = np.zeros((m, n), np.float32)
    for step in range(4):
        st, mv = randn(k, m), randn(k, n)
        put(mem, sb(0, m, "bf16"), st)
        put(mem, sb(1024, n, "bf16"), mv)
        execute(
            ins(
                "matmul",
                dst=dst,
                stationary=sb(0, m, "bf16"),
                moving=sb(1024, n, "bf16"),
                accumulate=step > 0,
            ),
            mem,
        )
        st32 = st.astype(BF16).astype(np.float64)
        mv32 = mv.astype(BF16).astype(np.float64)
        total = (total + (st32.T @ mv32).astype(np.float32)).astype(np.float32)
    got = mem.read(dst)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, total, rtol=1e-5, atol=1e-4)


def test_matmul_fp32_overwrite_and_strided_moving() -> None:
    mem = memory()
    st, mv = randn(32, 16), randn(32, 64)
    put(mem, sb(0, 16, partitions=32), st)
    put(mem, sb(256, 64, partitions=32), mv)
    moving = ap("sbuf", 256, [(2, 32)], partitions=32)  # even columns only
    dst = ps(0, 32, partitions=16)
    execute(ins("memset", dst=dst, value=5.0), mem)
    execute(ins("matmul", dst=dst, stationary=sb(0, 16, partitions=32), moving=moving), mem)
    np.testing.assert_allclose(mem.read(dst), st.T @ mv[:, ::2], rtol=1e-5, atol=1e-5)


def test_transpose() -> None:
    mem = memory()
    x = randn(96, 40)
    put(mem, sb(0, 40, "bf16", partitions=96), x)
    execute(
        ins("transpose", dst=ps(0, 96, partitions=40), src=sb(0, 40, "bf16", partitions=96)), mem
    )
    np.testing.assert_array_equal(
        mem.read(ps(0, 96, partitions=40)), x.astype(BF16).astype(np.float32).T
    )


# --- ScalarE ----------------------------------------------------------------------------


def test_erf_accuracy() -> None:
    x = np.linspace(-6, 6, 200_001)
    ref = np.array([math.erf(v) for v in x])
    assert np.abs(erf(x) - ref).max() < 1e-7
    got32 = erf(x.astype(np.float32))
    assert got32.dtype == np.float32
    ref32 = np.array([math.erf(float(v)) for v in x.astype(np.float32)])
    assert np.abs(got32.astype(np.float64) - ref32).max() < 5e-7


def _reference(name: str, y: np.ndarray) -> np.ndarray:
    v = y.astype(np.float64)
    erf64 = np.vectorize(math.erf)
    sig = 1 / (1 + np.exp(-v))
    softplus = np.log1p(np.exp(v))
    refs = {
        "copy": v,
        "relu": np.maximum(v, 0),
        "gelu": 0.5 * v * (1 + erf64(v / math.sqrt(2))),
        "gelu_tanh": 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))),
        "gelu_sigmoid": v / (1 + np.exp(-1.702 * v)),
        "gelu_dx": 0.5 * (1 + erf64(v / math.sqrt(2)))
        + v * np.exp(-v * v / 2) / math.sqrt(2 * math.pi),
        "silu": v * sig,
        "silu_dx": sig * (1 + v * (1 - sig)),
        "tanh": np.tanh(v),
        "sigmoid": sig,
        "softplus": softplus,
        "mish": v * np.tanh(softplus),
        "exp": np.exp(v),
        "log": np.log(np.abs(v)),
        "erf": erf64(v),
        "erf_dx": 2 / math.sqrt(math.pi) * np.exp(-v * v),
        "sqrt": np.sqrt(np.abs(v)),
        "rsqrt": 1 / np.sqrt(np.abs(v)),
        "reciprocal": 1 / v,
        "square": v * v,
        "abs": np.abs(v),
        "sign": np.sign(v),
        "sin": np.sin(v),
        "arctan": np.arctan(v),
    }
    return refs[name]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_functions(name: str) -> None:
    mem = memory()
    x = randn(128, 64) * 2
    if name in ("log", "sqrt", "rsqrt"):
        x = np.abs(x) + np.float32(0.01)
    put(mem, sb(0, 64), x)
    execute(ins("activation", func=name, dst=sb(512, 64), src=sb(0, 64)), mem)
    np.testing.assert_allclose(mem.read(sb(512, 64)), _reference(name, x), rtol=2e-6, atol=2e-6)


def test_activation_scale_bias_accum_and_bf16_output() -> None:
    mem = memory()
    x, scale, bias = randn(64, 100), randn(64, 1), randn(64, 1)
    put(mem, sb(0, 100, partitions=64), x)
    put(mem, sb(1000, 1, partitions=64), scale)
    put(mem, sb(1004, 1, partitions=64), bias)
    args = {"func": "exp", "src": sb(0, 100, partitions=64), "bias": sb(1004, 1, partitions=64)}
    execute(
        ins(
            "activation",
            dst=sb(2000, 100, "bf16", partitions=64),
            scale=sb(1000, 1, partitions=64),
            accum=sb(1008, 1, partitions=64),
            **args,
        ),
        mem,
    )
    out = np.exp(x * scale + bias)  # fp32 as the engine computes
    np.testing.assert_array_equal(mem.read(sb(2000, 100, "bf16", partitions=64)), out.astype(BF16))
    np.testing.assert_allclose(
        mem.read(sb(1008, 1, partitions=64)), out.sum(axis=1, keepdims=True), rtol=1e-5
    )
    execute(ins("activation", dst=sb(2000, 100, partitions=64), scale=0.5, **args), mem)
    np.testing.assert_allclose(
        mem.read(sb(2000, 100, partitions=64)), np.exp(x * 0.5 + bias), rtol=1e-6
    )


# --- VectorE / GpSimdE ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "ref"),
    [
        ("add", np.add),
        ("sub", np.subtract),
        ("mul", np.multiply),
        ("div", np.divide),
        ("max", np.maximum),
        ("min", np.minimum),
        ("abs_max", lambda a, b: np.maximum(np.abs(a), np.abs(b))),
        ("ge", lambda a, b: (a >= b).astype(np.float32)),
        ("eq", lambda a, b: (a == b).astype(np.float32)),
        ("logical_and", lambda a, b: ((a > 0) & (b > 0)).astype(np.float32)),
    ],
)
def test_tensor_tensor_ops_round_to_bf16(op: str, ref: Any) -> None:
    mem = memory()
    a, b = randn(128, 256), randn(128, 256)
    a[:, :8] = b[:, :8]
    if op == "logical_and":
        a, b = np.maximum(a, 0), np.maximum(b, 0)
    put(mem, sb(0, 256), a)
    put(mem, sb(2048, 256, "bf16"), b)
    execute(
        ins(
            "tensor_tensor",
            op=op,
            dst=sb(4096, 256, "bf16"),
            lhs=sb(0, 256),
            rhs=sb(2048, 256, "bf16"),
        ),
        mem,
    )
    b32 = b.astype(BF16).astype(np.float32)
    expect = ref(a, b32).astype(np.float32).astype(BF16)
    np.testing.assert_array_equal(mem.read(sb(4096, 256, "bf16")), expect)


def test_tensor_tensor_bitvec_on_integers() -> None:
    mem = memory()
    a = RNG.integers(-1000, 1000, (128, 16)).astype(np.int32)
    s = RNG.integers(0, 8, (128, 16)).astype(np.int32)
    put(mem, sb(0, 16, "i32"), a)
    put(mem, sb(64, 16, "i32"), s)
    for op, expect in [
        ("bitwise_and", a & s),
        ("bitwise_xor", a ^ s),
        ("shift_left", a << s),
        ("logical_shift_right", (a.view(np.uint32) >> s.astype(np.uint32)).view(np.int32)),
    ]:
        execute(
            ins(
                "tensor_tensor",
                op=op,
                dst=sb(128, 16, "i32"),
                lhs=sb(0, 16, "i32"),
                rhs=sb(64, 16, "i32"),
            ),
            mem,
        )
        np.testing.assert_array_equal(mem.read(sb(128, 16, "i32")), expect, err_msg=op)


def test_tensor_scalar_immediates_and_partition_operands() -> None:
    mem = memory()
    x, s0, s1 = randn(128, 32), randn(128, 1), randn(128, 1)
    put(mem, sb(0, 32), x)
    put(mem, sb(200, 1), s0)
    put(mem, sb(204, 1), s1)
    execute(
        ins(
            "tensor_scalar",
            dst=sb(300, 32),
            src=sb(0, 32),
            op0="mul",
            operand0=sb(200, 1),
            op1="add",
            operand1=sb(204, 1),
        ),
        mem,
    )
    np.testing.assert_array_equal(mem.read(sb(300, 32)), x * s0 + s1)
    execute(
        ins(
            "tensor_scalar",
            dst=sb(300, 32, "bf16"),
            src=sb(0, 32),
            op0="sub",
            operand0=0.25,
            op1="max",
            operand1=0.0,
        ),
        mem,
    )
    expect = np.maximum(x - np.float32(0.25), 0).astype(BF16)
    np.testing.assert_array_equal(mem.read(sb(300, 32, "bf16")), expect)
    execute(
        ins("tensor_scalar", dst=sb(300, 32), src=sb(0, 32), op0="gt", operand0=sb(200, 1)), mem
    )
    np.testing.assert_array_equal(mem.read(sb(300, 32)), (x > s0).astype(np.float32))


def test_tensor_reduce_axes_and_negate() -> None:
    mem = memory()
    x = randn(128, 4, 8, 16)
    put(mem, sb(0, 512), x.reshape(128, 512))
    src = ap("sbuf", 0, [(128, 4), (16, 8), (1, 16)])
    execute(ins("tensor_reduce", op="add", dst=sb(4096, 4), src=src, axes=2), mem)
    np.testing.assert_allclose(mem.read(sb(4096, 4)), x.sum(axis=(2, 3)), rtol=1e-5, atol=1e-5)
    execute(ins("tensor_reduce", op="max", dst=sb(4096, 32), src=src, negate=True), mem)
    np.testing.assert_array_equal(mem.read(sb(4096, 32)), -x.max(axis=3).reshape(128, 32))
    execute(ins("tensor_reduce", op="min", dst=sb(4096, 1), src=src, axes=3), mem)
    np.testing.assert_array_equal(mem.read(sb(4096, 1))[:, 0], x.reshape(128, -1).min(axis=1))
    execute(ins("tensor_reduce", op="sub", dst=sb(4096, 32, "bf16"), src=src), mem)
    expect = (x[..., 0] - x[..., 1:].sum(axis=-1)).reshape(128, 32)
    np.testing.assert_allclose(
        mem.read(sb(4096, 32, "bf16")).astype(np.float32), expect, rtol=1e-2, atol=1e-2
    )
    ints = RNG.integers(0, 256, (128, 8)).astype(np.int32)
    put(mem, sb(8192, 8, "i32"), ints)
    execute(
        ins("tensor_reduce", op="bitwise_or", dst=sb(8192 + 64, 1, "i32"), src=sb(8192, 8, "i32")),
        mem,
    )
    np.testing.assert_array_equal(
        mem.read(sb(8192 + 64, 1, "i32"))[:, 0], np.bitwise_or.reduce(ints, axis=1)
    )


def test_tensor_copy_same_dtype_is_bit_exact_and_cast_rounds() -> None:
    mem = memory()
    bits = RNG.integers(0, 2**32, (128, 16), dtype=np.uint64).astype(np.uint32)
    bits[:, 0] = 0x7FC00123  # a NaN with a payload
    put(mem, sb(0, 16, "ui32"), bits)
    execute(ins("tensor_copy", dst=sb(64, 16), src=ap("sbuf", 0, [(1, 16)], "f32")), mem)
    np.testing.assert_array_equal(mem.read(sb(64, 16)).view(np.uint32), bits)
    x = randn(128, 16)
    put(mem, sb(128, 16), x)
    execute(ins("tensor_copy", dst=sb(256, 16, "bf16"), src=sb(128, 16)), mem)
    np.testing.assert_array_equal(mem.read(sb(256, 16, "bf16")), x.astype(BF16))


def _copy_predicated(dst: AP, src: AP, predicate: AP) -> Instr:
    return ins("tensor_copy_predicated", dst=dst, src=src, predicate=predicate)


F32_SPECIALS = np.array(
    [
        0x7FC00123,  # quiet NaN with a payload
        0xFFA00001,  # negative signalling NaN with a payload
        0x7F800000,  # inf
        0xFF800000,  # -inf
        0x80000000,  # -0.0
        0x00000001,  # the smallest subnormal
        0x3F800000,  # 1.0
        0xC0100000,  # -2.25
    ],
    np.uint32,
)


def test_tensor_copy_predicated_is_bit_exact_and_keeps_the_rest() -> None:
    mem = memory()
    src_bits = RNG.integers(0, 2**32, (128, 64), dtype=np.uint64).astype(np.uint32)
    src_bits[:, :8] = F32_SPECIALS
    old_bits = RNG.integers(0, 2**32, (128, 64), dtype=np.uint64).astype(np.uint32)
    old_bits[:, 8:16] = F32_SPECIALS  # kept ones must survive bit for bit too
    pred = RNG.choice(np.array([0, 1, 2, 128, 255], np.uint8), (128, 64))
    pred[:, 0] = 0
    pred[:, 1] = 1
    put(mem, sb(0, 64, "ui32"), src_bits)
    put(mem, sb(256, 64, "ui32"), old_bits)
    put(mem, sb(512, 64, "ui8"), pred)
    execute(_copy_predicated(sb(256, 64), sb(0, 64), sb(512, 64, "ui8")), mem)
    got = mem.read(sb(256, 64)).view(np.uint32)
    np.testing.assert_array_equal(got, np.where(pred != 0, src_bits, old_bits))
    assert (pred == 0).any() and (pred != 0).any()


def test_tensor_copy_predicated_bf16_with_u16_u32_and_strided_operands() -> None:
    mem = memory()
    src = np.full((128, 8), 0x7FC1, np.uint16)  # bf16 NaN with a payload
    src[:, 1] = 0x8000  # -0.0
    src[:, 2] = 0xFF80  # -inf
    src[:, 3:] = RNG.integers(0, 2**16, (128, 5), dtype=np.uint16)
    put(mem, sb(0, 8, "ui16"), src)
    put(mem, sb(64, 8, "ui16"), np.zeros((128, 8), np.uint16))
    # a ui32 predicate: 0x100 is nonzero although its low byte is 0; the predicate is
    # read backwards (step -1) and dst is every second bf16 of 16
    pred32 = np.tile(np.array([0, 0x100, 0, 7, 0x80000000, 0, 1, 0], np.uint32), (128, 1))
    put(mem, sb(1024, 8, "ui32"), pred32)
    dst = ap("sbuf", 128, [(2, 8)], "bf16")
    put(mem, ap("sbuf", 128, [(1, 16)], "ui16"), np.full((128, 16), 0x3F80, np.uint16))
    backwards = ap("sbuf", 1024 + 7 * 4, [(-1, 8)], "ui32")
    execute(_copy_predicated(dst, sb(0, 8, "bf16"), backwards), mem)
    keep = pred32[:, ::-1] != 0
    np.testing.assert_array_equal(
        mem.read(dst).view(np.uint16), np.where(keep, src, np.uint16(0x3F80))
    )
    # the odd bf16s in between are untouched
    assert (mem.read(ap("sbuf", 130, [(2, 8)], "ui16")) == 0x3F80).all()
    # a ui16 predicate, all zero: nothing changes
    put(mem, sb(2048, 8, "ui16"), np.zeros((128, 8), np.uint16))
    before = mem.read(dst).view(np.uint16).copy()
    execute(_copy_predicated(dst, sb(0, 8, "bf16"), sb(2048, 8, "ui16")), mem)
    np.testing.assert_array_equal(mem.read(dst).view(np.uint16), before)


def test_tensor_copy_predicated_f32_predicate_is_nonzero_in_its_own_dtype() -> None:
    """The verifier allows only ui8/ui16/ui32 predicates (trn1.md B.3); the simulator's
    rule, a predicate element selects when it is nonzero in its own dtype, is the same for
    any dtype: for f32, -0.0 does not select, NaN and subnormals do."""
    mem = memory()
    pred = np.tile(
        np.array([0.0, -0.0, np.nan, 1e-45, -1.0, np.inf, 0.5, 0.0], np.float32), (128, 1)
    )
    src = randn(128, 8)
    put(mem, sb(0, 8), src)
    put(mem, sb(64, 8), np.full((128, 8), 9.0, np.float32))
    put(mem, sb(128, 8), pred)
    execute(_copy_predicated(sb(64, 8), sb(0, 8), sb(128, 8)), mem)
    expect = np.where([False, False, True, True, True, True, True, False], src, 9.0)
    np.testing.assert_array_equal(mem.read(sb(64, 8)), expect)


def test_tensor_copy_predicated_reads_only_the_kept_part_of_dst() -> None:
    # dst never written: an all-true predicate reads none of it, and afterwards all of it
    # is written
    mem = memory(strict=True)
    put(mem, sb(0, 16), randn(128, 16))
    put(mem, sb(512, 16, "ui8"), np.ones((128, 16), np.uint8))
    execute(_copy_predicated(sb(256, 16), sb(0, 16), sb(512, 16, "ui8")), mem)
    mem.read(sb(256, 16))
    # a predicate with zeros keeps (reads) never-written elements of dst: an error
    half = np.tile(np.array([1, 0], np.uint8), (128, 8))
    put(mem, sb(768, 16, "ui8"), half)
    with pytest.raises(UninitializedReadError, match="reads 4096 of 4096 bytes"):
        execute(_copy_predicated(sb(1024, 16), sb(0, 16), sb(768, 16, "ui8")), mem)
    # not strict: a warning, and only the copied elements become written
    mem = memory(strict=False)
    put(mem, sb(0, 16), randn(128, 16))
    put(mem, sb(768, 16, "ui8"), half)
    execute(_copy_predicated(sb(1024, 16), sb(0, 16), sb(768, 16, "ui8")), mem)
    assert len(mem.warnings) == 1
    mem.read(ap("sbuf", 1024, [(2, 8)]))  # the copied (even) elements
    assert len(mem.warnings) == 1
    mem.read(ap("sbuf", 1028, [(2, 8)]))  # the kept, never-written (odd) ones
    assert len(mem.warnings) == 2


def test_tensor_copy_predicated_into_psum_counts_as_a_non_matmul_write() -> None:
    mem = memory()
    put(mem, sb(0, 64), randn(128, 64))
    mem.write(ps(0, 64), np.zeros((128, 64), np.float32), by_matmul=True)
    pred = np.zeros((128, 64), np.uint8)
    pred[:, 5] = 1
    put(mem, sb(512, 64, "ui8"), pred)
    execute(_copy_predicated(ps(0, 64), sb(0, 64), sb(512, 64, "ui8")), mem)
    with pytest.raises(PsumAccumulateError):
        mem.check_accumulate(ps(0, 64))
    mem.check_accumulate(ps(0, 5))  # elements 0..4 were last written by the matmul


def test_reciprocal_and_memset() -> None:
    mem = memory()
    x = randn(128, 16)
    put(mem, sb(0, 16), x)
    execute(ins("reciprocal", dst=sb(64, 16), src=sb(0, 16)), mem)
    np.testing.assert_array_equal(mem.read(sb(64, 16)), np.float32(1) / x)
    execute(ins("memset", dst=sb(128, 16, "bf16"), value=0.1), mem)
    assert (mem.read(sb(128, 16, "bf16")) == BF16.type(0.1)).all()
    execute(ins("memset", dst=sb(192, 8, "i32"), value=-7.0), mem)
    assert (mem.read(sb(192, 8, "i32")) == -7).all()


def test_iota_values() -> None:
    mem = memory()
    dst = ap("sbuf", 0, [(1, 24)], "i32", partitions=64)
    execute(ins("iota", dst=dst, base=5, channel_multiplier=100, pattern=((10, 4), (-1, 6))), mem)
    p = np.arange(64)[:, None, None]
    i = np.arange(4)[None, :, None]
    j = np.arange(6)[None, None, :]
    expect = (5 + p * 100 + i * 10 - j).reshape(64, 24)
    np.testing.assert_array_equal(mem.read(dst), expect)
    fdst = ap("sbuf", 256, [(1, 128)], "f32")
    execute(ins("iota", dst=fdst, base=0, channel_multiplier=-1, pattern=((1, 128),)), mem)
    np.testing.assert_array_equal(
        mem.read(fdst), (np.arange(128)[None, :] - np.arange(128)[:, None]).astype(np.float32)
    )


def test_affine_select_causal_mask() -> None:
    mem = memory()
    x = randn(128, 128)
    put(mem, sb(0, 128), x)
    # keep x[p, j] where p - j >= 0 (lower triangle), -inf elsewhere
    execute(
        ins(
            "affine_select",
            cmp="ge",
            dst=sb(1024, 128, "bf16"),
            src=sb(0, 128),
            base=0,
            channel_multiplier=1,
            pattern=((-1, 128),),
            on_false=-math.inf,
        ),
        mem,
    )
    expect = np.where(np.tril(np.ones((128, 128), bool)), x, -np.inf).astype(BF16)
    np.testing.assert_array_equal(mem.read(sb(1024, 128, "bf16")), expect)


# --- a whole parsed program -------------------------------------------------------------


def _parse(text: str, name: str) -> builtin.ModuleOp:
    return parse_source(text, name)


def test_example_program_computes_gelu_of_matmul() -> None:
    program = decode(_parse(EXAMPLE.read_text(), "matmul_gelu.mlir"))
    mem = Memory(program, strict_uninitialized=True)
    x, w = randn(128, 128), randn(128, 512)
    mem.load_tensor("x", x)
    mem.load_tensor("w", w)
    for instr in program.instrs:
        execute(instr, mem)
    xw = x.astype(np.float64) @ w.astype(np.float64)
    expect = 0.5 * xw * (1 + np.vectorize(math.erf)(xw / math.sqrt(2)))
    np.testing.assert_allclose(mem.read_tensor("y"), expect, rtol=1e-4, atol=1e-4)
    assert mem.warnings == []
