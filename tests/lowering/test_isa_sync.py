"""`isa-insert-sync` (lowering/isa_sync.py): its waits are exactly those of the pass's
definition, computed here the slow, obvious way (every earlier access, every time), on
random programs and on real ones; its time grows with the number of instructions, not
with the number of bytes an access spans; its output is race-free on the simulator."""

from __future__ import annotations

import random
from typing import Any

import pytest
from load_by_path import ROOT, load_by_path
from xdsl.context import Context

from trnc.dialects import trn_isa as isa
from trnc.lowering import isa_sync
from trnc.lowering.graph_to_isa import GraphToIsa
from trnc.lowering.isa_sync import Box, box, insert_sync, queue_name
from trnc.simulator.hazards import check_races
from trnc.simulator.program import decode
from trnc.simulator.timing import schedule
from trnc.tools.context import parse_source

Waits = list[list[tuple[str, int]]]


def reference_waits(program: isa.ProgramOp) -> Waits:
    """The pass's definition, quadratic on purpose: an instruction of queue q needs, from
    each other queue r, its newest instruction that conflicts with it (a bounding box in
    common, at least one of the two writing); it waits for those q does not know complete
    yet, except the ones another of them implies, and then knows what they knew."""
    instrs = program.instructions()
    queues: dict[str, int] = {}
    for op in instrs:
        queues.setdefault(queue_name(op), len(queues))
    names = list(queues)
    nq = len(names)
    known = [[0] * nq for _ in range(nq)]
    clocks: dict[tuple[int, int], list[int]] = {}
    history: list[tuple[int, int, bool, Box]] = []
    result: Waits = []
    for op in instrs:
        q = queues[queue_name(op)]
        mine = [(True, box(ap)) for _, ap in op.writes()] + [
            (False, box(ap)) for _, ap in op.reads()
        ]
        need = [0] * nq
        for r, pos, other_write, other in history:
            if r != q and any((w or other_write) and b.overlaps(other) for w, b in mine):
                need[r] = max(need[r], pos)
        wanted = [r for r in range(nq) if need[r] > known[q][r]]
        kept = [
            r
            for r in wanted
            if not any(r2 != r and clocks[(r2, need[r2])][r] >= need[r] for r2 in wanted)
        ]
        for r in kept:
            known[q] = [max(a, b) for a, b in zip(known[q], clocks[(r, need[r])], strict=True)]
        pos = sum(1 for h in clocks if h[0] == q) + 1
        known[q][q] = pos
        clocks[(q, pos)] = list(known[q])
        history.extend((q, pos, w, b) for w, b in mine)
        result.append([(names[r], need[r]) for r in kept])
    return result


def pass_waits(program: isa.ProgramOp) -> Waits:
    insert_sync(program)
    found: Waits = []
    for op in program.instructions():
        assert [str(s) for s in op.signals] == [f"{queue_name(op)}.s0"]
        found.append([(w.sem.owner.data, w.value.data) for w in op.waits])
    return found


QUEUES = ("dma0", "dma1", "dma2", "dma3", "vector", "scalar", "gpsimd")
PARTS = ((0, 128), (0, 64), (64, 64), (0, 32), (32, 32), (96, 32))


def _sbuf(rng: random.Random, n: int, parts: tuple[int, int]) -> str:
    start, count = parts
    offset = rng.choice((0, 256, 1024, 2048, 4000, 8192, 65536))
    step = rng.choice((1, 1, 2))
    return f"#trn_isa.ap<sbuf[{start}:{start + count}] + {offset}, [[{step}, {n}]], f32>"


def _hbm(rng: random.Random, n: int) -> str:
    # 128 rows of n elements: short strides, and long ones (a bounding box over hundreds
    # of megabytes, which the index files as 'wide')
    stride = rng.choice((n, 2 * n, 1 << 12, 1 << 20))
    offset = rng.choice((0, 4096, 1 << 16, 1 << 22, 1 << 26))
    return f"#trn_isa.ap<hbm + {offset}, [[{stride}, 128], [1, {n}]], f32>"


def random_program(seed: int, count: int) -> str:
    """A program of `count` random copies between HBM and SBUF on DMA queues and SBUF
    copies on the engines, over few enough addresses that many of them conflict."""
    rng = random.Random(seed)
    lines = ["trn_isa.program @random {"]
    lines.append("  trn_isa.hbm_tensor @t : tensor<131072x4096xf32> at 0 role input")
    for _ in range(count):
        q = rng.choice(QUEUES)
        n = rng.choice((16, 64, 512))
        if q.startswith("dma"):
            hbm_ap, sbuf_ap = _hbm(rng, n), _sbuf(rng, n, (0, 128))
            dst, src = (sbuf_ap, hbm_ap) if rng.random() < 0.5 else (hbm_ap, sbuf_ap)
            lines.append(f"  trn_isa.dma_copy dst {dst}, src {src} on {q}")
        else:
            parts = rng.choice(PARTS)
            dst, src = _sbuf(rng, n, parts), _sbuf(rng, n, parts)
            lines.append(f"  trn_isa.tensor_copy dst {dst}, src {src} on {q}")
    lines.append("}")
    return "\n".join(lines)


def _program(text: str) -> isa.ProgramOp:
    module = parse_source(text, "p.mlir")
    return next(op for op in module.walk() if isinstance(op, isa.ProgramOp))


@pytest.mark.parametrize("prune_min", [None, 16])
@pytest.mark.parametrize("seed", range(8))
def test_random_programs_get_the_waits_of_the_definition(
    seed: int, prune_min: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if prune_min is not None:  # prune the index often, as large programs do
        monkeypatch.setattr(isa_sync, "_PRUNE_MIN", prune_min)
    program = _program(random_program(seed, 300))
    expected = reference_waits(program)
    assert sum(len(w) for w in expected) > 50  # the programs do need synchronising
    assert pass_waits(program) == expected


def test_lowered_models_get_the_waits_of_the_definition() -> None:
    import trnc

    compiled = trnc.compile(str(ROOT / "examples" / "mlp.onnx"), input_shapes={"x": [8, 64]})
    program = next(op for op in compiled.module.walk() if isinstance(op, isa.ProgramOp))
    expected = reference_waits(program)
    assert pass_waits(program) == expected
    kernels = load_by_path(ROOT / "benchmarks" / "kernels.py", "trnc_bench_kernels_sync")
    problem = kernels.Problem(256, 1024, 512)
    for build in (kernels.build_tiled, kernels.build_hoisted, kernels.build_block_free):
        program = build(problem)
        expected = reference_waits(program)
        assert pass_waits(program) == expected


def _relu(n: int) -> str:
    return f"""
func.func @main(%x: tensor<128x{n}xf32>) -> tensor<128x{n}xf32> {{
  %0 = graph.relu %x : tensor<128x{n}xf32>
  return %0 : tensor<128x{n}xf32>
}}"""


def test_wide_accesses_cost_the_same_as_narrow_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    # One Relu over 128 x N: each load and store spans the whole tensor in HBM (row stride
    # N), and there are ~3N/2048 instructions. Filing every access under each 64 KiB
    # block it spans made the pass quadratic in N (4 s at N = 4e5 where the rest of the
    # lowering takes 0.2 s). Now the pass's work per instruction, counted as the index
    # places it searches plus the entries it files (deterministic, unlike wall time),
    # must not grow with N.
    work = [0]
    places, add = isa_sync._Index.places, isa_sync._Index.add

    def counting_places(self: Any, b: Any, is_write: bool) -> Any:
        found = places(self, b, is_write)
        work[0] += len(found)
        return found

    def counting_add(self: Any, q: int, pos: int, is_write: bool, b: Any) -> None:
        before = self.size
        add(self, q, pos, is_write, b)
        work[0] += self.size - before

    monkeypatch.setattr(isa_sync._Index, "places", counting_places)
    monkeypatch.setattr(isa_sync._Index, "add", counting_add)
    per_instruction = []
    for n in (1 << 16, 1 << 20):
        module = parse_source(_relu(n), "relu.mlir")
        for stage in GraphToIsa(dtype="fp32").stages()[:-1]:
            stage.apply(Context(), module)
        program = next(op for op in module.walk() if isinstance(op, isa.ProgramOp))
        work[0] = 0
        insert_sync(program)
        per_instruction.append(work[0] / len(program.instructions()))
    # 16x the span per access: the quadratic index did ~16x the work per instruction here
    assert per_instruction[1] <= 1.25 * per_instruction[0], per_instruction


@pytest.mark.parametrize("seed", range(3))
def test_output_is_race_free_on_the_simulator(seed: int) -> None:
    program = _program(random_program(seed, 300))
    insert_sync(program)
    decoded = decode(program)
    check_races(decoded, schedule(decoded))
