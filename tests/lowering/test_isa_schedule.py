"""`isa-schedule` (lowering/isa_schedule.py): the new order keeps every conflicting pair
of instructions (a byte in common, computed here on bounding boxes, the slow obvious
way) in its old order, on random programs and on a lowered model; `mode=none` keeps the
order and an unknown mode is an error; the scheduled and synchronised program is
race-free on the simulator, and a model compiled with the pass computes what it computes
without it, in no more time. (FileCheck `lowering/isa-schedule.mlir` shows a reorder.)"""

from __future__ import annotations

import numpy as np
import pytest
from load_by_path import ROOT, load_by_path
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

import trnc
from trnc.dialects import trn_isa as isa
from trnc.lowering.isa_schedule import IsaSchedule, schedule_program
from trnc.lowering.isa_sync import box, insert_sync
from trnc.simulator.hazards import check_races
from trnc.simulator.program import decode
from trnc.simulator.timing import schedule

_sync_tests = load_by_path(ROOT / "tests" / "lowering" / "test_isa_sync.py", "trnc_test_isa_sync")
_program = _sync_tests._program
random_program = _sync_tests.random_program


def _conflicts(program: isa.ProgramOp) -> list[tuple[int, int]]:
    """Every pair (i, j), i < j in program order, of instructions that touch a byte in
    common (bounding boxes) with at least one of them writing."""
    accesses = [
        [(True, box(ap)) for _, ap in op.writes()] + [(False, box(ap)) for _, ap in op.reads()]
        for op in program.instructions()
    ]
    pairs = []
    for j, mine in enumerate(accesses):
        for i in range(j):
            if any((w1 or w2) and b1.overlaps(b2) for w1, b1 in accesses[i] for w2, b2 in mine):
                pairs.append((i, j))
    return pairs


def _assert_keeps_conflicts(program: isa.ProgramOp) -> list[int]:
    ops = program.instructions()
    pairs = _conflicts(program)
    schedule_program(program)
    position = {id(op): k for k, op in enumerate(program.instructions())}
    new = [position[id(op)] for op in ops]
    broken = [(i, j) for i, j in pairs if new[i] > new[j]]
    assert not broken, f"conflicting pairs reordered: {broken[:5]}"
    return new


@pytest.mark.parametrize("seed", range(6))
def test_random_programs_keep_every_conflict_in_order(seed: int) -> None:
    program = _program(random_program(seed, 300))
    assert len(_conflicts(program)) > 100  # the programs do constrain the order
    _assert_keeps_conflicts(program)


def test_a_lowered_model_keeps_its_conflicts() -> None:
    compiled = trnc.compile(
        str(ROOT / "examples" / "mlp.onnx"), input_shapes={"x": [256, 64]}, dtype="bf16"
    )
    program = next(op for op in compiled.module.walk() if isinstance(op, isa.ProgramOp))
    # scheduled already: scheduling it again moves little, and keeps every conflict
    _assert_keeps_conflicts(program)


@pytest.mark.parametrize("seed", range(3))
def test_scheduled_programs_are_race_free(seed: int) -> None:
    program = _program(random_program(seed, 300))
    schedule_program(program)
    insert_sync(program)
    decoded = decode(program)
    check_races(decoded, schedule(decoded))


def test_mode_none_keeps_the_order_and_a_bad_mode_is_an_error() -> None:
    program = _program(random_program(0, 50))
    module = program.parent_op()
    assert isinstance(module, ModuleOp)
    before = [op.name + str(op.properties) for op in program.instructions()]
    IsaSchedule(mode="none").apply(Context(), module)
    assert [op.name + str(op.properties) for op in program.instructions()] == before
    with pytest.raises(ValueError, match="mode must be 'list' or 'none'"):
        IsaSchedule(mode="greedy").apply(Context(), module)


def test_scheduling_changes_the_time_not_the_results() -> None:
    """A model compiled with and without the pass computes the same outputs; the
    scheduled one is not slower."""
    from trnc.lowering import graph_to_isa

    path = str(ROOT / "examples" / "mlp.onnx")
    feeds = {"x": np.random.default_rng(0).standard_normal((256, 64)).astype(np.float32)}
    scheduled = trnc.compile(path, input_shapes={"x": [256, 64]}, dtype="bf16")
    original = graph_to_isa.IsaSchedule
    try:
        graph_to_isa.IsaSchedule = lambda: IsaSchedule(mode="none")
        plain = trnc.compile(path, input_shapes={"x": [256, 64]}, dtype="bf16")
    finally:
        graph_to_isa.IsaSchedule = original
    for name, value in scheduled.run(feeds).items():
        np.testing.assert_array_equal(value, plain.run(feeds)[name])
    times = [schedule(decode(m.module)).total_ns for m in (scheduled, plain)]
    assert times[0] <= times[1]
