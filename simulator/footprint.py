"""The bytes an access pattern touches, and exact overlap between two of them.

A `Footprint` is the set of bytes of one decoded `AP` (program.py): on chip, the
partition range `[plo, phi)` times the same set of free bytes in every partition; in HBM
(no partitions) `plo, phi = 0, 1` and the free bytes are absolute addresses reached by the
partition-mapped dim and the free dims together. The set of free bytes is kept as its
bounding box `[lo, hi)` plus, for strided patterns, the sorted disjoint contiguous runs
(computed lazily and cached), so that two interleaved strided accesses whose bounding
boxes overlap but whose bytes do not are correctly reported disjoint.

Used by the timing model (same-engine read-after-write stalls, trn1.md A.2) and the race
checker (A.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from trnc.dialects.trn_isa.access_pattern import run_elems
from trnc.simulator.program import AP, Instr

MEM_IDS: dict[str, int] = {"hbm": 0, "sbuf": 1, "psum": 2}
"""Memory name -> small integer id."""
MEM_NAMES: tuple[str, ...] = ("hbm", "sbuf", "psum")

Runs = tuple[np.ndarray, np.ndarray]
"""(starts, ends) of sorted, disjoint, non-adjacent half-open byte runs."""


def _normal_dims(dims: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    return tuple((s, c) for s, c in dims if c != 1)


@lru_cache(maxsize=1 << 14)
def byte_runs(offset: int, dims: tuple[tuple[int, int], ...], itemsize: int) -> Runs:
    """The contiguous byte runs touched by `dims` (elements) from byte `offset`."""
    norm = _normal_dims(dims)
    if any(c == 0 for _, c in norm):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    run = 1
    k = len(norm)
    while k > 0 and norm[k - 1][0] == run:
        run *= norm[k - 1][1]
        k -= 1
    starts = np.array([offset], dtype=np.int64)
    for step, count in norm[:k]:
        starts = (starts[:, None] + np.arange(count, dtype=np.int64) * (step * itemsize)).ravel()
    length = run * itemsize
    starts = np.unique(starts)
    ends = starts + length
    if len(starts) > 1:
        breaks = np.nonzero(starts[1:] > ends[:-1])[0] + 1
        first = np.concatenate(([0], breaks))
        last = np.concatenate((breaks - 1, [len(starts) - 1]))
        return starts[first], ends[last]
    return starts, ends


@dataclass(frozen=True, slots=True)
class Footprint:
    """The bytes of one access pattern; see the module docstring."""

    mem: int
    """`MEM_IDS` value."""
    plo: int
    phi: int
    lo: int
    """Bounding box of the free bytes, half-open."""
    hi: int
    dense: bool
    """Whether every byte of `[lo, hi)` is touched (then the box is exact)."""
    offset: int
    dims: tuple[tuple[int, int], ...]
    """All byte-addressing dims (for HBM including the partition-mapped dim)."""
    itemsize: int

    def runs(self) -> Runs:
        return byte_runs(self.offset, self.dims, self.itemsize)


@lru_cache(maxsize=1 << 16)
def footprint(ap: AP) -> Footprint:
    """The footprint of `ap` (cached: decoded APs are immutable and hashable)."""
    if ap.mem == "hbm":
        dims = ((ap.pstep, ap.partitions), *ap.dims)
        plo, phi = 0, 1
    else:
        dims = ap.dims
        plo, phi = ap.start, ap.start + ap.partitions
    norm = _normal_dims(dims)
    size = ap.itemsize
    if any(c == 0 for _, c in norm) or phi <= plo:
        return Footprint(MEM_IDS[ap.mem], plo, plo, ap.offset, ap.offset, True, ap.offset, (), 1)
    lo = ap.offset + sum(min(0, s * (c - 1)) for s, c in norm) * size
    hi = ap.offset + sum(max(0, s * (c - 1)) for s, c in norm) * size + size
    elems = 1
    for _, c in norm:
        elems *= c
    dense = run_elems(norm) == elems
    if not dense:
        starts, _ = byte_runs(ap.offset, norm, size)
        dense = len(starts) == 1
    return Footprint(MEM_IDS[ap.mem], plo, phi, lo, hi, dense, ap.offset, norm, size)


def accesses(instr: Instr) -> tuple[tuple[Footprint, bool], ...]:
    """`instr.accesses`: (footprint, is_write) of its writes, then its reads, leaving out
    those that touch no byte (computed once, then kept on the instruction)."""
    found = instr.accesses
    if found is None:
        pairs = [(footprint(ap), True) for ap in instr.writes]
        pairs.extend((footprint(ap), False) for ap in instr.reads)
        found = tuple((fp, w) for fp, w in pairs if fp.hi > fp.lo and fp.phi > fp.plo)
        instr.accesses = found
    return found


def overlap(a: Footprint, b: Footprint) -> tuple[int, int, int, int] | None:
    """`(plo, phi, lo, hi)`: the common partitions and the first common byte run of two
    footprints, or None when they share no byte."""
    if a.mem != b.mem:
        return None
    plo = max(a.plo, b.plo)
    phi = min(a.phi, b.phi)
    if plo >= phi:
        return None
    lo = max(a.lo, b.lo)
    hi = min(a.hi, b.hi)
    if lo >= hi:
        return None
    if a.dense and b.dense:
        return plo, phi, lo, hi
    if a.dense:
        return _runs_vs_box(b.runs(), lo, hi, plo, phi)
    if b.dense:
        return _runs_vs_box(a.runs(), lo, hi, plo, phi)
    a_lo, a_hi = a.runs()
    b_lo, b_hi = b.runs()
    if len(a_lo) > len(b_lo):
        a_lo, a_hi, b_lo, b_hi = b_lo, b_hi, a_lo, a_hi
    # For each run of a, the first run of b ending after its start.
    idx = np.searchsorted(b_hi, a_lo, side="right")
    valid = idx < len(b_lo)
    clipped = np.minimum(idx, len(b_lo) - 1)
    hit = valid & (b_lo[clipped] < a_hi)
    found = np.nonzero(hit)[0]
    if len(found) == 0:
        return None
    k = int(found[0])
    j = int(clipped[k])
    return plo, phi, int(max(a_lo[k], b_lo[j])), int(min(a_hi[k], b_hi[j]))


def _runs_vs_box(
    runs: Runs, lo: int, hi: int, plo: int, phi: int
) -> tuple[int, int, int, int] | None:
    starts, ends = runs
    k = int(np.searchsorted(ends, lo, side="right"))
    if k < len(starts) and int(starts[k]) < hi:
        return plo, phi, max(int(starts[k]), lo), min(int(ends[k]), hi)
    return None


def describe(mem: int, plo: int, phi: int, lo: int, hi: int) -> str:
    """Human-readable bytes, e.g. `sbuf partitions [0, 128) bytes [0, 512)`."""
    if mem == MEM_IDS["hbm"]:
        return f"hbm bytes [{lo}, {hi})"
    return f"{MEM_NAMES[mem]} partitions [{plo}, {phi}) bytes [{lo}, {hi})"
