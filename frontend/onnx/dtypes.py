"""Element types between numpy (as ONNX arrays arrive) and MLIR (as `graph` types hold)."""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np
from xdsl.dialects.builtin import (
    IntegerType,
    Signedness,
    TensorType,
    bf16,
    f16,
    f32,
    f64,
    i1,
)
from xdsl.ir import Attribute

_BY_NAME: dict[str, Attribute] = {
    "float32": f32,
    "float16": f16,
    "bfloat16": bf16,
    "float64": f64,
    "bool": i1,
    **{f"int{w}": IntegerType(w) for w in (8, 16, 32, 64)},
    **{f"uint{w}": IntegerType(w, Signedness.UNSIGNED) for w in (8, 16, 32, 64)},
}


def element_type_of(dtype: np.dtype[Any]) -> Attribute:
    """The MLIR element type of a numpy dtype (`ValueError` if trnc has none)."""
    found = _BY_NAME.get(np.dtype(dtype).name)
    if found is None:
        raise ValueError(f"dtype {np.dtype(dtype).name} is not supported by trnc")
    return found


def numpy_dtype_of(t: Attribute) -> np.dtype[Any]:
    """The numpy dtype of an MLIR element type or of a tensor type's elements."""
    if isinstance(t, TensorType):
        t = t.get_element_type()
    for name, attr in _BY_NAME.items():
        if attr == t:
            return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)
    raise ValueError(f"element type {t} has no numpy dtype")
