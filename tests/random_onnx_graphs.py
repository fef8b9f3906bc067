"""Seeded random ONNX graphs for the differential test (tests/lowering/test_random_graphs.py).

`random_graph(seed)` builds a small fp32 ONNX model (opset 17) from a chain of 2-6 random
ops on tensors whose dims are often not multiples of 128: elementwise unary and binary ops
with broadcasts, matmuls (odd sizes, batch dims, matrix-vector), reductions, transposes,
softmax, layer norm, concat, slices (positive and negative steps), where, casts (of tanh to
int8/16/32, or to fp16, kept as outputs), gathers (run-time indices into an input table, or constant
indices into any tensor) and pass-through outputs. It returns the model, the data of its
inputs and, per output, the tolerance a comparison must allow (`Case`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import prod
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DIMS = (1, 2, 3, 5, 7, 16, 33, 64, 127, 128, 129, 130)
MAX_ELEMENTS = 6000
FLOAT = TensorProto.FLOAT


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    elem: int = FLOAT


@dataclass
class Case:
    """A random model, its input data and the tolerance of each output (`Tolerance`)."""

    seed: int
    model: onnx.ModelProto
    inputs: dict[str, np.ndarray]
    tolerance: dict[str, Tolerance]
    ops: list[str] = field(default_factory=list)


Tolerance = tuple[float, float, float]
"""(rtol, atol, step): |got - ref| <= rtol |ref| + atol max(1, max |ref|) + step."""
FP32: Tolerance = (1e-5, 1e-5, 0.0)
"""fp32: a few ulps of each element, plus accumulation-order differences of sums."""
INT_CAST: Tolerance = (0.0, 0.0, 1.0)
"""A float -> int cast truncates: a value an ulp away from an integer may step by one."""
FP16_CAST: Tolerance = (2.0**-10, 1e-5, 0.0)
"""A float -> fp16 cast rounds to 11 bits: one fp16 step, relatively."""


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.data: dict[str, np.ndarray] = {}
        self.floats: list[Tensor] = []
        self.terminal: list[tuple[Tensor, Tolerance]] = []
        self.count = 0
        self.ops: list[str] = []

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def pick(self, options: tuple[int, ...] | list[int]) -> int:
        return int(options[int(self.rng.integers(len(options)))])

    def shape(self, rank: int, limit: int = MAX_ELEMENTS) -> tuple[int, ...]:
        while True:
            shape = tuple(self.pick(DIMS) for _ in range(rank))
            if prod(shape) <= limit:
                return shape

    def values(self, shape: tuple[int, ...], positive: bool = False) -> np.ndarray:
        if positive:
            return self.rng.uniform(0.5, 2.0, shape).astype(np.float32)
        return self.rng.standard_normal(shape).astype(np.float32)

    def constant(self, array: np.ndarray, as_input: bool | None = None) -> Tensor:
        """A new input (seeded data) or initializer holding `array`."""
        elem = helper.np_dtype_to_tensor_dtype(array.dtype)
        if as_input is None:
            as_input = bool(self.rng.integers(2))
        name = self.name("in" if as_input else "w")
        if as_input:
            self.inputs.append(helper.make_tensor_value_info(name, elem, list(array.shape)))
            self.data[name] = array
        else:
            self.inits.append(numpy_helper.from_array(array, name))
        return Tensor(name, tuple(array.shape), elem)

    def node(self, op: str, inputs: list[str], shape: tuple[int, ...], **attrs: Any) -> Tensor:
        out = Tensor(self.name(op.lower()), shape)
        self.nodes.append(helper.make_node(op, inputs, [out.name], name=out.name, **attrs))
        self.ops.append(op)
        return out

    def operand(self) -> Tensor:
        return self.floats[int(self.rng.integers(len(self.floats)))]

    def broadcast_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """A shape that broadcasts to `shape`: some dims 1, maybe fewer leading dims."""
        drop = int(self.rng.integers(len(shape) + 1)) if self.rng.random() < 0.3 else 0
        return tuple(1 if self.rng.random() < 0.4 else d for d in shape[drop:])

    # --- ops ---------------------------------------------------------------------------

    def unary(self, a: Tensor) -> Tensor:
        op = ["Relu", "Tanh", "Sigmoid", "Neg", "Abs", "Erf", "Exp", "Sqrt"][
            int(self.rng.integers(8))
        ]
        if op == "Exp":  # of a bounded value
            a = self.node("Tanh", [a.name], a.shape)
        if op == "Sqrt":
            a = self.node("Abs", [a.name], a.shape)
        return self.node(op, [a.name], a.shape)

    def binary(self, a: Tensor) -> Tensor:
        op = ["Add", "Sub", "Mul", "Div", "Max", "Min"][int(self.rng.integers(6))]
        same = [t for t in self.floats if t.shape == a.shape and t is not a]
        if op != "Div" and same and self.rng.random() < 0.3:
            b = same[int(self.rng.integers(len(same)))]
        elif self.rng.random() < 0.15:
            b = self.constant(self.values((), positive=op == "Div"), as_input=False)
        else:
            b = self.constant(self.values(self.broadcast_shape(a.shape), positive=op == "Div"))
        shape = tuple(np.broadcast_shapes(a.shape, b.shape))
        first, second = (a, b) if op == "Div" or self.rng.random() < 0.7 else (b, a)
        return self.node(op, [first.name, second.name], shape)

    def matmul(self, a: Tensor) -> Tensor:
        k = a.shape[-1]
        n = self.pick(DIMS)
        kind = self.rng.random()
        if kind < 0.15:
            w_shape: tuple[int, ...] = (k,)
        elif kind < 0.35 and len(a.shape) >= 3:
            w_shape = (a.shape[-3], k, n)
        else:
            w_shape = (k, n)
        if prod(w_shape) > 4 * MAX_ELEMENTS or prod(a.shape[:-1]) * n > MAX_ELEMENTS:
            w_shape = (k,)
        w = self.constant(self.values(w_shape) / np.float32(np.sqrt(k)))
        left = a.shape[:-1] if len(a.shape) > 1 else ()
        if len(w_shape) == 1:
            shape = left
        else:
            batch = tuple(np.broadcast_shapes(left[:-1], w_shape[:-2]))
            shape = (*batch, *left[-1:], n)
        return self.node("MatMul", [a.name, w.name], shape)

    def reduce(self, a: Tensor) -> Tensor:
        rank = len(a.shape)
        axes = sorted(
            int(x) for x in self.rng.choice(rank, int(self.rng.integers(1, rank + 1)), False)
        )
        keep = int(self.rng.integers(2))
        shape = tuple(1 if i in axes else d for i, d in enumerate(a.shape) if keep or i not in axes)
        signed = [x - rank if self.rng.random() < 0.3 else x for x in axes]
        op = ["ReduceSum", "ReduceMean", "ReduceMax"][int(self.rng.integers(3))]
        if op == "ReduceSum":
            axes_t = self.constant(np.array(signed, np.int64), as_input=False)
            return self.node(op, [a.name, axes_t.name], shape, keepdims=keep)
        return self.node(op, [a.name], shape, axes=signed, keepdims=keep)

    def transpose(self, a: Tensor) -> Tensor:
        perm = [int(x) for x in self.rng.permutation(len(a.shape))]
        return self.node("Transpose", [a.name], tuple(a.shape[p] for p in perm), perm=perm)

    def softmax(self, a: Tensor) -> Tensor:
        axis = int(self.rng.integers(-len(a.shape), len(a.shape)))
        return self.node("Softmax", [a.name], a.shape, axis=axis)

    def layer_norm(self, a: Tensor) -> Tensor:
        axis = -1 if self.rng.random() < 0.7 else int(self.rng.integers(len(a.shape)))
        norm = a.shape[axis:]
        scale = self.constant(self.values(norm), as_input=False)
        bias = self.constant(self.values(norm), as_input=False)
        return self.node("LayerNormalization", [a.name, scale.name, bias.name], a.shape, axis=axis)

    def concat(self, a: Tensor) -> Tensor:
        axis = int(self.rng.integers(len(a.shape)))
        other = list(a.shape)
        other[axis] = self.pick(DIMS[:8])
        b = self.constant(self.values(tuple(other)))
        shape = list(a.shape)
        shape[axis] += other[axis]
        first, second = (a, b) if self.rng.random() < 0.5 else (b, a)
        return self.node("Concat", [first.name, second.name], tuple(shape), axis=axis)

    def slice(self, a: Tensor) -> Tensor:
        rank = len(a.shape)
        axes = sorted(
            int(x)
            for x in self.rng.choice(rank, int(self.rng.integers(1, min(rank, 2) + 1)), False)
        )
        starts, ends, steps = [], [], []
        window: list[slice] = [slice(None)] * rank
        for axis in axes:
            d = a.shape[axis]
            step = self.pick([1, 1, 2, 3, -1, -2])
            start = int(self.rng.integers(-d, d))
            end = int(self.rng.integers(-d - 1, d + 1))
            if (end - start) * step <= 0 and self.rng.random() < 0.8:
                start, end = (0, d) if step > 0 else (d - 1, -d - 1)
            starts.append(start)
            ends.append(end)
            steps.append(step)
            window[axis] = slice(start, end, step)
        shape = np.empty(a.shape, np.int8)[tuple(window)].shape
        ins = [
            a.name,
            *(
                self.constant(np.array(v, np.int64), as_input=False).name
                for v in (starts, ends, axes, steps)
            ),
        ]
        return self.node("Slice", ins, tuple(shape))

    def where(self, a: Tensor) -> Tensor:
        zero = self.constant(np.array(0.0, np.float32), as_input=False)
        cond = self.name("greater")
        self.nodes.append(helper.make_node("Greater", [a.name, zero.name], [cond], name=cond))
        other = self.constant(self.values(self.broadcast_shape(a.shape)))
        shape = tuple(np.broadcast_shapes(a.shape, other.shape))
        pair = [a.name, other.name] if self.rng.random() < 0.5 else [other.name, a.name]
        return self.node("Where", [cond, *pair], shape)

    def cast(self, a: Tensor) -> None:
        """A cast of 100 tanh(a) to int8, int16 or int32 (truncated: one step is 1), or
        of a to fp16, as an output."""
        if self.rng.random() < 0.6:
            bounded = self.node("Tanh", [a.name], a.shape)
            hundred = self.constant(np.array(100.0, np.float32), as_input=False)
            scaled = self.node("Mul", [bounded.name, hundred.name], a.shape)
            to = [TensorProto.INT8, TensorProto.INT16, TensorProto.INT32][int(self.rng.integers(3))]
            out = self.node("Cast", [scaled.name], a.shape, to=to)
            out.elem = to
            self.terminal.append((out, INT_CAST))
        else:
            out = self.node("Cast", [a.name], a.shape, to=TensorProto.FLOAT16)
            out.elem = TensorProto.FLOAT16
            self.terminal.append((out, FP16_CAST))

    def gather(self, a: Tensor) -> Tensor:
        if self.rng.random() < 0.5:  # run-time indices into an input table (embedding)
            vocab, width = self.pick(DIMS[:10]), self.pick(DIMS[:10])
            table = self.constant(self.values((vocab, width)), as_input=True)
            ids_shape = self.shape(int(self.rng.integers(1, 3)), limit=MAX_ELEMENTS // width)
            ids = self.constant(
                self.rng.integers(0, vocab, ids_shape).astype(np.int64), as_input=True
            )
            return self.node("Gather", [table.name, ids.name], (*ids_shape, width), axis=0)
        axis = int(self.rng.integers(len(a.shape)))
        d = a.shape[axis]
        count = self.pick([1, 2, 3, 5])
        ids = self.constant(self.rng.integers(-d, d, (count,)).astype(np.int64), as_input=False)
        shape = (*a.shape[:axis], count, *a.shape[axis + 1 :])
        return self.node("Gather", [a.name, ids.name], shape, axis=axis)


def random_graph(seed: int) -> Case:
    """The random model of `seed` (see the module docstring)."""
    b = _Builder(seed)
    for _ in range(int(b.rng.integers(1, 3))):
        b.floats.append(b.constant(b.values(b.shape(int(b.rng.integers(1, 5)))), as_input=True))
    steps: list[Callable[[Tensor], Tensor | None]] = [
        b.unary, b.binary, b.matmul, b.reduce, b.transpose, b.softmax, b.layer_norm,
        b.concat, b.slice, b.where, b.cast, b.gather,
    ]  # fmt: skip
    last = b.floats[-1]
    for _ in range(int(b.rng.integers(2, 7))):
        a = last if b.rng.random() < 0.7 else b.operand()
        step = steps[int(b.rng.integers(len(steps)))]
        if (step in (b.transpose,) and len(a.shape) < 2) or (
            step == b.matmul and len(a.shape) == 0
        ):
            step = b.unary
        if not a.shape and step in (b.reduce, b.softmax, b.layer_norm, b.concat, b.slice, b.gather):
            step = b.unary
        if prod(a.shape) == 0 and step not in (b.unary, b.binary, b.transpose, b.concat):
            step = b.unary  # onnxruntime refuses a layer norm of nothing, say
        result = step(a)
        if result is not None and 0 < prod(result.shape) <= 4 * MAX_ELEMENTS:
            b.floats.append(result)
            last = result
        elif result is not None and prod(result.shape) == 0:
            b.floats.append(result)
    outputs: list[tuple[Tensor, Tolerance]] = [(last, FP32)]
    for _ in range(int(b.rng.integers(0, 3))):  # others, inputs (pass-through) among them
        outputs.append((b.operand(), FP32))
    outputs += b.terminal
    tolerance: dict[str, Tolerance] = {}
    infos = []
    for tensor, tol in outputs:
        infos.append(helper.make_tensor_value_info(tensor.name, tensor.elem, list(tensor.shape)))
        tolerance[tensor.name] = tol
    graph = helper.make_graph(b.nodes, f"random{seed}", b.inputs, infos, initializer=b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return Case(seed, model, b.data, tolerance, b.ops)
