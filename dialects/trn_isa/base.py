"""The common base of every `trn_isa` instruction: synchronisation and custom syntax.

Every instruction reads and writes memory through access patterns (no SSA values), names
the queue it is issued to, and carries its semaphore waits and signals (trn1.md A.4).
All instructions share one syntax::

    trn_isa.<name> [<mnemonic>] <slot>, <slot>, ... [{<props>}] on <queue>
        [wait [<sem> >= <value>, ...]] [signal [<sem>, ...]]

- `<mnemonic>`: the instruction's main operation when it has one (`gelu`, `add`, `ge`);
- `<slot>`: `keyword value`, where value is an access pattern (`#trn_isa.ap<...>`), an
  immediate (`1.0`, `-inf`), either of these, an integer, a value pattern
  (`[[1, 512]]`), or an ALU op followed by an immediate or pattern (`op0 mul 2.0`);
- `{<props>}`: the remaining properties (`accumulate`, `axes`, `negate`, `cast`);
- `<queue>`: `tensor`, `vector`, `scalar`, `gpsimd`, or `dma<q>` for DMA;
- semaphores are written `<owner>.s<index>` (`vector.s0`, `dma3.s1`); a signal adds 1
  to the semaphore when the instruction completes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any, ClassVar

from xdsl.dialects.builtin import ArrayAttr, Float64Type, FloatAttr, IntegerAttr, i64
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, Operation
from xdsl.irdl import IRDLOperation, prop_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import OpTrait
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.trn_isa.access_pattern import AccessPatternAttr
from trnc.dialects.trn_isa.attrs import (
    AluOp,
    AluOpAttr,
    EngineAttr,
    EngineKind,
    SemaphoreAttr,
    SemWaitAttr,
    ValuePatternAttr,
    format_dims,
    parse_dims,
    parse_semaphore,
)
from trnc.dialects.trn_isa.rules import (
    check_access_pattern,
    check_connectivity,
    check_engine,
    check_free_size,
    check_sync,
)
from trnc.machine import TRN1, Engine, MachineModel

f64 = Float64Type()

Mnemonic = tuple[str, type[EnumAttribute[Any]]] | None
"""The property printed right after an instruction's name, with its enum attribute."""


class SlotKind(Enum):
    """What value a syntax slot holds."""

    AP = auto()
    """An access pattern."""
    SCALAR = auto()
    """An immediate f64 or a [P, 1] access pattern."""
    FLOAT = auto()
    """An immediate f64."""
    INT = auto()
    """An i64 immediate."""
    PATTERN = auto()
    """A value pattern `[[step, count], ...]`."""
    ALU_SCALAR = auto()
    """An ALU op then an immediate or [P, 1] access pattern; two properties."""


@dataclass(frozen=True)
class Slot:
    """One `keyword value` item of an instruction's syntax."""

    keyword: str
    kind: SlotKind
    optional: bool = False
    write: bool = False
    """Whether an access pattern in this slot is written (else read)."""
    operand_prop: str | None = None
    """ALU_SCALAR only: the property holding the operand (the op goes in `keyword`)."""
    read: bool | None = None
    """Whether an access pattern in this slot is read; by default exactly when it is not
    written. True on a written slot whose old contents partly survive (the `dst` of
    `tensor_copy_predicated` keeps the elements the predicate skips), so that hazard
    tracking and `isa-insert-sync` see it as both read and written."""

    @property
    def is_read(self) -> bool:
        """Whether an access pattern in this slot is read (see `read`)."""
        return not self.write if self.read is None else self.read

    @property
    def props(self) -> tuple[str, ...]:
        """The properties this slot fills."""
        if self.operand_prop is None:
            return (self.keyword,)
        return (self.keyword, self.operand_prop)


@dataclass(frozen=True)
class InProgram(OpTrait):
    """The instruction lies directly in a `trn_isa.program`."""

    def verify(self, op: Operation) -> None:
        parent = op.parent_op()
        if parent is not None and parent.name != "trn_isa.program":
            raise VerifyException(
                f"placement rule: instructions live directly in trn_isa.program, "
                f"got parent {parent.name}"
            )


def print_immediate(printer: Printer, value: float) -> None:
    """Print an f64 immediate; infinities print as `inf` / `-inf`, NaN as `nan`."""
    if math.isnan(value):
        printer.print_string("nan")
    elif math.isinf(value):
        printer.print_string("inf" if value > 0 else "-inf")
    else:
        printer.print_float(value, f64)


def parse_optional_immediate(parser: Parser) -> float | None:
    """Parse an immediate number (int or float literal, `inf`, `-inf`, `nan`)."""
    if parser.parse_optional_keyword("inf") is not None:
        return math.inf
    if parser.parse_optional_keyword("nan") is not None:
        return math.nan
    if parser.parse_optional_punctuation("-") is not None:
        if parser.parse_optional_keyword("inf") is not None:
            return -math.inf
        return -float(parser.parse_number())
    value = parser.parse_optional_number()
    return None if value is None else float(value)


def _parse_ap(parser: Parser, what: str) -> AccessPatternAttr:
    pos = parser.pos
    attr = parser.parse_attribute()
    if not isinstance(attr, AccessPatternAttr):
        parser.raise_error(f"expected an access pattern #trn_isa.ap<...> for {what}", pos)
    return attr


def _parse_ap_or_immediate(parser: Parser, what: str) -> Attribute:
    value = parse_optional_immediate(parser)
    if value is not None:
        return FloatAttr(value, f64)
    return _parse_ap(parser, what)


def _print_ap_or_immediate(printer: Printer, attr: Attribute) -> None:
    if isinstance(attr, FloatAttr):
        print_immediate(printer, attr.value.data)
    else:
        printer.print_attribute(attr)


class InstructionOp(IRDLOperation):
    """Base of all instructions: semaphore waits and signals, common syntax and checks.

    Subclasses set `SLOTS` (syntax items in print order), optionally `MNEMONIC` (the
    property printed right after the op name, with its enum attribute class) and
    `ENGINES` (the engines that implement the instruction, trn1.md A.2), and implement
    `verify_instruction` for their own rules.
    """

    waits = prop_def(ArrayAttr[SemWaitAttr], default_value=ArrayAttr(()))
    """Conditions `sem >= value` that must all hold before the instruction issues."""
    signals = prop_def(ArrayAttr[SemaphoreAttr], default_value=ArrayAttr(()))
    """Semaphores incremented by 1 when the instruction completes."""

    SLOTS: ClassVar[tuple[Slot, ...]] = ()
    MNEMONIC: ClassVar[Mnemonic] = None
    ISSUER_PROPS: ClassVar[tuple[str, ...]] = ("engine",)
    ROWS_BOUND: ClassVar[tuple[str, ...]] = ()
    """HBM access patterns whose partition-mapped count only bounds run-time row indices
    (an indirect DMA's table): exempt from the uint16 count rule."""

    # --- queue ----------------------------------------------------------------------

    @property
    def machine_engine(self) -> Engine:
        """The `trnc.machine.Engine` that executes this instruction."""
        raise NotImplementedError

    @classmethod
    def parse_issuer(cls, parser: Parser) -> dict[str, Attribute]:
        """Parse what follows `on`; returns the issuer properties."""
        raise NotImplementedError

    def print_issuer(self, printer: Printer) -> None:
        """Print what follows `on`."""
        raise NotImplementedError

    # --- operands -------------------------------------------------------------------

    def _slot_aps(self, write: bool) -> list[tuple[str, AccessPatternAttr]]:
        result: list[tuple[str, AccessPatternAttr]] = []
        for slot in self.SLOTS:
            if not (slot.write if write else slot.is_read):
                continue
            for prop in slot.props:
                attr = self.properties.get(prop)
                if isinstance(attr, AccessPatternAttr):
                    result.append((prop, attr))
        return result

    def reads(self) -> list[tuple[str, AccessPatternAttr]]:
        """(name, access pattern) of every operand the instruction reads (a read-write
        operand such as `tensor_copy_predicated`'s `dst` is in both lists)."""
        return self._slot_aps(write=False)

    def writes(self) -> list[tuple[str, AccessPatternAttr]]:
        """(name, access pattern) of every operand the instruction writes."""
        return self._slot_aps(write=True)

    def access_patterns(self) -> list[tuple[str, AccessPatternAttr]]:
        """Every operand once, writes first."""
        written = self.writes()
        names = {name for name, _ in written}
        return written + [(name, ap) for name, ap in self.reads() if name not in names]

    # --- verification ---------------------------------------------------------------

    def verify_issuer(self, m: MachineModel) -> None:
        """Check the queue the instruction is issued to."""

    def verify_instruction(self, m: MachineModel) -> None:
        """Instruction-specific rules; called after the common ones."""

    def verify_(self) -> None:
        m = TRN1
        self.verify_issuer(m)
        check_sync(self.waits, self.signals, m)
        for name, ap in self.access_patterns():
            check_access_pattern(name, ap, m, rows_bound=name in self.ROWS_BOUND)
        self.verify_instruction(m)

    # --- syntax ---------------------------------------------------------------------

    @classmethod
    def _dict_props(cls) -> set[str]:
        names = set(cls.get_irdl_definition().properties)
        names -= {"waits", "signals", *cls.ISSUER_PROPS}
        if cls.MNEMONIC is not None:
            names.discard(cls.MNEMONIC[0])
        for slot in cls.SLOTS:
            names -= set(slot.props)
        return names

    @classmethod
    def _parse_slot(cls, parser: Parser, slot: Slot, props: dict[str, Attribute]) -> None:
        kind = slot.kind
        if kind is SlotKind.AP:
            props[slot.keyword] = _parse_ap(parser, slot.keyword)
        elif kind is SlotKind.SCALAR:
            props[slot.keyword] = _parse_ap_or_immediate(parser, slot.keyword)
        elif kind is SlotKind.FLOAT:
            pos = parser.pos
            value = parse_optional_immediate(parser)
            if value is None:
                parser.raise_error(f"expected an immediate number for {slot.keyword}", pos)
            props[slot.keyword] = FloatAttr(value, f64)
        elif kind is SlotKind.INT:
            props[slot.keyword] = IntegerAttr(parser.parse_integer(allow_boolean=False), i64)
        elif kind is SlotKind.PATTERN:
            props[slot.keyword] = ValuePatternAttr(parse_dims(parser))
        else:
            assert slot.operand_prop is not None
            props[slot.keyword] = AluOpAttr(parser.parse_str_enum(AluOp))
            props[slot.operand_prop] = _parse_ap_or_immediate(parser, slot.keyword)

    def _print_slot(self, printer: Printer, slot: Slot) -> None:
        attr = self.properties[slot.keyword]
        printer.print_string(slot.keyword + " ")
        kind = slot.kind
        if kind in (SlotKind.AP, SlotKind.SCALAR, SlotKind.FLOAT):
            _print_ap_or_immediate(printer, attr)
        elif kind is SlotKind.INT:
            assert isinstance(attr, IntegerAttr)
            printer.print_string(str(attr.value.data))
        elif kind is SlotKind.PATTERN:
            assert isinstance(attr, ValuePatternAttr)
            printer.print_string(format_dims(attr.dims))
        else:
            assert isinstance(attr, AluOpAttr) and slot.operand_prop is not None
            printer.print_string(attr.data.value + " ")
            _print_ap_or_immediate(printer, self.properties[slot.operand_prop])

    @classmethod
    def parse(cls, parser: Parser) -> InstructionOp:
        props: dict[str, Attribute] = {}
        if cls.MNEMONIC is not None:
            prop, enum_attr = cls.MNEMONIC
            props[prop] = enum_attr(parser.parse_str_enum(enum_attr.enum_type))
        by_keyword = {slot.keyword: slot for slot in cls.SLOTS}
        seen: set[str] = set()
        if cls.SLOTS:
            while True:
                pos = parser.pos
                keyword = parser.parse_keyword_in(
                    [k for k in by_keyword if k not in seen], f"in {cls.name}"
                )
                seen.add(keyword)
                cls._parse_slot(parser, by_keyword[keyword], props)
                if parser.parse_optional_punctuation(",") is None:
                    break
            missing = [s.keyword for s in cls.SLOTS if not s.optional and s.keyword not in seen]
            if missing:
                parser.raise_error(f"{cls.name} needs {', '.join(missing)}", pos)
        dict_props = cls._dict_props()
        pos = parser.pos
        extra = parser.parse_optional_attr_dict()
        for key, value in extra.items():
            if key not in dict_props:
                parser.raise_error(f"{cls.name} has no property '{key}'", pos)
            props[key] = value
        parser.parse_keyword("on")
        props.update(cls.parse_issuer(parser))
        if parser.parse_optional_keyword("wait") is not None:

            def wait() -> SemWaitAttr:
                sem = parse_semaphore(parser)
                parser.parse_punctuation(">")
                parser.parse_punctuation("=")
                return SemWaitAttr(sem, parser.parse_integer(allow_boolean=False))

            props["waits"] = ArrayAttr(
                parser.parse_comma_separated_list(parser.Delimiter.SQUARE, wait)
            )
        if parser.parse_optional_keyword("signal") is not None:
            props["signals"] = ArrayAttr(
                parser.parse_comma_separated_list(
                    parser.Delimiter.SQUARE, lambda: parse_semaphore(parser)
                )
            )
        attributes = parser.parse_optional_attr_dict_with_keyword()
        return cls.create(
            properties=props, attributes=dict(attributes.data) if attributes is not None else {}
        )

    def print(self, printer: Printer) -> None:
        if self.MNEMONIC is not None:
            attr = self.properties[self.MNEMONIC[0]]
            assert isinstance(attr, EnumAttribute)
            printer.print_string(" " + attr.data.value)
        items = [s for s in self.SLOTS if s.keyword in self.properties]
        for i, slot in enumerate(items):
            printer.print_string(", " if i else " ")
            self._print_slot(printer, slot)
        dict_props = {k: v for k, v in self.properties.items() if k in self._dict_props()}
        if dict_props:
            printer.print_string(" ")
            printer.print_attr_dict(dict_props)
        printer.print_string(" on ")
        self.print_issuer(printer)
        if self.waits.data:
            printer.print_string(" wait [" + ", ".join(str(w) for w in self.waits) + "]")
        if self.signals.data:
            printer.print_string(" signal [" + ", ".join(str(s) for s in self.signals) + "]")
        if self.attributes:
            printer.print_op_attributes(self.attributes, print_keyword=True)


def sync_props(
    waits: Sequence[SemWaitAttr] = (), signals: Sequence[SemaphoreAttr] = ()
) -> dict[str, Attribute]:
    """The `waits` and `signals` properties for a builder."""
    return {"waits": ArrayAttr(waits), "signals": ArrayAttr(signals)}


class ComputeOp(InstructionOp):
    """An instruction on a compute engine (`on tensor|vector|scalar|gpsimd`).

    Checks, in order: the engine implements the instruction (A.2), semaphore owners
    (A.4), each access pattern (A.1), engine-to-memory connectivity (A.1), the
    Vector/Scalar free-size limit (A.1), then the instruction's own rules.
    """

    engine = prop_def(EngineAttr)
    """The engine queue the instruction is issued to."""

    ENGINES: ClassVar[tuple[EngineKind, ...]] = ()

    @property
    def engine_kind(self) -> EngineKind:
        """The engine as an `EngineKind`."""
        return self.engine.data

    @property
    def machine_engine(self) -> Engine:
        return self.engine.data.machine

    @classmethod
    def parse_issuer(cls, parser: Parser) -> dict[str, Attribute]:
        return {"engine": EngineAttr(parser.parse_str_enum(EngineKind))}

    def print_issuer(self, printer: Printer) -> None:
        printer.print_string(self.engine.data.value)

    def init_props(
        self,
        engine: EngineKind,
        waits: Sequence[SemWaitAttr],
        signals: Sequence[SemaphoreAttr],
        props: Mapping[str, Attribute | None],
    ) -> None:
        """Initialise the instruction from its `props` (None entries are left out), the
        engine it is issued to and its semaphore waits and signals."""
        IRDLOperation.__init__(
            self,
            properties={
                **{k: v for k, v in props.items() if v is not None},
                "engine": EngineAttr(engine),
                **sync_props(waits, signals),
            },
        )

    def verify_issuer(self, m: MachineModel) -> None:
        check_engine(self.name, self.engine.data, self.ENGINES)

    def verify_instruction(self, m: MachineModel) -> None:
        check_connectivity(self.machine_engine, self.reads(), self.writes(), m)
        check_free_size(self.engine.data, self.access_patterns(), m)
        self.verify_compute(m)

    def verify_compute(self, m: MachineModel) -> None:
        """Instruction-specific rules."""


def ap_prop(attr: Attribute | None) -> AccessPatternAttr | None:
    """The access pattern in a scalar-or-pattern property, or None for an immediate."""
    return attr if isinstance(attr, AccessPatternAttr) else None
