"""ONNX's node tests (the same selection as tests/test_onnx_node.py) through `level="isa"`:
import, compile to trn_isa (fp32) and simulate; every case must compile and match ONNX's
expected outputs. Excluded: the graph level's exclusions and `ISA_EXCLUSIONS` (64-bit
types and integer results the fp32 engines cannot compute exactly), each with its reason;
a compile error for those must still be a located "not lowered" error, never a crash or
a wrong answer, which `test_excluded_case_at_isa_level_is_refused` checks."""

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
    _ALL = sorted(cases.selected_cases().items())
    SELECTED = {
        name: case for name, (_, case) in _ALL if cases.exclusion_reason(name, "isa") is None
    }
    REFUSED = {
        name: case
        for name, (_, case) in _ALL
        if cases.exclusion_reason(name) is None and cases.exclusion_reason(name, "isa") is not None
    }

NOT_YET = ("not lowered yet", "is not lowered", "buffer element type rule")
"""What a `CompileError` for what the lowering does not cover says."""


@pytest.mark.parametrize("name", sorted(SELECTED))
def test_node_case_at_isa_level(name: str, record_property: pytest.FixtureRequest) -> None:
    case = SELECTED[name]
    rep = TrncBackend.prepare(case.model, "CPU", level="isa")
    for inputs, ref_outputs in case.data_sets:
        with np.errstate(all="ignore"):
            outputs = rep.run([_normalize_tensor(t) for t in inputs])
        expected = [_normalize_tensor(t) for t in ref_outputs]
        Runner.assert_similar_outputs(expected, outputs, case.rtol, case.atol)
    record_property("isa", "compiled")  # type: ignore[operator]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_excluded_case_at_isa_level_is_refused(
    name: str, record_property: pytest.FixtureRequest
) -> None:
    """An `ISA_EXCLUSIONS` case stops at a located error naming what is not lowered."""
    case = REFUSED[name]
    rep = TrncBackend.prepare(case.model, "CPU", level="isa")
    inputs, _ = case.data_sets[0]
    with pytest.raises(CompileError) as error:
        rep.run([_normalize_tensor(t) for t in inputs])
    assert any(s in str(error.value) for s in NOT_YET), str(error.value)
    record_property("isa", "not-lowered")  # type: ignore[operator]
