"""Slices with negative steps are lowered (docs/ARCHITECTURE.md) and bit-exact against
onnxruntime: one axis reversed, two axes with steps -3 and -2 from out-of-range starts,
and a trailing axis of 33 elements."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import trnc

CASES = [
    ((130, 7), [-1], [-131], [0], [-1]),
    ((5, 129), [100, 4], [2, -6], [1, 0], [-3, -2]),
    ((2, 3, 33), [-2], [0], [2], [-1]),
]


@pytest.mark.parametrize(("shape", "starts", "ends", "axes", "steps"), CASES)
def test_negative_steps_match_onnxruntime(
    shape: tuple[int, ...], starts: list[int], ends: list[int], axes: list[int], steps: list[int]
) -> None:
    window = [slice(None)] * len(shape)
    for a, st, en, sp in zip(axes, starts, ends, steps, strict=True):
        window[a] = slice(st, en, sp)
    out_shape = np.empty(shape)[tuple(window)].shape
    inits = [
        numpy_helper.from_array(np.array(v, np.int64), n)
        for n, v in zip("seat", (starts, ends, axes, steps), strict=True)
    ]
    graph = helper.make_graph(
        [helper.make_node("Slice", ["x", "s", "e", "a", "t"], ["y"], name="slice")],
        "slice",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    ref = session.run(None, {"x": x})[0]
    got = trnc.compile(model.SerializeToString(), dtype="fp32").run({"x": x})["y"]
    np.testing.assert_array_equal(got, ref)
