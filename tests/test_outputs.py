"""Every ONNX output comes back, in order, under its name: at the graph level
(`run_graph`, `trn-run`) and at the ISA level (`trnc.compile(...).run`,
`trn-compile --run --check`), for outputs that are also inputs (pass-through), graphs
without nodes, a value listed twice, initializers and constants, and outputs that other
nodes also consume; each checked against onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import trnc
from trnc.compiler import CompileError
from trnc.frontend.onnx import import_model
from trnc.interpreters.graph import GraphRunError, run_graph
from trnc.tools.context import module_text, parse_source
from trnc.tools.trn_compile import main as trn_compile
from trnc.tools.trn_run import main as trn_run

SHAPE = [4, 8]


def _value(name: str, shape: list[int] = SHAPE) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _model(
    nodes: list[onnx.NodeProto],
    outputs: list[str],
    initializers: tuple[onnx.TensorProto, ...] = (),
    shapes: dict[str, list[int]] | None = None,
) -> onnx.ModelProto:
    shapes = shapes or {}
    graph = helper.make_graph(
        nodes,
        "outputs",
        [_value("x")],
        [_value(name, shapes.get(name, SHAPE)) for name in outputs],
        initializer=list(initializers),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    return model


def _relu() -> onnx.NodeProto:
    return helper.make_node("Relu", ["x"], ["y"], name="relu")


WEIGHT = numpy_helper.from_array(np.arange(32, dtype=np.float32).reshape(SHAPE), "w")
CONSTANT = helper.make_node(
    "Constant",
    [],
    ["c"],
    name="const",
    value=numpy_helper.from_array(np.full(SHAPE, 2.5, np.float32)),
)

CASES: dict[str, onnx.ModelProto] = {
    "pass_through": _model([_relu()], ["y", "x"]),
    "pass_through_first": _model([_relu()], ["x", "y"]),
    "no_nodes": _model([], ["x"]),
    "listed_twice": _model([_relu()], ["y", "y"]),
    "input_twice": _model([], ["x", "x"]),
    "identity_alias": _model(
        [_relu(), helper.make_node("Identity", ["y"], ["z"], name="id")], ["y", "z"]
    ),
    "initializer": _model(
        [helper.make_node("Add", ["x", "w"], ["y"], name="add")], ["w", "y"], (WEIGHT,)
    ),
    "constant_and_input": _model(
        [CONSTANT, helper.make_node("Mul", ["x", "c"], ["y"], name="mul")], ["c", "y", "x"]
    ),
    "consumed": _model(
        [_relu(), helper.make_node("Neg", ["y"], ["z"], name="neg")], ["z", "y", "x"]
    ),
    "empty_in_middle": _model(
        [
            _relu(),
            helper.make_node(
                "Slice",
                ["x", "starts", "ends", "axes"],
                ["e"],
                name="slice",
            ),
        ],
        ["y", "e", "x"],
        tuple(
            numpy_helper.from_array(np.array([v], np.int64), n)
            for n, v in (("starts", 2), ("ends", 2), ("axes", 0))
        ),
        {"e": [0, 8]},
    ),
}

X = np.random.default_rng(7).standard_normal(SHAPE).astype(np.float32)


def _reference(model: onnx.ModelProto) -> list[tuple[str, np.ndarray]]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return list(zip(names, session.run(None, {"x": X}), strict=True))


def _check(got: dict[str, np.ndarray], model: onnx.ModelProto) -> None:
    reference = _reference(model)
    assert list(got) == list(dict.fromkeys(name for name, _ in reference))
    for name, ref in reference:
        assert got[name].shape == ref.shape, name
        np.testing.assert_allclose(got[name], ref, rtol=1e-6, atol=0, err_msg=name)


@pytest.mark.parametrize("case", sorted(CASES))
def test_graph_interpreter(case: str, tmp_path: Path) -> None:
    module = import_model(CASES[case], weights_path=tmp_path / "m.weights").module
    _check(run_graph(module, {"x": X}, base_dir=tmp_path).outputs, CASES[case])


@pytest.mark.parametrize("case", sorted(CASES))
def test_isa(case: str) -> None:
    compiled = trnc.compile(CASES[case].SerializeToString(), dtype="fp32")
    _check(compiled.run({"x": X}), CASES[case])


@pytest.mark.parametrize("case", ["pass_through", "no_nodes", "listed_twice"])
def test_isa_text_keeps_the_graph_names(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A program saved as text and read back (`trnc.load`, `trn-run`) gives the outputs
    under their graph names and in order too (the program's `graph.outputs`), not under
    the renamed HBM tensors (`x.1`)."""
    compiled = trnc.compile(CASES[case].SerializeToString(), dtype="fp32")
    compiled.save(tmp_path / "m.mlir")
    assert "graph.outputs" in (tmp_path / "m.mlir").read_text()
    _check(trnc.load(tmp_path / "m.mlir").run({"x": X}), CASES[case])
    np.save(tmp_path / "x.npy", X)
    args = [str(tmp_path / "m.mlir"), "--input", f"x={tmp_path / 'x.npy'}"]
    assert trn_run([*args, "--output-dir", str(tmp_path / "out")]) == 0
    names = list(dict.fromkeys(name for name, _ in _reference(CASES[case])))
    _check({name: np.load(tmp_path / "out" / f"{name}.npy") for name in names}, CASES[case])
    printed = [
        line.split()[1] for line in capsys.readouterr().out.splitlines() if "output " in line
    ]
    assert printed == [f"{name}:" for name in names]


@pytest.mark.parametrize("case", ["pass_through", "no_nodes", "constant_and_input"])
def test_trn_compile_check(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"{case}.onnx"
    onnx.save(CASES[case], path)
    assert trn_compile([str(path), "--dtype", "fp32", "--run", "--check", "--random-inputs"]) == 0
    out = capsys.readouterr().out
    for name, _ in _reference(CASES[case]):
        assert f"output {name}: shape (4, 8)" in out
        assert any(line.split()[:1] == [name] and line.endswith(" ok") for line in out.splitlines())


@pytest.mark.parametrize("case", ["pass_through", "no_nodes", "listed_twice"])
def test_trn_run_graph(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = import_model(CASES[case], weights_path=tmp_path / "m.weights").module
    (tmp_path / "m.mlir").write_text(module_text(module))
    np.save(tmp_path / "x.npy", X)
    args = [str(tmp_path / "m.mlir"), "--input", f"x={tmp_path / 'x.npy'}"]
    assert trn_run([*args, "--output-dir", str(tmp_path / "out")]) == 0
    got = {name: np.load(tmp_path / "out" / f"{name}.npy") for name, _ in _reference(CASES[case])}
    _check(got, CASES[case])
    assert "output x:" in capsys.readouterr().out or case == "listed_twice"


TWO_VALUES = """\
func.func @main(%x: tensor<4x8xf32> {graph.name = "x"})
    -> (tensor<4x8xf32> {graph.name = "y"}, tensor<4x8xf32> {graph.name = "y"}) {
  %r = graph.relu %x : tensor<4x8xf32>
  func.return %r, %x : tensor<4x8xf32>, tensor<4x8xf32>
}
"""


def test_one_name_two_values_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Graph IR (not ONNX) can name two different values alike: a located error at both
    levels, never one of them silently."""
    module = parse_source(TWO_VALUES, "two.mlir")
    message = "two.mlir:1:1: error: 'func.func' op two outputs of @main are named 'y'"
    with pytest.raises(GraphRunError) as run_error:
        run_graph(module, {"x": X})
    assert str(run_error.value).startswith(message)
    with pytest.raises(CompileError) as compile_error:
        trnc.compile(module, dtype="fp32")
    assert str(compile_error.value).startswith(message)
    (tmp_path / "two.mlir").write_text(TWO_VALUES)
    assert trn_run([str(tmp_path / "two.mlir"), "--random-inputs"]) == 1
    assert "two.mlir:1:1: error:" in capsys.readouterr().err
