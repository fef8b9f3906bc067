"""MLIR-style diagnostics for trnc's tools.

Turns xDSL's parse and verification failures into `file:line:col: error: message` lines,
as mlir-opt prints them:

* `LocatedParser` is xDSL's parser, but every op it parses without an explicit `loc(...)`
  gets a `FileLineColLoc` of where it starts in the source, so later errors can name it;
* `verify_ops` verifies op by op and returns one diagnostic per failing op, prefixed with
  `'<op name>' op` and located at that op, instead of xDSL's exception with an IR dump;
* `Diagnostic.from_parse_error` locates a `ParseError`.
"""

from __future__ import annotations

import argparse
import re
import struct
import sys
from dataclasses import dataclass
from math import prod
from typing import Any, Literal, NoReturn

from xdsl.context import Context
from xdsl.dialects.builtin import (
    ArrayAttr,
    CallSiteLoc,
    DenseIntOrFPElementsAttr,
    FileLineColLoc,
    FusedLoc,
    IntAttr,
    ModuleOp,
    NameLoc,
    StringAttr,
    UnknownLoc,
)
from xdsl.ir import Attribute, AttributeInvT, Block, Operation, Region, SSAValue
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.parser.generic_parser import ParserState
from xdsl.traits import NoTerminator
from xdsl.utils.exceptions import ParseError, VerifyException
from xdsl.utils.lexer import Input, Span
from xdsl.utils.mlir_lexer import MLIRLexer, MLIRTokenKind

Severity = Literal["error", "warning", "remark", "note"]


@dataclass(frozen=True)
class SourceLoc:
    """A position in a source file; `line` and `col` are 1-based."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One message for the user, with the place it is about when there is one."""

    severity: Severity
    message: str
    loc: SourceLoc | None = None
    name: str | None = None
    """A named location (an ONNX node name, say) when the op carries one."""

    def format(self, default_file: str = "<unknown>") -> str:
        where = str(self.loc) if self.loc is not None else default_file
        named = f" (at {self.name})" if self.name and self.loc is not None else ""
        if self.loc is None and self.name:
            where = f'loc("{self.name}")'
        return f"{where}: {self.severity}: {self.message}{named}"

    def excerpt(self, file: str, text: str, first_line: int = 1) -> str:
        """The source line of the location and a caret under its column, as mlir-opt
        prints them under a diagnostic (each on a line of its own, after a newline), when
        the location is in `text` (of file `file`, whose first line is line
        `first_line`); else ''."""
        if self.loc is None or self.loc.file != file or self.loc.col < 1:
            return ""
        lines = text.splitlines()
        index = self.loc.line - first_line
        if not 0 <= index < len(lines):
            return ""
        return f"\n{lines[index].rstrip()}\n{' ' * (self.loc.col - 1)}^"

    def shown(self, file: str, text: str, first_line: int = 1) -> str:
        """`format(file)` and, when the location is in `text`, its `excerpt`."""
        return self.format(file) + self.excerpt(file, text, first_line)

    @staticmethod
    def from_parse_error(error: ParseError, line_offset: int = 0) -> Diagnostic:
        location = error.span.get_location()
        loc = SourceLoc(location.file, location.line + line_offset, location.col)
        return Diagnostic("error", error.msg, loc)

    @staticmethod
    def at_op(op: Operation, message: str, severity: Severity = "error") -> Diagnostic:
        """A diagnostic about `op`, worded as MLIR words them: `'dialect.op' op message`."""
        loc, name = op_source_loc(op)
        return Diagnostic(severity, f"'{op.name}' op {message}", loc, name)


def _resolve(location: Attribute) -> tuple[SourceLoc | None, str | None]:
    if isinstance(location, FileLineColLoc):
        return SourceLoc(location.filename.data, location.line.data, location.column.data), None
    if isinstance(location, NameLoc):
        loc, _ = _resolve(location.location)
        return loc, location.desc.data
    if isinstance(location, CallSiteLoc):
        return _resolve(location.callee)
    if isinstance(location, FusedLoc):
        name: str | None = None
        subs = location.locations
        for sub in subs.data if isinstance(subs, ArrayAttr) else ():
            loc, sub_name = _resolve(sub)
            name = name or sub_name
            if loc is not None:
                return loc, name
        return None, name
    return None, None


def op_source_loc(op: Operation) -> tuple[SourceLoc | None, str | None]:
    """The source position of `op` (or of its nearest located ancestor) and its name loc."""
    current: Operation | None = op
    name: str | None = None
    while current is not None:
        loc, found_name = _resolve(current.location)
        name = name or found_name
        if loc is not None:
            return loc, name
        current = current.parent_op()
    return None, name


class _LinearLexer(MLIRLexer):
    """xDSL's MLIR lexer with a string-literal pattern that cannot backtrack
    exponentially: xDSL's `"(?:[^"\\]+|\\.)*"` takes exponential time on an unterminated
    string literal (a stray `"` before a long line hangs the parser). Here every character
    of the literal matches exactly one alternative, so a failed match is linear."""

    _unescaped_characters_regex = re.compile(r'"(?:[^"\\\n\v\f]|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*"')


MAX_DENSE_ELEMENTS = 2**26
"""The most elements a dense literal may have: xDSL stores every element of a splat
(`dense<1> : tensor<2147483648xi32>` would take many minutes and gigabytes; 2^24
elements take about a minute)."""


class LocatedParser(Parser):
    """xDSL's parser, attaching `file:line:col` locations to ops that have none.

    `line_offset` is added to every line, so chunks of a `--split-input-file` input report
    lines of the whole file.
    """

    def __init__(
        self, ctx: Context, input: str | bytes, name: str = "<unknown>", line_offset: int = 0
    ) -> None:
        super().__init__(ctx, "", name)
        text = input.decode("utf-8") if isinstance(input, bytes) else input
        self._parser_state = ParserState(_LinearLexer(Input(text, name)))
        self.source_name = name
        self.line_offset = line_offset
        self._first_uses: dict[str, Span[str] | Span[bytes]] = {}

    def resolve_operand(
        self, operand: UnresolvedOperand, type: AttributeInvT
    ) -> SSAValue[AttributeInvT]:
        if operand.operand_name not in self.ssa_values:
            self._first_uses.setdefault(operand.operand_name, operand.span)
        return super().resolve_operand(operand, type)

    def _parse_dense_literal_type(self) -> Any:
        start = self._current_token.span
        self._dense_type: Attribute | None = super()._parse_dense_literal_type()
        count = prod(self._dense_type.get_shape())
        if count > MAX_DENSE_ELEMENTS:  # xDSL expands a splat: 2^31 elements hang
            raise ParseError(
                start,
                f"dense literal of {count} elements: more than the {MAX_DENSE_ELEMENTS} "
                "trnc's tools hold in the IR (large tensors belong in a weights file)",
            )
        return self._dense_type

    def parse_dense_int_or_fp_elements_attr(self, type: Any) -> DenseIntOrFPElementsAttr:
        """xDSL's, with its failures on element types it cannot store (`i100`, `f80`) or
        complex literals that are not (re, im) pairs as a located `ParseError`."""
        start = self._current_token.span
        self._dense_type = type
        try:
            return super().parse_dense_int_or_fp_elements_attr(type)
        except (NotImplementedError, AssertionError) as error:
            what = f" of type {self._dense_type}" if self._dense_type is not None else ""
            why = (
                "complex elements are written as (real, imaginary) pairs"
                if isinstance(error, AssertionError)
                else "its element type has no binary format (integers of at most 64 bits "
                "and f16, bf16, f32, f64 have)"
            )
            raise ParseError(start, f"unsupported dense literal{what}: {why}") from None

    def _parse_block(self) -> Block:
        """xDSL's block parser, except that a block label defined twice after a forward
        reference is the located "re-declaration" error, not a KeyError (xDSL 0.74 forgets
        the first definition's place when a branch named the block before it)."""
        token = self._current_token
        name = token.text[1:] if token.kind is MLIRTokenKind.CARET_IDENT else None
        known = self.blocks.get(name) if name is not None else None
        if (
            name is not None
            and known is not None
            and known[1] is None
            and name not in self.forward_block_references
        ):
            raise ParseError(token.span, f"re-declaration of block '{name}'")
        block = super()._parse_block()
        if name is not None and self.blocks.get(name, (None, None))[1] is None:
            self.blocks[name] = (block, token.span)
        return block

    def parse_module(self, allow_implicit_module: bool = True) -> ModuleOp:
        if allow_implicit_module and self._current_token.kind is MLIRTokenKind.EOF:
            return ModuleOp([])  # only comments: an empty module, as in mlir-opt
        try:
            module = super().parse_module(allow_implicit_module)
            if isinstance(module.location, UnknownLoc):  # the implicit module: line 1
                module.location = FileLineColLoc(
                    StringAttr(self.source_name),
                    IntAttr(1 + self.line_offset),
                    IntAttr(1),
                )
            return module
        except ParseError as error:
            undefined = [n for n in self.forward_ssa_references if n in self._first_uses]
            if not error.msg.startswith("values used but not defined") or not undefined:
                raise
            first = min(undefined, key=lambda n: self._first_uses[n].start)
            raise ParseError(
                self._first_uses[first], f"use of undefined value '%{first}'"
            ) from None

    def parse_operation(self) -> Operation:
        start = self._current_token.span
        try:
            op = super().parse_operation()
        except VerifyException as error:
            # An attribute or type verifier rejected what this op's syntax built.
            raise ParseError(start, _strip_prefix(str(error))) from None
        except (ValueError, OverflowError, struct.error) as error:
            # xDSL's builders reject values its parsers accepted, e.g. an integer that does
            # not fit the i64 of an `IntegerAttr[I64]` or a `DenseArrayBase[I64]` property.
            raise ParseError(start, f"invalid value: {_value_message(error)}") from None
        if isinstance(op.location, UnknownLoc):
            location = start.get_location()
            op.location = FileLineColLoc(
                StringAttr(location.file),
                IntAttr(location.line + self.line_offset),
                IntAttr(location.col),
            )
        return op


def verify_ops(root: Operation) -> list[Diagnostic]:
    """Verify every op under `root`; one diagnostic per op that breaks a rule, then SSA
    dominance (`trnc.tools.dominance`).

    Ops are verified one at a time (their nested ops are visited by the walk), so an error
    names the op that broke the rule, located where the op is, rather than its ancestors.
    """
    diagnostics: list[Diagnostic] = []
    for op in root.walk():
        try:
            op.verify(verify_nested_ops=False)
        except Exception as error:  # a verifier is user-facing: never a traceback
            diagnostics.append(Diagnostic.at_op(op, _strip_prefix(str(error))))
    if diagnostics:
        return diagnostics
    from trnc.tools.dominance import dominance_errors

    diagnostics = dominance_errors(root)
    if diagnostics:
        return diagnostics
    # Block-level structure (parent links, empty blocks), which the op-by-op verification
    # above does not see; terminators were checked op by op. Not the recursive verifier:
    # it would verify every op again (1.2 s of BERT-base's compile).
    for op in root.walk():
        for region in op.regions:
            for block in region.blocks:
                problem = _block_problem(op, region, block)
                if problem:
                    diagnostics.append(Diagnostic.at_op(op, problem))
                    return diagnostics
    return diagnostics


def _block_problem(op: Operation, region: Region, block: Block) -> str | None:
    """What xDSL's recursive verifier would say about `block` itself, else None."""
    if block.parent is not region:
        return "Parent pointer of block does not refer to containing region"
    for inner in block.ops:
        if inner.parent is not block:
            return "Parent pointer of operation does not refer to containing region"
    if block.first_op is None and len(region.blocks) == 1 and not op.has_trait(NoTerminator):
        return (
            f"Operation {op.name} contains empty block in single-block region that expects "
            "at least a terminator"
        )
    return None


def _value_message(error: Exception) -> str:
    message = _strip_prefix(str(error)) or type(error).__name__
    if isinstance(error, struct.error | OverflowError):
        # `struct.pack` only says "argument out of range".
        return f"an integer does not fit its type ({message})"
    return message


def _strip_prefix(message: str) -> str:
    """One line, as MLIR's messages are; without xDSL's 'Operation does not verify: '."""
    prefix = "Operation does not verify: "
    while message.startswith(prefix):
        message = message[len(prefix) :]
    return " ".join(line.strip() for line in message.strip().splitlines())


class ArgumentParser(argparse.ArgumentParser):
    """argparse for trnc's tools: a bad command line exits with code 1 like mlir-opt
    (argparse's default is 2), after the usage line."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")
