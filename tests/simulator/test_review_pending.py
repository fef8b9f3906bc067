"""Review of pending loads (`memory.py`) and streamed execution: each pending-load state
must be what an eager copy would have left, and results, warnings and errors must be the
same from one simulation to the next.

Tests named `test_bug_*` are regression tests for bugs a review found (each failed before
its fix: operands of loads into aliasing SBUF patterns read from HBM); the others guard
tricky cases."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest
from semantics_helpers import BF16, ap, ins, memory, sb, tensor

from trnc.simulator import SimulationResult, simulate
from trnc.simulator import memory as memory_module
from trnc.simulator.errors import SimulationError, UninitializedReadError
from trnc.simulator.program import AP, Instr, Program, decode
from trnc.simulator.semantics import execute
from trnc.tools.context import parse_source

# --- helpers ----------------------------------------------------------------------------


def _program(head: str, body: str) -> Program:
    module = parse_source(f"trn_isa.program @p {{\n{head}{body}}}", "x.mlir")
    module.verify()
    return decode(module)


def _inputs(program: Program, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        t.name: rng.standard_normal(t.shape).astype(t.np_dtype)
        for t in program.tensors
        if t.role == "input"
    }


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].tobytes() == b[name].tobytes(), name


def _fresh(program: Program, inputs: dict[str, np.ndarray]) -> SimulationResult:
    """A simulation of a freshly decoded copy of `program` (nothing kept in its cache)."""
    return simulate(dataclasses.replace(program, cache={}), inputs)


HEAD = (
    "  trn_isa.hbm_tensor @a : tensor<128x128xbf16> at 0 role input\n"
    "  trn_isa.hbm_tensor @b : tensor<128x512xbf16> at 32768 role input\n"
    "  trn_isa.hbm_tensor @y : tensor<128x512xf32> at 163840 role output\n"
    "  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, "
    "src #trn_isa.ap<hbm + 0, [[128, 128], [1, 128]], bf16> on dma0 signal [dma0.s0]\n"
)
ST = "stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>"
BANK0 = "#trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>"
EVACUATE_AND_STORE = (
    "  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 4096, [[1, 512]], f32>, "
    f"src {BANK0} on vector wait [tensor.s0 >= 1] signal [vector.s0]\n"
    "  trn_isa.dma_copy dst #trn_isa.ap<hbm + 163840, [[512, 128], [1, 512]], f32>, "
    "src #trn_isa.ap<sbuf[0:128] + 4096, [[1, 512]], f32> on dma2 wait [vector.s0 >= {n}]\n"
)


# --- bug: a load into an SBUF pattern that names some bytes twice -----------------------

ALIASED = "#trn_isa.ap<sbuf[0:128] + 256, [[0, 2], [1, 256]], bf16>"
"""512 elements per partition on 256 bf16 slots: each slot is written twice by a load
(the last write, the upper half of each row, stays) and read twice by a matmul."""


def _aliased_load_program(touch: bool) -> Program:
    """b loaded into `ALIASED` and used there as a matmul's moving operand; with `touch`,
    a tensor_copy reads one element of it first (so the load is copied into SBUF)."""
    body = (
        f"  trn_isa.dma_copy dst {ALIASED}, "
        "src #trn_isa.ap<hbm + 32768, [[512, 128], [1, 512]], bf16> on dma1 signal [dma1.s0]\n"
    )
    sync = "wait [dma0.s0 >= 1, dma1.s0 >= 1]"
    if touch:
        body += (
            "  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 12288, [[1, 1]], bf16>, "
            "src #trn_isa.ap<sbuf[0:128] + 256, [[1, 1]], bf16> on vector "
            "wait [dma1.s0 >= 1] signal [vector.s0]\n"
        )
        sync = "wait [dma0.s0 >= 1, vector.s0 >= 1]"
    body += (
        f"  trn_isa.matmul dst {BANK0}, {ST}, moving {ALIASED} {{accumulate = false}} "
        f"on tensor {sync} signal [tensor.s0]\n"
    )
    return _program(HEAD, body + EVACUATE_AND_STORE.format(n=2 if touch else 1))


def test_bug_operand_of_a_load_into_an_aliasing_pattern_is_read_from_hbm() -> None:
    """`Memory.operand` must give what SBUF holds after the load, not the HBM source."""
    mem = memory([tensor("x", (128, 64), "f32", 0, "input")])
    x = np.random.default_rng(0).standard_normal((128, 64)).astype(np.float32)
    mem.load_tensor("x", x)
    dst = ap("sbuf", 0, [(0, 2), (1, 32)])  # both halves of each row land on 32 slots
    execute(ins("dma_copy", dst=dst, src=ap("hbm", 0, [(1, 64)], pstep=64)), mem)
    operand = mem.operand(dst)
    eager = mem.read(dst).reshape(128, -1)  # copies the load in, reads SBUF
    np.testing.assert_array_equal(eager, np.concatenate([x[:, 32:], x[:, 32:]], axis=1))
    np.testing.assert_array_equal(operand, eager)


def test_bug_matmul_on_an_aliasing_load_differs_from_eager() -> None:
    """A matmul whose moving operand is a load into an aliasing pattern must see the SBUF
    bytes (the later write of each slot), as when the load is copied first."""
    plain, touched = _aliased_load_program(False), _aliased_load_program(True)
    inputs = _inputs(plain, 1)
    expected = _fresh(touched, inputs).outputs
    a = inputs["a"].astype(np.float32)
    upper = inputs["b"].astype(np.float32)[:, 256:]
    np.testing.assert_allclose(
        expected["y"], a.T @ np.concatenate([upper, upper], axis=1), rtol=1e-4, atol=1e-3
    )
    _same(_fresh(plain, inputs).outputs, expected)


# --- pending loads against eager copies, memory level ------------------------------------

_ARENA = 4096
"""SBUF bytes per partition the random programs use."""
_X, _Y = 0, 128 * 1024 * 4
"""HBM: x f32 [128, 1024] loaded, y f32 [128, 1024] never written (reads warn)."""


def _factor(rng: np.random.Generator, n: int, k: int) -> list[int]:
    counts = []
    for _ in range(k - 1):
        d = int(rng.choice([d for d in range(1, n + 1) if n % d == 0]))
        counts.append(d)
        n //= d
    return [*counts, n]


def _steps(rng: np.random.Generator, counts: list[int], aliasing: bool) -> list[int]:
    if aliasing:
        return [int(rng.integers(-4, 5)) for _ in counts]
    steps, size = [0] * len(counts), int(rng.integers(1, 3))
    for i in reversed(rng.permutation(len(counts))):  # a permuted dense layout, +/- steps
        steps[i] = size if rng.random() < 0.7 else -size
        size *= counts[i]
    return steps


def _onchip(rng: np.random.Generator, p0: int, count: int, free: int, aliasing: bool = True) -> AP:
    """A random f32 SBUF pattern (up to 3 free dims, negative and, if `aliasing`, zero or
    overlapping steps) inside the arena."""
    while True:
        counts = _factor(rng, free, int(rng.integers(1, 4)))
        steps = _steps(rng, counts, aliasing and rng.random() < 0.5)
        lo = 4 * sum(min(0, s * (c - 1)) for s, c in zip(steps, counts, strict=True))
        hi = 4 * sum(max(0, s * (c - 1)) for s, c in zip(steps, counts, strict=True)) + 4
        if hi - lo <= _ARENA:
            offset = 4 * int(rng.integers(0, (_ARENA - (hi - lo)) // 4 + 1)) - lo
            return ap("sbuf", offset, list(zip(steps, counts, strict=True)), "f32", p0, count)


def _hbm(rng: np.random.Generator, base: int, count: int, free: int) -> AP:
    counts = _factor(rng, free, int(rng.integers(1, 3)))
    steps = _steps(rng, counts, False)
    lo = sum(min(0, s * (c - 1)) for s, c in zip(steps, counts, strict=True))
    pstep = int(rng.choice([1024, -1024, 0]))
    plo = min(0, pstep * (count - 1))
    offset = base + 4 * (int(rng.integers(0, 64)) - lo - plo)
    return ap("hbm", offset, list(zip(steps, counts, strict=True)), "f32", 0, count, pstep)


def _random_program(seed: int) -> Iterator[Instr]:
    """Loads (never into an aliasing pattern), stores, HBM-to-HBM copies, copies,
    memsets, iotas, predicated copies, activations with accum, transposes and matmuls, on
    overlapping strided patterns and partition sub-ranges."""
    rng = np.random.default_rng(seed)
    loads: list[AP] = []
    for i in range(int(rng.integers(6, 16))):
        r = rng.random()
        p0 = 32 * int(rng.integers(0, 4))
        count = int(rng.integers(1, 129 - p0))
        free = int(rng.choice([1, 4, 6, 8, 12, 16, 32]))
        if r < 0.35:
            if rng.random() < 0.4:  # a tile a matmul may take whole (K = 128)
                p0, count, free = 0, 128, int(rng.choice([64, 512]))
            dst = _onchip(rng, p0, count, free, aliasing=False)
            base = _X if rng.random() < 0.85 else _Y
            yield ins("dma_copy", i, dst=dst, src=_hbm(rng, base, count, free))
            if dst.partitions == 128 and dst.free_elems in (64, 512):
                loads.append(dst)
        elif r < 0.45:
            sts = [t for t in loads if t.free_elems == 64] or [_onchip(rng, 0, 128, 64)]
            mvs = [t for t in loads if t.free_elems == 512] or [_onchip(rng, 0, 128, 512)]
            st, mv = sts[int(rng.integers(0, len(sts)))], mvs[int(rng.integers(0, len(mvs)))]
            dst = ap("psum", 2048 * int(rng.integers(0, 2)), [(1, 512)], "f32", 0, 64)
            acc = bool(rng.random() < 0.3)
            yield ins("matmul", i, dst=dst, stationary=st, moving=mv, accumulate=acc)
            yield ins("tensor_copy", i, dst=_onchip(rng, 0, 64, 512), src=dst)
        elif r < 0.53:
            dst = _hbm(rng, _X if rng.random() < 0.5 else _Y, count, free)
            yield ins("dma_copy", i, dst=dst, src=_onchip(rng, p0, count, free))
        elif r < 0.6:
            src, dst = _hbm(rng, _X, count, free), _hbm(rng, _X, count, free)
            yield ins("dma_copy", i, dst=dst, src=src)
        elif r < 0.68:
            dst, src = _onchip(rng, p0, count, free), _onchip(rng, p0, count, free)
            yield ins("tensor_copy", i, dst=dst, src=src)
        elif r < 0.74:
            yield ins("memset", i, dst=_onchip(rng, p0, count, free), value=2.0)
        elif r < 0.8:
            dst = _onchip(rng, p0, count, free)
            yield ins("iota", i, dst=dst, base=1, channel_multiplier=1, pattern=[(1, free)])
        elif r < 0.88:
            dst, src, predicate = (_onchip(rng, p0, count, free) for _ in range(3))
            yield ins("tensor_copy_predicated", i, dst=dst, src=src, predicate=predicate)
        elif r < 0.94:
            src, dst = _onchip(rng, p0, count, free), _onchip(rng, p0, count, free)
            accum = _onchip(rng, p0, count, 1)
            yield ins("activation", i, dst=dst, src=src, func="relu", accum=accum)
        else:
            k, m = int(rng.integers(1, 33)), int(rng.integers(1, 33))
            dst = ap("psum", 4096, [(1, k)], "f32", 0, m)
            yield ins("transpose", i, dst=dst, src=_onchip(rng, 0, k, m))
            yield ins("tensor_copy", i, dst=_onchip(rng, 0, m, k), src=dst)


def _run_random(seed: int, strict: bool) -> tuple[bytes, str | None, list[str]]:
    mem = memory(
        [
            tensor("x", (128, 1024), "f32", _X, "input"),
            tensor("y", (128, 1024), "f32", _Y, "output"),
        ],
        strict=strict,
    )
    x = np.random.default_rng(seed + 1).standard_normal((128, 1024)).astype(np.float32)
    mem.load_tensor("x", x)
    error = None
    try:
        for instr in _random_program(seed):
            execute(instr, mem)
    except SimulationError as e:
        error = f"{type(e).__name__}: {e}"
    state = b"".join(
        np.ascontiguousarray(a).tobytes()
        for a in (mem.sbuf[:, :_ARENA], mem.hbm, mem.psum, mem.written["sbuf"][:, :_ARENA])
    )
    return state, error, [str(w) for w in mem.warnings]


@pytest.mark.parametrize("strict", [False, True])
def test_random_programs_see_what_eager_copies_leave(
    strict: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 random programs: memories, first error and warnings as with every load copied
    at once (`MAX_PENDING_LOADS = 0`)."""
    pending = [_run_random(seed, strict) for seed in range(200)]
    monkeypatch.setattr(memory_module, "MAX_PENDING_LOADS", 0)
    for seed, got in enumerate(pending):
        assert got == _run_random(seed, strict), seed


def test_a_cast_load_is_not_pending_and_rounds() -> None:
    """A load whose src and dst dtypes differ goes through fp32 at once (not deferred)."""
    mem = memory([tensor("x", (128, 8), "f32", 0, "input")])
    x = np.random.default_rng(4).standard_normal((128, 8)).astype(np.float32)
    mem.load_tensor("x", x)
    dst = ap("sbuf", 64, [(-1, 8)], "bf16")  # reversed, bf16
    execute(ins("dma_copy", dst=dst, src=ap("hbm", 0, [(1, 8)], pstep=8)), mem)
    assert mem._lazy == []
    np.testing.assert_array_equal(mem.read(dst), x.astype(BF16))
    back = ap("sbuf", 256, [(1, 8)], "f32")
    execute(ins("dma_copy", dst=back, src=dst), mem)
    np.testing.assert_array_equal(mem.read(back), x.astype(BF16).astype(np.float32))


def test_a_pending_load_under_a_negative_step_read_and_a_partition_sub_range() -> None:
    """Reads backwards over part of a pending load, on some of its partitions only."""
    mem = memory([tensor("x", (128, 64), "f32", 0, "input")])
    x = np.random.default_rng(5).standard_normal((128, 64)).astype(np.float32)
    mem.load_tensor("x", x)
    execute(ins("dma_copy", dst=sb(0, 64), src=ap("hbm", 0, [(1, 64)], pstep=64)), mem)
    part = ap("sbuf", 4 * 40, [(-2, 4), (-1, 3)], start=96, partitions=16)
    got = mem.read(part)
    expected = np.stack([x[96:112, 40 - 2 * i - np.arange(3)] for i in range(4)], axis=1)
    np.testing.assert_array_equal(got, expected)


def test_an_hbm_to_hbm_copy_over_a_pending_source_backwards() -> None:
    """An HBM-to-HBM copy with a negative partition step that overwrites a row of a
    pending load's source: the load keeps the old bytes."""
    mem = memory([tensor("x", (128, 64), "f32", 0, "input")])
    x = np.random.default_rng(6).standard_normal((128, 64)).astype(np.float32)
    mem.load_tensor("x", x)
    execute(ins("dma_copy", dst=sb(0, 16), src=ap("hbm", 4 * 8, [(1, 16)], pstep=64)), mem)
    over = ap("hbm", 4 * (64 * 127 + 60), [(-1, 64)], partitions=1)  # row 127, reversed
    execute(ins("dma_copy", dst=over, src=ap("hbm", 0, [(1, 64)], partitions=1)), mem)
    np.testing.assert_array_equal(mem.read(sb(0, 16)), x[:, 8:24])


def test_strict_uninitialized_source_fails_at_the_load() -> None:
    """A load of never-written HBM fails (strict) at the load, not when it is copied in."""
    mem = memory([tensor("x", (128, 64), "f32", 0, "input")], strict=True)
    load = ins("dma_copy", 7, dst=sb(0, 64), src=ap("hbm", 0, [(1, 64)], pstep=64))
    with pytest.raises(UninitializedReadError) as info:
        execute(load, mem)
    assert info.value.instrs == (7,) and mem._lazy == []


def test_sbuf_property_flushes_pending_loads() -> None:
    """`Memory.sbuf` copies every pending load in first."""
    mem = memory([tensor("x", (128, 4), "f32", 0, "input")])
    mem.load_tensor("x", np.ones((128, 4), np.float32))
    execute(ins("dma_copy", dst=sb(512, 4), src=ap("hbm", 0, [(1, 4)], pstep=4)), mem)
    assert mem._sbuf[:, 512:528].view(np.float32).sum() == 0  # still pending
    assert mem.sbuf[:, 512:528].view(np.float32).sum() == 512 and mem._lazy == []


# --- with the GEMM helper: shared HBM, conversion cache, successive simulations ----------


def _reload_program(head: str, base: int) -> Program:
    """a^T b; b's HBM bytes overwritten by an HBM-to-HBM copy from c, b loaded again into
    the same SBUF tile; a^T c stored (the helper's cached conversion of b must go)."""
    b, c, y = base + 32768, base + 163840, base + 294912
    mv = "#trn_isa.ap<sbuf[0:128] + 256, [[1, 512]], bf16>"
    b_ap = f"#trn_isa.ap<hbm + {b}, [[512, 128], [1, 512]], bf16>"
    body = (
        f"  trn_isa.dma_copy dst {mv}, src {b_ap} on dma1 signal [dma1.s0]\n"
        f"  trn_isa.matmul dst {BANK0}, {ST}, "
        f"moving {mv} {{accumulate = false}} on tensor "
        "wait [dma0.s0 >= 1, dma1.s0 >= 1] signal [tensor.s0]\n"
        f"  trn_isa.dma_copy dst {b_ap}, "
        f"src #trn_isa.ap<hbm + {c}, [[512, 128], [1, 512]], bf16> on dma2 "
        "wait [tensor.s0 >= 1] signal [dma2.s0]\n"
        f"  trn_isa.dma_copy dst {mv}, src {b_ap} on dma1 wait [dma2.s0 >= 1] signal [dma1.s0]\n"
        f"  trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 2048, [[1, 512]], f32>, "
        "stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, "
        f"moving {mv} {{accumulate = false}} on tensor wait [dma1.s0 >= 2] signal [tensor.s0]\n"
        "  trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 4096, [[1, 512]], f32>, "
        "src #trn_isa.ap<psum[0:128] + 2048, [[1, 512]], f32> on vector "
        "wait [tensor.s0 >= 2] signal [vector.s0]\n"
        f"  trn_isa.dma_copy dst #trn_isa.ap<hbm + {y}, [[512, 128], [1, 512]], f32>, "
        "src #trn_isa.ap<sbuf[0:128] + 4096, [[1, 512]], f32> on dma3 wait [vector.s0 >= 1]\n"
    )
    return _program(head, body)


def _reload_head(base: int) -> str:
    return (
        f"  trn_isa.hbm_tensor @a : tensor<128x128xbf16> at {base} role input\n"
        f"  trn_isa.hbm_tensor @b : tensor<128x512xbf16> at {base + 32768} role input\n"
        f"  trn_isa.hbm_tensor @c : tensor<128x512xbf16> at {base + 163840} role input\n"
        f"  trn_isa.hbm_tensor @y : tensor<128x512xf32> at {base + 294912} role output\n"
        "  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, "
        f"src #trn_isa.ap<hbm + {base}, [[128, 128], [1, 128]], bf16> on dma0 signal [dma0.s0]\n"
    )


def test_successive_simulations_with_new_data_and_growing_hbm() -> None:
    """The same program with new inputs, then one whose HBM lies past 16 MiB, then the
    first again: bit for bit as a freshly decoded copy (nothing kept in `Program.cache`),
    and a^T c each time."""
    small = _reload_program(_reload_head(0), 0)
    far = 20 << 20
    large = _reload_program(_reload_head(far), far)
    assert large.hbm_bytes > 16 << 20
    for k, program in enumerate((small, small, large, small, large)):
        inputs = _inputs(program, 10 + k)
        got = simulate(program, inputs).outputs
        _same(got, _fresh(program, inputs).outputs)
        a, c = inputs["a"].astype(np.float32), inputs["c"].astype(np.float32)
        np.testing.assert_allclose(got["y"], a.T @ c, rtol=1e-4, atol=1e-3)


def test_a_deadlock_still_wins_with_streaming() -> None:
    """A deadlocked program whose first instructions already ran (one of them failing
    when strict) reports the deadlock."""
    body = (
        "  trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 4096, [[1, 16]], f32>, "
        "src #trn_isa.ap<sbuf[0:128] + 8192, [[1, 16]], f32> on dma2 signal [dma2.s0]\n"
        "  trn_isa.memset dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 16]], f32>, value 0.0 "
        "on vector wait [dma3.s0 >= 1]\n"
    )
    program = _program(HEAD, body)
    with pytest.raises(SimulationError) as info:
        simulate(program, _inputs(program, 0), strict_uninitialized=True)
    assert type(info.value).__name__ == "DeadlockError"
