"""Differential tests of the lowering: random shapes (hypothesis) of matmul and
elementwise graphs, compiled with `graph-to-isa` and run on the simulator (strict race and
deadlock checks), agree with the graph reference interpreter."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from xdsl.context import Context

from trnc.interpreters.graph import run_graph
from trnc.lowering.graph_to_isa import GraphToIsa
from trnc.simulator import simulate
from trnc.tools.context import parse_source
from trnc.tools.diagnostics import verify_ops

DIMS = st.sampled_from([1, 2, 7, 64, 127, 128, 129, 200, 255, 256, 300, 511, 512, 513])
SMALL = st.sampled_from([1, 3, 17, 128, 129, 260])


def _compile_and_run(text: str, inputs: dict[str, np.ndarray], dtype: str) -> tuple:
    module = parse_source(text, "test.mlir")
    expected = run_graph(module, inputs).outputs
    GraphToIsa(dtype=dtype).apply(Context(), module)
    problems = verify_ops(module)
    assert not problems, [p.message for p in problems[:3]]
    outputs, _ = simulate(module, inputs)
    return expected, outputs


def _matmul_text(m: int, k: int, n: int) -> str:
    return f"""
func.func @main(%x: tensor<{m}x{k}xf32> {{graph.name = "x"}},
                %w: tensor<{k}x{n}xf32> {{graph.name = "w"}},
                %b: tensor<{m}x{n}xf32> {{graph.name = "b"}})
    -> (tensor<{m}x{n}xf32> {{graph.name = "y"}}) {{
  %0 = graph.matmul %x, %w : (tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>) -> tensor<{m}x{n}xf32>
  %1 = graph.add %0, %b : (tensor<{m}x{n}xf32>, tensor<{m}x{n}xf32>) -> tensor<{m}x{n}xf32>
  %2 = graph.tanh %1 : tensor<{m}x{n}xf32>
  func.return %2 : tensor<{m}x{n}xf32>
}}"""


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=SMALL, k=DIMS, n=SMALL, seed=st.integers(0, 2**16))
def test_matmul_fp32_matches_reference(m: int, k: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    inputs = {
        "x": rng.standard_normal((m, k)).astype(np.float32),
        "w": (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32),
        "b": rng.standard_normal((m, n)).astype(np.float32),
    }
    expected, got = _compile_and_run(_matmul_text(m, k, n), inputs, "fp32")
    np.testing.assert_allclose(got["y"], expected["y"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("m", "k", "n"), [(128, 128, 512), (130, 600, 70), (1, 129, 1)])
def test_matmul_bf16_within_bf16_tolerance(m: int, k: int, n: int) -> None:
    """bf16 inputs (8-bit mantissa), fp32 accumulation: relative error ~ 2^-8 per input,
    averaging down over K; documented tolerance for matmul-class ops: 2e-2 of the scale."""
    rng = np.random.default_rng(1)
    inputs = {
        "x": rng.standard_normal((m, k)).astype(np.float32),
        "w": (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32),
        "b": np.zeros((m, n), np.float32),
    }
    expected, got = _compile_and_run(_matmul_text(m, k, n), inputs, "bf16")
    scale = float(np.abs(expected["y"]).max())
    assert float(np.abs(got["y"] - expected["y"]).max()) <= 2e-2 * scale


UNARY = ["relu", "tanh", "sigmoid", "exp", "erf", "abs", "neg"]
BINARY = ["add", "sub", "mul", "div", "max", "min"]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.lists(DIMS, min_size=1, max_size=3).filter(lambda s: np.prod(s) <= 100_000),
    unary=st.sampled_from(UNARY),
    binary=st.sampled_from(BINARY),
    seed=st.integers(0, 2**16),
)
def test_elementwise_matches_reference(
    shape: list[int], unary: str, binary: str, seed: int
) -> None:
    t = f"tensor<{'x'.join(map(str, shape))}xf32>"
    text = f"""
func.func @main(%a: {t} {{graph.name = "a"}}, %b: {t} {{graph.name = "b"}})
    -> ({t} {{graph.name = "y"}}) {{
  %0 = graph.{binary} %a, %b : ({t}, {t}) -> {t}
  %1 = graph.{unary} %0 : {t}
  func.return %1 : {t}
}}"""
    rng = np.random.default_rng(seed)
    inputs = {
        "a": rng.standard_normal(shape).astype(np.float32),
        "b": (rng.random(shape) + 0.5).astype(np.float32),
    }
    expected, got = _compile_and_run(text, inputs, "fp32")
    np.testing.assert_allclose(got["y"], expected["y"], rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("out", "operand", "op", "left"),
    [
        ([200, 600], [600], "add", False),  # bias row, more than one 512-column block
        ([3, 5, 7], [1, 1, 7], "mul", True),
        ([130, 9], [130, 1], "sub", False),  # softmax's x - max(x)
        ([130, 9], [130, 1], "sub", True),  # c - x with a column c
        ([4, 70, 9], [4, 70, 1], "div", False),
        ([64, 9], [64, 1], "div", True),
        ([2, 300], [2, 1], "max", True),
    ],
)
def test_broadcast_binary_matches_reference(
    out: list[int], operand: list[int], op: str, left: bool
) -> None:
    t_out = f"tensor<{'x'.join(map(str, out))}xf32>"
    t_b = f"tensor<{'x'.join(map(str, operand))}xf32>"
    operands, types = ("%b, %a", f"{t_b}, {t_out}") if left else ("%a, %b", f"{t_out}, {t_b}")
    text = f"""
func.func @main(%a: {t_out} {{graph.name = "a"}}, %b: {t_b} {{graph.name = "b"}})
    -> ({t_out} {{graph.name = "y"}}) {{
  %0 = graph.{op} {operands} : ({types}) -> {t_out}
  func.return %0 : {t_out}
}}"""
    rng = np.random.default_rng(2)
    inputs = {
        "a": (rng.random(out) + 0.5).astype(np.float32),
        "b": (rng.random(operand) + 0.5).astype(np.float32),
    }
    expected, got = _compile_and_run(text, inputs, "fp32")
    np.testing.assert_allclose(got["y"], expected["y"], rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("lhs", "rhs", "op"),
    [
        ([1, 1, 16, 1], [2, 1, 1, 16], "min"),  # BERT's mask: a column times a row
        ([130, 1], [1, 600], "sub"),
        ([3, 1, 5], [3, 7, 1], "div"),
    ],
)
def test_outer_broadcast_matches_reference(lhs: list[int], rhs: list[int], op: str) -> None:
    """Both operands broadcast: a column against a row (an outer product of the op)."""
    out = list(np.broadcast_shapes(tuple(lhs), tuple(rhs)))
    t_a, t_b, t_out = (f"tensor<{'x'.join(map(str, s))}xf32>" for s in (lhs, rhs, out))
    text = f"""
func.func @main(%a: {t_a} {{graph.name = "a"}}, %b: {t_b} {{graph.name = "b"}})
    -> ({t_out} {{graph.name = "y"}}) {{
  %0 = graph.{op} %a, %b : ({t_a}, {t_b}) -> {t_out}
  func.return %0 : {t_out}
}}"""
    rng = np.random.default_rng(5)
    inputs = {
        "a": (rng.random(lhs) + 0.5).astype(np.float32),
        "b": (rng.random(rhs) + 0.5).astype(np.float32),
    }
    expected, got = _compile_and_run(text, inputs, "fp32")
    np.testing.assert_allclose(got["y"], expected["y"], rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("shape", "axes", "keepdims", "op"),
    [
        ([130, 700], [1], True, "reduce_sum"),
        ([3, 5, 9000], [-1], False, "reduce_max"),
        ([2, 4, 6, 5], [2, 3], True, "reduce_mean"),
        ([7], [0], False, "reduce_sum"),
        ([3, 4, 5], [1], True, "reduce_sum"),  # non-trailing axes: permuted last first
        ([130, 3, 200], [0], False, "reduce_max"),
        ([3, 4, 5, 6], [0, 2], True, "reduce_mean"),
    ],
)
def test_reduce_and_reshape_match_reference(
    shape: list[int], axes: list[int], keepdims: bool, op: str
) -> None:
    """Reductions over trailing axes; the result reshaped (a no-copy reinterpret) and
    combined with the input through a column broadcast (softmax's x - max pattern)."""
    t_in = f"tensor<{'x'.join(map(str, shape))}xf32>"
    kept = [1 if i in [a % len(shape) for a in axes] else d for i, d in enumerate(shape)]
    dropped = [d for i, d in enumerate(shape) if i not in [a % len(shape) for a in axes]]
    red = kept if keepdims else dropped
    t_red = f"tensor<{'x'.join(map(str, red))}xf32>" if red else "tensor<f32>"
    t_flat = f"tensor<{np.prod(shape)}xf32>"
    text = f"""
func.func @main(%a: {t_in} {{graph.name = "a"}})
    -> ({t_red} {{graph.name = "r"}}, {t_flat} {{graph.name = "flat"}}) {{
  %0 = graph.{op} %a {{axes = {axes}, keepdims = {str(keepdims).lower()}}} : {t_in} -> {t_red}
  %1 = graph.exp %a : {t_in}
  %2 = graph.reshape %1 : {t_in} -> {t_flat}
  func.return %0, %2 : {t_red}, {t_flat}
}}"""
    rng = np.random.default_rng(4)
    inputs = {"a": rng.standard_normal(shape).astype(np.float32)}
    expected, got = _compile_and_run(text, inputs, "fp32")
    for name in ("r", "flat"):
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-5)


def test_softmax_and_layer_norm_compile_through_decomposition() -> None:
    """softmax and layer_norm have no instruction: graph-decompose rewrites them into
    reductions and broadcasts that the lowering covers."""
    text = """
func.func @main(%x: tensor<3x130x77xf32> {graph.name = "x"}, %g: tensor<77xf32> {graph.name = "g"},
                %b: tensor<77xf32> {graph.name = "b"})
    -> (tensor<3x130x77xf32> {graph.name = "s"}, tensor<3x130x77xf32> {graph.name = "n"}) {
  %0 = graph.softmax %x {axis = -1} : tensor<3x130x77xf32>
  %1 = graph.layer_norm %x, %g, %b {axis = -1, epsilon = 1.0e-05}
         : (tensor<3x130x77xf32>, tensor<77xf32>, tensor<77xf32>) -> tensor<3x130x77xf32>
  func.return %0, %1 : tensor<3x130x77xf32>, tensor<3x130x77xf32>
}"""
    rng = np.random.default_rng(5)
    inputs = {
        "x": (3 * rng.standard_normal((3, 130, 77))).astype(np.float32),
        "g": rng.standard_normal(77).astype(np.float32),
        "b": rng.standard_normal(77).astype(np.float32),
    }
    expected, got = _compile_and_run(text, inputs, "fp32")
    for name in ("s", "n"):
        np.testing.assert_allclose(got[name], expected[name], rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize(
    ("shape", "perm"),
    [
        ([130, 300], [1, 0]),
        ([2, 3, 5, 7], [0, 2, 3, 1]),
        ([2, 7, 5, 3], [0, 3, 1, 2]),
        ([4, 129, 2], [0, 2, 1]),
    ],
)
def test_transpose_matches_reference(shape: list[int], perm: list[int]) -> None:
    t_in = f"tensor<{'x'.join(map(str, shape))}xf32>"
    t_out = f"tensor<{'x'.join(str(shape[p]) for p in perm)}xf32>"
    text = f"""
func.func @main(%a: {t_in} {{graph.name = "a"}}) -> ({t_out} {{graph.name = "y"}}) {{
  %0 = graph.transpose %a {{perm = {perm}}} : {t_in} -> {t_out}
  %1 = graph.tanh %0 : {t_out}
  func.return %1 : {t_out}
}}"""
    inputs = {"a": np.random.default_rng(6).standard_normal(shape).astype(np.float32)}
    expected, got = _compile_and_run(text, inputs, "fp32")
    np.testing.assert_allclose(got["y"], expected["y"], rtol=1e-6, atol=1e-6)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.lists(st.sampled_from([1, 2, 3, 5, 16, 130]), min_size=2, max_size=4),
    data=st.data(),
)
def test_any_permutation_matches_reference(shape: list[int], data: st.DataObject) -> None:
    """Every permutation lowers: group swaps on TensorE, last-dim-fixed ones as row DMAs,
    the rest as both (attention's [0, 2, 1, 3] and [0, 2, 3, 1] among them)."""
    assume(int(np.prod(shape)) <= 40_000)
    perm = data.draw(st.permutations(range(len(shape))))
    if len(shape) == 4 and data.draw(st.booleans()):
        perm = data.draw(st.sampled_from([[0, 2, 1, 3], [0, 2, 3, 1], [2, 0, 3, 1]]))
    t_in = f"tensor<{'x'.join(map(str, shape))}xf32>"
    t_out = f"tensor<{'x'.join(str(shape[p]) for p in perm)}xf32>"
    text = f"""
func.func @main(%a: {t_in} {{graph.name = "a"}}) -> ({t_out} {{graph.name = "y"}}) {{
  %0 = graph.transpose %a {{perm = {list(perm)}}} : {t_in} -> {t_out}
  func.return %0 : {t_out}
}}"""
    inputs = {"a": np.random.default_rng(7).standard_normal(shape).astype(np.float32)}
    expected, got = _compile_and_run(text, inputs, "fp32")
    np.testing.assert_array_equal(got["y"], expected["y"])


def test_concat_and_slice_match_reference() -> None:
    """Concat on a middle axis and unit-step slices (q/k/v splits) are windows."""
    text = """
func.func @main(%a: tensor<2x3x5xf32> {graph.name = "a"}, %b: tensor<2x4x5xf32> {graph.name = "b"})
    -> (tensor<2x7x5xf32> {graph.name = "c"}, tensor<2x2x5xf32> {graph.name = "s"},
        tensor<2x7x2xf32> {graph.name = "t"}) {
  %0 = graph.concat %a, %b {axis = 1}
         : (tensor<2x3x5xf32>, tensor<2x4x5xf32>) -> tensor<2x7x5xf32>
  %1 = graph.slice %0 {starts = [-3], ends = [-1], axes = [1]}
         : tensor<2x7x5xf32> -> tensor<2x2x5xf32>
  %2 = graph.slice %0 {starts = [1], ends = [3], axes = [2], steps = [1]}
         : tensor<2x7x5xf32> -> tensor<2x7x2xf32>
  func.return %0, %1, %2 : tensor<2x7x5xf32>, tensor<2x2x5xf32>, tensor<2x7x2xf32>
}"""
    rng = np.random.default_rng(7)
    inputs = {
        "a": rng.standard_normal((2, 3, 5)).astype(np.float32),
        "b": rng.standard_normal((2, 4, 5)).astype(np.float32),
    }
    expected, got = _compile_and_run(text, inputs, "fp32")
    for name in ("c", "s", "t"):
        np.testing.assert_array_equal(got[name], expected[name])


@pytest.mark.parametrize(
    ("shape", "start", "end", "axis", "step"),
    [
        ([2, 9, 4], 1, 9, 1, 2),
        ([3, 10], 0, 10, 1, 3),
        ([140, 5, 3], 2, 140, 0, 5),
        ([2, 3, 7, 7], 1, 7, 3, 2),
    ],
)
def test_strided_slice_matches_reference(
    shape: list[int], start: int, end: int, axis: int, step: int
) -> None:
    out = list(shape)
    out[axis] = len(range(start, end, step))
    t_in = f"tensor<{'x'.join(map(str, shape))}xf32>"
    t_out = f"tensor<{'x'.join(map(str, out))}xf32>"
    text = f"""
func.func @main(%a: {t_in} {{graph.name = "a"}}) -> ({t_out} {{graph.name = "y"}}) {{
  %0 = graph.slice %a {{starts = [{start}], ends = [{end}], axes = [{axis}], steps = [{step}]}}
         : {t_in} -> {t_out}
  func.return %0 : {t_out}
}}"""
    inputs = {"a": np.random.default_rng(8).standard_normal(shape).astype(np.float32)}
    expected, got = _compile_and_run(text, inputs, "fp32")
    np.testing.assert_array_equal(got["y"], expected["y"])


def test_slice_of_two_axes_matches_reference() -> None:
    """A convolution tap: rows and columns of an NHWC image with stride 2."""
    text = """
func.func @main(%a: tensor<2x9x9x3xf32> {graph.name = "a"})
    -> (tensor<2x4x3x3xf32> {graph.name = "y"}) {
  %0 = graph.slice %a {starts = [1, 2], ends = [9, 8], axes = [1, 2], steps = [2, 2]}
         : tensor<2x9x9x3xf32> -> tensor<2x4x3x3xf32>
  func.return %0 : tensor<2x4x3x3xf32>
}"""
    inputs = {"a": np.random.default_rng(9).standard_normal((2, 9, 9, 3)).astype(np.float32)}
    expected, got = _compile_and_run(text, inputs, "fp32")
    np.testing.assert_array_equal(got["y"], expected["y"])


def test_per_channel_broadcast_matches_reference() -> None:
    """[N, C, H, W] * [C, 1, 1]: the operand repeats along the batch and the pixels
    (one leading group looped over, a column broadcast inside)."""
    text = """
func.func @main(%a: tensor<2x5x6x7xf32> {graph.name = "a"},
                %s: tensor<5x1x1xf32> {graph.name = "s"})
    -> (tensor<2x5x6x7xf32> {graph.name = "y"}) {
  %0 = graph.mul %a, %s : (tensor<2x5x6x7xf32>, tensor<5x1x1xf32>) -> tensor<2x5x6x7xf32>
  func.return %0 : tensor<2x5x6x7xf32>
}"""
    rng = np.random.default_rng(10)
    inputs = {
        "a": rng.standard_normal((2, 5, 6, 7)).astype(np.float32),
        "s": rng.standard_normal((5, 1, 1)).astype(np.float32),
    }
    expected, got = _compile_and_run(text, inputs, "fp32")
    np.testing.assert_array_equal(got["y"], expected["y"])


@pytest.mark.parametrize(
    ("lhs", "rhs"),
    [
        ([7], [7]),  # vector . vector
        ([7], [2, 7, 5]),  # a row against a batch
        ([2, 3, 4, 7], [7]),  # a batch against a column
        ([2, 1, 3, 7], [4, 7, 5]),  # broadcast batch dims on both sides
        ([3, 7], [2, 7, 130]),
    ],
)
def test_broadcast_and_vector_matmuls_match_reference(lhs: list[int], rhs: list[int]) -> None:
    out = list(np.matmul(np.zeros(lhs), np.zeros(rhs)).shape)
    t_a, t_b, t_out = (
        f"tensor<{'x'.join(map(str, s))}{'x' if s else ''}f32>" for s in (lhs, rhs, out)
    )
    text = f"""
func.func @main(%a: {t_a} {{graph.name = "a"}}, %b: {t_b} {{graph.name = "b"}})
    -> ({t_out} {{graph.name = "y"}}) {{
  %0 = graph.matmul %a, %b : ({t_a}, {t_b}) -> {t_out}
  func.return %0 : {t_out}
}}"""
    rng = np.random.default_rng(11)
    inputs = {
        "a": rng.standard_normal(lhs).astype(np.float32),
        "b": rng.standard_normal(rhs).astype(np.float32),
    }
    expected, got = _compile_and_run(text, inputs, "fp32")
    np.testing.assert_allclose(got["y"], expected["y"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_batched_matmul_matches_reference(dtype: str) -> None:
    """Attention's Q @ K^T: both operands batched, [2, 3, 130, 16] @ [2, 3, 16, 130]."""
    text = """
func.func @main(%q: tensor<2x3x130x16xf32> {graph.name = "q"},
                %k: tensor<2x3x16x130xf32> {graph.name = "k"})
    -> (tensor<2x3x130x130xf32> {graph.name = "s"}) {
  %0 = graph.matmul %q, %k
         : (tensor<2x3x130x16xf32>, tensor<2x3x16x130xf32>) -> tensor<2x3x130x130xf32>
  func.return %0 : tensor<2x3x130x130xf32>
}"""
    rng = np.random.default_rng(11)
    inputs = {
        "q": rng.standard_normal((2, 3, 130, 16)).astype(np.float32),
        "k": rng.standard_normal((2, 3, 16, 130)).astype(np.float32),
    }
    expected, got = _compile_and_run(text, inputs, dtype)
    scale = float(np.abs(expected["s"]).max())
    tolerance = 1e-5 if dtype == "fp32" else 2e-2
    assert float(np.abs(got["s"] - expected["s"]).max()) <= tolerance * scale


def test_matmul_with_a_k_too_large_to_keep_x_transposed_fits() -> None:
    """K = 49152 in fp32 with 128 rows: x^T's K blocks (192 KiB per partition) exceed the
    SBUF budget, so they are transposed again per output block rather than kept."""
    m, k, n = 128, 49152, 8
    rng = np.random.default_rng(8)
    inputs = {
        "x": rng.standard_normal((m, k)).astype(np.float32),
        "w": rng.standard_normal((k, n)).astype(np.float32),
        "b": np.zeros((m, n), np.float32),
    }
    expected, got = _compile_and_run(_matmul_text(m, k, n), inputs, "fp32")
    np.testing.assert_allclose(got["y"], expected["y"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("shape", "starts", "ends", "axes", "steps"),
    [
        ([20, 10, 5], [20, 10, 4], [0, -1000, 1], [0, 1, 2], [-1, -3, -1]),
        ([7, 300], [-1], [-1000], [0], [-2]),
        ([3, 4], [0, 3], [3, 0], [0, 1], [1, -1]),
        ([2, 4, 20000], [1], [3], [1], [1]),  # rows too wide for one strided DMA per tile
        ([2, 3, 2, 3, 2, 3], [1, 1, 1], [2, 2, 2], [1, 3, 5], [1, 1, 1]),  # too many dims
    ],
)
def test_slices_by_takes_match_reference(
    shape: list[int], starts: list[int], ends: list[int], axes: list[int], steps: list[int]
) -> None:
    """A negative step takes its indices one DMA window each (positive runs merge); so do
    slices too wide or with too many dims for one strided DMA per tile."""
    x = np.random.default_rng(16).standard_normal(shape).astype(np.float32)
    index = [slice(None)] * len(shape)
    for a, begin, end, step in zip(axes, starts, ends, steps, strict=True):
        index[a] = slice(begin, end, step)
    out = list(x[tuple(index)].shape)
    t_in = f"tensor<{'x'.join(map(str, shape))}xf32>"
    t_out = f"tensor<{'x'.join(map(str, out))}xf32>"
    text = f"""
func.func @main(%a: {t_in} {{graph.name = "a"}}) -> ({t_out} {{graph.name = "y"}}) {{
  %0 = graph.slice %a {{starts = {starts}, ends = {ends}, axes = {axes}, steps = {steps}}}
      : {t_in} -> {t_out}
  func.return %0 : {t_out}
}}"""
    expected, got = _compile_and_run(text, {"a": x}, "fp32")
    np.testing.assert_array_equal(got["y"], expected["y"])
    np.testing.assert_array_equal(got["y"], x[tuple(index)])
