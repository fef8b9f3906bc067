"""Calibration of the timing simulator against trn1.md A.6 (the NKI matmul tutorial).

For each of the four kernel structures (`benchmarks/kernels.py`) at the A.6 size, bf16
[4096, 8192] @ [8192, 8192] with the LHS given as [K, M], this builds the `trn_isa.program`,
verifies and decodes it, runs the timing-only simulation
(`trnc.simulator.timing.schedule`), prints a table and writes
`benchmarks/results/calibration.json`: one row per structure with the figures computed
here (instructions, predicted ms, published ms, predicted / published, build s,
simulate s, plus TensorE utilisation and DMA bytes). Published figures exist only at the
A.6 size; at `--size small` those columns are null.

Usage, from the repository root::

    .venv/bin/python -m benchmarks.calibrate_matmul [--size small] [--out PATH]
        [--dma-queues N] [--bufs N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make `benchmarks` this directory's package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.kernels import (
    SMALL_CONFIG,
    Config,
    Kernel,
    a6_kernels,
    small_kernels,
)
from trnc.simulator.program import QUEUE_NAMES, decode

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "calibration.json"


def run(kernel: Kernel) -> dict[str, Any]:
    """Build, verify, decode and schedule one kernel; the row of the table."""
    from trnc.simulator.timing import schedule

    t0 = time.perf_counter()
    program_op = kernel.build()
    program_op.verify()
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    program = decode(program_op)
    plan = schedule(program)
    simulate_s = time.perf_counter() - t0
    predicted_ms = plan.total_ns / 1e6
    published = kernel.published_ms
    tensor = QUEUE_NAMES.index("tensor")
    p = kernel.problem
    return {
        "name": kernel.structure,
        "size": [p.m, p.n, p.k],
        "instructions": len(program.instrs),
        "opcodes": dict(sorted(plan.opcode_counts.items())),
        "predicted_ms": predicted_ms,
        "published_ms": published,
        "ratio": predicted_ms / published if published else None,
        "build_s": build_s,
        "simulate_s": simulate_s,
        "tensor_utilization": plan.utilization(tensor),
        "dma_bytes": plan.dma_bytes,
        "dma_queues": list(kernel.config.dma_queues),
        "bufs": kernel.config.bufs,
    }


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        "name",
        "instructions",
        "predicted ms",
        "published ms",
        "ratio",
        "build s",
        "simulate s",
        "PE util",
    )
    print("{:<11} {:>12} {:>12} {:>12} {:>6} {:>8} {:>10} {:>8}".format(*head))
    for r in rows:
        print(
            f"{r['name']:<11} {r['instructions']:>12} {r['predicted_ms']:>12.3f} "
            f"{_fmt(r['published_ms'], '.2f'):>12} {_fmt(r['ratio'], '.3f'):>6} "
            f"{r['build_s']:>8.1f} {r['simulate_s']:>10.1f} "
            f"{100 * r['tensor_utilization']:>7.1f}%"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("a6", "small"), default="a6")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--dma-queues",
        type=int,
        default=None,
        help="use DMA queues 0..N-1 (default: kernels.Config's)",
    )
    parser.add_argument(
        "--bufs", type=int, default=None, help="SBUF ring depth (default: kernels.Config's, 2)"
    )
    args = parser.parse_args(argv)
    base = SMALL_CONFIG if args.size == "small" else Config()
    changes: dict[str, Any] = {}
    if args.dma_queues is not None:
        changes["dma_queues"] = tuple(range(args.dma_queues))
    if args.bufs is not None:
        changes["bufs"] = args.bufs
    cfg = Config(**{**base.__dict__, **changes})
    kernels = small_kernels(cfg) if args.size == "small" else a6_kernels(cfg)
    rows = []
    for kernel in kernels:
        rows.append(run(kernel))
        print(f"  {kernel.structure}: done", file=sys.stderr, flush=True)
    print_table(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
