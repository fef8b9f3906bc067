"""The `trn_isa` dialect: NeuronCore-v2 instructions with addresses, access patterns and
semaphores.

One op per instruction of trn1.md A.2/A.3, inside a `trn_isa.program` that also declares
the HBM tensors. Instructions carry everything the simulator needs: no SSA data flow,
every operand is an access pattern (`#trn_isa.ap`, see `access_pattern.py`) or an
immediate, and ordering across engine/DMA queues is explicit through semaphores.

Modules: `attrs` (enums, semaphores, value patterns), `access_pattern` (`#trn_isa.ap` and
its geometry helpers), `rules` (the hardware rules as checks), `base` (common instruction
syntax and verification), `tensor_engine` (matmul, transpose), `elementwise` (activation,
tensor_tensor, tensor_scalar, tensor_reduce, tensor_copy, tensor_copy_predicated, reciprocal,
memset), `gpsimd` (iota, affine_select), `dma` (dma_copy), `program` (program, hbm_tensor).
"""

from __future__ import annotations

from xdsl.ir import Dialect

from trnc.dialects.isa_common import element_bytes
from trnc.dialects.trn_isa.access_pattern import AccessPatternAttr, DmaChunks, dma_chunks
from trnc.dialects.trn_isa.attrs import (
    ActivationFunc,
    ActivationFuncAttr,
    AluOp,
    AluOpAttr,
    CompareOp,
    CompareOpAttr,
    EngineAttr,
    EngineKind,
    HbmRole,
    HbmRoleAttr,
    MemoryAttr,
    MemoryKind,
    SemaphoreAttr,
    SemWaitAttr,
    ValuePatternAttr,
    sem,
    wait,
)
from trnc.dialects.trn_isa.base import ComputeOp, InstructionOp
from trnc.dialects.trn_isa.dma import DmaCopyOp, DmaGatherOp, DmaQueueOp
from trnc.dialects.trn_isa.elementwise import (
    ActivationOp,
    MemsetOp,
    ReciprocalOp,
    TensorCopyOp,
    TensorCopyPredicatedOp,
    TensorReduceOp,
    TensorScalarOp,
    TensorTensorOp,
)
from trnc.dialects.trn_isa.gpsimd import AffineSelectOp, IotaOp
from trnc.dialects.trn_isa.program import HbmTensorOp, ProgramOp
from trnc.dialects.trn_isa.tensor_engine import MatmulOp, TransposeOp

TrnIsa = Dialect(
    "trn_isa",
    [
        ProgramOp,
        HbmTensorOp,
        MatmulOp,
        TransposeOp,
        ActivationOp,
        TensorTensorOp,
        TensorScalarOp,
        TensorReduceOp,
        TensorCopyOp,
        TensorCopyPredicatedOp,
        ReciprocalOp,
        MemsetOp,
        IotaOp,
        AffineSelectOp,
        DmaCopyOp,
        DmaGatherOp,
    ],
    [
        AccessPatternAttr,
        SemaphoreAttr,
        SemWaitAttr,
        ValuePatternAttr,
        EngineAttr,
        MemoryAttr,
        ActivationFuncAttr,
        AluOpAttr,
        CompareOpAttr,
        HbmRoleAttr,
    ],
)

__all__ = [
    "AccessPatternAttr",
    "ActivationFunc",
    "ActivationFuncAttr",
    "ActivationOp",
    "AffineSelectOp",
    "AluOp",
    "AluOpAttr",
    "CompareOp",
    "CompareOpAttr",
    "ComputeOp",
    "DmaChunks",
    "DmaCopyOp",
    "DmaGatherOp",
    "DmaQueueOp",
    "EngineAttr",
    "EngineKind",
    "HbmRole",
    "HbmRoleAttr",
    "HbmTensorOp",
    "InstructionOp",
    "IotaOp",
    "MatmulOp",
    "MemoryAttr",
    "MemoryKind",
    "MemsetOp",
    "ProgramOp",
    "ReciprocalOp",
    "SemWaitAttr",
    "SemaphoreAttr",
    "TensorCopyOp",
    "TensorCopyPredicatedOp",
    "TensorReduceOp",
    "TensorScalarOp",
    "TensorTensorOp",
    "TransposeOp",
    "TrnIsa",
    "ValuePatternAttr",
    "dma_chunks",
    "element_bytes",
    "sem",
    "wait",
]
