"""trn-compile: compile an ONNX model to a `trn_isa` program, and optionally run and check it.

    trn-compile model.onnx|graph.mlir [--input-shape NAME=DIMS ...] [--dtype bf16|fp32]
                [--emit graph|tile|isa] [-o out.mlir] [--run] [--inputs in.npz]
                [--random-inputs] [--check] [--report report.json] [--trace trace.json]
                [--profile] [--profile-html report.html] [--timeline timeline.svg]
                [--seed N] [-q | -v] [--print-ir-after-all] [--print-ir-before=PASS] [--time-passes]
                [--dump-pass-pipeline] ... (mlir-opt's pass instrumentation, `--help`)

Prints the IR of the `--emit` level (default `isa`) to stdout or `-o`. The IR is
self-contained where it is put: with `-o model.mlir` the weights go to `model.weights`
beside it, named relative to it (move the pair together; `trn-run model.mlir` runs it);
on stdout every weight is inline in the IR (`dense<...>`), so nothing points at a
temporary directory and no file is left behind (beyond 256 MiB of weights, `-o` is
required). `--run` simulates the program on the inputs of `--inputs` (each of the dtype
and shape the model takes: no cast) and prints the outputs, the simulated time and the
engine utilisation; inputs it does not give are an error unless `--random-inputs` fills
them with seeded random data (floats in [-1, 1), integers that index a gather in
[0, the indexed dim), other integers in 0..9). `--check` also runs onnxruntime on the same
inputs and prints, per output, the max absolute and relative error; the exit code is 1
when an output is over the tolerance of its dtype (`TOLERANCE`), is NaN or infinite where
onnxruntime's is finite, or when onnxruntime refuses the model. `--profile` (which runs
the program, as `--trace` does) prints where the simulated time goes, per ONNX node and op
type, with the critical path (docs/PROFILING.md); `--profile-html` and `--timeline` write
it as an HTML page and an SVG engine timeline. Every user error is
`trn-compile: error: ...` or a located compile error, once (`model.onnx: error: node
'NAME' (OpType): ...`; for an .mlir input of graph-level IR, `file:line:col: error: ...`
with the source line and a caret), and exit code 1; output paths are checked before
anything is compiled. On a terminal, a progress line (`pass 7/14 tile-allocate`) shows on
long work (`tools/progress.py`); `-q` silences it, `-v` prints a line per pass with its
wall time.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see trn_run.py

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trnc.tools.cli_io import (
    UserError,
    add_profile_options,
    as_expected,
    check_inputs,
    check_output_file,
    check_profile_paths,
    load_npz,
    stdout_closed,
    version_line,
    wants_profile,
    write_profile,
)
from trnc.tools.diagnostics import ArgumentParser, Diagnostic
from trnc.tools.pipeline import (
    add_instrumentation_options,
    print_ir_dump,
    selected,
    timing_report,
)
from trnc.tools.progress import (
    SIMULATION_THRESHOLD,
    Progress,
    add_verbosity_options,
    verbosity,
)

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp
    from xdsl.passes import ModulePass

    from trnc.compiler import CompileError
    from trnc.simulator.errors import SimulationError

TOLERANCE = {"fp32": 1e-4, "bf16": 2e-2}
"""Allowed error per output, relative to the output's largest magnitude (max |ref|):
fp32 computes like onnxruntime up to summation order; bf16 rounds matmul inputs to 8
mantissa bits (relative error ~2^-9 per product, averaging down over K), fp32 elsewhere."""


class _Fail(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog="trn-compile",
        description="compile an ONNX model for trn1",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""examples:
  trn-compile examples/mlp.onnx --input-shape x=8x64 --check --random-inputs
  trn-compile model.onnx --input-shape input_ids=1x128 -o model.mlir   (+ model.weights)
  trn-compile model.onnx --input-shape input_ids=1x128 --emit tile | less
  trn-compile model.onnx --input-shape input_ids=1x128 --run --report report.json
  trn-compile model.onnx --input-shape input_ids=1x128 --mlir-timing --pass-statistics
  trn-compile examples/mlp.onnx --input-shape x=8x64 --random-inputs --profile --timeline t.svg""",
    )
    p.add_argument(
        "model",
        help="an .onnx file, or an .mlir file of graph-level IR (trn-opt writes one)",
    )
    p.add_argument(
        "--version", action="version", version=version_line("trn-compile"), help="print the version"
    )
    p.add_argument(
        "--input-shape",
        action="append",
        default=[],
        metavar="NAME=D0xD1...",
        help="pin an input's dynamic dims; repeatable (default: the model's own shapes)",
    )
    p.add_argument(
        "--dtype",
        choices=("bf16", "fp32"),
        default="bf16",
        help="the type matmuls compute in (fp32 accumulation either way) (default: bf16)",
    )
    p.add_argument(
        "--emit",
        choices=("graph", "tile", "isa"),
        default="isa",
        help="the level whose IR is printed or written (default: isa)",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE.mlir",
        help="write the IR here, its weights to FILE.weights (default: stdout, weights inline)",
    )
    p.add_argument("--run", action="store_true", help="simulate the compiled program")
    p.add_argument("--inputs", metavar="FILE.npz", help="input data by name")
    p.add_argument(
        "--random-inputs",
        action="store_true",
        help="fill inputs that --inputs does not give with seeded random data",
    )
    p.add_argument("--check", action="store_true", help="compare with onnxruntime")
    p.add_argument("--report", metavar="FILE.json", help="write the compile (+run) report")
    p.add_argument("--trace", metavar="FILE.json", help="write a Chrome trace of the run")
    p.add_argument("--seed", type=int, default=0, help="seed of random inputs (default: 0)")
    add_profile_options(p.add_argument)
    add_verbosity_options(p.add_mutually_exclusive_group().add_argument)
    instrument = p.add_argument_group("pass instrumentation (as trn-opt and mlir-opt)")
    add_instrumentation_options(instrument.add_argument, after_failure=True)
    return p


Hook = Callable[["ModulePass", "ModuleOp"], None]


def _dumps_ir(args: argparse.Namespace) -> bool:
    """Whether a `--print-ir-*` flag writes IR to stderr (then no progress line is drawn)."""
    return bool(
        args.print_ir_after_all
        or args.print_ir_before_all
        or args.print_ir_after
        or args.print_ir_before
    )


class _Running:
    """The pass running now and the module it works on (for `--print-ir-after-failure`)."""

    stage: ModulePass | None = None
    module: ModuleOp | None = None

    def dump_failed(self) -> None:
        """The IR as the failing pass left it, on stderr (as trn-opt and mlir-opt)."""
        if self.stage is not None and self.module is not None:
            print_ir_dump("After", self.stage, self.module, sys.stderr)
            print(f"// (the pass '{self.stage.name}' failed)", file=sys.stderr)


def _hooks(
    args: argparse.Namespace, progress: Progress, passes: int, running: _Running
) -> tuple[Hook, Hook]:
    """The compile's before- and after-pass hooks: the `--print-ir-*` flags' dumps, the
    progress line (`pass 7/14 tile-allocate`), `-v`'s line per pass with its time, and
    the pass now running (`running`)."""
    state = {"index": 0, "start": time.perf_counter()}

    def before(stage: ModulePass, module: ModuleOp) -> None:
        running.stage, running.module = stage, module
        if state["index"] == 0 and not args.model.endswith(".mlir"):
            seconds = time.perf_counter() - state["start"]
            progress.line(f"trn-compile: import {args.model}: {seconds:.3f} s")
        if args.print_ir_before_all or selected(stage.name, stage.name, args.print_ir_before):
            print_ir_dump("Before", stage, module, sys.stderr)
        state["index"] += 1
        index = int(state["index"])
        progress.update(f"pass {index}/{passes} {stage.name}", index - 1, passes)
        state["start"] = time.perf_counter()

    def after(stage: ModulePass, module: ModuleOp) -> None:
        running.stage = running.module = None
        seconds = time.perf_counter() - state["start"]
        index = int(state["index"])
        progress.update(f"pass {index}/{passes} {stage.name}", index, passes)
        progress.line(f"trn-compile: pass {index}/{passes} {stage.name}: {seconds:.3f} s")
        if args.print_ir_after_all or selected(stage.name, stage.name, args.print_ir_after):
            print_ir_dump("After", stage, module, sys.stderr)

    return before, after


def _load_mlir(args: argparse.Namespace) -> tuple[ModuleOp, str]:
    """The graph-level module of an .mlir `model` and its text; a parse or verification
    error is `file:line:col: error: ...` with the source line and a caret."""
    from xdsl.utils.exceptions import ParseError

    from trnc.tools.context import parse_source
    from trnc.tools.diagnostics import verify_ops

    if args.input_shape:
        raise _Fail("trn-compile: error: --input-shape applies to ONNX models only")
    if args.check:
        raise _Fail(
            "trn-compile: error: --check compares with onnxruntime, which needs an ONNX model"
        )
    path = args.model
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise _Fail(f"trn-compile: error: cannot read '{path}': {reason}") from None
    try:
        module = parse_source(text, path)
    except ParseError as error:
        raise _Fail(Diagnostic.from_parse_error(error).shown(path, text)) from None
    problems = verify_ops(module)
    if problems:
        raise _Fail("\n".join(p.shown(path, text) for p in problems))
    return module, text


def _compile_failure(error: CompileError, source: tuple[str, str] | None) -> str:
    """A `CompileError` as the user reads it: a located error as it is (with the source
    line and a caret when it is at a position of the .mlir input `source`, (path, text)),
    else after `trn-compile: error: `."""
    if error.diagnostic is None:
        return f"trn-compile: error: {error}"
    if source is not None:
        return str(error) + error.diagnostic.excerpt(*source)
    return str(error)


def _simulation_failure(error: SimulationError, model: str) -> str:
    """A failed run of the compiled program (a bug of trnc's) located at the ONNX node or
    source position of each instruction involved, once."""
    from trnc.compile_errors import ErrorOrigin
    from trnc.simulator.profile import node_name

    origin = ErrorOrigin(model)
    lines = []
    for index, loc in enumerate(error.locs or ("",)):
        severity = "error" if index == 0 else "note"
        message = (
            f"the compiled program failed: {error.kind}: {error.detail}"
            if index == 0
            else "the other instruction involved"
        )
        name = node_name(loc) if loc else "UNKNOWN"
        named = None if name == "UNKNOWN" else name
        lines.append(str(origin.error(Diagnostic(severity, message, None, named))))
    return "\n".join(lines)


def _inputs(
    args: argparse.Namespace, model: Any, given: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    expected = {name: (model.shapes[name], model.dtypes[name]) for name in model.input_names}
    check_inputs(given, expected, random_inputs=args.random_inputs, what="the model")
    checked = {name: as_expected(given[name], expected[name][1]) for name in given}
    feeds: dict[str, np.ndarray] = model.random_feeds(given=checked, seed=args.seed)
    return feeds


def _write_ir(args: argparse.Namespace, model: Any) -> None:
    if not args.output:
        if not (args.run or args.check or wants_profile(args)):
            sys.stdout.write(model.ir_inline(args.emit))
            sys.stdout.flush()
        return
    out = Path(args.output)
    text = model.ir_file(args.emit, out)
    try:
        out.write_text(text)
    except OSError as error:
        raise _Fail(f"trn-compile: error: cannot write '{out}': {error.strerror}") from None


def _summary(name: str, array: np.ndarray) -> str:
    head = f"output {name}: shape {tuple(array.shape)} {array.dtype}"
    if array.size == 0:
        return f"{head}: no elements"
    values = np.asarray(array, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return f"{head}: no finite value ({int(np.isnan(values).sum())} NaN)"
    part = values[finite]
    text = f"{head}: min {part.min():.6g} max {part.max():.6g} mean {part.mean():.6g}"
    if not finite.all():
        text += f" ({int((~finite).sum())} NaN or inf not counted)"
    return text


def _onnxruntime_session(path: str) -> Any:
    import onnxruntime as ort

    try:
        return ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own Fail/InvalidGraph/... types
        reason = " ".join(str(error).split()) or type(error).__name__
        raise _Fail(
            f"trn-compile: error: --check: onnxruntime refused the model: {reason}"
        ) from None


def _compare(name: str, got_array: Any, ref: Any, tolerance: float) -> tuple[bool, str]:
    """One output against onnxruntime's: (passed, the line to print)."""
    got = np.asarray(got_array, dtype=np.float64)
    ref64 = np.asarray(ref, dtype=np.float64)
    if got.shape != ref64.shape:
        return False, f"  {name:<24} shape {got.shape}, onnxruntime's is {ref64.shape}  FAILED"
    finite_ref, finite_got = np.isfinite(ref64), np.isfinite(got)
    spoiled = finite_ref & ~finite_got
    if spoiled.any():
        first = tuple(int(i) for i in np.argwhere(spoiled)[0])
        kinds = sorted({"NaN" if np.isnan(v) else "inf" for v in got[spoiled][:1000]})
        return False, (
            f"  {name:<24} {int(spoiled.sum())} of {got.size} values are {'/'.join(kinds)} "
            f"where onnxruntime's are finite (first at index {first})  FAILED"
        )
    differ = ~finite_ref & ~((np.isnan(ref64) & np.isnan(got)) | (got == ref64))
    if differ.any():
        first = tuple(int(i) for i in np.argwhere(differ)[0])
        return False, (
            f"  {name:<24} {int(differ.sum())} values differ where onnxruntime's are NaN or inf "
            f"(first at index {first})  FAILED"
        )
    both = finite_ref & finite_got
    abs_err = float(np.abs(got[both] - ref64[both]).max()) if both.any() else 0.0
    scale = float(np.abs(ref64[finite_ref]).max()) if finite_ref.any() else 0.0
    rel = abs_err / scale if scale else abs_err
    passed = rel <= tolerance
    return passed, (
        f"  {name:<24} max abs err {abs_err:.3e}  max rel err {rel:.3e}  "
        f"{'ok' if passed else 'OVER TOLERANCE'}"
    )


def _check(args: argparse.Namespace, feeds: dict[str, np.ndarray], outputs: dict[str, Any]) -> bool:
    session = _onnxruntime_session(args.model)
    names = [o.name for o in session.get_outputs()]
    wanted = {i.name for i in session.get_inputs()}
    try:
        reference = session.run(None, {k: v for k, v in feeds.items() if k in wanted})
    except Exception as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise _Fail(f"trn-compile: error: --check: onnxruntime failed to run: {reason}") from None
    ok = True
    tolerance = TOLERANCE[args.dtype]
    print(f"check against onnxruntime ({args.dtype}, tolerance {tolerance:g} of max |ref|):")
    for name, ref in zip(names, reference, strict=True):
        if name not in outputs:
            ok = False
            print(f"  {name:<24} missing from the compiled program's outputs  FAILED")
            continue
        passed, line = _compare(name, outputs[name], ref, tolerance)
        ok &= passed
        print(line)
    return ok


def _check_paths(args: argparse.Namespace) -> None:
    from trnc.compiler import weights_path

    check_output_file(args.output, "-o")
    if args.output:
        check_output_file(str(weights_path(Path(args.output))), "-o (its weights file)")
    check_output_file(args.report, "--report")
    check_output_file(args.trace, "--trace")
    check_profile_paths(args)


def run(args: argparse.Namespace) -> int:
    import trnc
    from trnc.compiler import CompileError
    from trnc.frontend.onnx import OnnxImportError
    from trnc.simulator import InputError
    from trnc.simulator.errors import SimulationError
    from trnc.tools.trn_opt import parse_input_shapes

    try:
        shapes = parse_input_shapes(args.input_shape)
    except ValueError as error:
        raise _Fail(f"trn-compile: error: {error}") from None
    _check_paths(args)
    given = load_npz(args.inputs) if args.inputs else {}  # a bad file fails before compiling
    from trnc.lowering.graph_to_isa import pipeline
    from trnc.passes.graph_fold_weights import GraphFoldWeightsPass

    stages = [stage.name for stage in pipeline(args.dtype, fold=GraphFoldWeightsPass())]
    if args.dump_pass_pipeline:  # the list `trnc.compile` runs (with its weight folding)
        print(f"Pass Manager with {len(stages)} passes:", file=sys.stderr)
        print(f"builtin.module({','.join(stages)})", file=sys.stderr)
    source: tuple[str, str] | None = None
    if args.model.endswith(".mlir"):
        module, text = _load_mlir(args)
        source = (args.model, text)
    from trnc.pass_statistics import collecting

    progress = Progress(verbosity(args), show=not _dumps_ir(args))
    running = _Running()
    before, after = _hooks(args, progress, len(stages), running)
    try:
        with collecting() as statistics, progress:
            progress.update(f"importing {args.model}")
            model = trnc.compile(
                args.model if source is None else module,
                input_shapes=shapes,
                dtype=args.dtype,
                base_dir=None if source is None else Path(args.model).parent,
                before_pass=before,
                after_pass=after,
            )
        seconds = model.report["compile_seconds"]
        progress.line(
            f"trn-compile: compiled {args.model} in {seconds['total']:.3f} s "
            f"({model.report['instructions']['total']:,} instructions)"
        )
        if args.time_passes:
            seconds = dict(model.report["compile_seconds"])
            total = seconds.pop("total")
            print(timing_report(list(seconds.items()), total), file=sys.stderr)
        if args.pass_statistics:
            print(statistics.report(), file=sys.stderr)
        _write_ir(args, model)
    except OnnxImportError as error:
        raise _Fail(str(error)) from None
    except CompileError as error:
        if args.print_ir_after_failure:
            running.dump_failed()
        raise _Fail(_compile_failure(error, source)) from None
    ok = True
    if args.run or args.check or args.trace or wants_profile(args):
        feeds = _inputs(args, model, given)
        count = int(model.report["instructions"]["total"])
        simulating = Progress(verbosity(args), show=count > SIMULATION_THRESHOLD)
        start = time.perf_counter()
        try:
            with simulating:
                simulating.update(f"simulating {count:,} instructions")
                outputs = model.run(feeds)
        except SimulationError as error:
            raise _Fail(_simulation_failure(error, args.model)) from None
        except (InputError, CompileError) as error:
            raise _Fail(_compile_failure(error, source)) from None
        simulating.line(
            f"trn-compile: simulate {count:,} instructions: {time.perf_counter() - start:.3f} s"
        )
        for name, array in outputs.items():
            print(_summary(name, array))
        print(model.last_report.table())
        if args.trace:
            try:
                model.write_trace(args.trace)
            except OSError as error:
                raise _Fail(f"trn-compile: error: cannot write '{args.trace}': {error}") from None
        if wants_profile(args):
            write_profile(args, model.profile())
        if args.check:
            ok = _check(args, feeds, outputs)
    if args.report:
        try:
            Path(args.report).write_text(json.dumps(model.report, indent=2) + "\n")
        except OSError as error:
            raise _Fail(f"trn-compile: error: cannot write '{args.report}': {error}") from None
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point of `trn-compile`."""
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except _Fail as error:
        print(str(error), file=sys.stderr)
        return 1
    except UserError as error:
        print(f"trn-compile: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return stdout_closed()
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug: one line, not a traceback
        print(
            f"trn-compile: internal error: {type(error).__name__}: {error}\n"
            "trn-compile: this is a bug in trnc; please report it with the command line",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
