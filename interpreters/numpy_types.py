"""MLIR builtin types and dense attributes as numpy dtypes and arrays.

* `numpy_dtype(element_type)`: f32 -> float32, f16 -> float16, bf16 -> ml_dtypes.bfloat16,
  f64 -> float64, the fp8 types ml_dtypes knows, i1 -> bool, i8..i64 (signless or signed)
  -> int8..int64, ui8..ui64 -> uint8..uint64;
* `tensor_spec(type)`: the (shape, dtype) of a statically shaped tensor type;
* `dense_to_numpy(attr)`: the value of a `dense<...>` (splats included) or
  `dense_resource<...>` attribute (blob from the module's `dialect_resources`).

Unsupported types raise `UnsupportedTypeError` (a `ValueError`) with a message for users.
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np
from xdsl.dialect_interfaces.op_asm import OpAsmDialectInterface
from xdsl.dialects.builtin import (
    BFloat16Type,
    Builtin,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    Float8E4M3FNType,
    Float8E4M3Type,
    Float8E5M2Type,
    Float16Type,
    Float32Type,
    Float64Type,
    IntegerType,
    Signedness,
    TensorType,
)
from xdsl.ir import Attribute

Shape = tuple[int, ...]


class UnsupportedTypeError(ValueError):
    """A type the interpreters have no numpy equivalent for."""


_FLOATS: dict[type[Attribute], np.dtype[Any]] = {
    Float32Type: np.dtype(np.float32),
    Float16Type: np.dtype(np.float16),
    BFloat16Type: np.dtype(ml_dtypes.bfloat16),
    Float64Type: np.dtype(np.float64),
    Float8E4M3FNType: np.dtype(ml_dtypes.float8_e4m3fn),
    Float8E4M3Type: np.dtype(ml_dtypes.float8_e4m3),
    Float8E5M2Type: np.dtype(ml_dtypes.float8_e5m2),
}


def numpy_dtype(element_type: Attribute) -> np.dtype[Any]:
    """The numpy dtype holding elements of `element_type` (see the module docstring)."""
    for cls, dtype in _FLOATS.items():
        if isinstance(element_type, cls):
            return dtype
    if isinstance(element_type, IntegerType):
        width = element_type.width.data
        if width == 1:
            return np.dtype(np.bool_)
        if width in (8, 16, 32, 64):
            unsigned = element_type.signedness.data == Signedness.UNSIGNED
            return np.dtype(f"{'u' if unsigned else 'i'}{width // 8}")
    raise UnsupportedTypeError(f"element type {element_type} has no numpy equivalent")


def tensor_spec(t: Attribute) -> tuple[Shape, np.dtype[Any]]:
    """(shape, dtype) of a statically shaped tensor type."""
    if not isinstance(t, TensorType):
        raise UnsupportedTypeError(f"expected a tensor type, got {t}")
    shape = tuple(t.get_shape())
    if any(d < 0 for d in shape):
        raise UnsupportedTypeError(f"expected a statically shaped tensor, got {t}")
    return shape, numpy_dtype(t.get_element_type())


def from_bytes(data: bytes, shape: Shape, dtype: np.dtype[Any], what: str) -> np.ndarray:
    """A new read-only array of `shape` and `dtype` from little-endian raw bytes; a single
    element is a splat. i1 is one byte per element (non-zero is true)."""
    storage = np.dtype(np.uint8) if dtype == np.bool_ else dtype
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) % storage.itemsize:
        raise UnsupportedTypeError(
            f"{what}: {len(data)} bytes is not a whole number of {dtype} elements"
        )
    flat = np.frombuffer(data, dtype=storage.newbyteorder("<") if storage.itemsize > 1 else storage)
    if flat.dtype != storage:
        flat = flat.astype(storage)
    if flat.size == 1 and count != 1:
        flat = np.broadcast_to(flat, (count,))
    elif flat.size != count:
        raise UnsupportedTypeError(f"{what}: has {flat.size} elements, its type needs {count}")
    array = np.array((flat != 0 if dtype == np.bool_ else flat).reshape(shape), dtype=dtype)
    array.flags.writeable = False
    return array


def resource_bytes(handle: str) -> bytes | None:
    """The data of the builtin dialect resource `handle` (None when the module has none):
    MLIR's blob format is a hex string of a 4-byte little-endian alignment, then the data."""
    interface = Builtin.get_interface(OpAsmDialectInterface)
    blob = interface.lookup(handle) if interface is not None else None
    if not blob:
        return None
    raw = bytes.fromhex(blob[2:] if blob.startswith("0x") else blob)
    return raw[4:]


def dense_to_numpy(attr: DenseIntOrFPElementsAttr | DenseResourceAttr) -> np.ndarray:
    """The value of a dense or dense-resource tensor attribute as a numpy array."""
    shape, dtype = tensor_spec(attr.get_type())
    if isinstance(attr, DenseResourceAttr):
        handle = attr.resource_handle.data
        data = resource_bytes(handle)
        if data is None:
            raise UnsupportedTypeError(
                f"dense_resource<{handle}> has no data (no '{handle}' blob in the file's "
                "dialect_resources)"
            )
        return from_bytes(data, shape, dtype, f"dense_resource<{handle}>")
    return from_bytes(attr.data.data, shape, dtype, "dense<...>")
