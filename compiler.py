"""`trnc.compile`: an ONNX model (or a graph-level module) -> a `trn_isa` program that the
simulator runs, with the IR of every level and a compile report.

    model = trnc.compile("mlp.onnx", input_shapes={"x": [8, 64]}, dtype="bf16")
    outputs = model.run({"x": x})        # simulated; outputs by name, in graph shapes
    model.report                         # compile report (+ the last run's simulator report)
    print(model.ir("tile"))              # "graph", "tile" or "isa"

Stages (each timed in `report["compile_seconds"]`): import (ONNX only), graph-decompose,
graph-canonicalize, graph-fuse-activations, graph-fold-weights (into the compile's working
directory, removed with the `CompiledModel`), graph-canonicalize again, graph-plan-tiling,
graph-to-tile{dtype}, `weights`, tile-plan-memory, tile-prefetch, tile-balance-engines,
tile-allocate, tile-to-isa, isa-insert-sync, `verify` (the whole program once more);
`total` also counts the snapshots of the graph and tile modules that `ir` prints on demand.
Weights (graph.weight / graph.constant tensors that reach the tile level) are read once,
after graph-to-tile, and given to the simulator with the inputs.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, ModuleOp, StringAttr, TensorType
from xdsl.passes import ModulePass

from trnc.compile_errors import CompileError, ErrorOrigin, located
from trnc.dialects import tile
from trnc.dialects import trn_isa as isa
from trnc.dialects.isa_common import byte_size
from trnc.dialects.tile.memory_ops import footprint_bytes
from trnc.dialects.tile.types import BufferType
from trnc.dialects.trn_isa.access_pattern import AccessPatternAttr
from trnc.dialects.trn_isa.attrs import MemoryKind
from trnc.lowering.graph_to_isa import pipeline
from trnc.lowering.graph_to_tile import (
    ELEMENT_ATTR,
    VALUE_ATTR,
    WEIGHT_FILE_ATTR,
    WEIGHT_OFFSET_ATTR,
    GraphToTile,
)
from trnc.lowering.tile_allocate import TileAllocate
from trnc.lowering.tile_loops import runs
from trnc.lowering.tile_plan_memory import SPILL_ATTR
from trnc.lowering.tile_to_isa import NAME_ATTR, ROLE_ATTR, SHAPE_ATTR, TileToIsa, lower_module
from trnc.machine import TRN1, Memory
from trnc.simulator.report import compulsory_hbm_bytes
from trnc.tools.context import module_text
from trnc.tools.diagnostics import Diagnostic, verify_ops

LEVELS = ("graph", "tile", "isa")
DTYPES = ("bf16", "fp32")


@dataclass
class CompiledModel:
    """A compiled program: `run`, `report`, `ir(level)`."""

    module: ModuleOp
    """The `trn_isa` module (one `trn_isa.program`)."""
    weights: dict[str, np.ndarray]
    input_names: list[str]
    output_names: list[str]
    shapes: dict[str, tuple[int, ...]]
    texts: dict[str, str]
    report: dict[str, Any] = field(default_factory=dict)
    levels: dict[str, ModuleOp] = field(default_factory=dict)
    """The module at each level (snapshots of `graph` and `tile`), printed by `ir`."""
    dtypes: dict[str, np.dtype[Any]] = field(default_factory=dict)
    """numpy dtype of each input and output"""
    index_bounds: dict[str, int] = field(default_factory=dict)
    """Per integer input that indexes a gather: the indexed dim's size (`index_bounds`)."""
    output_tensors: dict[str, str] = field(default_factory=dict)
    """Graph output name -> the key of its data in `shapes`, `dtypes` and the program's
    HBM tensors, where they differ: the program's names are unique, so an output named
    like an input (returned as is) or like another output is `x.1` there."""
    last_report: Any = None
    """The simulator's `Report` of the last `run`."""
    base_dir: Path = field(default_factory=Path.cwd)
    """The directory relative weights file names are relative to."""
    _last_result: Any = None
    _workdir: Any = None

    def ir(self, level: str) -> str:
        """The text of the `graph`, `tile` or `isa` module (printed on first request)."""
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
        if level not in self.texts:
            if level not in self.levels:
                raise CompileError(f"this model has no {level} level (loaded from a file?)")
            self.texts[level] = module_text(self.levels[level])
        return self.texts[level]

    def run(
        self,
        inputs: Mapping[str, np.ndarray] | None = None,
        *,
        timing_only: bool = False,
        random_inputs: bool = False,
        seed: int = 0,
    ) -> dict[str, np.ndarray]:
        """Simulate the program; returns the outputs by name (empty when `timing_only`);
        `report["simulation"]` gets the simulator's report. Every input must be given
        unless `timing_only` (no data) or `random_inputs` (`random_feeds(seed=seed)` for
        the missing ones, as `trn-compile --random-inputs` makes them)."""
        from trnc.simulator import simulate

        given = dict(inputs or {})
        missing = [
            n for n in self.input_names if n not in given and 0 not in self.shapes.get(n, (1,))
        ]
        if missing and random_inputs:
            given = self.random_feeds(given=given, seed=seed)
        elif missing and not timing_only:
            names = ", ".join(repr(n) for n in missing)
            raise CompileError(
                f"no data for input(s) {names}: pass them, or run(..., random_inputs=True) "
                "for seeded random data"
            )
        feeds = {**self.weights}
        for name, array in given.items():
            if name not in self.shapes:
                raise CompileError(
                    f"input '{name}' is not an input of the model "
                    f"(inputs: {', '.join(self.input_names)})"
                )
            array = np.asarray(array)
            if array.size == 0 and 0 in self.shapes[name]:
                continue  # a tensor without elements is not in the program
            feeds[name] = _integer_input(name, array)
        result = simulate(self.module, feeds, timing_only=timing_only)
        self.report["simulation"] = _asdict(result.report)
        self.last_report = result.report
        self._last_result = result
        outputs: dict[str, np.ndarray] = {}
        for name in self.output_names:
            tensor = self.output_tensors.get(name, name)
            if tensor in result.outputs:
                out = result.outputs[tensor]
                outputs[name] = out.astype(self.dtypes.get(tensor, out.dtype))
            elif 0 in self.shapes[tensor] and not timing_only:  # no elements: no HBM tensor
                outputs[name] = np.empty(self.shapes[tensor], self.dtypes[tensor])
        return outputs

    def random_feeds(
        self, *, given: Mapping[str, np.ndarray] | None = None, seed: int = 0
    ) -> dict[str, np.ndarray]:
        """`given` plus seeded random data for every other input: uniform in [-1, 1) for
        floats, valid row numbers of the table for gather indices (`index_bounds`), 0..9
        for other integers."""
        from trnc.simulator import random_input

        rng = np.random.default_rng(seed)
        feeds = dict(given or {})
        for name in self.input_names:
            if name in feeds:
                continue
            bound = self.index_bounds.get(name)
            feeds[name] = random_input(self.shapes[name], self.dtypes[name], rng, bound)
        return feeds

    def write_trace(self, path: str) -> None:
        """The last run as Chrome trace-event JSON (Perfetto)."""
        from trnc.simulator.program import decode
        from trnc.simulator.trace import write_trace

        if self._last_result is None:
            raise CompileError("write_trace needs a run first")
        write_trace(path, decode(self.module), self._last_result.schedule)

    def profile(self) -> Any:
        """Where the simulated time of the last `run` goes: a
        `trnc.simulator.profile.Profile` (per ONNX node with its op type, per op type and
        opcode, the critical path by node and cause, HBM bandwidth and utilisation over
        time; `.table()`, `.write_html(path)`, `.write_timeline(path)`; docs/PROFILING.md).
        Without a run yet, the program is run first, timing only."""
        from trnc.simulator.profile import build_profile, node_types
        from trnc.simulator.program import decode

        if self._last_result is None:
            self.run(timing_only=True)
        graph = self.levels.get("graph")
        types = node_types(graph) if graph is not None else None
        return build_profile(decode(self.module), self._last_result.schedule, node_types=types)

    def ir_file(self, level: str, out: str | os.PathLike[str]) -> str:
        """The text of `level` for the file `out`: its external weights are copied into
        `weights_path(out)` (raw, `frontend/onnx/weights.py`), which the text names
        relative to `out`'s directory, so the pair can be moved together."""
        from trnc.tools.weights_io import WeightsError, relocate

        self.ir(level)  # a clear error for a level the model does not have
        out = Path(out)
        module = self.levels[level].clone()
        weights = weights_path(out)
        try:
            relocate(module, self.base_dir, weights, weights.name)
        except WeightsError as error:
            raise CompileError(str(error)) from None
        return module_text(module)

    def ir_inline(self, level: str) -> str:
        """The text of `level` with every weight inline (`tools/weights_io.inline`): a
        self-contained module to print where no weights file can go beside it (stdout)."""
        from trnc.tools.weights_io import WeightsError, inline

        self.ir(level)
        module = self.levels[level].clone()
        try:
            inline(module, self.base_dir)
        except WeightsError as error:
            raise CompileError(str(error)) from None
        return module_text(module)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the `trn_isa` program to `path` and its weights to `weights_path(path)`
        beside it (named relative to it); `trnc.load(path)` reads them back. Returns the
        weights file's path (written only when the program has external weights)."""
        text = self.ir_file("isa", path)
        try:
            Path(path).write_text(text)
        except OSError as error:
            raise CompileError(f"cannot write '{path}': {error.strerror or error}") from None
        return weights_path(Path(path))


def weights_path(out: Path) -> Path:
    """Where the weights of the IR file `out` go: `model.mlir` -> `model.weights`."""
    weights = out.with_suffix(".weights")
    return weights if weights != out else out.with_name(out.name + ".weights")


def load(path: str | os.PathLike[str]) -> CompiledModel:
    """A `CompiledModel` from a file `CompiledModel.save` (or `trn-compile -o`) wrote:
    its `trn_isa` program and the weights it names. `run` gives the results the saved
    model gave, under the same names and in the same order, except outputs without
    elements (the program has no tensor for them, so a loaded model does not list them);
    `ir` has the `isa` level only. Raises `CompileError` naming the file."""
    from xdsl.utils.exceptions import ParseError

    from trnc.simulator.program import DecodeError, decode, recorded_outputs
    from trnc.tools.context import parse_source
    from trnc.tools.diagnostics import Diagnostic
    from trnc.tools.weights_io import WeightsError, weight_refs

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CompileError(f"cannot read '{path}': {error}") from None
    try:
        module = parse_source(text, str(path))
    except ParseError as error:
        raise CompileError(Diagnostic.from_parse_error(error).format(str(path))) from None
    problems = verify_ops(module)
    if problems:
        raise CompileError(problems[0].format(str(path)))
    try:
        program = decode(module)
    except DecodeError as error:
        raise CompileError(f"{path}: {error}") from None
    weights: dict[str, np.ndarray] = {}
    try:
        for ref in weight_refs(module):
            weights[ref.name] = ref.read(path.parent)
    except WeightsError as error:
        raise CompileError(str(error)) from None
    for t in program.tensors:
        if t.role == "weight" and t.name not in weights:
            if t.value is None:
                raise CompileError(f"{path}: weight '{t.name}' has no data (no weights file)")
            weights[t.name] = np.broadcast_to(t.value, t.shape)
    roles = {
        role: [t.name for t in program.tensors if t.role == role] for role in ("input", "output")
    }
    tensors = {t.name for t in program.tensors if t.role == "output"}
    recorded = recorded_outputs(next(op for op in module.walk() if isinstance(op, isa.ProgramOp)))
    output_tensors: dict[str, str] = {}
    if recorded is not None and all(t in tensors for _, t in recorded):
        roles["output"] = [name for name, _ in recorded]
        output_tensors = {name: t for name, t in recorded if name != t}
    return CompiledModel(
        module,
        weights,
        roles["input"],
        roles["output"],
        {t.name: t.shape for t in program.tensors},
        texts={"isa": text},
        levels={"isa": module},
        dtypes={t.name: t.host_dtype for t in program.tensors},
        base_dir=path.parent,
        output_tensors=output_tensors,
        index_bounds=program.index_bounds,
    )


EXACT_INTEGERS = 2**24
"""Integer inputs must lie within +-2^24: on chip they are fp32 values (graph-to-tile)."""


def _integer_input(name: str, array: np.ndarray, what: str = "input") -> np.ndarray:
    """`array`, checked when it holds integers: the engines compute in fp32, which holds
    every integer only up to 2^24 in magnitude, so larger values are refused rather than
    computed wrongly."""
    if array.dtype.kind in "iu" and array.size:
        low, high = int(array.min()), int(array.max())
        if low < -EXACT_INTEGERS or high > EXACT_INTEGERS:
            raise CompileError(
                f"{what} '{name}' holds integers in [{low}, {high}]; compiled programs take "
                f"integers within +-{EXACT_INTEGERS} (2^24), which fp32 holds exactly"
            )
    return array


def _asdict(report: Any) -> dict[str, Any]:
    import json

    return json.loads(report.to_json())


def _weights(function: func.FuncOp, base_dir: Path) -> dict[str, np.ndarray]:
    """The data of every weight argument of a tile function (see graph_to_tile.py)."""
    from trnc.interpreters.graph import GraphRunError, WeightStore
    from trnc.interpreters.numpy_types import dense_to_numpy, numpy_dtype

    store = WeightStore(base_dir)
    data: dict[str, np.ndarray] = {}
    attrs = function.arg_attrs
    if attrs is None:
        return data
    for arg, entry in zip(function.body.block.args, attrs.data, strict=True):
        d = entry.data
        if d.get(ROLE_ATTR) != StringAttr("weight"):
            continue
        name_attr = d[NAME_ATTR]
        assert isinstance(name_attr, StringAttr)
        shape_attr = d[SHAPE_ATTR]
        assert isinstance(shape_attr, DenseArrayBase)
        shape = tuple(int(v) for v in shape_attr.get_values())
        buf = arg.type
        assert isinstance(buf, BufferType)
        graph_element = d.get(ELEMENT_ATTR, buf.element_type)
        dtype = numpy_dtype(graph_element)
        if VALUE_ATTR in d:
            data[name_attr.data] = dense_to_numpy(d[VALUE_ATTR]).reshape(shape)
            continue
        file_attr, offset_attr = d[WEIGHT_FILE_ATTR], d[WEIGHT_OFFSET_ATTR]
        assert isinstance(file_attr, StringAttr) and isinstance(offset_attr, IntegerAttr)
        try:  # a copy: the weights file may live in the compile's working directory
            data[name_attr.data] = np.array(
                store.load(
                    function, name_attr.data, file_attr.data, offset_attr.value.data, shape, dtype
                )
            )
        except GraphRunError as error:
            raise CompileError(error.message) from None
    return data


def _tile_stats(module: ModuleOp) -> dict[str, Any]:
    """The size of allocated tile IR (its ops, and those outside loops), transposes, DMA
    bytes and the memory peaks."""
    transposes = dma_bytes = ops = top_level = 0
    peaks = {Memory.SBUF: 0, Memory.PSUM: 0}
    for function in module.ops:
        if isinstance(function, func.FuncOp):
            top_level += len(function.body.block.ops)
            ops += sum(1 for _ in function.body.walk())
    for op in module.walk():
        if isinstance(op, tile.TransposeOp):
            transposes += runs(op)
        elif isinstance(op, tile.DmaOp | tile.DmaGatherOp):
            dma_bytes += tile.dma_moved_bytes(op) * runs(op)
        elif isinstance(op, tile.AllocOp) and op.address is not None:
            buf = op.result.type
            assert isinstance(buf, BufferType)
            end = op.address.value.data + footprint_bytes(buf, op.depth_value())
            memory = buf.memory.data
            peaks[memory] = max(peaks.get(memory, 0), end)
    return {
        "tile_ops": ops,
        "tile_ops_top_level": top_level,
        "transposes": transposes,
        "dma_bytes": dma_bytes,
        "sbuf_peak_bytes_per_partition": peaks[Memory.SBUF],
        "psum_peak_banks": -(-peaks[Memory.PSUM] // TRN1.psum_bank_bytes),
    }


def _isa_stats(module: ModuleOp) -> dict[str, Any]:
    per_engine: dict[str, int] = {}
    total = flops = compulsory = 0
    for program in module.walk():
        if not isinstance(program, isa.ProgramOp):
            continue
        tensors = [
            (
                t.role_kind.value,
                t.address.value.data,
                prod(t.tensor_type.get_shape()) * byte_size(t.tensor_type.get_element_type()),
            )
            for t in program.hbm_tensors()
        ]
        accesses: list[tuple[int, int | None]] = []
        for ins in program.instructions():
            if not isinstance(ins, isa.DmaQueueOp):
                continue
            for name, value in ins.properties.items():
                if isinstance(value, AccessPatternAttr) and value.memory.data is MemoryKind.HBM:
                    rows = None
                    if isinstance(ins, isa.DmaGatherOp) and name == "table":
                        dst = ins.dst
                        rows = (
                            dst.partition_count.data
                            * prod(c.data for c in dst.counts.data)
                            * byte_size(value.dtype)
                        )
                    accesses.append((value.offset.data, rows))
        compulsory += compulsory_hbm_bytes(tensors, accesses)
        for ins in program.instructions():
            total += 1
            queue = (
                "dma"
                if isinstance(ins, isa.DmaQueueOp)
                else str(ins.properties["engine"].data.value)
            )
            per_engine[queue] = per_engine.get(queue, 0) + 1
            if isinstance(ins, isa.MatmulOp):
                m = ins.dst.partition_count.data
                n = prod(c.data for c in ins.dst.counts.data)
                k = ins.stationary.partition_count.data
                flops += 2 * m * n * k
    return {
        "instructions": {"total": total, "per_engine": per_engine},
        "compulsory_hbm_bytes": compulsory,
        "flops": flops,
    }


def compile(
    model: str | os.PathLike[str] | bytes | Any,
    *,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    dtype: str = "bf16",
    base_dir: str | os.PathLike[str] | None = None,
    constant_inputs: Mapping[str, np.ndarray] | None = None,
    before_pass: Callable[[ModulePass, ModuleOp], None] | None = None,
    after_pass: Callable[[ModulePass, ModuleOp], None] | None = None,
) -> CompiledModel:
    """Compile `model`: an ONNX path / bytes / `ModelProto`, or a graph-level `ModuleOp`
    (see the module docstring). Raises `CompileError` (or the importer's
    `OnnxImportError`) with a located message for what cannot be compiled.

    `before_pass` and `after_pass`, when given, are called with each pass and the module
    before and after it runs (pass instrumentation: `trn-compile`'s
    `--print-ir-*` flags); `after_pass` is not called for a pass that fails."""
    if dtype not in DTYPES:
        raise CompileError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    workdir = tempfile.TemporaryDirectory(prefix="trnc-compile-")
    tmp = workdir.name
    origin = ErrorOrigin(model)
    if isinstance(model, ModuleOp):
        module = model.clone()
        weights_dir = Path(base_dir) if base_dir is not None else Path.cwd()
    else:
        from trnc.frontend.onnx import import_model

        t0 = time.perf_counter()
        result = import_model(
            model,
            input_shapes=input_shapes,
            weights_path=Path(tmp) / "model.weights",
            base_dir=base_dir,
            constant_inputs=constant_inputs,
        )
        seconds["import"] = time.perf_counter() - t0
        module = result.module
        weights_dir = Path(tmp)
    levels = {"graph": module.clone()}
    bounds = index_bounds(module)
    ctx = Context()
    from trnc.passes.graph_fold_weights import GraphFoldWeightsPass

    fold = GraphFoldWeightsPass(file=str(Path(tmp) / "folded.weights"), base_dir=str(weights_dir))
    tile_function: func.FuncOp | None = None
    weights: dict[str, np.ndarray] = {}
    names: dict[str, Any] = {}
    output_tensors: dict[str, str] = {}
    stats: dict[str, Any] = {}
    spill = 0
    for stage in pipeline(dtype, fold=fold):
        if before_pass is not None:
            before_pass(stage, module)
        t0 = time.perf_counter()
        try:
            if stage.name == TileToIsa.name:  # keeping the tile level without a copy
                levels["tile"] = ModuleOp([])
                lower_module(module, keep=levels["tile"])
            else:
                stage.apply(ctx, module)
        except Exception as error:
            raise located(error, stage, origin) from None
        seconds[stage.name] = seconds.get(stage.name, 0.0) + time.perf_counter() - t0
        if after_pass is not None:
            after_pass(stage, module)
        if stage.name == GraphToTile.name:  # the kernel's tensors, named as the graph's
            functions = [op for op in module.ops if isinstance(op, func.FuncOp)]
            if len(functions) != 1:
                raise CompileError(f"expected one function after lowering, found {len(functions)}")
            tile_function = functions[0]
            t0 = time.perf_counter()
            weights = _weights(tile_function, weights_dir)
            for name, array in weights.items():
                _integer_input(name, array, what="weight")
            seconds["weights"] = time.perf_counter() - t0
            names = _names(tile_function)
            _add_empty(names, levels["graph"])
            output_tensors = _graph_outputs(names, levels["graph"], tile_function.sym_name.data)
        elif stage.name == TileAllocate.name:
            assert tile_function is not None
            spill = _spill_bytes(tile_function)
            stats = _tile_stats(module)
    t0 = time.perf_counter()
    problems = verify_ops(module)
    seconds["verify"] = time.perf_counter() - t0
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise origin.error(
            Diagnostic(
                "error",
                f"internal error: the compiled program does not verify: {first.message}{more}",
                first.loc,
                first.name,
            )
        )
    _record_graph_facts(module, names["output"], output_tensors, bounds)
    levels["isa"] = module
    seconds["total"] = time.perf_counter() - start
    report: dict[str, Any] = {
        "dtype": dtype,
        "compile_seconds": seconds,
        **_isa_stats(module),
        **stats,
        "spill_bytes": spill,
    }
    return CompiledModel(
        module,
        weights,
        names["input"],
        names["output"],
        names["shapes"],
        texts={},
        report=report,
        levels=levels,
        dtypes=names["dtypes"],
        index_bounds=bounds,
        base_dir=weights_dir,
        output_tensors=output_tensors,
        _workdir=workdir,  # the weights files `ir("graph")` names; removed with it
    )


def _spill_bytes(function: func.FuncOp) -> int:
    """Bytes `tile-plan-memory` reloads from HBM because SBUF was full."""
    attr = function.attributes.get(SPILL_ATTR)
    return attr.value.data if isinstance(attr, IntegerAttr) else 0


def index_bounds(module: ModuleOp) -> dict[str, int]:
    """Per integer graph input that indexes a gather: the indexed dim's size
    (`trnc.interpreters.graph.gather_index_bounds` of each function)."""
    from trnc.interpreters.graph import gather_index_bounds

    bounds: dict[str, int] = {}
    for function in module.ops:
        if isinstance(function, func.FuncOp) and not function.is_declaration:
            bounds.update(gather_index_bounds(function))
    return bounds


def _add_empty(names: dict[str, Any], graph: ModuleOp) -> None:
    """Add the graph's inputs without elements (which get no HBM tensor) to `names`, so
    `run` accepts such inputs (`_graph_outputs` does the outputs)."""
    from trnc.interpreters.numpy_types import numpy_dtype

    for function in graph.ops:
        if not isinstance(function, func.FuncOp) or function.is_declaration:
            continue
        attrs = function.arg_attrs
        for i, value in enumerate(function.body.block.args):
            t = value.type
            if not isinstance(t, TensorType) or 0 not in t.get_shape():
                continue
            entry = attrs.data[i].data.get("graph.name") if attrs is not None else None
            name = entry.data if isinstance(entry, StringAttr) else f"arg{i}"
            if name not in names["input"]:
                names["input"].append(name)
                names["shapes"][name] = tuple(t.get_shape())
                names["dtypes"][name] = numpy_dtype(t.get_element_type())


def _record_graph_facts(
    module: ModuleOp, outputs: list[str], tensors: dict[str, str], bounds: dict[str, int]
) -> None:
    """Put `simulator.program.OUTPUTS_ATTR` and `INDEX_BOUNDS_ATTR` on the module's
    program (see there): what the program's text must keep of the graph."""
    from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, i64

    from trnc.simulator.program import INDEX_BOUNDS_ATTR, OUTPUTS_ATTR

    for program in (op for op in module.walk() if isinstance(op, isa.ProgramOp)):
        present = {t.sym_name.data for t in program.hbm_tensors()}
        pairs = [(name, tensors.get(name, name)) for name in outputs]
        program.attributes[OUTPUTS_ATTR] = ArrayAttr(
            [ArrayAttr([StringAttr(n), StringAttr(t)]) for n, t in pairs if t in present]
        )
        kept = {n: IntegerAttr(b, i64) for n, b in sorted(bounds.items()) if n in present}
        if kept:
            program.attributes[INDEX_BOUNDS_ATTR] = DictionaryAttr(kept)


def _graph_outputs(names: dict[str, Any], graph: ModuleOp, function_name: str) -> dict[str, str]:
    """Make `names["output"]` the graph function's output names, in order (a name listed
    twice stays twice), and return where each one's data is when its key differs (see
    `CompiledModel.output_tensors`). graph-to-tile gives the outputs with elements their
    HBM tensors in the graph's order, so the k-th of them is the k-th "output" tensor;
    an output without elements gets a key of its own in `shapes` and `dtypes`."""
    from trnc.interpreters.numpy_types import numpy_dtype

    functions = [
        op
        for op in graph.ops
        if isinstance(op, func.FuncOp)
        and not op.is_declaration
        and op.sym_name.data == function_name
    ]
    if len(functions) != 1:
        return {}
    function = functions[0]
    from trnc.interpreters.graph import GraphRunError, function_signature

    try:  # refuses two outputs of one name that return different values
        function_signature(function)
    except GraphRunError as error:
        raise CompileError(str(error)) from None
    tensors = iter(names["output"])
    graph_names: list[str] = []
    where: dict[str, str] = {}
    attrs = function.res_attrs
    for i, t in enumerate(function.function_type.outputs.data):
        entry = attrs.data[i].data.get("graph.name") if attrs is not None else None
        name = entry.data if isinstance(entry, StringAttr) else f"output{i}"
        graph_names.append(name)
        if isinstance(t, TensorType) and 0 in t.get_shape():
            key, k = name, 1
            while key in names["shapes"]:
                key, k = f"{name}.{k}", k + 1
            names["shapes"][key] = tuple(t.get_shape())
            names["dtypes"][key] = numpy_dtype(t.get_element_type())
        else:
            key = next(tensors, "")
            if not key:
                raise CompileError(f"internal error: output '{name}' has no tensor in the program")
        if key != name and name not in graph_names[:-1]:
            where[name] = key
    names["output"] = graph_names
    return where


def _names(function: func.FuncOp) -> dict[str, Any]:
    from trnc.interpreters.numpy_types import numpy_dtype

    out: dict[str, Any] = {"input": [], "output": [], "shapes": {}, "dtypes": {}}
    attrs = function.arg_attrs
    assert attrs is not None
    for entry in attrs.data:
        d = entry.data
        name, role = d[NAME_ATTR], d[ROLE_ATTR]
        assert isinstance(name, StringAttr) and isinstance(role, StringAttr)
        shape_attr = d[SHAPE_ATTR]
        assert isinstance(shape_attr, DenseArrayBase)
        if role.data in ("input", "output"):
            out[role.data].append(name.data)
            out["shapes"][name.data] = tuple(int(v) for v in shape_attr.get_values())
    for arg, entry in zip(function.body.block.args, attrs.data, strict=True):
        arg_name = entry.data[NAME_ATTR]
        assert isinstance(arg_name, StringAttr) and isinstance(arg.type, BufferType)
        element = entry.data.get(ELEMENT_ATTR, arg.type.element_type)
        out["dtypes"][arg_name.data] = numpy_dtype(element)
    return out
