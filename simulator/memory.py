"""The simulator's memories: HBM, SBUF and PSUM as byte arrays, read and written through
access patterns.

`Memory(program)` holds HBM as a flat `uint8` array of `program.hbm_bytes` and SBUF and
PSUM as `uint8` arrays `[partitions, bytes per partition]` (sizes from the machine model,
trn1.md A.1). `read(ap)` and `write(ap, values)` turn an `AP` into a typed numpy view of
those bytes with stride tricks (one `np.ndarray(buffer=..., strides=...)` per access, no
Python loop over elements): the view has the AP's dtype and shape `[partitions, *counts]`,
on chip with the partition stride of the memory, in HBM with `pstep` elements between the
rows of the partition-mapped dim; negative and zero steps work. Writes cast to the AP's
dtype: floats round to nearest-even (bf16 and fp8 as ml_dtypes does), float values written
to an integer dtype are rounded to nearest-even and saturated (NaN becomes 0), integer
values written to an integer dtype wrap.

Checks (trn1.md A.1, A.4): every access is bounds-checked (`OutOfBoundsError`); a bool mask
per memory records which bytes were ever written (`load_tensor` marks an HBM tensor), and
a read of never-written bytes is an `UninitializedReadError`, collected in `warnings` or
raised when `strict_uninitialized`; PSUM also records, per byte, whether a matmul or
transpose wrote it last, so that `check_accumulate` rejects a matmul accumulating onto
data another instruction wrote (`PsumAccumulateError`).

The geometry of each distinct AP is computed once and kept by the program
(`Program.cache`, for its later simulations too), so the per-access cost is a dictionary
lookup plus the numpy work.

Pending loads: a copy from HBM into SBUF (`copy`, as `dma_copy` does) is checked and
marked written at once, but its bytes are copied only when an access may touch them (a
read, a write or a check of overlapping SBUF bytes goes through `_plan`, which copies
such loads in first), when their HBM source is about to be written, or at `flush` (a
load into a pattern that names some byte twice is copied at once). A
matmul whose operand is exactly a pending load reads it from HBM (`operand`): a tile
loaded for matmuls alone is not copied at all.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from typing import Any

import numpy as np

from trnc.machine import TRN1, MachineModel
from trnc.simulator.errors import (
    OutOfBoundsError,
    PsumAccumulateError,
    UninitializedReadError,
)
from trnc.simulator.layout import describe, distinct, merge_runs
from trnc.simulator.program import AP, Instr, Program, Tensor

PSUM_NEVER, PSUM_MATMUL, PSUM_OTHER = 0, 1, 2
"""Values of `Memory.psum_writer`: which kind of instruction last wrote a PSUM byte."""
_MMAP_MIN = 1 << 20
"""Arrays of at least this many bytes get pages of their own (`_zeros`)."""
MAX_PENDING_LOADS = 32
"""Loads from HBM into SBUF left pending at most (the oldest is copied in beyond)."""
_PAD = 256
"""Bytes of padding after each SBUF/PSUM partition row (see `Memory.__init__`)."""


@dataclass(slots=True)
class _Plan:
    """The numpy geometry of one AP in its memory (computed once per distinct AP)."""

    buf: np.ndarray[Any, Any]
    mask: np.ndarray[Any, Any]
    offset: int
    """Byte offset of element 0 in `buf` (flattened)."""
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    initialized: bool
    """Known to be fully written (bytes never become unwritten, so this stays true)."""
    byte_shape: tuple[int, ...] = ()
    byte_strides: tuple[int, ...] = ()
    """The AP's bytes as a per-byte view, contiguous runs merged into one dimension (so a
    fill or test of a 2 KiB PSUM row is one memset, not 512 four-byte pieces)."""
    lo: int = 0
    hi: int = 0
    """The AP's byte range in its memory: flat HBM bytes, or bytes of each partition row."""
    matmul_epoch: int = -1
    """`Memory.psum_other_epoch` when a matmul last marked all of this AP's PSUM bytes
    `PSUM_MATMUL`: while the epoch is unchanged no byte has been marked otherwise since, so
    the accumulation check passes and re-marking is a no-op (both are skipped)."""


@dataclass(slots=True)
class _Load:
    """A copy from HBM into SBUF recorded but not yet made (`Memory.copy`)."""

    dst: AP
    src: AP
    plan: _Plan
    src_plan: _Plan


def _zeros(shape: tuple[int, ...], dtype: type) -> np.ndarray[Any, Any]:
    """Zeros in pages of their own (an anonymous `mmap`): the system zeroes a page when it
    is first touched, so memory a program never uses costs nothing. (`np.zeros` of tens of
    MiB can come from the C heap, which clears every byte up front.)"""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if size < _MMAP_MIN:
        return np.zeros(shape, dtype)
    return np.frombuffer(mmap.mmap(-1, size), dtype).reshape(shape)


def _who(instr: Instr | None) -> tuple[tuple[int, ...], tuple[str, ...]]:
    if instr is None:
        return (), ()
    return (instr.index,), (f"{instr.loc} [{instr.opcode} #{instr.index}]",)


class Memory:
    """HBM, SBUF and PSUM of one NeuronCore with written-byte tracking (see the module
    docstring)."""

    def __init__(
        self,
        program: Program,
        machine: MachineModel = TRN1,
        *,
        strict_uninitialized: bool = False,
    ) -> None:
        self.program = program
        self.machine = machine
        self.strict_uninitialized = strict_uninitialized
        p, sb, ps = (
            machine.partitions,
            machine.sbuf_bytes_per_partition,
            machine.psum_bytes_per_partition,
        )
        # Rows are padded by _PAD bytes: a partition stride that is a multiple of 4 KiB maps
        # every partition to the same cache set and makes numpy several times slower.
        self._sbuf_rows = _zeros((p, sb + _PAD), np.uint8)
        self._psum_rows = np.zeros((p, ps + _PAD), np.uint8)
        self._writer_rows = np.zeros((p, ps + _PAD), np.uint8)
        self.hbm = np.zeros(program.hbm_bytes, np.uint8)
        self._sbuf = self._sbuf_rows[:, :sb]
        self.psum = self._psum_rows[:, :ps]
        self.psum_writer = self._writer_rows[:, :ps]
        """Per PSUM byte: `PSUM_NEVER`, `PSUM_MATMUL` (matmul/transpose) or `PSUM_OTHER`."""
        self._sbuf_mask = _zeros((p, sb + _PAD), np.bool_)
        self.written: dict[str, np.ndarray[Any, Any]] = {
            "hbm": np.zeros(self.hbm.shape, np.bool_),
            "sbuf": self._sbuf_mask[:, :sb],
            "psum": self.psum_writer,
        }
        """Per memory, which bytes were ever written (nonzero = written; for PSUM this is
        `psum_writer`)."""
        self.warnings: list[UninitializedReadError] = []
        """Reads of never-written bytes, when not `strict_uninitialized` (one per
        instruction and access pattern)."""
        self._reported: set[tuple[AP, int | None]] = set()
        self._bufs = {"hbm": self.hbm, "sbuf": self._sbuf_rows, "psum": self._psum_rows}
        self._masks = {
            "hbm": self.written["hbm"],
            "sbuf": self._sbuf_mask,
            "psum": self._writer_rows,
        }
        self.psum_other_epoch = 0
        """How many PSUM writes by non-matmul instructions there have been (see
        `_Plan.matmul_epoch`)."""
        self._by_id: dict[int, tuple[AP, _Plan]] = {}
        kept = program.cache.setdefault(
            ("geometry", p, sb + _PAD, ps + _PAD, program.hbm_bytes), ({}, {}, [])
        )
        self._known: dict[int, tuple[AP, int]] = kept[0]
        """Per AP object (by `id`): the AP and its number (`_numbers`)."""
        self._numbers: dict[AP, int] = kept[1]
        """Per distinct AP (equal APs share one): its number."""
        self._geometries: list[tuple[Any, ...]] = kept[2]
        """Per number: the AP's geometry (offset, shape, strides, lo, hi). These three are
        kept by the program for its later simulations; each makes its own `_Plan`s from
        them (`_by_number`)."""
        self._by_number: dict[int, _Plan] = {}
        self._tensors = {t.name: t for t in program.tensors}
        self._loaded: list[tuple[int, int]] = []
        """HBM byte ranges `load_tensor` wrote whole."""
        self._lazy: list[_Load] = []
        """Loads from HBM into SBUF not yet copied, oldest first (see `copy`)."""

    @property
    def sbuf(self) -> np.ndarray[Any, Any]:
        """SBUF's bytes `[partitions, bytes]` (pending loads copied in first)."""
        self.flush()
        return self._sbuf

    # --- geometry ---------------------------------------------------------------------

    def _plan(self, ap: AP, instr: Instr | None) -> _Plan:
        """The AP's geometry, after copying in any pending load whose SBUF bytes it may
        touch (every access that reads or writes data goes through here)."""
        plan = self._geom(ap, instr)
        if self._lazy and ap.mem == "sbuf":
            self._complete_loads(ap, plan)
        return plan

    def _geom(self, ap: AP, instr: Instr | None) -> _Plan:
        # Fast path by identity: decoded instructions keep their AP objects, and hashing an
        # AP costs more than the rest of a small access. The entry holds `ap`, so its id
        # cannot be reused while cached.
        key = id(ap)
        entry = self._by_id.get(key)
        if entry is not None and entry[0] is ap:
            return entry[1]
        known = self._known.get(key)
        if known is not None and known[0] is ap:
            number = known[1]
        else:
            found_number = self._numbers.get(ap)
            if found_number is None:  # bounds are checked here (an error each time)
                plan = self._make_plan(ap, instr)
                found_number = self._numbers[ap] = len(self._geometries)
                self._geometries.append((plan.offset, plan.shape, plan.strides, plan.lo, plan.hi))
                self._by_number[found_number] = plan
            number = found_number
            self._known[key] = (ap, number)
        found = self._by_number.get(number)
        if found is None:
            offset, shape, strides, lo, hi = self._geometries[number]
            found = _Plan(self._bufs[ap.mem], self._masks[ap.mem], offset, shape, strides, False)
            found.lo, found.hi = lo, hi
            self._by_number[number] = found
        self._by_id[key] = (ap, found)
        return found

    def _make_plan(self, ap: AP, instr: Instr | None) -> _Plan:
        size = ap.itemsize
        steps = [s * size for s, _ in ap.dims]
        counts = [c for _, c in ap.dims]
        lo = sum(min(0, s * (c - 1)) for s, c in zip(steps, counts, strict=True))
        hi = sum(max(0, s * (c - 1)) for s, c in zip(steps, counts, strict=True)) + size
        if ap.mem == "hbm":
            pstride = ap.pstep * size
            lo += ap.offset + min(0, pstride * (ap.partitions - 1))
            hi += ap.offset + max(0, pstride * (ap.partitions - 1))
            limit, where = self.hbm.shape[0], f"the program's {self.hbm.shape[0]} bytes of HBM"
            bad = lo < 0 or hi > limit
            base = ap.offset
        else:
            buf = self._bufs.get(ap.mem)
            if buf is None:
                raise OutOfBoundsError(f"unknown memory {ap.mem!r}", *_who(instr))
            pstride = buf.shape[1]
            lo += ap.offset
            hi += ap.offset
            limit = pstride - _PAD
            where = f"{ap.mem}'s {limit} bytes per partition"
            end = ap.start + ap.partitions
            if ap.start < 0 or end > buf.shape[0]:
                raise OutOfBoundsError(
                    f"{describe(ap)} touches partitions [{ap.start}, {end}), "
                    f"{ap.mem} has {buf.shape[0]}",
                    *_who(instr),
                )
            bad = lo < 0 or hi > limit
            base = ap.start * pstride + ap.offset
        if bad:
            raise OutOfBoundsError(
                f"{describe(ap)} ({ap.dtype}) touches bytes [{lo}, {hi}), outside {where}",
                *_who(instr),
            )
        return _Plan(
            buf=self._bufs[ap.mem],
            mask=self._masks[ap.mem],
            offset=base,
            shape=(ap.partitions, *counts),
            strides=(pstride, *steps),
            initialized=False,
            lo=lo,
            hi=hi,
        )

    def view(self, ap: AP, instr: Instr | None = None) -> np.ndarray[Any, Any]:
        """A live, writable typed view of the AP's elements, shape `[partitions, *counts]`
        (bounds-checked; no initialization check)."""
        plan = self._plan(ap, instr)
        return np.ndarray(plan.shape, ap.np_dtype, plan.buf, plan.offset, plan.strides)

    def _byte_view(self, plan: _Plan, ap: AP, array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """The bytes of the AP's elements in a per-byte array shaped like the memory."""
        if not plan.byte_shape:
            plan.byte_shape, plan.byte_strides = merge_runs(
                (*plan.shape, ap.itemsize), (*plan.strides, 1)
            )
        return np.ndarray(plan.byte_shape, array.dtype, array, plan.offset, plan.byte_strides)

    # --- reads and writes -------------------------------------------------------------

    def check_initialized(self, ap: AP, instr: Instr | None = None) -> None:
        """Report a read of never-written bytes of `ap` (warning, or raise when strict)."""
        plan = self._plan(ap, instr)
        if not plan.initialized:
            self._check(plan, ap, instr)

    def _check(self, plan: _Plan, ap: AP, instr: Instr | None) -> None:
        if ap.mem == "hbm" and self._in_loaded(plan):
            plan.initialized = True  # inside a loaded tensor: no need to test each byte
            return
        mask = self._byte_view(plan, ap, plan.mask)
        if mask.all():
            plan.initialized = True
            return
        self._uninitialized(ap, instr, int(mask.size - np.count_nonzero(mask)), mask.size)

    def _in_loaded(self, plan: _Plan) -> bool:
        """Whether an HBM plan's bytes lie inside one tensor `load_tensor` wrote whole."""
        return any(lo <= plan.lo and plan.hi <= hi for lo, hi in self._loaded)

    def _uninitialized(self, ap: AP, instr: Instr | None, missing: int, total: int) -> None:
        """Report a read of `missing` never-written bytes among `total` bytes of `ap`."""
        key = (ap, None if instr is None else instr.index)
        if key in self._reported:
            return
        error = UninitializedReadError(
            f"{describe(ap)} ({ap.dtype}) reads {missing} of {total} bytes that were never written",
            *_who(instr),
        )
        if self.strict_uninitialized:
            raise error
        self._reported.add(key)
        self.warnings.append(error)

    def read(self, ap: AP, instr: Instr | None = None) -> np.ndarray[Any, Any]:
        """A copy of the AP's elements: dtype `ap.np_dtype`, shape `[partitions, *counts]`."""
        self.check_initialized(ap, instr)
        return self.view(ap, instr).copy()

    def gather_rows(
        self,
        table: AP,
        indices: np.ndarray[Any, Any],
        instr: Instr | None = None,
        first_partition: int = 0,
    ) -> np.ndarray[Any, Any]:
        """A copy of rows `indices` of `table` (`[rows, E]`, the partition-mapped dim the
        rows), for `dma_gather` (`indices[k]` from partition `first_partition + k`): an
        index outside `[0, rows)` is an `OutOfBoundsError`, and never-written bytes of the
        gathered rows (only) are reported."""
        view = self.view(table, instr)
        count = table.partitions
        idx = np.asarray(indices).astype(np.int64, copy=False).reshape(-1)
        bad = (idx < 0) | (idx >= count)
        if bad.any():
            k = int(np.argmax(bad))
            raise OutOfBoundsError(
                f"dma_gather index {int(idx[k])} (partition {first_partition + k}) is outside "
                f"the table's {count} rows, {describe(table)}",
                *_who(instr),
            )
        plan = self._plan(table, instr)
        if not plan.initialized and not (table.mem == "hbm" and self._in_loaded(plan)):
            size = table.itemsize
            mask = np.ndarray(
                (*plan.shape, size), plan.mask.dtype, plan.mask, plan.offset, (*plan.strides, 1)
            )[idx]
            written = int(np.count_nonzero(mask))
            if written < mask.size:
                self._uninitialized(table, instr, mask.size - written, mask.size)
        return view[idx]

    def read_as(
        self, ap: AP, dtype: np.dtype[Any] | type, instr: Instr | None = None
    ) -> np.ndarray[Any, Any]:
        """The AP's elements converted to `dtype`; may be a live view when no conversion is
        needed, so callers must not write to it or keep it across writes."""
        plan = self._plan(ap, instr)
        if not plan.initialized:
            self._check(plan, ap, instr)
        view = np.ndarray(plan.shape, ap.np_dtype, plan.buf, plan.offset, plan.strides)
        return view.astype(dtype, copy=False)

    def write(
        self,
        ap: AP,
        values: np.ndarray[Any, Any] | float | int,
        instr: Instr | None = None,
        *,
        by_matmul: bool = False,
    ) -> None:
        """Write `values` (an array with the AP's element count, or a scalar) cast to the
        AP's dtype (see the module docstring); `by_matmul` marks PSUM bytes as written by a
        matmul or transpose."""
        plan = self._plan(ap, instr)
        if ap.mem == "hbm":
            self._writing_hbm(plan.lo, plan.hi)
        view = np.ndarray(plan.shape, ap.np_dtype, plan.buf, plan.offset, plan.strides)
        arr = np.asarray(values)
        if arr.ndim and arr.shape != plan.shape:
            arr = arr.reshape(plan.shape)
        if ap.np_dtype.kind in "iu" and arr.dtype.kind not in "iub":
            arr = _saturate(arr, ap.np_dtype)
        np.copyto(view, arr, casting="unsafe")
        self.mark_written(ap, instr, by_matmul=by_matmul)

    def psum_f32_matrix(self, ap: AP, instr: Instr | None = None) -> np.ndarray[Any, Any] | None:
        """A live writable `[partitions, free]` fp32 view of a PSUM AP whose free
        dimensions flatten without a copy (None otherwise), for matmuls to write in place;
        the caller then calls `mark_written`."""
        plan = self._plan(ap, instr)
        if ap.mem != "psum" or ap.np_dtype != np.float32 or len(plan.shape) != 2:
            return None
        return np.ndarray(plan.shape, np.float32, plan.buf, plan.offset, plan.strides)

    def mark_written(self, ap: AP, instr: Instr | None = None, *, by_matmul: bool = False) -> None:
        """Record that every byte of `ap` was written (by a matmul or transpose, for PSUM,
        when `by_matmul`)."""
        plan = self._plan(ap, instr)
        if ap.mem == "psum":
            if not by_matmul:
                self._byte_view(plan, ap, plan.mask).fill(PSUM_OTHER)
                self.psum_other_epoch += 1
            elif plan.matmul_epoch != self.psum_other_epoch:
                self._byte_view(plan, ap, plan.mask).fill(PSUM_MATMUL)
                plan.matmul_epoch = self.psum_other_epoch
        elif not plan.initialized:
            self._byte_view(plan, ap, plan.mask).fill(True)
        plan.initialized = True

    def copy(self, dst: AP, src: AP, instr: Instr | None = None) -> None:
        """Copy the elements of `src` to `dst` bit-exactly (same dtype), in iteration
        order (numpy makes overlapping regions safe).

        A copy from HBM into SBUF is checked and recorded now but its bytes are copied
        only when something touches them (`_plan`) or writes its HBM source: a matmul
        reading exactly that SBUF AP takes its operand from HBM instead (`operand`), so a
        tile loaded for matmuls alone is never copied twice."""
        self.check_initialized(src, instr)
        if dst.mem == "sbuf" and src.mem == "hbm":
            self._defer_load(dst, src, instr)
            return
        self.write(dst, self.view(src, instr), instr)

    def _defer_load(self, dst: AP, src: AP, instr: Instr | None) -> None:
        plan = self._geom(dst, instr)
        if not distinct(plan.shape[1:], plan.strides[1:], dst.itemsize):
            # Some bytes are written twice (the last write stays): SBUF's bytes then differ
            # from the source's elements, so copy now (an operand is then read from SBUF).
            self.write(dst, self.view(src, instr), instr)
            return
        if self._lazy:  # a pending load into the very same AP is overwritten whole
            self._lazy = [
                load
                for load in self._lazy
                if load.dst.offset != dst.offset or (load.dst is not dst and load.dst != dst)
            ]
        self.mark_written(dst, instr)  # (and copies in pending loads it overlaps)
        self._lazy.append(_Load(dst, src, plan, self._geom(src, instr)))
        if len(self._lazy) > MAX_PENDING_LOADS:
            self._run_load(self._lazy.pop(0))

    def _complete_loads(self, ap: AP, plan: _Plan) -> None:
        """Copy in the pending loads whose SBUF bytes the access `ap` may touch (partition
        range and byte range per partition overlap)."""
        start, end = ap.start, ap.start + ap.partitions
        keep: list[_Load] = []
        for load in self._lazy:
            other = load.dst
            if (
                other.start < end
                and start < other.start + other.partitions
                and load.plan.lo < plan.hi
                and plan.lo < load.plan.hi
            ):
                self._run_load(load)
            else:
                keep.append(load)
        self._lazy = keep

    def _writing_hbm(self, lo: int, hi: int) -> None:
        """Before HBM bytes [lo, hi) are written: copy in the pending loads whose source
        they may change."""
        if self._lazy:
            keep: list[_Load] = []
            for load in self._lazy:
                if load.src_plan.lo < hi and lo < load.src_plan.hi:
                    self._run_load(load)
                else:
                    keep.append(load)
            self._lazy = keep

    def _run_load(self, load: _Load) -> None:
        dst, src = load.plan, load.src_plan
        view = np.ndarray(dst.shape, load.dst.np_dtype, dst.buf, dst.offset, dst.strides)
        values = np.ndarray(src.shape, load.src.np_dtype, src.buf, src.offset, src.strides)
        np.copyto(view, values.reshape(dst.shape), casting="unsafe")

    def flush(self) -> None:
        """Copy in every pending load (`copy`): SBUF's bytes are then all as written."""
        for load in self._lazy:
            self._run_load(load)
        self._lazy = []

    def operand(self, ap: AP, instr: Instr | None = None) -> np.ndarray[Any, Any]:
        """A matmul operand in its own dtype, `[partitions, free elements]`: a live view of
        the HBM bytes a pending load (`copy`) put in exactly `ap`, else `read_as` (also
        live where it can be). Callers must not write to it or keep it across writes."""
        for load in self._lazy:
            other = load.dst
            if other is ap or (other.offset == ap.offset and other == ap):
                src = load.src_plan
                merged = merge_runs(src.shape[1:], src.strides[1:])
                if len(merged[0]) == 1:  # the free dims are one strided run: a 2-D view
                    shape, strides = (src.shape[0], *merged[0]), (src.strides[0], *merged[1])
                    return np.ndarray(shape, ap.np_dtype, src.buf, src.offset, strides)
                values = np.ndarray(src.shape, ap.np_dtype, src.buf, src.offset, src.strides)
                return values.reshape(ap.partitions, -1)  # (a copy)
        return self.read_as(ap, ap.np_dtype, instr).reshape(ap.partitions, -1)

    def copy_where(
        self, dst: AP, src: AP, where: np.ndarray[Any, Any], instr: Instr | None = None
    ) -> None:
        """Copy the elements of `src` to `dst` bit-exactly (same dtype) where the bool array
        `where` (one entry per element, in iteration order) holds. The other elements of
        `dst` keep their bytes: they are read (a never-written one is an uninitialized
        read) and stay as written or unwritten as they were; only copied bytes are marked
        written (PSUM: by a non-matmul instruction)."""
        self.check_initialized(src, instr)
        plan = self._plan(dst, instr)
        if dst.mem == "hbm":
            self._writing_hbm(plan.lo, plan.hi)
        selected = np.asarray(where, np.bool_).reshape(plan.shape)
        values = self.view(src, instr).reshape(plan.shape)
        if selected.all():
            self.write(dst, values, instr)
            return
        values = values.copy()  # src may overlap dst
        byte_mask = np.ndarray(
            (*plan.shape, dst.itemsize),
            plan.mask.dtype,
            plan.mask,
            plan.offset,
            (*plan.strides, 1),
        )
        if not plan.initialized:
            kept = byte_mask[~selected]
            written = int(np.count_nonzero(kept))
            if written < kept.size:
                self._uninitialized(dst, instr, kept.size - written, kept.size)
        view = np.ndarray(plan.shape, dst.np_dtype, plan.buf, plan.offset, plan.strides)
        np.copyto(view, values, where=selected)
        if not selected.any():
            return
        if dst.mem == "psum":
            byte_mask[selected] = PSUM_OTHER
            self.psum_other_epoch += 1
        else:
            byte_mask[selected] = True

    def check_accumulate(self, ap: AP, instr: Instr | None = None) -> None:
        """The PSUM accumulation rule (A.1): raise `PsumAccumulateError` when some byte of
        `ap` was last written by an instruction other than a matmul or transpose."""
        plan = self._plan(ap, instr)
        if plan.matmul_epoch == self.psum_other_epoch:
            return
        writer = self._byte_view(plan, ap, plan.mask)
        if (writer == PSUM_OTHER).any():
            raise PsumAccumulateError(
                f"accumulating matmul onto {describe(ap)}, which holds data last written by "
                "a non-matmul instruction; start the group with accumulate = false",
                *_who(instr),
            )

    # --- HBM tensors ------------------------------------------------------------------

    def tensor(self, name: str) -> Tensor:
        """The HBM tensor table row of `name` (`KeyError` if there is none)."""
        try:
            return self._tensors[name]
        except KeyError:
            raise KeyError(f"no hbm tensor named {name!r} in program {self.program.name}") from None

    def _tensor_view(self, t: Tensor) -> np.ndarray[Any, Any]:
        count = t.nbytes // t.np_dtype.itemsize
        return np.ndarray((count,), t.np_dtype, self.hbm, t.address).reshape(t.shape)

    def load_tensor(self, name: str, array: np.ndarray[Any, Any] | Any) -> None:
        """Store `array` (cast to the tensor's dtype, same element count) into HBM tensor
        `name` and mark its bytes written."""
        t = self.tensor(name)
        arr = np.asarray(array)
        self._writing_hbm(t.address, t.address + t.nbytes)
        view = self._tensor_view(t)
        if arr.size != view.size:
            raise ValueError(
                f"tensor {name} has shape {t.shape} ({view.size} elements), got an array "
                f"of shape {arr.shape}"
            )
        if t.np_dtype.kind in "iu" and arr.dtype.kind not in "iub":
            arr = _saturate(arr, t.np_dtype)
        np.copyto(view, arr.reshape(view.shape), casting="unsafe")
        self.written["hbm"][t.address : t.address + t.nbytes] = True
        self._loaded.append((t.address, t.address + t.nbytes))

    def read_tensor(self, name: str) -> np.ndarray[Any, Any]:
        """A copy of HBM tensor `name` with its shape and dtype."""
        return self._tensor_view(self.tensor(name)).copy()


def _saturate(values: np.ndarray[Any, Any], dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
    """Float values rounded to nearest-even and clipped to the integer `dtype` (NaN -> 0)."""
    info = np.iinfo(dtype)
    out = np.rint(np.asarray(values, np.float64))
    np.nan_to_num(out, copy=False, nan=0.0, posinf=info.max, neginf=info.min)
    return np.clip(out, info.min, info.max).astype(dtype)
