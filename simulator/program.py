"""Decode a `trn_isa.program` once into compact records the simulator runs.

The simulator never walks xDSL ops while simulating: `decode(program_op)` turns the
program into a `Program` of plain Python records (`Instr`, `AP`, `Tensor`) with dense
integer ids for queues and semaphores. Every later stage (timing, hazard checks,
functional execution, reports, traces) reads only these records.

Queues: 0..3 are the compute engines (`QUEUE_NAMES`: tensor, vector, scalar, gpsimd),
4..19 the DMA queues dma0..dma15 (trn1.md A.2, A.3). Semaphores are numbered densely in
order of first appearance; `Program.semaphore_names[i]` is `owner.sK`.

Access patterns (`AP`) keep trn_isa's meaning: on chip, partitions
`[start, start + partitions)` each see the same free-dim pattern `dims` ((step, count)
in elements, outermost first) from byte `offset`; in HBM there are no partitions, the
partition-mapped dim is `(pstep, partitions)` (elements) and `offset` is the byte address.
"""

from __future__ import annotations

import gc
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import ml_dtypes
import numpy as np
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FileLineColLoc,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    StringAttr,
    UnitAttr,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, Operation

from trnc.dialects.isa_common import dtype_name
from trnc.dialects.trn_isa import AccessPatternAttr, InstructionOp, ProgramOp
from trnc.dialects.trn_isa.attrs import EngineAttr, SemaphoreAttr, ValuePatternAttr
from trnc.machine import TRN1, MachineModel
from trnc.tools.diagnostics import op_source_loc

if TYPE_CHECKING:
    from trnc.simulator.footprint import Footprint

QUEUE_NAMES: tuple[str, ...] = (
    "tensor",
    "vector",
    "scalar",
    "gpsimd",
    *(f"dma{q}" for q in range(TRN1.dma_queues)),
)
"""Queue id -> name: the four compute engines, then the DMA queues (A.2, A.3)."""
FIRST_DMA_QUEUE = 4

NUMPY_DTYPES: dict[str, np.dtype[Any]] = {
    "f32": np.dtype(np.float32),
    "bf16": np.dtype(ml_dtypes.bfloat16),
    "f16": np.dtype(np.float16),
    "f8E4M3FN": np.dtype(ml_dtypes.float8_e4m3fn),
    "f8E4M3": np.dtype(ml_dtypes.float8_e4m3),
    "f8E5M2": np.dtype(ml_dtypes.float8_e5m2),
    "i32": np.dtype(np.int32),
    "ui32": np.dtype(np.uint32),
    "i16": np.dtype(np.int16),
    "ui16": np.dtype(np.uint16),
    "i8": np.dtype(np.int8),
    "ui8": np.dtype(np.uint8),
}
"""trn_isa element type name -> numpy dtype (bf16 and fp8 from ml_dtypes)."""


class DecodeError(Exception):
    """A program the simulator cannot take; the message is for the user."""


@dataclass(frozen=True, slots=True)
class AP:
    """One access pattern: see the module docstring."""

    mem: str
    """"hbm", "sbuf" or "psum"."""
    start: int
    partitions: int
    pstep: int
    """HBM only: element step of the partition-mapped dim (0 on chip)."""
    offset: int
    dims: tuple[tuple[int, int], ...]
    dtype: str
    """trn_isa element type name, e.g. "bf16"; `np_dtype` is its numpy dtype."""
    np_dtype: np.dtype[Any]
    itemsize: int

    @property
    def free_elems(self) -> int:
        """Elements per partition (per row of the partition-mapped dim in HBM)."""
        n = 1
        for _, count in self.dims:
            n *= count
        return n

    @property
    def elems(self) -> int:
        return self.partitions * self.free_elems

    @property
    def nbytes(self) -> int:
        return self.elems * self.itemsize


@dataclass(slots=True)
class Instr:
    """One decoded instruction."""

    index: int
    """Position in program order."""
    opcode: str
    """The op name without the dialect: "matmul", "dma_copy", ..."""
    queue: int
    """Queue id (see `QUEUE_NAMES`)."""
    waits: tuple[tuple[int, int], ...]
    """(semaphore id, value): issue only once `semaphore >= value` is visible."""
    signals: tuple[int, ...]
    """Semaphore ids incremented by 1 when the instruction completes."""
    reads: tuple[AP, ...]
    writes: tuple[AP, ...]
    args: dict[str, Any]
    """Every property by name: an `AP`, a float, an int, a bool, a string (enums), a tuple
    of (step, count) pairs (value patterns), or True for a unit attribute."""
    loc: str
    """Where the instruction came from: `file:line:col` and/or a named location."""
    accesses: tuple[tuple[Footprint, bool], ...] | None = field(default=None, compare=False)
    """(footprint, is_write) of every access that touches a byte, writes first: computed
    on first use by `footprint.accesses` (the race check) and kept. Not set by `decode`
    (the timing model never needs it, and computing the footprints of a large program's
    distinct patterns was ~30 % of its decode) and not compared: it follows from `reads`
    and `writes`."""

    @property
    def is_dma(self) -> bool:
        return self.queue >= FIRST_DMA_QUEUE


@dataclass(frozen=True, slots=True)
class Tensor:
    """One row of the program's HBM tensor table."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    np_dtype: np.dtype[Any]
    address: int
    nbytes: int
    role: str
    """"input", "output", "weight" or "scratch"."""
    weight_file: str | None = None
    """A weight's data: raw bytes in this file (relative to the program's directory) ..."""
    weight_offset: int = 0
    """... at this byte offset, ..."""
    value: np.ndarray[Any, Any] | None = None
    """... or this inline value; either in `source_dtype` (the graph's element type, which
    the HBM tensor may narrow, e.g. int64 to i32) when given, else in `np_dtype`."""
    source_dtype: np.dtype[Any] | None = None

    @property
    def host_dtype(self) -> np.dtype[Any]:
        """The dtype of the tensor's data on the host (the graph's: `source_dtype` when
        the HBM tensor narrows it, else `np_dtype`)."""
        return self.source_dtype if self.source_dtype is not None else self.np_dtype


def _weight_source(attributes: dict[str, Attribute]) -> dict[str, Any]:
    """The `Tensor` fields of a weight's data source (`tile-to-isa` copies the tile
    argument's `tile.weight_file`/`tile.weight_offset`/`tile.value`/`tile.tensor_element`
    onto the `hbm_tensor`)."""
    from trnc.interpreters.numpy_types import dense_to_numpy, numpy_dtype

    fields: dict[str, Any] = {}
    file, offset = attributes.get("tile.weight_file"), attributes.get("tile.weight_offset")
    if isinstance(file, StringAttr) and isinstance(offset, IntegerAttr):
        fields["weight_file"] = file.data
        fields["weight_offset"] = int(offset.value.data)
    value = attributes.get("tile.value")
    if value is not None:
        fields["value"] = dense_to_numpy(value)
    element = attributes.get("tile.tensor_element")
    if element is not None:
        fields["source_dtype"] = numpy_dtype(element)
    return fields


@dataclass
class Program:
    name: str
    tensors: list[Tensor]
    instrs: list[Instr]
    semaphore_names: list[str]
    weights_file: str | None = None
    machine: MachineModel = field(default=TRN1)
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    """What simulations derive from the program alone and keep for the next one (the
    geometry of its access patterns in memory: `memory.Memory`)."""
    index_bounds: dict[str, int] = field(default_factory=dict)
    """Per integer input that indexes a gather, the size of the dim it indexes
    (`INDEX_BOUNDS_ATTR`): seeded random data for it stays within."""

    @property
    def hbm_bytes(self) -> int:
        """Bytes of HBM the program uses: up to the end of its last tensor."""
        return max((t.address + t.nbytes for t in self.tensors), default=0)


_SYNC_PROPS = frozenset({"waits", "signals", "engine", "queue"})
"""Properties that say where and when an instruction runs, not what it does (not in
`Instr.args`)."""
_data = operator.attrgetter("data")
_DType = tuple[str, "np.dtype[Any]", int]
"""(trn_isa name, numpy dtype, itemsize) of an element type."""


def _where(op: Operation) -> str:
    """`Instr.loc` from the op's (or its parents') location; "" when there is none."""
    loc, name = op_source_loc(op)
    if loc is not None and name:
        return f"{loc} ({name})"
    if loc is not None:
        return str(loc)
    return name or ""


def _queue_id(op: InstructionOp) -> int:
    queue = op.properties.get("queue")
    if isinstance(queue, IntegerAttr):
        return FIRST_DMA_QUEUE + int(queue.value.data)
    return QUEUE_NAMES.index(op.machine_engine.value)


def _int(attr: IntegerAttr[Any]) -> int | bool:
    if isinstance(attr.type, IntegerType) and attr.type.width.data == 1:
        return bool(attr.value.data)
    return int(attr.value.data)


def _handler(kind: type[Attribute]) -> Callable[[Any], Any] | None:
    """How `Instr.args` holds a property of class `kind`; None for an access pattern
    (decoded by `_Decoder.ap`)."""
    if issubclass(kind, AccessPatternAttr):
        return None
    if issubclass(kind, IntegerAttr):
        return _int
    if issubclass(kind, FloatAttr):
        return lambda attr: float(attr.value.data)
    if issubclass(kind, EnumAttribute):
        return lambda attr: str(attr.data.value)
    if issubclass(kind, ValuePatternAttr):
        return lambda attr: tuple(attr.dims)
    if issubclass(kind, UnitAttr):
        return lambda attr: True
    if issubclass(kind, StringAttr):
        return _data
    return lambda attr: attr


def _operand_props(kind: type[InstructionOp]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The properties `kind.reads()` and `kind.writes()` look at, in their order, when
    they are the base class's (which list the slots' access patterns); else None."""
    if (
        kind.reads is not InstructionOp.reads
        or kind.writes is not InstructionOp.writes
        or kind._slot_aps is not InstructionOp._slot_aps
    ):
        return None
    reads = tuple(prop for slot in kind.SLOTS if slot.is_read for prop in slot.props)
    writes = tuple(prop for slot in kind.SLOTS if slot.write for prop in slot.props)
    if _SYNC_PROPS.intersection(reads + writes):
        return None
    return reads, writes


def _dims(attr: AccessPatternAttr) -> tuple[tuple[int, int], ...]:
    """The free (step, count) pairs of an access pattern attribute."""
    steps, counts = attr.steps.data, attr.counts.data
    n = len(steps)
    if n != len(counts):
        raise DecodeError(f"access pattern {attr} has {n} steps but {len(counts)} counts")
    if n == 1:
        return ((steps[0].data, counts[0].data),)
    if n == 2:
        return ((steps[0].data, counts[0].data), (steps[1].data, counts[1].data))
    return tuple(zip(map(_data, steps), map(_data, counts), strict=True))


class _Decoder:
    """The memo tables of one `decode`. They live no longer than the call, so the ids of
    the program's attributes (which the program keeps alive) are stable keys.

    Each access pattern attribute is decoded once: `reads`/`writes` take the `AP`s from
    `args`. (Keying `AP`s by the attribute object as well would not help: neither the
    parser nor the compiler shares one attribute object between instructions.)"""

    def __init__(self) -> None:
        self.ap_of_value: dict[tuple[Any, ...], AP] = {}
        """The fields of an `AP` -> the one `AP` with those fields: equal patterns of
        different instructions are decoded into one object."""
        self.dtypes: dict[int, _DType] = {}
        """id of an element type attribute -> what the `AP` keeps of it."""
        self.handlers: dict[type[Attribute], Callable[[Any], Any] | None] = {}
        self.operand_props: dict[type[InstructionOp], tuple[tuple[str, ...], ...] | None] = {}
        self.opcodes: dict[type[InstructionOp], str] = {}
        self.queues: dict[tuple[type[InstructionOp], Any], int] = {}
        self.locs: dict[int, str] = {}
        """id of a location attribute -> `_where` (every instruction has the same parents,
        which `op_source_loc` may consult, so the location alone decides)."""
        self.sems: dict[tuple[str, int], int] = {}
        self.sem_names: list[str] = []

    def dtype(self, attr: Attribute) -> _DType:
        found = self.dtypes.get(id(attr))
        if found is None:
            name = dtype_name(attr)
            if name is None or name not in NUMPY_DTYPES:
                raise DecodeError(f"the simulator does not support element type {attr}")
            np_dtype = NUMPY_DTYPES[name]
            found = self.dtypes[id(attr)] = (name, np_dtype, np_dtype.itemsize)
        return found

    def ap(self, attr: AccessPatternAttr) -> AP:
        name, np_dtype, itemsize = self.dtype(attr.dtype)
        key = (
            attr.memory.data._value_,
            attr.partition_start.data,
            attr.partition_count.data,
            attr.partition_step.data,
            attr.offset.data,
            _dims(attr),
            name,
        )
        found = self.ap_of_value.get(key)
        if found is None:
            found = self.ap_of_value[key] = AP(*key, np_dtype, itemsize)
        return found

    def args(self, props: dict[str, Attribute]) -> dict[str, Any]:
        """`Instr.args` of an instruction with these properties."""
        args: dict[str, Any] = {}
        skip = _SYNC_PROPS
        handlers = self.handlers
        for name, attr in props.items():
            if name in skip:
                continue
            kind = type(attr)
            if kind is AccessPatternAttr:
                args[name] = self.ap(attr)
                continue
            try:
                handler = handlers[kind]
            except KeyError:
                handler = handlers[kind] = _handler(kind)
            args[name] = (
                self.ap(cast(AccessPatternAttr, attr)) if handler is None else handler(attr)
            )
        return args

    def operands(
        self, op: InstructionOp, args: dict[str, Any]
    ) -> tuple[tuple[AP, ...], tuple[AP, ...]]:
        """(reads, writes) of `op`: its `reads()` and `writes()` decoded."""
        kind = type(op)
        try:
            props = self.operand_props[kind]
        except KeyError:
            props = self.operand_props[kind] = _operand_props(kind)
        if props is None:
            return (
                tuple(self.ap(ap) for _, ap in op.reads()),
                tuple(self.ap(ap) for _, ap in op.writes()),
            )
        # `args` holds every property; an `AP` exactly where the property is a pattern.
        reads, writes = props
        return (
            tuple([v for p in reads if type(v := args.get(p)) is AP]),
            tuple([v for p in writes if type(v := args.get(p)) is AP]),
        )

    def opcode(self, op: InstructionOp) -> str:
        kind = type(op)
        found = self.opcodes.get(kind)
        if found is None:
            found = self.opcodes[kind] = op.name.split(".", 1)[1]
        return found

    def queue(self, op: InstructionOp, props: dict[str, Attribute]) -> int:
        # `isinstance` on xDSL's generic attribute classes is slow: avoided where it can be.
        queue = props.get("queue")
        if queue is not None and isinstance(queue, IntegerAttr):
            return FIRST_DMA_QUEUE + int(queue.value.data)
        engine = props.get("engine")
        if type(engine) is not EngineAttr:
            return _queue_id(op)
        key = (type(op), cast(EngineAttr, engine).data)
        found = self.queues.get(key)
        if found is None:
            found = self.queues[key] = _queue_id(op)
        return found

    def sem(self, sem: SemaphoreAttr) -> int:
        """The dense id of a semaphore (in order of first appearance)."""
        key = (sem.owner.data, sem.index.data)
        found = self.sems.get(key)
        if found is None:
            found = self.sems[key] = len(self.sem_names)
            self.sem_names.append(f"{key[0]}.s{key[1]}")
        return found

    def sync(
        self, op: InstructionOp, props: dict[str, Attribute]
    ) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
        """(waits, signals) of `op` in semaphore ids."""
        waits = props.get("waits")
        signals = props.get("signals")
        waited = waits.data if type(waits) is ArrayAttr else op.waits.data
        signalled = signals.data if type(signals) is ArrayAttr else op.signals.data
        sem = self.sem
        return (
            tuple([(sem(w.sem), w.value.data) for w in waited]) if waited else (),
            tuple([sem(s) for s in signalled]) if signalled else (),
        )

    def loc(self, op: Operation) -> str:
        """`Instr.loc`: where the op came from, else its name."""
        location = op.location
        if type(location) is FileLineColLoc:  # what `op_source_loc` gives, formatted
            return f"{location.filename.data}:{location.line.data}:{location.column.data}"
        found = self.locs.get(id(location))
        if found is None:
            found = self.locs[id(location)] = _where(op)
        return found or op.name


def find_programs(module: ModuleOp) -> list[ProgramOp]:
    return [op for op in module.walk() if isinstance(op, ProgramOp)]


def decode(program: ProgramOp | ModuleOp, machine: MachineModel = TRN1) -> Program:
    """Decode a (verified) `trn_isa.program`, or the only one in a module."""
    if isinstance(program, ModuleOp):
        programs = find_programs(program)
        if len(programs) != 1:
            raise DecodeError(
                f"expected exactly one trn_isa.program in the module, found {len(programs)}"
            )
        program = programs[0]
    # Decoding allocates many small objects and frees none; the collector's passes over
    # them (and over the xDSL module) would cost more than the decoding itself.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _decode(program, machine)
    finally:
        if enabled:
            gc.enable()


def tensor_table(program: ProgramOp) -> list[Tensor]:
    """The program's HBM tensors (`trn_isa.hbm_tensor`), decoded."""
    return [
        Tensor(
            name=t.sym_name.data,
            shape=tuple(t.shape),
            dtype=dtype_name(t.element_type) or str(t.element_type),
            np_dtype=NUMPY_DTYPES.get(dtype_name(t.element_type) or "", np.dtype(np.uint8)),
            address=int(t.address.value.data),
            nbytes=t.size_bytes,
            role=str(t.role.data.value),
            **_weight_source(t.attributes),
        )
        for t in program.hbm_tensors()
    ]


def _decode(program: ProgramOp, machine: MachineModel) -> Program:
    tensors = tensor_table(program)
    d = _Decoder()
    instrs: list[Instr] = []
    for index, op in enumerate(program.instructions()):
        props = op.properties
        args = d.args(props)
        reads, writes = d.operands(op, args)
        waits, signals = d.sync(op, props)
        instrs.append(
            Instr(
                index,
                d.opcode(op),
                d.queue(op, props),
                waits,
                signals,
                reads,
                writes,
                args,
                d.loc(op),
            )
        )
    weights = program.weights_file.data if program.weights_file is not None else None
    return Program(
        program.sym_name.data,
        tensors,
        instrs,
        d.sem_names,
        weights,
        machine,
        index_bounds=recorded_index_bounds(program),
    )


OUTPUTS_ATTR = "graph.outputs"
"""`trn_isa.program` attribute: `[[graph output name, HBM tensor name], ...]` in the
graph's order, so a program read back from its text (`load`, `trn-run`) gives every output
under its ONNX name, also one returned as is (whose tensor is `x.1`) or listed twice.
Outputs without elements have no HBM tensor and are not listed."""


def recorded_outputs(program: ProgramOp) -> list[tuple[str, str]] | None:
    """The (graph output name, HBM tensor name) pairs `_record_outputs` put on a
    `trn_isa.program`, or None when it has none (a hand-written program)."""
    attr = program.attributes.get(OUTPUTS_ATTR)
    if not isinstance(attr, ArrayAttr):
        return None
    pairs: list[tuple[str, str]] = []
    for pair in attr.data:
        if not (isinstance(pair, ArrayAttr) and len(pair.data) == 2):
            return None
        name, tensor = pair.data
        if not (isinstance(name, StringAttr) and isinstance(tensor, StringAttr)):
            return None
        pairs.append((name.data, tensor.data))
    return pairs


INDEX_BOUNDS_ATTR = "graph.index_bounds"
"""`trn_isa.program` attribute: `{input name = size : i64, ...}`, per integer input that
indexes a gather, the size of the dim it indexes (`trnc.compiler.index_bounds`), so that
seeded random inputs of a program read back from its text index within the table."""


def recorded_index_bounds(program: ProgramOp) -> dict[str, int]:
    """The `INDEX_BOUNDS_ATTR` of a `trn_isa.program` (empty when it has none)."""
    attr = program.attributes.get(INDEX_BOUNDS_ATTR)
    if not isinstance(attr, DictionaryAttr):
        return {}
    return {
        name: int(value.value.data)
        for name, value in attr.data.items()
        if isinstance(value, IntegerAttr) and value.value.data > 0
    }
