"""The `!tile.buffer` type: a statically shaped buffer in one memory space.

    !tile.buffer<1024x768xbf16, hbm>
    !tile.buffer<128x512xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>
    !tile.buffer<128x512xf32, psum, #tile.layout<[d0, d1] -> part(d0) free(d1)>>

Parameters: the logical shape, the element type, the memory space (`hbm`, `sbuf`, `psum`)
and, for `sbuf` and `psum`, a `#tile.layout` (see `layout.py`). An `hbm` buffer is flat,
byte-addressed memory: it has no layout or the trivial row-major one.

Rules (checked when the type is built or parsed, each named in its message):
buffer shape rule, buffer layout rule (on-chip buffers need one), layout rank rule, layout
coverage rule, partition extent rule (<= `TRN1.partitions`), capacity rule (bytes per
partition <= the memory's), psum element type rule (f32 or i32), hbm layout rule;
buffer element type rule (the on-chip types of `trnc.dialects.isa_common`).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from xdsl.dialects.builtin import ArrayAttr, IntAttr, NoneAttr
from xdsl.ir import Attribute, ParametrizedAttribute, TypeAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.isa_common import (
    byte_size,
    element_bytes,
    is_psum_accumulator,
    supported_dtypes,
)
from trnc.dialects.tile.enums import MemorySpaceAttr
from trnc.dialects.tile.layout import LayoutAttr
from trnc.machine import TRN1, Memory


def _fmt_shape(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape))


@irdl_attr_definition
class BufferType(ParametrizedAttribute, TypeAttribute):
    """A buffer of `shape` elements of `element_type` in `memory`, laid out by `layout`."""

    name = "tile.buffer"

    shape: ArrayAttr[IntAttr]
    element_type: Attribute
    memory: MemorySpaceAttr
    layout: LayoutAttr | NoneAttr

    def __init__(
        self,
        shape: Sequence[int],
        element_type: Attribute,
        memory: Memory | MemorySpaceAttr,
        layout: LayoutAttr | None = None,
    ) -> None:
        super().__init__(
            ArrayAttr([IntAttr(s) for s in shape]),
            element_type,
            memory if isinstance(memory, MemorySpaceAttr) else MemorySpaceAttr(memory),
            NoneAttr() if layout is None else layout,
        )

    # --- accessors ----------------------------------------------------------------------
    def get_shape(self) -> tuple[int, ...]:
        """The logical shape."""
        return tuple(s.data for s in self.shape.data)

    @property
    def space(self) -> Memory:
        """The memory space as a `trnc.machine.Memory`."""
        return self.memory.data

    @property
    def rank(self) -> int:
        return len(self.shape.data)

    def num_elements(self) -> int:
        """Number of logical elements."""
        return prod(self.get_shape())

    def get_layout(self) -> LayoutAttr:
        """The layout; the row-major one for an `hbm` buffer without a layout."""
        return (
            self.layout if isinstance(self.layout, LayoutAttr) else LayoutAttr.row_major(self.rank)
        )

    def element_bytes(self) -> int:
        """Bytes of one element."""
        return byte_size(self.element_type)

    def partition_count(self) -> int:
        """Partitions the buffer occupies (1 for hbm)."""
        return self.get_layout().partition_count(self.get_shape())

    def free_count(self) -> int:
        """Free elements per partition of one unrolled tile."""
        return self.get_layout().free_count(self.get_shape())

    def unroll_count(self) -> int:
        """Number of separate tiles the layout's unroll axis makes."""
        return self.get_layout().unroll_count(self.get_shape())

    def elems_per_partition(self) -> int:
        """Elements stored in each partition (all unrolled tiles)."""
        return self.get_layout().elems_per_partition(self.get_shape())

    def bytes_per_partition(self) -> int:
        """Bytes stored in each partition (all unrolled tiles)."""
        return self.elems_per_partition() * self.element_bytes()

    def locate(self, index: Sequence[int]) -> tuple[int, int]:
        """`(partition, free offset in elements)` of the logical element at `index`."""
        return self.get_layout().locate(self.get_shape(), index)

    # --- verification -------------------------------------------------------------------
    def rule_error(self) -> str | None:
        """The first type rule this buffer breaks, or None."""
        shape = self.get_shape()
        if any(s <= 0 for s in shape):
            return f"buffer shape rule: dims must be positive, got {_fmt_shape(shape)}"
        if element_bytes(self.element_type) is None:
            return (
                f"buffer element type rule: expected one of {supported_dtypes()}, "
                f"got {self.element_type}"
            )
        memory = self.space
        layout = self.layout
        if memory is Memory.HBM:
            if isinstance(layout, LayoutAttr) and not layout.is_row_major():
                return (
                    "hbm layout rule: hbm buffers have no partition axis; the layout must be "
                    f"row-major or absent, got {layout}"
                )
            if isinstance(layout, LayoutAttr):
                return layout.shape_error(shape)
            return None
        if not isinstance(layout, LayoutAttr):
            return f"buffer layout rule: {memory.value} buffers need a #tile.layout"
        if (error := layout.shape_error(shape)) is not None:
            return error
        partitions = layout.partition_count(shape)
        if partitions > TRN1.partitions:
            return (
                f"partition extent rule: the layout puts {partitions} partitions, "
                f"at most {TRN1.partitions}"
            )
        if memory is Memory.PSUM and not is_psum_accumulator(self.element_type):
            return (
                "psum element type rule: psum buffers hold "
                f"{' or '.join(TRN1.psum_accumulator_dtypes)}, got {self.element_type}"
            )
        capacity = TRN1.memory_bytes_per_partition(memory)
        used = layout.bytes_per_partition(shape, self.element_type)
        if used > capacity:
            return f"capacity rule: {used} bytes per partition exceed {memory.value}'s {capacity}"
        return None

    def verify(self) -> None:
        if (error := self.rule_error()) is not None:
            raise VerifyException(error)

    # --- syntax -----------------------------------------------------------------------
    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        start = parser.pos
        with parser.in_angle_brackets():
            shape, element_type = parser.parse_ranked_shape()
            parser.parse_punctuation(",")
            memory = MemorySpaceAttr(MemorySpaceAttr.parse_parameter(parser))
            layout: Attribute = NoneAttr()
            if parser.parse_optional_punctuation(",") is not None:
                pos = parser.pos
                layout = parser.parse_attribute()
                if not isinstance(layout, LayoutAttr):
                    parser.raise_error(f"expected a #tile.layout, got {layout}", pos, parser.pos)
        if any(s < 0 for s in shape):
            parser.raise_error("buffer shape rule: dims must be static", start, parser.pos)
        params: list[Attribute] = [
            ArrayAttr([IntAttr(s) for s in shape]),
            element_type,
            memory,
            layout,
        ]
        # Report a broken rule at the type, as MLIR does for an invalid type.
        try:
            BufferType.new(params)
        except VerifyException as e:
            parser.raise_error(str(e), start, parser.pos)
        return params

    def print_parameters(self, printer: Printer) -> None:
        shape = self.get_shape()
        printer.print_string(f"<{_fmt_shape(shape)}x" if shape else "<")
        printer.print_attribute(self.element_type)
        printer.print_string(f", {self.space.value}")
        if isinstance(self.layout, LayoutAttr):
            printer.print_string(", ")
            printer.print_attribute(self.layout)
        printer.print_string(">")
