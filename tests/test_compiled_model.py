"""`CompiledModel.run` with inputs missing: an error naming them, unless the caller asks for
seeded random data (`random_inputs=True`, the data `trn-compile --random-inputs` uses:
gather indices within their tables) or runs timing-only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import trnc
from trnc.compiler import CompileError

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
