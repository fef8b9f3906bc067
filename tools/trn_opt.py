"""trn-opt: trnc's `mlir-opt`, built on xDSL's opt driver (`xDSLOptMain`).

It registers every installed xDSL universe (trnc's own through its `xdsl.universe` entry
point) plus plug-ins named with `--load-plugin`, parses `.mlir` input with source
locations, verifies op by op, runs a pass pipeline given in MLIR's syntax
(`--pass-pipeline='builtin.module(func.func(canonicalize))'`) or xDSL's flat form (`-p`),
and prints the result. Every failure a user can cause is an MLIR-style diagnostic
(`file:line:col: error: ...`) on stderr with exit code 1, never a Python traceback.
`--verify-diagnostics` checks `// expected-error {{...}}` annotations as mlir-opt does.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.traits import IsolatedFromAbove
from xdsl.universe import Universe
from xdsl.utils.exceptions import ParseError
from xdsl.xdsl_opt_main import VersionAction, xDSLOptMain

from trnc.pass_statistics import collecting
from trnc.tools.cli_io import stdout_closed
from trnc.tools.context import merge, universes
from trnc.tools.diagnostics import ArgumentParser, Diagnostic, LocatedParser, SourceLoc, verify_ops
from trnc.tools.pipeline import (
    AnchorNode,
    PassNode,
    PipelineError,
    PipelineNode,
    add_instrumentation_options,
    describe_pass,
    parse_flat_pipeline,
    parse_mlir_pipeline,
    pipeline_text,
    print_ir_dump,
    run_pipeline,
    selected,
    timing_report,
)
from trnc.tools.plugins import PluginError, load_plugin


def _count_passes(nodes: list[PipelineNode]) -> int:
    """Passes in a pipeline, nested pipelines' stages counted one by one."""
    count = 0
    for node in nodes:
        if isinstance(node, AnchorNode):
            count += _count_passes(node.children)
            continue
        stages = getattr(node.pass_, "stages", None)
        count += len(stages()) if callable(stages) else 1
    return count


class UsageError(Exception):
    """A bad command line; the message is for the user."""


@dataclass
class _Expectation:
    severity: str
    line: int
    text: str
    col: int
    matched: bool = False


_EXPECT_RE = re.compile(
    r"expected-(error|warning|remark|note)\s*(?:@(above|below|[+-]\d+))?\s*\{\{(.*?)\}\}"
)


class _StopChunk(Exception):
    """Raised inside the pass pipeline to stop at the first failing verification."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__()
        self.diagnostics = diagnostics


class TrnOptMain(xDSLOptMain):
    """The trn-opt driver. `run()` returns the process exit code."""

    version_format = "trn-opt (trnc) built on xdsl {xdsl_version}"

    def __init__(self, args: Sequence[str] | None = None) -> None:
        argv = list(sys.argv[1:] if args is None else args)
        self.available_frontends = {}
        self.available_passes = {}
        self.available_targets = {}
        self.plugin_universes: list[Universe] = []
        self.timings: list[tuple[str, float]] = []
        self.running: PassNode | None = None  # the pass running (or that last ran)
        self.startup_errors: list[str] = []
        self.scratch: tempfile.TemporaryDirectory[str] | None = None
        """Where an ONNX import printed to stdout puts its weights before inlining them."""

        pre = argparse.ArgumentParser(add_help=False)
        pre.add_argument("--load-plugin", action="append", default=[])
        known, _ = pre.parse_known_args(argv)
        for spec in known.load_plugin:
            try:
                self.plugin_universes.append(load_plugin(spec))
            except PluginError as error:
                self.startup_errors.append(str(error))

        from xdsl.context import Context

        self.ctx = Context()
        try:
            self.register_all_dialects()
            self.register_all_frontends()
            self.register_all_passes()
            self.register_all_targets()
        except ValueError as error:  # e.g. two universes defining the same name
            self.startup_errors.append(f"cannot register dialects and passes: {error}")

        arg_parser = _parser()
        self.register_all_arguments(arg_parser)
        _complete_help(arg_parser)
        self.arg_parser = arg_parser
        self.args = arg_parser.parse_args(args=argv)
        self.ctx.allow_unregistered = self.args.allow_unregistered_dialect

    # ----------------------------------------------------------------------------------
    # Registration
    # ----------------------------------------------------------------------------------

    def register_all_dialects(self) -> None:
        for name, factory in merge(
            universes(self.plugin_universes), "all_dialects", "dialect"
        ).items():
            self.ctx.register_dialect(name, factory)

    def register_all_passes(self) -> None:
        for name, factory in merge(universes(self.plugin_universes), "all_passes", "pass").items():
            self.register_pass(name, factory)

    def register_all_frontends(self) -> None:
        super().register_all_frontends()
        self.available_frontends["onnx"] = _onnx_frontend_placeholder

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        # The input file, -f, --disable-verify, --allow-unregistered-dialect and
        # --no-implicit-module come from xDSL's CommandLineTool.
        super(xDSLOptMain, self).register_all_arguments(arg_parser)
        add = arg_parser.add_argument
        add("-o", "--output-file", help="write the output here instead of stdout")
        add(
            "--input-shape",
            action="append",
            default=[],
            metavar="NAME=D0xD1...",
            help="ONNX input: pin the dynamic dims of input NAME (e.g. input_ids=1x128); "
            "repeatable",
        )
        add(
            "--weights-file",
            metavar="PATH",
            help="ONNX input: where to write the weights (default: next to -o, or "
            "<model>.weights in the current directory)",
        )
        add(
            "--pass-pipeline",
            default="",
            help="pass pipeline in MLIR's syntax, e.g. "
            "'builtin.module(func.func(canonicalize),cse)'",
        )
        add("-p", "--passes", default="", help="pass pipeline in xDSL's flat form: 'a,b{k=v}'")
        add(
            "-t",
            "--target",
            default="mlir",
            help=f"output format ({', '.join(self.available_targets)})",
        )
        add(
            "--load-plugin",
            action="append",
            default=[],
            metavar="MODULE",
            help="import a module (or a .py file) and register the universe, dialects and "
            "passes it defines; repeatable",
        )
        add("--list-passes", action="store_true", help="list every pass with its options")
        add(
            "--split-input-file",
            action="store_true",
            help="process each '// -----' chunk of the input on its own",
        )
        add(
            "--verify-diagnostics",
            action="store_true",
            help="check the diagnostics against 'expected-error {{...}}' comments",
        )
        add_instrumentation_options(add, after_failure=True)
        add("--print-op-generic", action="store_true", help="print ops in generic form")
        add("--print-debuginfo", action="store_true", help="print op locations")
        add(
            "--print-no-properties",
            action="store_true",
            help="print properties as attributes (for older readers of the IR)",
        )
        add("--syntax-highlight", action="store_true", help="colour the printed IR on a terminal")
        add("--show-traceback", action="store_true", help="on an internal error, show it")
        add("-v", "--version", action=VersionAction, version_format=self.version_format)

    # ----------------------------------------------------------------------------------
    # Running
    # ----------------------------------------------------------------------------------

    def run(self) -> int:
        if self.startup_errors:
            for message in self.startup_errors:
                print(f"trn-opt: error: {message}", file=sys.stderr)
            return 1
        if self.args.list_passes:
            self.list_passes(sys.stdout)
            return 0
        try:
            pipeline = self.build_pipeline()
            text, name = self.read_input()
        except (UsageError, PipelineError) as error:
            print(f"trn-opt: error: {error}", file=sys.stderr)
            return 1
        if self.args.dump_pass_pipeline:
            print(f"Pass Manager with {_count_passes(pipeline)} passes:", file=sys.stderr)
            print(pipeline_text(pipeline), file=sys.stderr)

        if self.is_onnx_input():
            chunks: list[tuple[str, int]] = [("", 0)]
        else:
            chunks = self.split(text)
        outputs: list[str] = []
        failed = False
        with collecting() as statistics:
            for chunk, line_offset in chunks:
                failed |= self.run_chunk(chunk, line_offset, name, pipeline, outputs)

        try:
            if outputs or not failed:  # like mlir-opt, leave no empty -o file behind
                self.write_output("// -----\n".join(outputs))
        except UsageError as error:
            print(f"trn-opt: error: {error}", file=sys.stderr)
            return 1
        if self.args.time_passes:
            self.print_timings()
        if self.args.pass_statistics:
            print(statistics.report(), file=sys.stderr)
        return 1 if failed else 0

    def run_chunk(
        self,
        chunk: str,
        line_offset: int,
        name: str,
        pipeline: list[PipelineNode],
        outputs: list[str],
    ) -> bool:
        """Process one input chunk (its output appended to `outputs`); whether it failed."""
        failed = False
        if self.is_onnx_input():
            diagnostics, module = self.process_onnx(name, pipeline)
        else:
            diagnostics, module = self.process_chunk(chunk, name, line_offset, pipeline)
        if self.args.verify_diagnostics:
            failed |= not self.check_expected(diagnostics, chunk, name, line_offset)
        else:
            for diagnostic in diagnostics:
                shown = diagnostic.format(name)
                if not self.is_onnx_input():  # the source line and a caret, as mlir-opt
                    shown += diagnostic.excerpt(name, chunk, line_offset + 1)
                print(shown, file=sys.stderr)
            failed |= any(d.severity == "error" for d in diagnostics)
        if module is not None and not any(d.severity == "error" for d in diagnostics):
            start = time.perf_counter()
            outputs.append(self.output_resulting_program(module))
            self.timings.append(("(output)", time.perf_counter() - start))
        return failed

    def build_pipeline(self) -> list[PipelineNode]:
        if self.args.pass_pipeline and self.args.passes:
            raise UsageError("give either --pass-pipeline or -p, not both")
        target = self.args.target.split("{", 1)[0]
        if target not in self.available_targets:
            raise UsageError(
                f"unknown output target '{target}' (targets: {', '.join(self.available_targets)})"
            )
        if self.args.pass_pipeline:
            nodes = parse_mlir_pipeline(self.args.pass_pipeline, self.available_passes)
        else:
            nodes = parse_flat_pipeline(self.args.passes, self.available_passes)
        self.check_anchors(nodes)
        return nodes

    def check_anchors(self, nodes: list[PipelineNode]) -> None:
        """As in MLIR, passes can only be scheduled on ops isolated from above."""
        for node in nodes:
            if not isinstance(node, AnchorNode):
                continue
            op_type = self.ctx.get_optional_op(node.op_name)
            if op_type is None:
                raise UsageError(f"unknown op '{node.op_name}' used as a pass pipeline anchor")
            if not op_type.has_trait(IsolatedFromAbove):
                raise UsageError(
                    f"cannot schedule passes on '{node.op_name}': it is not isolated from "
                    "above (anchor on 'builtin.module', 'func.func' or another isolated op)"
                )
            self.check_anchors(node.children)

    def is_onnx_input(self) -> bool:
        path = self.args.input_file or ""
        return self.args.frontend == "onnx" or (
            self.args.frontend is None and path.lower().endswith(".onnx")
        )

    def read_input(self) -> tuple[str, str]:
        path = self.args.input_file
        if self.is_onnx_input():
            if path is None or path == "-":
                raise UsageError("ONNX input must be a file (its folder holds external data)")
            return "", path
        if self.args.input_shape or self.args.weights_file:
            raise UsageError("--input-shape and --weights-file apply to ONNX input only")
        if path is None or path == "-":
            return sys.stdin.read(), "<stdin>"
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as error:
            raise UsageError(f"cannot open input file '{path}': {error.strerror}") from None
        try:
            return data.decode("utf-8"), path
        except UnicodeDecodeError as error:
            raise UsageError(
                f"input file '{path}' is not UTF-8 text (byte {error.start}); "
                "trn-opt reads textual IR"
            ) from None

    def split(self, text: str) -> list[tuple[str, int]]:
        if not self.args.split_input_file:
            return [(text, 0)]
        chunks: list[tuple[str, int]] = []
        line_offset = 0
        for chunk in re.split(r"^// -----.*$", text, flags=re.MULTILINE):
            chunks.append((chunk, line_offset))
            line_offset += chunk.count("\n")
        return chunks

    def process_chunk(
        self, chunk: str, name: str, line_offset: int, pipeline: list[PipelineNode]
    ) -> tuple[list[Diagnostic], ModuleOp | None]:
        start = time.perf_counter()
        try:
            parser = LocatedParser(self.ctx, chunk, name, line_offset)
            module = parser.parse_module(not self.args.no_implicit_module)
        except ParseError as error:
            return [Diagnostic.from_parse_error(error, line_offset)], None
        finally:
            self.timings.append(("(parse)", time.perf_counter() - start))

        if not self.args.disable_verify:
            start = time.perf_counter()
            diagnostics = verify_ops(module)
            self.timings.append(("(verify)", time.perf_counter() - start))
            if diagnostics:
                return diagnostics, module

        try:
            run_pipeline(pipeline, self.ctx, module, self.after_pass, self.before_pass)
        except _StopChunk as stop:
            return stop.diagnostics, module
        except Exception as error:
            if self.args.show_traceback:
                traceback.print_exc()
            self.dump_after_failure(module)
            return [self.pass_failure(error, module)], module
        if pipeline and not self.args.disable_verify:
            # Passes are verified where they ran; this checks the module as a whole once.
            start = time.perf_counter()
            diagnostics = verify_ops(module)
            self.timings.append(("(verify)", time.perf_counter() - start))
            if diagnostics:
                return [*diagnostics, Diagnostic("note", "the IR no longer verifies")], module
        return [], module

    def process_onnx(
        self, path: str, pipeline: list[PipelineNode]
    ) -> tuple[list[Diagnostic], ModuleOp | None]:
        """Import an ONNX model (trnc's `onnx` frontend), then run the pipeline on it."""
        from trnc.frontend.onnx import OnnxImportError, import_model

        try:
            shapes = parse_input_shapes(self.args.input_shape)
        except ValueError as error:
            return [Diagnostic("error", str(error))], None
        weights, ref = self.weights_location(path)
        start = time.perf_counter()
        try:
            result = import_model(path, input_shapes=shapes, weights_path=weights, weights_ref=ref)
        except OnnxImportError as error:
            return [Diagnostic("error", p) for p in error.problems], None
        except OSError as error:  # the weights file cannot be written there
            reason = error.strerror or str(error)
            return [Diagnostic("error", f"cannot write weights file '{weights}': {reason}")], None
        finally:
            self.timings.append(("(import)", time.perf_counter() - start))
        self.args.print_debuginfo = True  # keep the ONNX node names through text
        try:
            run_pipeline(pipeline, self.ctx, result.module, self.after_pass, self.before_pass)
        except _StopChunk as stop:
            return stop.diagnostics, result.module
        except Exception as error:
            if self.args.show_traceback:
                traceback.print_exc()
            self.dump_after_failure(result.module)
            return [self.pass_failure(error, result.module)], result.module
        if self.scratch is not None:  # printed to stdout: self-contained, no file left
            from trnc.tools.weights_io import WeightsError, inline

            try:
                inline(result.module, Path(self.scratch.name))
            except WeightsError as error:
                return [Diagnostic("error", str(error))], None
        return [], result.module

    def weights_location(self, model: str) -> tuple[Path, str]:
        """Where an ONNX import writes its weights file and how the module names it:
        `--weights-file`, else next to `-o FILE` (relative name), else (stdout) a scratch
        file whose tensors `process_onnx` inlines into the printed module, so output on
        stdout leaves no file behind (absolute name)."""
        out = self.args.output_file
        if self.args.weights_file:
            path = Path(self.args.weights_file)
        elif out:
            path = Path(out).with_suffix(".weights")
        else:  # stdout: a scratch file, inlined into the printed module (process_onnx)
            self.scratch = tempfile.TemporaryDirectory(prefix="trn-opt-")
            path = Path(self.scratch.name) / (Path(model).stem + ".weights")
        if out:
            try:
                return path, os.path.relpath(path.resolve(), Path(out).resolve().parent)
            except ValueError:  # another drive on Windows
                pass
        return path, str(path.resolve())

    def after_pass(self, node: PassNode, op: Operation, seconds: float) -> None:
        self.timings.append((node.text, seconds))
        if not self.args.disable_verify:
            start = time.perf_counter()
            diagnostics = verify_ops(op)
            self.timings.append(("(verify)", time.perf_counter() - start))
            if diagnostics:
                note = Diagnostic("note", f"the IR no longer verifies after pass '{node.text}'")
                raise _StopChunk([*diagnostics, note])
        if self.args.print_ir_after_all or selected(node.name, node.text, self.args.print_ir_after):
            self.dump("After", node, op)

    def before_pass(self, node: PassNode, op: Operation) -> None:
        self.running = node
        if self.args.print_ir_before_all or selected(
            node.name, node.text, self.args.print_ir_before
        ):
            self.dump("Before", node, op)

    def dump(self, when: str, node: PassNode, op: Operation) -> None:
        """The IR dump of mlir-opt's `--mlir-print-ir-*` flags, on stderr."""
        print_ir_dump(when, node.pass_, op, sys.stderr, self.args.print_op_generic)

    def dump_after_failure(self, module: ModuleOp) -> None:
        """With `--print-ir-after-failure`, the IR as the failing pass left it."""
        if self.args.print_ir_after_failure and self.running is not None:
            self.dump("After", self.running, module)
            print(f"// (the pass '{self.running.text}' failed)", file=sys.stderr)

    def pass_failure(self, error: Exception, module: ModuleOp) -> Diagnostic:
        """A pass raised: report it at the op it names, else at the module."""
        message = str(error).strip() or type(error).__name__
        message = message.splitlines()[0] if "\n" in message else message
        at = getattr(error, "op", None)
        return Diagnostic.at_op(
            at if isinstance(at, Operation) else module, f"pass failed: {message}"
        )

    # ----------------------------------------------------------------------------------
    # --verify-diagnostics
    # ----------------------------------------------------------------------------------

    def check_expected(
        self, diagnostics: list[Diagnostic], chunk: str, name: str, line_offset: int
    ) -> bool:
        expectations: list[_Expectation] = []
        for index, line in enumerate(chunk.splitlines()):
            for match in _EXPECT_RE.finditer(line):
                line_no = line_offset + index + 1
                where = match.group(2)
                if where == "above":
                    target = line_no - 1
                elif where == "below":
                    target = line_no + 1
                elif where:
                    target = line_no + int(where)
                else:
                    target = line_no
                expectations.append(
                    _Expectation(match.group(1), target, match.group(3), match.start() + 1)
                )

        ok = True
        for diagnostic in diagnostics:
            diag_line = diagnostic.loc.line if diagnostic.loc is not None else None
            for expectation in expectations:
                if (
                    not expectation.matched
                    and expectation.severity == diagnostic.severity
                    and expectation.line == diag_line
                    and expectation.text in diagnostic.message
                ):
                    expectation.matched = True
                    break
            else:
                if diagnostic.severity == "note" and diagnostic.loc is None:
                    continue  # unlocated notes accompany another diagnostic
                ok = False
                print(
                    Diagnostic(
                        "error",
                        f"unexpected {diagnostic.severity}: {diagnostic.message}",
                        diagnostic.loc,
                    ).format(name),
                    file=sys.stderr,
                )
        for expectation in expectations:
            if not expectation.matched:
                ok = False
                print(
                    Diagnostic(
                        "error",
                        f'expected {expectation.severity} "{expectation.text}" was not produced',
                        SourceLoc(name, expectation.line, expectation.col),
                    ).format(name),
                    file=sys.stderr,
                )
        return ok

    # ----------------------------------------------------------------------------------
    # Output
    # ----------------------------------------------------------------------------------

    def write_output(self, text: str) -> None:
        if self.args.output_file is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        try:
            with open(self.args.output_file, "w") as f:
                f.write(text)
        except OSError as error:
            raise UsageError(
                f"cannot open output file '{self.args.output_file}': {error.strerror}"
            ) from None

    def print_timings(self) -> None:
        print(timing_report(self.timings), file=sys.stderr)

    def list_passes(self, out: IO[str]) -> None:
        """Every pass with its summary and options (`name: type = default`): trnc's first
        (`graph-to-isa`, then its stages in pipeline order, then the others), then the
        plug-ins' (when `--load-plugin` gave any), then xDSL's and other installed ones."""
        from trnc.lowering.graph_to_isa import pipeline
        from trnc.universe import TRNC_UNIVERSE

        ours = set(TRNC_UNIVERSE.all_passes)
        staged = ["graph-to-isa", *(stage.name for stage in pipeline())]
        trnc_names = [n for n in dict.fromkeys(staged) if n in ours]
        trnc_names += sorted(ours - set(trnc_names))
        plugin_names = sorted({n for u in self.plugin_universes for n in u.all_passes} - ours)
        rest = sorted(set(self.available_passes) - ours - set(plugin_names))
        out.write("Options in braces: name{option=value ...}\n")
        for heading, names in (
            ("trnc passes (graph-to-isa runs its stages in this order)", trnc_names),
            ("Plug-in passes", plugin_names),
            ("xDSL and other installed passes", rest),
        ):
            if not names:
                continue
            out.write(f"\n{heading}:\n")
            for name in names:
                try:
                    summary, options = describe_pass(self.available_passes[name]())
                except Exception as error:  # a plug-in whose pass fails to import
                    summary, options = f"(cannot load: {error})", []
                out.write(f"  {name}" + (f" - {summary}" if summary else "") + "\n")
                for option in options:
                    out.write(f"      {option}\n")


def _parser() -> ArgumentParser:
    return ArgumentParser(
        prog="trn-opt",
        description="trnc's modular optimizer driver (mlir-opt for trnc dialects)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""examples:
  trn-opt model.mlir -p 'graph-to-isa{dtype=bf16}' -o model.isa.mlir
  trn-opt model.mlir --pass-pipeline='builtin.module(graph-decompose,graph-canonicalize)'
  trn-opt model.onnx --input-shape input_ids=1x128 -o model.mlir   (+ model.weights)
  trn-opt model.mlir -p graph-to-isa --mlir-timing --mlir-pass-statistics -o /dev/null
  trn-opt model.mlir -p graph-to-isa --print-ir-after=graph-to-isa/tile-allocate -o /dev/null
  trn-opt tests.mlir --split-input-file --verify-diagnostics
  trn-opt --list-passes""",
    )


_MORE_HELP = {
    "--disable-verify": "do not verify the IR after parsing and after each pass",
    "--version": "print the version and exit",
    "--frontend": "the input format (default: from the file's extension; mlir for stdin)",
    "--target": "the output format (default: mlir)",
}
"""Help texts for options xDSL's driver registers without one or without its default."""


def _complete_help(parser: argparse.ArgumentParser) -> None:
    """Give every option a help text that says its default (`_MORE_HELP`)."""
    for action in parser._actions:
        for flag, text in _MORE_HELP.items():
            if flag in action.option_strings:
                action.help = text


def _onnx_frontend_placeholder(io: IO[bytes]) -> ModuleOp:
    """`-f onnx` is handled by `TrnOptMain.process_onnx` (ONNX is binary and needs its
    path for external data); this entry only makes `onnx` a valid `-f` choice."""
    raise UsageError("ONNX input must be a file")


def parse_input_shapes(specs: Sequence[str]) -> dict[str, list[int]]:
    """`NAME=1x128` (or `NAME=1,128`; `NAME=` for a scalar) -> {NAME: [1, 128]}."""
    shapes: dict[str, list[int]] = {}
    for spec in specs:
        name, sep, dims = spec.rpartition("=")
        if not sep or not name:
            raise ValueError(f"--input-shape '{spec}': expected NAME=D0xD1... (e.g. x=1x128)")
        parts = [p for p in re.split(r"[x,]", dims.strip()) if p.strip()] if dims.strip() else []
        try:
            shapes[name] = [int(p) for p in parts]
        except ValueError:
            raise ValueError(
                f"--input-shape '{spec}': dims must be integers separated by 'x'"
            ) from None
    return shapes


def main(args: Sequence[str] | None = None) -> int:
    """Console entry point of `trn-opt`."""
    argv = list(sys.argv[1:] if args is None else args)
    try:
        return TrnOptMain(argv).run()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return stdout_closed()
    except PluginError as error:  # a plug-in's dialect or pass failed to load lazily
        print(f"trn-opt: error: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        if "--show-traceback" in argv:
            raise
        print(
            f"trn-opt: internal error: {type(error).__name__}: {error}\n"
            "trn-opt: this is a bug in trnc; rerun with --show-traceback and report it",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
