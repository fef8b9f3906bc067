"""Tests for the Python helpers of the `tile` dialect: layouts, buffer types, builders."""

from __future__ import annotations

import pytest
from xdsl.context import Context
from xdsl.dialects import test as xdsl_test
from xdsl.dialects.builtin import Float32Type, IntegerType, Signedness, bf16, f32, i32
from xdsl.parser import Parser
from xdsl.utils.exceptions import ParseError, VerifyException

from trnc.dialects.tile import (
    ActivationFunc,
    ActivationOp,
    AllocOp,
    AluOp,
    BufferType,
    CopyOp,
    CopyPredicatedOp,
    DmaOp,
    IotaOp,
    LayoutAttr,
    MatmulOp,
    PartRef,
    ReduceOp,
    TensorScalarOp,
    Tile,
    ViewOp,
    element_bytes,
)
from trnc.machine import TRN1, Engine, Memory

ui8 = IntegerType(8, Signedness.UNSIGNED)

# [S, H] = [512, 768], H split 6 x 128 with the inner 128 on partitions.
ACT = LayoutAttr.build(
    2, part=[PartRef(1, 1)], free=[PartRef(1, 0), PartRef(0, 0)], splits={1: (6, 128)}
)
# [K, N] = [1024, 512], K split 8 x 128: inner on partitions, outer unrolled.
WEIGHT = LayoutAttr.build(
    2, part=[PartRef(0, 1)], free=[1], unroll=[PartRef(0, 0)], splits={0: (8, 128)}
)


def _parse_attr(text: str) -> object:
    ctx = Context()
    ctx.load_dialect(Tile)
    return Parser(ctx, text).parse_attribute()


def _value(buf: BufferType) -> xdsl_test.TestOp:
    return xdsl_test.TestOp(result_types=[buf])


def test_layout_sizes() -> None:
    shape = (512, 768)
    assert ACT.partition_count(shape) == 128
    assert ACT.free_count(shape) == 6 * 512
    assert ACT.unroll_count(shape) == 1
    assert ACT.bytes_per_partition(shape, bf16) == 6 * 512 * 2
    wshape = (1024, 512)
    assert WEIGHT.partition_count(wshape) == 128
    assert WEIGHT.free_count(wshape) == 512
    assert WEIGHT.unroll_count(wshape) == 8
    assert WEIGHT.elems_per_partition(wshape) == 8 * 512
    assert WEIGHT.bytes_per_partition(wshape, f32) == 8 * 512 * 4


def test_layout_locate() -> None:
    # h = 300 = 2 * 128 + 44: partition 44, outer chunk 2; s = 7.
    assert ACT.locate((512, 768), (7, 300)) == (44, 2 * 512 + 7)
    # k = 300: partition 44 of tile 2; n = 5 -> offset 2 * 512 + 5.
    assert WEIGHT.locate((1024, 512), (300, 5)) == (44, 2 * 512 + 5)
    assert WEIGHT.unroll_index((1024, 512), (300, 5)) == 2
    with pytest.raises(ValueError):
        WEIGHT.locate((1024, 512), (1024, 0))


def test_layout_locate_is_a_bijection() -> None:
    layout = LayoutAttr.build(
        3, part=[PartRef(0, 1), 2], free=[1, PartRef(0, 0)], splits={0: (2, 4)}
    )
    shape = (8, 3, 4)
    seen = {layout.locate(shape, (a, b, c)) for a in range(8) for b in range(3) for c in range(4)}
    assert len(seen) == 8 * 3 * 4
    assert {p for p, _ in seen} == set(range(layout.partition_count(shape)))
    assert {o for _, o in seen} == set(range(layout.elems_per_partition(shape)))


def test_layout_syntax_round_trip() -> None:
    text = "#tile.layout<[d0 : 8x128, d1] -> part(d0.1) free(d1) unroll(d0.0)>"
    attr = _parse_attr(text)
    assert attr == WEIGHT
    assert str(WEIGHT) == text
    assert str(ACT) == "#tile.layout<[d0, d1 : 6x128] -> part(d1.1) free(d1.0, d0)>"
    assert LayoutAttr.row_major(2).is_row_major()
    assert LayoutAttr.partition_major(3).axis("free") == (PartRef(1), PartRef(2))


def test_layout_structure_rules() -> None:
    with pytest.raises(VerifyException, match="layout coverage rule: d1 is not placed"):
        LayoutAttr.build(2, part=[0])
    with pytest.raises(VerifyException, match="placed more than once"):
        LayoutAttr.build(2, part=[0], free=[1, 0])
    with pytest.raises(ParseError, match="d0 is split"):
        _parse_attr("#tile.layout<[d0 : 2x64] -> part(d0)>")


def test_buffer_type_helpers_and_rules() -> None:
    buf = BufferType((1024, 512), bf16, Memory.SBUF, WEIGHT)
    assert buf.partition_count() == 128
    assert buf.unroll_count() == 8
    assert buf.bytes_per_partition() == 8 * 512 * 2
    assert buf.locate((129, 3)) == (1, 512 + 3)
    assert element_bytes(bf16) == 2 and element_bytes(i32) == 4
    hbm = BufferType((4, 4), f32, Memory.HBM)
    assert hbm.partition_count() == 1 and hbm.get_layout().is_row_major()
    with pytest.raises(VerifyException, match="psum element type rule"):
        BufferType((128, 512), bf16, Memory.PSUM, LayoutAttr.partition_major(2))
    with pytest.raises(VerifyException, match="capacity rule"):
        BufferType((128, TRN1.psum_bank_bytes * 8), f32, Memory.PSUM, LayoutAttr.partition_major(2))
    with pytest.raises(VerifyException, match="partition extent rule"):
        BufferType((256, 4), f32, Memory.SBUF, LayoutAttr.partition_major(2))
    with pytest.raises(VerifyException, match="buffer layout rule"):
        BufferType((128, 4), f32, Memory.SBUF)
    with pytest.raises(VerifyException, match="hbm layout rule"):
        BufferType((128, 4), f32, Memory.HBM, LayoutAttr.partition_major(2))
    with pytest.raises(ParseError, match="capacity rule"):
        _parse_attr(
            "!tile.buffer<128x131072xbf16, sbuf, #tile.layout<[d0, d1] -> part(d0) free(d1)>>"
        )


def test_builders_verify() -> None:
    pm = LayoutAttr.partition_major(2)
    w_t = BufferType((128, 128), bf16, Memory.SBUF, pm)
    x_t = BufferType((128, 512), bf16, Memory.SBUF, pm)
    acc_t = BufferType((128, 512), f32, Memory.PSUM, pm)
    col_t = BufferType((128, 1), f32, Memory.SBUF, pm)
    w, x = AllocOp(w_t, address=0, start_partition=0), AllocOp(x_t, address=256)
    acc = AllocOp(acc_t, address=0, bank=0)
    hbm = _value(BufferType((1024, 512), bf16, Memory.HBM))
    view = ViewOp(hbm, [128, 0], BufferType((128, 512), bf16, Memory.HBM))
    ops = [
        w,
        x,
        acc,
        view,
        DmaOp(view, x, queue=3),
        MatmulOp(w, x, acc, accumulate=False),
        MatmulOp(w, x, acc, accumulate=True),
        ActivationOp(ActivationFunc.GELU, acc, x, scale=0.5),
        ReduceOp(AluOp.MAX, acc, [1], _value(col_t), engine=Engine.VECTOR),
        TensorScalarOp(AluOp.MUL, x, 2.0, x, engine=Engine.GPSIMD),
        CopyOp(acc, x, engine=Engine.SCALAR),
    ]
    for op in ops:
        op.verify()
    assert view.static_offset_values() == (128, 0)
    assert isinstance(acc_t.element_type, Float32Type)


def test_builder_rule_violations() -> None:
    pm = LayoutAttr.partition_major(2)
    acc = AllocOp(BufferType((128, 512), f32, Memory.PSUM, pm), address=1024)
    w = AllocOp(BufferType((128, 128), bf16, Memory.SBUF, pm))
    x = AllocOp(BufferType((128, 512), bf16, Memory.SBUF, pm))
    with pytest.raises(VerifyException, match=r"crosses a 2048-byte bank boundary"):
        MatmulOp(w, x, acc, accumulate=True).verify()
    with pytest.raises(VerifyException, match="engine rule: copy runs on vector or scalar"):
        CopyOp(x, x, engine=Engine.TENSOR).verify()
    with pytest.raises(VerifyException, match="connectivity rule: gpsimd cannot read psum"):
        CopyOp(acc, x, engine=Engine.GPSIMD).verify()
    with pytest.raises(VerifyException, match="start-partition rule"):
        AllocOp(BufferType((40, 4), f32, Memory.SBUF, pm), start_partition=32).verify()
    with pytest.raises(VerifyException, match="dma queue rule"):
        DmaOp(x, x, queue=TRN1.dma_queues).verify()


def test_shared_element_types_and_alu_tables() -> None:
    """tile and trn_isa use one table of element types and ALU ops (isa_common)."""
    from xdsl.dialects.builtin import f64, i1, i64

    from trnc.dialects import isa_common, trn_isa

    for bad in (f64, i64, i1):
        assert element_bytes(bad) is None
        with pytest.raises(VerifyException, match="buffer element type rule"):
            BufferType((4,), bad, Memory.HBM)
    assert AluOp is trn_isa.AluOp is isa_common.AluOp
    assert ActivationFunc is trn_isa.ActivationFunc
    assert AluOp.INVERT.is_bitvec and AluOp.LOGICAL_SHIFT_RIGHT.is_bitvec
    assert not AluOp.ABS_MAX.is_reduction and AluOp.BITWISE_XOR.is_reduction


def test_matmul_bank_rule_through_view() -> None:
    pm = LayoutAttr.partition_major(2)
    wide = AllocOp(BufferType((128, 1024), f32, Memory.PSUM, pm), address=0)
    w = AllocOp(BufferType((128, 128), bf16, Memory.SBUF, pm))
    x = AllocOp(BufferType((128, 512), bf16, Memory.SBUF, pm))
    half = BufferType((128, 512), f32, Memory.PSUM, pm)
    ok = ViewOp(wide, [0, 512], half)
    MatmulOp(w, x, ok, accumulate=False).verify()
    bad = ViewOp(wide, [0, 256], half)
    with pytest.raises(VerifyException, match=r"bytes \[1024, 3072\)"):
        MatmulOp(w, x, bad, accumulate=False).verify()


def test_copy_predicated_and_iota_builders() -> None:
    pm = LayoutAttr.partition_major(2)
    x = AllocOp(BufferType((128, 64), f32, Memory.SBUF, pm))
    y = AllocOp(BufferType((128, 64), f32, Memory.PSUM, pm))
    mask = AllocOp(BufferType((128, 64), ui8, Memory.SBUF, pm))
    select = CopyPredicatedOp(x, mask, y)
    select.verify()
    assert select.engine.data is Engine.VECTOR
    assert (select.input, select.predicate, select.output) == (
        x.result,
        mask.result,
        y.result,
    )
    with pytest.raises(VerifyException, match="predicate dtype rule"):
        CopyPredicatedOp(x, x, y).verify()
    with pytest.raises(VerifyException, match="copy dtype rule"):
        CopyPredicatedOp(AllocOp(BufferType((128, 64), bf16, Memory.SBUF, pm)), mask, y).verify()
    cube = BufferType((128, 4, 8), i32, Memory.SBUF, LayoutAttr.build(3, part=[0], free=[2, 1]))
    index = AllocOp(cube)
    iota = IotaOp(index, [(4, 8), (1, 4)], base=-3, channel_multiplier=32)
    iota.verify()
    assert iota.engine.data is Engine.GPSIMD
    assert iota.pattern == [(4, 8), (1, 4)]
    assert (iota.base.value.data, iota.channel_multiplier.value.data) == (-3, 32)
    with pytest.raises(VerifyException, match="iota pattern rule"):
        IotaOp(index, [(1, 4), (4, 8)]).verify()
    with pytest.raises(VerifyException, match="connectivity rule: gpsimd cannot write psum"):
        IotaOp(y, [(1, 64)]).verify()
