"""Compile the bundled models that the lowering covers with `trnc.compile`, simulate them,
and print (and write to `benchmarks/results/compile_models.json`) per model and dtype:
compile seconds (total and per pass), instructions (total and per engine), transposes,
DMA bytes, SBUF peak bytes per partition, PSUM banks, simulated time and the roofline
fraction. Run from the repository root:

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m benchmarks.compile_models
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trnc

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "compile_models.json"
MODELS = {
    "mlp.onnx (batch 128)": ("tests/models/mlp.onnx", {"x": [128, 64]}),
    "cnn.onnx (batch 8, 3x32x32)": ("tests/models/cnn.onnx", {"x": [8, 3, 32, 32]}),
}


def main() -> int:
    rows: dict[str, dict[str, object]] = {}
    header = (
        f"{'model':<30} {'dtype':<5} {'compile s':>9} {'instrs':>7} {'sim us':>9} "
        f"{'roofline':>8} {'sbuf B/part':>11}"
    )
    print(header)
    for label, (path, shapes) in MODELS.items():
        for dtype in ("fp32", "bf16"):
            model = trnc.compile(ROOT / path, input_shapes=shapes, dtype=dtype)
            rng = np.random.default_rng(0)
            inputs = {
                n: rng.standard_normal(shapes[n]).astype(np.float32) for n in model.input_names
            }
            model.run(inputs)
            sim = model.report["simulation"]
            report = {k: v for k, v in model.report.items() if k != "simulation"}
            report["simulated_ns"] = sim["simulated_ns"]
            report["roofline_fraction"] = sim["roofline_fraction"]
            rows[f"{label} {dtype}"] = report
            print(
                f"{label:<30} {dtype:<5} {report['compile_seconds']['total']:>9.2f} "
                f"{report['instructions']['total']:>7} {sim['simulated_ns'] / 1e3:>9.1f} "
                f"{sim['roofline_fraction']:>8.1%} {report['sbuf_peak_bytes_per_partition']:>11}"
            )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
