"""`CompiledModel.run` with inputs missing: an error naming them, unless the caller asks for
seeded random data (`random_inputs=True`, the data `trn-compile --random-inputs` uses:
gather indices within their tables) or runs timing-only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import trnc
from trnc.compiler import CompileError
from trnc.tools.trn_run import main as trn_run

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BERT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@pytest.fixture(scope="module")
def bert() -> trnc.CompiledModel:
    shapes = {name: [1, 8] for name in BERT_INPUTS}
    return trnc.compile(str(EXAMPLES / "bert_tiny.onnx"), input_shapes=shapes, dtype="fp32")


def test_missing_inputs_are_an_error_naming_them(bert: trnc.CompiledModel) -> None:
    ids = np.zeros((1, 8), np.int64)
    with pytest.raises(CompileError, match=r"'attention_mask', 'token_type_ids'.*random_inputs"):
        bert.run({"input_ids": ids})


def test_random_inputs_index_within_their_tables_and_are_seeded(bert: trnc.CompiledModel) -> None:
    feeds = bert.random_feeds(seed=3)
    assert set(feeds) == set(BERT_INPUTS)
    for name, bound in bert.index_bounds.items():
        assert feeds[name].min() >= 0 and feeds[name].max() < bound, name
    first = bert.run(random_inputs=True, seed=3)
    again = bert.run(feeds)
    assert first.keys() == again.keys()
    for name in first:
        assert first[name].tobytes() == again[name].tobytes(), name


def test_timing_only_needs_no_inputs(bert: trnc.CompiledModel) -> None:
    assert bert.run(timing_only=True) == {}
    assert bert.report["simulation"]["simulated_ns"] > 0


def _small_gather(path: Path) -> Path:
    """ids [64] (int64) pick rows of a 5-row table: random ids of 0..9 would miss it."""
    table = numpy_helper.from_array(np.arange(15, dtype=np.float32).reshape(5, 3), "table")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["y"], axis=0)],
        "small",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [64, 3])],
        initializer=[table],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


def test_a_saved_program_keeps_its_index_bounds(tmp_path: Path) -> None:
    """Random gather indices of a program read back from its text (`trnc.load`, `trn-run
    --random-inputs`) stay within the table too: `graph.index_bounds` on the program."""
    model = trnc.compile(str(_small_gather(tmp_path / "small.onnx")), dtype="fp32")
    assert model.index_bounds == {"ids": 5}
    model.save(tmp_path / "small.mlir")
    loaded = trnc.load(tmp_path / "small.mlir")
    assert loaded.index_bounds == {"ids": 5}
    rows = loaded.run(random_inputs=True)["y"]
    assert set(rows[:, 0].tolist()) <= {0.0, 3.0, 6.0, 9.0, 12.0}
    assert trn_run([str(tmp_path / "small.mlir"), "--random-inputs"]) == 0
