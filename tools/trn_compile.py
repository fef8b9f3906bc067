"""trn-compile: compile an ONNX model to a `trn_isa` program, and optionally run and check it.

    trn-compile model.onnx [--input-shape NAME=DIMS ...] [--dtype bf16|fp32]
                [--emit graph|tile|isa] [-o out.mlir] [--run] [--inputs in.npz] [--check]
                [--report report.json] [--trace trace.json] [--seed N]

Prints the IR of the `--emit` level (default `isa`) to stdout or `-o` (with `-o` and the
isa level, the weights go to `<out>.weights.npz`, named by the program, so `trn-run out.mlir`
runs it). `--run` simulates the program (inputs from `--inputs`, else seeded random data:
floats in [-1, 1), integers that index a gather in [0, the indexed dim), other integers in
0..9) and prints the outputs, the simulated time and the engine utilisation. `--check` also runs
onnxruntime on the same inputs and prints, per output, the max absolute and relative error;
the exit code is 1 when an output is over the tolerance of its dtype (`TOLERANCE`).
Every user error is `trn-compile: error: ...` (or a located compile error) and exit code 1.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see trn_run.py

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from trnc.tools.diagnostics import ArgumentParser

TOLERANCE = {"fp32": 1e-4, "bf16": 2e-2}
"""Allowed error per output, relative to the output's largest magnitude (max |ref|):
fp32 computes like onnxruntime up to summation order; bf16 rounds matmul inputs to 8
mantissa bits (relative error ~2^-9 per product, averaging down over K), fp32 elsewhere."""


class _Fail(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="trn-compile", description="compile an ONNX model for trn1")
    p.add_argument("model", help="an .onnx file")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0xD1...")
    p.add_argument("--dtype", choices=("bf16", "fp32"), default="bf16")
    p.add_argument("--emit", choices=("graph", "tile", "isa"), default="isa")
    p.add_argument("-o", "--output", metavar="FILE.mlir", help="write the IR here")
    p.add_argument("--run", action="store_true", help="simulate the compiled program")
    p.add_argument("--inputs", metavar="FILE.npz", help="input data by name")
    p.add_argument("--check", action="store_true", help="compare with onnxruntime")
    p.add_argument("--report", metavar="FILE.json", help="write the compile (+run) report")
    p.add_argument("--trace", metavar="FILE.json", help="write a Chrome trace of the run")
    p.add_argument("--seed", type=int, default=0, help="seed of random inputs")
    return p


def _inputs(args: argparse.Namespace, model: Any) -> dict[str, np.ndarray]:
    from trnc.simulator import random_input

    given: dict[str, np.ndarray] = {}
    if args.inputs:
        try:
            with np.load(args.inputs, allow_pickle=False) as archive:
                given = {k: archive[k] for k in archive.files}
        except (OSError, ValueError) as error:
            raise _Fail(f"trn-compile: error: cannot read '{args.inputs}': {error}") from None
    rng = np.random.default_rng(args.seed)
    feeds: dict[str, np.ndarray] = {}
    for name in model.input_names:
        shape = model.shapes[name]
        if name in given:
            feeds[name] = given[name]
            continue
        dtype = model.dtypes[name]
        bound = model.index_bounds.get(name)
        if bound is not None:  # gather indices: valid ids of the table they index
            feeds[name] = rng.integers(0, bound, size=shape).astype(dtype)
        else:
            feeds[name] = random_input(shape, dtype, rng)
    unknown = sorted(set(given) - set(model.input_names))
    if unknown:
        raise _Fail(
            f"trn-compile: error: --inputs has {', '.join(unknown)}, which the model does not "
            f"take (inputs: {', '.join(model.input_names)})"
        )
    return feeds


def _write_ir(args: argparse.Namespace, model: Any, shapes: dict[str, list[int]]) -> None:
    text = model.ir(args.emit)
    if not args.output:
        if not (args.run or args.check):
            sys.stdout.write(text)
        return
    out = Path(args.output)
    if args.emit == "graph":  # the weights go beside the .mlir, named relative to it
        from trnc.frontend.onnx import import_model
        from trnc.tools.context import module_text

        weights = out.with_suffix(".weights")
        result = import_model(
            args.model, input_shapes=shapes, weights_path=weights, weights_ref=weights.name
        )
        text = module_text(result.module)
    elif args.emit == "isa":
        weights = out.with_name(out.name + ".weights.npz")
        np.savez(weights, **model.weights)
        text = model.ir_with_weights_file(weights.name)
    try:
        out.write_text(text)
    except OSError as error:
        raise _Fail(f"trn-compile: error: cannot write '{out}': {error.strerror}") from None


def _check(args: argparse.Namespace, feeds: dict[str, np.ndarray], outputs: dict[str, Any]) -> bool:
    import onnxruntime as ort

    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    wanted = {i.name for i in session.get_inputs()}
    reference = session.run(None, {k: v for k, v in feeds.items() if k in wanted})
    ok = True
    tolerance = TOLERANCE[args.dtype]
    print(f"check against onnxruntime ({args.dtype}, tolerance {tolerance:g} of max |ref|):")
    for name, ref in zip(names, reference, strict=True):
        got = np.asarray(outputs[name], dtype=np.float64)
        ref64 = np.asarray(ref, dtype=np.float64)
        abs_err = float(np.abs(got - ref64).max()) if ref64.size else 0.0
        scale = float(np.abs(ref64).max()) if ref64.size else 0.0
        rel = abs_err / scale if scale else abs_err
        passed = rel <= tolerance
        ok &= passed
        print(
            f"  {name:<24} max abs err {abs_err:.3e}  max rel err {rel:.3e}  "
            f"{'ok' if passed else 'OVER TOLERANCE'}"
        )
    return ok


def run(args: argparse.Namespace) -> int:
    import trnc
    from trnc.compiler import CompileError
    from trnc.frontend.onnx import OnnxImportError
    from trnc.simulator.errors import SimulationError
    from trnc.tools.trn_opt import parse_input_shapes

    try:
        shapes = parse_input_shapes(args.input_shape)
    except ValueError as error:
        raise _Fail(f"trn-compile: error: {error}") from None
    try:
        model = trnc.compile(args.model, input_shapes=shapes, dtype=args.dtype)
    except OnnxImportError as error:
        raise _Fail(str(error)) from None
    except CompileError as error:
        raise _Fail(f"trn-compile: error: {error}") from None
    _write_ir(args, model, shapes)
    ok = True
    if args.run or args.check or args.trace:
        feeds = _inputs(args, model)
        try:
            outputs = model.run(feeds)
        except SimulationError as error:
            raise _Fail(f"trn-compile: error: the compiled program failed: {error}") from None
        for name, array in outputs.items():
            print(
                f"output {name}: shape {tuple(array.shape)} {array.dtype}: min {array.min():.6g} "
                f"max {array.max():.6g} mean {array.mean():.6g}"
            )
        print(model.last_report.table())
        if args.trace:
            model.write_trace(args.trace)
        if args.check:
            ok = _check(args, feeds, outputs)
    if args.report:
        try:
            Path(args.report).write_text(json.dumps(model.report, indent=2) + "\n")
        except OSError as error:
            raise _Fail(f"trn-compile: error: cannot write '{args.report}': {error}") from None
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except _Fail as error:
        print(str(error), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
