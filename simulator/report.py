"""The simulation report: what `simulate` returns and `trn-run` prints and writes.

Figures (trn1.md A.5 defines the roofline):

- `simulated_ns`: when the last instruction's results are visible;
- `flops`: 2 * K * M * N per matmul (transposes are data movement, not counted);
- `roofline_ns = max(compute_ns, memory_ns)`, where `compute_ns` is each matmul's FLOPs
  over TensorE's peak for its input type (bf16 peak, a quarter of it for fp32 inputs,
  A.2) and `memory_ns` the compulsory HBM bytes (every input, weight and output tensor
  read or written once) over the HBM bandwidth; `roofline_fraction = roofline_ns /
  simulated_ns`;
- per queue (engines and DMA queues): `busy_ns`, `utilization` (busy / simulated),
  `wait_ns` (blocked on semaphores) and instruction count; per opcode counts;
- `dma_bytes` (all DMA) and the achieved HBM bandwidth (DMA bytes to or from HBM over
  the simulated time);
- the simulator's own wall time and instructions per second.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from trnc.simulator.program import QUEUE_NAMES, Instr, Program


class ScheduleLike(Protocol):
    """What the report needs from a timing schedule."""

    start_ns: list[float]
    end_ns: list[float]
    visible_ns: list[float]
    busy_ns: list[float]
    wait_ns: list[float]


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


def matmul_flops(instr: Instr) -> int:
    """2 * K * M * N for a matmul (K = partitions, M = stationary free, N = moving free)."""
    stationary, moving = instr.args["stationary"], instr.args["moving"]
    return 2 * stationary.partitions * stationary.free_elems * moving.free_elems


def dma_bytes(instr: Instr) -> int:
    return int(instr.args["dst"].nbytes) if instr.opcode == "dma_copy" else 0


def build_report(
    program: Program,
    schedule: ScheduleLike,
    *,
    timing_only: bool,
    wall_seconds: float,
    warnings: list[str],
    notes: list[str],
) -> Report:
    m = program.machine
    instrs = program.instrs
    simulated = max(schedule.visible_ns, default=0.0)
    flops = 0
    compute_ns = 0.0
    for instr in instrs:
        if instr.opcode == "matmul":
            f = matmul_flops(instr)
            flops += f
            fp32 = instr.args["moving"].dtype == "f32"
            peak = m.tensor_peak_flops_bf16 / (m.fp32_matmul_factor if fp32 else 1)
            compute_ns += f / peak * 1e9
    compulsory = sum(t.nbytes for t in program.tensors if t.role in ("input", "weight", "output"))
    memory_ns = compulsory / m.hbm_gbps  # bytes / (GB/s) = ns
    roofline = max(compute_ns, memory_ns)
    moved = sum(dma_bytes(i) for i in instrs)
    hbm_moved = (
        sum(
            dma_bytes(i)
            for i in instrs
            if "hbm" in (i.args["dst"].mem, i.args.get("src", i.args["dst"]).mem)
        )
        if moved
        else 0
    )
    per_queue = Counter(i.queue for i in instrs)
    queues = {
        name: QueueStats(
            instructions=per_queue.get(q, 0),
            busy_ns=schedule.busy_ns[q],
            utilization=schedule.busy_ns[q] / simulated if simulated else 0.0,
            wait_ns=schedule.wait_ns[q],
        )
        for q, name in enumerate(QUEUE_NAMES)
    }
    return Report(
        program=program.name,
        instructions=len(instrs),
        simulated_ns=simulated,
        flops=flops,
        compute_bound_ns=compute_ns,
        memory_bound_ns=memory_ns,
        roofline_ns=roofline,
        roofline_fraction=roofline / simulated if simulated else 0.0,
        compulsory_hbm_bytes=compulsory,
        dma_bytes=moved,
        hbm_bandwidth_gbps=hbm_moved / simulated if simulated else 0.0,
        queues=queues,
        opcodes=dict(sorted(Counter(i.opcode for i in instrs).items())),
        timing_only=timing_only,
        wall_seconds=wall_seconds,
        instructions_per_second=len(instrs) / wall_seconds if wall_seconds > 0 else 0.0,
        warnings=warnings,
        notes=notes,
    )


def report_dict(report: Report) -> dict[str, Any]:
    return asdict(report)
