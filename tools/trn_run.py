"""trn-run: run a program and report its outputs: simulate a `trn_isa` program (outputs,
time and utilisation), or interpret a graph-level module (outputs, op counts).

    trn-run program.mlir [--input NAME=file.npy ...] [--inputs file.npz] [--random-inputs]
                         [--output-dir D] [--report report.json] [--trace trace.json]
                         [--timing-only] [--profile] [--profile-html report.html]
                         [--timeline timeline.svg] [-q | -v]

A module holding a `trn_isa.program` is simulated; a module without one but with a
`func.func` (`@main`, or the only one) of graph ops runs on the graph reference
interpreter (`trnc.interpreters.graph`; no timing, so no `--timing-only` or `--trace`).
Every input must be given, in the dtype and shape the program declares (no cast), unless
`--random-inputs` fills the missing ones with seeded random data (and the report says so);
a `trn_isa` weight without data (no weights file, no inline value) counts as an input.
Weights come from the files the IR names (`tile.weight_file` / `graph.weight`, relative to
the .mlir file; `trn-compile -o` writes them beside it), from inline values, or from the
program's `weights_file` (.npz); a missing, unreadable or short weights file is an error
naming it. Output paths are checked before the run; `--timing-only` never allocates the
program's data, and a functional run that would not fit in host memory is refused with the
sizes. Bad input is an MLIR-style diagnostic and exit code 1; a program that would
misbehave on hardware (race, deadlock, out of bounds, ...) is a located simulator error
and exit code 1. A closed stdout (`| head`) ends the tool quietly. `--profile` prints
where the simulated time goes (per ONNX node, op type and opcode, the critical path by
cause, bandwidth and utilisation over time: `simulator/profile.py`, docs/PROFILING.md);
`--profile-html` and `--timeline` write it as an HTML page and an SVG engine timeline.
Parse, verification and located simulator errors show the source line and a caret. On a
terminal, a progress line shows while a program of more than `SIMULATION_THRESHOLD`
instructions runs (`tools/progress.py`); `-q` silences it, `-v` prints a line per step
(parse, verify, decode, simulate) with its wall time.
"""

from __future__ import annotations

import os

# Tiles are small (at most 128 x 512): multi-threaded BLAS only adds contention here
# (measured 3x slower matmuls on a loaded 2-core machine). Must precede numpy's import.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import FuncOp
from xdsl.utils.exceptions import InterpretationError, ParseError

from trnc.simulator import InputError, simulate
from trnc.simulator.errors import SimulationError
from trnc.simulator.program import (
    DecodeError,
    Program,
    decode,
    find_programs,
    recorded_outputs,
)
from trnc.tools.cli_io import (
    UserError,
    add_profile_options,
    as_expected,
    check_inputs,
    check_output_dir,
    check_output_file,
    check_profile_paths,
    load_npy,
    load_npz,
    stdout_closed,
    version_line,
    wants_profile,
    write_profile,
)
from trnc.tools.context import parse_source
from trnc.tools.diagnostics import ArgumentParser, Diagnostic, SourceLoc, verify_ops
from trnc.tools.progress import SIMULATION_THRESHOLD, Progress, add_verbosity_options, verbosity

if TYPE_CHECKING:
    from trnc.interpreters.graph import GraphRunError


class _Fail(Exception):
    """Stop with these lines on stderr and exit code 1."""


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="trn-run",
        description="simulate a trn_isa program or interpret graph-level IR",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""examples:
  trn-compile examples/mlp.onnx --input-shape x=8x64 -o mlp.mlir
  trn-run mlp.mlir --random-inputs                 simulate: outputs, time, engines
  trn-run mlp.mlir --inputs in.npz --output-dir out --report report.json
  trn-run mlp.mlir --timing-only --trace trace.json    open the trace in Perfetto
  trn-run mlp.mlir --timing-only --profile --profile-html profile.html --timeline t.svg
  trn-run graph.mlir --input x=x.npy               graph-level IR: the reference interpreter""",
    )
    p.add_argument(
        "program", help="a .mlir file holding one trn_isa.program, or graph-level func.funcs"
    )
    p.add_argument(
        "--version", action="version", version=version_line("trn-run"), help="print the version"
    )
    p.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=FILE.npy",
        help="data for one input tensor; repeatable",
    )
    p.add_argument("--inputs", metavar="FILE.npz", help="data for input tensors, by name")
    p.add_argument(
        "--random-inputs",
        action="store_true",
        help="fill inputs given no data with seeded random data",
    )
    p.add_argument("--output-dir", metavar="DIR", help="write each output tensor as NAME.npy")
    p.add_argument("--report", metavar="FILE.json", help="write the report as JSON")
    p.add_argument("--trace", metavar="FILE.json", help="write a Chrome trace (Perfetto)")
    p.add_argument("--timing-only", action="store_true", help="time the program, no data")
    add_profile_options(p.add_argument)
    p.add_argument(
        "--strict-uninitialized",
        action="store_true",
        help="make a read of never-written memory an error (default: off, a warning)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random input data (default: 0)")
    add_verbosity_options(p.add_mutually_exclusive_group().add_argument)
    return p


def _inputs(args: argparse.Namespace) -> dict[str, np.ndarray]:
    data: dict[str, np.ndarray] = {}
    if args.inputs:
        data.update(load_npz(args.inputs))
    for item in args.input:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise UserError(f"--input expects NAME=FILE.npy, got '{item}'")
        data[name] = load_npy(path)
    return data


_HOW = "--inputs FILE.npz or --input NAME=FILE.npy"


def _check_paths(args: argparse.Namespace) -> None:
    check_output_file(args.report, "--report")
    check_output_file(args.trace, "--trace")
    check_profile_paths(args)
    check_output_dir(args.output_dir, "--output-dir")


def _program_inputs(program: Program, path: Path) -> dict[str, tuple[tuple[int, ...], Any]]:
    """The tensors a run needs data for (name -> (shape, dtype)): the inputs, and the
    weights whose data no file or inline value gives."""
    stored: set[str] = set()
    if program.weights_file:
        try:  # the weights in the program's .npz (missing or bad: an error naming it)
            stored = set(_npz_names(path.parent / program.weights_file))
        except UserError as error:
            raise _Fail(f"trn-run: error: {error}") from None
    wanted: dict[str, tuple[tuple[int, ...], Any]] = {}
    for t in program.tensors:
        dtype = t.host_dtype
        if t.role == "input" or (
            t.role == "weight"
            and t.value is None
            and t.weight_file is None
            and t.name not in stored
        ):
            wanted[t.name] = (t.shape, dtype)
    return wanted


def _npz_names(path: Path) -> list[str]:
    return list(load_npz(str(path)))


LARGE_TEXT = 1 << 20
"""Programs of more characters than this show a progress line from their parsing on."""

_POSITION = re.compile(r"^(?P<file>.*):(?P<line>\d+):(?P<col>\d+)(?: \(.*\))?$")


def _with_excerpts(message: str, locs: Sequence[str], path: Path, text: str) -> str:
    """A simulator error's lines (the error, then a note per other instruction, in the
    order of `locs`), each followed by the source line and a caret when its location is
    a position in the program's file."""
    lines = message.splitlines()
    if len(lines) != max(len(locs), 1):
        return message
    shown = []
    for line, loc in zip(lines, locs or ("",), strict=True):
        match = _POSITION.match(loc)
        if match:
            where = SourceLoc(match["file"], int(match["line"]), int(match["col"]))
            line += Diagnostic("error", "", where).excerpt(str(path), text)
        shown.append(line)
    return "\n".join(shown)


class _Steps:
    """`-v`'s line per step with its wall time, and the progress line's description."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.name = ""
        self.start = time.perf_counter()

    def step(self, name: str) -> None:
        self.done()
        self.name, self.start = name, time.perf_counter()
        self.progress.update(name)

    def done(self) -> None:
        if self.name:
            seconds = time.perf_counter() - self.start
            self.progress.line(f"trn-run: {self.name}: {seconds:.3f} s")
        self.name = ""


def run(args: argparse.Namespace) -> int:
    _check_paths(args)
    path = Path(args.program)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _Fail(f"trn-run: error: cannot read program '{path}': {error}") from None
    # Large programs show the progress from their parsing on; others, if at all, only
    # while they are simulated (`_simulate`).
    with Progress(verbosity(args), show=len(text) > LARGE_TEXT) as progress:
        steps = _Steps(progress)
        return _run(args, path, text, steps)


def _run(args: argparse.Namespace, path: Path, text: str, steps: _Steps) -> int:
    from trnc.simulator.trace import write_trace

    steps.step(f"parse {path}")
    try:
        module = parse_source(text, str(path))
    except ParseError as error:
        raise _Fail(Diagnostic.from_parse_error(error).shown(str(path), text)) from None
    steps.step("verify")
    diagnostics = verify_ops(module)
    if diagnostics:
        raise _Fail("\n".join(d.shown(str(path), text) for d in diagnostics))
    if not find_programs(module) and any(isinstance(op, FuncOp) for op in module.ops):
        steps.done()
        return _run_graph(args, module, path, text, steps)
    steps.step("decode")
    try:
        program = decode(module)
    except DecodeError as error:
        raise _Fail(f"{path}: error: {error}") from None
    steps.done()

    inputs: dict[str, np.ndarray] = {}
    if not args.timing_only:
        inputs = _inputs(args)
        wanted = _program_inputs(program, path)
        known = {  # a weight given by name replaces its stored data
            t.name: (t.shape, t.host_dtype)
            for t in program.tensors
            if t.role in ("input", "weight")
        }
        check_inputs(
            inputs,
            known,
            random_inputs=args.random_inputs,
            what=f"program '{program.name}'",
            how=_HOW,
            required=list(wanted),
        )
        inputs = {n: as_expected(a, known[n][1]) for n, a in inputs.items()}
    count = len(program.instrs)
    simulating = steps.progress
    if not simulating.interactive:  # not shown from the parsing on: only a long run's
        simulating = Progress(verbosity(args), show=count > SIMULATION_THRESHOLD)
    try:
        with simulating:
            steps.progress = simulating
            steps.step(f"simulate {count:,} instructions")
            result = simulate(
                program,
                inputs,
                timing_only=args.timing_only,
                strict_uninitialized=args.strict_uninitialized,
                seed=args.seed,
                weights_dir=path.parent,
            )
            steps.done()
    except SimulationError as error:
        raise _Fail(_with_excerpts(str(error), error.locs, path, text)) from None
    except InputError as error:
        raise _Fail(f"trn-run: error: {error}") from None
    outputs, report = result.outputs, result.report
    recorded = recorded_outputs(find_programs(module)[0])
    if recorded is not None and all(t in outputs for _, t in recorded):
        outputs = {name: outputs[t] for name, t in recorded}  # under the graph's names

    print(report.table())
    for name, array in outputs.items():
        print(f"  output {name}: shape {tuple(array.shape)} {array.dtype}")
    if args.output_dir:
        out = Path(args.output_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, array in outputs.items():
                np.save(out / f"{name}.npy", array)
        except OSError as error:
            raise _Fail(f"trn-run: error: cannot write outputs to '{out}': {error}") from None
    try:
        if args.report:
            Path(args.report).write_text(report.to_json())
        if args.trace:
            write_trace(args.trace, program, result.schedule)
    except OSError as error:
        raise _Fail(f"trn-run: error: cannot write '{error.filename}': {error.strerror}") from None
    if wants_profile(args):
        from trnc.simulator.profile import build_profile

        write_profile(args, build_profile(program, result.schedule))
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


def _graph_error(error: GraphRunError, path: Path, text: str) -> str:
    """`file:line:col: error: ...` at the op the error names (with the source line and a
    caret), else `file: error: ...`."""
    diagnostic = error.diagnostic()
    if diagnostic is None:
        return f"{path}: error: {error.message}"
    return diagnostic.shown(str(path), text)


def _run_graph(
    args: argparse.Namespace, module: ModuleOp, path: Path, text: str, steps: _Steps
) -> int:
    """Interpret a graph-level module (see the module docstring)."""
    from trnc.interpreters.graph import GraphInputError, GraphRunError, run_graph

    for flag, given in (
        ("--timing-only", args.timing_only),
        ("--trace", args.trace),
        ("--profile", args.profile),
        ("--profile-html", args.profile_html),
        ("--timeline", args.timeline),
    ):
        if given:
            raise _Fail(
                f"trn-run: error: {flag}: graph-level IR has no timing; lower it to trn_isa "
                "first (trn-opt) and run the trn_isa program"
            )
    from trnc.interpreters.graph import entry_function, entry_signature

    inputs = _inputs(args)
    try:
        specs, _ = entry_signature(module)
    except GraphRunError as error:
        raise _Fail(_graph_error(error, path, text)) from None
    check_inputs(
        inputs,
        {name: (shape, dtype) for name, shape, dtype in specs},
        random_inputs=args.random_inputs,
        what=f"@{entry_function(module).sym_name.data}",
        how=_HOW,
    )
    inputs = {name: as_expected(inputs[name], dtype) for name, _, dtype in specs if name in inputs}
    try:
        steps.step("interpret")
        result = run_graph(module, inputs, base_dir=path.parent, seed=args.seed)
        steps.done()
    except GraphInputError as error:
        raise _Fail(f"trn-run: error: {error.message}") from None
    except GraphRunError as error:
        raise _Fail(_graph_error(error, path, text)) from None
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
    except UserError as error:
        print(f"trn-run: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return stdout_closed()
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug: one line, not a traceback
        print(
            f"trn-run: internal error: {type(error).__name__}: {error}\n"
            "trn-run: this is a bug in trnc; please report it with the command line",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
