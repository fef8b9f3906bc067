"""The reference interpreter of the `graph` dialect: numpy, on xDSL's interpreter framework.

It is the oracle the compiler's lower levels are checked against, so every op follows
ONNX semantics exactly as onnxruntime's CPU provider computes them (the numeric
conventions are in `trnc.interpreters.graph_kernels`; the op implementations are in
`trnc.interpreters.graph_ops`, one `@impl` per graph op).

A graph-level program is a `builtin.module` of `func.func`s whose bodies hold graph ops
and `func.return` (and `func.call`). The entry is `@main`, else the only `func.func`.
Its inputs and outputs are named by the `graph.name` argument / result attributes
(`arg0`, ... and `output0`, ... when absent).

    result = run_graph(module, {"x": x}, base_dir="model_dir", seed=0)
    result.outputs["y"], result.notes, result.op_counts, result.wall_seconds
    outputs, notes = run_graph(module)          # unpacks like the simulator's result

Inputs not given are filled with seeded random data (floats uniform in [-1, 1), integers
0..9, booleans 0/1) and `notes` says which. `graph.weight` tensors are read lazily (one
read-only `np.memmap` per file) from raw little-endian row-major files, relative to
`base_dir` (the .mlir file's directory for `trn-run`; the working directory if None).
Every op result is checked against its declared type; a mismatch is an interpreter bug
and raises xDSL's `InterpretationError`. Problems of the program or its data raise
`GraphRunError` (located at the op when there is one); bad inputs `GraphInputError`.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, ModuleOp, StringAttr, TensorType
from xdsl.interpreter import Interpreter, PythonValues
from xdsl.interpreters.func import FuncFunctions
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.traits import SymbolTable
from xdsl.utils.exceptions import InterpretationError

from trnc.interpreters.numpy_types import Shape, UnsupportedTypeError, tensor_spec
from trnc.tools.diagnostics import Diagnostic

NAME_ATTR = "graph.name"
"""The argument / result attribute naming an entry function's inputs and outputs."""

TensorDesc = tuple[str, Shape, np.dtype[Any]]
"""(name, shape, dtype) of an entry input or output."""


class GraphRunError(Exception):
    """A graph program that cannot run, or fails on its data; located at `op` if set."""

    def __init__(self, message: str, op: Operation | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.op = op

    def diagnostic(self) -> Diagnostic | None:
        """The MLIR-style diagnostic at the op, when there is one."""
        return Diagnostic.at_op(self.op, self.message) if self.op is not None else None

    def format(self, default_file: str = "<unknown>") -> str:
        """`file:line:col: error: 'op' op message` when located, else `error: message`."""
        diagnostic = self.diagnostic()
        if diagnostic is None:
            return f"error: {self.message}"
        return diagnostic.format(default_file)

    def __str__(self) -> str:
        diagnostic = self.diagnostic()
        return self.message if diagnostic is None else diagnostic.format()


class GraphInputError(GraphRunError):
    """Inputs that do not fit the entry function (unknown name, wrong shape, bad data)."""


class Abort(BaseException):
    """Carries an error out of the interpreter past xDSL's `except Exception` handler,
    which would otherwise print the whole module into the exception's notes."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


# --------------------------------------------------------------------------------------
# The entry function and its signature
# --------------------------------------------------------------------------------------


def entry_function(module: ModuleOp) -> func.FuncOp:
    """`@main` if the module has one, else its only `func.func`."""
    functions = [op for op in module.ops if isinstance(op, func.FuncOp)]
    for function in functions:
        if function.sym_name.data == "main":
            return function
    if len(functions) == 1:
        return functions[0]
    if not functions:
        raise GraphRunError("the module has no func.func to run (graph-level IR expected)")
    names = ", ".join(f"@{f.sym_name.data}" for f in functions)
    raise GraphRunError(f"the module has several functions ({names}) and none is @main")


def _names(attrs: ArrayAttr[DictionaryAttr] | None, count: int, prefix: str) -> list[str]:
    names = []
    for i in range(count):
        entry = attrs.data[i].data.get(NAME_ATTR) if attrs is not None else None
        names.append(entry.data if isinstance(entry, StringAttr) else f"{prefix}{i}")
    return names


def _describe(
    function: func.FuncOp, types: tuple[Attribute, ...], names: list[str], what: str
) -> list[TensorDesc]:
    """(name, shape, dtype) per entry; two inputs of one name are an error, two outputs
    only when they return different values (ONNX may list one output twice)."""
    seen: set[str] = set()
    result: list[TensorDesc] = []
    returned = _returned(function) if what == "output" else []
    for i, (name, t) in enumerate(zip(names, types, strict=True)):
        if name in seen and (not returned or returned[i] is not returned[names.index(name)]):
            raise GraphRunError(
                f"two {what}s of @{function.sym_name.data} are named '{name}'"
                + (" and return different values" if returned else ""),
                function if returned else None,
            )
        seen.add(name)
        try:
            shape, dtype = tensor_spec(t)
        except UnsupportedTypeError as error:
            raise GraphRunError(f"{what} '{name}': {error}", function) from None
        result.append((name, shape, dtype))
    return result


def _returned(function: func.FuncOp) -> list[SSAValue]:
    """The values the function's body returns (none for a declaration)."""
    if not function.body.blocks or function.body.blocks.first is None:
        return []
    ret = function.body.blocks.first.last_op
    return list(ret.operands) if isinstance(ret, func.ReturnOp) else []


def function_signature(function: func.FuncOp) -> tuple[list[TensorDesc], list[TensorDesc]]:
    """The (inputs, outputs) of `function`, each a list of (name, shape, dtype)."""
    ftype = function.function_type
    inputs, outputs = tuple(ftype.inputs.data), tuple(ftype.outputs.data)
    return (
        _describe(function, inputs, _names(function.arg_attrs, len(inputs), "arg"), "input"),
        _describe(function, outputs, _names(function.res_attrs, len(outputs), "output"), "output"),
    )


def entry_signature(module: ModuleOp) -> tuple[list[TensorDesc], list[TensorDesc]]:
    """The entry function's (inputs, outputs), each a list of (name, shape, dtype)."""
    return function_signature(entry_function(module))


def check_runnable(module: ModuleOp, function: func.FuncOp) -> None:
    """Every op reachable from `function` (through func.call) is a graph op or func's
    call / return; else a `GraphRunError` at the first one that is not."""
    from trnc.dialects.graph import GraphOp

    pending, seen = [function], {function.sym_name.data}
    while pending:
        current = pending.pop()
        for op in current.body.walk():
            if isinstance(op, func.CallOp):
                callee = op.callee.root_reference.data
                target = SymbolTable.lookup_symbol(module, callee)
                if not isinstance(target, func.FuncOp):
                    raise GraphRunError(f"call to unknown function @{callee}", op)
                if not target.body.blocks:
                    raise GraphRunError(f"call to @{callee}, a declaration without a body", op)
                if callee not in seen:
                    seen.add(callee)
                    pending.append(target)
            elif not isinstance(op, GraphOp | func.ReturnOp):
                raise GraphRunError(
                    f"the graph interpreter cannot run '{op.name}' ops (graph-level IR holds "
                    "graph ops, func.call and func.return)",
                    op,
                )


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


def random_tensor(shape: Shape, dtype: np.dtype[Any], rng: np.random.Generator) -> np.ndarray:
    """Seeded random data for an input nobody gave: the simulator's (floats uniform in
    [-1, 1), integers 0..9), booleans uniform (`prepare_inputs` draws gather indices
    within the dim they index instead)."""
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    from trnc.simulator import random_input

    return random_input(shape, dtype, rng)


def gather_index_bounds(function: func.FuncOp) -> dict[str, int]:
    """Per integer input of `function` that is (through reshapes and casts) the indices of
    a gather: the size of the smallest dim it indexes, so random inputs can be valid ids."""
    from trnc.dialects import graph as g

    bounds: dict[str, int] = {}
    attrs = function.arg_attrs.data if function.arg_attrs is not None else ()
    for i, arg in enumerate(function.body.block.args):
        name = attrs[i].data.get("graph.name") if i < len(attrs) else None
        if not isinstance(name, StringAttr):
            continue
        stack: list[SSAValue] = [arg]
        while stack:
            for use in stack.pop().uses:
                user = use.operation
                if isinstance(user, g.GatherOp) and use.index == 1:
                    data = user.data.type
                    assert isinstance(data, TensorType)
                    size = data.get_shape()[user.axis.value.data]
                    bounds[name.data] = min(size, bounds.get(name.data, size))
                elif isinstance(user, g.ReshapeOp | g.CastOp):
                    stack.append(user.results[0])
    return bounds


def prepare_inputs(
    function: func.FuncOp,
    specs: list[TensorDesc],
    given: Mapping[str, Any],
    seed: int,
) -> tuple[list[np.ndarray], list[str]]:
    """The entry arguments in order (given ones cast to the declared dtype, others random)
    and notes on what was filled in."""
    known = [name for name, _, _ in specs]
    fname = f"@{function.sym_name.data}"
    for name in given:
        if name not in known:
            listing = ", ".join(known) if known else "none"
            raise GraphInputError(
                f"input '{name}' is not an input of {fname} (its inputs: {listing})"
            )
    rng = np.random.default_rng(seed)
    bounds = gather_index_bounds(function)
    values: list[np.ndarray] = []
    random_names: list[str] = []
    for name, shape, dtype in specs:
        if name not in given:
            if name in bounds and dtype.kind in "iu":  # gather indices: valid ids
                values.append(rng.integers(0, bounds[name], size=shape).astype(dtype))
            else:
                values.append(random_tensor(shape, dtype, rng))
            random_names.append(name)
            continue
        array = np.asarray(given[name])
        if tuple(array.shape) != shape:
            raise GraphInputError(
                f"input '{name}' has shape {tuple(array.shape)}, {fname} expects {shape}"
            )
        try:
            values.append(array.astype(dtype))
        except (TypeError, ValueError) as error:
            raise GraphInputError(
                f"input '{name}' of dtype {array.dtype} cannot be cast to {dtype}: {error}"
            ) from None
    for value in values:
        value.flags.writeable = False
    notes = []
    if random_names:
        notes.append(f"filled with seeded random data (seed {seed}): {', '.join(random_names)}")
    return values, notes


# --------------------------------------------------------------------------------------
# Weights files
# --------------------------------------------------------------------------------------


class WeightStore:
    """Reads `graph.weight` tensors: one read-only memory map per weights file."""

    def __init__(self, base_dir: str | Path | None = None) -> None:
        self.base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
        self._maps: dict[Path, np.ndarray] = {}

    def file_bytes(self, path: Path, weight: str, op: Operation) -> np.ndarray:
        """The whole file at `path` as a read-only uint8 array (mapped once)."""
        key = path.resolve()
        if key in self._maps:
            return self._maps[key]
        try:
            size = key.stat().st_size
            if not key.is_file():
                raise IsADirectoryError(f"'{path}' is not a regular file")
            data = np.memmap(key, dtype=np.uint8, mode="r") if size else np.zeros(0, dtype=np.uint8)
        except OSError as error:
            reason = error.strerror or str(error)
            raise GraphRunError(
                f"weight '{weight}': cannot open weights file '{path}': {reason}", op
            ) from None
        self._maps[key] = data
        return data

    def load(
        self, op: Operation, weight: str, file: str, offset: int, shape: Shape, dtype: np.dtype
    ) -> np.ndarray:
        """The tensor `weight` at byte `offset` of `file` (relative to the base dir)."""
        path = Path(file)
        if not path.is_absolute():
            path = self.base_dir / path
        data = self.file_bytes(path, weight, op)
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if offset + nbytes > data.size:
            raise GraphRunError(
                f"weight '{weight}' needs bytes [{offset}, {offset + nbytes}) of weights file "
                f"'{path}', which has only {data.size} bytes",
                op,
            )
        raw = data[offset : offset + nbytes]
        if dtype == np.bool_:
            array = np.asarray(raw) != 0
        else:
            array = np.asarray(raw).view(dtype)
            if sys.byteorder != "little":
                array = array.byteswap()
        array = array.reshape(shape)
        array.flags.writeable = False
        return array


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------


@dataclass
class GraphRunResult:
    """Outputs by name (in result order) and what happened; unpacks as
    `outputs, notes = run_graph(...)`."""

    outputs: dict[str, np.ndarray]
    notes: list[str] = field(default_factory=list)
    op_counts: dict[str, int] = field(default_factory=dict)
    wall_seconds: float = 0.0
    function: str = "main"
    inputs: list[TensorDesc] = field(default_factory=list)
    random_inputs: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.outputs, self.notes))

    @property
    def op_count(self) -> int:
        """How many ops ran (func.return excluded)."""
        return sum(self.op_counts.values())

    def summary(self) -> str:
        """A readable report: ops, wall time, notes and each output's statistics."""
        counts = ", ".join(f"{name} {n}" for name, n in self.op_counts.items())
        ops = f"{self.op_count} op{'' if self.op_count == 1 else 's'}"
        lines = [f"graph function @{self.function}: {ops}" + (f" ({counts})" if counts else "")]
        lines.append(f"  wall time {self.wall_seconds * 1e3:.3f} ms")
        lines += [f"  note: {note}" for note in self.notes]
        for name, array in self.outputs.items():
            stats = output_stats(array)
            text = (
                "empty"
                if stats is None
                else " ".join(
                    f"{k} {v:.6g}" for k, v in zip(("min", "max", "mean"), stats, strict=True)
                )
            )
            lines.append(f"  output {name}: shape {tuple(array.shape)} {array.dtype}: {text}")
        return "\n".join(lines)

    def to_json(self) -> str:
        """The report as JSON (`level` is "graph")."""

        def number(v: float) -> float | str:
            return v if math.isfinite(v) else str(v)

        outputs = []
        for name, array in self.outputs.items():
            stats = output_stats(array)
            entry: dict[str, Any] = {
                "name": name,
                "shape": list(array.shape),
                "dtype": str(array.dtype),
            }
            if stats is not None:
                entry.update(zip(("min", "max", "mean"), map(number, stats), strict=True))
            outputs.append(entry)
        report = {
            "level": "graph",
            "function": self.function,
            "wall_seconds": self.wall_seconds,
            "op_count": self.op_count,
            "op_counts": self.op_counts,
            "inputs": [
                {
                    "name": name,
                    "shape": list(shape),
                    "dtype": str(dtype),
                    "random": name in self.random_inputs,
                }
                for name, shape, dtype in self.inputs
            ],
            "outputs": outputs,
            "notes": self.notes,
        }
        return json.dumps(report, indent=2)


def output_stats(array: np.ndarray) -> tuple[float, float, float] | None:
    """(min, max, mean) of an array as floats, None when it is empty."""
    if array.size == 0:
        return None
    values = np.asarray(array).astype(np.float64)
    with np.errstate(all="ignore"):
        return float(values.min()), float(values.max()), float(values.mean())


class _Watcher(Interpreter.Listener):
    """Counts ops, remembers the running one (to locate errors) and checks every result
    against its declared type."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.current: Operation | None = None

    def will_interpret_op(self, op: Operation, args: PythonValues) -> None:
        self.current = op
        if not isinstance(op, func.ReturnOp):
            self.counts[op.name] += 1

    def did_interpret_op(self, op: Operation, results: PythonValues) -> None:
        for i, (result, value) in enumerate(zip(op.results, results, strict=True)):
            shape, dtype = tensor_spec(result.type)
            if not isinstance(value, np.ndarray):
                raise Abort(
                    InterpretationError(
                        f"interpreter bug: '{op.name}' result #{i} is a "
                        f"{type(value).__name__}, not a numpy array of {result.type}"
                    )
                )
            if value.shape != shape or value.dtype != dtype:
                raise Abort(
                    InterpretationError(
                        f"interpreter bug: '{op.name}' result #{i} has shape {value.shape} and "
                        f"dtype {value.dtype}, its declared type is {result.type}"
                    )
                )
            value.flags.writeable = False


def run_graph(
    module: ModuleOp,
    inputs: Mapping[str, Any] | None = None,
    *,
    base_dir: str | Path | None = None,
    seed: int = 0,
) -> GraphRunResult:
    """Run the module's entry function on `inputs` (by input name); see the module
    docstring. Raises `GraphRunError` / `GraphInputError` for user-facing problems."""
    from trnc.interpreters.graph_ops import GraphFunctions

    start = time.perf_counter()
    function = entry_function(module)
    if not function.body.blocks or function.body.blocks.first is None:
        raise GraphRunError(f"@{function.sym_name.data} is a declaration without a body", function)
    check_runnable(module, function)
    in_specs, out_specs = function_signature(function)
    args, notes = prepare_inputs(function, in_specs, inputs or {}, seed)
    given = inputs or {}
    random_names = [name for name, _, _ in in_specs if name not in given]

    watcher = _Watcher()
    interpreter = Interpreter(module, listeners=(watcher,))
    interpreter.register_implementations(FuncFunctions())
    interpreter.register_implementations(GraphFunctions(base_dir))
    try:
        with np.errstate(all="ignore"):
            results = interpreter.call_op(function, tuple(args))
    except Abort as abort:
        raise abort.error from abort.error.__cause__
    outputs = {
        name: np.array(value) for (name, _, _), value in zip(out_specs, results, strict=True)
    }
    return GraphRunResult(
        outputs=outputs,
        notes=notes,
        op_counts=dict(sorted(watcher.counts.items())),
        wall_seconds=time.perf_counter() - start,
        function=function.sym_name.data,
        inputs=in_specs,
        random_inputs=random_names,
    )


__all__ = [
    "GraphInputError",
    "GraphRunError",
    "GraphRunResult",
    "entry_function",
    "entry_signature",
    "function_signature",
    "run_graph",
]
