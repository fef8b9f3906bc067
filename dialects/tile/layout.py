"""The `#tile.layout` attribute: how a logical tile is laid out on partitions.

An on-chip buffer (`sbuf` or `psum`) has 128 partitions (`TRN1.partitions`); each
instruction accesses a range of partitions and, in every partition, the same free-axis
access pattern. A layout maps the logical dims of a buffer onto three axes:

* `part(...)`: the dims (or dim parts) that lie on the **partition** axis, outermost first;
  their extents multiply to the number of partitions used;
* `free(...)`: the dims (or parts) that lie on the **free** axis of one instruction,
  outermost first (the last one is contiguous in a partition);
* `unroll(...)`: the dims (or parts) that are **unrolled across instructions**: each index
  of them is a separate tile (a separate instruction, a separate access pattern). In
  memory, unrolled tiles are stored one after another in each partition, outermost first,
  before the free axis.

A logical dim is either placed whole (`dN`) or split into parts, outermost first, declared
in the header as `dN : f0xf1x...`; its parts are named `dN.0` (outermost), `dN.1`, ... and
the factors must multiply to the dim's size. Every dim (or every part) is placed exactly once.

Syntax:

    #tile.layout<[d0, d1 : 6x128] -> part(d1.1) free(d1.0, d0)>
    #tile.layout<[d0 : 8x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>

The first is an activation `[S, H] = [512, 768]` with H on partitions: H is split as
6 x 128, the inner 128 are the partitions, and each partition holds the 6 outer H chunks
times all 512 tokens (one instruction covers the 6 x 512 free elements). The second is a
weight `[K, N] = [1024, 512]` split over K: the inner 128 of K are the partitions (the
contraction of TensorE), N is the free axis, and the 8 outer K chunks are 8 separate
`[128, 512]` tiles, one matmul each. Groups with no member are omitted (`unroll()` is
never printed); the trivial row-major layout of an HBM buffer is `[d0, d1] -> free(d0, d1)`.

Helpers (`partition_count`, `free_count`, `unroll_count`, `elems_per_partition`,
`bytes_per_partition`, `locate`) take the logical shape, because an unsplit dim's extent
comes from the buffer type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from math import prod

from xdsl.dialects.builtin import ArrayAttr, IntAttr
from xdsl.ir import Attribute, ParametrizedAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.isa_common import byte_size

_PART_RE = re.compile(r"d(\d+)(?:\.(\d+))?")

AXES = ("part", "free", "unroll")
"""The three axes of a layout, in their printed order."""


@dataclass(frozen=True, order=True)
class PartRef:
    """One placed piece of a logical dim: part `index` of dim `dim` (0 for an unsplit dim)."""

    dim: int
    index: int = 0


def _pairs(refs: Iterable[PartRef]) -> ArrayAttr[ArrayAttr[IntAttr]]:
    return ArrayAttr([ArrayAttr([IntAttr(r.dim), IntAttr(r.index)]) for r in refs])


@irdl_attr_definition
class LayoutAttr(ParametrizedAttribute):
    """Placement of a buffer's logical dims on the partition, free and unroll axes."""

    name = "tile.layout"

    splits: ArrayAttr[ArrayAttr[IntAttr]]
    """Per logical dim, its split factors outermost first; empty when the dim is whole."""
    partition: ArrayAttr[ArrayAttr[IntAttr]]
    """The `[dim, part]` pairs on the partition axis, outermost first."""
    free: ArrayAttr[ArrayAttr[IntAttr]]
    """The `[dim, part]` pairs on the free axis, outermost first."""
    unroll: ArrayAttr[ArrayAttr[IntAttr]]
    """The `[dim, part]` pairs unrolled across instructions, outermost first."""

    # --- construction -------------------------------------------------------------------
    @staticmethod
    def build(
        rank: int,
        part: Sequence[PartRef | int] = (),
        free: Sequence[PartRef | int] = (),
        unroll: Sequence[PartRef | int] = (),
        splits: Mapping[int, Sequence[int]] | None = None,
    ) -> LayoutAttr:
        """Build a layout; an `int` in an axis list stands for the whole dim `PartRef(d, 0)`.

        `LayoutAttr.build(2, part=[PartRef(0, 1)], free=[1], unroll=[PartRef(0, 0)],
        splits={0: (8, 128)})` is `[d0 : 8x128, d1] -> part(d0.1) free(d1) unroll(d0.0)`.
        """
        splits = splits or {}

        def refs(items: Sequence[PartRef | int]) -> list[PartRef]:
            return [i if isinstance(i, PartRef) else PartRef(i, 0) for i in items]

        return LayoutAttr(
            ArrayAttr([ArrayAttr([IntAttr(f) for f in splits.get(d, ())]) for d in range(rank)]),
            _pairs(refs(part)),
            _pairs(refs(free)),
            _pairs(refs(unroll)),
        )

    @staticmethod
    def row_major(rank: int) -> LayoutAttr:
        """The trivial layout `[d0, ..., dn] -> free(d0, ..., dn)` (used for HBM)."""
        return LayoutAttr.build(rank, free=list(range(rank)))

    @staticmethod
    def partition_major(rank: int) -> LayoutAttr:
        """Dim 0 on partitions, the other dims on the free axis in order (the NKI default)."""
        return LayoutAttr.build(rank, part=[0], free=list(range(1, rank)))

    # --- structure ----------------------------------------------------------------------
    @property
    def rank(self) -> int:
        """Number of logical dims."""
        return len(self.splits.data)

    def factors(self, dim: int) -> tuple[int, ...]:
        """Split factors of `dim`, outermost first; `()` when the dim is placed whole."""
        return tuple(f.data for f in self.splits.data[dim].data)

    def axis(self, name: str) -> tuple[PartRef, ...]:
        """The parts on axis `name` (`part`, `free` or `unroll`), outermost first."""
        attr = {"part": self.partition, "free": self.free, "unroll": self.unroll}[name]
        return tuple(PartRef(p.data[0].data, p.data[1].data) for p in attr.data)

    def all_parts(self) -> tuple[PartRef, ...]:
        """Every part a complete layout must place, in dim order."""
        return tuple(
            PartRef(d, i) for d in range(self.rank) for i in range(max(1, len(self.factors(d))))
        )

    def axis_of(self, dim: int) -> set[str]:
        """The axes on which some part of `dim` lies."""
        return {a for a in AXES for r in self.axis(a) if r.dim == dim}

    def dims_on(self, name: str) -> tuple[int, ...]:
        """Logical dims having a part on axis `name`, in first-appearance order."""
        return tuple(dict.fromkeys(r.dim for r in self.axis(name)))

    def part_name(self, ref: PartRef) -> str:
        """Printed name of a part: `d1` for a whole dim, `d1.0` for a split part."""
        return f"d{ref.dim}" if not self.factors(ref.dim) else f"d{ref.dim}.{ref.index}"

    def is_row_major(self) -> bool:
        """True for the trivial `[d0, ...] -> free(d0, ...)` layout."""
        return self == LayoutAttr.row_major(self.rank)

    def structure_error(self) -> str | None:
        """The first structural rule this layout breaks (shape-independent), or None."""
        for d in range(self.rank):
            if any(f <= 0 for f in self.factors(d)):
                return f"layout split rule: split factors of d{d} must be positive"
        placed: list[PartRef] = [r for a in AXES for r in self.axis(a)]
        valid = set(self.all_parts())
        for ref in placed:
            if ref not in valid:
                return (
                    f"layout coverage rule: d{ref.dim} has no part {ref.index} "
                    f"(the layout has {self.rank} dims)"
                )
            if placed.count(ref) > 1:
                return f"layout coverage rule: {self.part_name(ref)} is placed more than once"
        for ref in self.all_parts():
            if ref not in placed:
                return (
                    f"layout coverage rule: {self.part_name(ref)} is not placed on "
                    "part, free or unroll"
                )
        return None

    def shape_error(self, shape: Sequence[int]) -> str | None:
        """The first rule this layout breaks for a buffer of `shape`, or None."""
        if len(shape) != self.rank:
            return (
                f"layout rank rule: the layout has {self.rank} dims but the shape "
                f"{'x'.join(map(str, shape))} has {len(shape)}"
            )
        for d, size in enumerate(shape):
            factors = self.factors(d)
            if factors and prod(factors) != size:
                return (
                    f"layout coverage rule: d{d} has size {size} but its split factors "
                    f"{'x'.join(map(str, factors))} multiply to {prod(factors)}"
                )
        return None

    def verify(self) -> None:
        if (error := self.structure_error()) is not None:
            raise VerifyException(error)

    # --- sizes ------------------------------------------------------------------------
    def part_size(self, shape: Sequence[int], ref: PartRef) -> int:
        """Extent of one part for a buffer of `shape`."""
        factors = self.factors(ref.dim)
        return factors[ref.index] if factors else shape[ref.dim]

    def axis_sizes(self, shape: Sequence[int], name: str) -> tuple[int, ...]:
        """Extents of the parts on axis `name`, outermost first."""
        return tuple(self.part_size(shape, r) for r in self.axis(name))

    def partition_count(self, shape: Sequence[int]) -> int:
        """Partitions a buffer of `shape` occupies."""
        return prod(self.axis_sizes(shape, "part"))

    def free_count(self, shape: Sequence[int]) -> int:
        """Free elements per partition of one unrolled tile (one instruction's free size)."""
        return prod(self.axis_sizes(shape, "free"))

    def unroll_count(self, shape: Sequence[int]) -> int:
        """Number of separate tiles (instructions) the unroll axis makes."""
        return prod(self.axis_sizes(shape, "unroll"))

    def elems_per_partition(self, shape: Sequence[int]) -> int:
        """Elements stored in each partition: all unrolled tiles times the free size."""
        return self.unroll_count(shape) * self.free_count(shape)

    def bytes_per_partition(self, shape: Sequence[int], element_type: Attribute) -> int:
        """Bytes stored in each partition."""
        return self.elems_per_partition(shape) * byte_size(element_type)

    def partition_signature(self, shape: Sequence[int]) -> tuple[tuple[int, int, int], ...]:
        """`(dim, stride-in-dim, extent)` of each partition part: equal signatures mean two
        buffers of the same shape put every logical element on the same partition."""
        out: list[tuple[int, int, int]] = []
        for r in self.axis("part"):
            factors = self.factors(r.dim)
            inner = prod(factors[r.index + 1 :]) if factors else 1
            out.append((r.dim, inner, self.part_size(shape, r)))
        return tuple(out)

    # --- addressing -------------------------------------------------------------------
    def _coords(self, shape: Sequence[int], index: Sequence[int]) -> dict[PartRef, int]:
        if len(index) != self.rank:
            raise ValueError(f"index {tuple(index)} has rank {len(index)}, layout has {self.rank}")
        coords: dict[PartRef, int] = {}
        for d, x in enumerate(index):
            if not 0 <= x < shape[d]:
                raise ValueError(f"index {tuple(index)} is out of bounds of {tuple(shape)}")
            factors = self.factors(d) or (shape[d],)
            for i in reversed(range(len(factors))):
                coords[PartRef(d, i)] = x % factors[i]
                x //= factors[i]
        return coords

    def _linear(self, shape: Sequence[int], coords: Mapping[PartRef, int], name: str) -> int:
        linear = 0
        for r in self.axis(name):
            linear = linear * self.part_size(shape, r) + coords[r]
        return linear

    def locate(self, shape: Sequence[int], index: Sequence[int]) -> tuple[int, int]:
        """`(partition, free offset in elements)` of the logical element at `index`.

        The offset counts elements inside the partition: unrolled tiles come first (each
        `free_count` elements long), then the free axis, row-major, outermost first.
        """
        coords = self._coords(shape, index)
        partition = self._linear(shape, coords, "part")
        tile = self._linear(shape, coords, "unroll")
        return partition, tile * self.free_count(shape) + self._linear(shape, coords, "free")

    def unroll_index(self, shape: Sequence[int], index: Sequence[int]) -> int:
        """Which unrolled tile (instruction) holds the logical element at `index`."""
        return self._linear(shape, self._coords(shape, index), "unroll")

    # --- syntax -----------------------------------------------------------------------
    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        start = parser.pos
        with parser.in_angle_brackets():
            splits: list[list[int]] = []

            def parse_dim() -> None:
                pos = parser.pos
                word = parser.parse_identifier(" (a layout dim such as d0)")
                if word != f"d{len(splits)}":
                    parser.raise_error(
                        f"expected layout dim 'd{len(splits)}', got '{word}'", pos, parser.pos
                    )
                factors: list[int] = []
                if parser.parse_optional_punctuation(":") is not None:
                    factors = parser.parse_dimension_list()
                    if not factors:
                        parser.raise_error("expected split factors such as 8x128")
                splits.append(factors)

            parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parse_dim)
            parser.parse_punctuation("->")
            groups: dict[str, list[PartRef]] = {a: [] for a in AXES}
            seen: list[str] = []
            while (name := parser.parse_optional_keyword_in(AXES)) is not None:
                if seen and AXES.index(name) <= AXES.index(seen[-1]):
                    parser.raise_error(f"layout groups must appear in the order {', '.join(AXES)}")
                seen.append(name)

                def parse_ref() -> PartRef:
                    pos = parser.pos
                    word = parser.parse_identifier(" (a layout part such as d0 or d0.1)")
                    match = _PART_RE.fullmatch(word)
                    if match is None:
                        parser.raise_error(
                            f"expected a layout part such as d0 or d0.1, got '{word}'",
                            pos,
                            parser.pos,
                        )
                    dim, index = int(match.group(1)), match.group(2)
                    if dim >= len(splits):
                        parser.raise_error(f"layout has no dim d{dim}", pos, parser.pos)
                    if splits[dim] and index is None:
                        parser.raise_error(
                            f"d{dim} is split; name one of its parts d{dim}.0 .. "
                            f"d{dim}.{len(splits[dim]) - 1}",
                            pos,
                            parser.pos,
                        )
                    return PartRef(dim, int(index or 0))

                groups[name] = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parse_ref)
        try:
            layout = LayoutAttr.build(
                len(splits),
                groups["part"],
                groups["free"],
                groups["unroll"],
                dict(enumerate(splits)),
            )
        except VerifyException as e:
            # Report a broken rule at the attribute, as MLIR does.
            parser.raise_error(str(e), start, parser.pos)
        return [layout.splits, layout.partition, layout.free, layout.unroll]

    def print_parameters(self, printer: Printer) -> None:
        dims = []
        for d in range(self.rank):
            factors = self.factors(d)
            dims.append(f"d{d}" + (f" : {'x'.join(map(str, factors))}" if factors else ""))
        text = f"<[{', '.join(dims)}] ->"
        for name in AXES:
            refs = self.axis(name)
            if refs:
                text += f" {name}({', '.join(self.part_name(r) for r in refs)})"
        printer.print_string(text + ">")
