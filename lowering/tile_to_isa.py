"""The `tile-to-isa` pass: a `func.func` of `tile` ops -> a `trn_isa.program`.

Rewrites every function holding tile ops into a program of the same name:

* each function argument (an `hbm` buffer) becomes a `trn_isa.hbm_tensor` row, named by
  its `graph.name` argument attribute (else `argN`), with the role of its `tile.role`
  attribute (`input`, `weight`, `output`, `scratch`), else `output` when some op writes it
  and `input` otherwise; tensors are placed one after another, 64-byte aligned;
* every compute op becomes one instruction on the engine the op names (`tile.matmul` and
  `tile.transpose` on TensorE), every `tile.dma` one `dma_copy` on its queue; `tile.alloc`,
  `tile.view` and `tile.dealloc` become nothing: they only give operands their access
  patterns (an on-chip buffer: its partitions and byte address, a free axis laid out in
  the layout's free-dim order; an HBM view: the parent's row-major strides, ordered like
  the on-chip side of its DMA so elements match one for one).

Loops are materialised here, as late as possible: an `scf.for` with constant bounds is
unrolled, its body lowered once per iteration with the `index` values (`arith.constant`,
`addi`, `subi`, `muli`, `divui`, `remui`, `floordivsi`) computed, so a `tile.view` with
dynamic offsets gets the iteration's place. An alloc with `depth` D takes slot n mod D on
its n-th run, a DMA with `queues` Q queue `queue + n mod Q` (rotating buffers and queues,
as `tile-allocate` chose them), an elementwise op with an `alternate` engine that engine
on its odd runs (as `tile-balance-engines` chose it).

Placement must already be decided (`tile-allocate` does it): an on-chip buffer without an
address or a DMA without a queue is an error at the op. Semaphores are not inserted here:
`isa-insert-sync` does it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import replace
from math import prod
from typing import Any

from xdsl.context import Context
from xdsl.dialects import arith, func, scf
from xdsl.dialects.builtin import (
    DenseArrayBase,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    UnitAttr,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass

from trnc.dialects import tile
from trnc.dialects import trn_isa as isa
from trnc.dialects.isa_common import byte_size
from trnc.dialects.tile.memory_ops import slot_bytes
from trnc.dialects.tile.types import BufferType
from trnc.dialects.trn_isa.access_pattern import AccessPatternAttr
from trnc.dialects.trn_isa.attrs import (
    ActivationFuncAttr,
    AluOpAttr,
    EngineAttr,
    EngineKind,
    HbmRole,
    ValuePatternAttr,
)
from trnc.lowering.tile_places import (
    LoweringError,
    Place,
    buffer_roots,
    hbm_ap,
    merge_dims,
    onchip_ap,
    onchip_ap_matching,
    onchip_place,
    onchip_reinterpret,
    row_major,
    view_place,
)
from trnc.machine import Memory

HBM_ALIGN = 64
ROLE_ATTR = "tile.role"
SHAPE_ATTR = "tile.tensor_shape"
"""Argument attribute: the shape the HBM tensor has in the tensor table (same element
count and bytes as the buffer; a graph tensor keeps its shape through the lowering)."""
NAME_ATTR = "graph.name"
WEIGHT_FILE_ATTR = "tile.weight_file"
WEIGHT_OFFSET_ATTR = "tile.weight_offset"
VALUE_ATTR = "tile.value"
"""Argument attributes saying where a weight argument's data comes from: a raw weights
file and byte offset (from `graph.weight`), or an inline value (from `graph.constant`)."""
ELEMENT_ATTR = "tile.tensor_element"
"""Argument attribute: the graph element type of a tensor whose HBM buffer holds another
(`tile_builder.storage`: int64 as i32, bool as ui8, integer intermediates as f32)."""
EMPTY_KERNEL_ATTR = "tile.empty_kernel"
"""Function attribute: a kernel with no tile ops (its graph had only empty tensors) that
tile-to-isa still makes a (empty) program of."""
SOURCE_ATTRS = (WEIGHT_FILE_ATTR, WEIGHT_OFFSET_ATTR, VALUE_ATTR, ELEMENT_ATTR)
"""Argument attributes that `tile-to-isa` copies onto the `trn_isa.hbm_tensor` of the
argument, so the simulator can load a weight's data from where the graph kept it."""


_INDEX_OPS: dict[type[Operation], Callable[[int, int], int]] = {
    arith.AddiOp: operator.add,
    arith.SubiOp: operator.sub,
    arith.MuliOp: operator.mul,
    arith.DivUIOp: operator.floordiv,
    arith.FloorDivSIOp: operator.floordiv,
    arith.RemUIOp: operator.mod,
}
"""The `index` arithmetic tile-to-isa computes while unrolling a loop."""


class _Lowerer:
    def __init__(self, function: func.FuncOp) -> None:
        self.function = function
        self.places: dict[SSAValue, Place] = {}
        self.instrs: list[Operation] = []
        self.index: dict[SSAValue, int] = {}  # `index` values of the iteration being lowered
        self.runs: dict[Operation, int] = {}  # times an alloc or DMA has been lowered

    def run(self, op: Operation) -> int:
        """How many times `op` was lowered before (its run number, from 0)."""
        n = self.runs.get(op, 0)
        self.runs[op] = n + 1
        return n

    def index_value(self, value: SSAValue, op: Operation) -> int:
        found = self.index.get(value)
        if found is None:
            raise LoweringError("tile-to-isa: an index value that is not a constant here", op)
        return found

    def lower_loop(self, op: scf.ForOp) -> None:
        lb, ub, step = (self.index_value(v, op) for v in (op.lb, op.ub, op.step))
        if step <= 0:
            raise LoweringError(f"tile-to-isa: loop step must be positive, got {step}", op)
        iv = op.body.block.args[0]
        for i in range(lb, ub, step):
            self.index[iv] = i
            for inner in op.body.block.ops:
                self.lower_op(inner)

    def lower_index(self, op: Operation) -> None:
        """Index arithmetic, computed for the iteration being lowered."""
        if isinstance(op, arith.ConstantOp):
            value = op.value
            if not isinstance(value, IntegerAttr):
                raise LoweringError("tile-to-isa: only integer constants are lowered", op)
            self.index[op.result] = value.value.data
            return
        a, b = (self.index_value(v, op) for v in op.operands)
        r = _INDEX_OPS[type(op)](a, b)
        self.index[op.results[0]] = r

    def place(self, value: SSAValue, op: Operation) -> Place:
        found = self.places.get(value)
        if found is None:
            raise LoweringError("tile-to-isa: operand is not a buffer this pass placed", op)
        return found

    def ap(self, value: SSAValue, op: Operation) -> AccessPatternAttr:
        place = self.place(value, op)
        if place.memory is Memory.HBM:
            raise LoweringError("tile-to-isa: compute ops cannot read or write HBM", op)
        return onchip_ap(place)

    def tensors(self) -> list[Operation]:
        rows: list[Operation] = []
        address = 0
        arg_attrs = self.function.arg_attrs
        written = self._written_args()
        for i, arg in enumerate(self.function.body.block.args):
            buf = arg.type
            if not isinstance(buf, BufferType) or buf.memory.data is not Memory.HBM:
                raise LoweringError(
                    f"tile-to-isa: argument {i} must be an hbm buffer, got {buf}", self.function
                )
            attrs = arg_attrs.data[i].data if arg_attrs is not None else {}
            name_attr = attrs.get(NAME_ATTR)
            name = name_attr.data if isinstance(name_attr, StringAttr) else f"arg{i}"
            role_attr = attrs.get(ROLE_ATTR)
            role = (
                HbmRole(role_attr.data)
                if isinstance(role_attr, StringAttr)
                else (HbmRole.OUTPUT if arg in written else HbmRole.INPUT)
            )
            shape = tuple(buf.get_shape())
            table_shape = shape
            shape_attr = attrs.get(SHAPE_ATTR)
            if isinstance(shape_attr, DenseArrayBase):
                table_shape = tuple(int(v) for v in shape_attr.get_values())
                if prod(table_shape) != prod(shape):
                    raise LoweringError(
                        f"tile-to-isa: argument {i}'s {SHAPE_ATTR} {list(table_shape)} does "
                        f"not have the buffer's {prod(shape)} elements",
                        self.function,
                    )
            tensor_type = TensorType(buf.element_type, table_shape)
            row = isa.HbmTensorOp(name, tensor_type, address, role)
            for key in SOURCE_ATTRS:
                if key in attrs:
                    row.attributes[key] = attrs[key]
            rows.append(row)
            self.places[arg] = Place(
                Memory.HBM, 0, address, shape, row_major(shape), None, (), buf.element_type
            )
            size = prod(shape) * byte_size(buf.element_type)
            address += -(-size // HBM_ALIGN) * HBM_ALIGN
        return rows

    def _written_args(self) -> set[SSAValue]:
        roots = buffer_roots(self.function, self.function.body.block.args)
        return {
            roots[op.dest]
            for op in self.function.body.walk()
            if isinstance(op, tile.DmaOp) and op.dest in roots
        }

    def lower(self) -> isa.ProgramOp:
        body: list[Operation] = self.tensors()
        for op in self.function.body.block.ops:
            self.lower_op(op)
        return isa.ProgramOp(self.function.sym_name.data, [*body, *self.instrs])

    def emit(
        self, cls: type[Operation], props: dict[str, Attribute | None], src: Operation
    ) -> None:
        op = cls.create(properties={k: v for k, v in props.items() if v is not None})
        op.location = src.location
        self.instrs.append(op)

    def lower_op(self, op: Operation) -> None:
        if isinstance(op, arith.ConstantOp) or type(op) in _INDEX_OPS:
            self.lower_index(op)
            return
        match op:
            case tile.AllocOp():
                buf = op.result.type
                assert isinstance(buf, BufferType)
                place = onchip_place(op, buf)
                depth = op.depth_value()
                if depth > 1:  # a rotating buffer: this run's slot
                    slot = self.run(op) % depth
                    place = replace(place, offset=place.offset + slot * slot_bytes(buf))
                self.places[op.result] = place
            case tile.ViewOp():
                buf = op.result.type
                assert isinstance(buf, BufferType)
                dynamic = [self.index_value(v, op) for v in op.offsets]
                self.places[op.result] = view_place(op, self.place(op.source, op), buf, dynamic)
            case scf.ForOp():
                self.lower_loop(op)
            case scf.YieldOp():
                pass
            case tile.ReinterpretOp():
                parent = self.place(op.source, op)
                shape = tuple(op.result.type.get_shape())
                if parent.memory is not Memory.HBM:
                    self.places[op.result] = onchip_reinterpret(op, parent, shape)
                elif parent.strides != row_major(parent.shape):
                    raise LoweringError(
                        "tile-to-isa: reinterpret of a strided view is not lowered", op
                    )
                else:
                    self.places[op.result] = Place(
                        Memory.HBM,
                        0,
                        parent.offset,
                        shape,
                        row_major(shape),
                        None,
                        (),
                        parent.dtype,
                    )
            case tile.DeallocOp() | func.ReturnOp():
                pass
            case tile.DmaOp():
                self.lower_dma(op)
            case tile.DmaGatherOp():
                self.lower_dma_gather(op)
            case tile.MatmulOp():
                self.emit(
                    isa.MatmulOp,
                    {
                        "dst": self.ap(op.acc, op),
                        "stationary": self.ap(op.stationary, op),
                        "moving": self.ap(op.moving, op),
                        "accumulate": op.accumulate,
                        "engine": EngineAttr(EngineKind.TENSOR),
                    },
                    op,
                )
            case tile.TransposeOp():
                self.emit(
                    isa.TransposeOp,
                    {
                        "dst": self.ap(op.output, op),
                        "src": self.ap(op.input, op),
                        "engine": EngineAttr(EngineKind.TENSOR),
                    },
                    op,
                )
            case tile.ActivationOp():
                scale = op.scale.value.data
                self.emit(
                    isa.ActivationOp,
                    {
                        "func": ActivationFuncAttr(op.func.data),
                        "dst": self.ap(op.output, op),
                        "src": self.ap(op.input, op),
                        "scale": None if scale == 1.0 else FloatAttr(scale, Float64Type()),
                        "bias": None if op.bias is None else self.ap(op.bias, op),
                        "accum": None if op.accum is None else self.ap(op.accum, op),
                        "engine": _engine(op),
                    },
                    op,
                )
            case tile.TensorTensorOp():
                self.emit(
                    isa.TensorTensorOp,
                    {
                        "op": AluOpAttr(op.op.data),
                        "dst": self.ap(op.output, op),
                        "lhs": self.ap(op.lhs, op),
                        "rhs": self.ap(op.rhs, op),
                        "engine": _engine(op, self.run(op)),
                    },
                    op,
                )
            case tile.TensorScalarOp():
                self.lower_tensor_scalar(op)
            case tile.ReduceOp():
                self.emit(
                    isa.TensorReduceOp,
                    {
                        "op": AluOpAttr(op.op.data),
                        "dst": self.ap(op.output, op),
                        "src": self.ap(op.input, op),
                        "axes": IntegerAttr(len(op.axes.get_values()), i64),
                        "negate": IntegerAttr.from_bool(True) if op.negate else None,
                        "engine": _engine(op),
                    },
                    op,
                )
            case tile.CopyOp():
                self.emit(
                    isa.TensorCopyOp,
                    {
                        "dst": self.ap(op.output, op),
                        "src": self.ap(op.input, op),
                        "engine": _engine(op, self.run(op)),
                    },
                    op,
                )
            case tile.CopyPredicatedOp():
                self.emit(
                    isa.TensorCopyPredicatedOp,
                    {
                        "dst": self.ap(op.output, op),
                        "src": self.ap(op.input, op),
                        "predicate": self.ap(op.predicate, op),
                        "engine": _engine(op),
                    },
                    op,
                )
            case tile.IotaOp():
                self.emit(
                    isa.IotaOp,
                    {
                        "dst": self.ap(op.output, op),
                        "base": op.base,
                        "channel_multiplier": op.channel_multiplier,
                        "pattern": ValuePatternAttr(_value_pattern(op.pattern)),
                        "engine": _engine(op),
                    },
                    op,
                )
            case tile.MemsetOp():
                self.emit(
                    isa.MemsetOp,
                    {
                        "dst": self.ap(op.output, op),
                        "value": FloatAttr(op.value.value.data, Float64Type()),
                        "engine": _engine(op),
                    },
                    op,
                )
            case _:
                raise LoweringError(f"tile-to-isa: cannot lower '{op.name}'", op)

    def lower_tensor_scalar(self, op: tile.TensorScalarOp) -> None:
        scalar = op.scalar
        operand: Attribute
        if scalar is not None:
            operand = FloatAttr(scalar.value.data, Float64Type())
        else:
            operands = [o for o in op.operands if o not in (op.input, op.output)]
            if not operands:
                raise LoweringError("tile-to-isa: tensor_scalar without a scalar", op)
            operand = self.ap(operands[0], op)
        self.emit(
            isa.TensorScalarOp,
            {
                "dst": self.ap(op.output, op),
                "src": self.ap(op.input, op),
                "op0": AluOpAttr(op.op.data),
                "operand0": operand,
                "engine": _engine(op, self.run(op)),
            },
            op,
        )

    def lower_dma(self, op: tile.DmaOp) -> None:
        if op.queue is None:
            raise LoweringError("tile-to-isa: DMA has no queue; run tile-allocate first", op)
        src, dst = self.place(op.source, op), self.place(op.dest, op)
        if src.memory is Memory.HBM and dst.memory is not Memory.HBM:
            src_ap, dst_ap = hbm_ap(src, dst), onchip_ap_matching(dst, src)
        elif dst.memory is Memory.HBM and src.memory is not Memory.HBM:
            src_ap, dst_ap = onchip_ap_matching(src, dst), hbm_ap(dst, src)
        elif src.memory is not Memory.HBM and dst.memory is not Memory.HBM:
            src_ap, dst_ap = onchip_ap(src), onchip_ap(dst)
        else:
            raise LoweringError("tile-to-isa: HBM-to-HBM DMA is not lowered yet", op)
        self.emit(
            isa.DmaCopyOp,
            {
                "dst": dst_ap,
                "src": src_ap,
                "queue": IntegerAttr(self.queue(op), i64),
                "cast": UnitAttr() if dst_ap.dtype != src_ap.dtype else None,
            },
            op,
        )

    def queue(self, op: tile.DmaOp) -> int:
        """The queue of this run of `op` (rotating over its `queues`)."""
        assert op.queue is not None
        count = op.queues.value.data if op.queues is not None else 1
        base = op.queue.value.data
        return base + self.run(op) % count if count > 1 else base

    def lower_dma_gather(self, op: tile.DmaGatherOp) -> None:
        if op.queue is None:
            raise LoweringError("tile-to-isa: DMA has no queue; run tile-allocate first", op)
        table = self.place(op.table, op)
        (rows, width), (row_step, step) = table.shape, table.strides
        if table.memory is not Memory.HBM or step != 1:
            raise LoweringError("tile-to-isa: a gather's table rows must be contiguous", op)
        self.emit(
            isa.DmaGatherOp,
            {
                "dst": onchip_ap(self.place(op.dest, op)),
                "table": AccessPatternAttr(
                    "hbm", (row_step, rows), table.offset, [(1, width)], table.dtype
                ),
                "indices": onchip_ap(self.place(op.indices, op)),
                "queue": IntegerAttr(op.queue.value.data, i64),
            },
            op,
        )


def _value_pattern(pattern: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """An iota's (step, count) pairs per free part, as `trn_isa.iota` takes them: the
    instruction's free elements come in the same order (the free parts outermost first,
    as `onchip_ap` walks them), so the pairs carry over; count-1 pairs (index always 0)
    are dropped and a pair continuing its inner neighbour's run (step = inner step x
    inner count) merges into it, as `merge_dims` does for access patterns."""
    return merge_dims(pattern)


def _engine(op: Any, run: int = 0) -> EngineAttr:
    """The engine of `op`'s run number `run`: its `alternate` on odd runs, if it has one."""
    alternate = getattr(op, "alternate", None)
    chosen = alternate if alternate is not None and run % 2 else op.engine
    return EngineAttr(EngineKind(chosen.data.value))


class TileToIsa(ModulePass):
    """Lower every function of tile ops to a `trn_isa.program` (see the module docstring)."""

    name = "tile-to-isa"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        lower_module(op)


def lower_module(module: ModuleOp, keep: ModuleOp | None = None) -> None:
    """Replace each tile function of `module` by its program. With `keep`, `keep` gets
    the tile level (as `trnc.compile` keeps it): the tile functions move there (no copy
    of their ops) and the module's other ops are cloned into it, in order."""
    for function in list(module.ops):
        lowered = (
            isinstance(function, func.FuncOp)
            and not function.is_declaration
            and (
                EMPTY_KERNEL_ATTR in function.attributes
                or any(o.dialect_name() == "tile" for o in function.body.walk())
            )
        )
        if not lowered:
            if keep is not None:
                keep.body.block.add_op(function.clone())
            continue
        assert isinstance(function, func.FuncOp)
        program = _Lowerer(function).lower()
        program.location = function.location
        module.body.block.insert_op_before(program, function)
        if keep is not None:
            function.detach()
            keep.body.block.add_op(function)
        else:
            module.body.block.erase_op(function)


__all__ = ["LoweringError", "Place", "TileToIsa", "hbm_ap", "lower_module", "onchip_ap"]
