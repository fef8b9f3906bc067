"""The race check's happens-before on a semaphore that several queues increment
(simulator/hazards.py): a wait orders only after the increments that have landed in every
execution, so the verdict is the same whatever the modelled durations (which increment
the schedule happens to land first)."""

from __future__ import annotations

import pytest

from trnc.simulator.errors import RaceError
from trnc.simulator.hazards import check_races, happens_before, vector_clocks
from trnc.simulator.program import QUEUE_NAMES, Program, decode
from trnc.simulator.timing import schedule
from trnc.tools.context import parse_source
from trnc.tools.diagnostics import verify_ops

HBM = "trn_isa.hbm_tensor @t : tensor<4096x4096xbf16> at 0 role input"
# Loads into SBUF: X (small: fast) on dma0, Y (sized by the test) on dma1.
LOAD_X = (
    "trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, "
    "src #trn_isa.ap<hbm + 0, [[4096, 128], [1, 128]], bf16> on dma0"
)


def _load_y(elems: int, queue: str = "dma1") -> str:
    return (
        f"trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 4096, [[1, {elems}]], bf16>, "
        f"src #trn_isa.ap<hbm + 1048576, [[4096, 128], [1, {elems}]], bf16> on {queue}"
    )


# An unrelated slow transfer (1 MiB into SBUF bytes nobody else touches).
SLOW = (
    "trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 32768, [[1, 4096]], bf16>, "
    "src #trn_isa.ap<hbm + 4194304, [[4096, 128], [1, 4096]], bf16> on dma0"
)
# VectorE reads X.
USE_X = (
    "trn_isa.tensor_copy dst #trn_isa.ap<sbuf[0:128] + 65536, [[1, 128]], bf16>, "
    "src #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16> on vector"
)


def _program(*lines: str) -> Program:
    text = "trn_isa.program @t {\n" + "\n".join((HBM, *lines)) + "\n}"
    module = parse_source(text, "s.mlir")
    assert not verify_ops(module)
    return decode(module)


def _verdict(program: Program) -> str:
    """'race' (VectorE's read of X unordered with X's load) or 'clean'."""
    try:
        check_races(program, schedule(program))
    except RaceError as error:
        assert "RAW: instruction" in str(error) and "tensor_copy on vector" in str(error)
        return "race"
    return "clean"


def _landing_order(program: Program) -> list[str]:
    plan = schedule(program)
    (sem,) = [k for k, name in enumerate(program.semaphore_names) if name == "gpsimd.s1"]
    return [QUEUE_NAMES[program.instrs[i].queue] for i in plan.signal_order[sem]]


def _shared_semaphore(wait: int, y_elems: int, slow_first: bool) -> Program:
    """X on dma0 and Y on dma1 both increment gpsimd.s1; VectorE reads X after waiting
    for gpsimd.s1 >= `wait`. `slow_first` puts an unrelated slow transfer before X."""
    lines = [SLOW] if slow_first else []
    lines += [
        f"{LOAD_X} signal [gpsimd.s1]",
        f"{_load_y(y_elems)} signal [gpsimd.s1]",
        f"{USE_X} wait [gpsimd.s1 >= {wait}]",
    ]
    return _program(*lines)


def test_the_schedules_differ_in_which_increment_lands_first() -> None:
    # The premise of the next tests: the durations decide which load signals first.
    assert _landing_order(_shared_semaphore(1, 2048, slow_first=False)) == ["dma0", "dma1"]
    assert _landing_order(_shared_semaphore(1, 2048, slow_first=True)) == ["dma1", "dma0"]
    assert _landing_order(_shared_semaphore(1, 16, slow_first=False)) == ["dma1", "dma0"]


@pytest.mark.parametrize("slow_first", [False, True])
@pytest.mark.parametrize("y_elems", [16, 2048])
def test_waiting_for_one_of_two_increments_is_a_race_whichever_lands_first(
    slow_first: bool, y_elems: int
) -> None:
    # On hardware Y's load may land first and release VectorE while X is still being
    # written. This ran clean when X's load happened to land first (no slow transfer),
    # and was flagged once an unrelated slow transfer delayed it.
    assert _verdict(_shared_semaphore(1, y_elems, slow_first)) == "race"


@pytest.mark.parametrize("slow_first", [False, True])
@pytest.mark.parametrize("y_elems", [16, 2048])
def test_waiting_for_both_increments_is_clean_whichever_lands_first(
    slow_first: bool, y_elems: int
) -> None:
    assert _verdict(_shared_semaphore(2, y_elems, slow_first)) == "clean"


def test_a_waiters_own_later_increment_cannot_satisfy_it() -> None:
    # dma1 stores X to HBM after gpsimd.s1 >= 1 and then increments gpsimd.s1 itself:
    # only dma0's increment can satisfy that wait, so the store is ordered after X's load.
    store_x = (
        "trn_isa.dma_copy dst #trn_isa.ap<hbm + 2097152, [[128, 128], [1, 128]], bf16>, "
        "src #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16> on dma1"
    )
    program = _program(
        f"{LOAD_X} signal [gpsimd.s1]", f"{store_x} wait [gpsimd.s1 >= 1] signal [gpsimd.s1]"
    )
    check_races(program, schedule(program))
    assert happens_before(vector_clocks(program, schedule(program)), program, 0, 1)


def test_an_increment_that_happens_after_the_waiter_cannot_satisfy_it() -> None:
    # dma2 increments gpsimd.s1 only after dma1's store (through gpsimd.s2), so again only
    # X's load can satisfy the store's wait: no race (this needs the fixed point).
    store_x = (
        "trn_isa.dma_copy dst #trn_isa.ap<hbm + 2097152, [[128, 128], [1, 128]], bf16>, "
        "src #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16> on dma1"
    )
    later = _load_y(16, "dma2")
    program = _program(
        f"{LOAD_X} signal [gpsimd.s1]",
        f"{store_x} wait [gpsimd.s1 >= 1] signal [gpsimd.s2]",
        f"{later} wait [gpsimd.s2 >= 1] signal [gpsimd.s1]",
    )
    check_races(program, schedule(program))
    clocks = vector_clocks(program, schedule(program))
    assert happens_before(clocks, program, 0, 1)
    assert happens_before(clocks, program, 1, 2)
    # Without the edge dma1 -> dma2, dma2's increment could come first: a race.
    racy = _program(
        f"{LOAD_X} signal [gpsimd.s1]",
        f"{store_x} wait [gpsimd.s1 >= 1]",
        f"{later} signal [gpsimd.s1]",
    )
    with pytest.raises(RaceError, match="RAW: instruction #1 dma_copy on dma1 reads"):
        check_races(racy, schedule(racy))


def test_clocks_do_not_depend_on_durations() -> None:
    # Y's load small (lands first) or large (lands second): the same clocks, in which
    # VectorE's copy is ordered after neither load when it waits for one increment, and
    # after both when it waits for two.
    for wait in (1, 2):
        fast_y, slow_y = _shared_semaphore(wait, 16, False), _shared_semaphore(wait, 2048, False)
        assert _landing_order(fast_y) != _landing_order(slow_y)
        clocks = vector_clocks(fast_y, schedule(fast_y))
        assert clocks == vector_clocks(slow_y, schedule(slow_y))
        assert happens_before(clocks, fast_y, 0, 2) == (wait == 2)
        assert happens_before(clocks, fast_y, 1, 2) == (wait == 2)
