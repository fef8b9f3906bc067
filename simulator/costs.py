"""Per-instruction costs of trn1.md A.2 and the DMA quantities of A.3.

Compute instructions: `cost_cycles` is the A.2 table in cycles of the engine that runs
the instruction, `cost_ns` converts with that engine's clock, `latency_ns` is the result
latency `L` (64 cycles on TensorE, 200 on the others) after the cost. `N` is the number of
elements per partition of the instruction's largest operand. Where a formula halves `N`
(`N/2`) the result is rounded up to whole cycles.

Which row applies is chosen by opcode, then engine:

- on GpSimdE, every instruction except tensor_scalar, tensor_copy and memset costs
  `150 + N` (iota, affine_select, and "other GpSimdE instructions", assumed);
- reciprocal costs `max(64, 8N)` on VectorE and `max(64, N)` elsewhere;
- tensor_tensor's fast case: one input in PSUM and the other in SBUF, or every operand
  bf16 in SBUF with op add/sub/mul and unit stride (the innermost non-trivial free dim of
  every operand has step 1);
- tensor_copy_predicated (trn1.md B.4, A.2 is silent): `max(64, N)` when one operand
  (dst, src or predicate) is in PSUM, `max(64, 2N)` when all are in SBUF.

DMA (`dma_*`): a transfer moves `max(src bytes, dst bytes)` (a cast reads and writes
different sizes), costs `256 B` more per descriptor, where descriptors are the maximal
runs contiguous on both sides (`dma_chunks`), and engages `min(16, ceil(P / 8))` DMA
engines of 27.2 GB/s each, P being the transfer's partition count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trnc.dialects.trn_isa.access_pattern import chunks_on_both_sides, run_elems
from trnc.machine import TRN1, Engine, MachineModel
from trnc.simulator.program import AP, QUEUE_NAMES, Instr

ENGINE_OF_QUEUE: tuple[Engine, ...] = (
    Engine.TENSOR,
    Engine.VECTOR,
    Engine.SCALAR,
    Engine.GPSIMD,
    *(Engine.DMA for _ in QUEUE_NAMES[4:]),
)
"""Queue id -> machine engine (program.py numbering)."""

_FAST_TT_OPS = frozenset({"add", "sub", "mul"})
_GPSIMD_ROW_OPS = frozenset({"tensor_scalar", "tensor_copy", "memset"})
_HALF_DTYPES = frozenset({"bf16", "f16"})


def largest_free(instr: Instr) -> int:
    """A.2's `N`: elements per partition of the instruction's largest operand."""
    n = 0
    for ap in instr.writes:
        n = max(n, ap.free_elems)
    for ap in instr.reads:
        n = max(n, ap.free_elems)
    return n


def _unit_stride(ap: AP) -> bool:
    for step, count in reversed(ap.dims):
        if count != 1:
            return step == 1
    return True


@dataclass(frozen=True)
class Operand:
    """What the fast cases of A.2 ask of an operand: its memory (`sbuf`, `psum`), element
    type name (`bf16`, `f32`, ...) and whether its innermost non-trivial free dim has step
    1."""

    mem: str
    dtype: str
    unit_stride: bool = True


def fast_case(
    opcode: str,
    reads: tuple[Operand, ...],
    writes: tuple[Operand, ...],
    alu_op: str | None = None,
    value: float | None = None,
) -> bool:
    """Whether the fast row of A.2 applies (see the module docstring and `Work`): the
    one rule, asked of an instruction by `cost_cycles` and of a tile op by the passes that
    choose engines. `reads` in operand order (tensor_tensor: lhs, rhs; tensor_reduce: src;
    tensor_copy_predicated: src, predicate)."""
    if opcode == "tensor_tensor":
        if {r.mem for r in reads[:2]} == {"psum", "sbuf"}:
            return True
        operands = (*reads, *writes)
        return (
            alu_op in _FAST_TT_OPS
            and all(o.dtype == "bf16" and o.mem == "sbuf" for o in operands)
            and all(o.unit_stride for o in operands)
        )
    if opcode == "tensor_copy_predicated":
        return any(o.mem == "psum" for o in (*reads, *writes))
    if opcode == "tensor_reduce":
        return bool(reads) and reads[0].dtype == "bf16" and alu_op in ("add", "max")
    if opcode == "memset":
        return value == 0.0 and bool(writes) and writes[0].dtype in _HALF_DTYPES
    return False


def _operand(ap: AP) -> Operand:
    return Operand(ap.mem, ap.dtype, _unit_stride(ap))


def matmul_cycles(
    stationary_free: int, moving_free: int, fp32: bool, machine: MachineModel = TRN1
) -> int:
    """A.2 cost in TensorE cycles of a matmul: the moving operand's columns (at least the
    stationary's, up to the initiation floor), times the fp32 factor."""
    cycles = max(min(machine.min_initiation_interval, stationary_free), moving_free)
    return cycles * machine.fp32_matmul_factor if fp32 else cycles


def transpose_cycles(partitions: int, free: int, machine: MachineModel = TRN1) -> int:
    """A.2 cost in TensorE cycles of a transpose of a [partitions, free] tile."""
    return max(partitions, min(machine.min_initiation_interval, free))


def cost_cycles(instr: Instr, machine: MachineModel = TRN1) -> int:
    """A.2 cost in cycles of the instruction's engine (compute instructions only)."""
    op = instr.opcode
    engine = ENGINE_OF_QUEUE[instr.queue]
    if engine is Engine.DMA:
        raise ValueError("DMA transfers have no cycle cost; see timing.py")
    if op == "matmul":
        stationary = instr.args["stationary"]
        moving = instr.args["moving"]
        fp32 = stationary.dtype == "f32" or moving.dtype == "f32"
        return matmul_cycles(stationary.free_elems, moving.free_elems, fp32, machine)
    if op == "transpose":
        src = instr.args["src"]
        return transpose_cycles(src.partitions, src.free_elems, machine)
    args = instr.args
    reads = {
        "tensor_tensor": ("lhs", "rhs"),
        "tensor_copy_predicated": ("src", "predicate"),
        "tensor_reduce": ("src",),
    }.get(op, ())
    fast = fast_case(
        op,
        tuple(_operand(args[k]) for k in reads),
        (_operand(args["dst"]),) if "dst" in args else (),
        args.get("op"),
        args.get("value"),
    )
    return work_cycles(Work(op, engine, largest_free(instr), fast, "accum" in args), machine)


@dataclass(frozen=True)
class Work:
    """What the A.2 cost of an instruction off TensorE depends on: its opcode, engine,
    `N`, whether its fast case applies (tensor_tensor: see the module docstring;
    tensor_copy_predicated: an operand in PSUM; tensor_reduce: bf16 add/max, `N/2`;
    memset: a zero fill of bf16/fp16, `N/2`) and whether an activation also reduces.
    `cost_cycles` builds it from an instruction; passes that choose engines build it from
    tile ops, so both use this one rule (`work_cycles`)."""

    opcode: str
    engine: Engine
    n: int
    fast: bool = False
    accum: bool = False


def work_cycles(work: Work, machine: MachineModel = TRN1) -> int:
    """A.2 cost in cycles of `work` (any instruction but matmul and transpose)."""
    floor = machine.min_initiation_interval
    op, n, engine = work.opcode, work.n, work.engine
    if engine is Engine.GPSIMD and op not in _GPSIMD_ROW_OPS:
        return machine.gpsimd_start_cycles + n
    if op == "activation":
        return max(floor, n) + (floor if work.accum else 0)
    if op in ("tensor_tensor", "tensor_copy_predicated"):
        return max(floor, n) if work.fast else max(floor, 2 * n)
    if op in ("tensor_reduce", "memset"):
        return max(floor, math.ceil(n / 2)) if work.fast else max(floor, n)
    if op == "reciprocal" and engine is Engine.VECTOR:
        return max(floor, 8 * n)
    if op in ("iota", "affine_select"):
        return machine.gpsimd_start_cycles + n
    # tensor_scalar, tensor_copy, reciprocal off VectorE and any other instruction.
    return max(floor, n)


def work_ns(work: Work, machine: MachineModel = TRN1) -> float:
    """`work_cycles` in ns of its engine's clock."""
    return work_cycles(work, machine) / machine.clock_ghz[work.engine]


def cost_ns(instr: Instr, machine: MachineModel = TRN1) -> float:
    """A.2 cost in ns: `cost_cycles / clock`."""
    return cost_cycles(instr, machine) / machine.clock_ghz[ENGINE_OF_QUEUE[instr.queue]]


def queue_latency_ns(queue: int, machine: MachineModel = TRN1) -> float:
    """A.2 result latency `L` in ns of a compute queue (64 cycles on TensorE, else 200)."""
    engine = ENGINE_OF_QUEUE[queue]
    cycles = (
        machine.tensor_latency_cycles if engine is Engine.TENSOR else machine.other_latency_cycles
    )
    return cycles / machine.clock_ghz[engine]


def latency_ns(instr: Instr, machine: MachineModel = TRN1) -> float:
    """A.2 result latency `L` in ns (compute instructions only)."""
    return queue_latency_ns(instr.queue, machine)


def matmul_flops(instr: Instr) -> int:
    """2 * K * M * N for a matmul (K partitions, M stationary free, N moving free); 0 for
    every other instruction (transposes are data movement)."""
    if instr.opcode != "matmul":
        return 0
    stationary = instr.args["stationary"]
    moving = instr.args["moving"]
    return 2 * stationary.partitions * stationary.free_elems * moving.free_elems


# --- DMA (A.3) ------------------------------------------------------------------------


def transfer_dims(ap: AP) -> tuple[tuple[int, int], ...]:
    """Byte-addressing dims in iteration order: for HBM the partition-mapped dim leads; on
    chip a chunk never crosses a partition, so only the free dims count."""
    if ap.mem == "hbm":
        return ((ap.pstep, ap.partitions), *ap.dims)
    return ap.dims


def chunk_elems(ap: AP) -> int:
    """Elements per contiguous chunk of one side of a transfer."""
    return run_elems(transfer_dims(ap))


def dma_chunks(dst: AP, src: AP) -> int:
    """Descriptors of a transfer: maximal element runs contiguous on both sides (a run
    breaks wherever either side breaks)."""
    return chunks_on_both_sides(dst.elems, chunk_elems(dst), chunk_elems(src))


def dma_payload_bytes(instr: Instr) -> int:
    """Bytes a transfer moves: the larger side (they differ only for a cast)."""
    return max(instr.args["dst"].nbytes, instr.args["src"].nbytes)


def dma_hbm_bytes(instr: Instr) -> int:
    """Bytes of HBM a transfer reads or writes."""
    return sum(ap.nbytes for ap in (instr.args["dst"], instr.args["src"]) if ap.mem == "hbm")


def dma_effective_bytes(instr: Instr, machine: MachineModel = TRN1) -> int:
    """Payload plus `dma_descriptor_overhead_bytes` per chunk (A.3)."""
    chunks = dma_chunks(instr.args["dst"], instr.args["src"])
    return dma_payload_bytes(instr) + chunks * machine.dma_descriptor_overhead_bytes


def dma_partitions(instr: Instr) -> int:
    """P of a transfer: the partitions of its on-chip side (of dst if both are)."""
    dst, src = instr.args["dst"], instr.args["src"]
    for ap in (dst, src):
        if ap.mem != "hbm":
            return int(ap.partitions)
    return int(dst.partitions)


def dma_engines(instr: Instr, machine: MachineModel = TRN1) -> int:
    """`min(16, ceil(P / 8))` DMA engines serve the transfer (A.3 property 3)."""
    return engines_for_partitions(dma_partitions(instr), machine)


def engines_for_partitions(partitions: int, machine: MachineModel = TRN1) -> int:
    """`min(16, ceil(P / 8))`: the DMA engines that serve a transfer over `partitions`
    partitions on chip (A.3 property 3)."""
    p = max(1, partitions)
    return min(machine.dma_engines, math.ceil(p / machine.dma_partitions_per_engine))


def dma_rate_cap(instr: Instr, machine: MachineModel = TRN1) -> float:
    """The transfer's own bandwidth limit in bytes per ns (= GB/s)."""
    return dma_engines(instr, machine) * machine.dma_engine_gbps


def dma_uses_hbm(instr: Instr) -> bool:
    """Whether the transfer consumes the shared HBM bandwidth (SBUF -> SBUF does not)."""
    return instr.args["dst"].mem == "hbm" or instr.args["src"].mem == "hbm"


@dataclass(frozen=True, slots=True)
class DmaInfo:
    """Everything the timing model needs of one transfer (A.3)."""

    effective_bytes: int
    rate_cap: float
    """Bytes per ns."""
    uses_hbm: bool
    payload_bytes: int
    hbm_bytes: int
    setup_ns: float = 0.0
    """Time from issue before the fixed latency starts: the descriptor generation of an
    indirect DMA (`dma_gather`), else 0."""


_DMA_CACHE: dict[tuple[object, ...], DmaInfo] = {}


def dma_gather_info(instr: Instr, machine: MachineModel = TRN1) -> DmaInfo:
    """`DmaInfo` of an indirect DMA (A.3): a transfer with one contiguous chunk per row of
    `dst` (P rows, each a table row), after `64 + 2 x P` GpSimdE cycles of descriptor
    generation. Run-time offsets are unknown statically; the row reads count as HBM
    bytes."""
    dst = instr.args["dst"]
    rows = int(dst.partitions)
    base, per_row = machine.dma_gather_dge_cycles
    engines = min(machine.dma_engines, math.ceil(max(1, rows) / machine.dma_partitions_per_engine))
    return DmaInfo(
        dst.nbytes + rows * machine.dma_descriptor_overhead_bytes,
        engines * machine.dma_engine_gbps,
        True,
        dst.nbytes,
        dst.nbytes,
        (base + per_row * rows) / machine.clock_ghz[Engine.GPSIMD],
    )


def dma_info(instr: Instr, machine: MachineModel = TRN1) -> DmaInfo:
    """`DmaInfo` of a transfer; cached on everything but the offsets, which no A.3
    quantity depends on."""
    if instr.opcode == "dma_gather":
        return dma_gather_info(instr, machine)
    args = instr.args
    dst, src = args["dst"], args["src"]
    key = (
        id(machine),
        dst.mem,
        dst.start,
        dst.partitions,
        dst.pstep,
        dst.dims,
        dst.itemsize,
        src.mem,
        src.start,
        src.partitions,
        src.pstep,
        src.dims,
        src.itemsize,
    )
    info = _DMA_CACHE.get(key)
    if info is None:
        if len(_DMA_CACHE) > 1 << 16:
            _DMA_CACHE.clear()
        info = _DMA_CACHE[key] = DmaInfo(
            dma_effective_bytes(instr, machine),
            dma_rate_cap(instr, machine),
            dma_uses_hbm(instr),
            dma_payload_bytes(instr),
            dma_hbm_bytes(instr),
        )
    return info
