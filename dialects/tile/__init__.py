"""The `tile` dialect: buffers in HBM, SBUF and PSUM, data movement and per-engine tile ops.

`tile` sits between `graph` (tensor ops) and `trn_isa` (one op per instruction). Values
are buffers (`!tile.buffer`) in a memory space, with a `#tile.layout` for on-chip ones;
loops are `scf.for` over `index` values and the kernel is a `func.func` whose arguments are
its HBM buffers. Every decision a later pass takes (layout, address, start partition, PSUM
bank, DMA queue, engine) is a property on the IR, verified against `trnc.machine.TRN1`.

Modules: `enums` (memory, engine, activation function, ALU op attributes), `layout`
(`#tile.layout`), `types` (`!tile.buffer`), `memory_ops` (alloc, dealloc, view, dma),
`tensor_ops` (matmul, transpose), `elementwise_ops` (activation, tensor_tensor,
tensor_scalar, reduce, copy, copy_predicated, memset, iota), `checks` (shared verifier
helpers).
"""

from __future__ import annotations

from xdsl.ir import Dialect

from trnc.dialects.isa_common import element_bytes
from trnc.dialects.tile.elementwise_ops import (
    ActivationOp,
    CopyOp,
    CopyPredicatedOp,
    IotaOp,
    MemsetOp,
    ReduceOp,
    TensorScalarOp,
    TensorTensorOp,
)
from trnc.dialects.tile.enums import (
    ActivationFunc,
    ActivationFuncAttr,
    AluOp,
    AluOpAttr,
    EngineAttr,
    MemorySpaceAttr,
)
from trnc.dialects.tile.layout import LayoutAttr, PartRef
from trnc.dialects.tile.memory_ops import (
    AllocOp,
    DeallocOp,
    DmaGatherOp,
    DmaOp,
    ReinterpretOp,
    ViewOp,
    dma_moved_bytes,
)
from trnc.dialects.tile.tensor_ops import MatmulOp, TransposeOp
from trnc.dialects.tile.types import BufferType

Tile = Dialect(
    "tile",
    [
        AllocOp,
        DeallocOp,
        ViewOp,
        ReinterpretOp,
        DmaOp,
        DmaGatherOp,
        MatmulOp,
        TransposeOp,
        ActivationOp,
        TensorTensorOp,
        TensorScalarOp,
        ReduceOp,
        CopyOp,
        CopyPredicatedOp,
        MemsetOp,
        IotaOp,
    ],
    [
        BufferType,
        LayoutAttr,
        MemorySpaceAttr,
        EngineAttr,
        ActivationFuncAttr,
        AluOpAttr,
    ],
)

__all__ = [
    "ActivationFunc",
    "ActivationFuncAttr",
    "ActivationOp",
    "AllocOp",
    "AluOp",
    "AluOpAttr",
    "BufferType",
    "CopyOp",
    "CopyPredicatedOp",
    "DeallocOp",
    "DmaGatherOp",
    "DmaOp",
    "EngineAttr",
    "IotaOp",
    "LayoutAttr",
    "MatmulOp",
    "MemorySpaceAttr",
    "MemsetOp",
    "PartRef",
    "ReduceOp",
    "ReinterpretOp",
    "TensorScalarOp",
    "TensorTensorOp",
    "Tile",
    "TransposeOp",
    "ViewOp",
    "dma_moved_bytes",
    "element_bytes",
]
