"""Reading and checking an ONNX model before conversion (the importer's first stage).

`load_model` accepts a path, bytes or a `ModelProto` and returns a `LoadedModel`: the model
with its external data loaded (only from files inside the model's folder), converted to
opset 13 when older, with every graph input's shape pinned (from the user's
`input_shapes` where the model leaves a dim dynamic) and its nodes in topological order.
Everything a user can get wrong raises `OnnxImportError` with one message per problem:
not ONNX, truncated, cycles, undefined node inputs, escaping or missing external data,
negative or absurd dims, unsupported dtypes, unpinned dynamic dims.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, external_data_helper

from trnc.frontend.onnx.checks import checker_problems, hbm_problems, tensor_problems

MIN_OPSET = 13
"""Models older than this go through `onnx.version_converter` first."""
MAX_DIM = 2**31 - 1
"""The largest dim trnc accepts (shapes are int32-addressable on the device)."""

_SUPPORTED_DTYPES: dict[int, str] = {
    TensorProto.FLOAT: "float32",
    TensorProto.FLOAT16: "float16",
    TensorProto.BFLOAT16: "bfloat16",
    TensorProto.DOUBLE: "float64",
    TensorProto.INT8: "int8",
    TensorProto.INT16: "int16",
    TensorProto.INT32: "int32",
    TensorProto.INT64: "int64",
    TensorProto.UINT8: "uint8",
    TensorProto.UINT16: "uint16",
    TensorProto.UINT32: "uint32",
    TensorProto.UINT64: "uint64",
    TensorProto.BOOL: "bool",
}
"""ONNX element types trnc compiles, by their numpy names."""


class OnnxImportError(Exception):
    """A model trnc cannot import; `problems` are the user-facing messages, one per line
    (each names the node, input or tensor at fault)."""

    def __init__(
        self, source: str, problems: Sequence[str], needs_constant: set[str] | None = None
    ) -> None:
        self.source = source
        self.problems = list(problems)
        self.needs_constant = set(needs_constant or ())
        """Graph inputs that must be bound to constants for the import to succeed."""
        super().__init__("\n".join(f"{source}: error: {p}" for p in self.problems))


@dataclass
class LoadedModel:
    """A checked model: `shapes` are the pinned static shapes of the graph inputs."""

    model: onnx.ModelProto
    source: str
    """How messages name the model (its path, or `<model>`)."""
    opset: int
    """The default-domain opset after conversion."""
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def dtype_name(elem_type: int) -> str:
    """ONNX's name of an element type (`FLOAT`, `STRING`, ...)."""
    try:
        return TensorProto.DataType.Name(elem_type)
    except ValueError:
        return f"type {elem_type}"


def numpy_dtype_name(elem_type: int) -> str | None:
    """The numpy name of a supported ONNX element type, else None."""
    return _SUPPORTED_DTYPES.get(elem_type)


def supported_dtypes_text() -> str:
    return ", ".join(dtype_name(t) for t in _SUPPORTED_DTYPES)


def load_model(
    source: str | os.PathLike[str] | bytes | onnx.ModelProto,
    *,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    bound: Collection[str] = (),
) -> LoadedModel:
    """Read, check and prepare a model (see the module docstring); inputs named in
    `bound` will be bound to constants and need no shape."""
    name, model, folder = _read(source, base_dir)
    _check_structure(model, name)
    _raise(name, tensor_problems(model, data=False))
    _load_external(model, name, folder)
    _raise(name, tensor_problems(model, data=True))
    _sort_nodes(model, name)
    _raise(name, checker_problems(model))
    opset = _default_opset(model)
    notes: list[str] = []
    if opset < MIN_OPSET:
        try:
            model = onnx.version_converter.convert_version(model, MIN_OPSET)
        except Exception as error:  # the converter raises bare RuntimeErrors
            raise OnnxImportError(
                name,
                [
                    f"the model uses opset {opset}; converting it to opset {MIN_OPSET} failed: "
                    f"{str(error).strip().splitlines()[0] if str(error).strip() else error}"
                ],
            ) from None
        notes.append(f"converted from opset {opset} to opset {MIN_OPSET}")
        opset = MIN_OPSET
    shapes = _pin_inputs(model, name, input_shapes or {}, bound)
    _raise(name, hbm_problems(model, shapes))
    return LoadedModel(model, name, opset, shapes, notes)


def _raise(name: str, problems: list[str]) -> None:
    if problems:
        raise OnnxImportError(name, problems)


# --------------------------------------------------------------------------------------


def _read(
    source: str | os.PathLike[str] | bytes | onnx.ModelProto,
    base_dir: str | os.PathLike[str] | None,
) -> tuple[str, onnx.ModelProto, Path | None]:
    folder = Path(base_dir) if base_dir is not None else None
    if isinstance(source, onnx.ModelProto):
        return "<model>", source, folder
    if isinstance(source, bytes):
        name, data = "<model>", source
    else:
        path = Path(source)
        name = str(source)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise OnnxImportError(name, [f"cannot read the model: {error.strerror}"]) from None
        folder = folder if folder is not None else path.resolve().parent
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError) as error:
        what = "truncated or corrupt" if data[:1] == b"\x08" else "not an ONNX model"
        raise OnnxImportError(
            name, [f"{what}: cannot parse it as an ONNX protobuf ({error})"]
        ) from None
    if not model.HasField("graph") or model.ir_version <= 0:
        raise OnnxImportError(
            name, ["not an ONNX model: it parses, but has no graph or no IR version"]
        )
    return name, model, folder


def _default_opset(model: onnx.ModelProto) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    return 1 if model.ir_version < 3 else MIN_OPSET


def _check_structure(model: onnx.ModelProto, name: str) -> None:
    problems: list[str] = []
    graph = model.graph
    if not graph.output:
        problems.append("the graph has no outputs")
    for tensor in graph.initializer:
        if tensor.data_type not in _SUPPORTED_DTYPES:
            problems.append(
                f"initializer '{tensor.name}' has dtype {dtype_name(tensor.data_type)}, which "
                f"trnc does not support (supported: {supported_dtypes_text()})"
            )
        for d in tensor.dims:
            if d < 0 or d > MAX_DIM:
                problems.append(f"initializer '{tensor.name}' has dim {d}, outside [0, 2^31)")
    for value in [*graph.input, *graph.output]:
        kind = value.type.WhichOneof("value")
        if kind != "tensor_type":
            problems.append(
                f"graph {'input' if value in graph.input else 'output'} '{value.name}' is a "
                f"{kind or 'value with no type'}; trnc supports tensors only"
            )
            continue
        elem = value.type.tensor_type.elem_type
        if elem not in _SUPPORTED_DTYPES:
            problems.append(
                f"'{value.name}' has dtype {dtype_name(elem)}, which trnc does not support "
                f"(supported: {supported_dtypes_text()})"
            )
        if value.type.tensor_type.HasField("shape"):
            for i, dim in enumerate(value.type.tensor_type.shape.dim):
                if dim.HasField("dim_value") and not 0 <= dim.dim_value <= MAX_DIM:
                    problems.append(f"'{value.name}' dim {i} is {dim.dim_value}, outside [0, 2^31)")
    if problems:
        raise OnnxImportError(name, problems)


def _external_location(tensor: TensorProto) -> tuple[str, int, int | None]:
    """(location, offset, length) of external data; `ValueError` naming a bad field."""
    info = {entry.key: entry.value for entry in tensor.external_data}
    numbers: dict[str, int | None] = {}
    for key in ("offset", "length"):
        text = info.get(key)
        if text is None:
            numbers[key] = None
        elif text.isascii() and text.isdigit():
            numbers[key] = int(text)
        else:
            raise ValueError(f"external data {key} '{text}' is not a non-negative integer")
    location = info.get("location", "")
    if "\0" in location:
        raise ValueError(f"external data path {location!r} contains a NUL character")
    return location, numbers["offset"] or 0, numbers["length"]


def _all_tensors(graph: onnx.GraphProto) -> list[TensorProto]:
    """Initializers and tensor attributes (Constant values), in subgraphs too."""
    found = list(graph.initializer)
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR:
                found.append(attr.t)
            elif attr.type == onnx.AttributeProto.GRAPH:
                found.extend(_all_tensors(attr.g))
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    found.extend(_all_tensors(sub))
    return found


def _load_external(model: onnx.ModelProto, name: str, folder: Path | None) -> None:
    tensors = [t for t in _all_tensors(model.graph) if t.data_location == TensorProto.EXTERNAL]
    if not tensors:
        return
    problems: list[str] = []
    if folder is None:
        raise OnnxImportError(
            name,
            [
                f"tensor '{tensors[0].name}' stores its data in an external file, but the model "
                "was given as bytes with no folder to find it in (pass a path or base_dir)"
            ],
        )
    root = folder.resolve()
    for tensor in tensors:
        try:
            location, offset, length = _external_location(tensor)
        except ValueError as error:
            problems.append(f"tensor '{tensor.name}': {error}")
            continue
        target = (root / location).resolve()
        if not location or os.path.isabs(location) or not target.is_relative_to(root):
            problems.append(
                f"tensor '{tensor.name}': external data path '{location}' is outside the "
                f"model's folder {root}; refused (it could read any file)"
            )
            continue
        if not target.is_file():
            problems.append(f"tensor '{tensor.name}': external data file '{target}' is missing")
            continue
        size = target.stat().st_size
        need = offset + (length if length is not None else 0)
        if offset < 0 or need > size:
            problems.append(
                f"tensor '{tensor.name}': external data file '{target}' has {size} bytes, "
                f"the tensor needs bytes [{offset}, {need})"
            )
    if problems:
        raise OnnxImportError(name, problems)
    try:
        external_data_helper.load_external_data_for_model(model, str(root))
    except Exception as error:
        raise OnnxImportError(name, [f"cannot load external data: {error}"]) from None


def _sort_nodes(model: onnx.ModelProto, name: str) -> None:
    """Put the nodes in topological order (ONNX requires it, exporters mostly comply);
    report undefined inputs and cycles."""
    graph = model.graph
    available = {t.name for t in graph.initializer} | {v.name for v in graph.input} | {""}
    producers: dict[str, int] = {}
    for index, node in enumerate(graph.node):
        for out in node.output:
            if out:
                producers[out] = index
    problems: list[str] = []
    for index, node in enumerate(graph.node):
        for inp in node.input:
            if inp not in available and inp not in producers:
                problems.append(
                    f"node '{_node_name(node, index)}' ({node.op_type}): input '{inp}' is not "
                    "a graph input, an initializer or the output of any node"
                )
    for out in graph.output:
        if out.name not in available and out.name not in producers:
            problems.append(f"graph output '{out.name}' is not produced by any node")
    if problems:
        raise OnnxImportError(name, problems)

    nodes = list(graph.node)
    deps = [{producers[i] for i in n.input if i in producers and i not in available} for n in nodes]
    users: list[list[int]] = [[] for _ in nodes]
    for index, dep in enumerate(deps):
        for d in dep:
            users[d].append(index)
    pending = [len(d) for d in deps]
    ready = [i for i, p in enumerate(pending) if p == 0]
    order: list[int] = []
    while ready:
        i = ready.pop(0)
        order.append(i)
        for u in users[i]:
            pending[u] -= 1
            if pending[u] == 0:
                ready.append(u)
    if len(order) != len(nodes):
        stuck = [i for i in range(len(nodes)) if pending[i] > 0]
        cycle = _find_cycle(stuck, deps)
        path = " -> ".join(f"'{_node_name(nodes[i], i)}'" for i in cycle)
        raise OnnxImportError(name, [f"the graph has a cycle: {path}"])
    if order != list(range(len(nodes))):
        del graph.node[:]
        graph.node.extend(nodes[i] for i in order)


def _find_cycle(stuck: list[int], deps: list[set[int]]) -> list[int]:
    stuck_set = set(stuck)
    node = stuck[0]
    seen: list[int] = []
    while node not in seen:
        seen.append(node)
        node = min(d for d in deps[node] if d in stuck_set)
    start = seen.index(node)
    cycle = seen[start:][::-1]
    return [*cycle, cycle[0]]


def _node_name(node: onnx.NodeProto, index: int) -> str:
    return node.name or f"{node.op_type}_{index}"


def node_label(node: onnx.NodeProto, index: int) -> str:
    """How messages and locations name a node: its name, else `OpType_index`."""
    return _node_name(node, index)


def _pin_inputs(
    model: onnx.ModelProto, name: str, pins: Mapping[str, Sequence[int]], bound: Collection[str]
) -> dict[str, tuple[int, ...]]:
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    known = {v.name for v in graph.input if v.name not in initializers}
    inputs = [v for v in graph.input if v.name in known and v.name not in bound]
    problems: list[str] = []
    for pinned in pins:
        if pinned not in known:
            problems.append(
                f"--input-shape names '{pinned}', which is not a graph input "
                f"(inputs: {', '.join(sorted(known)) or 'none'})"
            )
    shapes: dict[str, tuple[int, ...]] = {}
    for value in inputs:
        tensor_type = value.type.tensor_type
        dims = list(tensor_type.shape.dim) if tensor_type.HasField("shape") else None
        pin = pins.get(value.name)
        if pin is not None:
            pin = tuple(int(d) for d in pin)
            bad = [d for d in pin if not 0 <= d <= MAX_DIM]
            if bad:
                problems.append(f"--input-shape {value.name}: dim {bad[0]} is outside [0, 2^31)")
                continue
            if dims is not None and len(dims) != len(pin):
                problems.append(
                    f"--input-shape {value.name} has {len(pin)} dims, the input has rank "
                    f"{len(dims)}"
                )
                continue
            for i, (dim, want) in enumerate(zip(dims or [], pin, strict=False)):
                if dim.HasField("dim_value") and dim.dim_value != want:
                    problems.append(
                        f"--input-shape {value.name}: dim {i} is fixed to {dim.dim_value} by "
                        f"the model, not {want}"
                    )
            shapes[value.name] = pin
            continue
        if dims is None:
            problems.append(
                f"input '{value.name}' has no shape (unknown rank); pin it with "
                f"--input-shape {value.name}=D0xD1..."
            )
            continue
        unpinned = [
            f"dim {i} ('{d.dim_param}')" if d.dim_param else f"dim {i}"
            for i, d in enumerate(dims)
            if not d.HasField("dim_value")
        ]
        if unpinned:
            example = "x".join(str(d.dim_value) if d.HasField("dim_value") else "N" for d in dims)
            problems.append(
                f"input '{value.name}' has dynamic {', '.join(unpinned)}; pin them with "
                f"--input-shape {value.name}={example} (or input_shapes= in the API)"
            )
            continue
        shapes[value.name] = tuple(int(d.dim_value) for d in dims)
    if problems:
        raise OnnxImportError(name, problems)
    return shapes
