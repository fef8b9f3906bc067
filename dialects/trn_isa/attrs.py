"""Enumerations, semaphores and value patterns of the `trn_isa` dialect.

Defines:

- the enums an instruction names: engines (`EngineKind`), memories (`MemoryKind`),
  comparisons (`CompareOp`) and HBM tensor roles (`HbmRole`), and the `EnumAttribute`
  wrappers of these and of the ScalarE activation functions and ALU operations shared
  with `tile` (`ActivationFunc`, `AluOp` from `trnc.dialects.isa_common`), e.g.
  `#trn_isa<engine vector>` in generic form;
- `SemaphoreAttr` (`#trn_isa.sem<dma3.s0>`): one semaphore, named by its owner (an engine
  queue `tensor`/`vector`/`scalar`/`gpsimd` or a DMA queue `dma0`..`dma15`, trn1.md A.4)
  and its index on that owner;
- `SemWaitAttr` (`#trn_isa.wait<dma3.s0, 2>`): the condition `sem >= value`;
- `ValuePatternAttr` (`#trn_isa.pattern<[[1, 512]]>`): the (step, count) pairs of the
  affine value expression of `iota` and `affine_select`.

The hardware rules on these (valid owners, queue range) are checked by the verifiers of the
instructions that use them (see `rules.py`), so that errors name the instruction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import auto

from xdsl.dialects.builtin import ArrayAttr, IntAttr, StringAttr
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import ParametrizedAttribute, SpacedOpaqueSyntaxAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.str_enum import StrEnum

from trnc.dialects.isa_common import ActivationFunc, AluOp, format_dims, parse_dims
from trnc.machine import Engine, Memory

# --- enums ----------------------------------------------------------------------------


class EngineKind(StrEnum):
    """The compute engine an instruction runs on (trn1.md A.2)."""

    TENSOR = auto()
    VECTOR = auto()
    SCALAR = auto()
    GPSIMD = auto()

    @property
    def machine(self) -> Engine:
        """The `trnc.machine.Engine` of this engine."""
        return Engine(self.value)


class MemoryKind(StrEnum):
    """The memory an access pattern addresses (trn1.md A.1)."""

    HBM = auto()
    SBUF = auto()
    PSUM = auto()

    @property
    def machine(self) -> Memory:
        """The `trnc.machine.Memory` of this memory."""
        return Memory(self.value)


class CompareOp(StrEnum):
    """The comparison of `affine_select`: `cmp(affine(p, idx), 0)`."""

    EQ = auto()
    NE = auto()
    GE = auto()
    GT = auto()
    LE = auto()
    LT = auto()

    def holds(self, value: float) -> bool:
        """Whether `value <cmp> 0` holds."""
        return {
            CompareOp.EQ: value == 0,
            CompareOp.NE: value != 0,
            CompareOp.GE: value >= 0,
            CompareOp.GT: value > 0,
            CompareOp.LE: value <= 0,
            CompareOp.LT: value < 0,
        }[self]


class HbmRole(StrEnum):
    """What an HBM tensor of a program holds."""

    INPUT = auto()
    OUTPUT = auto()
    WEIGHT = auto()
    SCRATCH = auto()


@irdl_attr_definition
class EngineAttr(EnumAttribute[EngineKind], SpacedOpaqueSyntaxAttribute):
    """A compute engine: `#trn_isa<engine vector>`."""

    name = "trn_isa.engine"


@irdl_attr_definition
class MemoryAttr(EnumAttribute[MemoryKind], SpacedOpaqueSyntaxAttribute):
    """A memory: `#trn_isa<memory sbuf>`."""

    name = "trn_isa.memory"


@irdl_attr_definition
class ActivationFuncAttr(EnumAttribute[ActivationFunc], SpacedOpaqueSyntaxAttribute):
    """A ScalarE activation function: `#trn_isa<act gelu>`."""

    name = "trn_isa.act"


@irdl_attr_definition
class AluOpAttr(EnumAttribute[AluOp], SpacedOpaqueSyntaxAttribute):
    """An ALU operation: `#trn_isa<alu add>`."""

    name = "trn_isa.alu"


@irdl_attr_definition
class CompareOpAttr(EnumAttribute[CompareOp], SpacedOpaqueSyntaxAttribute):
    """A comparison against zero: `#trn_isa<cmp ge>`."""

    name = "trn_isa.cmp"


@irdl_attr_definition
class HbmRoleAttr(EnumAttribute[HbmRole], SpacedOpaqueSyntaxAttribute):
    """The role of an HBM tensor: `#trn_isa<role input>`."""

    name = "trn_isa.role"


# --- semaphores ----------------------------------------------------------------------

_SEM_RE = re.compile(r"^([a-z_]+?)(\d*)\.s(\d+)$")


@irdl_attr_definition
class SemaphoreAttr(ParametrizedAttribute):
    """One semaphore: `#trn_isa.sem<vector.s2>`, `#trn_isa.sem<dma3.s0>`.

    `owner` is the name of the owning queue: an engine (`tensor`, `vector`, `scalar`,
    `gpsimd`) or a DMA queue `dma<q>`; `index` numbers the semaphores of that owner. The
    owner is checked against the machine by the verifier of the instruction using it.
    """

    name = "trn_isa.sem"

    owner: StringAttr
    index: IntAttr

    def __init__(self, owner: str, index: int) -> None:
        super().__init__(StringAttr(owner), IntAttr(index))

    @property
    def owner_name(self) -> str:
        """The owner as written, e.g. `vector` or `dma3`."""
        return self.owner.data

    @property
    def dma_queue(self) -> int | None:
        """The DMA queue number when the owner is `dma<q>`, else None."""
        name = self.owner_name
        if name.startswith("dma") and name[3:].isdigit():
            return int(name[3:])
        return None

    @property
    def engine(self) -> EngineKind | None:
        """The owning engine when the owner is an engine, else None."""
        try:
            return EngineKind(self.owner_name)
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"{self.owner_name}.s{self.index.data}"

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_string(str(self))

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[StringAttr | IntAttr]:
        with parser.in_angle_brackets():
            sem = parse_semaphore(parser)
        return (sem.owner, sem.index)


def _match_semaphore(text: str) -> SemaphoreAttr | None:
    """The semaphore named `<owner>.s<index>` (e.g. `dma3.s0`), or None if `text` is not
    such a name."""
    match = _SEM_RE.match(text)
    if match is None:
        return None
    return SemaphoreAttr(match.group(1) + match.group(2), int(match.group(3)))


def sem(text: str) -> SemaphoreAttr:
    """Build a semaphore from its compact name, e.g. `sem("dma3.s0")`."""
    result = _match_semaphore(text)
    if result is None:
        raise ValueError(f"expected '<owner>.s<index>', got {text!r}")
    return result


def wait(text: str, value: int) -> SemWaitAttr:
    """Build the wait condition `text >= value`, e.g. `wait("dma3.s0", 2)`."""
    return SemWaitAttr(sem(text), value)


def parse_semaphore(parser: AttrParser) -> SemaphoreAttr:
    """Parse the compact semaphore syntax `<owner>.s<index>` (e.g. `dma3.s0`)."""
    pos = parser.pos
    ident = parser.parse_identifier("semaphore (e.g. vector.s0 or dma3.s1)")
    result = _match_semaphore(ident)
    if result is None:
        parser.raise_error(
            f"expected a semaphore '<owner>.s<index>' (e.g. vector.s0, dma3.s1), got '{ident}'",
            pos,
            parser.pos,
        )
    return result


@irdl_attr_definition
class SemWaitAttr(ParametrizedAttribute):
    """A wait condition `sem >= value`: `#trn_isa.wait<dma3.s0, 2>`.

    In instruction syntax it is written `dma3.s0 >= 2`.
    """

    name = "trn_isa.wait"

    sem: SemaphoreAttr
    value: IntAttr

    def __init__(self, sem: SemaphoreAttr, value: int) -> None:
        super().__init__(sem, IntAttr(value))

    def __str__(self) -> str:
        return f"{self.sem} >= {self.value.data}"

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_string(f"{self.sem}, {self.value.data}")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[SemaphoreAttr | IntAttr]:
        with parser.in_angle_brackets():
            sem = parse_semaphore(parser)
            parser.parse_punctuation(",")
            value = parser.parse_integer(allow_boolean=False)
        return (sem, IntAttr(value))


# --- value patterns ------------------------------------------------------------------


@irdl_attr_definition
class ValuePatternAttr(ParametrizedAttribute):
    """The free-index part of an affine value `sum_i idx_i * step_i`:
    `#trn_isa.pattern<[[1, 512]]>` (outermost first; counts give the index ranges)."""

    name = "trn_isa.pattern"

    steps: ArrayAttr[IntAttr]
    counts: ArrayAttr[IntAttr]

    def __init__(self, dims: Sequence[tuple[int, int]]) -> None:
        super().__init__(
            ArrayAttr(IntAttr(s) for s, _ in dims), ArrayAttr(IntAttr(c) for _, c in dims)
        )

    @property
    def dims(self) -> list[tuple[int, int]]:
        """The (step, count) pairs, outermost first."""
        return [(s.data, c.data) for s, c in zip(self.steps, self.counts, strict=True)]

    @property
    def num_elements(self) -> int:
        """The number of index tuples (product of the counts)."""
        n = 1
        for _, c in self.dims:
            n *= c
        return n

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_string(format_dims(self.dims))

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[ArrayAttr[IntAttr]]:
        with parser.in_angle_brackets():
            dims = parse_dims(parser)
        return (
            ArrayAttr(IntAttr(s) for s, _ in dims),
            ArrayAttr(IntAttr(c) for _, c in dims),
        )
