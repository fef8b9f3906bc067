"""ONNX's node conformance tests for the ops trnc supports, through `trnc.onnx_backend`
with `onnx.backend.test.BackendTest` (level "graph": the importer plus the reference
interpreter). The selection and the exclusions (each with its reason) live in
tests/onnx_node_cases.py; the summary line "ONNX node tests: ..." counts them.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import onnx.backend.test

from trnc.onnx_backend import TrncBackend


def _cases_module():  # tests/ is not a package (pytest runs with --import-mode=importlib)
    path = Path(__file__).with_name("onnx_node_cases.py")
    spec = importlib.util.spec_from_file_location("trnc_onnx_node_cases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cases = _cases_module()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _selected = cases.selected_cases()

with warnings.catch_warnings():  # ONNX's case generators warn about their own numpy
    warnings.simplefilter("ignore")
    _backend_test = onnx.backend.test.BackendTest(TrncBackend, __name__)
for _pattern in cases.EXCLUSIONS:
    _backend_test.exclude(_pattern.replace("$", "_cpu$"))
OnnxBackendNodeModelTest = _backend_test.test_cases["OnnxBackendNodeModelTest"]
for _attr in list(vars(OnnxBackendNodeModelTest)):
    if _attr.startswith("test_") and _attr.removesuffix("_cpu") not in _selected:
        # cases of ops trnc does not claim are not collected at all
        delattr(OnnxBackendNodeModelTest, _attr)
