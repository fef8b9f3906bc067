"""The trn1 (NeuronCore-v2) machine description: every hardware number trnc uses.

This module is the single place where hardware numbers live. The verifiers of the
`tile` and `trn_isa` dialects, the lowering passes and the simulator all read them from
here, so the compiler and the simulator agree by construction. Each field cites the row
of `../shared/hardware/trn1.md` Part A it comes from ("A.1" = memories, "A.2" = engines
and costs, "A.3" = DMA, "A.4" = synchronisation, "A.5" = peaks). Values marked
*assumed* there have no public source; they stay configurable and reports say so.

A number is changed only when public evidence says it is wrong, never to make a
benchmark look better.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Memory(StrEnum):
    """The memories an access pattern can name (A.1)."""

    HBM = "hbm"
    SBUF = "sbuf"
    PSUM = "psum"


class Engine(StrEnum):
    """The instruction queues of one NeuronCore (A.2, A.3)."""

    TENSOR = "tensor"
    VECTOR = "vector"
    SCALAR = "scalar"
    GPSIMD = "gpsimd"
    DMA = "dma"


def _connectivity() -> dict[Engine, tuple[frozenset[Memory], frozenset[Memory]]]:
    sbuf, psum, hbm = Memory.SBUF, Memory.PSUM, Memory.HBM
    return {
        # A.1 "Engine to memory connectivity": (reads, writes).
        Engine.TENSOR: (frozenset({sbuf}), frozenset({psum})),
        Engine.VECTOR: (frozenset({sbuf, psum}), frozenset({sbuf, psum})),
        Engine.SCALAR: (frozenset({sbuf, psum}), frozenset({sbuf, psum})),
        Engine.GPSIMD: (frozenset({sbuf}), frozenset({sbuf})),
        Engine.DMA: (frozenset({hbm, sbuf}), frozenset({hbm, sbuf})),
    }


def _clocks() -> dict[Engine, float]:
    # A.2 clock table, in GHz (cycles per ns).
    return {
        Engine.TENSOR: 2.8,
        Engine.VECTOR: 1.12,
        Engine.SCALAR: 1.4,
        Engine.GPSIMD: 1.4,
    }


@dataclass(frozen=True)
class MachineModel:
    """Numbers of one NeuronCore-v2. Field comments cite trn1.md Part A."""

    # --- A.1 Memories -------------------------------------------------------------------
    partitions: int = 128
    """A.1: SBUF and PSUM partitions; dim 0 of an on-chip tile is the partition dim."""
    sbuf_bytes_per_partition: int = 196_608
    """A.1: SBUF is 128 x 192 KiB."""
    sbuf_budget_bytes_per_partition: int = 180_224
    """A.1: default SBUF allocation budget per partition (the rest reserved; assumed)."""
    sbuf_alignment: int = 1
    """A.1: SBUF byte alignment."""
    psum_bytes_per_partition: int = 16_384
    """A.1: PSUM is 128 x 16 KiB."""
    psum_banks: int = 8
    """A.1: 8 PSUM banks per partition."""
    psum_bank_bytes: int = 2_048
    """A.1: each PSUM bank is 2 KiB per partition (512 fp32 accumulators)."""
    psum_alignment: int = 4
    """A.1: PSUM byte alignment."""
    hbm_bytes: int = 16 * 2**30
    """A.1: flat byte-addressed HBM, 16 GiB per core."""
    max_free_dims: int = 4
    """A.1: an access pattern has at most 4 free dims of (step, count)."""
    step_min: int = -(2**15)
    """A.1: a free-dim step fits int16."""
    step_max: int = 2**15 - 1
    """A.1: a free-dim step fits int16."""
    count_max: int = 2**16 - 1
    """A.1: a free-dim count fits uint16."""
    max_free_elems_sbuf: int = 65_536
    """A.1: free size per Vector/Scalar instruction with an SBUF operand."""
    max_free_elems_psum: int = 4_096
    """A.1: free size per Vector/Scalar instruction with a PSUM operand."""
    psum_accumulator_dtypes: tuple[str, ...] = ("f32", "i32")
    """A.1: PSUM holds "fp32 (or int32) accumulators" (element type names as in MLIR)."""
    tensor_output_dtype: str = "f32"
    """A.1: TensorE (matmul, transpose) writes PSUM in fp32 ("adds to it in fp32")."""
    connectivity: dict[Engine, tuple[frozenset[Memory], frozenset[Memory]]] = field(
        default_factory=_connectivity
    )
    """A.1: which memories each engine reads and writes."""

    # --- A.2 Engines --------------------------------------------------------------------
    clock_ghz: dict[Engine, float] = field(default_factory=_clocks)
    """A.2: engine clocks in GHz."""
    matmul_max_k: int = 128
    """A.2: matmul contraction (partitions of both inputs) <= 128."""
    matmul_max_stationary_free: int = 128
    """A.2: matmul stationary free size (M) <= 128."""
    matmul_max_moving_free: int = 512
    """A.2: matmul moving free size (N) <= 512."""
    transpose_max: int = 128
    """A.2: TensorE transpose [P, F] -> [F, P] with P, F <= 128."""
    min_initiation_interval: int = 64
    """A.2: the `max(64, N)` floor of most instruction costs."""
    gpsimd_start_cycles: int = 150
    """A.2: the fixed part of `150 + N` GpSimdE costs."""
    fp32_matmul_factor: int = 4
    """A.2: matmul with fp32 inputs costs 4x."""
    tensor_latency_cycles: int = 64
    """A.2: result latency on TensorE."""
    other_latency_cycles: int = 200
    """A.2: result latency on VectorE, ScalarE and GpSimdE."""

    # --- A.3 DMA ------------------------------------------------------------------------
    dma_engines: int = 16
    """A.3: DMA engines per core."""
    dma_partitions_per_engine: int = 8
    """A.3: one DMA engine serves 8 consecutive partitions of an SBUF transfer."""
    dma_engine_gbps: float = 27.2
    """A.3: per-engine bandwidth, GB/s."""
    hbm_gbps: float = 410.0
    """A.3: HBM bandwidth per core, GB/s, shared by everything in flight."""
    dma_queues: int = 16
    """A.3: DMA queues, in order within a queue, concurrent across queues."""
    dma_fixed_latency_ns: float = 1_300.0
    """A.3: fixed latency from issue to first byte, per transfer."""
    dma_descriptor_overhead_bytes: int = 256
    """A.3: each contiguous chunk costs as if it were 256 B longer."""
    dma_gather_dge_cycles: tuple[int, int] = (64, 2)
    """A.3 indirect DMA: descriptor generation of `64 + 2 x rows` GpSimdE cycles before
    the transfer (assumed in trn1.md: software descriptors for run-time offsets)."""

    # --- A.4 Synchronisation ------------------------------------------------------------
    semaphore_visibility_cycles: int = 64
    """A.4: a wait sees a semaphore update 64 cycles (of the waiting engine) later (assumed)."""
    dma_semaphore_visibility_ns: float = 0.0
    """A.4 is silent for DMA queues (they have no engine clock): a DMA queue sees a
    semaphore update this many ns after it is made. Assumed 0: A.3's fixed latency of
    1,300 ns already counts from issue and covers the queue's reaction."""

    # --- A.5 Peaks ----------------------------------------------------------------------
    tensor_peak_flops_bf16: float = 128 * 128 * 2 * 2.8e9
    """A.5: 128 x 128 MACs per cycle at 2.8 GHz = 91.75 TFLOPS bf16."""

    # --- derived helpers ----------------------------------------------------------------
    @property
    def psum_bank_fp32(self) -> int:
        """A.1: fp32 accumulators per partition in one PSUM bank (512)."""
        return self.psum_bank_bytes // 4

    def memory_bytes_per_partition(self, memory: Memory) -> int:
        """Bytes addressable per partition in an on-chip memory."""
        if memory is Memory.SBUF:
            return self.sbuf_bytes_per_partition
        if memory is Memory.PSUM:
            return self.psum_bytes_per_partition
        raise ValueError("HBM has no partitions")

    def allowed_start_partitions(self, count: int) -> tuple[int, ...]:
        """A.1 start-partition rule: the partitions an access of `count` may start on."""
        if count > 64:
            return (0,)
        if count > 32:
            return (0, 64)
        return (0, 32, 64, 96)

    def start_partition_error(self, start: int, count: int) -> str | None:
        """The A.1 start-partition rule's message for an access of `count` partitions from
        `start`, or None when the access obeys it."""
        allowed = self.allowed_start_partitions(count)
        if start in allowed:
            return None
        return (
            f"start-partition rule: an access over {count} partitions must start at "
            f"partition {' or '.join(map(str, allowed))}, got {start}"
        )

    def can_read(self, engine: Engine, memory: Memory) -> bool:
        return memory in self.connectivity[engine][0]

    def can_write(self, engine: Engine, memory: Memory) -> bool:
        return memory in self.connectivity[engine][1]


TRN1 = MachineModel()
"""The default machine: one NeuronCore-v2 of trn1, as trn1.md Part A describes it."""
