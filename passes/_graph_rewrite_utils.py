"""Shared helpers of the graph-to-graph passes (`graph-canonicalize`, `graph-decompose`).

* numpy <-> `graph.constant` conversion (`dense_attr`, `constant_value`);
* element-type facts (`np_dtype`, `lowest_value`, `is_float_type`);
* `Emitter`: collects the new graph ops of one rewrite and skips the no-op ones
  (identity transposes, reshapes and slices, one-input concats, zero-width pads).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, TensorType
from xdsl.ir import Attribute, Operation, SSAValue

from trnc.dialects import graph
from trnc.dialects.graph.base import element_of, is_bool, is_float, shape_of
from trnc.dialects.graph.shapes import num_elements
from trnc.interpreters.numpy_types import dense_to_numpy, numpy_dtype

Value = SSAValue | Operation


# --------------------------------------------------------------------------------------
# Element types and constants
# --------------------------------------------------------------------------------------


def np_dtype(element_type: Attribute) -> np.dtype[Any]:
    """The numpy dtype of an MLIR element type (as the interpreter maps it)."""
    return numpy_dtype(element_type)


def is_float_type(element_type: Attribute) -> bool:
    """A floating-point element type."""
    return is_float(element_type)


def lowest_value(element_type: Attribute) -> float | int:
    """The lowest finite value of an element type (ml_dtypes' finfo covers bf16)."""
    dtype = np_dtype(element_type)
    if is_float(element_type):
        import ml_dtypes

        return float(ml_dtypes.finfo(dtype).min)
    if is_bool(element_type):
        return 0
    return int(np.iinfo(dtype).min)


def _is_splat(flat: np.ndarray) -> bool:
    if flat.size <= 1:
        return False
    first = flat[:1]
    if flat.dtype.kind not in "iub":  # floats, ml_dtypes ones included
        wide = flat.astype(np.float64)
        same = bool(np.array_equal(wide, np.broadcast_to(wide[:1], wide.shape), equal_nan=True))
        signs = np.signbit(wide)
        return same and bool(signs.all() or not signs.any())
    return bool((flat == first).all())


def dense_attr(array: np.ndarray, element_type: Attribute) -> DenseIntOrFPElementsAttr[Any]:
    """`dense<...>` holding `array` (already of `element_type`'s dtype); a splat when
    every element is the same."""
    array = np.asarray(array)
    flat = array.reshape(-1)
    if _is_splat(flat):
        flat = flat[:1]
    t = TensorType(element_type, array.shape)
    if is_float(element_type):
        return DenseIntOrFPElementsAttr.from_list(t, [float(v) for v in flat.astype(np.float64)])
    wide = np.uint64 if array.dtype.kind == "u" else np.int64
    return DenseIntOrFPElementsAttr.from_list(t, [int(v) for v in flat.astype(wide)])


def is_finite_array(array: np.ndarray) -> bool:
    """No inf or NaN (always true for integers and booleans): xDSL 0.74 prints non-finite
    dense floats as hex, which it parses back as integers, so passes never create them."""
    if array.dtype.kind in "iub":
        return True
    return bool(np.isfinite(array.astype(np.float64)).all())


def constant_value(value: SSAValue, max_elements: int | None = None) -> np.ndarray | None:
    """The value of `value` when a `graph.constant` with inline `dense<...>` data defines
    it (and it has at most `max_elements` elements, when given), else None."""
    owner = value.owner
    if not isinstance(owner, graph.ConstantOp):
        return None
    attr = owner.value
    if not isinstance(attr, DenseIntOrFPElementsAttr):
        return None
    if max_elements is not None and num_elements(attr.get_shape()) > max_elements:
        return None
    return dense_to_numpy(attr)


def cast_scalar(value: float, element_type: Attribute) -> np.ndarray | None:
    """`value` as a 0-d array of `element_type` (floats rounded to nearest even, integers
    required to be integral and in range); None when it does not fit or is not finite."""
    dtype = np_dtype(element_type)
    if not np.isfinite(value):
        return None
    if is_float(element_type):
        with np.errstate(all="ignore"):
            result = np.asarray(value, dtype=np.float64).astype(dtype)
        return result if is_finite_array(result) else None
    if not float(value).is_integer():
        return None
    if is_bool(element_type):
        return np.asarray(value != 0)
    info = np.iinfo(dtype)
    if not info.min <= int(value) <= info.max:
        return None
    return np.asarray(int(value), dtype=dtype)


# --------------------------------------------------------------------------------------
# Building replacement ops
# --------------------------------------------------------------------------------------


class Emitter:
    """Collects the new ops of one rewrite, in order; every method returns the new value
    (or its input, when the op would be a no-op)."""

    def __init__(self) -> None:
        self.ops: list[Operation] = []

    def emit(self, op: Operation) -> SSAValue:
        self.ops.append(op)
        return op.results[0]

    def located(self, origin: Operation) -> list[Operation]:
        """The new ops, each given `origin`'s location (so what they lower to still
        names the model's node)."""
        for op in self.ops:
            op.location = origin.location
        return self.ops

    # ---- constants ------------------------------------------------------------------

    def constant(self, array: np.ndarray, element_type: Attribute) -> SSAValue:
        """A `graph.constant` of `array` (converted to `element_type`'s dtype)."""
        data = np.asarray(array).astype(np_dtype(element_type))
        return self.emit(graph.ConstantOp(dense_attr(data, element_type)))

    def scalar(self, value: float, element_type: Attribute) -> SSAValue:
        """A rank-0 constant; `value` must fit (see `cast_scalar`)."""
        data = cast_scalar(value, element_type)
        assert data is not None, f"{value} does not fit {element_type}"
        return self.emit(graph.ConstantOp(dense_attr(data, element_type)))

    def fill(self, shape: Sequence[int], value: float, element_type: Attribute) -> SSAValue:
        """A splat constant of `shape`."""
        data = cast_scalar(value, element_type)
        assert data is not None, f"{value} does not fit {element_type}"
        return self.constant(np.broadcast_to(data, tuple(shape)), element_type)

    # ---- arithmetic -----------------------------------------------------------------

    def binary(self, cls: type[graph.BinaryOp], lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        return self.emit(cls(lhs, rhs))

    def add(self, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        return self.binary(graph.AddOp, lhs, rhs)

    def sub(self, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        return self.binary(graph.SubOp, lhs, rhs)

    def mul(self, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        return self.binary(graph.MulOp, lhs, rhs)

    def div(self, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        return self.binary(graph.DivOp, lhs, rhs)

    def max(self, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        return self.binary(graph.MaxOp, lhs, rhs)

    def min(self, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        return self.binary(graph.MinOp, lhs, rhs)

    def unary(self, cls: type[graph.UnaryOp], x: SSAValue) -> SSAValue:
        return self.emit(cls(x))

    def reduce(
        self, cls: type[graph.ReduceOp], x: SSAValue, axes: Sequence[int], keepdims: bool
    ) -> SSAValue:
        return self.emit(cls(x, list(axes), keepdims))

    def matmul(self, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        return self.emit(graph.MatmulOp(lhs, rhs))

    def cast(self, x: SSAValue, element_type: Attribute) -> SSAValue:
        if element_of(x) == element_type:
            return x
        return self.emit(graph.CastOp(x, element_type))

    # ---- data movement --------------------------------------------------------------

    def transpose(self, x: SSAValue, perm: Sequence[int]) -> SSAValue:
        if list(perm) == list(range(len(perm))):
            return x
        return self.emit(graph.TransposeOp(x, list(perm)))

    def reshape(self, x: SSAValue, shape: Sequence[int]) -> SSAValue:
        if tuple(shape) == shape_of(x):
            return x
        return self.emit(graph.ReshapeOp(x, list(shape)))

    def slice(
        self,
        x: SSAValue,
        starts: Sequence[int],
        ends: Sequence[int],
        axes: Sequence[int],
        steps: Sequence[int] | None = None,
    ) -> SSAValue:
        """A `graph.slice` with in-range, non-negative `starts` / `ends`; the axes where it
        takes everything are dropped (and the op, when it takes everything)."""
        shape = shape_of(x)
        steps = list(steps) if steps is not None else [1] * len(axes)
        keep = [
            i
            for i, (ax, start, end, step) in enumerate(zip(axes, starts, ends, steps, strict=True))
            if not (start == 0 and end >= shape[ax] and step == 1)
        ]
        if not keep:
            return x
        return self.emit(
            graph.SliceOp(
                x,
                [starts[i] for i in keep],
                [ends[i] for i in keep],
                [axes[i] for i in keep],
                [steps[i] for i in keep] if any(steps[i] != 1 for i in keep) else None,
            )
        )

    def concat(self, inputs: Sequence[SSAValue], axis: int) -> SSAValue:
        if len(inputs) == 1:
            return inputs[0]
        return self.emit(graph.ConcatOp(list(inputs), axis))

    def pad(self, x: SSAValue, axis: int, before: int, after: int, value: float) -> SSAValue:
        """`x` with `before` / `after` slices of `value` added along `axis` (a concat with
        splat constant blocks)."""
        if before == 0 and after == 0:
            return x
        shape = list(shape_of(x))
        element_type = element_of(x)
        blocks: dict[int, SSAValue] = {}

        def block(width: int) -> SSAValue:
            if width not in blocks:
                block_shape = [*shape[:axis], width, *shape[axis + 1 :]]
                blocks[width] = self.fill(block_shape, value, element_type)
            return blocks[width]

        parts = [block(before)] if before else []
        parts.append(x)
        if after:
            parts.append(block(after))
        return self.concat(parts, axis)
