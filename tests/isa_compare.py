"""Shared check of the lowering tests: a compiled model's output against the graph
interpreter's on the same inputs, within `tolerance` of the largest expected magnitude
(the error of an fp32 or bf16 dot product grows with the values it sums, not with the
element it lands in)."""

from __future__ import annotations

import numpy as np

from trnc.compiler import CompiledModel
from trnc.interpreters.graph import run_graph
from trnc.tools.context import parse_source


def assert_matches_interpreter(
    model: CompiledModel,
    text: str,
    feeds: dict[str, np.ndarray],
    output: str = "y",
    tolerance: float = 1e-5,
) -> None:
    expected = run_graph(parse_source(text, "test.mlir"), feeds).outputs[output]
    got = model.run(feeds)[output]
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance * scale)
