"""ONNX's node tests (the same selection and exclusions as tests/test_onnx_node.py) through
`level="isa"`: import, compile to trn_isa (fp32) and simulate. The lowering does not
cover every op yet (issue 5), so a case may stop with a located `CompileError` saying
what is not lowered; what it must never do is crash or give a wrong answer: a case that
compiles must match ONNX's expected outputs. The summary line counts both kinds."""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from onnx.backend.test.runner import Runner, _normalize_tensor

from trnc.compiler import CompileError
from trnc.onnx_backend import TrncBackend


def _cases_module():
    path = Path(__file__).with_name("onnx_node_cases.py")
    spec = importlib.util.spec_from_file_location("trnc_onnx_node_cases_isa", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cases = _cases_module()
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
