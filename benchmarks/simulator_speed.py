"""How fast the simulator runs (issue 3's speed targets), measured, printed and written
to `benchmarks/results/simulator_speed.json`.

- timing-only: `schedule` (and the race check, separately) on the tiled A.6 matmul
  kernel (`benchmarks/kernels.py`, ~99k instructions); target >= 100,000 instructions/s;
- functional: full `simulate` (schedule, race check and execution on data) of the tiled
  kernel at `FUNCTIONAL`'s size, whose tiles are 128 x 512 (matmul moving tiles, PSUM
  evacuation, DMA); target >= 10,000 instructions/s. The inputs are seeded random arrays
  made before timing (as a test passes its inputs), and one run made before timing
  (warm-up); the best of `--functional-repeat` runs is reported (and the median in the
  JSON). GEMMs run in this process on one BLAS thread (docs/SIMULATOR.md,
  "Determinism"). These runs come first, before the timing-only program (~99k
  instructions) is built. The "blas floor" row is numpy's time for the same 256 GEMMs
  alone, on one core;
- cost oracle, end to end: a BERT encoder built with `benchmarks/bert_onnx.py` (by
  default `--bert-layers 1` layer of BERT-base size: hidden 768, 12 heads, intermediate
  3072, vocabulary 30522, bf16, sequence 128) compiled with `trnc.compile` (not timed),
  then `decode` of the compiled module, `schedule` of the decoded program, and both in
  a row (best of `--repeat` each; the footprint caches, which outlive a decode, are
  cleared before each so every decode is a first one); target >= 100,000
  instructions/s for decode + schedule (issue 15). `--bert-size tiny` (hidden 64) is for
  the smoke test.

Usage, from the repository root::

    .venv/bin/python -m benchmarks.simulator_speed [--out PATH]
        [--timing-size a6|small] [--repeat N] [--functional-repeat N]
        [--bert-size base|tiny] [--bert-layers N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a file: make `benchmarks` this directory's package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trnc
from benchmarks.bert_onnx import save_bert
from benchmarks.kernels import A6, SMALL, Config, Problem, build_tiled
from trnc.simulator import prepare_inputs, simulate
from trnc.simulator.footprint import byte_runs, footprint
from trnc.simulator.hazards import check_races
from trnc.simulator.program import Program, decode
from trnc.simulator.timing import schedule

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "simulator_speed.json"
FUNCTIONAL = Problem(1024, 2048, 1024)
"""The functional run: 256 bf16 matmuls of 128x128 by 128x512 tiles, 512 tile loads, 32
PSUM evacuations and 32 stores (832 instructions)."""


def _best(seconds: list[float]) -> float:
    return min(seconds)


def _blas_floor(program: Program, repeat: int) -> float:
    """Seconds numpy's BLAS alone takes for the program's matmuls (fp32 operands of the
    same shapes, no simulator around them): a lower bound on functional simulation."""
    rng = np.random.default_rng(0)
    shapes = [
        (ins.args["stationary"], ins.args["moving"])
        for ins in program.instrs
        if ins.opcode == "matmul"
    ]
    best = float("inf")
    for _ in range(repeat):
        seconds = 0.0
        for st, mv in shapes:
            a = rng.random((st.partitions, st.free_elems), dtype=np.float32)
            b = rng.random((mv.partitions, mv.free_elems), dtype=np.float32)
            t0 = time.perf_counter()
            a.T @ b
            seconds += time.perf_counter() - t0
        best = min(best, seconds)
    return best


BERT_SIZES: dict[str, dict[str, int]] = {
    "base": {"hidden": 768, "heads": 12, "intermediate": 3072, "vocab": 30522, "seq": 128},
    "tiny": {"hidden": 64, "heads": 4, "intermediate": 128, "vocab": 100, "seq": 16},
}
"""`--bert-size`: BERT-base's dimensions, or a small model for the smoke test."""
BERT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _bert_row(size: str, layers: int, repeat: int) -> dict[str, Any]:
    """Decode and schedule of a compiled BERT encoder (the cost oracle, end to end)."""
    config = {**BERT_SIZES[size], "layers": layers, "batch": 1}
    with tempfile.TemporaryDirectory() as tmp:
        path = save_bert(Path(tmp) / "bert.onnx", **config)
        t0 = time.perf_counter()
        compiled = trnc.compile(
            path, input_shapes={n: [1, config["seq"]] for n in BERT_INPUTS}, dtype="bf16"
        )
        compile_s = time.perf_counter() - t0
    module = compiled.module
    decode_s, sched_s, both_s = [], [], []
    n = 0
    for _ in range(repeat):
        footprint.cache_clear()
        byte_runs.cache_clear()
        t0 = time.perf_counter()
        program = decode(module)
        t1 = time.perf_counter()
        schedule(program)
        t2 = time.perf_counter()
        n = len(program.instrs)
        decode_s.append(t1 - t0)
        sched_s.append(t2 - t1)
        both_s.append(t2 - t0)
    return {
        "model": f"BERT encoder ({size}), {layers} layer(s), bf16, seq {config['seq']}",
        "instructions": n,
        "compile_s": compile_s,
        "decode_s": _best(decode_s),
        "decode_instructions_per_s": n / _best(decode_s),
        "schedule_s": _best(sched_s),
        "schedule_instructions_per_s": n / _best(sched_s),
        "decode_and_schedule_s": _best(both_s),
        "decode_and_schedule_instructions_per_s": n / _best(both_s),
        "decode_and_schedule_s_median": statistics.median(both_s),
        "runs": len(both_s),
        "target_instructions_per_s": 100_000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--timing-size", choices=("a6", "small"), default="a6")
    parser.add_argument("--repeat", type=int, default=3, help="timing-only runs (best taken)")
    parser.add_argument(
        "--functional-repeat", type=int, default=10, help="functional runs (best taken)"
    )
    parser.add_argument("--bert-size", choices=tuple(BERT_SIZES), default="base")
    parser.add_argument("--bert-layers", type=int, default=1)
    args = parser.parse_args(argv)

    rows: dict[str, dict[str, Any]] = {}

    # The functional runs first, before the large timing-only program is in memory.
    functional = decode(build_tiled(FUNCTIONAL, Config()))
    m = len(functional.instrs)
    inputs, _ = prepare_inputs(functional, {}, weights_dir=None, seed=0)
    simulate(functional, inputs)  # warm-up
    full_s = []
    for _ in range(args.functional_repeat):
        t0 = time.perf_counter()
        simulate(functional, inputs)
        full_s.append(time.perf_counter() - t0)
    floor_s = _blas_floor(functional, args.functional_repeat)
    rows["functional"] = {
        "instructions": m,
        "simulate_s": _best(full_s),
        "instructions_per_s": m / _best(full_s),
        "simulate_s_median": statistics.median(full_s),
        "runs": len(full_s),
        "target_instructions_per_s": 10_000,
        "matmul_blas_floor_s": floor_s,
        "instructions_per_s_at_blas_floor": m / floor_s,
    }

    rows["cost_oracle"] = _bert_row(args.bert_size, args.bert_layers, args.repeat)

    problem = A6 if args.timing_size == "a6" else SMALL
    start = time.perf_counter()
    program = decode(build_tiled(problem, Config()))
    build_s = time.perf_counter() - start
    n = len(program.instrs)
    sched_s, race_s = [], []
    plan = schedule(program)
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        plan = schedule(program)
        t1 = time.perf_counter()
        check_races(program, plan)
        t2 = time.perf_counter()
        sched_s.append(t1 - t0)
        race_s.append(t2 - t1)
    rows["timing_only"] = {
        "instructions": n,
        "build_and_decode_s": build_s,
        "schedule_s": _best(sched_s),
        "schedule_instructions_per_s": n / _best(sched_s),
        "race_check_s": _best(race_s),
        "race_check_instructions_per_s": n / _best(race_s),
        "target_instructions_per_s": 100_000,
    }

    print(f"{'mode':<12} {'instructions':>12} {'seconds':>9} {'instr/s':>10} {'target':>8}")
    t = rows["timing_only"]
    print(
        f"{'schedule':<12} {n:>12} {t['schedule_s']:>9.3f} "
        f"{t['schedule_instructions_per_s']:>10,.0f} {100_000:>8,}"
    )
    print(
        f"{'races':<12} {n:>12} {t['race_check_s']:>9.3f} "
        f"{t['race_check_instructions_per_s']:>10,.0f} {'':>8}"
    )
    b = rows["cost_oracle"]
    nb = b["instructions"]
    for mode, key in (
        ("bert decode", "decode"),
        ("bert sched", "schedule"),
        ("bert both", "decode_and_schedule"),
    ):
        target = f"{100_000:,}" if key == "decode_and_schedule" else ""
        print(
            f"{mode:<12} {nb:>12} {b[key + '_s']:>9.3f} "
            f"{b[key + '_instructions_per_s']:>10,.0f} {target:>8}"
        )
    f = rows["functional"]
    print(
        f"{'functional':<12} {m:>12} {f['simulate_s']:>9.3f} "
        f"{f['instructions_per_s']:>10,.0f} {10_000:>8,}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print(
        f"{'blas floor':<12} {m:>12} {f['matmul_blas_floor_s']:>9.3f} "
        f"{f['instructions_per_s_at_blas_floor']:>10,.0f}   (numpy matmuls alone)"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
