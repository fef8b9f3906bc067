"""Functional semantics of the simulator: `execute` of the TensorE (matmul, transpose)
and ScalarE (activation) instructions against numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from semantics_helpers import BF16, ap, ins, memory, ps, put, randn, sb

from trnc.simulator.semantics import ACTIVATIONS, erf, execute

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
