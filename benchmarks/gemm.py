"""Compile an ONNX MatMul `[M, K] @ [K, N]` (the left operand an input, the right a weight,
the way issue 15 measures GEMMs) with `trnc.compile` in bf16, simulate it in timing-only
mode, and print (and write to `benchmarks/results/gemm.json`) compile seconds,
instructions against the matmul lower bound (ceil(M/128) * ceil(K/128) * ceil(N/512)),
DMA bytes against the compulsory bytes, the simulated time and the roofline fraction.
Run from the repository root:

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m benchmarks.gemm
    .venv/bin/python -m benchmarks.gemm --size 1024x1024x1024 --out /tmp/g.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import date
from math import ceil
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trnc
from benchmarks.results_io import existing_rows
from trnc.simulator import simulate

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "gemm.json"
SIZES = ("1024x1024x1024", "2048x2048x2048", "4096x8192x8192")


def _model(m: int, k: int, n: int) -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    w = np.random.default_rng(0).standard_normal((k, n)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "gemm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return bytes(model.SerializeToString())


def measure(m: int, k: int, n: int) -> dict[str, Any]:
    start = time.perf_counter()
    model = trnc.compile(_model(m, k, n), dtype="bf16")
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    report = simulate(model.module, timing_only=True).report
    bound = ceil(m / 128) * ceil(k / 128) * ceil(n / 512)
    return {
        "measured": date.today().isoformat(),
        "dtype": "bf16",
        "compile_seconds": compile_seconds,
        "compile_seconds_per_pass": model.report["compile_seconds"],
        "instructions": report.instructions,
        "matmul_lower_bound": bound,
        "instructions_per_bound": report.instructions / bound,
        "dma_bytes": report.dma_bytes,
        "compulsory_hbm_bytes": report.compulsory_hbm_bytes,
        "simulated_ns": report.simulated_ns,
        "roofline_ns": report.roofline_ns,
        "roofline_fraction": report.roofline_fraction,
        "simulator_wall_seconds": time.perf_counter() - start,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gemm", description="Compile and simulate ONNX GEMMs."
    )
    parser.add_argument(
        "--size", action="append", help=f"MxKxN (repeatable; default {', '.join(SIZES)})"
    )
    parser.add_argument("--out", type=Path, default=OUT, help=f"JSON results (default {OUT})")
    args = parser.parse_args(argv)
    rows = existing_rows(args.out)  # one row per size: keep the others
    print(
        f"{'gemm MxKxN':<16} {'compile s':>9} {'instrs':>7} {'x bound':>7} "
        f"{'sim us':>10} {'roofline':>8}"
    )
    for size in args.size or SIZES:
        try:
            m, k, n = (int(v) for v in size.lower().split("x"))
        except ValueError:
            print(f"gemm: error: size '{size}' is not MxKxN", file=sys.stderr)
            return 1
        row = measure(m, k, n)
        rows[size] = row
        print(
            f"{size:<16} {row['compile_seconds']:>9.1f} {row['instructions']:>7} "
            f"{row['instructions_per_bound']:>7.2f} {row['simulated_ns'] / 1e3:>10.1f} "
            f"{row['roofline_fraction']:>8.1%}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
