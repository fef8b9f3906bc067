"""Pass pipelines in MLIR's textual syntax, run over xDSL module passes.

Grammar (MLIR's `--pass-pipeline`, with xDSL's option syntax inside braces):

    pipeline ::= element (`,` element)*
    element  ::= pass-name (`{` options `}`)?      a pass, options space-separated
               | op-name `(` pipeline? `)`         an anchor: run the inner pipeline on
                                                   every `op-name` op nested directly in
                                                   the current op

`builtin.module(a,func.func(b,c{k=v}))` runs `a` on the module, then `b` and `c` on each
function. xDSL's flat form `a,b{k=v}` (trn-opt's `-p`) is the same grammar without anchors.

A pass with a `stages()` method (`graph-to-isa`) is a nested pipeline: its stages run one
by one, each reported to the caller (timing, IR dumps) as `outer/stage`.

A pass anchored on a non-module op runs on that op alone: the op is moved into a scratch
`builtin.module`, the pass runs, and the result is moved back where the op was, so passes
see only the op they are scheduled on, as in MLIR's nested pass managers.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, get_type_hints

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.utils.arg_spec import ArgSpec, parse_spec
from xdsl.utils.exceptions import ArgSpecParseError

PassFactory = Callable[[], type[ModulePass]]


class PipelineError(Exception):
    """A pass pipeline that cannot be built; the message is for the user."""


@dataclass
class PassNode:
    """One pass of a pipeline, already instantiated with its options."""

    pass_: ModulePass
    text: str

    @property
    def name(self) -> str:
        return self.pass_.name


@dataclass
class AnchorNode:
    """A nested pipeline that runs on every `op_name` op directly inside the current op."""

    op_name: str
    children: list[PipelineNode] = field(default_factory=lambda: [])


PipelineNode = PassNode | AnchorNode


# --------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------


def _split_top_level(text: str, what: str) -> list[str]:
    """Split on commas that are not inside (), {}, or a quoted string."""
    parts: list[str] = []
    depth = 0
    in_string = False
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
            if depth < 0:
                raise PipelineError(f"unbalanced '{ch}' in {what} '{text}'")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if depth != 0 or in_string:
        raise PipelineError(f"unbalanced brackets or quotes in {what} '{text}'")
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _close_matches(word: str, choices: list[str]) -> str:
    matches = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if not matches:
        return ""
    return "; did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"


def _instantiate(text: str, passes: dict[str, PassFactory]) -> PassNode:
    try:
        spec = parse_spec(text)
    except ArgSpecParseError as error:
        detail = str(error).strip().splitlines()[-1].strip(" ^")
        raise PipelineError(f"malformed pass '{text}': {detail}") from None
    if spec.name not in passes:
        raise PipelineError(
            f"unknown pass '{spec.name}'{_close_matches(spec.name, sorted(passes))}"
            " (trn-opt --list-passes lists them all)"
        )
    pass_type = passes[spec.name]()
    _check_options(pass_type, spec)
    try:
        return PassNode(pass_type.from_pass_spec(spec), text)
    except (ValueError, TypeError) as error:
        raise PipelineError(f"invalid options for pass '{spec.name}': {error}") from None


def _check_options(pass_type: type[ModulePass], spec: ArgSpec) -> None:
    known = [f.name for f in dataclasses.fields(pass_type) if f.init and f.name != "name"]
    spelled = {k.replace("_", "-") for k in known}
    for option in spec.parameters:
        if option.replace("-", "_") not in known:
            listing = ", ".join(sorted(spelled)) if spelled else "none"
            raise PipelineError(
                f"unknown option '{option}' for pass '{spec.name}'"
                f"{_close_matches(option.replace('_', '-'), sorted(spelled))}"
                f" (its options: {listing})"
            )


def _parse_elements(text: str, passes: dict[str, PassFactory]) -> list[PipelineNode]:
    nodes: list[PipelineNode] = []
    if not text.strip():
        return nodes
    for element in _split_top_level(text, "pass pipeline"):
        if not element:
            raise PipelineError("empty element in pass pipeline (a stray ',')")
        paren = element.find("(")
        brace = element.find("{")
        if paren != -1 and (brace == -1 or paren < brace):
            if not element.endswith(")"):
                raise PipelineError(f"expected ')' at the end of '{element}'")
            op_name = element[:paren].strip()
            if "." not in op_name:
                raise PipelineError(
                    f"'{op_name}(...)' is not an op anchor: anchors are op names such as"
                    " 'builtin.module' or 'func.func'"
                )
            nodes.append(AnchorNode(op_name, _parse_elements(element[paren + 1 : -1], passes)))
        else:
            nodes.append(_instantiate(element, passes))
    return nodes


def parse_mlir_pipeline(text: str, passes: dict[str, PassFactory]) -> list[PipelineNode]:
    """Parse `--pass-pipeline`: `builtin.module(...)` at the top, anchors nested inside."""
    text = text.strip()
    if not text:
        return []
    elements = _split_top_level(text, "pass pipeline")
    if len(elements) != 1 or not re.match(r"builtin\.module\s*\(", elements[0]):
        raise PipelineError(
            "a --pass-pipeline must be anchored on the module, as in"
            f" 'builtin.module({text})'; use -p for xDSL's flat list"
        )
    (anchor,) = _parse_elements(text, passes)
    assert isinstance(anchor, AnchorNode)
    return anchor.children


def parse_flat_pipeline(text: str, passes: dict[str, PassFactory]) -> list[PipelineNode]:
    """Parse xDSL's flat `-p a,b{k=v}`; anchors are accepted there too."""
    return _parse_elements(text, passes)


def iter_passes(nodes: list[PipelineNode]) -> Iterator[PassNode]:
    for node in nodes:
        if isinstance(node, PassNode):
            yield node
        else:
            yield from iter_passes(node.children)


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------

AfterPassHook = Callable[[PassNode, Operation, float], None]
"""Called after each pass with the pass, the op it ran on and its wall time in seconds."""
BeforePassHook = Callable[[PassNode, Operation], None]
"""Called before each pass with the pass and the op it is about to run on."""


def add_instrumentation_options(add: Callable[..., object], after_failure: bool) -> None:
    """The pass instrumentation options of `trn-opt` and `trn-compile`, with mlir-opt's
    spellings (`add` is an argument parser's or group's `add_argument`); `after_failure`
    adds `--print-ir-after-failure`."""
    add(
        "--print-ir-after-all",
        "--mlir-print-ir-after-all",
        "--print-between-passes",
        action="store_true",
        help="print the IR to stderr after every pass",
    )
    add(
        "--print-ir-before-all",
        "--mlir-print-ir-before-all",
        action="store_true",
        help="print the IR to stderr before every pass",
    )
    add(
        "--print-ir-after",
        "--mlir-print-ir-after",
        action="append",
        default=[],
        metavar="PASS",
        help="print the IR to stderr after each run of PASS (a pass name, or "
        "'graph-to-isa/<stage>'); comma-separated or repeated",
    )
    add(
        "--print-ir-before",
        "--mlir-print-ir-before",
        action="append",
        default=[],
        metavar="PASS",
        help="print the IR to stderr before each run of PASS; comma-separated or repeated",
    )
    if after_failure:
        add(
            "--print-ir-after-failure",
            "--mlir-print-ir-after-failure",
            action="store_true",
            help="print the IR to stderr after a pass that fails, as the pass left it",
        )
    add(
        "--dump-pass-pipeline",
        "--mlir-dump-pass-pipeline",
        action="store_true",
        help="print the pass pipeline (nested pipelines with their stages) to stderr",
    )
    add(
        "--time-passes",
        "--mlir-timing",
        action="store_true",
        help="report the time of every pass",
    )
    add(
        "--pass-statistics",
        "--mlir-pass-statistics",
        action="store_true",
        help="report what each pass did (GELUs fused, loads moved, bytes spilled, waits "
        "added, ...) on stderr",
    )


def selected(name: str, text: str, names: list[str]) -> bool:
    """Whether `--print-ir-before/after` name a pass: by its name or its full text
    (`graph-to-isa/tile-allocate`); each option may hold comma-separated names."""
    wanted = {n.strip() for given in names for n in given.split(",") if n.strip()}
    return bool(wanted) and (name in wanted or text in wanted)


def timing_report(entries: list[tuple[str, float]], total: float | None = None) -> str:
    """mlir-opt's `--mlir-timing` report of (label, seconds) entries, those of one label
    added up; `total` defaults to their sum."""
    merged: dict[str, float] = {}
    for label, seconds in entries:
        merged[label] = merged.get(label, 0.0) + seconds
    whole = (total if total is not None else sum(merged.values())) or 1e-12
    bar = "===" + "-" * 73 + "==="
    lines = [
        bar,
        "                      ... Execution time report ...",
        bar,
        f"  Total Execution Time: {whole:.4f} seconds",
        "",
        "  ----Wall Time----  ----Name----",
    ]
    for label, seconds in merged.items():
        lines.append(f"  {seconds:8.4f} ({100 * seconds / whole:5.1f}%)  {label}")
    lines.append(f"  {whole:8.4f} (100.0%)  Total")
    return "\n".join(lines)


def print_ir_dump(
    when: str, pass_: ModulePass, op: Operation, stream: IO[str], generic: bool = False
) -> None:
    """One IR dump of the `--print-ir-*` flags, as mlir-opt writes it: a header naming the
    pass, then the op."""
    from xdsl.printer import Printer

    print(
        f"// -----// IR Dump {when} {type(pass_).__name__} ({pass_.name}) //----- //", file=stream
    )
    Printer(stream=stream, print_generic_format=generic).print_op(op)
    print("\n", file=stream)


def pipeline_text(nodes: list[PipelineNode]) -> str:
    """The pipeline in MLIR's syntax, nested pipelines (`graph-to-isa`) with their stages:
    what `--dump-pass-pipeline` prints."""

    def render(node: PipelineNode) -> str:
        if isinstance(node, AnchorNode):
            return f"{node.op_name}({','.join(render(child) for child in node.children)})"
        stages = getattr(node.pass_, "stages", None)
        if callable(stages):
            return f"{node.text}({','.join(stage.name for stage in stages())})"
        return node.text

    return f"builtin.module({','.join(render(node) for node in nodes)})"


def run_pipeline(
    nodes: list[PipelineNode],
    ctx: Context,
    module: ModuleOp,
    after_pass: AfterPassHook,
    before_pass: BeforePassHook | None = None,
) -> None:
    """Run `nodes` on `module`; exceptions from passes propagate to the caller."""
    _run_on(nodes, ctx, module, after_pass, before_pass)


def _run_on(
    nodes: list[PipelineNode],
    ctx: Context,
    op: Operation,
    after_pass: AfterPassHook,
    before_pass: BeforePassHook | None,
) -> None:
    for node in nodes:
        if isinstance(node, PassNode):
            _apply_pass(node, ctx, op, after_pass, before_pass)
            continue
        targets = [
            child
            for region in op.regions
            for block in region.blocks
            for child in block.ops
            if child.name == node.op_name
        ]
        for target in targets:
            _run_on(node.children, ctx, target, after_pass, before_pass)


def _apply_pass(
    node: PassNode,
    ctx: Context,
    op: Operation,
    after_pass: AfterPassHook,
    before_pass: BeforePassHook | None,
) -> None:
    stages = getattr(node.pass_, "stages", None)
    if callable(stages):  # a nested pipeline (graph-to-isa): each stage is its own pass
        for stage in stages():
            stage_node = PassNode(stage, f"{node.name}/{stage.name}")
            _apply_pass(stage_node, ctx, op, after_pass, before_pass)
        return
    if before_pass is not None:
        before_pass(node, op)
    start = time.perf_counter()
    if isinstance(op, ModuleOp):
        node.pass_.apply(ctx, op)
        after_pass(node, op, time.perf_counter() - start)
        return
    block = op.parent_block()
    anchor = op.next_op
    op.detach()
    scratch = ModuleOp([op])
    try:
        node.pass_.apply(ctx, scratch)
    finally:
        # Put back whatever the pass left in place of `op`, where `op` was.
        results = list(scratch.body.block.ops)
        for result in results:
            result.detach()
            if block is not None:
                if anchor is not None:
                    block.insert_op_before(result, anchor)
                else:
                    block.add_op(result)
    elapsed = time.perf_counter() - start
    for result in results:
        after_pass(node, result, elapsed)


def describe_pass(pass_type: type[ModulePass]) -> tuple[str, list[str]]:
    """The one-line summary of a pass (the first sentence of its docstring) and its
    options as `name: type = default`."""
    doc = (pass_type.__doc__ or "").strip()
    # the first sentence of the first paragraph, on one line
    summary = " ".join(doc.split("\n\n")[0].split()) if doc else ""
    if summary.startswith(f"{pass_type.__name__}("):  # dataclass' generated docstring
        summary = ""
    summary = summary.replace(" (see the module docstring)", "")
    end = summary.find(". ")
    if end >= 0:
        summary = summary[: end + 1]
    try:
        hints = get_type_hints(pass_type)
    except Exception:
        hints = {}
    options: list[str] = []
    for f in dataclasses.fields(pass_type):
        if not f.init or f.name == "name":
            continue
        type_name = getattr(hints.get(f.name), "__name__", None) or str(hints.get(f.name, f.type))
        default = ""
        if f.default is not dataclasses.MISSING:
            default = f" = {f.default!r}"
        elif f.default_factory is not dataclasses.MISSING:
            default = f" = {f.default_factory()!r}"
        options.append(f"{f.name.replace('_', '-')}: {type_name}{default}")
    return summary, options
