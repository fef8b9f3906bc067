"""Integer and boolean tensors, `where` and `gather` through the whole pipeline: compiled
with `trnc.compile` (weights and constants supplied), simulated, and compared with the graph
reference interpreter bit for bit (these results are exact in fp32) or, through bf16
matmuls, within bf16 rounding."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trnc
from trnc.compiler import CompileError
from trnc.interpreters.graph import run_graph
from trnc.simulator.errors import SimulationError
from trnc.tools.context import parse_source


def _both(
    text: str, inputs: dict[str, np.ndarray], dtype: str = "fp32"
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    expected = run_graph(parse_source(text, "test.mlir"), inputs).outputs
    got = trnc.compile(parse_source(text, "test.mlir"), dtype=dtype).run(inputs)
    return expected, got


MASK_LOGIC = """
func.func @main(%ids: tensor<4x6xi64> {graph.name = "ids"}, %x: tensor<4x6xf32> {graph.name = "x"})
    -> (tensor<4x6xf32> {graph.name = "y"}, tensor<4x6xi1> {graph.name = "neg"},
        tensor<4x6xi64> {graph.name = "big"}) {
  %m = graph.cast %ids : tensor<4x6xi64> -> tensor<4x6xi1>
  %u = graph.cast %m : tensor<4x6xi1> -> tensor<4x6xui8>
  %c = graph.constant dense<[[1, 0, 1, 1, 0, 1]]> : tensor<1x6xui8>
  %mn = graph.min %c, %u : (tensor<1x6xui8>, tensor<4x6xui8>) -> tensor<4x6xui8>
  %b = graph.cast %mn : tensor<4x6xui8> -> tensor<4x6xi1>
  %f = graph.cast %b : tensor<4x6xi1> -> tensor<4x6xf32>
  %y = graph.mul %x, %f : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6xf32>
  %z = graph.constant dense<0.0> : tensor<f32>
  %lt = graph.less %z, %x : (tensor<f32>, tensor<4x6xf32>) -> tensor<4x6xi1>
  %no = graph.constant dense<false> : tensor<i1>
  %neg = graph.equal %lt, %no : (tensor<4x6xi1>, tensor<i1>) -> tensor<4x6xi1>
  %t = graph.transpose %ids {perm = [1, 0]} : tensor<4x6xi64> -> tensor<6x4xi64>
  %r = graph.reshape %t : tensor<6x4xi64> -> tensor<4x6xi64>
  %k = graph.constant dense<3> : tensor<i64>
  %big = graph.max %r, %k : (tensor<4x6xi64>, tensor<i64>) -> tensor<4x6xi64>
  func.return %y, %neg, %big : tensor<4x6xf32>, tensor<4x6xi1>, tensor<4x6xi64>
}"""


def test_mask_logic_on_integers_and_booleans_is_exact() -> None:
    """int64 -> bool -> uint8 casts, a broadcast min, comparisons (a constant on the left),
    `== false`, an int64 transpose and max: exact, and outputs come back in their graph
    dtypes (bool, int64)."""
    rng = np.random.default_rng(0)
    inputs = {
        "ids": rng.integers(-5, 5, (4, 6)).astype(np.int64),
        "x": rng.standard_normal((4, 6)).astype(np.float32),
    }
    expected, got = _both(MASK_LOGIC, inputs)
    for name, want in expected.items():
        assert got[name].dtype == want.dtype, name
        np.testing.assert_array_equal(got[name], want, err_msg=name)


def test_integer_inputs_beyond_fp32_exactness_are_refused() -> None:
    inputs = {"ids": np.full((4, 6), 2**24 + 1, np.int64), "x": np.zeros((4, 6), np.float32)}
    compiled = trnc.compile(parse_source(MASK_LOGIC, "test.mlir"), dtype="fp32")
    with pytest.raises(CompileError, match=r"integers in \[16777217, 16777217\]"):
        compiled.run(inputs)


WHERE = """
func.func @main(%x: X {graph.name = "x"}, %s: tensor<1xf32> {graph.name = "s"})
    -> (X {graph.name = "clean"}, X {graph.name = "masked"}, X {graph.name = "picked"}) {
  %nan = graph.equal %x, %x : (X, X) -> B
  %no = graph.constant dense<false> : tensor<i1>
  %isnan = graph.equal %nan, %no : (B, tensor<i1>) -> B
  %zero = graph.constant dense<0.0> : tensor<1xf32>
  %clean = graph.where %isnan, %zero, %x : (B, tensor<1xf32>, X) -> X
  %c = graph.constant dense<0.5> : tensor<f32>
  %big = graph.greater %x, %c : (X, tensor<f32>) -> B
  %low = graph.constant dense<-3.40282347E+38> : tensor<1xf32>
  %masked = graph.where %big, %zero, %low : (B, tensor<1xf32>, tensor<1xf32>) -> X
  %picked = graph.where %big, %s, %x : (B, tensor<1xf32>, X) -> X
  func.return %clean, %masked, %picked : X, X, X
}"""
"""X and B stand for the f32 and i1 tensor types of the test's shape."""


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.sampled_from([1, 5, 128, 130]), m=st.sampled_from([1, 7, 2049]))
def test_where_is_a_bit_exact_select(n: int, m: int) -> None:
    """NaN cleaning (`where(isnan(x), 0, x)`), an additive mask of finite constants and a
    one-element tensor branch: bit-exact, NaN, infinities and -0.0 included (a one-element
    tensor branch is spread by a matmul, which turns its -0.0 into +0.0; not tested)."""
    rng = np.random.default_rng(n * m)
    x = rng.standard_normal((n, m)).astype(np.float32)
    specials = np.array([np.nan, np.inf, -np.inf, -0.0], np.float32)
    x.flat[rng.integers(0, x.size, 4)] = specials
    inputs = {"x": x, "s": np.array([-np.inf], np.float32)}
    text = _types(WHERE, {"X": f"{n}x{m}xf32", "B": f"{n}x{m}xi1"})
    expected, got = _both(text, inputs)
    for name, want in expected.items():
        np.testing.assert_array_equal(got[name].view(np.uint32), want.view(np.uint32), name)


EMBED = """
func.func @main(%ids: I {graph.name = "ids"}, %table: T {graph.name = "table"})
    -> (R {graph.name = "rows"}, F {graph.name = "first"}, P {graph.name = "picked"}) {
  %rows = graph.gather %table, %ids {axis = 0} : (T, I) -> R
  %zero = graph.constant dense<0> : tensor<i64>
  %first = graph.gather %rows, %zero {axis = 1} : (R, tensor<i64>) -> F
  %two = graph.constant dense<[-1, 0]> : tensor<2xi64>
  %picked = graph.gather %rows, %two {axis = 1} : (R, tensor<2xi64>) -> P
  func.return %rows, %first, %picked : R, F, P
}"""


def _types(template: str, shapes: dict[str, str]) -> str:
    """`template` with each one-letter type name (a whole word) replaced by its tensor type."""
    return re.sub(r"\b[A-Z]\b", lambda m: f"tensor<{shapes[m.group(0)]}>", template)


def _embed(b: int, s: int, v: int, d: int) -> str:
    shapes = {"I": f"{b}x{s}xi64", "T": f"{v}x{d}xf32", "R": f"{b}x{s}x{d}xf32"}
    return _types(EMBED, {**shapes, "F": f"{b}x{d}xf32", "P": f"{b}x2x{d}xf32"})


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    b=st.sampled_from([1, 2]),
    s=st.sampled_from([1, 16, 130]),
    v=st.sampled_from([2, 127, 300]),
    d=st.sampled_from([1, 64, 520]),
)
def test_gather_embedding_and_constant_indices(b: int, s: int, v: int, d: int) -> None:
    """Run-time indices on axis 0 (negative ones wrap) through the one-hot matmul: exact
    in fp32; compile-time indices on axis 1 as DMA windows: exact."""
    rng = np.random.default_rng(b + s + v + d)
    inputs = {
        "ids": rng.integers(-v, v, (b, s)).astype(np.int64),
        "table": rng.standard_normal((v, d)).astype(np.float32),
    }
    expected, got = _both(_embed(b, s, v, d), inputs)
    for name, want in expected.items():
        np.testing.assert_array_equal(got[name], want, err_msg=name)


def test_gather_in_bf16_rounds_the_table_like_a_matmul_input() -> None:
    rng = np.random.default_rng(3)
    inputs = {
        "ids": rng.integers(0, 300, (2, 16)).astype(np.int64),
        "table": rng.standard_normal((300, 64)).astype(np.float32),
    }
    expected, got = _both(_embed(2, 16, 300, 64), inputs, dtype="bf16")
    np.testing.assert_allclose(got["rows"], expected["rows"], rtol=2**-8, atol=0)


def test_gather_with_an_integer_table_stays_exact_in_bf16() -> None:
    """A boolean table (an attention mask gathered by position) is not rounded to bf16."""
    text = """
func.func @main(%m: tensor<32x1xi1> {graph.name = "m"}, %i: tensor<2x16xi64> {graph.name = "i"})
    -> (tensor<2x16x1xi1> {graph.name = "y"}) {
  %0 = graph.gather %m, %i {axis = 0} : (tensor<32x1xi1>, tensor<2x16xi64>) -> tensor<2x16x1xi1>
  func.return %0 : tensor<2x16x1xi1>
}"""
    rng = np.random.default_rng(4)
    inputs = {"m": rng.random((32, 1)) < 0.5, "i": rng.integers(0, 32, (2, 16)).astype(np.int64)}
    expected, got = _both(text, inputs, dtype="bf16")
    np.testing.assert_array_equal(got["y"], expected["y"])


def test_gather_of_a_large_table_is_one_indirect_dma_per_index_block() -> None:
    """The tile IR of a run-time gather does not grow with the table: one `dma_gather` per
    block of 128 indices (here 2) and column chunk, whatever the rows (300,000 here); the
    rows are those of the graph interpreter, bit for bit."""
    rng = np.random.default_rng(9)
    inputs = {
        "ids": rng.integers(-300_000, 300_000, (2, 100)).astype(np.int64),
        "table": rng.standard_normal((300_000, 16)).astype(np.float32),
    }
    text = _embed(2, 100, 300_000, 16)
    compiled = trnc.compile(parse_source(text, "test.mlir"), dtype="bf16")
    tile_ir = compiled.ir("tile")
    assert tile_ir.count("tile.dma_gather") == 2
    assert "tile.matmul" not in tile_ir and "tile.iota" not in tile_ir
    expected = run_graph(parse_source(text, "test.mlir"), inputs).outputs
    got = compiled.run(inputs)
    assert got["rows"].tobytes() == expected["rows"].tobytes()


@pytest.mark.parametrize(
    ("data", "indices", "axis"),
    [
        ([4, 300, 3], [2, 5], 1),
        ([3, 4, 130], [7], 2),
        ([5, 6], [], 1),  # one index: the axis disappears
    ],
)
def test_gather_with_run_time_indices_on_other_axes(
    data: list[int], indices: list[int], axis: int
) -> None:
    """The axis is permuted first, gathered by the one-hot matmul, the result permuted back."""
    out = data[:axis] + indices + data[axis + 1 :]
    shapes = {
        "D": "x".join(map(str, data)) + "xf32",
        "I": "x".join(map(str, indices)) + ("x" if indices else "") + "i64",
        "O": "x".join(map(str, out)) + "xf32",
    }
    template = """
func.func @main(%d: D {graph.name = "d"}, %i: I {graph.name = "i"}) -> (O {graph.name = "y"}) {
  %0 = graph.gather %d, %i {axis = AXIS} : (D, I) -> O
  func.return %0 : O
}""".replace("AXIS", str(axis))
    rng = np.random.default_rng(12)
    inputs = {
        "d": rng.standard_normal(data).astype(np.float32),
        "i": rng.integers(-data[axis], data[axis], indices).astype(np.int64),
    }
    expected, got = _both(_types(template, shapes), inputs)
    np.testing.assert_array_equal(got["y"], expected["y"])


@pytest.mark.parametrize(
    ("cond", "x", "y"),
    [
        ([2, 3, 6], [3, 1], [3, 1]),  # ONNX Expand's import
        ([3, 1], [1, 600], [3, 600]),  # a column predicate, a row branch
        ([2, 1, 5], [2, 4, 1], [1]),  # per-block columns and rows, a one-element branch
        ([130, 7], [130, 7], [7]),
    ],
)
def test_where_with_broadcast_operands(cond: list[int], x: list[int], y: list[int]) -> None:
    out = list(np.broadcast_shapes(tuple(cond), tuple(x), tuple(y)))
    shapes = {
        "C": "x".join(map(str, cond)) + "xi1",
        "X": "x".join(map(str, x)) + "xf32",
        "Y": "x".join(map(str, y)) + "xf32",
        "O": "x".join(map(str, out)) + "xf32",
    }
    template = """
func.func @main(%c: C {graph.name = "c"}, %x: X {graph.name = "x"}, %y: Y {graph.name = "y"})
    -> (O {graph.name = "z"}) {
  %0 = graph.where %c, %x, %y : (C, X, Y) -> O
  func.return %0 : O
}"""
    rng = np.random.default_rng(13)
    inputs = {
        "c": rng.random(cond) < 0.5,
        "x": rng.standard_normal(x).astype(np.float32),
        "y": rng.standard_normal(y).astype(np.float32),
    }
    expected, got = _both(_types(template, shapes), inputs)
    np.testing.assert_array_equal(got["z"].view(np.uint32), expected["z"].view(np.uint32))


def test_reduce_max_of_booleans_and_integers_is_exact() -> None:
    """ONNX's reduce_max on bool (any) and int64 tensors, over a middle axis."""
    template = """
func.func @main(%b: B {graph.name = "b"}, %i: I {graph.name = "i"})
    -> (R {graph.name = "any"}, S {graph.name = "top"}) {
  %0 = graph.reduce_max %b {axes = [1], keepdims = false} : B -> R
  %1 = graph.reduce_max %i {axes = [1], keepdims = true} : I -> S
  func.return %0, %1 : R, S
}"""
    shapes = {"B": "3x4x5xi1", "I": "3x4x5xi64", "R": "3x5xi1", "S": "3x1x5xi64"}
    rng = np.random.default_rng(14)
    inputs = {
        "b": rng.random((3, 4, 5)) < 0.2,
        "i": rng.integers(-1000, 1000, (3, 4, 5)).astype(np.int64),
    }
    expected, got = _both(_types(template, shapes), inputs)
    for name, want in expected.items():
        assert got[name].dtype == want.dtype
        np.testing.assert_array_equal(got[name], want, err_msg=name)


def test_tensors_without_elements() -> None:
    """Empty tensors get no buffer and no instructions: an empty input, an empty output (an
    empty array from `run`), a reduction over no elements (sum 0, max -inf, mean NaN) and a
    concat with an empty part."""
    template = """
func.func @main(%e: E {graph.name = "e"}, %x: X {graph.name = "x"})
    -> (E {graph.name = "empty"}, R {graph.name = "sum"}, R {graph.name = "max"},
        R {graph.name = "mean"}, X {graph.name = "cat"}) {
  %0 = graph.tanh %e : E
  %1 = graph.reduce_sum %e {axes = [1], keepdims = false} : E -> R
  %2 = graph.reduce_max %e {axes = [1], keepdims = false} : E -> R
  %3 = graph.reduce_mean %e {axes = [1], keepdims = false} : E -> R
  %4 = graph.concat %e, %x {axis = 1} : (E, X) -> X
  func.return %0, %1, %2, %3, %4 : E, R, R, R, X
}"""
    shapes = {"E": "2x0x4xf32", "X": "2x3x4xf32", "R": "2x4xf32"}
    rng = np.random.default_rng(15)
    inputs = {
        "e": np.zeros((2, 0, 4), np.float32),
        "x": rng.standard_normal((2, 3, 4)).astype(np.float32),
    }
    expected, got = _both(_types(template, shapes), inputs)
    for name, want in expected.items():
        assert got[name].shape == want.shape and got[name].dtype == want.dtype, name
        np.testing.assert_array_equal(got[name], want, err_msg=name)


def test_integers_beyond_fp32_exactness_in_constants_are_refused() -> None:
    """A constant (an immediate or a weight) beyond 2^24 would be rounded on chip: refused
    when compiling, never computed."""
    for constant in (
        "dense<[[1099511627776, 5, -4294967296, 2]]> : tensor<1x4xi64>",
        "dense<16777217> : tensor<i64>",
    ):
        c_type = constant.split(" : ")[1]
        text = f"""
func.func @main(%x: tensor<2x4xi64> {{graph.name = "x"}})
    -> (tensor<2x4xi64> {{graph.name = "y"}}) {{
  %c = graph.constant {constant}
  %0 = graph.max %x, %c : (tensor<2x4xi64>, {c_type}) -> tensor<2x4xi64>
  func.return %0 : tensor<2x4xi64>
}}"""
        with pytest.raises(CompileError, match=r"weight 'const\d+' holds integers in"):
            trnc.compile(parse_source(text, "test.mlir"), dtype="fp32")


def test_gathered_rows_keep_non_finite_values_and_computed_tables_gather() -> None:
    """The indirect DMA copies bytes: inf, -inf and NaN rows come back as they are (the
    one-hot matmul had made NaN of 0 * inf), and a table computed on chip (exp) gathers."""
    compiled = trnc.compile(parse_source(_embed(1, 4, 10, 3), "test.mlir"), dtype="fp32")
    table = np.zeros((10, 3), np.float32)
    table[2] = [-np.inf, np.inf, np.nan]
    ids = np.array([[2, 0, 2, -8]], np.int64)
    got = compiled.run({"ids": ids, "table": table})["rows"]
    assert got.tobytes() == table[[2, 0, 2, 2]].reshape(1, 4, 3).tobytes()
    text = """
func.func @main(%t: tensor<10x3xf32> {graph.name = "t"}, %i: tensor<4xi64> {graph.name = "i"})
    -> (tensor<4x3xf32> {graph.name = "y"}) {
  %e = graph.exp %t : tensor<10x3xf32>
  %0 = graph.gather %e, %i {axis = 0} : (tensor<10x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>
  func.return %0 : tensor<4x3xf32>
}"""
    model = trnc.compile(parse_source(text, "test.mlir"), dtype="fp32")
    inputs = {
        "t": np.random.default_rng(3).standard_normal((10, 3)).astype(np.float32),
        "i": np.array([9, 0, -1, 4], np.int64),
    }
    expected = run_graph(parse_source(text, "test.mlir"), inputs).outputs["y"]
    np.testing.assert_allclose(model.run(inputs)["y"], expected, rtol=1e-6)


def test_an_index_outside_the_table_is_an_error_when_it_runs() -> None:
    compiled = trnc.compile(parse_source(_embed(1, 4, 10, 3), "test.mlir"), dtype="fp32")
    table = np.zeros((10, 3), np.float32)
    message = r"dma_gather index 12 .* outside the table's 10 rows"
    with pytest.raises(SimulationError, match=message):
        compiled.run({"ids": np.array([[0, 1, 12, 2]], np.int64), "table": table})


def test_a_one_element_constant_against_a_broadcast_operand() -> None:
    """A `[1, 1, 1]` constant added to a `[4]` tensor broadcasts both ways: it needs its own
    buffer rather than an immediate."""
    text = """
func.func @main(%x: tensor<4xf32> {graph.name = "x"}) -> (tensor<1x1x4xf32> {graph.name = "y"}) {
  %c = graph.constant dense<2.5> : tensor<1x1x1xf32>
  %0 = graph.add %x, %c : (tensor<4xf32>, tensor<1x1x1xf32>) -> tensor<1x1x4xf32>
  func.return %0 : tensor<1x1x4xf32>
}"""
    inputs = {"x": np.arange(4, dtype=np.float32)}
    expected, got = _both(text, inputs)
    np.testing.assert_array_equal(got["y"], expected["y"])
