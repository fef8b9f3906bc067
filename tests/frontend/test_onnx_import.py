"""The ONNX importer's Python API: folding, locations, weights out of the text, pinning,
binding shape-like inputs, opset conversion, external data, and every bad-input case
(each an `OnnxImportError` naming the culprit)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import onnx
import pytest
from load_by_path import ROOT, load_by_path
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects.builtin import NameLoc
from xdsl.printer import Printer

from trnc.dialects import graph as g
from trnc.frontend.onnx import OnnxImportError, import_model
from trnc.frontend.onnx.convert import INLINE_LIMIT

make_models = load_by_path(
    ROOT / "tests/filecheck/frontend/onnx/Inputs/make_models.py", "trnc_make_models"
)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_models.build_all(tmp_path_factory.mktemp("models"))


def _text(module: object) -> str:
    out = io.StringIO()
    Printer(stream=out).print_op(module)  # type: ignore[arg-type]
    return out.getvalue()


def _ops(module: object) -> list[str]:
    return [op.name for op in module.walk()]  # type: ignore[attr-defined]


def test_shape_subgraph_folds_and_nodes_become_locations(
    models: dict[str, Path], tmp_path: Path
) -> None:
    result = import_model(models["mlp"], input_shapes={"x": [5, 64]}, weights_path=tmp_path / "w")
    names = _ops(result.module)
    for folded in ("graph.reshape", "graph.concat", "graph.gather"):
        assert folded not in names
    locations = {
        op.name: op.location.desc.data
        for op in result.module.walk()
        if isinstance(op.location, NameLoc)
    }
    assert locations["graph.matmul"] == "fc1/matmul"
    assert locations["graph.gemm"] == "fc2"
    assert locations["graph.softmax"] == "softmax"
    func = next(op for op in result.module.walk() if op.name == "func.func")
    assert "tensor<5x64xf32>" in str(func.function_type)
    assert "tensor<5x10xf32>" in str(func.function_type)


def test_weights_stay_out_of_the_text(tmp_path: Path) -> None:
    """Four 768 x 3072 fp32 matrices (36 MiB, BERT-base FFN sized) print in kilobytes."""
    rng = np.random.default_rng(0)
    inits, nodes, x = [], [], "x"
    for i in range(4):
        shape = (768, 3072) if i % 2 == 0 else (3072, 768)
        inits.append(
            numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), f"w{i}")
        )
        nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"h{i}"], name=f"mm{i}"))
        x = f"h{i}"
    graph = helper.make_graph(
        nodes,
        "ffn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 128, 768])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 128, 768])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "ffn.onnx"
    onnx.save(model, path)
    result = import_model(path, weights_path=tmp_path / "ffn.weights")
    text = _text(result.module)
    assert len(text) < 4096
    assert result.weights_path is not None
    assert result.weights_path.stat().st_size >= 4 * 768 * 3072 * 4
    weights = [op for op in result.module.walk() if isinstance(op, g.WeightOp)]
    assert [w.weight_name.data for w in weights] == ["w0", "w1", "w2", "w3"]
    # the bytes at each offset are the initializer's
    raw = np.memmap(result.weights_path, dtype=np.uint8, mode="r")
    for w, init in zip(weights, inits, strict=True):
        offset = w.offset.value.data
        array = numpy_helper.to_array(init)
        stored = np.frombuffer(raw[offset : offset + array.nbytes], np.float32).reshape(array.shape)
        np.testing.assert_array_equal(stored, array)


def test_small_constants_print_inline(tmp_path: Path) -> None:
    small = np.arange(INLINE_LIMIT, dtype=np.float32)
    node = helper.make_node("Add", ["x", "c"], ["y"], name="add")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [INLINE_LIMIT])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [INLINE_LIMIT])],
        [numpy_helper.from_array(small, "c")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    result = import_model(model, weights_path=tmp_path / "w")
    assert result.weights_path is None
    constants = [op for op in result.module.walk() if isinstance(op, g.ConstantOp)]
    assert len(constants) == 1
    assert "dense<[0.0" in _text(result.module) or "dense<[0.000000e+00" in _text(result.module)


def _reshape_model() -> onnx.ModelProto:
    node = helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")
    graph = helper.make_graph(
        [node],
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6]),
            helper.make_tensor_value_info("shape", TensorProto.INT64, [2]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_shape_like_inputs_must_be_bound(tmp_path: Path) -> None:
    with pytest.raises(OnnxImportError) as info:
        import_model(_reshape_model(), weights_path=tmp_path / "w")
    assert info.value.needs_constant == {"shape"}
    assert "Reshape's shape (input 1, 'shape') must be a constant" in str(info.value)
    result = import_model(
        _reshape_model(),
        weights_path=tmp_path / "w",
        constant_inputs={"shape": np.array([3, -1])},
    )
    func = next(op for op in result.module.walk() if op.name == "func.func")
    assert str(func.function_type) == "(tensor<2x6xf32>) -> tensor<3x4xf32>"


def test_old_opset_is_converted(tmp_path: Path) -> None:
    # opset 11: Squeeze takes `axes` as an attribute; the converter rewrites it
    node = helper.make_node("Squeeze", ["x"], ["y"], name="squeeze", axes=[0])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    result = import_model(model, weights_path=tmp_path / "w")
    assert result.notes == ["converted from opset 11 to opset 13"]
    assert "graph.reshape" in _ops(result.module)


def test_external_data_inside_the_folder_loads(tmp_path: Path) -> None:
    weights = np.arange(4, dtype=np.float32)
    (tmp_path / "data.bin").write_bytes(weights.tobytes())
    model = make_models._external("data.bin")
    path = tmp_path / "ext.onnx"
    path.write_bytes(model.SerializeToString())
    result = import_model(path, weights_path=tmp_path / "w")
    constants = [op for op in result.module.walk() if isinstance(op, g.ConstantOp)]
    assert len(constants) == 1  # 4 values: inline
    assert "dense<[0.000000e+00, 1.000000e+00, 2.000000e+00, 3.000000e+00]>" in _text(result.module)


BAD = {
    "not_onnx": "not an ONNX model: cannot parse it as an ONNX protobuf",
    "truncated": "truncated or corrupt: cannot parse it as an ONNX protobuf",
    "cycle": "the graph has a cycle: 'second' -> 'third' -> 'first' -> 'second'",
    "dangling": "node 'add' (Add): input 'nowhere' is not a graph input, an initializer or "
    "the output of any node",
    "escape_relative": "external data path '../secret.bin' is outside the model's folder",
    "escape_absolute": "external data path '/etc/passwd' is outside the model's folder",
    "missing_external": "external data file",
    "negative_dim": "'x' dim 0 is -3, outside [0, 2^31)",
    "absurd_dim": "'x' dim 0 is 2147483648, outside [0, 2^31)",
    "string_dtype": "'x' has dtype STRING, which trnc does not support",
    "dynamic": "input 'ids' has dynamic dim 0 ('batch'), dim 1 ('seq')",
    "unsupported": "unsupported ONNX op types (2): Cos (1: 'cos1'); Sin (3: 'sin1', 'sin2', "
    "'sin3')",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_one_clear_error(name: str, models: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(OnnxImportError) as info:
        import_model(models[name], weights_path=tmp_path / "w")
    assert BAD[name] in str(info.value)
    assert str(info.value).startswith(f"{models[name]}: error: ")
    assert not (tmp_path / "w").exists()  # nothing half-written


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(OnnxImportError, match="cannot read the model: No such file"):
        import_model(tmp_path / "absent.onnx")


def test_dynamic_dims_pinned(models: dict[str, Path], tmp_path: Path) -> None:
    result = import_model(
        models["dynamic"],
        input_shapes={"ids": [2, 5], "mask": [2, 8]},
        weights_path=tmp_path / "w",
    )
    func = next(op for op in result.module.walk() if op.name == "func.func")
    assert "tensor<2x5xi64>" in str(func.function_type)
    with pytest.raises(OnnxImportError, match="dim 1 is fixed to 8 by the model, not 9"):
        import_model(
            models["dynamic"],
            input_shapes={"ids": [2, 5], "mask": [2, 9]},
            weights_path=tmp_path / "w",
        )
