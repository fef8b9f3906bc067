"""Integer arithmetic (`lowering/graph_to_tile_integer.py`) through the whole pipeline:
compiled with `trnc.compile`, simulated, and compared with the graph reference interpreter
bit for bit: add, sub, mul and div with ONNX's wrap-around, and casts that truncate toward
zero or wrap around. 8-bit ops are checked on every pair of values, 16-bit ones on every
value against the edge values and on random pairs."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import trnc
from trnc.compiler import CompiledModel, CompileError
from trnc.interpreters.graph import run_graph
from trnc.tools.context import parse_source

_TYPES: dict[str, Any] = {
    "i8": np.int8,
    "ui8": np.uint8,
    "i16": np.int16,
    "ui16": np.uint16,
    "i32": np.int32,
    "ui32": np.uint32,
    "i64": np.int64,
    "f32": np.float32,
    "f16": np.float16,
}

BINARY = """
func.func @main(%x: X {graph.name = "x"}, %y: Y {graph.name = "y"}) -> (Z {graph.name = "z"}) {
  %0 = graph.OP %x, %y : (X, Y) -> Z
  func.return %0 : Z
}"""

CAST = """
func.func @main(%x: X {graph.name = "x"}) -> (Z {graph.name = "z"}) {
  %0 = graph.cast %x : X -> Z
  func.return %0 : Z
}"""


def _tensor(shape: tuple[int, ...], element: str) -> str:
    return f"tensor<{''.join(f'{d}x' for d in shape)}{element}>"


def _binary(op: str, x: tuple[int, ...], y: tuple[int, ...], element: str) -> str:
    z = tuple(np.broadcast_shapes(x, y))
    types = {"X": _tensor(x, element), "Y": _tensor(y, element), "Z": _tensor(z, element)}
    return re.sub(r"\b[XYZ]\b", lambda m: types[m.group(0)], BINARY.replace("OP", op))


def _cast(shape: tuple[int, ...], source: str, target: str) -> str:
    types = {"X": _tensor(shape, source), "Z": _tensor(shape, target)}
    return re.sub(r"\b[XZ]\b", lambda m: types[m.group(0)], CAST)


@cache
def _program(text: str) -> CompiledModel:
    return trnc.compile(parse_source(text, "test.mlir"), dtype="fp32")


def _check(text: str, inputs: dict[str, np.ndarray]) -> None:
    """The compiled program's outputs equal the reference interpreter's, bit for bit and
    in the same dtype."""
    expected = run_graph(parse_source(text, "test.mlir"), inputs).outputs
    got = _program(text).run(inputs)
    for name, want in expected.items():
        assert got[name].dtype == want.dtype, name
        np.testing.assert_array_equal(got[name].view(np.uint8), want.view(np.uint8), name)


def _every_value(element: str) -> np.ndarray:
    info = np.iinfo(_TYPES[element])
    return np.arange(int(info.min), int(info.max) + 1).astype(_TYPES[element])


def _edges(element: str) -> list[int]:
    info = np.iinfo(_TYPES[element])
    lo, hi = int(info.min), int(info.max)
    values = {lo, lo + 1, lo + 2, -2, -1, 0, 1, 2, 3, 7, 127, 128, 255, 256, hi - 1, hi}
    values |= {-v for v in values} | {hi // 2, hi // 2 + 1, lo // 2, lo // 2 - 1}
    return sorted(v for v in values if lo <= v <= hi)


ALL_BINARY = [
    (op, element)
    for op in ("add", "sub", "mul", "div")
    for element in ("i8", "ui8", "i16", "ui16")
    if not (op == "mul" and element in ("i16", "ui16"))
]
"""The integer ops lowered exactly: 8- and 16-bit add, sub and div, 8-bit mul."""


@pytest.mark.parametrize(("op", "element"), [p for p in ALL_BINARY if "16" not in p[1]])
def test_8bit_ops_on_every_pair_of_values(op: str, element: str) -> None:
    """Every (x, y) of an 8-bit type (y != 0 for div): wrap-around at both ends (int8
    100 + 100 = -56, -128 / -1 = -128; uint8 3 - 5 = 254), bit-exact."""
    values = _every_value(element)
    divisors = values[values != 0] if op == "div" else values
    x, y = np.meshgrid(values, divisors, indexing="ij")
    _check(_binary(op, x.shape, y.shape, element), {"x": x, "y": y})


@pytest.mark.parametrize(("op", "element"), [p for p in ALL_BINARY if "16" in p[1]])
def test_16bit_ops_on_every_value_against_the_edges(op: str, element: str) -> None:
    """Every 16-bit x against each edge value y (min, max, +-1, 0, ...), and every edge
    value x against every y (the quotients close to an integer from both sides)."""
    values = _every_value(element).reshape(256, 256)
    edges = [e for e in _edges(element) if not (op == "div" and e == 0)]
    xs = np.concatenate([values] * len(edges))
    ys = np.concatenate([np.full_like(values, e) for e in edges])
    _check(_binary(op, xs.shape, ys.shape, element), {"x": xs, "y": ys})
    every = values.reshape(-1)
    divisors = every[every != 0] if op == "div" else every
    xs, ys = np.meshgrid(np.array(_edges(element), values.dtype), divisors, indexing="ij")
    _check(_binary(op, xs.shape, ys.shape, element), {"x": xs, "y": ys})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), case=st.sampled_from(ALL_BINARY))
def test_random_pairs_over_the_full_range(data: st.DataObject, case: tuple[str, str]) -> None:
    op, element = case
    dtype = np.dtype(_TYPES[element])
    info = np.iinfo(_TYPES[element])
    values = st.integers(int(info.min), int(info.max))
    x = data.draw(hnp.arrays(dtype, (4, 6), elements=values))
    y = data.draw(hnp.arrays(dtype, (4, 6), elements=values.filter(lambda v: v != 0)))
    _check(_binary(op, (4, 6), (4, 6), element), {"x": x, "y": y})


@pytest.mark.parametrize(
    ("op", "element", "x", "y"),
    [
        ("add", "i8", (3, 4, 5), (5,)),  # a row spread by a matmul
        ("sub", "ui8", (5,), (3, 4, 5)),  # a row on the left
        ("mul", "i8", (4, 1), (4, 6)),  # a column on the left
        ("sub", "i16", (4, 1), (4, 6)),  # c - x with c a column
        ("add", "ui16", (2, 1, 5), (2, 4, 1)),  # per-block columns and rows
        ("div", "i16", (3, 4, 5), (5,)),  # a row divisor
        ("div", "i8", (5,), (3, 4, 5)),  # a row dividend: spread, then a true division
        ("div", "ui8", (130, 7), (130, 1)),  # a column divisor: tensor_scalar
        ("add", "i8", (130, 2100), (130, 2100)),  # several tiles both ways
    ],
)
def test_broadcasts(op: str, element: str, x: tuple[int, ...], y: tuple[int, ...]) -> None:
    dtype = np.dtype(_TYPES[element])
    info = np.iinfo(_TYPES[element])
    rng = np.random.default_rng(len(x) * 10 + len(y))
    edges = np.array(_edges(element), dtype)
    xs = rng.integers(int(info.min), int(info.max) + 1, x, endpoint=False).astype(dtype)
    ys = rng.integers(int(info.min), int(info.max) + 1, y, endpoint=False).astype(dtype)
    xs.flat[: min(xs.size, edges.size)] = edges[: xs.size]
    ys.flat[-min(ys.size, edges.size) :] = edges[-ys.size :]
    if op == "div":
        ys[ys == 0] = 1
    _check(_binary(op, x, y, element), {"x": xs, "y": ys})


@pytest.mark.parametrize(
    ("op", "constant", "on_left"),
    [("sub", 100, True), ("add", -100, False), ("mul", -3, False), ("div", -7, False)],
)
def test_a_compile_time_scalar(op: str, constant: int, on_left: bool) -> None:
    """A one-element constant is an immediate (`c - x` through `-1 * x + c`)."""
    operands = "%c, %x" if on_left else "%x, %c"
    text = f"""
func.func @main(%x: tensor<8x16xi8> {{graph.name = "x"}})
    -> (tensor<8x16xi8> {{graph.name = "z"}}) {{
  %c = graph.constant dense<{constant}> : tensor<i8>
  %0 = graph.{op} {operands} : (tensor<8x16xi8>, tensor<i8>) -> tensor<8x16xi8>
  func.return %0 : tensor<8x16xi8>
}}"""
    if on_left:
        text = text.replace("(tensor<8x16xi8>, tensor<i8>)", "(tensor<i8>, tensor<8x16xi8>)")
    _check(text, {"x": _every_value("i8").reshape(8, 32)[:, ::2].copy()})


# --------------------------------------------------------------------------------------
# Casts
# --------------------------------------------------------------------------------------

_CAST_WINDOW = {
    "i8": (-(2.0**31), 2.0**31),
    "ui8": (-(2.0**31), 2.0**31),
    "i16": (-(2.0**31), 2.0**31),
    "ui16": (-(2.0**31), 2.0**31),
}
"""Per target type, the float values whose cast the lowering computes as the reference
does: truncated toward zero, then wrapped to a narrow type as C++ `static_cast` through
int32 does (ONNX defines only the values inside the target's range). Casts to 32- and
64-bit targets are refused: their results can exceed 2^24, which on-chip fp32 rounds."""

_SPECIAL = [
    0.0,
    -0.0,
    0.5,
    -0.5,
    1.5,
    -1.5,
    2.5,
    -2.5,
    0.49999997,
    -0.49999997,
    0.99999994,
    -0.99999994,
    127.5,
    -128.5,
    255.99998,
    2.0**23 - 0.5,
    -(2.0**23) + 0.5,
    2.0**23 + 1,
    2.0**24,
    -(2.0**24) - 2,
    2.0**31 - 128,
    -(2.0**31),
    3.0e9,
    4294967040.0,
]


def _float_cases(target: str, count: int, rng: np.random.Generator) -> np.ndarray:
    lo, hi = _CAST_WINDOW[target]
    special = np.array([v for v in _SPECIAL if lo <= v < hi], np.float32)
    scales = 10.0 ** rng.integers(-2, 10, count)
    x = (rng.standard_normal(count) * scales).astype(np.float32)
    x = x[(x >= lo) & (x < hi)]
    return np.concatenate([special, x])


@pytest.mark.parametrize("target", sorted(_CAST_WINDOW))
def test_float_to_integer_cast_truncates_toward_zero(target: str) -> None:
    """Ties, values just below an integer, 2^23 and up (already integral), the int32
    limits: truncated toward zero and wrapped around like the reference."""
    rng = np.random.default_rng(len(target))
    x = _float_cases(target, 4000, rng)
    x = x[: x.size // 40 * 40].reshape(40, -1)
    _check(_cast(x.shape, "f32", target), {"x": x})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), target=st.sampled_from(sorted(_CAST_WINDOW)))
def test_float_to_integer_cast_random(data: st.DataObject, target: str) -> None:
    lo, hi = _CAST_WINDOW[target]
    floats = st.floats(lo, hi, width=32, exclude_max=True, allow_subnormal=True)
    x = data.draw(hnp.arrays(np.float32, (3, 5), elements=floats))
    _check(_cast((3, 5), "f32", target), {"x": x})


def test_half_precision_to_integer_cast() -> None:
    x = np.array([[0.5, -0.5, 1.5, -2.5, 65504.0, -65504.0, 300.75, -129.5]], np.float16)
    _check(_cast(x.shape, "f16", "i16"), {"x": x})
    _check(_cast(x.shape, "f16", "ui8"), {"x": x})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    case=st.sampled_from(
        [
            ("i32", "i8"),
            ("i32", "ui8"),
            ("i64", "i16"),
            ("i64", "ui16"),
            ("ui16", "i8"),
            ("i16", "ui8"),
            ("i8", "ui16"),
            ("ui32", "i16"),
        ]
    ),
)
def test_narrowing_integer_cast_wraps_around(data: st.DataObject, case: tuple[str, str]) -> None:
    """Within the input contract (|x| <= 2^24): the low bits, sign-extended for a signed
    target (int32 300 -> int8 44, int8 -1 -> uint16 65535)."""
    source, target = case
    dtype = np.dtype(_TYPES[source])
    info = np.iinfo(_TYPES[source])
    values = st.integers(max(int(info.min), -(2**24)), min(int(info.max), 2**24))
    x = data.draw(hnp.arrays(dtype, (4, 6), elements=values))
    _check(_cast((4, 6), source, target), {"x": x})


def test_float_to_integer_and_back_gives_no_negative_zero() -> None:
    """`cast(cast(x, int16), f32)` (a truncation) and an int8 intermediate fed to an add:
    the integer intermediates are +0.0 where x was in (-1, 0)."""
    text = """
func.func @main(%x: tensor<4x8xf32> {graph.name = "x"})
    -> (tensor<4x8xf32> {graph.name = "t"}, tensor<4x8xi8> {graph.name = "s"}) {
  %i = graph.cast %x : tensor<4x8xf32> -> tensor<4x8xi16>
  %t = graph.cast %i : tensor<4x8xi16> -> tensor<4x8xf32>
  %b = graph.cast %x : tensor<4x8xf32> -> tensor<4x8xi8>
  %s = graph.add %b, %b : (tensor<4x8xi8>, tensor<4x8xi8>) -> tensor<4x8xi8>
  func.return %t, %s : tensor<4x8xf32>, tensor<4x8xi8>
}"""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((4, 8)) * 100).astype(np.float32)
    x[0] = [-0.3, -0.0, -0.99999994, 0.7, -1.0, -127.9, 100.5, -100.5]
    _check(text, {"x": x})


# --------------------------------------------------------------------------------------
# What is refused
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_binary("mul", (4, 6), (4, 6), "i16"), "'graph.mul' on integer or boolean tensors"),
        (_binary("add", (4, 6), (4, 6), "i32"), "'graph.add' on integer or boolean tensors"),
        (_binary("div", (4, 6), (4, 6), "i32"), "'graph.div' on integer or boolean tensors"),
        (_binary("div", (4, 1), (4, 6), "i16"), "integer 'graph.div' with the dividend"),
        (_cast((4, 6), "i32", "ui32"), "a cast from i32 to ui32 is not lowered yet"),
        (_cast((4, 6), "f32", "i32"), "a cast from f32 to i32 is not lowered yet"),
        (_cast((4, 6), "f32", "i64"), "a cast from f32 to i64 is not lowered yet"),
        (
            """
func.func @main(%x: tensor<4x6xi8> {graph.name = "x"}) -> (tensor<4x6xi8> {graph.name = "z"}) {
  %c = graph.constant dense<100> : tensor<i8>
  %0 = graph.div %c, %x : (tensor<i8>, tensor<4x6xi8>) -> tensor<4x6xi8>
  func.return %0 : tensor<4x6xi8>
}""",
            "integer 'graph.div' with the dividend",
        ),
    ],
)
def test_not_provably_exact_is_refused(text: str, message: str) -> None:
    """int16 * int16 can reach 2^30 and int32 sums 2^32 (beyond fp32's exact integers);
    `c / x` with c broadcast along the last dim is `c * (1 / x)`, not exact."""
    with pytest.raises(CompileError, match="not lowered yet") as error:
        _program(text)
    assert message in str(error.value)
