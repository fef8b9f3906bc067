"""Shared helpers for the simulator's functional-semantics tests
(tests/simulator/test_semantics_*.py): access patterns (`ap`, `sb`, `ps`), instructions,
tensors and memories, and seeded random data.

`RNG` is one generator shared by the modules that use it, as when they were one file
(test_semantics.py): their names sort in the old section order (memory,
tensore_scalare, vector), so a full run draws the same values for each test.
"""

from __future__ import annotations

import math
from typing import Any

import ml_dtypes
import numpy as np

from trnc.simulator.memory import Memory
from trnc.simulator.program import AP, NUMPY_DTYPES, Instr, Program, Tensor

BF16 = np.dtype(ml_dtypes.bfloat16)


def ap(
    mem: str,
    offset: int,
    dims: list[tuple[int, int]],
    dtype: str = "f32",
    start: int = 0,
    partitions: int = 128,
    pstep: int = 0,
) -> AP:
    d = NUMPY_DTYPES[dtype]
    return AP(mem, start, partitions, pstep, offset, tuple(dims), dtype, d, d.itemsize)


def sb(offset: int, n: int, dtype: str = "f32", partitions: int = 128) -> AP:
    """A contiguous [partitions, n] SBUF tile."""
    return ap("sbuf", offset, [(1, n)], dtype, partitions=partitions)


def ps(offset: int, n: int, partitions: int = 128) -> AP:
    return ap("psum", offset, [(1, n)], "f32", partitions=partitions)


def ins(opcode: str, index: int = 0, **args: Any) -> Instr:
    return Instr(index, opcode, 1, (), (), (), (), args, f"test.mlir:{index + 1}:3")


def tensor(name: str, shape: tuple[int, ...], dtype: str, address: int, role: str) -> Tensor:
    d = NUMPY_DTYPES[dtype]
    return Tensor(name, shape, dtype, d, address, math.prod(shape) * d.itemsize, role)


def memory(tensors: list[Tensor] | None = None, strict: bool = True) -> Memory:
    return Memory(Program("t", tensors or [], [], []), strict_uninitialized=strict)


RNG = np.random.default_rng(1234)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def put(mem: Memory, where: AP, values: np.ndarray) -> None:
    mem.write(where, values)
