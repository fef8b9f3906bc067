"""The profile of a simulated program (`simulator/profile.py`) and its timeline
(`simulator/timeline.py`): every figure is checked against the schedule it comes from,
never against a number written here."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from trnc.simulator.costs import dma_info, matmul_flops
from trnc.simulator.profile import (
    ENGINES,
    UNKNOWN,
    Profile,
    build_profile,
    node_name,
    profile_of,
)
from trnc.simulator.program import FIRST_DMA_QUEUE, QUEUE_NAMES, Program, decode
from trnc.simulator.timeline import merge_boxes
from trnc.simulator.timing import Schedule, schedule
from trnc.tools.context import parse_source

ROOT = Path(__file__).resolve().parents[2]


def _sb(off: int, n: int, dtype: str = "bf16", parts: str = "0:128", mem: str = "sbuf") -> str:
    return f"#trn_isa.ap<{mem}[{parts}] + {off}, [[1, {n}]], {dtype}>"


CHAIN = f"""
trn_isa.hbm_tensor @x : tensor<128x512xbf16> at 0 role input
trn_isa.hbm_tensor @w : tensor<128x128xbf16> at 131072 role input
trn_isa.hbm_tensor @y : tensor<128x512xf32> at 163840 role output
trn_isa.dma_copy dst {_sb(0, 512)}, src #trn_isa.ap<hbm + 0, [[512, 128], [1, 512]], bf16> \
on dma0 signal [dma0.s0] loc("load_x")
trn_isa.dma_copy dst {_sb(1024, 128)}, src #trn_isa.ap<hbm + 131072, [[128, 128], [1, 128]], \
bf16> on dma1 signal [dma1.s0] loc("load_w")
trn_isa.memset dst {_sb(8192, 64, "f32")}, value 0.0 on gpsimd
trn_isa.matmul dst {_sb(0, 512, "f32", mem="psum")}, stationary {_sb(1024, 128)}, moving \
{_sb(0, 512)} {{accumulate = false}} on tensor wait [dma0.s0 >= 1, dma1.s0 >= 1] \
signal [tensor.s0] loc("mm")
trn_isa.tensor_copy dst {_sb(2048, 512, "f32")}, src {_sb(0, 512, "f32", mem="psum")} on vector \
wait [tensor.s0 >= 1] signal [vector.s0] loc("mm")
trn_isa.dma_copy dst #trn_isa.ap<hbm + 163840, [[512, 128], [1, 512]], f32>, src \
{_sb(2048, 512, "f32")} on dma2 wait [vector.s0 >= 1] signal [dma2.s0] loc("store")
"""
"""x and w loaded, multiplied, evacuated and stored: a chain through four queues, with a
memset off the chain whose location names no node."""


def _program(body: str) -> Program:
    module = parse_source(f"trn_isa.program @t {{\n{body}\n}}", "t.mlir")
    module.verify()
    return decode(module)


def _profile(body: str) -> tuple[Program, Schedule, Profile]:
    program = _program(body)
    plan = schedule(program)
    return program, plan, build_profile(program, plan)


def _check_consistent(program: Program, plan: Schedule, profile: Profile) -> None:
    """Every table sums to the schedule's totals, and the critical path tiles
    [0, simulated time] with pieces each instruction's schedule explains."""
    total = plan.total_ns
    assert profile.simulated_ns == total
    tables = [profile.nodes, profile.opcodes] + ([profile.op_types] if profile.op_types else [])
    for rows in tables:
        assert sum(r.instructions for r in rows) == len(program.instrs)
        assert sum(r.critical_ns for r in rows) == pytest.approx(total, rel=1e-9)
        assert sum(r.flops for r in rows) == plan.flops
        assert sum(r.dma_bytes for r in rows) == plan.dma_bytes
        assert sum(r.hbm_bytes for r in rows) == plan.hbm_bytes
        for k, engine in enumerate(ENGINES):
            assert sum(r.busy_ns[engine] for r in rows) == pytest.approx(plan.busy_ns[k])
        assert sum(r.dma_ns for r in rows) == pytest.approx(sum(plan.busy_ns[FIRST_DMA_QUEUE:]))
    assert sum(profile.causes.values()) == pytest.approx(total, rel=1e-9)
    by_opcode = Counter(ins.opcode for ins in program.instrs)
    assert {r.name: r.instructions for r in profile.opcodes} == dict(by_opcode)

    path = profile.path
    assert path[0].start_ns == 0.0
    assert path[-1].end_ns == total
    for a, b in itertools.pairwise(path):
        assert a.end_ns == b.start_ns
    for seg in path:
        i = seg.instr
        assert seg.ns > 0
        if seg.cause.startswith("semaphore wait on "):
            sources = [j for j in plan.wait_sources[i] if j >= 0]
            assert seg.end_ns == plan.start_ns[i]
            assert any(
                plan.visible_ns[j] == seg.start_ns
                and QUEUE_NAMES[program.instrs[j].queue] == seg.cause.rsplit(" ", 1)[1]
                for j in sources
            )
        else:
            assert plan.start_ns[i] <= seg.start_ns < seg.end_ns <= plan.visible_ns[i]
    # the bins hold every byte and busy nanosecond once
    assert sum(profile.hbm_gbps) * profile.bin_ns == pytest.approx(plan.hbm_bytes)
    for k, engine in enumerate(ENGINES):
        assert sum(profile.utilization[engine]) * profile.bin_ns == pytest.approx(plan.busy_ns[k])
    flops = sum(profile.tensor_tflops) * 1e3 * profile.bin_ns
    assert flops == pytest.approx(plan.flops)


@pytest.mark.parametrize(
    ("loc", "node"),
    [
        ("model.mlir:2:3 (/fc1/Gemm)", "/fc1/Gemm"),
        ("/fc1/Gemm", "/fc1/Gemm"),
        ("model.mlir:12:5", UNKNOWN),
        ("trn_isa.dma_copy", UNKNOWN),
        ("", UNKNOWN),
    ],
)
def test_node_name_from_location(loc: str, node: str) -> None:
    assert node_name(loc) == node


def test_chain_profile_sums_to_the_schedule() -> None:
    program, plan, profile = _profile(CHAIN)
    _check_consistent(program, plan, profile)
    rows = {r.name: r for r in profile.nodes}
    assert set(rows) == {"load_x", "load_w", "mm", "store", UNKNOWN}
    assert rows[UNKNOWN].instructions == 1  # the memset, which has no named location
    assert rows["mm"].instructions == 2
    assert rows["mm"].flops == matmul_flops(program.instrs[3])
    for name, i in (("load_x", 0), ("load_w", 1), ("store", 5)):
        assert rows[name].dma_bytes == dma_info(program.instrs[i]).payload_bytes
        assert rows[name].dma_ns == pytest.approx(plan.end_ns[i] - plan.start_ns[i])


def test_chain_critical_path_follows_the_semaphores() -> None:
    program, plan, profile = _profile(CHAIN)
    slower_load = max((0, 1), key=lambda i: plan.visible_ns[i])  # the matmul's last wait
    assert plan.wait_sources[3] == (0, 1)
    order = list(dict.fromkeys(seg.instr for seg in profile.path))
    assert order == [slower_load, 3, 4, 5]
    load_queue = QUEUE_NAMES[program.instrs[slower_load].queue]
    start, end, visible = plan.start_ns, plan.end_ns, plan.visible_ns
    flowing = [start[i] + program.machine.dma_fixed_latency_ns for i in range(len(start))]
    expected = [  # (instr, cause, duration) from the schedule; empty pieces are left out
        (slower_load, "DMA latency", flowing[slower_load] - start[slower_load]),
        (slower_load, "DMA transfer", end[slower_load] - flowing[slower_load]),
        (3, f"semaphore wait on {load_queue}", start[3] - visible[slower_load]),
        (3, "tensor busy", end[3] - start[3]),
        (3, "tensor result latency", visible[3] - end[3]),
        (4, "semaphore wait on tensor", start[4] - visible[3]),
        (4, "vector busy", end[4] - start[4]),
        (4, "vector result latency", visible[4] - end[4]),
        (5, "semaphore wait on vector", start[5] - visible[4]),
        (5, "DMA latency", flowing[5] - start[5]),
        (5, "DMA transfer", end[5] - flowing[5]),
    ]
    expected = [e for e in expected if e[2] > 0]
    assert [(seg.instr, seg.cause) for seg in profile.path] == [e[:2] for e in expected]
    assert [seg.ns for seg in profile.path] == pytest.approx([e[2] for e in expected])
    latency = program.machine.dma_fixed_latency_ns
    assert profile.causes["DMA latency"] == pytest.approx(2 * latency)
    crit = {r.name: r.critical_ns for r in profile.nodes}
    assert crit[UNKNOWN] == 0.0 and crit["load_w" if slower_load == 0 else "load_x"] == 0.0
    assert crit["mm"] == pytest.approx(plan.visible_ns[4] - plan.visible_ns[slower_load])


@pytest.mark.parametrize("dependent", [False, True])
def test_critical_path_through_queue_order_and_own_results(dependent: bool) -> None:
    """Two activations on ScalarE: the second either starts when the first frees the
    engine (queue order) or, reading its result, when that result is visible (A.2)."""
    src = _sb(0, 64) if dependent else _sb(4096, 64, "f32")
    program, plan, profile = _profile(
        f"trn_isa.activation exp dst {_sb(0, 64)}, src {_sb(4096, 64, 'f32')} on scalar\n"
        f"trn_isa.activation exp dst {_sb(1024, 64)}, src {src} on scalar"
    )
    _check_consistent(program, plan, profile)
    held = plan.visible_ns[0] if dependent else plan.end_ns[0]
    assert plan.start_ns[1] == held
    first = [seg.cause for seg in profile.path if seg.instr == 0]
    assert first == (["scalar busy", "scalar result latency"] if dependent else ["scalar busy"])
    assert [seg.cause for seg in profile.path if seg.instr == 1] == [
        "scalar busy",
        "scalar result latency",
    ]


def test_table_names_every_node_and_the_totals() -> None:
    program, plan, profile = _profile(CHAIN)
    text = profile.table()
    for row in profile.nodes:
        assert row.name in text
    for cause in profile.causes:
        assert cause in text
    total_line = next(line for line in text.splitlines() if line.strip().startswith("total"))
    assert f"{len(program.instrs):>7d}" in total_line
    assert f"{plan.total_ns / 1e3:10.3f}" in total_line


def test_timeline_svg_has_a_lane_per_queue_and_the_path() -> None:
    program, _, profile = _profile(CHAIN)
    svg = profile.timeline_svg()
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    texts = {t.text for t in root.iter(f"{ns}text")}
    used = {QUEUE_NAMES[ins.queue] for ins in program.instrs}
    assert used <= texts
    assert {ins.opcode for ins in program.instrs} <= texts  # the legend
    paths = [g for g in root.iter(f"{ns}g") if g.findtext(f"{ns}title") == "critical path"]
    assert len(paths) == 1


def test_merged_boxes_stay_few_and_keep_wide_boxes_apart() -> None:
    tiny = [(100 + k * 0.05, 100 + k * 0.05 + 0.04, "memset", False, k) for k in range(10_000)]
    runs = merge_boxes(tiny)
    assert len(runs) == 1 and runs[0].count == 10_000
    wide = [(0.0, 10.0, "matmul", False, 0), (10.2, 20.0, "transpose", False, 1)]
    assert [r.key() for r in merge_boxes(wide)] == [("matmul", False), ("transpose", False)]
    same = [(0.0, 10.0, "matmul", False, 0), (10.2, 20.0, "matmul", False, 1)]
    assert len(merge_boxes(same)) == 1
    apart = [(0.0, 0.2, "memset", False, 0), (5.0, 5.2, "memset", False, 1)]
    assert len(merge_boxes(apart)) == 2


def test_mlp_profile_from_the_compiled_model() -> None:
    import trnc

    model = trnc.compile(ROOT / "examples" / "mlp.onnx", input_shapes={"x": (8, 64)})
    model.run(random_inputs=True)
    profile = model.profile()
    program = decode(model.module)
    plan = model._last_result.schedule
    _check_consistent(program, plan, profile)
    assert profile.simulated_ns == model.last_report.simulated_ns
    named = [row for row in profile.nodes if row.name != UNKNOWN]
    assert named and all(row.op_type for row in named)  # the graph level gives op types
    assert {row.name for row in profile.op_types} == {
        row.op_type or UNKNOWN for row in profile.nodes
    }
    assert profile_of(model.module).simulated_ns == plan.total_ns  # timing only: same time
