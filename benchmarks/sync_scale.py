"""How `isa-insert-sync` (and the passes before it) scale with program size: one Relu over
a `128 x N` fp32 tensor, lowered with the stages of `graph-to-isa`, at several N. Each
stage is timed on its own (best of `--repeat` for `isa-insert-sync`, which can be rerun
on the same program; once for the others); printed as a table and written to
`benchmarks/results/sync_scale.json`. Run from the repository root:

    .venv/bin/python -m benchmarks.sync_scale [--sizes 100000,200000,400000,1000000]

Each load and store of the program spans the whole tensor in HBM (its rows are N
elements apart) and there are about 3N/2048 instructions, so a pass whose time per
instruction grows with N is superlinear; the table gives microseconds per instruction.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xdsl.context import Context

from trnc.dialects import trn_isa as isa
from trnc.lowering.graph_to_isa import GraphToIsa
from trnc.lowering.isa_sync import insert_sync
from trnc.tools.context import parse_source

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "sync_scale.json"
SIZES = (100_000, 200_000, 400_000, 1_000_000)


def relu_module_text(n: int) -> str:
    """Graph IR: one `graph.relu` over `tensor<128xNxf32>`."""
    t = f"tensor<128x{n}xf32>"
    body = f"  %0 = graph.relu %x : {t}\n  return %0 : {t}\n"
    return f"func.func @main(%x: {t}) -> {t} {{\n{body}}}\n"


def measure(n: int, repeat: int) -> tuple[int, int, dict[str, float]]:
    """For one N: the instruction count, the waits added and the seconds per stage."""
    module = parse_source(relu_module_text(n), "relu.mlir")
    stages = GraphToIsa(dtype="fp32").stages()
    seconds: dict[str, float] = {}
    for stage in stages[:-1]:
        start = time.perf_counter()
        stage.apply(Context(), module)
        seconds[stage.name] = time.perf_counter() - start
    program = next(op for op in module.walk() if isinstance(op, isa.ProgramOp))
    best = float("inf")
    waits = 0
    for _ in range(repeat):
        start = time.perf_counter()
        waits = insert_sync(program)
        best = min(best, time.perf_counter() - start)
    seconds[stages[-1].name] = best
    return len(program.instructions()), waits, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="comma-separated values of N"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of isa-insert-sync")
    parser.add_argument("--out", type=Path, default=OUT, help="JSON output file")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        print(f"sync_scale: error: --sizes must be integers, got {args.sizes!r}")
        return 1
    if args.repeat < 1 or any(n < 1 for n in sizes):
        print("sync_scale: error: --repeat and every size must be at least 1")
        return 1
    rows: list[dict[str, object]] = []
    print(f"{'N':>9} {'instrs':>7} {'waits':>6}  seconds (us per instruction) per pass")
    for n in sizes:
        count, waits, seconds = measure(n, args.repeat)
        rows.append({"n": n, "instructions": count, "waits": waits, "seconds": seconds})
        cells = "  ".join(f"{name} {s:.3f} ({1e6 * s / count:.0f})" for name, s in seconds.items())
        print(f"{n:>9} {count:>7} {waits:>6}  {cells}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
