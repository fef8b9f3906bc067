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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ml_dtypes
import numpy as np
from xdsl.dialects.builtin import (
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
from trnc.dialects.trn_isa.attrs import ValuePatternAttr
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
    accesses: tuple[tuple[Footprint, bool], ...] | None = None
    """(footprint, is_write) of every access that touches a byte, writes first: set by
    `decode`, else computed on first use by `footprint.accesses`."""

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

    @property
    def hbm_bytes(self) -> int:
        """Bytes of HBM the program uses: up to the end of its last tensor."""
        return max((t.address + t.nbytes for t in self.tensors), default=0)


def _ap(attr: AccessPatternAttr) -> AP:
    name = dtype_name(attr.dtype)
    if name is None or name not in NUMPY_DTYPES:
        raise DecodeError(f"the simulator does not support element type {attr.dtype}")
    np_dtype = NUMPY_DTYPES[name]
    return AP(
        mem=attr.mem.value,
        start=attr.partition_start.data,
        partitions=attr.partition_count.data,
        pstep=attr.partition_step.data,
        offset=attr.offset.data,
        dims=tuple((s.data, c.data) for s, c in zip(attr.steps, attr.counts, strict=True)),
        dtype=name,
        np_dtype=np_dtype,
        itemsize=np_dtype.itemsize,
    )


def _value(attr: Attribute) -> Any:
    if isinstance(attr, AccessPatternAttr):
        return _ap(attr)
    if isinstance(attr, IntegerAttr):
        if isinstance(attr.type, IntegerType) and attr.type.width.data == 1:
            return bool(attr.value.data)
        return int(attr.value.data)
    if isinstance(attr, FloatAttr):
        return float(attr.value.data)
    if isinstance(attr, EnumAttribute):
        return str(attr.data.value)
    if isinstance(attr, ValuePatternAttr):
        return tuple(attr.dims)
    if isinstance(attr, UnitAttr):
        return True
    if isinstance(attr, StringAttr):
        return attr.data
    return attr


def _loc(op: Operation) -> str:
    loc, name = op_source_loc(op)
    if loc is not None and name:
        return f"{loc} ({name})"
    if loc is not None:
        return str(loc)
    return name or op.name


def _queue_id(op: InstructionOp) -> int:
    queue = op.properties.get("queue")
    if isinstance(queue, IntegerAttr):
        return FIRST_DMA_QUEUE + int(queue.value.data)
    return QUEUE_NAMES.index(op.machine_engine.value)


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

    tensors = [
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
    sem_ids: dict[tuple[str, int], int] = {}
    sem_names: list[str] = []

    def sem_id(owner: str, index: int) -> int:
        key = (owner, index)
        if key not in sem_ids:
            sem_ids[key] = len(sem_names)
            sem_names.append(f"{owner}.s{index}")
        return sem_ids[key]

    instrs: list[Instr] = []
    for index, op in enumerate(program.instructions()):
        args = {
            name: _value(attr)
            for name, attr in op.properties.items()
            if name not in ("waits", "signals", "engine", "queue")
        }
        instrs.append(
            Instr(
                index=index,
                opcode=op.name.split(".", 1)[1],
                queue=_queue_id(op),
                waits=tuple(
                    (sem_id(w.sem.owner.data, w.sem.index.data), w.value.data) for w in op.waits
                ),
                signals=tuple(sem_id(s.owner.data, s.index.data) for s in op.signals),
                reads=tuple(_ap(ap) for _, ap in op.reads()),
                writes=tuple(_ap(ap) for _, ap in op.writes()),
                args=args,
                loc=_loc(op),
            )
        )
    from trnc.simulator.footprint import accesses

    for instr in instrs:
        accesses(instr)
    weights = program.weights_file.data if program.weights_file is not None else None
    return Program(program.sym_name.data, tensors, instrs, sem_names, weights, machine)
