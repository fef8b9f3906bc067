"""ONNX's node tests (the same selection and exclusions as tests/test_onnx_node.py) through
`level="isa"`: import, compile to trn_isa (fp32) and simulate. The lowering does not
cover every op yet (issue 5), so a case may stop with a located `CompileError` saying
what is not lowered; what it must never do is crash or give a wrong answer: a case that
compiles must match ONNX's expected outputs. The summary line counts both kinds."""

from __future__ import annotations

import warnings

import numpy as np
import onnx_node_cases as cases
import pytest
from onnx.backend.test.runner import Runner, _normalize_tensor

from trnc.compiler import CompileError
from trnc.onnx_backend import TrncBackend

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    SELECTED = {
        name: case
        for name, (_, case) in sorted(cases.selected_cases().items())
        if cases.exclusion_reason(name) is None
    }

NOT_YET = ("not lowered yet", "is not lowered", "buffer element type rule")
"""What a `CompileError` for an op the lowering does not cover yet says."""


@pytest.mark.parametrize("name", sorted(SELECTED))
def test_node_case_at_isa_level(name: str, record_property: pytest.FixtureRequest) -> None:
    case = SELECTED[name]
    rep = TrncBackend.prepare(case.model, "CPU", level="isa")
    for inputs, ref_outputs in case.data_sets:
        try:
            with np.errstate(all="ignore"):
                outputs = rep.run([_normalize_tensor(t) for t in inputs])
        except CompileError as error:
            assert any(s in str(error) for s in NOT_YET), str(error)
            record_property("isa", "not-lowered")  # type: ignore[operator]
            return
        expected = [_normalize_tensor(t) for t in ref_outputs]
        Runner.assert_similar_outputs(expected, outputs, case.rtol, case.atol)
    record_property("isa", "compiled")  # type: ignore[operator]
