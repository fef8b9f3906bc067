"""Which ONNX node conformance tests trnc runs, and the one list of exclusions.

Shared by tests/test_onnx_node.py (which runs them through `onnx.backend.test`) and
tests/onnx_node_report.py (which writes the table of docs/ONNX.md).

A case is selected when its model is a single node of one of `OPS`, or it is the
`_expanded` variant (the op's function body) of a selected case. A case is excluded only
for a reason that is not a fixable trnc bug; each reason says why (`EXCLUSIONS` at every
level, `ISA_EXCLUSIONS` for the compiled level only).
"""

from __future__ import annotations

import re
from functools import cache

from onnx.backend.test.case.test_case import TestCase
from onnx.backend.test.loader import load_model_tests

OPS = [
    "MatMul",
    "Gemm",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Sqrt",
    "Reciprocal",
    "Neg",
    "Abs",
    "Max",
    "Min",
    "Sum",
    "Relu",
    "LeakyRelu",
    "Gelu",
    "Tanh",
    "Sigmoid",
    "HardSigmoid",
    "Clip",
    "Exp",
    "Log",
    "Erf",
    "Softmax",
    "LogSoftmax",
    "LayerNormalization",
    "BatchNormalization",
    "Transpose",
    "Reshape",
    "Flatten",
    "Squeeze",
    "Unsqueeze",
    "Expand",
    "Concat",
    "Split",
    "Slice",
    "Gather",
    "Where",
    "Equal",
    "Cast",
    "Constant",
    "ConstantOfShape",
    "Identity",
    "Dropout",
    "ReduceMean",
    "ReduceSum",
    "ReduceMax",
    "Conv",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    # issue 16, as compositions of the ops above (frontend/onnx/ops_composite.py)
    "HardSwish",
    "Softplus",
    "Mish",
    "PRelu",
    "Sign",
    "ReduceSumSquare",
    "ReduceL1",
    "ReduceL2",
    "ReduceLogSumExp",
    "ReduceMin",
    "GlobalMaxPool",
    "InstanceNormalization",
]
"""The op types issues 4 and 16 list."""

_DTYPES_WITHOUT_SUPPORT = "FLOAT8|FLOAT4|INT4|UINT4|INT2|UINT2|e8m0|FLOAT8E8M0"

EXCLUSIONS: dict[str, str] = {
    rf"^test_cast(like)?_.*({_DTYPES_WITHOUT_SUPPORT})": (
        "float8 / float4 / int4 / int2 element types: trnc's graph dialect has no such dtype"
    ),
    r"^test_equal_string": "string tensors: trnc computes on numbers only",
    r"^test_identity_sequence$": "sequence values: trnc supports tensors only",
    r"^test_identity_opt$": "optional values: trnc supports tensors only",
    r"^test_training_dropout(_default|_mask|)(_mask)?$": (
        "training-mode Dropout with a nonzero ratio draws random masks (not reproducible)"
    ),
    r"^test_batchnorm_.*training_mode": (
        "BatchNormalization in training mode (batch statistics, running-stat outputs): "
        "trnc compiles inference"
    ),
    r"^test_maxpool_with_argmax": (
        "MaxPool's Indices output: no graph op or NeuronCore instruction produces argmax indices"
    ),
}
"""Regex on the case name -> reason, at every level."""

ISA_EXCLUSIONS: dict[str, str] = {
    r"^test_(cast|castlike)_(DOUBLE_to_|(FLOAT|FLOAT16)_to_DOUBLE)|^test_(max|min)_float64$"
    r"|^test_reduce_log_sum_exp_(?!empty_set$)": (
        "float64 tensors: the NeuronCore has no 64-bit float type (trn1.md B.3 dtypes), and "
        "narrowing to fp32 would change the answer"
    ),
    r"^test_(add|sub|mul|div|equal|max|min)_uint64$|^test_pow_types_float32_uint64$": (
        "uint64 tensors: the NeuronCore has no 64-bit integer type (trn1.md B.3 dtypes), and "
        "uint64 values beyond int32 cannot be narrowed"
    ),
    r"^test_(add|sub|mul|div)_uint32$|^test_div_int32_trunc$|^test_mul_u?int16$": (
        "32-bit integer results (uint32 add/sub/mul/div, int32 div, 16-bit mul): the engines' "
        "arithmetic is fp32 (trn1.md B.3), exact only up to 2^24, so these could be wrong"
    ),
    r"^test_pow_types_int(32|64)_(int32|int64|float32)$": (
        "integer Pow: the engines compute pow in fp32 (trn1.md B.3); integer powers exceed "
        "2^24 and fp32 pow is not exact, so the result could be wrong"
    ),
}
"""Regex -> reason for cases the compiled (`isa`) level cannot run exactly on the
hardware's datatypes; the graph level runs them."""


def exclusion_reason(name: str, level: str = "graph") -> str | None:
    """Why the case is excluded at `level` (None if it runs)."""
    tables = (EXCLUSIONS, ISA_EXCLUSIONS) if level == "isa" else (EXCLUSIONS,)
    for table in tables:
        for pattern, reason in table.items():
            if re.search(pattern, name):
                return reason
    return None


def op_of(case: TestCase) -> str | None:
    """The op type a selected case tests (None if it is not selected)."""
    nodes = case.model.graph.node if case.model is not None else []
    if len(nodes) == 1 and nodes[0].op_type in OPS and nodes[0].domain in ("", "ai.onnx"):
        return nodes[0].op_type
    return None


@cache
def selected_cases() -> dict[str, tuple[str, TestCase]]:
    """Case name -> (op type, case), the direct cases and their `_expanded` variants."""
    cases = load_model_tests(kind="node")
    direct = {c.name: (op, c) for c in cases if (op := op_of(c)) is not None}
    out = dict(direct)
    for c in cases:
        if "_expanded" in c.name:
            base = c.name.split("_expanded")[0]
            if base in direct:
                out[c.name] = (direct[base][0], c)
    return out
