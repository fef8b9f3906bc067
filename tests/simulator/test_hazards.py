"""Race detection (trn1.md A.4): unordered conflicting accesses from different queues."""

from __future__ import annotations

from typing import Any

import pytest

from trnc.simulator.errors import RaceError
from trnc.simulator.footprint import footprint, overlap
from trnc.simulator.hazards import check_races, happens_before, vector_clocks
from trnc.simulator.program import AP, Program, decode
from trnc.simulator.timing import schedule
from trnc.tools.context import parse_source

HBM = "trn_isa.hbm_tensor @t : tensor<1024x1024xbf16> at 0 role input"
LOAD_A = (
    "trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, "
    "src #trn_isa.ap<hbm + 0, [[128, 128], [1, 128]], bf16> on dma0"
)
LOAD_B = (
    "trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 256, [[1, 128]], bf16>, "
    "src #trn_isa.ap<hbm + 32768, [[128, 128], [1, 128]], bf16> on dma0"
)


def _matmul(moving_off: int, sync: str = "") -> str:
    return (
        "trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 128]], f32>, "
        "stationary #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, "
        f"moving #trn_isa.ap<sbuf[0:128] + {moving_off}, [[1, 128]], bf16> "
        f"{{accumulate = false}} on tensor {sync}"
    )


def _program(body: str) -> Program:
    text = f"trn_isa.program @t {{\n{HBM}\n{body}\n}}"
    module = parse_source(text, "h.mlir")
    module.verify()
    return decode(module)


def _check(body: str) -> None:
    program = _program(body)
    check_races(program, schedule(program))


def test_missing_wait_is_a_race() -> None:
    with pytest.raises(RaceError) as info:
        _check(f"{LOAD_A} signal [dma0.s0]\n{_matmul(0)}")
    err = info.value
    assert err.instrs == (1, 0)
    assert err.locs[0].startswith("h.mlir:4") and err.locs[1].startswith("h.mlir:3")
    text = str(err)
    assert "race: RAW: instruction #1 matmul on tensor reads sbuf partitions [0, 128)" in text
    assert "written by instruction #0 dma_copy on dma0" in text
    _check(f"{LOAD_A} signal [dma0.s0]\n{_matmul(0, 'wait [dma0.s0 >= 1]')}")


def test_wait_on_the_wrong_count_is_a_race() -> None:
    # The moving tile comes from the second load; waiting for the first one is not enough.
    wrong = f"{LOAD_A} signal [dma0.s0]\n{LOAD_B} signal [dma0.s0]\n"
    with pytest.raises(RaceError) as info:
        _check(wrong + _matmul(256, "wait [dma0.s0 >= 1]"))
    assert info.value.instrs == (2, 1)
    assert "bytes [256, 512)" in str(info.value)
    _check(wrong + _matmul(256, "wait [dma0.s0 >= 2]"))


def test_write_after_read_is_a_race() -> None:
    body = (
        f"{LOAD_A} signal [dma0.s0]\n"
        f"{_matmul(0, 'wait [dma0.s0 >= 1] signal [tensor.s0]')}\n"
        # Overwrites the stationary tile the matmul reads, from another queue.
        "trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, "
        "src #trn_isa.ap<hbm + 65536, [[128, 128], [1, 128]], bf16> on dma1 SYNC"
    )
    with pytest.raises(RaceError) as info:
        _check(body.replace("SYNC", "wait [dma0.s0 >= 1]"))
    assert "WAR: instruction #2 dma_copy on dma1 writes" in str(info.value)
    assert "still read by instruction #1 matmul on tensor" in str(info.value)
    assert info.value.instrs == (2, 1)
    _check(body.replace("SYNC", "wait [tensor.s0 >= 1]"))


def test_write_after_write_is_a_race() -> None:
    other = LOAD_A.replace("on dma0", "on dma1").replace("hbm + 0", "hbm + 65536")
    with pytest.raises(RaceError, match="WAW"):
        _check(f"{LOAD_A}\n{other}")
    _check(f"{LOAD_A} signal [dma0.s0]\n{other} wait [dma0.s0 >= 1]")


def test_same_queue_is_ordered_by_program_order() -> None:
    _check(f"{LOAD_A}\n{LOAD_A.replace('hbm + 0', 'hbm + 65536')}")


def test_ordering_is_transitive() -> None:
    # dma0 -> tensor -> scalar -> dma1: dma1 may overwrite what dma0 wrote.
    _check(
        f"{LOAD_A} signal [dma0.s0]\n"
        f"{_matmul(0, 'wait [dma0.s0 >= 1] signal [tensor.s0]')}\n"
        "trn_isa.activation exp dst #trn_isa.ap<sbuf[0:128] + 4096, [[1, 128]], bf16>, "
        "src #trn_isa.ap<psum[0:128] + 0, [[1, 128]], f32> on scalar "
        "wait [tensor.s0 >= 1] signal [scalar.s0]\n"
        "trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, "
        "src #trn_isa.ap<hbm + 65536, [[128, 128], [1, 128]], bf16> on dma1 "
        "wait [scalar.s0 >= 1]"
    )


def test_disjoint_interleaved_strided_writes_are_not_a_race() -> None:
    # Even and odd bf16 elements of the same 256 B per partition, from two queues: the
    # bounding boxes overlap, the bytes do not.
    def store(off: int, q: int) -> str:
        return (
            f"trn_isa.dma_copy dst #trn_isa.ap<sbuf[0:128] + {off}, [[2, 64]], bf16>, "
            f"src #trn_isa.ap<hbm + 0, [[64, 128], [1, 64]], bf16> on dma{q}"
        )

    _check(f"{store(0, 0)}\n{store(2, 1)}")
    with pytest.raises(RaceError, match="WAW"):
        _check(f"{store(0, 0)}\n{store(4, 1)}")  # same parity: they share bytes


def test_disjoint_partitions_are_not_a_race() -> None:
    def load(parts: str, q: int) -> str:
        return (
            f"trn_isa.dma_copy dst #trn_isa.ap<sbuf[{parts}] + 0, [[1, 64]], bf16>, "
            f"src #trn_isa.ap<hbm + 0, [[64, 64], [1, 64]], bf16> on dma{q}"
        )

    _check(f"{load('0:64', 0)}\n{load('64:128', 1)}")
    with pytest.raises(RaceError):
        _check(f"{load('0:64', 0)}\n{load('0:64', 1)}")


def test_reads_from_two_queues_are_not_a_race() -> None:
    store = (
        "trn_isa.dma_copy dst #trn_isa.ap<hbm + {hbm}, [[128, 128], [1, 128]], bf16>, "
        "src #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16> on dma{q} wait [dma0.s0 >= 1]"
    )
    first, second = store.format(hbm=65536, q=1), store.format(hbm=98304, q=2)
    _check(f"{LOAD_A} signal [dma0.s0]\n{first}\n{second}")


def test_hbm_overlap_is_exact() -> None:
    # Two stores to interleaved HBM rows (row stride 512 B, rows of 256 B): disjoint.
    def store(off: int, q: int) -> str:
        return (
            f"trn_isa.dma_copy dst #trn_isa.ap<hbm + {off}, [[256, 128], [1, 128]], bf16>, "
            f"src #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16> on dma{q} wait [dma0.s0 >= 1]"
        )

    _check(f"{LOAD_A} signal [dma0.s0]\n{store(65536, 1)}\n{store(65536 + 256, 2)}")
    with pytest.raises(RaceError, match="hbm bytes"):
        _check(f"{LOAD_A} signal [dma0.s0]\n{store(65536, 1)}\n{store(65536 + 128, 2)}")


def test_footprint_overlap_of_strided_patterns() -> None:
    import numpy as np

    def ap(offset: int, dims: tuple[tuple[int, int], ...], start: int = 0) -> AP:
        dt = np.dtype(np.float32)
        return AP("sbuf", start, 32, 0, offset, dims, "f32", dt, 4)

    a = footprint(ap(0, ((8, 16), (1, 4))))  # 4 of every 8 elements
    b = footprint(ap(16, ((8, 16), (1, 4))))  # the other 4
    assert overlap(a, b) is None
    assert overlap(a, footprint(ap(12, ((1, 2),)))) == (0, 32, 12, 16)
    assert overlap(a, footprint(ap(0, ((8, 16), (1, 4)), start=32))) is None
    # A negative step: bytes [4, 8), [12, 16), ..., [60, 64).
    backwards = footprint(ap(60, ((-2, 8),)))
    assert overlap(backwards, footprint(ap(0, ((1, 16),)))) == (0, 32, 4, 8)
    assert overlap(backwards, footprint(ap(8, ((2, 4),)))) is None


def test_vector_clocks_follow_semaphores() -> None:
    program = _program(
        f"{LOAD_A} signal [dma0.s0]\n{LOAD_B} signal [dma0.s0]\n"
        f"{_matmul(256, 'wait [dma0.s0 >= 1]')}\n{_matmul(256, 'wait [dma0.s0 >= 2]')}"
    )
    clocks = vector_clocks(program, schedule(program))
    assert happens_before(clocks, program, 0, 2)
    assert not happens_before(clocks, program, 1, 2)
    assert happens_before(clocks, program, 1, 3)
    assert not happens_before(clocks, program, 2, 0)
    # One component per queue with instructions (dma0, tensor), not one per queue.
    assert {len(c) for c in clocks} == {2}
    assert clocks[3] == (2, 2)  # after both loads, second on its own queue


def _pipeline(iterations: int, drop_wait_at: int | None = None) -> Program:
    """A matmul pipeline built directly as records: per iteration two loads on rotating
    DMA queues into one of 4 buffers (each waiting for the matmul that last read it), a
    matmul waiting for both loads, and every 8 matmuls a PSUM -> SBUF copy on VectorE."""
    import ml_dtypes
    import numpy as np

    from trnc.simulator.program import FIRST_DMA_QUEUE, Instr

    bf16, f32 = np.dtype(ml_dtypes.bfloat16), np.dtype(np.float32)

    def sb(off: int, n: int, mem: str = "sbuf", dt: np.dtype = bf16) -> AP:
        name = "bf16" if dt == bf16 else "f32"
        return AP(mem, 0, 128, 0, off, ((1, n),), name, dt, dt.itemsize)

    def hbm(off: int, n: int) -> AP:
        return AP("hbm", 0, 128, 8192, off, ((1, n),), "bf16", bf16, 2)

    instrs: list[Instr] = []
    sems: dict[str, int] = {}
    counts: dict[int, int] = {}

    def add(
        op: str, q: int, waits: list[tuple[int, int]], sig: list[int], args: dict[str, Any]
    ) -> None:
        reads = tuple(v for k, v in args.items() if k != "dst" and isinstance(v, AP))
        instrs.append(
            Instr(len(instrs), op, q, tuple(waits), tuple(sig), reads, (args["dst"],), args, "")
        )
        for s in sig:
            counts[s] = counts.get(s, 0) + 1

    def sem(name: str) -> int:
        return sems.setdefault(name, len(sems))

    for it in range(iterations):
        b = it % 4
        qa, qb = FIRST_DMA_QUEUE + (2 * it) % 16, FIRST_DMA_QUEUE + (2 * it + 1) % 16
        reuse = [(sem("tensor"), it - 3)] if it >= 4 and it != drop_wait_at else []
        a_dst, b_dst = sb(b * 1280, 128), sb(b * 1280 + 256, 512)
        add("dma_copy", qa, reuse, [sem(f"q{qa}")], {"dst": a_dst, "src": hbm(0, 128)})
        add("dma_copy", qb, reuse, [sem(f"q{qb}")], {"dst": b_dst, "src": hbm(1 << 20, 512)})
        bank = (it // 8) % 2
        waits = [(sem(f"q{qa}"), counts[sem(f"q{qa}")]), (sem(f"q{qb}"), counts[sem(f"q{qb}")])]
        if it % 8 == 0 and it >= 16:
            waits.append((sem("vector"), it // 8 - 1))
        dst = sb(bank * 2048, 512, "psum", f32)
        add(
            "matmul",
            0,
            waits,
            [sem("tensor")],
            {"dst": dst, "stationary": a_dst, "moving": b_dst, "accumulate": it % 8 != 0},
        )
        if it % 8 == 7:
            out = sb(8192 + bank * 1024, 512)
            add(
                "tensor_copy",
                1,
                [(sem("tensor"), it + 1)],
                [sem("vector")],
                {"dst": out, "src": dst},
            )
    return Program("pipeline", [], instrs, list(sems))


def test_long_pipeline_is_race_free_and_a_dropped_wait_is_found() -> None:
    program = _pipeline(1500)
    plan = schedule(program)
    check_races(program, plan)
    assert plan.flops == 1500 * 2 * 128 * 128 * 512
    broken = _pipeline(1500, drop_wait_at=1200)
    with pytest.raises(RaceError, match="WAR") as info:
        check_races(broken, schedule(broken))
    assert info.value.instrs[0] in (3750, 3751)  # a load of iteration 1200


# tensor_copy_predicated keeps the unselected elements of dst: dst is read and written.
SELECT = (
    "trn_isa.tensor_copy_predicated dst #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16>, "
    "src #trn_isa.ap<sbuf[0:128] + 1024, [[1, 128]], bf16>, "
    "predicate #trn_isa.ap<sbuf[0:128] + 2048, [[1, 128]], ui8> on vector"
)


def test_predicated_copy_reads_and_writes_its_dst() -> None:
    program = _program(SELECT)
    (copy,) = program.instrs
    assert [ap.offset for ap in copy.writes] == [0]
    assert [ap.offset for ap in copy.reads] == [0, 1024, 2048]


def test_unordered_write_of_a_predicated_copy_dst_is_a_race() -> None:
    # dma0 fills dst (the values the predicate keeps); the copy must wait for it.
    with pytest.raises(RaceError) as info:
        _check(f"{LOAD_A} signal [dma0.s0]\n{SELECT}")
    assert info.value.instrs == (1, 0)
    assert "instruction #1 tensor_copy_predicated on vector" in str(info.value)
    assert "instruction #0 dma_copy on dma0" in str(info.value)
    _check(f"{LOAD_A} signal [dma0.s0]\n{SELECT} wait [dma0.s0 >= 1]")
    # Another queue overwriting dst while the copy may still run is a race too.
    later = LOAD_A.replace("on dma0", "on dma1")
    with pytest.raises(RaceError, match="instruction #1 dma_copy on dma1 writes"):
        _check(f"{SELECT} signal [vector.s0]\n{later}")
    _check(f"{SELECT} signal [vector.s0]\n{later} wait [vector.s0 >= 1]")
    # Reading dst from another queue concurrently with the copy is a race (it writes).
    store = (
        "trn_isa.dma_copy dst #trn_isa.ap<hbm + 0, [[128, 128], [1, 128]], bf16>, "
        "src #trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], bf16> on dma1"
    )
    with pytest.raises(RaceError, match="RAW: instruction #1 dma_copy on dma1 reads"):
        _check(f"{SELECT}\n{store}")
