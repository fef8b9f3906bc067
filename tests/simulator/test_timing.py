"""Timing model of the simulator (trn1.md A.2 costs and latency, A.3 DMA, A.4 semaphores)."""

from __future__ import annotations

import pytest

from trnc.machine import TRN1
from trnc.simulator.errors import DeadlockError
from trnc.simulator.program import Program, decode
from trnc.simulator.timing import Schedule, schedule
from trnc.tools.context import parse_source

TENSOR_GHZ, VECTOR_GHZ, SCALAR_GHZ, GPSIMD_GHZ = 2.8, 1.12, 1.4, 1.4
HBM = "trn_isa.hbm_tensor @t : tensor<4096x4096xbf16> at 0 role input"


def _program(body: str, name: str = "t.mlir") -> Program:
    module = parse_source(f"trn_isa.program @t {{\n{body}\n}}", name)
    module.verify()
    return decode(module)


def _run(body: str) -> tuple[Program, Schedule]:
    program = _program(body)
    return program, schedule(program)


def _one(body: str) -> float:
    """Duration (end - start) of a one-instruction program."""
    _, plan = _run(body)
    assert plan.start_ns == [0.0]
    return plan.end_ns[0] - plan.start_ns[0]


def _sb(off: int, n: int, dtype: str = "bf16", parts: str = "0:128", mem: str = "sbuf") -> str:
    return f"#trn_isa.ap<{mem}[{parts}] + {off}, [[1, {n}]], {dtype}>"


# --- A.2 cost formulas ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("stationary", "moving", "dtype", "cycles"),
    [
        (128, 512, "bf16", 512),  # max(min(64, 128), 512)
        (128, 16, "bf16", 64),  # max(min(64, 128), 16)
        (32, 16, "bf16", 32),  # max(min(64, 32), 16)
        (32, 256, "f32", 4 * 256),  # fp32 inputs: 4x
    ],
)
def test_matmul_cost(stationary: int, moving: int, dtype: str, cycles: int) -> None:
    text = (
        f"trn_isa.matmul dst {_sb(0, moving, 'f32', f'0:{stationary}', 'psum')}, stationary "
        f"{_sb(0, stationary, dtype)}, moving {_sb(1024, moving, dtype)} "
        "{accumulate = false} on tensor"
    )
    assert _one(text) == pytest.approx(cycles / TENSOR_GHZ)


def test_matmul_flops_counted_transposes_not() -> None:
    _, plan = _run(
        f"trn_isa.matmul dst {_sb(0, 512, 'f32', mem='psum')}, stationary {_sb(0, 128)}, "
        f"moving {_sb(1024, 512)} {{accumulate = false}} on tensor\n"
        f"trn_isa.transpose dst {_sb(2048, 128, 'f32', mem='psum')}, src "
        f"{_sb(4096, 128, 'f32')} on tensor"
    )
    assert plan.flops == 2 * 128 * 128 * 512
    assert plan.opcode_counts == {"matmul": 1, "transpose": 1}
    assert plan.queue_instrs[0] == 2


@pytest.mark.parametrize(("p", "f", "cycles"), [(128, 64, 128), (32, 128, 64), (16, 8, 16)])
def test_transpose_cost(p: int, f: int, cycles: int) -> None:
    text = (
        f"trn_isa.transpose dst {_sb(0, p, 'f32', f'0:{f}', 'psum')}, "
        f"src {_sb(0, f, 'f32', f'0:{p}')} on tensor"
    )
    assert _one(text) == pytest.approx(cycles / TENSOR_GHZ)  # max(P, min(64, F))


def test_activation_cost_and_add_reduce() -> None:
    plain = f"trn_isa.activation exp dst {_sb(0, 512)}, src {_sb(2048, 512, 'f32')} on scalar"
    assert _one(plain) == pytest.approx(512 / SCALAR_GHZ)
    small = f"trn_isa.activation exp dst {_sb(0, 8)}, src {_sb(2048, 8, 'f32')} on scalar"
    assert _one(small) == pytest.approx(64 / SCALAR_GHZ)
    accum = (
        f"trn_isa.activation exp dst {_sb(0, 512)}, src {_sb(2048, 512, 'f32')}, "
        "accum #trn_isa.ap<sbuf[0:128] + 8192, [], f32> on scalar"
    )
    assert _one(accum) == pytest.approx((512 + 64) / SCALAR_GHZ)


def test_tensor_scalar_and_copy_cost() -> None:
    ts = f"trn_isa.tensor_scalar dst {_sb(0, 300, 'f32')}, src {_sb(2048, 300, 'f32')}, op0 mul 2.0"
    assert _one(ts + " on vector") == pytest.approx(300 / VECTOR_GHZ)
    assert _one(ts + " on scalar") == pytest.approx(300 / SCALAR_GHZ)
    assert _one(ts + " on gpsimd") == pytest.approx(300 / GPSIMD_GHZ)
    copy = f"trn_isa.tensor_copy dst {_sb(0, 32)}, src {_sb(2048, 32, 'f32')} on vector"
    assert _one(copy) == pytest.approx(64 / VECTOR_GHZ)


@pytest.mark.parametrize(
    ("op", "lhs", "rhs", "dst", "cycles"),
    [
        # one input in PSUM, the other in SBUF: max(64, N)
        ("mul", _sb(0, 256, "f32"), _sb(0, 256, "f32", mem="psum"), _sb(4096, 256, "f32"), 256),
        # all-bf16 add in SBUF with unit stride: max(64, N)
        ("add", _sb(0, 256), _sb(1024, 256), _sb(4096, 256), 256),
        # fp32 in SBUF: max(64, 2N)
        ("add", _sb(0, 256, "f32"), _sb(1024, 256, "f32"), _sb(4096, 256, "f32"), 512),
        # bf16 but max is not add/sub/mul: 2N
        ("max", _sb(0, 256), _sb(1024, 256), _sb(4096, 256), 512),
        # bf16 add with a strided operand: 2N
        ("add", "#trn_isa.ap<sbuf[0:128] + 0, [[2, 256]], bf16>", _sb(1024, 256),
         _sb(4096, 256), 512),
    ],
)  # fmt: skip
def test_tensor_tensor_cost(op: str, lhs: str, rhs: str, dst: str, cycles: int) -> None:
    text = f"trn_isa.tensor_tensor {op} dst {dst}, lhs {lhs}, rhs {rhs} on vector"
    assert _one(text) == pytest.approx(cycles / VECTOR_GHZ)


def test_tensor_reduce_cost() -> None:
    def reduce(op: str, dtype: str) -> str:
        return (
            f"trn_isa.tensor_reduce {op} dst #trn_isa.ap<sbuf[0:128] + 0, [], f32>, "
            f"src {_sb(64, 512, dtype)} {{axes = 1 : i64, negate = false}} on vector"
        )

    assert _one(reduce("add", "f32")) == pytest.approx(512 / VECTOR_GHZ)
    assert _one(reduce("add", "bf16")) == pytest.approx(256 / VECTOR_GHZ)  # N/2
    assert _one(reduce("max", "bf16")) == pytest.approx(256 / VECTOR_GHZ)
    assert _one(reduce("min", "bf16")) == pytest.approx(512 / VECTOR_GHZ)


def test_memset_cost() -> None:
    assert _one(f"trn_isa.memset dst {_sb(0, 512, 'f32')}, value 0.0 on vector") == (
        pytest.approx(512 / VECTOR_GHZ)
    )
    assert _one(f"trn_isa.memset dst {_sb(0, 512)}, value 0.0 on vector") == (
        pytest.approx(256 / VECTOR_GHZ)  # zero-fill of bf16: N/2
    )
    assert _one(f"trn_isa.memset dst {_sb(0, 512)}, value 1.0 on gpsimd") == (
        pytest.approx(512 / GPSIMD_GHZ)
    )


def test_reciprocal_cost() -> None:
    text = f"trn_isa.reciprocal dst {_sb(0, 100, 'f32')}, src {_sb(2048, 100, 'f32')} on vector"
    assert _one(text) == pytest.approx(800 / VECTOR_GHZ)  # max(64, 8N)


def test_gpsimd_costs() -> None:
    iota = (
        f"trn_isa.iota dst {_sb(0, 512, 'i32')}, base 7, channel_multiplier 512, "
        "pattern [[1, 512]] on gpsimd"
    )
    assert _one(iota) == pytest.approx((150 + 512) / GPSIMD_GHZ)
    select = (
        f"trn_isa.affine_select ge dst {_sb(0, 128, 'f32')}, src {_sb(512, 128, 'f32')}, "
        "base 0, channel_multiplier 1, pattern [[-1, 128]], on_false -inf on gpsimd"
    )
    assert _one(select) == pytest.approx((150 + 128) / GPSIMD_GHZ)
    other = (
        f"trn_isa.tensor_tensor bitwise_and dst {_sb(0, 64, 'i32')}, lhs {_sb(256, 64, 'i32')}, "
        f"rhs {_sb(512, 64, 'i32')} on gpsimd"
    )
    assert _one(other) == pytest.approx((150 + 64) / GPSIMD_GHZ)


def _copy_predicated(n: int, dst: str = "sbuf", src: str = "sbuf", dtype: str = "f32") -> str:
    return (
        f"trn_isa.tensor_copy_predicated dst {_sb(0, n, dtype, mem=dst)}, "
        f"src {_sb(8192, n, dtype, mem=src)}, predicate {_sb(16384, n, 'ui8')} on vector"
    )


@pytest.mark.parametrize(
    ("n", "dst", "src", "cycles"),
    [
        (512, "sbuf", "sbuf", 1024),  # all in SBUF: max(64, 2N)
        (512, "psum", "sbuf", 512),  # one operand in PSUM: max(64, N)
        (512, "sbuf", "psum", 512),
        (20, "sbuf", "sbuf", 64),  # the MIN_II floor
        (40, "sbuf", "sbuf", 80),
        (20, "sbuf", "psum", 64),
    ],
)
def test_tensor_copy_predicated_cost(n: int, dst: str, src: str, cycles: int) -> None:
    """trn1.md B.4 (A.2 is silent): `max(MIN_II, N)` when an operand is in PSUM, else
    `max(MIN_II, 2N)`."""
    assert _one(_copy_predicated(n, dst, src)) == pytest.approx(cycles / VECTOR_GHZ)


def test_tensor_copy_predicated_waits_for_its_dst_on_the_same_engine() -> None:
    """`dst` is an input too (the unselected elements keep their values): a predicated
    copy stalls until a same-engine write of its `dst` is visible, like any read."""
    fill = f"trn_isa.memset dst {_sb(0, 64, 'f32')}, value 1.0 on vector"
    _, plan = _run(f"{fill}\n{_copy_predicated(64)}")
    assert plan.start_ns == pytest.approx([0.0, (64 + 200) / VECTOR_GHZ])
    # The same memset into bytes the copy does not touch does not stall it.
    other = f"trn_isa.memset dst {_sb(4096, 64, 'f32')}, value 1.0 on vector"
    _, plan = _run(f"{other}\n{_copy_predicated(64)}")
    assert plan.start_ns == pytest.approx([0.0, 64 / VECTOR_GHZ])


# --- A.2 latency, A.4 semaphores ------------------------------------------------------


def test_dependent_instructions_stall_for_latency() -> None:
    a = "#trn_isa.ap<sbuf[0:128] + 0, [[1, 1]], f32>"
    b = "#trn_isa.ap<sbuf[0:128] + 4, [[1, 1]], f32>"
    _, plan = _run(
        f"trn_isa.activation exp dst {b}, src {a} on scalar\n"
        f"trn_isa.activation exp dst {a}, src {b} on scalar\n"  # reads the first's result
        f"trn_isa.activation exp dst {b}, src {a} on scalar"
    )
    step = (64 + 200) / SCALAR_GHZ  # cost + L: the ~189 ns measured on trn1 (A.6)
    assert plan.start_ns == pytest.approx([0.0, step, 2 * step])
    assert plan.visible_ns[0] == pytest.approx(step)
    assert plan.stall_ns[2] == pytest.approx(2 * 200 / SCALAR_GHZ)


def test_independent_instructions_do_not_stall() -> None:
    _, plan = _run(
        f"trn_isa.activation exp dst {_sb(0, 8)}, src {_sb(4096, 8, 'f32')} on scalar\n"
        f"trn_isa.activation exp dst {_sb(1024, 8)}, src {_sb(4096, 8, 'f32')} on scalar\n"
        # writes partitions 64..127 of a region the next one reads in partitions 0..63
        f"trn_isa.activation exp dst {_sb(2048, 8, 'bf16', '64:128')}, "
        f"src {_sb(4096, 8, 'f32', '64:128')} on scalar\n"
        f"trn_isa.activation exp dst {_sb(0, 8, 'bf16', '0:64')}, "
        f"src {_sb(2048, 8, 'bf16', '0:64')} on scalar"
    )
    step = 64 / SCALAR_GHZ
    assert plan.start_ns == pytest.approx([0.0, step, 2 * step, 3 * step])
    assert plan.busy_ns[2] == pytest.approx(4 * step)


def test_semaphore_update_seen_64_cycles_of_the_waiting_engine_later() -> None:
    _, plan = _run(
        f"trn_isa.tensor_copy dst {_sb(0, 512)}, src {_sb(2048, 512, 'f32')} on vector "
        "signal [vector.s0]\n"
        f"trn_isa.activation exp dst {_sb(8192, 512)}, src {_sb(0, 512)} on scalar "
        "wait [vector.s0 >= 1]"
    )
    visible = (512 + 200) / VECTOR_GHZ
    assert plan.visible_ns[0] == pytest.approx(visible)
    assert plan.start_ns[1] == pytest.approx(visible + 64 / SCALAR_GHZ)
    assert plan.wait_ns[2] == pytest.approx(visible + 64 / SCALAR_GHZ)
    assert plan.wait_sources == [(), (0,)]


def test_wait_source_is_the_signal_reaching_the_value() -> None:
    _, plan = _run(
        f"trn_isa.tensor_copy dst {_sb(0, 64)}, src {_sb(2048, 64)} on vector signal [vector.s0]\n"
        f"trn_isa.tensor_copy dst {_sb(256, 64)}, src {_sb(2048, 64)} on vector "
        "signal [vector.s0]\n"
        f"trn_isa.activation exp dst {_sb(8192, 64)}, src {_sb(256, 64)} on scalar "
        "wait [vector.s0 >= 2]"
    )
    assert plan.wait_sources[2] == (1,)
    assert plan.signal_order[0] == [0, 1]


def test_deadlock_names_every_blocked_instruction() -> None:
    with pytest.raises(DeadlockError) as info:
        _run(
            f"{HBM}\n"
            f"trn_isa.tensor_copy dst {_sb(0, 64)}, src {_sb(2048, 64)} on vector "
            "wait [scalar.s0 >= 1] signal [vector.s0]\n"
            f"trn_isa.activation exp dst {_sb(4096, 64)}, src {_sb(0, 64)} on scalar "
            "wait [vector.s0 >= 1] signal [scalar.s0]\n"
            f"trn_isa.dma_copy dst {_sb(8192, 64)}, "
            "src #trn_isa.ap<hbm + 0, [[64, 128], [1, 64]], bf16> on dma3 wait [scalar.s0 >= 2]"
        )
    err = info.value
    assert err.instrs == (0, 1, 2)
    text = str(err)
    assert "deadlock" in text
    assert "vector: instruction #0 tensor_copy" in text
    assert "waits for scalar.s0 >= 1 (current value 0)" in text
    assert "scalar: instruction #1 activation" in text
    assert "waits for vector.s0 >= 1 (current value 0)" in text
    assert "dma3: instruction #2 dma_copy" in text
    assert "waits for scalar.s0 >= 2 (current value 0)" in text
    assert all(loc.startswith("t.mlir:") for loc in err.locs)


# --- A.3 DMA --------------------------------------------------------------------------


def _load(q: int, parts: int, free: int, sbuf_off: int = 0, hbm_off: int = 0) -> str:
    """An HBM -> SBUF load of `parts` x `free` bf16, contiguous rows, on queue `q`."""
    return (
        f"trn_isa.dma_copy dst {_sb(sbuf_off, free, 'bf16', f'0:{parts}')}, "
        f"src #trn_isa.ap<hbm + {hbm_off}, [[{free}, {parts}], [1, {free}]], bf16> on dma{q}"
    )


def _data_gbps(plan: Schedule, i: int, payload: int) -> float:
    """Payload over the data phase (fixed latency excluded), bytes per ns = GB/s."""
    return payload / (plan.end_ns[i] - plan.start_ns[i] - TRN1.dma_fixed_latency_ns)


def test_dma_large_transfer_reaches_85_percent_of_hbm() -> None:
    payload = 128 * 4096  # 4 KiB contiguous per partition
    _, plan = _run(f"{HBM}\n{_load(0, 128, 2048)}")
    effective = payload + 128 * 256  # 128 chunks (the SBUF side breaks per partition)
    assert plan.end_ns[0] == pytest.approx(1300 + effective / 410)
    assert _data_gbps(plan, 0, payload) >= 0.85 * 410
    assert plan.dma_bytes == payload and plan.hbm_bytes == payload


def test_dma_small_chunks_are_overhead_bound() -> None:
    # 128 B contiguous in HBM (rows of 64 bf16, 8 per partition, 4 KiB apart).
    text = (
        f"{HBM}\ntrn_isa.dma_copy dst {_sb(0, 512)}, "
        "src #trn_isa.ap<hbm + 0, [[32768, 128], [4096, 8], [1, 64]], bf16> on dma0"
    )
    payload = 128 * 512 * 2
    _, plan = _run(text)
    chunks = 128 * 8
    assert plan.end_ns[0] == pytest.approx(1300 + (payload + chunks * 256) / 410)
    assert _data_gbps(plan, 0, payload) <= 0.5 * 410


def test_dma_32_partitions_use_4_engines() -> None:
    payload = 32 * 4096
    _, plan = _run(f"{HBM}\n{_load(0, 32, 2048)}")
    rate = 4 * 27.2
    assert plan.end_ns[0] == pytest.approx(1300 + (payload + 32 * 256) / rate)
    assert _data_gbps(plan, 0, payload) <= rate


@pytest.mark.parametrize("parts", [128, 32])
def test_dma_queues_share_hbm_bandwidth(parts: int) -> None:
    free = 2048
    body = "\n".join(
        _load(q, parts, free, sbuf_off=q * 4096, hbm_off=q * parts * free * 2) for q in range(16)
    )
    _, plan = _run(f"{HBM}\n{body}")
    payload = 16 * parts * free * 2
    effective = payload + 16 * parts * 256
    assert plan.peak_hbm_gbps <= 410 + 1e-9
    span = max(plan.end_ns) - TRN1.dma_fixed_latency_ns
    assert payload / span <= 410
    # Equal transfers started together share equally and all finish after effective / 410.
    assert span == pytest.approx(effective / 410)


def test_dma_max_min_fairness_with_a_capped_transfer() -> None:
    # A 32-partition transfer (cap 108.8 GB/s) next to a 128-partition one (cap 435.2):
    # the small one gets its cap, the big one the rest of 410 until the small one is done.
    _, plan = _run(
        f"{HBM}\n{_load(0, 32, 2048)}\n{_load(1, 128, 2048, sbuf_off=8192, hbm_off=1 << 20)}"
    )
    small = 32 * 4096 + 32 * 256
    big = 128 * 4096 + 128 * 256
    t_small = small / 108.8
    assert plan.end_ns[0] == pytest.approx(1300 + t_small)
    left = big - (410 - 108.8) * t_small
    assert plan.end_ns[1] == pytest.approx(1300 + t_small + left / 410)


def test_sbuf_to_sbuf_does_not_use_hbm_bandwidth() -> None:
    _, plan = _run(
        f"{HBM}\n{_load(0, 128, 2048)}\n"
        f"trn_isa.dma_copy dst {_sb(65536, 2048)}, src {_sb(32768, 2048)} on dma1"
    )
    effective = 128 * 4096 + 128 * 256
    assert plan.end_ns[0] == pytest.approx(1300 + effective / 410)
    assert plan.end_ns[1] == pytest.approx(1300 + effective / (16 * 27.2))
    assert plan.hbm_bytes == 128 * 4096


def test_dma_queue_is_in_order_and_waits_on_semaphores() -> None:
    _, plan = _run(
        f"{HBM}\n{_load(0, 128, 64)} signal [dma0.s0]\n"
        f"{_load(0, 128, 64, sbuf_off=4096, hbm_off=65536)}\n"
        f"trn_isa.matmul dst {_sb(0, 64, 'f32', '0:64', 'psum')}, stationary {_sb(0, 64)}, "
        f"moving {_sb(0, 64)} {{accumulate = false}} on tensor wait [dma0.s0 >= 1]"
    )
    one = 1300 + (128 * 128 + 128 * 256) / 410
    assert plan.end_ns[0] == pytest.approx(one)
    assert plan.start_ns[1] == pytest.approx(one)
    assert plan.end_ns[1] == pytest.approx(2 * one)
    # A.4 delay of the waiting TensorE: 64 cycles at 2.8 GHz.
    assert plan.start_ns[2] == pytest.approx(one + 64 / TENSOR_GHZ)
    assert plan.total_ns == pytest.approx(2 * one)


# --- start order as the schedule goes (functional execution runs it meanwhile) ---------


@pytest.mark.parametrize("size", ["small", "functional"])
def test_on_started_gives_every_instruction_in_start_order(size: str) -> None:
    from test_kernels import K  # benchmarks/kernels.py, loaded by path

    problem = K.SMALL if size == "small" else K.Problem(512, 1024, 1024)
    program = decode(K.build_tiled(problem, K.Config()))
    batches: list[list[int]] = []
    plan = schedule(program, on_started=batches.append)
    assert len(batches) > 3  # given as the simulation goes, not all at the end
    order = [i for batch in batches for i in batch]
    assert order == sorted(range(len(program.instrs)), key=lambda i: (plan.start_ns[i], i))
    assert plan == schedule(program)  # the same schedule as without it


def test_a_deadlock_wins_over_an_error_of_instructions_already_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # #0 reads never-written SBUF (an error when strict) and runs (batches after every
    # event here) before the schedule finds that #1 and #2 wait for each other.
    from trnc.simulator import simulate, timing
    from trnc.simulator.errors import UninitializedReadError
    from trnc.simulator.execution import Execution

    monkeypatch.setattr(timing, "_STREAM_EVERY", 1)
    failed: list[list[int]] = []
    issue = Execution.issue

    def spy(self: Execution, batch: list[int]) -> None:
        try:
            issue(self, batch)
        except UninitializedReadError:
            failed.append(batch)
            raise

    monkeypatch.setattr(Execution, "issue", spy)
    program = _program(
        f"trn_isa.tensor_copy dst {_sb(0, 64)}, src {_sb(2048, 64)} on vector\n"
        f"trn_isa.tensor_copy dst {_sb(256, 64)}, src {_sb(0, 64)} on vector "
        "wait [scalar.s0 >= 1] signal [vector.s0]\n"
        f"trn_isa.activation exp dst {_sb(4096, 64)}, src {_sb(256, 64)} on scalar "
        "wait [vector.s0 >= 1] signal [scalar.s0]"
    )
    with pytest.raises(DeadlockError):
        simulate(program, strict_uninitialized=True)
    assert failed == [[0]]
