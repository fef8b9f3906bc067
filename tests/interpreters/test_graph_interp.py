"""The graph interpreter against onnxruntime, op by op.

Each case builds one graph op with the dialect's Python builders (so the builders' shape
inference is exercised too) and the equivalent single-node ONNX model with the same
attributes, runs both on the same seeded random inputs and compares: float32 with
rtol 1e-5 / atol 1e-6, integers and booleans exactly, shapes and dtypes strictly. The
cases live in tests/graph_interp_cases_elementwise.py and
tests/graph_interp_cases_structural.py, the helpers in tests/graph_interp_helpers.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from graph_interp_cases_elementwise import CASES as ELEMENTWISE_CASES
from graph_interp_cases_structural import CASES as STRUCTURAL_CASES
from graph_interp_helpers import (
    BF16,
    OPSET,
    Build,
    Case,
    assert_matches,
    i64s,
    node,
    rand,
    run_interpreter,
    run_onnxruntime,
)
from onnx import NodeProto, TensorProto, helper
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerType, ModuleOp, TensorType, f32
from xdsl.ir import Block, Region

from trnc.dialects import graph as g
from trnc.interpreters.graph import run_graph
from trnc.interpreters.graph_ops import GraphFunctions

CASES: list[Case] = [*ELEMENTWISE_CASES, *STRUCTURAL_CASES]


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_against_onnxruntime(c: Case) -> None:
    got = run_interpreter(c.build, c.inputs)
    want = run_onnxruntime(c.nodes, c.inputs, got.dtype, c.inits)
    assert_matches(got, want, c.rtol, c.atol)


def test_weight_against_onnx_external_data(tmp_path: Path) -> None:
    """`graph.weight` reads what an ONNX initializer with external data at the same file,
    offset and length holds."""
    w = rand((3, 4))
    k = rand((5,), np.int64, -9, 9)
    data = b"\x00" * 8 + w.tobytes() + k.tobytes()
    (tmp_path / "w.bin").write_bytes(data)

    def external(name: str, array: np.ndarray, offset: int) -> TensorProto:
        tensor = TensorProto()
        tensor.name = name
        tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
        tensor.dims.extend(array.shape)
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (
            ("location", "w.bin"),
            ("offset", str(offset)),
            ("length", str(array.nbytes)),
        ):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        return tensor

    nodes = [helper.make_node("Identity", ["W"], ["y"]), helper.make_node("Identity", ["K"], ["z"])]
    outs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
        for n, a in (("y", w), ("z", k))
    ]
    graph = helper.make_graph(
        nodes, "w", [], outs, initializer=[external("W", w, 8), external("K", k, 8 + w.nbytes)]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model_path = tmp_path / "model.onnx"
    model_path.write_bytes(model.SerializeToString())
    want_w, want_k = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"]).run(
        None, {}
    )

    block = Block()
    op_w = g.WeightOp("W", "w.bin", 8, TensorType(f32, (3, 4)))
    op_k = g.WeightOp("K", "w.bin", 8 + w.nbytes, TensorType(IntegerType(64), (5,)))
    block.add_ops([op_w, op_k, func.ReturnOp(op_w.result, op_k.result)])
    function = func.FuncOp("main", ([], [op_w.result.type, op_k.result.type]), Region(block))
    outputs = run_graph(ModuleOp([function]), base_dir=tmp_path).outputs
    assert_matches(outputs["output0"], want_w, 0.0, 0.0)
    assert_matches(outputs["output1"], want_k)


# --------------------------------------------------------------------------------------
# bf16: computed in float32 and rounded once, checked against float32 onnxruntime
# --------------------------------------------------------------------------------------

_BF16_CASES: list[tuple[str, Build, list[NodeProto], dict[str, tuple[int, ...]], float]] = [
    ("Add", g.AddOp, [node("Add", "ab")], {"a": (3, 4), "b": (4,)}, 0.0),
    ("Mul", g.MulOp, [node("Mul", "ab")], {"a": (3, 4), "b": (3, 1)}, 0.0),
    ("Relu", g.ReluOp, [node("Relu", "a")], {"a": (3, 4)}, 0.0),
    ("Gelu", g.GeluOp, [node("Gelu", "a")], {"a": (3, 4)}, 0.0),
    ("MatMul", g.MatmulOp, [node("MatMul", "ab")], {"a": (4, 16), "b": (16, 3)}, 0.0),
    ("Softmax", lambda a: g.SoftmaxOp(a, -1), [node("Softmax", "a", axis=-1)], {"a": (3, 8)}, 0.0),
    (
        "ReduceMean",
        lambda a: g.ReduceMeanOp(a, [1], False),
        [node("ReduceMean", ["a", "axes"], keepdims=0)],
        {"a": (3, 8)},
        0.0,
    ),
]


@pytest.mark.parametrize(
    "name, build, nodes, shapes, tol", _BF16_CASES, ids=[c[0] for c in _BF16_CASES]
)
def test_bf16_rounds_float32_result(
    name: str, build: Build, nodes: list[NodeProto], shapes: dict[str, tuple[int, ...]], tol: float
) -> None:
    inputs = {n: rand(s, seed=i).astype(BF16) for i, (n, s) in enumerate(shapes.items())}
    got = run_interpreter(build, inputs)
    assert got.dtype == BF16
    inits = {"axes": i64s(1)} if name == "ReduceMean" else {}
    f32_inputs = {n: a.astype(np.float32) for n, a in inputs.items()}
    want = run_onnxruntime(nodes, f32_inputs, np.dtype(np.float32), inits).astype(BF16)
    mismatch = got.astype(np.float32) != want.astype(np.float32)
    # float32 reductions may differ in the last float32 bits, which can move a bf16 rounding
    # by one bf16 ulp; elementwise ops match exactly.
    if name in ("Add", "Mul", "Relu", "Gelu"):
        assert not mismatch.any()
    else:
        np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), rtol=2**-7)


# --------------------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------------------


def test_every_graph_op_is_implemented_and_checked() -> None:
    ops = set(g.Graph.operations)
    implemented = {op_type for op_type, _ in GraphFunctions._impls()}
    assert ops <= implemented, sorted(o.name for o in ops - implemented)
    checked = {c.op for c in CASES} | {g.WeightOp}
    assert ops <= checked, sorted(o.name for o in ops - checked)
