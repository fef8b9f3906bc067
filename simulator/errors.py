"""The simulator's typed errors: each names the instruction(s), their source locations and
the bytes involved, and formats as an MLIR-style diagnostic.

A program that would misbehave on hardware is rejected with one of these, never silently
run (trn1.md A.1, A.4).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SimulationError(Exception):
    """Base of every simulator error. `instrs` are program-order indices, `locs` their
    source locations (same order), `detail` the message after the kind."""

    detail: str
    instrs: tuple[int, ...] = ()
    locs: tuple[str, ...] = ()
    kind: str = field(default="simulation error", init=False)

    def __str__(self) -> str:
        where = self.locs[0] if self.locs else "<program>"
        text = f"{where}: error: {self.kind}: {self.detail}"
        for loc in self.locs[1:]:
            text += f"\n{loc}: note: the other instruction involved"
        return text


@dataclass
class OutOfBoundsError(SimulationError):
    kind: str = field(default="out of bounds", init=False)


@dataclass
class StartPartitionError(SimulationError):
    kind: str = field(default="start-partition rule", init=False)


@dataclass
class ConnectivityError(SimulationError):
    kind: str = field(default="connectivity rule", init=False)


@dataclass
class PsumAccumulateError(SimulationError):
    kind: str = field(default="psum accumulation rule", init=False)


@dataclass
class RaceError(SimulationError):
    kind: str = field(default="race", init=False)


@dataclass
class DeadlockError(SimulationError):
    kind: str = field(default="deadlock", init=False)


@dataclass
class UninitializedReadError(SimulationError):
    kind: str = field(default="read of never-written memory", init=False)


@dataclass
class UnsupportedError(SimulationError):
    kind: str = field(default="unsupported", init=False)
