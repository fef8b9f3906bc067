"""The simulation report: what `simulate` returns and `trn-run` prints and writes.

Figures (trn1.md A.5 defines the roofline):

Counts, bytes, FLOPs and busy times come from the timing `Schedule`; this module only
derives the roofline and formats.

- `simulated_ns`: when the last instruction's results are visible;
- `flops`: 2 * K * M * N per matmul (transposes are data movement, not counted);
- `roofline_ns = max(compute_ns, memory_ns)`, where `compute_ns` is each matmul's FLOPs
  over TensorE's peak for its input type (bf16 peak, a quarter of it for fp32 inputs,
  A.2) and `memory_ns` the compulsory HBM bytes (every input, weight and output tensor
  read or written once) over the HBM bandwidth; `roofline_fraction = roofline_ns /
  simulated_ns`;
- per queue (engines and DMA queues): `busy_ns`, `utilization` (busy / simulated),
  `wait_ns` (blocked on semaphores) and instruction count; per opcode counts;
- `dma_bytes` (all DMA payload) and the achieved HBM bandwidth (HBM bytes read or
  written by DMA over the simulated time);
- the simulator's own wall time and instructions per second.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from trnc.simulator.costs import matmul_flops
from trnc.simulator.program import AP, QUEUE_NAMES, Program
from trnc.simulator.timing import Schedule


@dataclass
class QueueStats:
    instructions: int
    busy_ns: float
    utilization: float
    wait_ns: float


@dataclass
class Report:
    program: str
    instructions: int
    simulated_ns: float
    flops: int
    compute_bound_ns: float
    memory_bound_ns: float
    roofline_ns: float
    roofline_fraction: float
    compulsory_hbm_bytes: int
    dma_bytes: int
    hbm_bandwidth_gbps: float
    queues: dict[str, QueueStats]
    opcodes: dict[str, int]
    timing_only: bool
    wall_seconds: float
    instructions_per_second: float
    warnings: list[str] = field(default_factory=lambda: [])
    notes: list[str] = field(default_factory=lambda: [])

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def table(self) -> str:
        """A readable summary for a terminal."""
        lines = [
            f"program {self.program}: {self.instructions} instructions"
            + (" (timing only)" if self.timing_only else ""),
            f"  simulated time      {self.simulated_ns / 1e3:12.3f} us",
            f"  roofline bound      {self.roofline_ns / 1e3:12.3f} us"
            f"  (compute {self.compute_bound_ns / 1e3:.3f} us, memory "
            f"{self.memory_bound_ns / 1e3:.3f} us)",
            f"  roofline fraction   {self.roofline_fraction:12.1%}",
            f"  flops               {self.flops:12d}",
            f"  dma bytes           {self.dma_bytes:12d}  "
            f"({self.hbm_bandwidth_gbps:.1f} GB/s achieved)",
            "",
            f"  {'queue':<8} {'instrs':>8} {'busy us':>12} {'util':>7} {'sem wait us':>12}",
        ]
        for name, q in self.queues.items():
            if q.instructions == 0:
                continue
            lines.append(
                f"  {name:<8} {q.instructions:>8d} {q.busy_ns / 1e3:>12.3f} "
                f"{q.utilization:>7.1%} {q.wait_ns / 1e3:>12.3f}"
            )
        lines.append("")
        lines.append("  opcodes: " + ", ".join(f"{k} {v}" for k, v in self.opcodes.items()))
        lines.append(
            f"  simulator: {self.wall_seconds:.3f} s wall, "
            f"{self.instructions_per_second:,.0f} instructions/s"
        )
        for note in self.notes:
            lines.append(f"  note: {note}")
        for warning in self.warnings:
            lines.append(f"  warning: {warning}")
        return "\n".join(lines)


def compulsory_hbm_bytes(
    tensors: Sequence[tuple[str, int, int]], accesses: Iterable[tuple[int, int | None]]
) -> int:
    """The HBM bytes a program must move at least: every input, weight and output tensor
    once, except a tensor that only indirect DMAs read (an embedding table), which counts
    the rows they gather. `tensors`: (role, byte address, bytes) each; `accesses`: per
    DMA access of HBM, (byte address of its element 0, bytes gathered, or None for a
    plain transfer)."""
    order = sorted(range(len(tensors)), key=lambda i: tensors[i][1])
    starts = [tensors[i][1] for i in order]
    gathered: dict[int, int] = {}
    plain: set[int] = set()
    for address, rows_bytes in accesses:
        k = bisect.bisect_right(starts, address) - 1
        if k < 0:
            continue
        index = order[k]
        if rows_bytes is None:
            plain.add(index)
        else:
            gathered[index] = gathered.get(index, 0) + rows_bytes
    total = 0
    for i, (role, _, nbytes) in enumerate(tensors):
        if role not in ("input", "weight", "output"):
            continue
        only_gathered = i in gathered and i not in plain
        total += min(nbytes, gathered[i]) if only_gathered else nbytes
    return total


def _hbm_accesses(program: Program) -> list[tuple[int, int | None]]:
    out: list[tuple[int, int | None]] = []
    for instr in program.instrs:
        if not instr.is_dma:
            continue
        gather = instr.opcode == "dma_gather"
        for name, value in instr.args.items():
            if isinstance(value, AP) and value.mem == "hbm":
                rows = None
                if gather and name == "table":
                    dst = instr.args["dst"]
                    rows = dst.elems * value.itemsize
                out.append((value.offset, rows))
    return out


def build_report(
    program: Program,
    schedule: Schedule,
    *,
    timing_only: bool,
    wall_seconds: float,
    warnings: list[str],
    notes: list[str],
) -> Report:
    m = program.machine
    simulated = schedule.total_ns
    compute_ns = 0.0
    for instr in program.instrs:
        if instr.opcode == "matmul":
            fp32 = instr.args["moving"].dtype == "f32"
            peak = m.tensor_peak_flops_bf16 / (m.fp32_matmul_factor if fp32 else 1)
            compute_ns += matmul_flops(instr) / peak * 1e9
    compulsory = compulsory_hbm_bytes(
        [(t.role, t.address, t.nbytes) for t in program.tensors], _hbm_accesses(program)
    )
    memory_ns = compulsory / m.hbm_gbps  # bytes / (GB/s) = ns
    roofline = max(compute_ns, memory_ns)
    queues = {
        name: QueueStats(
            instructions=schedule.queue_instrs[q],
            busy_ns=schedule.busy_ns[q],
            utilization=schedule.utilization(q),
            wait_ns=schedule.wait_ns[q],
        )
        for q, name in enumerate(QUEUE_NAMES)
    }
    return Report(
        program=program.name,
        instructions=len(program.instrs),
        simulated_ns=simulated,
        flops=schedule.flops,
        compute_bound_ns=compute_ns,
        memory_bound_ns=memory_ns,
        roofline_ns=roofline,
        roofline_fraction=roofline / simulated if simulated else 0.0,
        compulsory_hbm_bytes=compulsory,
        dma_bytes=schedule.dma_bytes,
        hbm_bandwidth_gbps=schedule.hbm_bytes / simulated if simulated else 0.0,
        queues=queues,
        opcodes=dict(sorted(schedule.opcode_counts.items())),
        timing_only=timing_only,
        wall_seconds=wall_seconds,
        instructions_per_second=len(program.instrs) / wall_seconds if wall_seconds > 0 else 0.0,
        warnings=warnings,
        notes=notes,
    )
