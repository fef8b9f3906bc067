"""What a tile op costs, by the simulator's rules (`simulator.costs`: one cost model):
the engine work of an elementwise op on a given engine (`work_of`, for the passes that
choose engines), the engine time of one run of any compute op (`run_ns`) and the data
time of one run of a DMA (`transfer_ns`), for the passes that estimate when an op runs."""

from __future__ import annotations

from xdsl.dialects.builtin import Float32Type
from xdsl.ir import Operation, SSAValue

from trnc.dialects import tile
from trnc.dialects.isa_common import dtype_name
from trnc.dialects.tile.enums import EngineAttr
from trnc.dialects.tile.types import BufferType
from trnc.lowering.tile_regions import written_operands
from trnc.machine import TRN1, Engine, Memory
from trnc.simulator.costs import (
    Operand,
    Work,
    engines_for_partitions,
    fast_case,
    matmul_cycles,
    transpose_cycles,
    work_ns,
)

OPCODES: dict[type[Operation], str] = {
    tile.CopyOp: "tensor_copy",
    tile.TensorScalarOp: "tensor_scalar",
    tile.TensorTensorOp: "tensor_tensor",
    tile.ActivationOp: "activation",
    tile.ReduceOp: "tensor_reduce",
    tile.MemsetOp: "memset",
    tile.IotaOp: "iota",
    tile.CopyPredicatedOp: "tensor_copy_predicated",
}
"""Tile ops that become one instruction off TensorE, by the instruction's opcode."""


def _operand(value: SSAValue) -> Operand:
    """The facts `fast_case` asks of a tile operand (a strided view's last step is its
    innermost one)."""
    buf = value.type
    assert isinstance(buf, BufferType)
    owner = value.owner
    steps = owner.stride_values() if isinstance(owner, tile.ViewOp) else ()
    unit = all(s == 1 for s in steps[-1:])
    return Operand(buf.memory.data.value, dtype_name(buf.element_type) or "", unit)


def work_of(op: Operation, engine: Engine) -> Work | None:
    """The work of one run of `op` (an op off TensorE) on `engine`, or None for another op."""
    opcode = OPCODES.get(type(op))
    if opcode is None:
        return None
    buffers = [v for v in op.operands if isinstance(v.type, BufferType)]
    written = set(written_operands(op))
    reads = tuple(_operand(v) for v in buffers if v not in written)
    writes = tuple(_operand(v) for v in buffers if v in written)
    n = max((v.type.free_count() for v in buffers if isinstance(v.type, BufferType)), default=1)
    alu = getattr(op, "op", None)
    value = getattr(op, "value", None)
    fast = fast_case(
        opcode,
        reads,
        writes,
        alu.data.value if alu is not None else None,
        value.value.data if value is not None else None,
    )
    accum = isinstance(op, tile.ActivationOp) and op.accum is not None
    return Work(opcode, engine, n, fast, accum)


def run_ns(op: Operation) -> tuple[Engine, float] | None:
    """The engine and the time in ns of one run of a compute op (its `engine`; matmuls
    and transposes on TensorE), or None for an op that is not one instruction on an
    engine (DMAs, allocations, views, loops)."""
    if isinstance(op, tile.MatmulOp):
        stationary, moving = op.stationary.type, op.moving.type
        assert isinstance(stationary, BufferType) and isinstance(moving, BufferType)
        fp32 = any(isinstance(t.element_type, Float32Type) for t in (stationary, moving))
        cycles = matmul_cycles(stationary.free_count(), moving.free_count(), fp32)
        return Engine.TENSOR, cycles / TRN1.clock_ghz[Engine.TENSOR]
    if isinstance(op, tile.TransposeOp):
        src = op.input.type
        assert isinstance(src, BufferType)
        cycles = transpose_cycles(src.partition_count(), src.free_count())
        return Engine.TENSOR, cycles / TRN1.clock_ghz[Engine.TENSOR]
    engine = getattr(op, "engine", None)
    if not isinstance(engine, EngineAttr):
        return None
    work = work_of(op, engine.data)
    return None if work is None else (engine.data, work_ns(work))


def transfer_ns(op: tile.DmaOp | tile.DmaGatherOp) -> float:
    """The data phase of one run of a DMA alone (after its fixed latency): its bytes at
    its own rate cap (the engines serving its on-chip partitions, trn1.md A.3), at most
    the HBM bandwidth; without the per-descriptor overhead."""
    source = op.source if isinstance(op, tile.DmaOp) else op.table
    sides = [source.type, op.dest.type]
    onchip = [t for t in sides if isinstance(t, BufferType) and t.memory.data is not Memory.HBM]
    partitions = onchip[0].partition_count() if onchip else TRN1.partitions
    rate = min(engines_for_partitions(partitions) * TRN1.dma_engine_gbps, TRN1.hbm_gbps)
    return tile.dma_moved_bytes(op) / rate
