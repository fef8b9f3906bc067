"""The memoised `decode` gives exactly the `Program` the straightforward decoder gave.

`reference_decode` is a copy of `decode` as it was before it was made fast (every
property decoded by an `isinstance` chain, every access pattern decoded again for
`reads()`/`writes()`, every location resolved again); the tensor table, which was never
changed, is the shared `tensor_table`. Both decoders run on the bundled
examples, on every program of the trn_isa dialect's FileCheck tests (which use every
instruction) and on compiled models, and the results are compared field by field,
including the types of the values (`True` and `1` are equal in Python, their `repr`s are
not). `Instr.accesses`, which the reference decoder filled in and `decode` now leaves
to its first use, is compared as `footprint.accesses` computes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
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
from xdsl.utils.exceptions import ParseError

import trnc
from trnc.dialects.isa_common import dtype_name
from trnc.dialects.trn_isa import AccessPatternAttr, InstructionOp, ProgramOp
from trnc.dialects.trn_isa.attrs import ValuePatternAttr
from trnc.machine import TRN1, MachineModel
from trnc.simulator.footprint import accesses
from trnc.simulator.program import (
    AP,
    FIRST_DMA_QUEUE,
    NUMPY_DTYPES,
    QUEUE_NAMES,
    DecodeError,
    Instr,
    Program,
    Tensor,
    decode,
    find_programs,
    tensor_table,
)
from trnc.tools.context import parse_source
from trnc.tools.diagnostics import op_source_loc

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ISA_TESTS = ROOT / "tests" / "filecheck" / "dialects" / "trn_isa" / "ops.mlir"

# --- the decoder before memoisation (reference) ----------------------------------------


def _ref_ap(attr: AccessPatternAttr) -> AP:
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


def _ref_value(attr: Attribute) -> Any:
    if isinstance(attr, AccessPatternAttr):
        return _ref_ap(attr)
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


def _ref_loc(op: Operation) -> str:
    loc, name = op_source_loc(op)
    if loc is not None and name:
        return f"{loc} ({name})"
    if loc is not None:
        return str(loc)
    return name or op.name


def _ref_queue_id(op: InstructionOp) -> int:
    queue = op.properties.get("queue")
    if isinstance(queue, IntegerAttr):
        return FIRST_DMA_QUEUE + int(queue.value.data)
    return QUEUE_NAMES.index(op.machine_engine.value)


def reference_decode(program: ProgramOp | ModuleOp, machine: MachineModel = TRN1) -> Program:
    if isinstance(program, ModuleOp):
        programs = find_programs(program)
        if len(programs) != 1:
            raise DecodeError(
                f"expected exactly one trn_isa.program in the module, found {len(programs)}"
            )
        program = programs[0]
    tensors = tensor_table(program)  # the tensor table was never made faster: shared
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
            name: _ref_value(attr)
            for name, attr in op.properties.items()
            if name not in ("waits", "signals", "engine", "queue")
        }
        instrs.append(
            Instr(
                index=index,
                opcode=op.name.split(".", 1)[1],
                queue=_ref_queue_id(op),
                waits=tuple(
                    (sem_id(w.sem.owner.data, w.sem.index.data), w.value.data) for w in op.waits
                ),
                signals=tuple(sem_id(s.owner.data, s.index.data) for s in op.signals),
                reads=tuple(_ref_ap(ap) for _, ap in op.reads()),
                writes=tuple(_ref_ap(ap) for _, ap in op.writes()),
                args=args,
                loc=_ref_loc(op),
            )
        )
    for instr in instrs:
        accesses(instr)
    weights = program.weights_file.data if program.weights_file is not None else None
    return Program(program.sym_name.data, tensors, instrs, sem_names, weights, machine)


# --- comparison ---------------------------------------------------------------------


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            type(a) is type(b)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=True)
        )
    return type(a) is type(b) and a == b and repr(a) == repr(b)


def assert_same_program(new: Program, ref: Program) -> None:
    """Every field of both programs equal, with equal types and `repr`s."""
    assert (new.name, new.semaphore_names, new.weights_file, new.machine) == (
        ref.name,
        ref.semaphore_names,
        ref.weights_file,
        ref.machine,
    )
    assert len(new.tensors) == len(ref.tensors)
    for t_new, t_ref in zip(new.tensors, ref.tensors, strict=True):
        for name in Tensor.__dataclass_fields__:
            assert _same_value(getattr(t_new, name), getattr(t_ref, name)), (t_new.name, name)
    assert len(new.instrs) == len(ref.instrs)
    for i_new, i_ref in zip(new.instrs, ref.instrs, strict=True):
        assert i_new == i_ref
        assert i_new.accesses is None
        assert accesses(i_new) == i_ref.accesses
        for name in Instr.__dataclass_fields__:
            a, b = getattr(i_new, name), getattr(i_ref, name)
            assert _same_value(a, b), (i_ref.index, i_ref.loc, name, a, b)
        assert list(i_new.args) == list(i_ref.args)
        for key, value in i_ref.args.items():
            assert type(i_new.args[key]) is type(value), (i_ref.loc, key)
        for ap in (*i_new.reads, *i_new.writes):
            assert type(ap.mem) is str and type(ap.dtype) is str


def _isa_test_programs() -> list[ProgramOp]:
    """Every program of the trn_isa dialect's FileCheck tests that parses."""
    programs: list[ProgramOp] = []
    for k, chunk in enumerate(ISA_TESTS.read_text().split("// -----")):
        try:
            module = parse_source(chunk, f"{ISA_TESTS.name}:{k}")
        except (ParseError, Exception):  # a chunk meant to fail elsewhere
            continue
        programs.extend(find_programs(module))
    return programs


# --- tests --------------------------------------------------------------------------


def test_same_as_reference_on_the_bundled_isa_example() -> None:
    path = EXAMPLES / "matmul_gelu.mlir"
    module = parse_source(path.read_text(), str(path))
    assert_same_program(decode(module), reference_decode(module))


def test_same_as_reference_on_every_isa_dialect_test_program() -> None:
    programs = _isa_test_programs()
    opcodes: set[str] = set()
    for program in programs:
        new = decode(program)
        assert_same_program(new, reference_decode(program))
        opcodes.update(instr.opcode for instr in new.instrs)
    assert len(programs) >= 1
    # The file exercises most instructions (and so every kind of property).
    assert {"matmul", "dma_copy", "activation", "tensor_tensor"} <= opcodes


BERT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@pytest.mark.parametrize(
    ("model", "shapes", "dtype"),
    [
        ("mlp.onnx", {"x": [8, 64]}, "fp32"),
        ("bert_tiny.onnx", {name: [1, 16] for name in BERT_INPUTS}, "bf16"),
    ],
)
def test_same_as_reference_on_a_compiled_model(
    model: str, shapes: dict[str, list[int]], dtype: str
) -> None:
    compiled = trnc.compile(EXAMPLES / model, input_shapes=shapes, dtype=dtype)
    module = compiled.module
    new = decode(module)
    assert_same_program(new, reference_decode(module))
    # Equal access patterns of different instructions are one object after decoding.
    aps = [ap for instr in new.instrs for ap in (*instr.reads, *instr.writes)]
    assert len({id(ap) for ap in aps}) == len(set(aps))


def test_unsupported_element_type_is_a_decode_error() -> None:
    text = (
        (EXAMPLES / "matmul_gelu.mlir")
        .read_text()
        .replace(
            "#trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f32>",
            "#trn_isa.ap<sbuf[0:128] + 0, [[1, 128]], f64>",
            1,
        )
    )
    assert "f64" in text
    module = parse_source(text, "bad.mlir")
    with pytest.raises(DecodeError, match="element type f64"):
        reference_decode(module)
    with pytest.raises(DecodeError, match="element type f64"):
        decode(module)
