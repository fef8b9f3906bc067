"""Writes small ONNX models, good and bad, for the importer's tests: `make_models.py DIR`.

Also imported by tests/frontend/test_onnx_import.py (`build_all(DIR)`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]


def _model(
    nodes: list[onnx.NodeProto],
    inputs: list[onnx.ValueInfoProto],
    outputs: list[onnx.ValueInfoProto],
    inits: list[onnx.TensorProto] | None = None,
    opset: list[onnx.OperatorSetIdProto] | None = None,
) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits or [])
    return helper.make_model(graph, opset_imports=opset or OPSET)


def _f(name: str, shape: list[int | str] | None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def mlp() -> onnx.ModelProto:
    """x[batch, 64] -> MatMul w1 -> Add b1 -> Relu -> (shape sub-graph) Reshape -> Gemm
    -> Softmax; w1, b1 and w2 (more than 16 values each) go to the weights file, the
    shape sub-graph folds away."""
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((64, 32)).astype(np.float32)
    b1 = rng.standard_normal((32,)).astype(np.float32)
    w2 = rng.standard_normal((10, 32)).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1/matmul"),
        helper.make_node("Add", ["h", "b1"], ["hb"], name="fc1/add"),
        helper.make_node("Relu", ["hb"], ["r"], name="act"),
        helper.make_node("Shape", ["r"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="batch", axis=0),
        helper.make_node("Unsqueeze", ["batch", "axes0"], ["batch1"], name="batch1"),
        helper.make_node("Concat", ["batch1", "minus1"], ["target"], name="target", axis=0),
        helper.make_node("Reshape", ["r", "target"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "w2"], ["logits"], name="fc2", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=-1),
    ]
    inits = [
        numpy_helper.from_array(w1, "w1"),
        numpy_helper.from_array(b1, "b1"),
        numpy_helper.from_array(w2, "w2"),
        numpy_helper.from_array(np.array(0, np.int64), "zero"),
        numpy_helper.from_array(np.array([0], np.int64), "axes0"),
        numpy_helper.from_array(np.array([-1], np.int64), "minus1"),
    ]
    return _model(nodes, [_f("x", ["batch", 64])], [_f("probs", ["batch", 10])], inits)


def cycle() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Add", ["x", "c"], ["a"], name="first"),
        helper.make_node("Relu", ["a"], ["b"], name="second"),
        helper.make_node("Neg", ["b"], ["c"], name="third"),
    ]
    return _model(nodes, [_f("x", [2])], [_f("b", [2])])


def dangling() -> onnx.ModelProto:
    nodes = [helper.make_node("Add", ["x", "nowhere"], ["y"], name="add")]
    return _model(nodes, [_f("x", [2])], [_f("y", [2])])


def unsupported() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Sin", ["x"], ["a"], name="sin1"),
        helper.make_node("Sin", ["a"], ["b"], name="sin2"),
        helper.make_node("Cos", ["b"], ["c"], name="cos1"),
        helper.make_node("Relu", ["c"], ["d"], name="relu"),
        helper.make_node("Sin", ["d"], ["y"], name="sin3"),
    ]
    return _model(nodes, [_f("x", [2])], [_f("y", [2])])


def dynamic() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Add", ["ids", "ids"], ["y"], name="add"),
        helper.make_node("Relu", ["mask"], ["m"], name="relu"),
    ]
    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "seq"])
    mask = _f("mask", ["batch", 8])
    y = helper.make_tensor_value_info("y", TensorProto.INT64, None)
    return _model(nodes, [ids, mask], [y, _f("m", None)])


def negative_dim() -> onnx.ModelProto:
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    return _model(nodes, [_f("x", [-3, 4])], [_f("y", None)])


def absurd_dim() -> onnx.ModelProto:
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    return _model(nodes, [_f("x", [2**31, 4])], [_f("y", None)])


def string_dtype() -> onnx.ModelProto:
    nodes = [helper.make_node("Identity", ["x"], ["y"], name="id")]
    x = helper.make_tensor_value_info("x", TensorProto.STRING, [2])
    y = helper.make_tensor_value_info("y", TensorProto.STRING, [2])
    return _model(nodes, [x], [y])


def _external(location: str) -> onnx.ModelProto:
    nodes = [helper.make_node("Add", ["x", "w"], ["y"], name="add")]
    w = numpy_helper.from_array(np.ones(4, np.float32), "w")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "16")):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    return _model(nodes, [_f("x", [4])], [_f("y", [4])], [w])


MODELS: dict[str, Callable[[], onnx.ModelProto]] = {
    "mlp": mlp,
    "cycle": cycle,
    "dangling": dangling,
    "unsupported": unsupported,
    "dynamic": dynamic,
    "negative_dim": negative_dim,
    "absurd_dim": absurd_dim,
    "string_dtype": string_dtype,
    "escape_relative": lambda: _external("../secret.bin"),
    "escape_absolute": lambda: _external("/etc/passwd"),
    "missing_external": lambda: _external("weights_missing.bin"),
}


def build_all(out: Path) -> dict[str, Path]:
    """Write every model (plus `not_onnx.onnx` and `truncated.onnx`) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, build in MODELS.items():
        path = out / f"{name}.onnx"
        # save the bytes as they are (onnx.save would try to resolve external data)
        path.write_bytes(build().SerializeToString())
        paths[name] = path
    (out / "not_onnx.onnx").write_text("this is a text file, not a model\n")
    paths["not_onnx"] = out / "not_onnx.onnx"
    full = paths["mlp"].read_bytes()
    (out / "truncated.onnx").write_bytes(full[: len(full) // 2])
    paths["truncated"] = out / "truncated.onnx"
    return paths


if __name__ == "__main__":
    build_all(Path(sys.argv[1]))
