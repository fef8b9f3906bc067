"""The ONNX importer: an ONNX model -> a `graph` dialect module.

    from trnc.frontend.onnx import import_model
    result = import_model("bert.onnx", input_shapes={"input_ids": [1, 128]},
                          weights_path="bert.weights")
    print(result.module)

Stages: `load` (parse, check, external data, opset conversion, input pinning, topological
order), `convert` (constant folding of shape sub-graphs, one converter per op type in
`ops_math` / `ops_tensor`), and `weights` (tensors too large to print go to a raw weights
file that `graph.weight` ops reference). The result is one `func.func @main` whose
arguments and results carry their ONNX names (`graph.name`) and whose ops carry their
node's name as a location. Every problem raises `OnnxImportError` listing them all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from xdsl.dialects.builtin import ModuleOp

from trnc.frontend.onnx.convert import NAME_ATTR, Converter, convert
from trnc.frontend.onnx.load import OnnxImportError, load_model
from trnc.frontend.onnx.ops_composite import CONVERTERS as _COMPOSITE
from trnc.frontend.onnx.ops_math import CONVERTERS as _MATH
from trnc.frontend.onnx.ops_tensor import CONVERTERS as _TENSOR
from trnc.frontend.onnx.weights import WeightsWriter
from trnc.tools.diagnostics import verify_ops

CONVERTERS: dict[str, Converter] = {**_MATH, **_TENSOR, **_COMPOSITE}
"""ONNX op type (default domain) -> converter; plug-ins may add entries."""


def supported_op_types() -> list[str]:
    """The ONNX op types the importer converts (others fold only when constant)."""
    return sorted([*CONVERTERS, "Constant", "Shape", "Size"])


@dataclass
class ImportResult:
    module: ModuleOp
    weights_path: Path | None
    """The weights file written (None when every constant was small enough to inline)."""
    notes: list[str] = field(default_factory=list)


def import_model(
    model: str | os.PathLike[str] | bytes | onnx.ModelProto,
    *,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    weights_path: str | os.PathLike[str] | None = None,
    weights_ref: str | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    constant_inputs: Mapping[str, np.ndarray] | None = None,
) -> ImportResult:
    """Import `model` (see the module docstring).

    `weights_path` is where the weights file is written (default: next to the model,
    `<model>.weights`, or `model.weights` in the current directory for bytes/protos);
    `weights_ref` is how the module's `graph.weight` ops name it (default: the absolute
    path). `base_dir` is where external data lives when `model` is bytes or a proto.
    `constant_inputs` binds graph inputs to values (specializing the model: shape-like
    inputs such as Reshape's shape must be known at compile time); an import that needs
    more bound inputs raises `OnnxImportError` with them in `needs_constant`.
    """
    bound = dict(constant_inputs or {})
    loaded = load_model(model, input_shapes=input_shapes, base_dir=base_dir, bound=bound)
    if weights_path is None:
        if isinstance(model, str | os.PathLike):
            weights_path = Path(model).with_suffix(".weights")
        else:
            weights_path = Path("model.weights")
    path = Path(weights_path)
    writer = WeightsWriter(path, weights_ref if weights_ref is not None else str(path.resolve()))
    try:
        module, problems = convert(loaded, writer, CONVERTERS, bound)
    finally:
        writer.close()
    messages = problems.messages()
    if messages:
        if writer.count:
            path.unlink(missing_ok=True)
        raise OnnxImportError(loaded.source, messages, problems.needs_constant)
    diagnostics = verify_ops(module)
    if diagnostics:
        raise OnnxImportError(
            loaded.source,
            [f"internal error: the imported IR does not verify: {d.message}" for d in diagnostics],
        )
    return ImportResult(module, path if writer.count else None, loaded.notes)


__all__ = [
    "CONVERTERS",
    "NAME_ATTR",
    "ImportResult",
    "OnnxImportError",
    "import_model",
    "supported_op_types",
]
