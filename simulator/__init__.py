"""The trn_isa simulator: strict, timed and functional.

`simulate(module, inputs)` decodes the module's `trn_isa.program` once
(`program.decode`), schedules it on the engine and DMA queues with trn1.md A.2-A.4's
costs, latencies, DMA model and semaphores (`timing.schedule`, which also detects
deadlock), checks that every pair of conflicting accesses from different queues is
ordered by semaphores (`hazards.check_races`) and, unless `timing_only`, executes every
instruction on real data in order of scheduled start, as the schedule fixes start times
(`execution.Execution`, running `semantics.execute` on `memory.Memory`, which checks
bounds, PSUM accumulation and never-written reads). A deadlock, then a race, is reported
before any error the execution met. It returns the output tensors and a
`Report`.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from trnc.simulator.errors import SimulationError
from trnc.simulator.program import Program, Tensor, decode
from trnc.simulator.report import Report, build_report


@dataclass
class SimulationResult:
    """Outputs by tensor name and the report; unpacks as `outputs, report = simulate(...)`.
    `schedule` is the timing schedule (start, end, visibility of every instruction)."""

    outputs: dict[str, np.ndarray]
    report: Report
    schedule: Any

    def __iter__(self) -> Iterator[Any]:
        return iter((self.outputs, self.report))


class InputError(Exception):
    """Inputs that do not match the program's tensor table; the message is for the user."""


def random_input(
    shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator, bound: int | None = None
) -> np.ndarray:
    """Seeded random data for a tensor nobody gave: uniform in [-1, 1); integers in
    [0, bound) (gather indices: rows of the table they index), else 0..9."""
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 10 if bound is None else bound, size=shape).astype(dtype)
    values = rng.random(size=shape, dtype=np.float32)
    values *= 2.0
    values -= 1.0
    return values.astype(dtype, copy=False)


def _stored_weight(tensor: Tensor, weights_dir: Path | None) -> Any:
    """A weight's data from the source its `hbm_tensor` names (an inline value, or bytes of
    a raw weights file relative to `weights_dir`), or None when it names none. A weights
    file that is missing, unreadable or too short is an `InputError` naming it: running on
    made-up weights would be a silently wrong answer."""
    dtype = tensor.host_dtype
    if tensor.value is not None:
        return np.broadcast_to(np.asarray(tensor.value, dtype), tensor.shape)
    if tensor.weight_file is None:
        return None
    path = Path(tensor.weight_file)
    if not path.is_absolute():
        if weights_dir is None:
            raise InputError(
                f"weight '{tensor.name}': no directory to find its weights file "
                f"'{tensor.weight_file}' in"
            )
        path = weights_dir / path
    count = int(np.prod(tensor.shape))
    try:
        data = np.fromfile(path, dtype=dtype, count=count, offset=tensor.weight_offset)
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise InputError(
            f"weight '{tensor.name}': cannot read weights file '{path}': {reason}"
        ) from None
    if data.size != count:
        end = tensor.weight_offset + count * dtype.itemsize
        raise InputError(
            f"weight '{tensor.name}' needs bytes [{tensor.weight_offset}, {end}) of weights "
            f"file '{path}', which is shorter"
        )
    return data.reshape(tensor.shape)


def prepare_inputs(
    program: Program,
    inputs: dict[str, np.ndarray],
    *,
    weights_dir: Path | None,
    seed: int,
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Every input and weight tensor's data, and notes on what was filled in and how."""
    known = {t.name: t for t in program.tensors}
    for name in inputs:
        if name not in known:
            raise InputError(
                f"input '{name}' is not a tensor of program '{program.name}' "
                f"(its tensors: {', '.join(known)})"
            )
    weights: dict[str, np.ndarray] = {}
    notes: list[str] = []
    if program.weights_file and weights_dir is not None:
        path = weights_dir / program.weights_file
        try:
            with np.load(path, allow_pickle=False) as archive:
                weights = {k: archive[k] for k in archive.files}
        except Exception as error:  # missing, unreadable, not an .npz
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise InputError(f"cannot read the weights file '{path}': {reason}") from None
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {}
    random_names: list[str] = []
    for tensor in program.tensors:
        if tensor.role not in ("input", "weight"):
            continue
        given = inputs.get(tensor.name, weights.get(tensor.name))
        if given is None:
            given = _stored_weight(tensor, weights_dir)
        if given is None:
            bound = program.index_bounds.get(tensor.name)
            data[tensor.name] = random_input(tensor.shape, tensor.np_dtype, rng, bound)
            random_names.append(tensor.name)
            continue
        array = np.asarray(given)
        if tuple(array.shape) != tensor.shape:
            raise InputError(
                f"input '{tensor.name}' has shape {tuple(array.shape)}, "
                f"the program expects {tensor.shape}"
            )
        if tensor.np_dtype.kind in "iu" and array.dtype.kind in "iu" and array.size:
            info = np.iinfo(tensor.np_dtype)
            low, high = int(array.min()), int(array.max())
            if low < info.min or high > info.max:  # would wrap when narrowed (int64 -> i32)
                raise InputError(
                    f"{tensor.role} '{tensor.name}' holds integers in [{low}, {high}], "
                    f"outside its HBM tensor's {tensor.dtype}"
                )
        data[tensor.name] = array.astype(tensor.np_dtype, copy=False)
    if random_names:
        notes.append(f"filled with seeded random data (seed {seed}): {', '.join(random_names)}")
    return data, notes


def _execute(
    program: Program,
    inputs: dict[str, np.ndarray],
    *,
    strict_uninitialized: bool,
    seed: int,
    weights_dir: Path | None,
) -> tuple[Any, list[str], list[str], dict[str, np.ndarray]]:
    """Schedule, check races and run the program on data (`execution.Execution`):
    instructions run in order of scheduled start as the timing simulation fixes their
    start times. A `DeadlockError` from the schedule, then a `RaceError`, win over any
    error the execution met (as if they had been found first). Returns the schedule, the
    notes on inputs, the warnings and the outputs."""
    from trnc.simulator.execution import Execution
    from trnc.simulator.hazards import check_races
    from trnc.simulator.memory import Memory
    from trnc.simulator.timing import schedule

    data, notes = prepare_inputs(program, inputs, weights_dir=weights_dir, seed=seed)
    enabled = gc.isenabled()
    gc.disable()  # execution makes no reference cycles; see timing.schedule
    try:
        memory = Memory(program, strict_uninitialized=strict_uninitialized)
        for name, array in data.items():
            memory.load_tensor(name, array)
        execution = Execution(program, memory)
        failure: SimulationError | None = None

        def started(batch: list[int]) -> None:
            nonlocal failure
            if failure is None:
                try:
                    execution.issue(batch)
                except SimulationError as error:
                    failure = error

        plan = schedule(program, on_started=started)
        check_races(program, plan)
        if failure is not None:
            raise failure
        execution.finish()
    finally:
        if enabled:
            gc.enable()
    outputs = {t.name: memory.read_tensor(t.name) for t in program.tensors if t.role == "output"}
    return plan, notes, [str(w) for w in memory.warnings], outputs


HOST_MEMORY_LIMIT = 8 * 2**30
"""The most host memory a functional simulation may need (`host_bytes`); more is refused
(timing-only simulation needs none of it)."""


def host_bytes(program: Program) -> int:
    """Host memory a functional simulation of `program` needs at least: its HBM, a
    written-map of the same size, and the data of its inputs and weights."""
    data = sum(t.nbytes for t in program.tensors if t.role in ("input", "weight"))
    return 2 * program.hbm_bytes + data


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_host_memory(program: Program) -> None:
    """Refuse, with the sizes, a functional simulation that cannot fit in host memory
    (above `HOST_MEMORY_LIMIT`, or above the memory the host has available)."""
    need = host_bytes(program)
    available = _available_memory()
    limit = HOST_MEMORY_LIMIT if available is None else min(HOST_MEMORY_LIMIT, available)
    if need <= limit:
        return
    largest = max(program.tensors, key=lambda t: t.nbytes)
    gib = 2**30
    raise InputError(
        f"program '{program.name}' uses {program.hbm_bytes / gib:.2f} GiB of HBM (largest "
        f"tensor '{largest.name}': {largest.nbytes / gib:.2f} GiB); simulating it on data needs "
        f"{need / gib:.2f} GiB of host memory, over the {limit / gib:.2f} GiB limit"
        f"{' (memory available)' if limit != HOST_MEMORY_LIMIT else ''}; "
        "--timing-only simulates its timing without the data"
    )


def simulate(
    module: ModuleOp | Program,
    inputs: dict[str, np.ndarray] | None = None,
    *,
    timing_only: bool = False,
    strict_uninitialized: bool = False,
    seed: int = 0,
    weights_dir: str | Path | None = None,
) -> SimulationResult:
    """Simulate the module's `trn_isa.program`; see the module docstring.

    Raises a `SimulationError` subclass (deadlock, race, out of bounds, PSUM
    accumulation, never-written read with `strict_uninitialized`) for a program that would
    misbehave on hardware, and `InputError` for inputs that do not fit the program.
    """
    from trnc.simulator.hazards import check_races
    from trnc.simulator.timing import schedule

    start = time.perf_counter()
    program = module if isinstance(module, Program) else decode(module)
    if not timing_only:
        check_host_memory(program)
    notes: list[str] = []
    warnings: list[str] = []
    outputs: dict[str, np.ndarray] = {}
    if timing_only:
        plan = schedule(program)
        check_races(program, plan)
    else:
        from trnc.simulator.semantics import single_threaded_blas

        with single_threaded_blas():  # the same sums whatever the thread count
            plan, notes, warnings, outputs = _execute(
                program,
                inputs or {},
                strict_uninitialized=strict_uninitialized,
                seed=seed,
                weights_dir=Path(weights_dir) if weights_dir is not None else None,
            )
    wall = time.perf_counter() - start
    report = build_report(
        program, plan, timing_only=timing_only, wall_seconds=wall, warnings=warnings, notes=notes
    )
    return SimulationResult(outputs, report, plan)


__all__ = ["InputError", "Report", "SimulationError", "SimulationResult", "simulate"]
