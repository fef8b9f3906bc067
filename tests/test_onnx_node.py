"""ONNX's node conformance tests for the ops trnc supports, through `trnc.onnx_backend`
with `onnx.backend.test.BackendTest` at level "graph" (the importer plus the reference
interpreter; `test_onnx_node_isa.py` runs the same cases compiled). The selection and the
exclusions (each with its reason) live in tests/onnx_node_cases.py; the summary line
"ONNX node tests: ..." counts them.
"""

from __future__ import annotations

import warnings

import onnx.backend.test
import onnx_node_cases as cases

from trnc.onnx_backend import TrncBackend, TrncRep


class GraphLevelBackend(TrncBackend):
    """The backend with `level="graph"` (its default is "isa")."""

    @classmethod
    def prepare(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs: object) -> TrncRep:
        return super().prepare(model, device, level="graph", **kwargs)


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _selected = cases.selected_cases()

with warnings.catch_warnings():  # ONNX's case generators warn about their own numpy
    warnings.simplefilter("ignore")
    _backend_test = onnx.backend.test.BackendTest(GraphLevelBackend, __name__)
for _pattern in cases.EXCLUSIONS:
    _backend_test.exclude(_pattern.replace("$", "_cpu$"))
OnnxBackendNodeModelTest = _backend_test.test_cases["OnnxBackendNodeModelTest"]
for _attr in list(vars(OnnxBackendNodeModelTest)):
    if _attr.startswith("test_") and _attr.removesuffix("_cpu") not in _selected:
        # cases of ops trnc does not claim are not collected at all
        delattr(OnnxBackendNodeModelTest, _attr)
