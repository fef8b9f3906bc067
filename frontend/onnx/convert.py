"""ONNX graph -> `graph` dialect: the conversion driver and its context.

`convert(loaded, weights)` walks the (topologically sorted) nodes once. A node whose inputs
are all known constants is folded: evaluated with `onnx.reference` (Shape and Size of a
statically shaped value fold too), so shape sub-graphs (Shape, Gather, Slice, Concat,
Unsqueeze on shapes, ConstantOfShape, Range, Equal, Where, ...) become constants and never
reach the IR. Every other node goes to its converter in `ops.CONVERTERS`, which emits
`graph` ops through `Context`; each op carries the node's name as a `NameLoc`.

Constants reach the IR only where an emitted op uses them: small ones inline as
`graph.constant dense<...>`, others as `graph.weight` rows of the weights file.
Problems are collected, not raised one by one: every unsupported op type (with its count
and first node names) and every node that cannot be converted are reported together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
import onnx.reference
from onnx import helper, numpy_helper
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    FunctionType,
    ModuleOp,
    NameLoc,
    NoneAttr,
    StringAttr,
    TensorType,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue

from trnc.dialects.graph import ConstantOp, WeightOp
from trnc.dialects.graph.base import tensor_type
from trnc.dialects.graph.shapes import ShapeError
from trnc.frontend.onnx.dtypes import element_type_of, numpy_dtype_of
from trnc.frontend.onnx.load import LoadedModel, node_label
from trnc.frontend.onnx.weights import WeightsWriter

INLINE_LIMIT = 16
"""Constants with at most this many elements (or splats) are printed inline."""
NAME_ATTR = "graph.name"
"""The arg/result attribute holding an ONNX input or output name."""

_NOT_FOLDED = {
    "RandomNormal",
    "RandomUniform",
    "RandomNormalLike",
    "RandomUniformLike",
    "Multinomial",
    "Bernoulli",
}


class ConversionError(Exception):
    """A node that cannot be converted; the message is for the user."""


class Unsupported(Exception):
    """A node whose op type (or this use of it) trnc does not support."""


@dataclass
class Node:
    """An ONNX node with parsed attributes."""

    proto: onnx.NodeProto
    index: int
    label: str
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def op_type(self) -> str:
        return self.proto.op_type

    @property
    def inputs(self) -> list[str]:
        return list(self.proto.input)

    @property
    def outputs(self) -> list[str]:
        return list(self.proto.output)

    def attr(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)

    def has_input(self, index: int) -> bool:
        return index < len(self.proto.input) and self.proto.input[index] != ""


Value = SSAValue | np.ndarray
"""What an ONNX value name maps to: an SSA value, or a known constant."""


class Context:
    """What converters see: values by ONNX name, op emission, constants."""

    def __init__(self, loaded: LoadedModel, weights: WeightsWriter, block: Block) -> None:
        self.loaded = loaded
        self.opset = loaded.opset
        self.weights = weights
        self.block = block
        self.values: dict[str, Value] = {}
        self.node: Node | None = None
        self._materialized: dict[int, SSAValue] = {}
        self._keep: list[np.ndarray] = []  # keeps the ids of materialized arrays unique
        self.graph_inputs: set[str] = set()
        self.needs_constant: set[str] = set()
        """Graph inputs some op needs as compile-time constants (bind them to import)."""

    # --- values ----------------------------------------------------------------------

    def const(self, name: str) -> np.ndarray | None:
        """The constant value of ONNX value `name`, or None if it is computed at run time."""
        value = self.values.get(name)
        return value if isinstance(value, np.ndarray) else None

    def require_const(self, node: Node, index: int, what: str) -> np.ndarray:
        """Input `index` of `node` as a constant, or a `ConversionError` saying so."""
        name = node.inputs[index]
        value = self.const(name)
        if value is None:
            if name in self.graph_inputs:
                self.needs_constant.add(name)
            raise ConversionError(
                f"{what} (input {index}, '{name}') must be a constant or computable from "
                "constants and static shapes; it depends on run-time data"
            )
        return value

    def shape(self, name: str) -> tuple[int, ...]:
        value = self.values[name]
        if isinstance(value, np.ndarray):
            return tuple(value.shape)
        assert isinstance(value.type, TensorType)
        return tuple(value.type.get_shape())

    def shape_of(self, value: SSAValue) -> tuple[int, ...]:
        assert isinstance(value.type, TensorType)
        return tuple(value.type.get_shape())

    def dtype_of(self, value: SSAValue) -> np.dtype[Any]:
        return numpy_dtype_of(value.type)

    def dtype(self, name: str) -> np.dtype[Any]:
        value = self.values[name]
        if isinstance(value, np.ndarray):
            return value.dtype
        return numpy_dtype_of(value.type)

    def ssa(self, name: str) -> SSAValue:
        """ONNX value `name` as an SSA value (materializing a constant once)."""
        value = self.values[name]
        if isinstance(value, np.ndarray):
            return self.materialize(value, name)
        return value

    def materialize(self, array: np.ndarray, name: str = "const") -> SSAValue:
        key = id(array)
        found = self._materialized.get(key)
        if found is not None:
            return found
        result_type = tensor_type(array.shape, element_type_of(array.dtype))
        # Non-finite floats go to the weights file: xDSL 0.74 prints them as hex bit
        # patterns in `dense<...>` but parses those back as integers (0xff800000 ->
        # 4286578688.0), so they would not survive a trip through text.
        finite = array.dtype.kind not in "fV" or bool(np.isfinite(array.astype(np.float32)).all())
        if finite and (array.size <= INLINE_LIMIT or _is_splat(array)):
            op: Operation = ConstantOp(_dense(array, result_type))
        else:
            file, offset = self.weights.add(name, array)
            op = WeightOp(name, file, offset, result_type)
        self.emit(op)
        op.location = NameLoc(StringAttr(name), NoneAttr())
        self._materialized[key] = op.results[0]
        self._keep.append(array)
        return op.results[0]

    # --- emission --------------------------------------------------------------------

    def emit(self, op: Operation) -> Operation:
        """Append `op` with the current node's name as its location."""
        if self.node is not None:
            op.location = NameLoc(StringAttr(self.node.label), NoneAttr())
        self.block.add_op(op)
        return op

    def set(self, name: str, value: Value | Operation) -> None:
        if isinstance(value, Operation):
            value = value.results[0]
        self.values[name] = value


Converter = Callable[[Context, Node], None]


def _is_splat(array: np.ndarray) -> bool:
    if array.size == 0:
        return False
    flat = array.reshape(-1)
    first = flat[:1]
    probe = flat[:: max(1, flat.size // 16)]  # most weights differ within a few elements
    if not bool(((probe == first) | ((probe != probe) & (first != first))).all()):
        return False
    if array.dtype.kind == "f":
        return bool(np.array_equal(flat, np.broadcast_to(first, flat.shape), equal_nan=True)) and (
            not np.signbit(flat).any() or np.signbit(flat).all()
        )
    return bool((flat == first).all())


def _dense(array: np.ndarray, result_type: Any) -> DenseIntOrFPElementsAttr[Any]:
    flat = array.reshape(-1)
    if array.size and _is_splat(array):
        flat = flat[:1]
    if array.dtype.kind == "f" or array.dtype.name == "bfloat16":
        data: list[Any] = [float(v) for v in flat.astype(np.float64)]
    else:
        data = [int(v) for v in flat.astype(np.int64 if array.dtype.kind != "u" else np.uint64)]
    return DenseIntOrFPElementsAttr.from_list(result_type, data)


def parse_attrs(node: onnx.NodeProto) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, onnx.TensorProto):
            value = numpy_helper.to_array(value)
        attrs[attr.name] = value
    return attrs


# --- the driver ----------------------------------------------------------------------


@dataclass
class Problems:
    unsupported: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    needs_constant: set[str] = field(default_factory=set)

    def messages(self) -> list[str]:
        out: list[str] = []
        if self.unsupported:
            parts = []
            for op_type, names in sorted(self.unsupported.items()):
                first = ", ".join(f"'{n}'" for n in names[:3])
                more = ", ..." if len(names) > 3 else ""
                parts.append(f"{op_type} ({len(names)}: {first}{more})")
            out.append(f"unsupported ONNX op types ({len(self.unsupported)}): " + "; ".join(parts))
        out.extend(self.errors)
        return out


def convert(
    loaded: LoadedModel,
    weights: WeightsWriter,
    converters: dict[str, Converter],
    constant_inputs: Mapping[str, np.ndarray] | None = None,
) -> tuple[ModuleOp, Problems]:
    """The model as a module with one `func.func @main` (see the module docstring);
    graph inputs named in `constant_inputs` are bound to those values instead of being
    arguments."""
    graph = loaded.model.graph
    initializers = {t.name: t for t in graph.initializer}
    bound = dict(constant_inputs or {})
    inputs = [v for v in graph.input if v.name not in initializers and v.name not in bound]
    arg_types = [
        tensor_type(loaded.input_shapes[v.name], _elem_type(v.type.tensor_type.elem_type))
        for v in inputs
    ]
    block = Block(arg_types=arg_types)
    ctx = Context(loaded, weights, block)
    for value, arg in zip(inputs, block.args, strict=True):
        ctx.values[value.name] = arg
    ctx.graph_inputs = {v.name for v in inputs}
    for name, tensor in initializers.items():
        ctx.values[name] = numpy_helper.to_array(tensor)
    for value in graph.input:
        if value.name in bound:
            dtype = numpy_dtype_of_onnx(value.type.tensor_type.elem_type)
            ctx.values[value.name] = np.asarray(bound[value.name]).astype(dtype)

    problems = Problems()
    poisoned: set[str] = set()
    for index, proto in enumerate(graph.node):
        node = Node(proto, index, node_label(proto, index), parse_attrs(proto))
        if any(i in poisoned for i in node.inputs if i):
            # Downstream of a failure: cannot convert, but still report its op type if
            # trnc would not support it either (so one run lists every unsupported type).
            if not _known(proto, converters):
                problems.unsupported.setdefault(_op_label(proto), []).append(node.label)
            poisoned.update(o for o in node.outputs if o)
            continue
        ctx.node = node
        try:
            converter = converters.get(proto.op_type) if proto.domain in ("", "ai.onnx") else None
            if not _fold(ctx, node, has_converter=converter is not None):
                if converter is None:
                    raise Unsupported()
                converter(ctx, node)
                missing = [o for o in node.outputs if o and o not in ctx.values]
                if missing:
                    raise Unsupported(
                        f"output {', '.join(repr(o) for o in missing)} of {proto.op_type} "
                        "(only its other outputs are converted)"
                    )
        except Unsupported as error:
            op_type = _op_label(proto)
            if str(error):
                problems.errors.append(f"node '{node.label}' ({op_type}): unsupported: {error}")
            else:
                problems.unsupported.setdefault(op_type, []).append(node.label)
            poisoned.update(o for o in node.outputs if o)
        except (ConversionError, ShapeError, ValueError) as error:
            problems.errors.append(f"node '{node.label}' ({proto.op_type}): {error}")
            poisoned.update(o for o in node.outputs if o)
    ctx.node = None
    problems.needs_constant = ctx.needs_constant

    results: list[SSAValue] = []
    res_attrs: list[DictionaryAttr] = []
    if not problems.unsupported and not problems.errors:
        for out in graph.output:
            value = ctx.ssa(out.name)
            results.append(value)
            res_attrs.append(DictionaryAttr({NAME_ATTR: StringAttr(out.name)}))
            _check_declared(out, value, problems)
    block.add_op(ReturnOp(*results))
    func = FuncOp(
        "main",
        FunctionType.from_lists(arg_types, [r.type for r in results]),
        Region(block),
        arg_attrs=ArrayAttr([DictionaryAttr({NAME_ATTR: StringAttr(v.name)}) for v in inputs]),
        res_attrs=ArrayAttr(res_attrs),
    )
    return ModuleOp([func]), problems


def _op_label(proto: onnx.NodeProto) -> str:
    default = proto.domain in ("", "ai.onnx")
    return proto.op_type if default else f"{proto.domain}.{proto.op_type}"


def _known(proto: onnx.NodeProto, converters: dict[str, Converter]) -> bool:
    if proto.domain not in ("", "ai.onnx"):
        return False
    return proto.op_type in converters or proto.op_type in ("Constant", "Shape", "Size")


def _elem_type(elem: int) -> Attribute:
    return element_type_of(np.dtype(numpy_dtype_of_onnx(elem)))


def numpy_dtype_of_onnx(elem: int) -> Any:
    return helper.tensor_dtype_to_np_dtype(elem)


def _check_declared(out: onnx.ValueInfoProto, value: SSAValue, problems: Problems) -> None:
    declared = out.type.tensor_type
    got = value.type
    assert isinstance(got, TensorType)
    if declared.elem_type and _elem_type(declared.elem_type) != got.get_element_type():
        problems.errors.append(
            f"graph output '{out.name}' is declared "
            f"{onnx.TensorProto.DataType.Name(declared.elem_type)} but computes "
            f"{got.get_element_type()}"
        )
    if declared.HasField("shape"):
        dims = declared.shape.dim
        shape = got.get_shape()
        ok = len(dims) == len(shape) and all(
            not d.HasField("dim_value") or d.dim_value == s
            for d, s in zip(dims, shape, strict=False)
        )
        if not ok:
            want = "x".join(str(d.dim_value) if d.HasField("dim_value") else "?" for d in dims)
            problems.errors.append(
                f"graph output '{out.name}' is declared with shape [{want}] but computes "
                f"{list(shape)}"
            )


def _fold(ctx: Context, node: Node, *, has_converter: bool = True) -> bool:
    """Evaluate `node` at import time when its inputs are known; True if it was. When
    `onnx.reference` cannot evaluate it, the converter (`has_converter`) emits it instead,
    or a `ConversionError` gives the reason."""
    op_type = node.op_type
    if node.proto.domain not in ("", "ai.onnx") or op_type in _NOT_FOLDED:
        return False
    if op_type in ("Shape", "Size") and node.has_input(0) and node.inputs[0] in ctx.values:
        shape = ctx.shape(node.inputs[0])
        if op_type == "Size":
            result = np.array(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)
        else:
            start, end = node.attr("start", 0), node.attr("end", None)
            result = np.array(shape[slice(start, end)], dtype=np.int64)
        ctx.set(node.outputs[0], result)
        return True
    if op_type == "Constant":
        ctx.set(node.outputs[0], _constant_value(node))
        return True
    if op_type in ("Identity", "Dropout") and node.has_input(0):
        return False
    names = [i for i in node.inputs if i]
    if not all(ctx.const(i) is not None for i in names):
        return False
    if op_type in ("If", "Loop", "Scan"):
        return False
    feeds = {i: ctx.const(i) for i in names}
    try:
        evaluator = onnx.reference.ReferenceEvaluator(node.proto, opsets={"": ctx.opset})
        outputs = evaluator.run(None, feeds)
    except Exception as error:  # onnx.reference raises anything, MemoryError included
        if has_converter:
            return False
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ConversionError(
            f"cannot evaluate it on its constant inputs: {type(error).__name__}"
            + (f": {text}" if text else "")
        ) from None
    for name, value in zip(node.outputs, outputs, strict=False):
        if name:
            ctx.set(name, np.asarray(value))
    return True


def _constant_value(node: Node) -> np.ndarray:
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in node.attrs:
            value = node.attrs[key]
            if key.startswith("value_float"):
                return np.array(value, dtype=np.float32)
            if key.startswith("value_int"):
                return np.array(value, dtype=np.int64)
            return np.asarray(value)
    raise Unsupported("Constant with a sparse or string value")
