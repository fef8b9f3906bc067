"""Checks of an ONNX model beyond parsing (the importer's `load` stage calls them).

Each function returns the problems it finds, one user-facing line each, naming the
tensor, node or input at fault; `load` raises them as an `OnnxImportError`.

* `tensor_problems`: every initializer and Constant tensor's data agrees with its dims and
  element type (`numpy_helper.to_array` would fail with "cannot reshape array"), and none
  is larger than HBM (checked on the declared dims, before any data is read).
* `checker_problems`: what `onnx.checker.check_model` rejects (its reason, on one line),
  plus what it lets through and onnxruntime refuses: a default-domain opset newer than
  the installed ONNX knows, or below 1, and two nodes with the same name.
* `hbm_problems`: with the inputs' pinned shapes, ONNX shape inference (strict, with data
  propagation, so a model inconsistent at these shapes is refused here with the reason)
  gives every value's shape; a tensor larger than HBM, or inputs, outputs, weights and
  intermediate values that together exceed it (the compiled program keeps every one in
  HBM), is refused with the sizes, before anything is folded or allocated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from math import prod

import onnx
import onnx.defs
from onnx import TensorProto

from trnc.machine import TRN1

HBM_BYTES = TRN1.hbm_bytes
"""HBM per NeuronCore (trn1.md A.1)."""
_KEEP_DATA = 1024
"""Shape inference sees the data of initializers up to this many elements (shape-like
values); larger ones go in as dims only, so the check copies no weights."""

_SHOWN = 3
"""Tensors larger than HBM named one by one (the first, in input, output, weight and
intermediate order); the rest are counted."""

_FIELD: dict[int, str] = {
    TensorProto.FLOAT: "float_data",
    TensorProto.DOUBLE: "double_data",
    TensorProto.INT64: "int64_data",
    TensorProto.UINT32: "uint64_data",
    TensorProto.UINT64: "uint64_data",
    **{
        t: "int32_data"
        for t in (
            TensorProto.INT32,
            TensorProto.INT16,
            TensorProto.INT8,
            TensorProto.UINT16,
            TensorProto.UINT8,
            TensorProto.BOOL,
            TensorProto.FLOAT16,
            TensorProto.BFLOAT16,
        )
    },
}
"""The typed field that holds a tensor's values when it has no raw_data."""
_ITEMSIZE: dict[int, int] = {
    TensorProto.FLOAT: 4,
    TensorProto.DOUBLE: 8,
    TensorProto.INT64: 8,
    TensorProto.UINT64: 8,
    TensorProto.INT32: 4,
    TensorProto.UINT32: 4,
    TensorProto.INT16: 2,
    TensorProto.UINT16: 2,
    TensorProto.FLOAT16: 2,
    TensorProto.BFLOAT16: 2,
    TensorProto.INT8: 1,
    TensorProto.UINT8: 1,
    TensorProto.BOOL: 1,
}
"""Bytes per element of the element types trnc supports."""


def size_text(nbytes: int) -> str:
    """`nbytes` for a message: bytes, and GiB/MiB when large."""
    if nbytes >= 2**30:
        return f"{nbytes} bytes ({nbytes / 2**30:.1f} GiB)"
    if nbytes >= 2**20:
        return f"{nbytes} bytes ({nbytes / 2**20:.1f} MiB)"
    return f"{nbytes} bytes"


def _hbm_text() -> str:
    return f"HBM holds {size_text(HBM_BYTES)} per core"


def _type_name(elem: int) -> str:
    try:
        return TensorProto.DataType.Name(elem)
    except ValueError:
        return f"type {elem}"


def _tensors(graph: onnx.GraphProto) -> Iterator[tuple[str, TensorProto]]:
    """(how messages name it, tensor) for initializers and Constant values, subgraphs too."""
    for tensor in graph.initializer:
        yield f"initializer '{tensor.name}'", tensor
    for index, node in enumerate(graph.node):
        for attr in node.attribute:
            label = f"node '{node.name or f'{node.op_type}_{index}'}' ({node.op_type})"
            if attr.type == onnx.AttributeProto.TENSOR:
                yield f"{label} attribute '{attr.name}'", attr.t
            elif attr.type == onnx.AttributeProto.GRAPH:
                yield from _tensors(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    yield from _tensors(sub)


def tensor_problems(model: onnx.ModelProto, *, data: bool) -> list[str]:
    """Tensors larger than HBM, and (with `data`, once external data is in) tensors whose
    data disagrees with their dims and element type."""
    problems: list[str] = []
    for label, tensor in _tensors(model.graph):
        itemsize = _ITEMSIZE.get(tensor.data_type)
        dims = list(tensor.dims)
        if itemsize is None or any(d < 0 for d in dims):
            continue  # refused elsewhere (dtype, negative dims) or not trnc's to judge
        count = prod(dims)
        need = count * itemsize
        shape = f"[{', '.join(map(str, dims))}] {_type_name(tensor.data_type)}"
        if need > HBM_BYTES:
            problems.append(f"{label} is {shape}: {size_text(need)}; {_hbm_text()}")
            continue
        if not data or tensor.data_location == TensorProto.EXTERNAL:
            continue
        if tensor.HasField("raw_data"):
            if len(tensor.raw_data) != need:
                problems.append(
                    f"{label} has {len(tensor.raw_data)} bytes of data, but {shape} needs "
                    f"{need} bytes"
                )
            continue
        field = _FIELD.get(tensor.data_type)
        have = len(getattr(tensor, field)) if field else 0
        if have != count:
            what = f"{have} values" if have else "no data"
            problems.append(f"{label} has {what}, but {shape} needs {count} values")
    return problems


def checker_problems(model: onnx.ModelProto) -> list[str]:
    """The ONNX checker's objection, and what it misses that onnxruntime refuses."""
    problems: list[str] = []
    newest = onnx.defs.onnx_opset_version()
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx") and not 1 <= entry.version <= newest:
            problems.append(
                f"the model imports opset {entry.version} of the default ONNX domain; ONNX "
                f"{onnx.__version__} knows opsets 1 to {newest}"
            )
    seen: dict[str, int] = {}
    for index, node in enumerate(model.graph.node):
        if not node.name:
            continue
        if node.name in seen:
            problems.append(
                f"node '{node.name}' ({node.op_type}): node {seen[node.name]} has the same "
                "name; ONNX requires node names to be unique"
            )
        else:
            seen[node.name] = index
    if problems:
        return problems
    # The checker wants a shape on every graph input and output; onnxruntime (and trnc,
    # which pins inputs and infers outputs) do not: give the checker an empty one meanwhile.
    graph = model.graph
    unshaped = [
        v.type.tensor_type
        for v in [*graph.input, *graph.output]
        if v.type.HasField("tensor_type") and not v.type.tensor_type.HasField("shape")
    ]
    for tensor_type in unshaped:
        tensor_type.shape.SetInParent()
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as error:
        return [_checker_message(str(error))]
    except ValueError as error:  # e.g. a proto over 2 GiB; the other checks still apply
        if "2GB" not in str(error) and "2 GB" not in str(error):
            return [_checker_message(str(error))]
    finally:
        for tensor_type in unshaped:
            tensor_type.ClearField("shape")
    return []


_NODE_CONTEXT = re.compile(r"==> Context: Bad node spec for node\. Name: (.*?) OpType: (\S*)")
_INFERENCE = re.compile(r"\(op_type:([^,]*), node name: (.*?)\): (?:\[\w+\] )?(.*)")


def _checker_message(text: str) -> str:
    """The checker's (multi-line) message as one line, led by the node it names."""
    context = _NODE_CONTEXT.search(text)
    reason = _one_line(text[: context.start()] if context else text)
    if context:
        node, op_type = context.groups()
        return f"node '{node}' ({op_type}): the ONNX checker rejects it: {reason}"
    return f"the ONNX checker rejects the model: {reason}"


def _one_line(message: str) -> str:
    parts = [p.strip() for p in message.splitlines()]
    return "; ".join(p for p in parts if p)


def _light_model(model: onnx.ModelProto, shapes: Mapping[str, tuple[int, ...]]) -> onnx.ModelProto:
    """A copy for shape inference: inputs with their pinned shapes, outputs and value_info
    without shapes (inference recomputes them), large initializers without their data."""
    light = onnx.ModelProto(ir_version=model.ir_version)
    light.opset_import.extend(model.opset_import)
    light.functions.extend(model.functions)
    graph, source = light.graph, model.graph
    graph.name = source.name
    graph.node.extend(source.node)
    for value in source.input:
        copy = graph.input.add()
        copy.CopyFrom(value)
        pin = shapes.get(value.name)
        if pin is not None and copy.type.HasField("tensor_type"):
            dims = copy.type.tensor_type.shape.dim
            del dims[:]
            for d in pin:
                dims.add().dim_value = d
    for value in source.output:
        copy = graph.output.add()
        copy.name = value.name
        if value.type.HasField("tensor_type"):
            copy.type.tensor_type.elem_type = value.type.tensor_type.elem_type
    for tensor in source.initializer:
        if prod(tensor.dims) <= _KEEP_DATA or tensor.data_location == TensorProto.EXTERNAL:
            graph.initializer.append(tensor)
        else:
            graph.initializer.append(
                TensorProto(name=tensor.name, data_type=tensor.data_type, dims=tensor.dims)
            )
    return light


def _known_shape(value: onnx.ValueInfoProto) -> tuple[int, tuple[int, ...]] | None:
    if not value.type.HasField("tensor_type"):
        return None
    tensor_type = value.type.tensor_type
    if not tensor_type.HasField("shape"):
        return None
    dims = tensor_type.shape.dim
    if not all(d.HasField("dim_value") and d.dim_value >= 0 for d in dims):
        return None
    return tensor_type.elem_type, tuple(d.dim_value for d in dims)


def hbm_problems(model: onnx.ModelProto, shapes: Mapping[str, tuple[int, ...]]) -> list[str]:
    """Shape inference at the pinned shapes, then the HBM budget (module docstring)."""
    light = _light_model(model, shapes)
    try:
        inferred = onnx.shape_inference.infer_shapes(light, strict_mode=True, data_prop=True)
    except onnx.shape_inference.InferenceError as error:
        pinned = ", ".join(f"{k}={'x'.join(map(str, v))}" for k, v in shapes.items())
        at = f" with inputs {pinned}" if pinned else ""
        found = _INFERENCE.search(str(error))  # the first node's error; others follow from it
        if found:
            op_type, node, reason = found.groups()
            return [f"node '{node}' ({op_type}): ONNX shape inference{at} fails: {reason}"]
        return [f"ONNX shape inference{at} fails: {_one_line(str(error))}"]
    except ValueError:
        return []  # a model over protobuf's 2 GiB: the declared sizes were checked
    graph = inferred.graph
    producer = {out: node for node in graph.node for out in node.output if out}
    initializers = {t.name for t in model.graph.initializer}
    totals = {"inputs": 0, "outputs": 0, "weights": 0, "intermediate values": 0}
    problems: list[str] = []
    seen: set[str] = set()

    def add(kind: str, name: str, elem: int, dims: tuple[int, ...]) -> None:
        if name in seen or elem not in _ITEMSIZE:
            return
        seen.add(name)
        nbytes = prod(dims) * _ITEMSIZE[elem]
        totals[kind] += nbytes
        if nbytes > HBM_BYTES:
            node = producer.get(name)
            by = f" (output of node '{node.name or node.op_type}')" if node is not None else ""
            shape = f"[{', '.join(map(str, dims))}] {_type_name(elem)}"
            problems.append(
                f"{kind[:-1] if kind != 'inputs' else 'input'} '{name}'{by} is {shape}: "
                f"{size_text(nbytes)}; {_hbm_text()}"
            )

    for value in graph.input:
        known = _known_shape(value)
        if known is not None and value.name not in initializers:
            add("inputs", value.name, *known)
    for value in graph.output:
        known = _known_shape(value)
        if known is not None:
            add("outputs", value.name, *known)
    for tensor in model.graph.initializer:
        add("weights", tensor.name, tensor.data_type, tuple(tensor.dims))
    for value in graph.value_info:
        known = _known_shape(value)
        if known is not None:
            node = producer.get(value.name)
            kind = "weights" if node is not None and node.op_type == "Constant" else None
            add(kind or "intermediate values", value.name, *known)
    if len(problems) > _SHOWN:
        more = len(problems) - _SHOWN
        problems[_SHOWN:] = [f"... and {more} more tensor{'s' * (more > 1)} larger than HBM"]
    total = sum(totals.values())
    if not problems and total > HBM_BYTES:
        parts = ", ".join(f"{k} {size_text(v)}" for k, v in totals.items() if v)
        problems.append(
            f"the model's tensors need {size_text(total)} of HBM ({parts}); {_hbm_text()} "
            "and the compiled program keeps every tensor there"
        )
    return problems
