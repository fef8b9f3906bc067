"""The hardware rules of trn1.md A.1-A.4 as checking functions.

Each function checks one named rule and raises `VerifyException` with a message that
starts with the rule's name, then gives the offending values. The instruction verifiers
(`base.py`, `tensor_engine.py`, `elementwise.py`, `gpsimd.py`, `dma.py`) call them; every
number comes from `trnc.machine.TRN1`. The rules `tile` checks too (engine, connectivity,
free size, per-partition scalar, PSUM bank) are defined once in `trnc.dialects.isa_common`
and applied here to access patterns.
"""

from __future__ import annotations

from collections.abc import Iterable

from xdsl.utils.exceptions import VerifyException

from trnc.dialects import isa_common
from trnc.dialects.isa_common import element_bytes, is_psum_accumulator
from trnc.dialects.trn_isa.access_pattern import AccessPatternAttr
from trnc.dialects.trn_isa.attrs import EngineKind, MemoryKind, SemaphoreAttr, SemWaitAttr
from trnc.machine import TRN1, Engine, MachineModel


def check_access_pattern(
    name: str, ap: AccessPatternAttr, m: MachineModel = TRN1, *, rows_bound: bool = False
) -> None:
    """Rules every access pattern obeys on its own (A.1): dtype, free dims, step/count
    ranges, partition count and start, bounds and alignment. With `rows_bound` (an HBM
    table an indirect DMA indexes) the partition-mapped count is a bound on the run-time
    row indices, not an encoded count, so it may exceed `count_max`."""
    if element_bytes(ap.dtype) is None:
        raise VerifyException(f"dtype rule: {name} has unsupported element type {ap.dtype}")
    dims = ap.free_dims
    if len(dims) > m.max_free_dims:
        raise VerifyException(
            f"free-dim rule: {name} has {len(dims)} free dims, at most {m.max_free_dims}"
        )
    counts = [c for _, c in dims] + [ap.partitions]
    if rows_bound and ap.is_hbm and ap.partitions >= 1:
        counts.pop()
    for c in counts:
        if not 1 <= c <= m.count_max:
            raise VerifyException(
                f"count rule: {name} has count {c}, counts must be in [1, {m.count_max}] "
                "(uint16, non-empty)"
            )
    if ap.is_hbm:
        lo, hi = ap.byte_range()
        if lo < 0 or hi > m.hbm_bytes:
            raise VerifyException(
                f"hbm bounds rule: {name} touches bytes [{lo}, {hi}), outside [0, {m.hbm_bytes})"
            )
        return
    for step, _ in dims:
        if not m.step_min <= step <= m.step_max:
            raise VerifyException(
                f"step rule: {name} has step {step}, steps must fit int16 "
                f"[{m.step_min}, {m.step_max}]"
            )
    if ap.partitions > m.partitions:
        raise VerifyException(
            f"partition count rule: {name} spans {ap.partitions} partitions, at most {m.partitions}"
        )
    if error := m.start_partition_error(ap.start, ap.partitions):
        raise VerifyException(f"{error} ({name})")
    if ap.mem is MemoryKind.PSUM and not is_psum_accumulator(ap.dtype, m):
        raise VerifyException(
            f"psum dtype rule: {name} is {ap.dtype} in psum, which holds "
            f"{' or '.join(m.psum_accumulator_dtypes)}"
        )
    size = m.memory_bytes_per_partition(ap.mem.machine)
    lo, hi = ap.free_byte_range()
    if lo < 0 or hi > size:
        raise VerifyException(
            f"{ap.mem.value} bounds rule: {name} touches bytes [{lo}, {hi}) of each "
            f"partition, outside [0, {size})"
        )
    align = m.psum_alignment if ap.mem is MemoryKind.PSUM else m.sbuf_alignment
    if ap.offset.data % align:
        raise VerifyException(
            f"{ap.mem.value} alignment rule: {name} starts at byte {ap.offset.data}, "
            f"not a multiple of {align}"
        )


def check_connectivity(
    engine: Engine,
    reads: Iterable[tuple[str, AccessPatternAttr]],
    writes: Iterable[tuple[str, AccessPatternAttr]],
    m: MachineModel = TRN1,
) -> None:
    """A.1 engine-to-memory connectivity."""
    isa_common.check_connectivity(
        engine,
        [(name, ap.mem.machine) for name, ap in reads],
        [(name, ap.mem.machine) for name, ap in writes],
        m,
    )


def check_engine(op_name: str, engine: EngineKind, allowed: Iterable[EngineKind]) -> None:
    """A.2: the instruction runs on an engine that implements it."""
    isa_common.check_engine(op_name, engine, allowed)


def check_free_size(
    engine: EngineKind, operands: Iterable[tuple[str, AccessPatternAttr]], m: MachineModel = TRN1
) -> None:
    """A.1: free size per Vector/Scalar instruction (65,536 in SBUF, 4,096 in PSUM)."""
    for name, ap in operands:
        isa_common.check_free_size(engine.machine, name, ap.mem.machine, ap.free_elems, m)


def check_semaphore(sem: SemaphoreAttr, m: MachineModel = TRN1) -> None:
    """A.4: semaphores belong to an engine queue or to a DMA queue in range."""
    if sem.engine is not None:
        return
    queue = sem.dma_queue
    if queue is None:
        raise VerifyException(
            f"semaphore owner rule: {sem} is not owned by tensor, vector, scalar, gpsimd "
            f"or dma0..dma{m.dma_queues - 1}"
        )
    if not 0 <= queue < m.dma_queues:
        raise VerifyException(
            f"semaphore owner rule: {sem} names dma queue {queue}, queues are 0..{m.dma_queues - 1}"
        )


def check_sync(
    waits: Iterable[SemWaitAttr], signals: Iterable[SemaphoreAttr], m: MachineModel = TRN1
) -> None:
    """A.4: every waited-on and signalled semaphore has a valid owner."""
    for wait in waits:
        check_semaphore(wait.sem, m)
    for sem in signals:
        check_semaphore(sem, m)


def check_same_partitions(a: str, ap_a: AccessPatternAttr, b: str, ap_b: AccessPatternAttr) -> None:
    """Elementwise instructions keep the partition count."""
    if ap_a.partitions != ap_b.partitions:
        raise VerifyException(
            f"partition count mismatch: {a} spans {ap_a.partitions} partitions but {b} "
            f"spans {ap_b.partitions}"
        )


def check_same_elements(a: str, ap_a: AccessPatternAttr, b: str, ap_b: AccessPatternAttr) -> None:
    """Elementwise instructions keep the partition count and elements per partition."""
    check_same_partitions(a, ap_a, b, ap_b)
    if ap_a.free_elems != ap_b.free_elems:
        raise VerifyException(
            f"element count mismatch: {a} has {ap_a.free_elems} elements per partition but "
            f"{b} has {ap_b.free_elems}"
        )


def check_per_partition_scalar(name: str, ap: AccessPatternAttr, partitions: int) -> None:
    """A [P, 1] operand (scale, bias, operand, reduce output): one element per partition
    over the partitions of the instruction."""
    isa_common.check_per_partition_scalar(name, ap.partitions, ap.free_elems, partitions)


def check_psum_bank(name: str, ap: AccessPatternAttr, m: MachineModel = TRN1) -> None:
    """A.1: a matmul output lies inside one PSUM bank in every partition."""
    isa_common.check_psum_bank(name, *ap.free_byte_range(), m=m)
