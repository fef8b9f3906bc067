"""A lowering or verification error from trn-compile and trn-run is one located `error:`
line, said once (never `trn-compile: error: loc("x"): error: ...`), with the source line
and a caret under the column when the location is a position in an .mlir file, and exit
code 1: the ONNX form `model.onnx: error: node 'NAME' (OpType): ...`, the .mlir form
`file:line:col: error: ...`, and `trnc.compile`'s `CompileError` the same."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import onnx
import pytest
from cli_helpers import call
from onnx import TensorProto, helper

import trnc
from trnc.compiler import CompileError
from trnc.simulator.errors import SimulationError
from trnc.tools import trn_compile, trn_run
from trnc.tools.context import parse_source

INT_ADD = Path(__file__).resolve().parents[1] / "filecheck/tools/trn-compile/int_add.onnx"

REFUSED_LINE = "  %z = graph.add %x, %y : (tensor<4x6xi32>, tensor<4x6xi32>) -> tensor<4x6xi32>"
REFUSED = f"""func.func @main(%x: tensor<4x6xi32> {{graph.name = "x"}},
                %y: tensor<4x6xi32> {{graph.name = "y"}}) -> (tensor<4x6xi32>) {{
{REFUSED_LINE}
  return %z : tensor<4x6xi32>
}}
"""
"""A graph-level module whose integer add (int32: not exact in fp32) the lowering refuses."""

MISMATCH_LINE = "  %z = graph.add %x, %x : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x7xf32>"
MISMATCH = f"""func.func @main(%x: tensor<4x6xf32> {{graph.name = "x"}}) -> (tensor<4x7xf32>) {{
{MISMATCH_LINE}
  return %z : tensor<4x7xf32>
}}
"""
"""A graph op whose result type its operands contradict: a verification error."""


def _said_once(err: str) -> str:
    """The one error line of `err` (no traceback, no doubled `error:`)."""
    assert "Traceback" not in err and "loc(" not in err
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 1, err
    assert errors[0].count("error:") == 1, err
    return errors[0]


def _caret_under(err: str, source_line: str, column: int) -> None:
    lines = err.splitlines()
    assert lines[1:] == [source_line, " " * (column - 1) + "^"], err


def test_onnx_lowering_error_names_the_node_and_its_op_type() -> None:
    code, out, err = call(trn_compile.main, INT_ADD)
    assert code == 1 and out == ""
    line = _said_once(err)
    assert line.startswith(f"{INT_ADD}: error: node 'int_add' (Add): 'graph.add' op "), err
    assert "not lowered yet" in line
    assert len(err.splitlines()) == 1


def test_mlir_lowering_error_has_the_source_line_and_a_caret(tmp_path: Path) -> None:
    path = tmp_path / "refused.mlir"
    path.write_text(REFUSED)
    code, out, err = call(trn_compile.main, path)
    assert code == 1 and out == ""
    line = _said_once(err)
    column = REFUSED_LINE.index("%z") + 1  # an op is located where its results start
    assert line.startswith(f"{path}:3:{column}: error: 'graph.add' op graph-to-tile: "), err
    _caret_under(err, REFUSED_LINE, column)


@pytest.mark.parametrize("main", [trn_compile.main, trn_run.main], ids=["trn-compile", "trn-run"])
def test_verification_error_has_the_source_line_and_a_caret(
    main: Callable[[Sequence[str]], int], tmp_path: Path
) -> None:
    path = tmp_path / "mismatch.mlir"
    path.write_text(MISMATCH)
    code, out, err = call(main, path, "--random-inputs")
    assert code == 1 and out == ""
    line = _said_once(err)
    assert line.startswith(f"{path}:2:3: error: 'graph.add' op result shape mismatch"), err
    _caret_under(err, MISMATCH_LINE, 3)


def test_trn_compile_of_mlir_refuses_onnx_only_flags(tmp_path: Path) -> None:
    path = tmp_path / "refused.mlir"
    path.write_text(REFUSED)
    for flag, needle in (
        (["--check"], "--check compares with onnxruntime"),
        (["--input-shape", "x=4x6"], "--input-shape applies to ONNX models only"),
    ):
        code, _, err = call(trn_compile.main, path, *flag)
        assert code == 1
        assert _said_once(err).startswith("trn-compile: error: ") and needle in err


def test_compile_error_is_one_located_line_in_the_api(tmp_path: Path) -> None:
    with pytest.raises(CompileError) as from_onnx:
        trnc.compile(INT_ADD)
    assert str(from_onnx.value).startswith(f"{INT_ADD}: error: node 'int_add' (Add): ")
    assert from_onnx.value.diagnostic is not None
    module = parse_source(REFUSED, "refused.mlir")
    with pytest.raises(CompileError) as from_module:
        trnc.compile(module)
    assert str(from_module.value).startswith("refused.mlir:3:3: error: 'graph.add' op ")
    loc = from_module.value.diagnostic.loc if from_module.value.diagnostic else None
    assert loc is not None and (loc.line, loc.col) == (3, 3)


def test_an_unnamed_onnx_node_is_named_as_the_importer_names_it(tmp_path: Path) -> None:
    """A node without a name is `OpType_index`, as the importer's messages say."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["c"])],
        "g",
        [helper.make_tensor_value_info(n, TensorProto.INT32, [4, 6]) for n in ("a", "b")],
        [helper.make_tensor_value_info("c", TensorProto.INT32, [4, 6])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "unnamed.onnx"
    onnx.save(model, str(path))
    code, _, err = call(trn_compile.main, path)
    assert code == 1
    assert _said_once(err).startswith(f"{path}: error: node 'Add_0' (Add): 'graph.add' op ")


def test_a_failed_run_of_a_compiled_program_is_located_once() -> None:
    """The simulator's error about a compiled program (a trnc bug) is located at the ONNX
    nodes of the instructions involved, not prefixed twice."""
    error = SimulationError("instruction #1 reads what #0 writes", (1, 0), ("int_add", "int_add"))
    text = trn_compile._simulation_failure(error, str(INT_ADD))
    first, note = text.splitlines()
    assert first == (
        f"{INT_ADD}: error: node 'int_add' (Add): the compiled program failed: "
        "simulation error: instruction #1 reads what #0 writes"
    )
    assert note == f"{INT_ADD}: note: node 'int_add' (Add): the other instruction involved"
