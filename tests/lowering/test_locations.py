"""Every instruction of a compiled model keeps the location of the ONNX node it computes
(issue 17), through every pass: none is `loc(unknown)` or named after its own op, and
the fused chains (dense layers, feed-forward blocks, attention) give each stage its own
node."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

import trnc
from trnc.simulator.program import decode

ROOT = Path(__file__).resolve().parents[2]


def _node_names(model: Path) -> set[str]:
    return {node.name for node in onnx.load(str(model), load_external_data=False).graph.node}


@pytest.mark.parametrize(
    ("model", "shapes"),
    [
        ("examples/mlp.onnx", {"x": [8, 64]}),
        (
            "examples/bert_tiny.onnx",
            {n: [2, 16] for n in ("input_ids", "attention_mask", "token_type_ids")},
        ),
        ("examples/gpt2_tiny.onnx", {n: [1, 16] for n in ("input_ids", "attention_mask")}),
        ("tests/models/cnn.onnx", {"x": [2, 3, 32, 32]}),
    ],
)
@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_every_instruction_names_an_onnx_node(
    model: str, shapes: dict[str, list[int]] | None, dtype: str
) -> None:
    path = ROOT / model
    compiled = trnc.compile(str(path), input_shapes=shapes, dtype=dtype)
    program = decode(compiled.module)
    names = _node_names(path)
    unnamed = [(i.opcode, i.loc) for i in program.instrs if i.loc not in names]
    assert program.instrs
    assert not unnamed, f"{len(unnamed)} of {len(program.instrs)}: {unnamed[:5]}"


def test_fused_chains_locate_each_stage() -> None:
    """The MLP's feed-forward block (fc1, its ReLU, fc2) is lowered as one pattern, yet
    its instructions name fc1, the ReLU and fc2 separately."""
    compiled = trnc.compile(str(ROOT / "examples/mlp.onnx"), input_shapes={"x": [8, 64]})
    locs = {(i.opcode, i.loc) for i in decode(compiled.module).instrs}
    assert ("matmul", "/fc1/Gemm") in locs
    assert ("matmul", "/fc2/Gemm") in locs
    assert ("activation", "/Relu") in locs
