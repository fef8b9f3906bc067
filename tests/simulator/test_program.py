"""Decoding a trn_isa program into the simulator's records."""

from __future__ import annotations

from pathlib import Path

from xdsl.dialects import builtin

from trnc.simulator.program import QUEUE_NAMES, decode
from trnc.tools.context import parse_source

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "matmul_gelu.mlir"


def _parse(text: str, name: str) -> builtin.ModuleOp:
    return parse_source(text, name)


def test_decode_example_program() -> None:
    program = decode(_parse(EXAMPLE.read_text(), "matmul_gelu.mlir"))
    assert program.name == "matmul_gelu"
    assert [(t.name, t.role, t.address, t.nbytes) for t in program.tensors] == [
        ("x", "input", 0, 128 * 128 * 4),
        ("w", "weight", 65536, 128 * 512 * 4),
        ("y", "output", 327680, 128 * 512 * 4),
    ]
    assert program.hbm_bytes == 327680 + 128 * 512 * 4
    opcodes = [(i.opcode, QUEUE_NAMES[i.queue]) for i in program.instrs]
    assert opcodes == [
        ("dma_copy", "dma0"),
        ("dma_copy", "dma1"),
        ("transpose", "tensor"),
        ("tensor_copy", "vector"),
        ("matmul", "tensor"),
        ("activation", "scalar"),
        ("dma_copy", "dma2"),
    ]
    matmul = program.instrs[4]
    assert matmul.args["accumulate"] is False
    names = program.semaphore_names
    assert [(names[s], v) for s, v in matmul.waits] == [("vector.s0", 1), ("dma1.s0", 1)]
    assert [names[s] for s in matmul.signals] == ["tensor.s1"]
    dst = matmul.writes[0]
    assert (dst.mem, dst.start, dst.partitions, dst.offset, dst.dims, dst.dtype) == (
        "psum",
        0,
        128,
        2048,
        ((1, 512),),
        "f32",
    )
    load = program.instrs[0].reads[0]
    assert (load.mem, load.partitions, load.pstep, load.offset, load.dims) == (
        "hbm",
        128,
        128,
        0,
        ((1, 128),),
    )
    assert matmul.loc.endswith(":3") and "matmul_gelu.mlir:" in matmul.loc
