"""`run_graph` and `entry_signature`: entry selection, names, inputs, weights files,
constants, errors and the result; plus `trn-run` on graph IR from Python."""

from __future__ import annotations

import json
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import InterpretationError

from trnc.interpreters import graph_kernels
from trnc.interpreters.graph import (
    GraphInputError,
    GraphRunError,
    entry_signature,
    run_graph,
)
from trnc.tools import trn_run
from trnc.tools.context import parse_source
from trnc.tools.diagnostics import verify_ops

BF16 = np.dtype(ml_dtypes.bfloat16)


def parse(text: str, name: str = "test.mlir") -> ModuleOp:
    module = parse_source(text, name)
    assert not verify_ops(module), [d.format() for d in verify_ops(module)]
    return module


ADD = """
func.func @main(%a: tensor<2x3xf32> {graph.name = "a"}, %b: tensor<3xf32> {graph.name = "b"})
    -> (tensor<2x3xf32> {graph.name = "sum"}) {
  %0 = graph.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
"""


# --------------------------------------------------------------------------------------
# Entry function and names
# --------------------------------------------------------------------------------------


def test_signature_names_and_dtypes() -> None:
    module = parse(
        """
        func.func @f(%a: tensor<2xbf16>, %b: tensor<i1> {graph.name = "flag"}, %c: tensor<3xui8>)
            -> (tensor<2xbf16>, tensor<i1> {graph.name = "same"}) {
          return %a, %b : tensor<2xbf16>, tensor<i1>
        }
        """
    )
    inputs, outputs = entry_signature(module)
    assert inputs == [
        ("arg0", (2,), BF16),
        ("flag", (), np.dtype(np.bool_)),
        ("arg2", (3,), np.dtype(np.uint8)),
    ]
    assert outputs == [("output0", (2,), BF16), ("same", (), np.dtype(np.bool_))]


def test_main_is_the_entry_among_several() -> None:
    module = parse(
        """
        func.func @other(%a: tensor<2xf32>) -> tensor<2xf32> {
          %0 = graph.neg %a : tensor<2xf32>
          return %0 : tensor<2xf32>
        }
        func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {
          %0 = graph.abs %a : tensor<2xf32>
          return %0 : tensor<2xf32>
        }
        """
    )
    result = run_graph(module, {"arg0": np.array([-1.0, 2.0])})
    assert result.function == "main"
    np.testing.assert_array_equal(result.outputs["output0"], [1.0, 2.0])


def test_entry_errors() -> None:
    with pytest.raises(GraphRunError, match=r"no func\.func"):
        run_graph(parse("builtin.module {}"))
    two = """
        func.func @f() -> tensor<f32> {
          %0 = graph.constant dense<1.0> : tensor<f32>
          return %0 : tensor<f32>
        }
        func.func @g() -> tensor<f32> {
          %0 = graph.constant dense<2.0> : tensor<f32>
          return %0 : tensor<f32>
        }
    """
    with pytest.raises(GraphRunError, match=r"several functions \(@f, @g\) and none is @main"):
        run_graph(parse(two))
    dup = """
        func.func @main(%a: tensor<f32> {graph.name = "x"}, %b: tensor<f32> {graph.name = "x"}) {
          return
        }
    """
    with pytest.raises(GraphRunError, match="two inputs of @main are named 'x'"):
        entry_signature(parse(dup))


def test_non_graph_op_is_a_located_error() -> None:
    module = parse(
        """
        func.func @main() -> i32 {
          %0 = arith.constant 1 : i32
          return %0 : i32
        }
        """
    )
    with pytest.raises(GraphRunError) as info:
        run_graph(module)
    assert "cannot run 'arith.constant' ops" in info.value.message
    assert info.value.format("x").startswith("test.mlir:3:11: error: 'arith.constant' op")


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


def test_given_inputs_are_cast_and_random_ones_noted() -> None:
    module = parse(ADD)
    result = run_graph(module, {"a": [[1, 2, 3], [4, 5, 6]]}, seed=5)
    assert result.notes == ["filled with seeded random data (seed 5): b"]
    assert result.random_inputs == ["b"]
    again = run_graph(module, {"a": np.ones((2, 3))}, seed=5)
    b = again.outputs["sum"] - 1
    np.testing.assert_allclose(result.outputs["sum"], np.arange(1, 7).reshape(2, 3) + b, rtol=1e-6)
    assert result.outputs["sum"].dtype == np.float32
    other_seed = run_graph(module, {"a": np.ones((2, 3))}, seed=6)
    assert not np.array_equal(other_seed.outputs["sum"], again.outputs["sum"])
    assert np.all((b >= -1) & (b < 1))


def test_random_inputs_of_every_kind() -> None:
    module = parse(
        """
        func.func @main(%f: tensor<64xbf16>, %i: tensor<64xi32>, %b: tensor<64xi1>)
            -> (tensor<64xbf16>, tensor<64xi32>, tensor<64xi1>) {
          return %f, %i, %b : tensor<64xbf16>, tensor<64xi32>, tensor<64xi1>
        }
        """
    )
    f, i, b = run_graph(module).outputs.values()
    assert f.dtype == BF16 and i.dtype == np.int32 and b.dtype == np.bool_
    assert np.all((f.astype(np.float32) >= -1) & (f.astype(np.float32) <= 1))
    assert set(np.unique(i)) <= set(range(10))
    assert 0 < b.sum() < 64


def test_input_errors() -> None:
    module = parse(ADD)
    with pytest.raises(
        GraphInputError, match=r"input 'c' is not an input of @main \(its inputs: a, b\)"
    ):
        run_graph(module, {"c": np.zeros(3)})
    with pytest.raises(GraphInputError, match=r"input 'b' has shape \(2,\), @main expects \(3,\)"):
        run_graph(module, {"b": np.zeros(2)})
    with pytest.raises(GraphInputError, match="cannot be cast"):
        run_graph(module, {"b": np.array(["x", "y", "z"])})


def test_inputs_are_not_modified_and_outputs_are_writable_copies() -> None:
    module = parse(ADD)
    a = np.ones((2, 3), np.float32)
    result = run_graph(module, {"a": a, "b": np.zeros(3, np.float32)})
    out = result.outputs["sum"]
    out[0, 0] = 7.0  # writable
    np.testing.assert_array_equal(a, np.ones((2, 3)))
    outputs, notes = result  # unpacks like the simulator's result
    assert outputs is result.outputs and notes == []
    assert result.op_counts == {"graph.add": 1}
    assert result.wall_seconds > 0


# --------------------------------------------------------------------------------------
# Weights files and constants
# --------------------------------------------------------------------------------------

WEIGHTS = """
func.func @main() -> (tensor<2x3xf32>, tensor<4xbf16>, tensor<3xi1>, tensor<2xi64>) {
  %0 = graph.weight "w.f32" from "{file}" at 3 : tensor<2x3xf32>
  %1 = graph.weight "w.bf16" from "{file}" at 27 : tensor<4xbf16>
  %2 = graph.weight "w.bool" from "{file}" at 35 : tensor<3xi1>
  %3 = graph.weight "w.i64" from "{file}" at 38 : tensor<2xi64>
  return %0, %1, %2, %3 : tensor<2x3xf32>, tensor<4xbf16>, tensor<3xi1>, tensor<2xi64>
}
"""


def _write_weights(path: Path) -> tuple[np.ndarray, ...]:
    f = np.arange(6, dtype="<f4").reshape(2, 3) / 4
    h = np.array([1.5, -2.0, 0.25, 3.0], dtype=BF16)
    b = np.array([1, 0, 1], dtype=np.uint8)
    i = np.array([-(2**40), 7], dtype="<i8")
    path.write_bytes(b"abc" + f.tobytes() + h.tobytes() + b.tobytes() + i.tobytes())
    return f, h, b.astype(bool), i


def test_weights_relative_to_base_dir(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    expected = _write_weights(tmp_path / "data" / "model.bin")
    module = parse(WEIGHTS.replace("{file}", "data/model.bin"))
    result = run_graph(module, base_dir=tmp_path)
    for got, want in zip(result.outputs.values(), expected, strict=True):
        np.testing.assert_array_equal(got, want, strict=True)
        assert type(got) is np.ndarray and got.flags.writeable


def test_weights_absolute_path_and_one_map_per_file(tmp_path: Path) -> None:
    from trnc.interpreters.graph import WeightStore
    from trnc.interpreters.numpy_types import tensor_spec

    path = tmp_path / "model.bin"
    expected = _write_weights(path)
    module = parse(WEIGHTS.replace("{file}", str(path)))
    result = run_graph(module, base_dir=tmp_path / "elsewhere")
    np.testing.assert_array_equal(result.outputs["output0"], expected[0])

    store = WeightStore(tmp_path)
    ops = [op for op in module.walk() if op.name == "graph.weight"]
    for op in ops:
        shape, _ = tensor_spec(op.results[0].type)
        store.load(op, "w", "model.bin", 3, shape[:1], np.dtype(np.uint8))
    assert len(store._maps) == 1


def test_missing_and_short_weights_files(tmp_path: Path) -> None:
    module = parse(WEIGHTS.replace("{file}", "nope.bin"))
    with pytest.raises(GraphRunError) as info:
        run_graph(module, base_dir=tmp_path)
    text = info.value.format("x")
    assert text.startswith("test.mlir:3:3: error: 'graph.weight' op weight 'w.f32': ")
    assert "cannot open weights file" in text and "nope.bin" in text

    (tmp_path / "short.bin").write_bytes(b"\x00" * 40)
    module = parse(WEIGHTS.replace("{file}", "short.bin"))
    with pytest.raises(GraphRunError) as info:
        run_graph(module, base_dir=tmp_path)
    assert info.value.message.startswith("weight 'w.i64' needs bytes [38, 54) of weights file")
    assert "which has only 40 bytes" in info.value.message
    assert "test.mlir:6:3" in str(info.value)

    (tmp_path / "empty.bin").write_bytes(b"")
    with pytest.raises(GraphRunError, match="has only 0 bytes"):
        run_graph(parse(WEIGHTS.replace("{file}", "empty.bin")), base_dir=tmp_path)
    (tmp_path / "dir.bin").mkdir()
    with pytest.raises(GraphRunError, match="cannot open weights file"):
        run_graph(parse(WEIGHTS.replace("{file}", "dir.bin")), base_dir=tmp_path)


def test_constants() -> None:
    module = parse(
        """
        func.func @main()
            -> (tensor<2x2xi64>, tensor<3xi1>, tensor<2xbf16>, tensor<2xf32>, tensor<2x2xf16>) {
          %0 = graph.constant dense<7> : tensor<2x2xi64>
          %1 = graph.constant dense<[true, false, true]> : tensor<3xi1>
          %2 = graph.constant dense<[1.5, -0.25]> : tensor<2xbf16>
          %3 = graph.constant dense_resource<graph_run_blob> : tensor<2xf32>
          %4 = graph.constant dense<0.5> : tensor<2x2xf16>
          return %0, %1, %2, %3, %4
              : tensor<2x2xi64>, tensor<3xi1>, tensor<2xbf16>, tensor<2xf32>, tensor<2x2xf16>
        }
        {-#
          dialect_resources: {
            builtin: {
              graph_run_blob: "0x040000000000803F000000C0"
            }
          }
        #-}
        """
    )
    out = list(run_graph(module).outputs.values())
    np.testing.assert_array_equal(out[0], np.full((2, 2), 7, np.int64), strict=True)
    np.testing.assert_array_equal(out[1], np.array([True, False, True]), strict=True)
    np.testing.assert_array_equal(out[2], np.array([1.5, -0.25], BF16), strict=True)
    np.testing.assert_array_equal(out[3], np.array([1.0, -2.0], np.float32), strict=True)
    np.testing.assert_array_equal(out[4], np.full((2, 2), 0.5, np.float16), strict=True)


def test_dense_resource_without_data_is_an_error() -> None:
    module = parse(
        """
        func.func @main() -> tensor<2xf32> {
          %0 = graph.constant dense_resource<graph_run_missing_blob> : tensor<2xf32>
          return %0 : tensor<2xf32>
        }
        """
    )
    with pytest.raises(GraphRunError, match="graph_run_missing_blob"):
        run_graph(module)


# --------------------------------------------------------------------------------------
# Errors while running
# --------------------------------------------------------------------------------------


def test_integer_division_by_zero_is_located() -> None:
    module = parse(
        """
        func.func @main(%a: tensor<2xi32>, %b: tensor<2xi32>) -> tensor<2xi32> {
          %0 = graph.div %a, %b : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
          return %0 : tensor<2xi32>
        }
        """
    )
    with pytest.raises(GraphRunError) as info:
        run_graph(module, {"arg0": [1, 2], "arg1": [1, 0]})
    assert info.value.format("x") == (
        "test.mlir:3:11: error: 'graph.div' op integer division by zero"
    )


def test_errors_inside_called_functions_and_onnx_names() -> None:
    module = parse(
        """
        func.func @main(%i: tensor<1xi64>) -> tensor<1x2xf32> {
          %0 = func.call @lookup(%i) : (tensor<1xi64>) -> tensor<1x2xf32>
          return %0 : tensor<1x2xf32>
        }
        func.func @lookup(%i: tensor<1xi64>) -> tensor<1x2xf32> {
          %t = graph.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
          %0 = graph.gather %t, %i {axis = 0}
              : (tensor<1x2xf32>, tensor<1xi64>) -> tensor<1x2xf32> loc("Gather_3")
          return %0 : tensor<1x2xf32>
        }
        """
    )
    np.testing.assert_array_equal(run_graph(module, {"arg0": [-1]}).outputs["output0"], [[1, 2]])
    with pytest.raises(GraphRunError) as info:
        run_graph(module, {"arg0": [1]})
    assert "gather index 1 is out of range for axis 0 of size 1" in info.value.message
    assert "Gather_3" in info.value.format("x")
    assert info.value.op is not None and info.value.op.name == "graph.gather"


def test_a_wrong_result_is_an_interpreter_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    module = parse(
        """
        func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {
          %0 = graph.relu %a : tensor<2xf32>
          return %0 : tensor<2xf32>
        }
        """
    )
    monkeypatch.setattr(graph_kernels, "relu", lambda x, dtype: x.astype(np.float64))
    with pytest.raises(InterpretationError, match=r"'graph\.relu' result #0 has shape"):
        run_graph(module)

    def broken(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        raise IndexError("oops")

    monkeypatch.setattr(graph_kernels, "relu", broken)
    with pytest.raises(InterpretationError, match=r"interpreter bug in 'graph\.relu': IndexError"):
        run_graph(module)


# --------------------------------------------------------------------------------------
# trn-run on graph IR, from Python
# --------------------------------------------------------------------------------------


def test_trn_run_writes_bf16_outputs_as_float32(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = tmp_path / "p.mlir"
    program.write_text(
        """
        func.func @main(%a: tensor<3xf32> {graph.name = "a"})
            -> (tensor<3xbf16> {graph.name = "h"}) {
          %0 = graph.cast %a : tensor<3xf32> -> tensor<3xbf16>
          return %0 : tensor<3xbf16>
        }
        """
    )
    np.save(tmp_path / "a.npy", np.array([1.0, 2.5, -3.0], np.float32))
    argv = [str(program), "--input", f"a={tmp_path / 'a.npy'}", "--output-dir", str(tmp_path / "o")]
    assert trn_run.main([*argv, "--report", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "output h: shape (3,) bfloat16: min -3 max 2.5 mean 0.166667" in out
    assert "note: output h (bfloat16) written as float32" in out
    saved = np.load(tmp_path / "o" / "h.npy")
    np.testing.assert_array_equal(saved, np.array([1.0, 2.5, -3.0], np.float32), strict=True)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["level"] == "graph"
    assert report["outputs"] == [
        {"name": "h", "shape": [3], "dtype": "bfloat16", "min": -3.0, "max": 2.5, "mean": 1 / 6}
    ]


def test_trn_run_graph_errors_have_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = tmp_path / "p.mlir"
    program.write_text(
        """
        func.func @f() -> tensor<f32> {
          %0 = graph.constant dense<1.0> : tensor<f32>
          return %0 : tensor<f32>
        }
        func.func @g() -> tensor<f32> {
          %0 = graph.constant dense<2.0> : tensor<f32>
          return %0 : tensor<f32>
        }
        """
    )
    assert trn_run.main([str(program)]) == 1
    err = capsys.readouterr().err
    assert err == f"{program}: error: the module has several functions (@f, @g) and none is @main\n"
