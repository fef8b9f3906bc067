"""Malformed, invalid and oversized ONNX models: each is refused with one clear line naming
the node, initializer or input at fault (`OnnxImportError` from the API, exit code 1 from
`trn-compile` and `trn-opt`), at import and at once, never a traceback or a memory error.

Each case here ended in a traceback, or compiled a model that onnxruntime and the ONNX
checker reject, or allocated tensors larger than HBM, before the checks of
`frontend/onnx/checks.py` and `load.py`.
"""

from __future__ import annotations

import contextlib
import io
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trnc.frontend.onnx import OnnxImportError, import_model
from trnc.frontend.onnx.convert import Node, convert
from trnc.frontend.onnx.load import load_model
from trnc.frontend.onnx.weights import WeightsWriter
from trnc.machine import TRN1
from trnc.tools.trn_compile import main as trn_compile_main
from trnc.tools.trn_opt import main as trn_opt_main

HUGE = 2**31 - 1
LIMIT = 20  # seconds: a refusal "at once", even on a busy machine


def _model(
    nodes: list[onnx.NodeProto],
    inputs: list[tuple[str, int, list[int | str] | None]],
    outputs: list[tuple[str, int, list[int | str] | None]],
    initializers: list[TensorProto] = (),  # type: ignore[assignment]
    opset: int = 17,
) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(*v) for v in inputs],
        [helper.make_tensor_value_info(*v) for v in outputs],
        list(initializers),
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _matmul_model() -> onnx.ModelProto:
    """y = relu(x @ w + b): x [2, 4], w [4, 3], b [3]."""
    w = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3), "w")
    b = numpy_helper.from_array(np.ones(3, np.float32), "b")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["xw"], name="mm"),
        helper.make_node("Add", ["xw", "b"], ["h"], name="add"),
        helper.make_node("Relu", ["h"], ["y"], name="relu"),
    ]
    return _model(
        nodes, [("x", TensorProto.FLOAT, [2, 4])], [("y", TensorProto.FLOAT, [2, 3])], [w, b]
    )


@contextlib.contextmanager
def _at_once() -> Iterator[None]:
    def fail(signum: int, frame: object) -> None:
        raise AssertionError(f"not refused within {LIMIT} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(LIMIT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _refused(model: onnx.ModelProto | Path, tmp_path: Path, **kwargs: object) -> str:
    """The one-line problems of importing `model`, which must be refused."""
    with _at_once(), pytest.raises(OnnxImportError) as info:
        import_model(model, weights_path=tmp_path / "w", **kwargs)
    assert info.value.problems and all("\n" not in p for p in info.value.problems)
    assert not (tmp_path / "w").exists()
    return "\n".join(info.value.problems)


def _cli(main: Callable[[list[str]], int], args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with _at_once(), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(args)
    return code, err.getvalue()


def test_the_valid_model_imports(tmp_path: Path) -> None:
    """The base of the mutants below is fine as it is."""
    import_model(_matmul_model(), weights_path=tmp_path / "w")


# --- item 1: malformed models that ended in tracebacks -----------------------------------


@pytest.mark.parametrize(
    ("dims", "dtype", "message"),
    [
        (
            [4, 4],
            TensorProto.FLOAT,
            "initializer 'w' has 48 bytes of data, but [4, 4] FLOAT needs 64",
        ),
        (
            [4, 3],
            TensorProto.INT64,
            "initializer 'w' has 48 bytes of data, but [4, 3] INT64 needs 96",
        ),
        ([4, 3, 2], TensorProto.FLOAT, "but [4, 3, 2] FLOAT needs 96 bytes"),
    ],
)
def test_initializer_data_disagrees_with_dims_or_dtype(
    dims: list[int], dtype: int, message: str, tmp_path: Path
) -> None:
    """Was `ValueError: cannot reshape array of size 12 into shape (4,4)`."""
    model = _matmul_model()
    w = model.graph.initializer[0]
    del w.dims[:]
    w.dims.extend(dims)
    w.data_type = dtype
    assert message in _refused(model, tmp_path)


def test_initializer_without_data(tmp_path: Path) -> None:
    model = _matmul_model()
    model.graph.initializer[1].ClearField("raw_data")
    assert "initializer 'b' has no data, but [3] FLOAT needs 3 values" in _refused(model, tmp_path)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("offset", "abc", "external data offset 'abc' is not a non-negative integer"),
        ("length", "-5", "external data length '-5' is not a non-negative integer"),
        ("length", "1e3", "external data length '1e3' is not a non-negative integer"),
        ("offset", "40", "has 48 bytes, the tensor needs bytes [40, 88)"),
        ("length", "40", "initializer 'w' has 40 bytes of data, but [4, 3] FLOAT needs 48"),
    ],
)
def test_bad_external_data(key: str, value: str, message: str, tmp_path: Path) -> None:
    """Offsets and lengths that are not numbers were `ValueError: invalid literal for int()`;
    a length that disagrees with the dims was `cannot reshape array`."""
    model = _matmul_model()
    w = model.graph.initializer[0]
    (tmp_path / "w.bin").write_bytes(w.raw_data)
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    fields = {"location": "w.bin", "offset": "0", "length": "48", key: value}
    for k, v in fields.items():
        entry = w.external_data.add()
        entry.key, entry.value = k, v
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    problems = _refused(path, tmp_path)
    assert message in problems
    assert "tensor 'w'" in problems or "initializer 'w'" in problems


def test_node_input_renamed_to_empty(tmp_path: Path) -> None:
    """Was `KeyError: ''` (or a TypeError in onnx.reference when folding)."""
    model = _matmul_model()
    model.graph.node[1].input[1] = ""
    problems = _refused(model, tmp_path)
    assert problems.startswith("node 'add' (Add): the ONNX checker rejects it: ")
    assert "input 1 is marked single but has an empty string" in problems


def test_op_type_the_registry_does_not_know(tmp_path: Path) -> None:
    """Was `NotImplementedError` from onnx.reference when its inputs were constants."""
    model = _matmul_model()
    model.graph.node[0].op_type = "FooBar"
    model.graph.node[0].input[0] = "w"  # all inputs constant: the importer would fold it
    problems = _refused(model, tmp_path)
    assert problems.startswith("node 'mm' (FooBar): the ONNX checker rejects it: No Op registered")


def test_attribute_of_the_wrong_type(tmp_path: Path) -> None:
    model = _matmul_model()
    model.graph.node[0].op_type = "Gemm"
    model.graph.node[0].attribute.extend([helper.make_attribute("transB", "yes")])
    problems = _refused(model, tmp_path)
    assert problems.startswith("node 'mm' (Gemm): the ONNX checker rejects it: ")
    assert (
        "Mismatched attribute type in 'mm : transB'. Expected: 'INT', actual: 'STRING'" in problems
    )


def test_axis_out_of_range(tmp_path: Path) -> None:
    """Was a TypeError from onnx.reference (constant input) or a converter's IndexError."""
    model = _matmul_model()
    model.graph.node.append(helper.make_node("Softmax", ["y"], ["s"], name="softmax", axis=5))
    model.graph.output[0].name = "s"
    problems = _refused(model, tmp_path)
    assert problems == (
        "node 'softmax' (Softmax): ONNX shape inference with inputs x=2x4 fails: 'axis' must "
        "be in [-2 , 1]. Its actual value is: 5"
    )


def test_huge_constant_without_data(tmp_path: Path) -> None:
    """A Constant declaring [2^31-1, 4] with no data was `cannot reshape array of size 0`."""
    model = _matmul_model()
    value = TensorProto(name="v", data_type=TensorProto.FLOAT, dims=[HUGE, 4])
    model.graph.node.insert(0, helper.make_node("Constant", [], ["big"], name="big", value=value))
    problems = _refused(model, tmp_path)
    assert problems == (
        f"node 'big' (Constant) attribute 'value' is [{HUGE}, 4] FLOAT: {HUGE * 16} bytes "
        f"(32.0 GiB); HBM holds {TRN1.hbm_bytes} bytes (16.0 GiB) per core"
    )


def test_converter_leaving_an_output_undefined(tmp_path: Path) -> None:
    """A converter that does not define every output was an AssertionError."""
    model = _matmul_model()
    loaded = load_model(model, input_shapes={})

    def relu(ctx: object, node: Node) -> None:
        return None

    writer = WeightsWriter(tmp_path / "w", "w")
    from trnc.frontend.onnx import CONVERTERS

    _, problems = convert(loaded, writer, {**CONVERTERS, "Relu": relu})
    writer.close()
    assert problems.messages() == [
        "node 'relu' (Relu): unsupported: output 'y' of Relu (only its other outputs are converted)"
    ]


def test_fold_falls_back_to_the_converter(tmp_path: Path) -> None:
    """onnx.reference has no Gelu (opset 20): a Gelu of a constant was a RuntimeContextError;
    it is now emitted as a graph op instead of folded."""
    c = numpy_helper.from_array(np.arange(4, dtype=np.float32), "c")
    nodes = [
        helper.make_node("Gelu", ["c"], ["g"], name="gelu"),
        helper.make_node("Add", ["x", "g"], ["y"], name="add"),
    ]
    model = _model(nodes, [("x", 1, [4])], [("y", 1, [4])], [c], opset=20)
    result = import_model(model, weights_path=tmp_path / "w")
    assert "graph.gelu" in [op.name for op in result.module.walk()]


# --- item 2: models the ONNX checker and onnxruntime reject -------------------------------


def _no_opset(model: onnx.ModelProto) -> None:
    del model.opset_import[:]


def _opset_99(model: onnx.ModelProto) -> None:
    model.opset_import[0].version = 99


def _ir_99(model: onnx.ModelProto) -> None:
    model.ir_version = 99


def _same_names(model: onnx.ModelProto) -> None:
    model.graph.node[2].name = "mm"


INVALID = {
    "no-opset-import": (_no_opset, "the ONNX checker rejects the model: model with IR version "
                        ">= 3 must specify opset_import for ONNX"),
    "opset-99": (_opset_99, "the model imports opset 99 of the default ONNX domain; ONNX "),
    "ir-version-99": (_ir_99, "the ONNX checker rejects the model: Your model ir_version 99 is "
                      "higher than the checker's"),
    "duplicate-node-names": (_same_names, "node 'mm' (Relu): node 0 has the same name; ONNX "
                             "requires node names to be unique"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_models_are_refused(case: str, tmp_path: Path) -> None:
    mutate, message = INVALID[case]
    model = _matmul_model()
    mutate(model)
    assert _refused(model, tmp_path).startswith(message)
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    for main in (trn_compile_main, trn_opt_main):
        code, err = _cli(main, [str(path)])
        assert code == 1
        assert err == f"{path}: error: {_refused(model, tmp_path)}\n"


def test_unshaped_outputs_still_import(tmp_path: Path) -> None:
    """The checker wants a shape on graph outputs; onnxruntime does not, nor does trnc."""
    model = _matmul_model()
    model.graph.output[0].type.tensor_type.ClearField("shape")
    result = import_model(model, weights_path=tmp_path / "w")
    assert "tensor<2x3xf32>" in str(result.module)
    assert not model.graph.output[0].type.tensor_type.HasField("shape")  # left as it was


# --- item 3: tensors larger than HBM -----------------------------------------------------


def _chain(n: int, dims: list[int | str]) -> onnx.ModelProto:
    """y = x + 1 + 1 ... (n adds)."""
    one = numpy_helper.from_array(np.ones((), np.float32), "one")
    nodes = [
        helper.make_node("Add", ["x" if i == 0 else f"h{i}", "one"], [f"h{i + 1}"], name=f"add{i}")
        for i in range(n)
    ]
    return _model(nodes, [("x", 1, dims)], [(f"h{n}", 1, dims)], [one])


def test_input_larger_than_hbm(tmp_path: Path) -> None:
    """A 65536 x 65536 fp32 input (all of HBM) and its output: refused at import, with the
    sizes."""
    start = time.perf_counter()
    problems = _refused(_chain(1, [65536, 65536]), tmp_path)
    assert time.perf_counter() - start < LIMIT
    size = 65536 * 65536 * 4
    assert problems == (
        f"the model's tensors need {2 * size + 4} bytes (32.0 GiB) of HBM (inputs {size} bytes "
        f"(16.0 GiB), outputs {size} bytes (16.0 GiB), weights 4 bytes); HBM holds "
        f"{TRN1.hbm_bytes} bytes (16.0 GiB) per core and the compiled program keeps every "
        "tensor there"
    )
    problems = _refused(_chain(1, [65536, 65537]), tmp_path)
    assert problems.splitlines()[0] == (
        f"input 'x' is [65536, 65537] FLOAT: {size + 65536 * 4} bytes (16.0 GiB); HBM holds "
        f"{TRN1.hbm_bytes} bytes (16.0 GiB) per core"
    )


def test_input_pinned_to_2_31(tmp_path: Path) -> None:
    """An input pinned to 2^31-1 (was numpy's _ArrayMemoryError when a shape sub-graph
    folded, or minutes of lowering): the intermediate values show it."""
    ids = np.arange(8, dtype=np.int64).reshape(2, 4)
    table = numpy_helper.from_array(np.ones((16, 8), np.float32), "table")
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["e"], name="embed"),
        helper.make_node("Shape", ["e"], ["s"], name="shape"),
        helper.make_node("ConstantOfShape", ["s"], ["zeros"], name="zeros"),
        helper.make_node("Add", ["e", "zeros"], ["y"], name="add"),
    ]
    model = _model(nodes, [("ids", 7, ["batch", "seq"])], [("y", 1, None)], [table])
    import_model(model, input_shapes={"ids": ids.shape}, weights_path=tmp_path / "w")
    problems = _refused(model, tmp_path, input_shapes={"ids": [1, HUGE]}).splitlines()
    over = f"{HUGE * 32} bytes (64.0 GiB); HBM holds {TRN1.hbm_bytes} bytes (16.0 GiB) per core"
    assert problems == [
        f"output 'y' (output of node 'add') is [1, {HUGE}, 8] FLOAT: {over}",
        f"intermediate value 'e' (output of node 'embed') is [1, {HUGE}, 8] FLOAT: {over}",
        f"intermediate value 'zeros' (output of node 'zeros') is [1, {HUGE}, 8] FLOAT: {over}",
    ]


def test_many_tensors_larger_than_hbm_are_counted(tmp_path: Path) -> None:
    """The first three are named, the others counted (an input pinned to 2^31-1 makes
    every value of a model too large)."""
    problems = _refused(_chain(6, [HUGE, 4]), tmp_path).splitlines()
    assert [p.split(" is ")[0] for p in problems[:3]] == [
        "input 'x'",
        "output 'h6' (output of node 'add5')",
        "intermediate value 'h1' (output of node 'add0')",
    ]
    assert problems[3:] == ["... and 4 more tensors larger than HBM"]


def test_tensors_together_larger_than_hbm(tmp_path: Path) -> None:
    """Five 4 GiB tensors (input, 3 intermediates, output): each fits, together they don't."""
    problems = _refused(_chain(4, [32768, 32768]), tmp_path)
    gib4 = 32768 * 32768 * 4
    assert problems == (
        f"the model's tensors need {5 * gib4 + 4} bytes (20.0 GiB) of HBM (inputs {gib4} bytes "
        f"(4.0 GiB), outputs {gib4} bytes (4.0 GiB), weights 4 bytes, intermediate values "
        f"{3 * gib4} bytes (12.0 GiB)); HBM holds {TRN1.hbm_bytes} bytes (16.0 GiB) per core "
        "and the compiled program keeps every tensor there"
    )
    import_model(_chain(3, [16384, 16384]), weights_path=tmp_path / "w")  # 4 GiB in all: fine


def test_hbm_refusal_through_trn_compile(tmp_path: Path) -> None:
    path = tmp_path / "big.onnx"
    path.write_bytes(_chain(1, ["n", 65536]).SerializeToString())
    code, err = _cli(trn_compile_main, [str(path), "--input-shape", "x=65536x65536"])
    assert code == 1
    assert err.startswith(f"{path}: error: the model's tensors need {2**35 + 4} bytes (32.0 GiB)")
    assert "Traceback" not in err and len(err.splitlines()) == 1
