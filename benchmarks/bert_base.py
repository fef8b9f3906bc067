"""Compile a BERT-base-sized encoder (`benchmarks/bert_onnx.py`: 12 layers, hidden 768,
12 heads, sequence 128, random weights) with `trnc.compile`, simulate it in timing-only
mode, and print (and write to `benchmarks/results/bert_base.json`, one row per
configuration, other rows kept) compile seconds (total and per pass), instructions (total
and per engine), DMA bytes, flops, simulated time, the roofline fraction and the
simulator's wall time. Run from the repository root:

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m benchmarks.bert_base
    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m benchmarks.bert_base --layers 1 --batch 4 --seq 512
    .venv/bin/python -m benchmarks.bert_base --layers 1 --seq 16 --dtype fp32 --out /tmp/b.json

A model trnc cannot compile yet prints its located error and exits with code 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trnc
from benchmarks.bert_onnx import save_bert
from benchmarks.results_io import existing_rows
from trnc.compiler import CompileError
from trnc.frontend.onnx import OnnxImportError
from trnc.simulator.errors import SimulationError

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "bert_base.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bert_base",
        description="Compile and simulate (timing only) a BERT-base-sized encoder.",
    )
    parser.add_argument("--layers", type=int, default=12, help="encoder layers (default 12)")
    parser.add_argument("--seq", type=int, default=128, help="sequence length (default 128)")
    parser.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    parser.add_argument("--dtype", choices=("bf16", "fp32"), default="bf16")
    parser.add_argument("--out", type=Path, default=OUT, help=f"JSON results (default {OUT})")
    return parser


def _inputs(batch: int, seq: int, vocab: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Ids in [0, vocab), token types 0/1, a right-padded mask with at least one 1 a row."""
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, seq), np.int64)
    for row in range(batch):
        mask[row, int(rng.integers(1, seq + 1)) :] = 0
    return {
        "input_ids": rng.integers(0, vocab, (batch, seq)).astype(np.int64),
        "attention_mask": mask,
        "token_type_ids": rng.integers(0, 2, (batch, seq)).astype(np.int64),
    }


def measure(layers: int, seq: int, batch: int, dtype: str) -> dict[str, Any]:
    """Build, compile and simulate: the results row. Raises `OnnxImportError` /
    `CompileError` for a model trnc cannot compile, `SimulationError` for a failed run."""
    config: dict[str, Any] = {
        "layers": layers,
        "hidden": 768,
        "heads": 12,
        "intermediate": 3072,
        "vocab": 30522,
        "seq": seq,
        "batch": batch,
    }
    shapes = {name: [batch, seq] for name in INPUTS}
    with tempfile.TemporaryDirectory(prefix="trnc-bert-") as tmp:
        t0 = time.perf_counter()
        path = save_bert(Path(tmp) / "bert.onnx", **config)
        build_seconds = time.perf_counter() - t0
        model_bytes = sum(f.stat().st_size for f in Path(tmp).iterdir())
        model = trnc.compile(path, input_shapes=shapes, dtype=dtype)
    model.run(_inputs(batch, seq, config["vocab"]), timing_only=True)
    sim = model.report["simulation"]
    report = {k: v for k, v in model.report.items() if k != "simulation"}
    return {
        "model": config,
        "measured": date.today().isoformat(),
        "cpus": os.cpu_count(),
        "build_seconds": build_seconds,
        "model_bytes": model_bytes,
        **report,
        "simulated_ns": sim["simulated_ns"],
        "roofline_ns": sim["roofline_ns"],
        "roofline_fraction": sim["roofline_fraction"],
        "simulator_wall_seconds": sim["wall_seconds"],
        "simulator_instructions_per_second": sim["instructions_per_second"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if min(args.layers, args.seq, args.batch) < 1:
        print("bert_base: error: --layers, --seq and --batch must be positive", file=sys.stderr)
        return 1
    label = f"bert {args.layers} layers, batch {args.batch}, seq {args.seq}"
    try:
        row = measure(args.layers, args.seq, args.batch, args.dtype)
    except OnnxImportError as error:
        print(f"{label} {args.dtype}: cannot import:\n{error}", file=sys.stderr)
        return 1
    except CompileError as error:
        print(f"{label} {args.dtype}: cannot compile: {error}", file=sys.stderr)
        return 1
    except SimulationError as error:
        print(f"{label} {args.dtype}: the simulation failed: {error}", file=sys.stderr)
        return 1
    seconds = row["compile_seconds"]
    instructions = row["instructions"]
    print(
        f"{'model':<36} {'dtype':<5} {'compile s':>9} {'instrs':>9} {'sim us':>11} "
        f"{'roofline':>8} {'sim wall s':>10}"
    )
    print(
        f"{label:<36} {args.dtype:<5} {seconds['total']:>9.2f} {instructions['total']:>9} "
        f"{row['simulated_ns'] / 1e3:>11.1f} {row['roofline_fraction']:>8.1%} "
        f"{row['simulator_wall_seconds']:>10.2f}"
    )
    print(f"  model built and saved in {row['build_seconds']:.2f} s ({row['model_bytes']:,} B)")
    print(
        "  compile s per pass: "
        + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items() if k != "total")
    )
    print(f"  tile IR: {row['tile_ops']:,} ops ({row['tile_ops_top_level']:,} outside loops)")
    print(
        "  instructions per engine: "
        + ", ".join(f"{k} {v:,}" for k, v in instructions["per_engine"].items())
    )
    print(
        f"  dma bytes {row['dma_bytes']:,}, compulsory HBM bytes "
        f"{row['compulsory_hbm_bytes']:,}, flops {row['flops']:,}"
    )
    print(
        f"  SBUF peak {row['sbuf_peak_bytes_per_partition']:,} B/partition, "
        f"PSUM peak {row['psum_peak_banks']} banks"
    )
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        rows = existing_rows(args.out)  # one row per configuration: keep the others
        rows[f"{label} {args.dtype}"] = row
        args.out.write_text(json.dumps(rows, indent=2) + "\n")
    except OSError as error:
        print(f"bert_base: error: cannot write '{args.out}': {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
