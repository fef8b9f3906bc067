"""`tile.iota` and `tile.copy_predicated` end to end: a tile function built by hand, placed
by `tile-allocate`, lowered by `tile-to-isa` and `isa-insert-sync`, and simulated (strict
race and never-written-read checks) against numpy."""

from __future__ import annotations

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    IntegerType,
    ModuleOp,
    Signedness,
    StringAttr,
    f32,
    i32,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue

from trnc.dialects import tile
from trnc.dialects import trn_isa as isa
from trnc.dialects.isa_common import AluOp
from trnc.lowering.isa_sync import IsaInsertSync
from trnc.lowering.tile_allocate import TileAllocate
from trnc.lowering.tile_to_isa import TileToIsa
from trnc.machine import Memory
from trnc.simulator import simulate
from trnc.tools.diagnostics import verify_ops

ui8 = IntegerType(8, Signedness.UNSIGNED)
P, F = 128, 64
CUBE = (P, 4, 16)


def _sbuf(shape: tuple[int, ...], element: Attribute, free: list[int] | None = None):
    rank = len(shape)
    layout = tile.LayoutAttr.build(rank, part=[0], free=free or list(range(1, rank)))
    return tile.BufferType(shape, element, Memory.SBUF, layout)


def _kernel() -> ModuleOp:
    """out = x where (p + j >= 40) else y, for x, y, out [128, 64] f32 in HBM; and
    index[p, a, b] = 7 + 64 p + 4 b + a from an iota over the free parts (b, a)."""
    hbm = tile.BufferType((P, F), f32, Memory.HBM)
    hbm_index = tile.BufferType(CUBE, i32, Memory.HBM)
    names = ["x", "y", "out", "index"]
    block = Block(arg_types=[hbm, hbm, hbm, hbm_index])
    x, y, out, index = block.args

    def add(op: Operation) -> Operation:
        block.add_op(op)
        return op

    def alloc(buf: tile.BufferType) -> SSAValue:
        return add(tile.AllocOp(buf)).results[0]

    xs = alloc(_sbuf((P, F), f32))
    ys = alloc(_sbuf((P, F), f32))
    add(tile.DmaOp(x, xs))
    add(tile.DmaOp(y, ys))
    # The predicate: iota v = p + j - 40 (f32), then (v >= 0) written as ui8 0 / 1.
    v = alloc(_sbuf((P, F), f32))
    add(tile.IotaOp(v, [(1, F)], base=-40, channel_multiplier=1))
    mask = alloc(_sbuf((P, F), ui8))
    add(tile.TensorScalarOp(AluOp.GE, v, 0.0, mask))
    add(tile.CopyPredicatedOp(xs, mask, ys))
    add(tile.DmaOp(ys, out))
    # An iota over a permuted free axis: free parts (d2, d1), steps (4, 1).
    cube = alloc(_sbuf(CUBE, i32, free=[2, 1]))
    add(tile.IotaOp(cube, [(4, 16), (1, 4)], base=7, channel_multiplier=64))
    add(tile.DmaOp(cube, index))
    add(func.ReturnOp())
    arg_attrs = ArrayAttr([DictionaryAttr({"graph.name": StringAttr(n)}) for n in names])
    function = func.FuncOp(
        "select_iota", ([hbm, hbm, hbm, hbm_index], []), Region(block), arg_attrs=arg_attrs
    )
    return ModuleOp([function])


def _lower(module: ModuleOp) -> None:
    ctx = Context()
    for p in (TileAllocate(), TileToIsa(), IsaInsertSync()):
        p.apply(ctx, module)
        problems = verify_ops(module)
        assert not problems, [p.message for p in problems[:3]]


def test_iota_and_predicated_copy_lower_and_compute() -> None:
    module = _kernel()
    assert not verify_ops(module)
    _lower(module)
    instrs = [op for op in module.walk() if isinstance(op, isa.InstructionOp)]
    names = [op.name.split(".")[1] for op in instrs]
    assert names.count("iota") == 2 and names.count("tensor_copy_predicated") == 1
    copy = next(op for op in instrs if isinstance(op, isa.TensorCopyPredicatedOp))
    mask_write = next(op for op in instrs if isinstance(op, isa.TensorScalarOp))
    # The copy reads dst (filled by a DMA of y) and the mask; isa-insert-sync orders it
    # after the DMA queue that loaded y, and the vector queue orders it after the mask.
    assert copy.predicate == mask_write.dst
    assert any(w.sem.owner.data.startswith("dma") for w in copy.waits)

    rng = np.random.default_rng(5)
    x = rng.standard_normal((P, F)).astype(np.float32)
    x[:, 60:] = np.array([np.nan, -0.0, np.inf, -np.inf], np.float32)
    x_bits = x.view(np.uint32)
    x_bits[:, 60] = 0x7FC00123  # a NaN payload survives the DMAs and the select
    y = rng.standard_normal((P, F)).astype(np.float32)
    outputs, report = simulate(module, {"x": x, "y": y}, strict_uninitialized=True)
    p, j = np.arange(P)[:, None], np.arange(F)[None, :]
    expected = np.where(p + j - 40 >= 0, x, y)
    np.testing.assert_array_equal(outputs["out"].view(np.uint32), expected.view(np.uint32))
    assert np.isnan(outputs["out"][127, 60]) and np.signbit(outputs["out"][127, 61])

    pp, a, bb = np.meshgrid(*(np.arange(n) for n in CUBE), indexing="ij")
    np.testing.assert_array_equal(outputs["index"], 7 + 64 * pp + 4 * bb + a)
    assert report is not None
