"""trn-run: run a program and report its outputs: simulate a `trn_isa` program (outputs,
time and utilisation), or interpret a graph-level module (outputs, op counts).

    trn-run program.mlir [--input NAME=file.npy ...] [--inputs file.npz] [--output-dir D]
                         [--report report.json] [--trace trace.json] [--timing-only]

A module holding a `trn_isa.program` is simulated; a module without one but with a
`func.func` (`@main`, or the only one) of graph ops runs on the graph reference
interpreter (`trnc.interpreters.graph`; no timing, so no `--timing-only` or `--trace`).
Inputs not given are filled with seeded random data (and the report says so); weights
come from the program's weights file (an .npz next to the .mlir file, keyed by tensor
name) or, for graph IR, from the `graph.weight` files (relative to the .mlir file).
Bad input is an MLIR-style diagnostic and exit code 1; a program that would misbehave on
hardware (race, deadlock, out of bounds, ...) is a located simulator error and exit
code 1.
"""

from __future__ import annotations

import os

# Tiles are small (at most 128 x 512): multi-threaded BLAS only adds contention here
# (measured 3x slower matmuls on a loaded 2-core machine). Must precede numpy's import.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import FuncOp
from xdsl.utils.exceptions import InterpretationError, ParseError

from trnc.simulator import InputError, simulate
from trnc.simulator.errors import SimulationError
from trnc.simulator.program import DecodeError, decode, find_programs
from trnc.tools.context import parse_source
from trnc.tools.diagnostics import ArgumentParser, Diagnostic, verify_ops


class _Fail(Exception):
    """Stop with these lines on stderr and exit code 1."""


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="trn-run", description="simulate a trn_isa program or interpret graph-level IR"
    )
    p.add_argument(
        "program", help="a .mlir file holding one trn_isa.program, or graph-level func.funcs"
    )
    p.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=FILE.npy",
        help="data for one input tensor; repeatable",
    )
    p.add_argument("--inputs", metavar="FILE.npz", help="data for input tensors, by name")
    p.add_argument("--output-dir", metavar="DIR", help="write each output tensor as NAME.npy")
    p.add_argument("--report", metavar="FILE.json", help="write the report as JSON")
    p.add_argument("--trace", metavar="FILE.json", help="write a Chrome trace (Perfetto)")
    p.add_argument("--timing-only", action="store_true", help="time the program, no data")
    p.add_argument(
        "--strict-uninitialized",
        action="store_true",
        help="make a read of never-written memory an error (default: a warning)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random input data")
    return p


def _load_array(path: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise _Fail(f"trn-run: error: cannot read '{path}': {error}") from None


def _inputs(args: argparse.Namespace) -> dict[str, np.ndarray]:
    data: dict[str, np.ndarray] = {}
    if args.inputs:
        try:
            with np.load(args.inputs, allow_pickle=False) as archive:
                data.update({k: archive[k] for k in archive.files})
        except (OSError, ValueError) as error:
            raise _Fail(f"trn-run: error: cannot read '{args.inputs}': {error}") from None
    for item in args.input:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise _Fail(f"trn-run: error: --input expects NAME=FILE.npy, got '{item}'")
        data[name] = _load_array(path)
    return data


def run(args: argparse.Namespace) -> int:
    from trnc.simulator.trace import write_trace

    path = Path(args.program)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _Fail(f"trn-run: error: cannot read program '{path}': {error}") from None
    try:
        module = parse_source(text, str(path))
    except ParseError as error:
        raise _Fail(Diagnostic.from_parse_error(error).format(str(path))) from None
    diagnostics = verify_ops(module)
    if diagnostics:
        raise _Fail("\n".join(d.format(str(path)) for d in diagnostics))
    if not find_programs(module) and any(isinstance(op, FuncOp) for op in module.ops):
        return _run_graph(args, module, path)
    try:
        program = decode(module)
    except DecodeError as error:
        raise _Fail(f"{path}: error: {error}") from None

    inputs = _inputs(args)
    try:
        result = simulate(
            program,
            inputs,
            timing_only=args.timing_only,
            strict_uninitialized=args.strict_uninitialized,
            seed=args.seed,
            weights_dir=path.parent,
        )
    except (SimulationError, InputError) as error:
        raise _Fail(
            str(error) if isinstance(error, SimulationError) else f"trn-run: error: {error}"
        ) from None
    outputs, report = result.outputs, result.report

    print(report.table())
    for name, array in outputs.items():
        print(f"  output {name}: shape {tuple(array.shape)} {array.dtype}")
    if args.output_dir:
        out = Path(args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, array in outputs.items():
            np.save(out / f"{name}.npy", array)
    if args.report:
        Path(args.report).write_text(report.to_json())
    if args.trace:
        write_trace(args.trace, program, result.schedule)
    return 0


def _save_output(directory: Path, name: str, array: np.ndarray) -> str | None:
    """Write `array` as NAME.npy; narrow floats numpy cannot store (bf16, fp8) are
    widened to float32 exactly, and the returned note says so."""
    note = None
    if array.dtype.kind not in "biuf":
        note = f"output {name} ({array.dtype}) written as float32"
        array = array.astype(np.float32)
    np.save(directory / f"{name}.npy", array)
    return note


def _run_graph(args: argparse.Namespace, module: ModuleOp, path: Path) -> int:
    """Interpret a graph-level module (see the module docstring)."""
    from trnc.interpreters.graph import GraphInputError, GraphRunError, run_graph

    for flag, given in (("--timing-only", args.timing_only), ("--trace", args.trace)):
        if given:
            raise _Fail(
                f"trn-run: error: {flag}: graph-level IR has no timing; lower it to trn_isa "
                "first (trn-opt) and run the trn_isa program"
            )
    inputs = _inputs(args)
    try:
        result = run_graph(module, inputs, base_dir=path.parent, seed=args.seed)
    except GraphInputError as error:
        raise _Fail(f"trn-run: error: {error.message}") from None
    except GraphRunError as error:
        if error.op is None:
            raise _Fail(f"{path}: error: {error.message}") from None
        raise _Fail(error.format(str(path))) from None
    except InterpretationError as error:
        raise _Fail(f"trn-run: error: graph interpreter failure: {error}") from None

    if args.output_dir:
        out = Path(args.output_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, array in result.outputs.items():
                note = _save_output(out, name, array)
                if note:
                    result.notes.append(note)
        except OSError as error:
            raise _Fail(f"trn-run: error: cannot write outputs to '{out}': {error}") from None
    print(result.summary())
    if args.report:
        try:
            Path(args.report).write_text(result.to_json())
        except OSError as error:
            raise _Fail(f"trn-run: error: cannot write '{args.report}': {error}") from None
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point of `trn-run`."""
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except _Fail as fail:
        print(str(fail), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
