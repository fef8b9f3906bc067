"""Shared helpers for the graph interpreter's op-by-op comparison with onnxruntime
(tests/interpreters/test_graph_interp.py and its case tables,
tests/graph_interp_cases_elementwise.py and tests/graph_interp_cases_structural.py).

A `Case` is one graph op built with the dialect's Python builders (so the builders' shape
inference is exercised too) and the equivalent single-node ONNX model with the same
attributes; `run_interpreter` and `run_onnxruntime` run them on the same seeded random
inputs (`rand`) and `assert_matches` compares: float32 with rtol 1e-5 / atol 1e-6,
integers and booleans exactly, shapes and dtypes strictly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ml_dtypes
import numpy as np
import onnxruntime as ort
from onnx import NodeProto, helper, numpy_helper
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    IntegerType,
    ModuleOp,
    Signedness,
    StringAttr,
    TensorType,
    bf16,
    f16,
    f32,
    f64,
    i1,
)
from xdsl.ir import Attribute, Block, Operation, Region

from trnc.interpreters.graph import run_graph

OPSET = 21
BF16 = np.dtype(ml_dtypes.bfloat16)

_MLIR: dict[np.dtype[Any], Attribute] = {
    np.dtype(np.float32): f32,
    np.dtype(np.float16): f16,
    np.dtype(np.float64): f64,
    BF16: bf16,
    np.dtype(np.bool_): i1,
    **{np.dtype(f"i{n // 8}"): IntegerType(n) for n in (8, 16, 32, 64)},
    **{np.dtype(f"u{n // 8}"): IntegerType(n, Signedness.UNSIGNED) for n in (8, 16, 32, 64)},
}


def mlir_type(array: np.ndarray) -> TensorType[Attribute]:
    return TensorType(_MLIR[array.dtype], array.shape)


Build = Callable[..., Operation | list[Operation]]


def run_interpreter(build: Build, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Run the op(s) `build(*args)` makes (the last one's result is the output)."""
    types = [mlir_type(a) for a in inputs.values()]
    block = Block(arg_types=types)
    built = build(*block.args)
    ops = built if isinstance(built, list) else [built]
    result = ops[-1].results[0]
    block.add_ops([*ops, func.ReturnOp(result)])
    names = ArrayAttr([DictionaryAttr({"graph.name": StringAttr(n)}) for n in inputs])
    function = func.FuncOp("main", (types, [result.type]), Region(block), arg_attrs=names)
    module = ModuleOp([function])
    module.verify()
    outputs = run_graph(module, inputs).outputs
    return outputs["output0"]


def run_onnxruntime(
    nodes: Sequence[NodeProto],
    inputs: dict[str, np.ndarray],
    out_dtype: np.dtype[Any],
    initializers: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    graph_inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
        for n, a in inputs.items()
    ]
    out = helper.make_tensor_value_info(
        nodes[-1].output[0], helper.np_dtype_to_tensor_dtype(out_dtype), None
    )
    inits = [numpy_helper.from_array(v, n) for n, v in (initializers or {}).items()]
    graph = helper.make_graph(list(nodes), "case", graph_inputs, [out], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)[0]


def assert_matches(
    got: np.ndarray, want: np.ndarray, rtol: float = 1e-5, atol: float = 1e-6
) -> None:
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, strict=True)
        if rtol == atol == 0.0:  # exact: zeros keep their sign too
            zeros = (got == 0) & (want == 0)
            np.testing.assert_array_equal(np.signbit(got[zeros]), np.signbit(want[zeros]))
    else:
        np.testing.assert_array_equal(got, want, strict=True)


def node(op_type: str, inputs: Sequence[str], **attrs: Any) -> NodeProto:
    return helper.make_node(op_type, list(inputs), ["out"], **attrs)


# --------------------------------------------------------------------------------------
# Random data
# --------------------------------------------------------------------------------------

_RNG_SEED = 1234


def rand(shape: Sequence[int], dtype: Any = np.float32, low: float = -1.0, high: float = 1.0,
         seed: int = 0) -> np.ndarray:  # fmt: skip
    rng = np.random.default_rng(_RNG_SEED + seed + 7 * len(shape) + sum(shape))
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return rng.integers(0, 2, size=tuple(shape)).astype(np.bool_)
    if dt.kind in "iu":
        return rng.integers(int(low), int(high) + 1, size=tuple(shape)).astype(dt)
    return rng.uniform(low, high, size=tuple(shape)).astype(dt)


def nonzero_ints(shape: Sequence[int], dtype: Any, seed: int = 0) -> np.ndarray:
    a = rand(shape, dtype, -9, 9, seed)
    return np.where(a == 0, np.asarray(3, a.dtype), a)


# --------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------


@dataclass
class Case:
    """One graph op (or short chain) and its ONNX equivalent."""

    id: str
    op: type[Operation]
    build: Build
    nodes: list[NodeProto]
    inputs: dict[str, np.ndarray]
    inits: dict[str, np.ndarray] = field(default_factory=dict)
    rtol: float = 1e-5
    atol: float = 1e-6


def i64s(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)
