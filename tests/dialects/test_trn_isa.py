"""Tests for the Python helpers of the `trn_isa` dialect: access-pattern geometry, DMA
chunks, builders, accessors and the verifiers' rules."""

from __future__ import annotations

import math

import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import (
    Builtin,
    IntegerType,
    ModuleOp,
    Signedness,
    TensorType,
    bf16,
    f32,
    i32,
)
from xdsl.ir import TypeAttribute
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from trnc.dialects.trn_isa import (
    AccessPatternAttr,
    ActivationOp,
    AffineSelectOp,
    AluOp,
    CompareOp,
    DmaCopyOp,
    EngineKind,
    HbmRole,
    HbmTensorOp,
    IotaOp,
    MatmulOp,
    MemoryKind,
    MemsetOp,
    ProgramOp,
    TensorCopyPredicatedOp,
    TensorReduceOp,
    TensorScalarOp,
    TensorTensorOp,
    TransposeOp,
    TrnIsa,
    dma_chunks,
    element_bytes,
    sem,
    wait,
)
from trnc.machine import Engine


def _ctx() -> Context:
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(TrnIsa)
    return ctx


def _parse_attr(text: str) -> AccessPatternAttr:
    attr = Parser(_ctx(), text).parse_attribute()
    assert isinstance(attr, AccessPatternAttr)
    return attr


ui8 = IntegerType(8, Signedness.UNSIGNED)


def _sbuf(
    start: int, count: int, offset: int, dims: list[tuple[int, int]], dtype: TypeAttribute = bf16
) -> AccessPatternAttr:
    return AccessPatternAttr.on_chip("sbuf", start, count, offset, dims, dtype)


def _psum(
    start: int, count: int, offset: int, dims: list[tuple[int, int]], dtype: TypeAttribute = f32
) -> AccessPatternAttr:
    return AccessPatternAttr.on_chip("psum", start, count, offset, dims, dtype)


def _print(op: ProgramOp) -> str:
    import io

    out = io.StringIO()
    Printer(stream=out).print_op(op)
    return out.getvalue()


# --- access patterns --------------------------------------------------------------------


def test_ap_syntax_round_trips_and_matches_builder() -> None:
    text = "#trn_isa.ap<sbuf[64:96] + 1024, [[512, 4], [1, 128]], bf16>"
    ap = _parse_attr(text)
    assert ap == _sbuf(64, 32, 1024, [(512, 4), (1, 128)])
    assert ap.mem is MemoryKind.SBUF
    assert (ap.start, ap.partitions) == (64, 32)
    assert ap.free_dims == [(512, 4), (1, 128)]
    assert str(ap) == "sbuf[64:96] + 1024, [[512, 4], [1, 128]]"


def test_hbm_ap_first_pair_is_partition_mapped_dim() -> None:
    ap = _parse_attr("#trn_isa.ap<hbm + 4096, [[768, 128], [1, 512]], f32>")
    assert ap == AccessPatternAttr.hbm(4096, (768, 128), [(1, 512)], f32)
    assert ap.is_hbm
    assert ap.partitions == 128
    assert ap.partition_step.data == 768
    assert ap.free_dims == [(1, 512)]
    assert ap.free_elems == 512
    # row p covers [4096 + p*768*4, +512*4)
    assert ap.partition_byte_range(0) == (4096, 4096 + 2048)
    assert ap.partition_byte_range(3) == (4096 + 3 * 3072, 4096 + 3 * 3072 + 2048)
    assert ap.byte_range() == (4096, 4096 + 127 * 3072 + 2048)


def test_ap_offset_defaults_to_zero() -> None:
    ap = _parse_attr("#trn_isa.ap<psum[0:128], [[1, 512]], f32>")
    assert ap.offset.data == 0
    assert ap.free_byte_range() == (0, 2048)


def test_elements_and_bytes() -> None:
    ap = _sbuf(0, 128, 100, [(16, 4), (1, 8)], bf16)
    assert ap.elem_bytes == 2
    assert ap.free_elems == 32
    assert ap.total_elems == 128 * 32
    assert ap.total_bytes == 128 * 32 * 2
    # last element at offset 100 + (3*16 + 7)*2 = 210, so [100, 212)
    assert ap.free_byte_range() == (100, 212)
    # on chip every partition touches the same range
    assert ap.partition_byte_range(5) == (100, 212)


def test_negative_step_byte_range() -> None:
    ap = _sbuf(0, 1, 1000, [(-1, 10)], f32)
    assert ap.free_byte_range() == (1000 - 36, 1004)


def test_scalar_per_partition_ap() -> None:
    ap = _sbuf(0, 128, 8, [], f32)
    assert ap.free_elems == 1
    assert ap.free_byte_range() == (8, 12)
    assert ap.is_contiguous()


def test_contiguity_and_chunks_on_chip() -> None:
    contiguous = _sbuf(0, 128, 0, [(64, 4), (1, 64)])
    assert contiguous.is_contiguous()
    assert contiguous.chunk_elems() == 256
    assert contiguous.num_chunks() == 128  # one per partition: chunks never cross partitions
    strided = _sbuf(0, 128, 0, [(128, 4), (1, 64)])
    assert not strided.is_contiguous()
    assert strided.chunk_elems() == 64
    assert strided.chunk_bytes() == 128
    assert strided.num_chunks() == 128 * 4
    gather = _sbuf(0, 16, 0, [(2, 100)])
    assert gather.chunk_elems() == 1
    assert gather.num_chunks() == 1600
    # a count-1 dim does not break contiguity
    assert _sbuf(0, 1, 0, [(999, 1), (1, 32)]).is_contiguous()


def test_hbm_rows_merge_when_adjacent() -> None:
    dense = AccessPatternAttr.hbm(0, (512, 128), [(1, 512)], bf16)
    assert dense.is_contiguous()
    assert dense.num_chunks() == 1
    assert dense.chunk_bytes() == 128 * 512 * 2
    rows = AccessPatternAttr.hbm(0, (768, 128), [(1, 512)], bf16)
    assert not rows.is_contiguous()
    assert rows.num_chunks() == 128
    assert rows.chunk_bytes() == 1024


def test_dma_chunks_break_where_either_side_breaks() -> None:
    sbuf = _sbuf(0, 128, 0, [(1, 512)])
    hbm_dense = AccessPatternAttr.hbm(0, (512, 128), [(1, 512)], bf16)
    chunks = dma_chunks(sbuf, hbm_dense)
    assert chunks.count == 128
    assert chunks.bytes_per_chunk(2) == 1024
    # HBM side with 128-element runs: each SBUF row splits into 4 chunks
    hbm_cols = AccessPatternAttr.hbm(0, (2048, 128), [(512, 4), (1, 128)], bf16)
    assert dma_chunks(sbuf, hbm_cols).count == 512
    # runs of 3 and 2 elements over 12: breaks at 3,6,9 and 2,4,6,8,10 -> 8 chunks
    a = _sbuf(0, 1, 0, [(4, 4), (1, 3)])
    b = _sbuf(0, 1, 0, [(3, 6), (1, 2)])
    assert (a.chunk_elems(), b.chunk_elems()) == (3, 2)
    assert dma_chunks(a, b).count == 8


def test_element_bytes() -> None:
    assert element_bytes(f32) == 4
    assert element_bytes(bf16) == 2
    assert element_bytes(i32) == 4
    assert element_bytes(TensorType(f32, [2])) is None


# --- semaphores --------------------------------------------------------------------------


def test_semaphore_helpers() -> None:
    s = sem("dma3.s1")
    assert s.owner_name == "dma3"
    assert s.dma_queue == 3
    assert s.engine is None
    assert str(s) == "dma3.s1"
    v = sem("vector.s2")
    assert v.engine is EngineKind.VECTOR
    assert v.dma_queue is None
    w = wait("tensor.s0", 4)
    assert str(w) == "tensor.s0 >= 4"
    with pytest.raises(ValueError):
        sem("vector")


# --- builders and program -----------------------------------------------------------------


def _mlp_program() -> ProgramOp:
    x_tile = _sbuf(0, 128, 0, [(1, 128)])
    w_tile = _sbuf(0, 128, 256, [(1, 512)])
    acc = _psum(0, 128, 0, [(1, 512)])
    y_tile = _sbuf(0, 128, 1280, [(1, 512)])
    return ProgramOp(
        "mlp",
        [
            HbmTensorOp("x", TensorType(bf16, [128, 128]), 0, "input"),
            HbmTensorOp("w", TensorType(bf16, [128, 512]), 32768, HbmRole.WEIGHT),
            HbmTensorOp("y", TensorType(bf16, [128, 512]), 163840, "output"),
            DmaCopyOp(
                x_tile,
                AccessPatternAttr.hbm(0, (128, 128), [(1, 128)], bf16),
                0,
                signals=[sem("dma0.s0")],
            ),
            DmaCopyOp(
                w_tile,
                AccessPatternAttr.hbm(32768, (512, 128), [(1, 512)], bf16),
                1,
                signals=[sem("dma1.s0")],
            ),
            MatmulOp(
                acc,
                x_tile,
                w_tile,
                waits=[wait("dma0.s0", 1), wait("dma1.s0", 1)],
                signals=[sem("tensor.s0")],
            ),
            ActivationOp(
                "gelu",
                y_tile,
                acc,
                scale=1.0,
                waits=[wait("tensor.s0", 1)],
                signals=[sem("scalar.s0")],
            ),
            DmaCopyOp(
                AccessPatternAttr.hbm(163840, (512, 128), [(1, 512)], bf16),
                y_tile,
                2,
                waits=[wait("scalar.s0", 1)],
                signals=[sem("dma2.s0")],
            ),
        ],
        weights_file="mlp.npz",
    )


def test_built_program_verifies_and_round_trips() -> None:
    prog = _mlp_program()
    prog.verify()
    text = _print(prog)
    assert "trn_isa.matmul dst #trn_isa.ap<psum[0:128] + 0, [[1, 512]], f32>" in text
    assert "{accumulate = false} on tensor wait [dma0.s0 >= 1, dma1.s0 >= 1]" in text
    module = Parser(_ctx(), text).parse_module()
    assert isinstance(module, ModuleOp)
    reparsed = module.body.block.first_op
    assert isinstance(reparsed, ProgramOp)
    reparsed.verify()
    assert _print(reparsed) == text


def test_program_accessors() -> None:
    prog = _mlp_program()
    assert [t.sym_name.data for t in prog.hbm_tensors()] == ["x", "w", "y"]
    assert [i.name for i in prog.instructions()] == [
        "trn_isa.dma_copy",
        "trn_isa.dma_copy",
        "trn_isa.matmul",
        "trn_isa.activation",
        "trn_isa.dma_copy",
    ]
    w = prog.tensor("w")
    assert w is not None
    assert w.size_bytes == 128 * 512 * 2
    assert w.byte_range == (32768, 32768 + 131072)
    assert w.role_kind is HbmRole.WEIGHT
    assert prog.tensor_at(32768, 32768 + 1024) is w
    assert prog.tensor_at(32000, 33000) is None
    assert prog.weights_file is not None and prog.weights_file.data == "mlp.npz"


def test_instruction_accessors() -> None:
    prog = _mlp_program()
    dma_in, _, mm, act, dma_out = prog.instructions()
    assert isinstance(mm, MatmulOp)
    assert (mm.k, mm.m, mm.n) == (128, 128, 512)
    assert not mm.is_accumulate
    assert mm.machine_engine is Engine.TENSOR
    assert [n for n, _ in mm.writes()] == ["dst"]
    assert [n for n, _ in mm.reads()] == ["stationary", "moving"]
    assert isinstance(dma_in, DmaCopyOp)
    assert dma_in.queue_index == 0
    assert dma_in.machine_engine is Engine.DMA
    assert dma_in.cast is None
    assert dma_in.chunks().count == 128
    assert isinstance(dma_out, DmaCopyOp)
    assert dma_out.chunks().count == 128  # SBUF side breaks per partition
    assert isinstance(act, ActivationOp)
    assert act.engine_kind is EngineKind.SCALAR


def test_dma_builder_sets_cast_when_dtypes_differ() -> None:
    op = DmaCopyOp(_sbuf(0, 128, 0, [(1, 64)], f32), _sbuf(0, 128, 512, [(1, 64)], bf16), 5)
    assert op.cast is not None
    op.verify()


def test_tensor_scalar_and_tensor_tensor_builders() -> None:
    dst = _sbuf(0, 128, 0, [(1, 64)], f32)
    src = _sbuf(0, 128, 256, [(1, 64)], f32)
    ts = TensorScalarOp(dst, src, "mul", 2.0, AluOp.ADD, _sbuf(0, 128, 1024, [], f32))
    ts.verify()
    assert [n for n, _ in ts.reads()] == ["src", "operand1"]
    tt = TensorTensorOp("max", dst, src, _psum(0, 128, 0, [(1, 64)]), EngineKind.VECTOR)
    tt.verify()
    tt_bad = TensorTensorOp("add", dst, src, src, EngineKind.SCALAR)
    with pytest.raises(VerifyException, match="engine rule"):
        tt_bad.verify()


def test_reduce_helpers() -> None:
    src = _sbuf(0, 128, 0, [(128, 4), (1, 128)], f32)
    op = TensorReduceOp("add", _sbuf(0, 128, 4096, [(1, 4)], f32), src, axes=1)
    op.verify()
    assert op.reduced_elems == 128
    op2 = TensorReduceOp("max", _sbuf(0, 128, 4096, [], f32), src, axes=2, negate=True)
    op2.verify()
    assert op2.reduced_elems == 512


def test_affine_value_and_compare() -> None:
    dst = _sbuf(0, 128, 0, [(1, 128)], f32)
    op = AffineSelectOp(
        "ge", dst, _sbuf(0, 128, 512, [(1, 128)], f32), [(-1, 128)], -math.inf, 0, 1
    )
    op.verify()
    # causal mask: keep where p - i >= 0
    assert op.value_at(5, [3]) == 2
    assert CompareOp.GE.holds(op.value_at(5, [3]))
    assert not CompareOp.GE.holds(op.value_at(3, [5]))
    iota = IotaOp(_sbuf(0, 128, 0, [(1, 512)], i32), [(1, 512)], base=7, channel_multiplier=512)
    iota.verify()
    assert iota.value_at(2, [10]) == 7 + 1024 + 10


def test_verifier_rules_raise_named_errors() -> None:
    acc_bad_bank = _psum(0, 128, 1024, [(1, 512)])
    mm = MatmulOp(acc_bad_bank, _sbuf(0, 128, 0, [(1, 128)]), _sbuf(0, 128, 256, [(1, 512)]))
    with pytest.raises(VerifyException, match="psum bank rule"):
        mm.verify()
    tp = TransposeOp(_psum(0, 64, 0, [(1, 128)]), _sbuf(0, 128, 0, [(1, 64)], f32))
    tp.verify()
    bad_start = MemsetOp(_sbuf(32, 40, 0, [(1, 8)]), 0.0)
    with pytest.raises(VerifyException, match="start-partition rule"):
        bad_start.verify()
    bad_sem = MemsetOp(_sbuf(0, 128, 0, [(1, 8)]), 0.0, signals=[sem("sync.s0")])
    with pytest.raises(VerifyException, match="semaphore owner rule"):
        bad_sem.verify()


def test_program_rules_raise_named_errors() -> None:
    overlap = ProgramOp(
        "p",
        [
            HbmTensorOp("a", TensorType(f32, [16]), 0, "input"),
            HbmTensorOp("b", TensorType(f32, [16]), 32, "output"),
        ],
    )
    with pytest.raises(VerifyException, match=r"hbm overlap rule: @a at bytes \[0, 64\)"):
        overlap.verify()
    outside = ProgramOp(
        "p",
        [
            HbmTensorOp("a", TensorType(f32, [128, 16]), 0, "input"),
            DmaCopyOp(
                _sbuf(0, 128, 0, [(1, 16)], f32),
                AccessPatternAttr.hbm(64, (16, 128), [(1, 16)], f32),
                0,
            ),
        ],
    )
    with pytest.raises(VerifyException, match=r"hbm access rule: .*\[64, 8256\)"):
        outside.verify()


def test_reciprocal_builder() -> None:
    from trnc.dialects.trn_isa import ReciprocalOp

    dst = _sbuf(0, 128, 0, [(1, 64)], f32)
    src = _sbuf(0, 128, 256, [(1, 64)], f32)
    op = ReciprocalOp(dst, src)
    op.verify()
    assert op.engine_kind is EngineKind.VECTOR
    assert [name for name, _ in op.access_patterns()] == ["dst", "src"]


def test_tensor_copy_predicated_reads_and_writes_dst() -> None:
    dst = _psum(0, 128, 0, [(1, 64)])
    src = _sbuf(0, 128, 256, [(1, 64)], f32)
    pred = _sbuf(0, 128, 1024, [(1, 64)], ui8)
    op = TensorCopyPredicatedOp(dst, src, pred)
    op.verify()
    assert op.engine_kind is EngineKind.VECTOR
    # The elements the predicate skips keep their data: dst is read as well as written.
    assert [n for n, _ in op.writes()] == ["dst"]
    assert [n for n, _ in op.reads()] == ["dst", "src", "predicate"]
    assert [n for n, _ in op.access_patterns()] == ["dst", "src", "predicate"]
    with pytest.raises(VerifyException, match="predicate dtype rule: predicate must be"):
        TensorCopyPredicatedOp(dst, src, _sbuf(0, 128, 1024, [(1, 64)], f32)).verify()
    with pytest.raises(VerifyException, match="copy dtype rule"):
        TensorCopyPredicatedOp(_sbuf(0, 128, 0, [(1, 64)]), src, pred).verify()
