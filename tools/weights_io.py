"""Where a module's external weights live, at any level: move them beside an output file,
or inline them into the IR, so that a printed module is self-contained.

A module names external weights in three ways, one per level:

* graph: `graph.weight @name "file" at OFFSET : tensor<...>`;
* tile: a `func.func` argument with `tile.weight_file` / `tile.weight_offset` attributes;
* trn_isa: a `trn_isa.hbm_tensor` with the same two attributes (copied by tile-to-isa).

A relative file name is relative to the directory of the .mlir file (`base_dir` here).
`relocate` copies every such tensor into one raw weights file (`frontend/onnx/weights.py`
layout) and makes the module name it relative to the .mlir file it is written beside;
`inline` replaces each reference by the data itself (`graph.constant dense<...>` at the
graph level, a `tile.value` attribute below), which is how trnc's tools print a module to
stdout: nothing on stdout points at a temporary directory, and no file is left behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    BytesAttr,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    i64,
)
from xdsl.ir import Attribute, Operation
from xdsl.rewriter import Rewriter

INLINE_LIMIT_BYTES = 256 * 2**20
"""The most weight bytes `inline` puts into printed IR (twice as many hex characters);
beyond it the tools ask for an output file (`-o`) instead."""

FILE_ATTR = "tile.weight_file"
OFFSET_ATTR = "tile.weight_offset"
VALUE_ATTR = "tile.value"
ELEMENT_ATTR = "tile.tensor_element"
SHAPE_ATTR = "tile.tensor_shape"
NAME_ATTR = "graph.name"


class WeightsError(Exception):
    """A weight that cannot be read or placed; the message names it and its file."""


@dataclass
class WeightRef:
    """One external weight: where its data is and how to point the module elsewhere."""

    name: str
    file: str
    offset: int
    shape: tuple[int, ...]
    element: Attribute
    set_external: Callable[[str, int], None]
    set_inline: Callable[[DenseIntOrFPElementsAttr[Any]], None]

    def path(self, base_dir: Path) -> Path:
        path = Path(self.file)
        return path if path.is_absolute() else base_dir / path

    def read(self, base_dir: Path) -> np.ndarray:
        """The data, in the tensor's graph element type (bool as one byte per element)."""
        from trnc.interpreters.numpy_types import numpy_dtype

        dtype = numpy_dtype(self.element)
        storage = np.dtype(np.uint8) if dtype == np.bool_ else dtype
        count = int(np.prod(self.shape, dtype=np.int64))
        path = self.path(base_dir)
        try:
            with open(path, "rb") as f:
                f.seek(self.offset)
                raw = f.read(count * storage.itemsize)
        except OSError as error:
            raise WeightsError(
                f"weight '{self.name}': cannot read weights file '{path}': "
                f"{error.strerror or error}"
            ) from None
        if len(raw) != count * storage.itemsize:
            raise WeightsError(
                f"weight '{self.name}' needs bytes [{self.offset}, "
                f"{self.offset + count * storage.itemsize}) of weights file '{path}', "
                f"which has only {self.offset + len(raw)} bytes"
            )
        flat = np.frombuffer(raw, dtype=storage.newbyteorder("<"))
        array = flat.astype(storage) if flat.dtype != storage else flat
        return (array != 0 if dtype == np.bool_ else array).reshape(self.shape)


def _shape(attr: Attribute | None) -> tuple[int, ...] | None:
    if isinstance(attr, DenseArrayBase):
        return tuple(int(v) for v in attr.get_values())
    return None


def _graph_refs(op: Operation) -> WeightRef | None:
    from trnc.dialects import graph as g

    if not isinstance(op, g.WeightOp):
        return None
    result_type = op.results[0].type
    assert isinstance(result_type, TensorType)

    def external(file: str, offset: int) -> None:
        op.properties["file"] = StringAttr(file)
        op.properties["offset"] = IntegerAttr(offset, i64)

    def inline(value: DenseIntOrFPElementsAttr[Any]) -> None:
        constant = g.ConstantOp(value)
        constant.location = op.location
        Rewriter.replace_op(op, constant)

    return WeightRef(
        op.weight_name.data,
        op.file.data,
        int(op.offset.value.data),
        tuple(result_type.get_shape()),
        result_type.get_element_type(),
        external,
        inline,
    )


@dataclass
class _ArgUpdate:
    """Rewrites the source attributes of argument `index` of a tile function."""

    function: func.FuncOp
    index: int

    def _update(self, values: dict[str, Attribute | None]) -> None:
        current = self.function.arg_attrs
        assert current is not None
        rows = list(current.data)
        merged = {**rows[self.index].data, **values}
        rows[self.index] = DictionaryAttr({k: v for k, v in merged.items() if v is not None})
        self.function.arg_attrs = ArrayAttr(rows)

    def external(self, file: str, offset: int) -> None:
        self._update({FILE_ATTR: StringAttr(file), OFFSET_ATTR: IntegerAttr(offset, i64)})

    def inline(self, value: DenseIntOrFPElementsAttr[Any]) -> None:
        self._update({FILE_ATTR: None, OFFSET_ATTR: None, VALUE_ATTR: value})


def _tile_refs(function: func.FuncOp) -> list[WeightRef]:
    attrs = function.arg_attrs
    if attrs is None:
        return []
    refs: list[WeightRef] = []
    for index, (arg, entry) in enumerate(zip(function.body.block.args, attrs.data, strict=True)):
        file, offset = entry.data.get(FILE_ATTR), entry.data.get(OFFSET_ATTR)
        shape = _shape(entry.data.get(SHAPE_ATTR))
        if not isinstance(file, StringAttr) or not isinstance(offset, IntegerAttr):
            continue
        element = entry.data.get(ELEMENT_ATTR) or getattr(arg.type, "element_type", None)
        name = entry.data.get(NAME_ATTR)
        if shape is None or element is None:
            continue

        refs.append(
            WeightRef(
                name.data if isinstance(name, StringAttr) else f"arg{index}",
                file.data,
                int(offset.value.data),
                shape,
                element,
                _ArgUpdate(function, index).external,
                _ArgUpdate(function, index).inline,
            )
        )
    return refs


def _isa_ref(op: Operation) -> WeightRef | None:
    from trnc.dialects import trn_isa as isa

    if not isinstance(op, isa.HbmTensorOp):
        return None
    file, offset = op.attributes.get(FILE_ATTR), op.attributes.get(OFFSET_ATTR)
    if not isinstance(file, StringAttr) or not isinstance(offset, IntegerAttr):
        return None

    def external(f: str, o: int) -> None:
        op.attributes[FILE_ATTR] = StringAttr(f)
        op.attributes[OFFSET_ATTR] = IntegerAttr(o, i64)

    def inline(value: DenseIntOrFPElementsAttr[Any]) -> None:
        del op.attributes[FILE_ATTR]
        del op.attributes[OFFSET_ATTR]
        op.attributes[VALUE_ATTR] = value

    return WeightRef(
        op.sym_name.data,
        file.data,
        int(offset.value.data),
        tuple(op.shape),
        op.attributes.get(ELEMENT_ATTR) or op.element_type,
        external,
        inline,
    )


def weight_refs(module: ModuleOp) -> list[WeightRef]:
    """Every external weight reference of `module`, at any level."""
    refs: list[WeightRef] = []
    for op in list(module.walk()):
        if isinstance(op, func.FuncOp) and not op.is_declaration:
            refs += _tile_refs(op)
        ref = _graph_refs(op) or _isa_ref(op)
        if ref is not None:
            refs.append(ref)
    return refs


def relocate(module: ModuleOp, base_dir: Path, weights_path: Path, ref: str) -> int:
    """Copy every external weight of `module` (files relative to `base_dir`) into the raw
    weights file `weights_path`, which the module then names as `ref`; returns how many
    tensors it holds (0: no file written). Tensors sharing bytes are stored once."""
    from trnc.frontend.onnx.weights import WeightsWriter

    refs = weight_refs(module)
    if not refs:
        return 0
    data = [(r, r.read(base_dir)) for r in refs]  # all read before the file is rewritten
    # Written beside the target and renamed over it once complete, so a failed write (a
    # full disk) never destroys the weights a program re-saved in place still names.
    partial = weights_path.with_name(f".{weights_path.name}.partial")
    writer = WeightsWriter(partial, ref)
    stored: dict[tuple[str, int, tuple[int, ...], str], int] = {}
    offsets: list[int] = []
    try:
        for r, array in data:
            key = (str(r.path(base_dir).resolve()), r.offset, r.shape, str(array.dtype))
            if key not in stored:
                stored[key] = writer.add(r.name, array)[1]
            offsets.append(stored[key])
        writer.close()
        os.replace(partial, weights_path)
    except OSError as error:
        writer.close()
        partial.unlink(missing_ok=True)
        raise WeightsError(
            f"cannot write weights file '{weights_path}': {error.strerror or error}"
        ) from None
    for (r, _), offset in zip(data, offsets, strict=True):
        r.set_external(ref, offset)
    return len(stored)


def dense(array: np.ndarray, element: Attribute) -> DenseIntOrFPElementsAttr[Any]:
    """`dense<...>` holding `array` (in `element`'s numpy dtype) exactly: small arrays as
    a list (or a splat), larger ones from their raw bytes (xDSL prints those in hex)."""
    from trnc.passes._graph_rewrite_utils import dense_attr

    if array.size <= 100:
        return dense_attr(array, element)
    storage = np.ascontiguousarray(array.astype(np.uint8) if array.dtype == np.bool_ else array)
    if storage.dtype.byteorder == ">":
        storage = storage.astype(storage.dtype.newbyteorder("<"))
    raw = storage.tobytes()
    return DenseIntOrFPElementsAttr(TensorType(element, array.shape), BytesAttr(raw))


def _is_splat(flat: np.ndarray) -> bool:
    """Every element has the same bytes (xDSL prints such a dense attribute as one value)."""
    rows = np.ascontiguousarray(flat).view(np.uint8).reshape(flat.size, -1)
    return bool((rows == rows[:1]).all())


def inline(module: ModuleOp, base_dir: Path, limit: int = INLINE_LIMIT_BYTES) -> int:
    """Replace every external weight of `module` by its data (see the module docstring);
    returns the number of tensors inlined. A `WeightsError` when the weights exceed
    `limit` bytes or hold a non-finite value in a form xDSL cannot print back exactly."""
    refs = weight_refs(module)
    data = [(r, r.read(base_dir)) for r in refs]
    total = sum(array.nbytes for _, array in data)
    if total > limit:
        raise WeightsError(
            f"the weights ({total / 2**20:.1f} MiB) are too large to print inline "
            f"(at most {limit / 2**20:.0f} MiB); write to a file with -o FILE.mlir, which "
            "puts them in FILE.weights beside it"
        )
    for r, array in data:
        if array.dtype.kind not in "iub" and not np.isfinite(array.astype(np.float64)).all():
            flat = array.reshape(-1)
            if array.size <= 100 or _is_splat(flat):
                raise WeightsError(
                    f"weight '{r.name}' holds a non-finite value, which printed IR cannot "
                    "carry inline; write to a file with -o FILE.mlir"
                )
        r.set_inline(dense(array, r.element))
    return len(data)
