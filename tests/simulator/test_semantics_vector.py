"""Functional semantics of the simulator: `execute` of the VectorE / GpSimdE
instructions, and of a whole parsed program, against numpy."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from semantics_helpers import BF16, RNG, ap, ins, memory, ps, put, randn, sb
from xdsl.dialects import builtin

from trnc.simulator.errors import PsumAccumulateError, UninitializedReadError
from trnc.simulator.memory import Memory
from trnc.simulator.program import AP, Instr, decode
from trnc.simulator.semantics import execute
from trnc.tools.context import parse_source

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "matmul_gelu.mlir"


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
