"""The access pattern attribute `#trn_isa.ap` and its geometry helpers.

An access pattern (trn1.md A.1) names the elements one operand of an instruction touches.

On-chip (SBUF, PSUM) syntax::

    #trn_isa.ap<sbuf[0:128] + 1024, [[1, 512]], bf16>
    #trn_isa.ap<psum[64:96] + 2048, [[512, 4], [1, 128]], f32>

- `sbuf[start:end]`: the partition range, half-open like a Python slice, so
  `sbuf[64:96]` is 32 partitions starting at partition 64;
- `+ offset`: the byte offset of element 0 inside every partition;
- `[[step, count], ...]`: up to 4 free dims, outermost first, step and count in elements;
  the same pattern is applied in every partition. `[]` means one element per partition;
- the element type (builtin: f32, bf16, f16, f8E4M3FN, f8E5M2, i32, i16, i8, ui8, ...;
  `trnc.dialects.isa_common.ELEMENT_BYTES` lists the supported ones).

HBM has no partitions. An HBM access pattern is written::

    #trn_isa.ap<hbm + 4096, [[768, 128], [1, 512]], f32>

where `+ 4096` is the byte address of element 0 and the **first** (step, count) pair is
the *partition-mapped dim*: a DMA between this pattern and an on-chip one maps its index
`i` in `[0, count)` onto partition `start + i` of the on-chip side, and `step` is the
distance in elements between consecutive rows in HBM. The remaining pairs (up to 4) are
the free dims, matched element by element with the on-chip side's free dims. For an
HBM-to-HBM copy the partition-mapped dim is simply the outermost dim.

Element `(p, i_1, ..., i_d)` lives at byte `offset + (p * partition_step + sum_k i_k *
step_k) * elem_bytes` (HBM, `p` counted from 0) or at byte `offset + sum_k i_k * step_k *
elem_bytes` of partition `start + p` (on chip).

Limits (checked by the instruction verifiers, `rules.py`): every count is in [1, 65535]
(uint16); there are at most 4 free dims (for HBM: besides the partition-mapped dim);
on-chip steps fit int16; HBM steps are not limited (they are DMA descriptor strides, not
engine access patterns).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects.builtin import ArrayAttr, IntAttr
from xdsl.ir import Attribute, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer

from trnc.dialects.isa_common import element_bytes
from trnc.dialects.trn_isa.attrs import MemoryAttr, MemoryKind, format_dims, parse_dims


def run_elems(dims: Sequence[tuple[int, int]]) -> int:
    """Length in elements of the maximal contiguous runs visited when iterating `dims`
    (outermost first) in order. All runs have this length."""
    run = 1
    for step, count in reversed(dims):
        if count == 1:
            continue
        if step != run:
            break
        run *= count
    return run


def chunks_on_both_sides(total: int, dst_run: int, src_run: int) -> int:
    """Descriptors of a transfer of `total` elements whose sides are contiguous in runs of
    `dst_run` and `src_run` elements: a chunk breaks wherever either side breaks."""
    if total == 0:
        return 0
    return total // dst_run + total // src_run - total // math.lcm(dst_run, src_run)


def _span(dims: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """(lowest, highest) element offset reached by `dims`, relative to element 0."""
    lo = sum(min(0, s * (c - 1)) for s, c in dims)
    hi = sum(max(0, s * (c - 1)) for s, c in dims)
    return lo, hi


@irdl_attr_definition
class AccessPatternAttr(ParametrizedAttribute):
    """An access pattern; see the module docstring for the syntax and the addressing."""

    name = "trn_isa.ap"

    memory: MemoryAttr
    partition_start: IntAttr
    """On chip: first partition. HBM: always 0."""
    partition_count: IntAttr
    """On chip: number of partitions. HBM: count of the partition-mapped dim."""
    partition_step: IntAttr
    """HBM: elements between consecutive partition-mapped rows. On chip: always 0."""
    offset: IntAttr
    """On chip: byte offset inside each partition. HBM: byte address of element 0."""
    steps: ArrayAttr[IntAttr]
    counts: ArrayAttr[IntAttr]
    dtype: TypeAttribute

    def __init__(
        self,
        memory: MemoryKind | str,
        partitions: tuple[int, int],
        offset: int,
        dims: Sequence[tuple[int, int]],
        dtype: TypeAttribute,
    ) -> None:
        """Build from python values.

        `partitions` is `(start, count)` on chip and `(step, count)` (the partition-mapped
        dim, step in elements) for HBM; `dims` are the free (step, count) pairs.
        """
        mem = MemoryKind(memory)
        if mem is MemoryKind.HBM:
            start, step = 0, partitions[0]
        else:
            start, step = partitions[0], 0
        super().__init__(
            MemoryAttr(mem),
            IntAttr(start),
            IntAttr(partitions[1]),
            IntAttr(step),
            IntAttr(offset),
            ArrayAttr(IntAttr(s) for s, _ in dims),
            ArrayAttr(IntAttr(c) for _, c in dims),
            dtype,
        )

    @staticmethod
    def on_chip(
        memory: MemoryKind | str,
        start: int,
        count: int,
        offset: int,
        dims: Sequence[tuple[int, int]],
        dtype: TypeAttribute,
    ) -> AccessPatternAttr:
        """An SBUF or PSUM pattern over partitions [start, start + count)."""
        return AccessPatternAttr(memory, (start, count), offset, dims, dtype)

    @staticmethod
    def hbm(
        address: int,
        partition_dim: tuple[int, int],
        dims: Sequence[tuple[int, int]],
        dtype: TypeAttribute,
    ) -> AccessPatternAttr:
        """An HBM pattern at byte `address` with partition-mapped dim (step, count)."""
        return AccessPatternAttr(MemoryKind.HBM, partition_dim, address, dims, dtype)

    # --- accessors -------------------------------------------------------------------

    @property
    def mem(self) -> MemoryKind:
        """The memory addressed."""
        return self.memory.data

    @property
    def is_hbm(self) -> bool:
        """Whether this is an HBM pattern."""
        return self.mem is MemoryKind.HBM

    @property
    def partitions(self) -> int:
        """Number of partitions (on chip) or rows of the partition-mapped dim (HBM)."""
        return self.partition_count.data

    @property
    def start(self) -> int:
        """First partition (0 for HBM)."""
        return self.partition_start.data

    @property
    def free_dims(self) -> list[tuple[int, int]]:
        """The free (step, count) pairs in elements, outermost first."""
        return [(s.data, c.data) for s, c in zip(self.steps, self.counts, strict=True)]

    @property
    def elem_bytes(self) -> int:
        """Bytes per element (0 for an unsupported dtype, which the verifiers reject)."""
        return element_bytes(self.dtype) or 0

    @property
    def free_elems(self) -> int:
        """Elements per partition (product of the free counts)."""
        return math.prod(c for _, c in self.free_dims)

    @property
    def total_elems(self) -> int:
        """Elements over all partitions."""
        return self.partitions * self.free_elems

    @property
    def total_bytes(self) -> int:
        """Bytes moved over all partitions."""
        return self.total_elems * self.elem_bytes

    def free_byte_range(self) -> tuple[int, int]:
        """Half-open byte range `[lo, hi)` touched inside one partition (on chip), or by
        partition-mapped row 0 (HBM). Includes gaps left by strides."""
        lo, hi = _span(self.free_dims)
        eb = self.elem_bytes
        return self.offset.data + lo * eb, self.offset.data + (hi + 1) * eb

    def partition_byte_range(self, p: int) -> tuple[int, int]:
        """Half-open byte range touched for partition index `p` in `[0, partitions)`.

        On chip this is the same range for every partition (offsets are inside the
        partition `start + p`); for HBM it is the absolute byte range of row `p`.
        """
        lo, hi = self.free_byte_range()
        shift = p * self.partition_step.data * self.elem_bytes
        return lo + shift, hi + shift

    def byte_range(self) -> tuple[int, int]:
        """Half-open byte range touched: per partition on chip, absolute for HBM."""
        lo, hi = self.free_byte_range()
        plo, phi = _span([(self.partition_step.data, self.partitions)])
        eb = self.elem_bytes
        return lo + plo * eb, hi + phi * eb

    def transfer_dims(self) -> list[tuple[int, int]]:
        """All dims in iteration order (outermost first), including the HBM
        partition-mapped dim; on chip the partition dim is not a memory dim."""
        if self.is_hbm:
            return [(self.partition_step.data, self.partitions), *self.free_dims]
        return self.free_dims

    def chunk_elems(self) -> int:
        """Elements in each contiguous chunk of the pattern.

        On chip a chunk never crosses a partition; in HBM consecutive rows of the
        partition-mapped dim merge when they are adjacent.
        """
        return run_elems(self.transfer_dims())

    def chunk_bytes(self) -> int:
        """Bytes in each contiguous chunk."""
        return self.chunk_elems() * self.elem_bytes

    def num_chunks(self) -> int:
        """Number of contiguous chunks over the whole pattern (all partitions)."""
        return self.total_elems // self.chunk_elems()

    def is_contiguous(self) -> bool:
        """Whether each partition's (for HBM: the whole pattern's) elements form one
        contiguous byte range in iteration order."""
        whole = self.total_elems if self.is_hbm else self.free_elems
        return self.chunk_elems() == whole

    # --- syntax ----------------------------------------------------------------------

    def __str__(self) -> str:
        if self.is_hbm:
            head = "hbm"
            dims = [(self.partition_step.data, self.partitions), *self.free_dims]
        else:
            head = f"{self.mem.value}[{self.start}:{self.start + self.partitions}]"
            dims = self.free_dims
        return f"{head} + {self.offset.data}, {format_dims(dims)}"

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_string(str(self) + ", ")
            printer.print_attribute(self.dtype)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            mem = parser.parse_str_enum(MemoryKind)
            start, count, pstep = 0, 0, 0
            if mem is not MemoryKind.HBM:
                parser.parse_punctuation("[")
                start = parser.parse_integer(allow_boolean=False, allow_negative=False)
                parser.parse_punctuation(":")
                pos = parser.pos
                end = parser.parse_integer(allow_boolean=False, allow_negative=False)
                if end < start:
                    parser.raise_error(
                        f"partition range [{start}:{end}] ends before it starts", pos
                    )
                count = end - start
                parser.parse_punctuation("]")
            offset = 0
            if parser.parse_optional_punctuation("+") is not None:
                offset = parser.parse_integer(allow_boolean=False)
            parser.parse_punctuation(",")
            pos = parser.pos
            dims = parse_dims(parser)
            if mem is MemoryKind.HBM:
                if not dims:
                    parser.raise_error(
                        "an hbm access pattern needs its partition-mapped dim as the first "
                        "(step, count) pair",
                        pos,
                    )
                (pstep, count), dims = dims[0], dims[1:]
            parser.parse_punctuation(",")
            dtype = parser.parse_type()
        return (
            MemoryAttr(mem),
            IntAttr(start),
            IntAttr(count),
            IntAttr(pstep),
            IntAttr(offset),
            ArrayAttr(IntAttr(s) for s, _ in dims),
            ArrayAttr(IntAttr(c) for _, c in dims),
            dtype,
        )


@dataclass(frozen=True)
class DmaChunks:
    """How a DMA transfer splits into descriptors (trn1.md A.3)."""

    count: int
    """Number of chunks that are contiguous on both sides."""
    elems: int
    """Elements moved in total."""

    def bytes_per_chunk(self, elem_bytes: int) -> float:
        """Average chunk size in bytes for elements of `elem_bytes` bytes."""
        return self.elems * elem_bytes / self.count


def dma_chunks(dst: AccessPatternAttr, src: AccessPatternAttr) -> DmaChunks:
    """The chunks of a DMA from `src` to `dst`: maximal element runs that are contiguous
    on both sides (a run breaks wherever either side breaks). Both sides must have the
    same number of elements."""
    total = dst.total_elems
    count = chunks_on_both_sides(total, dst.chunk_elems(), src.chunk_elems())
    return DmaChunks(count=count, elems=total)
