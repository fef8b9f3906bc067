"""Functional execution of a scheduled program on data: `Execution(program, memory,
worker)`, then `issue(batch)` for successive batches of instructions in order of scheduled
start (as `timing.schedule` gives them to its `on_started`), `poll()` as often as
convenient, and `finish()`.

Order. Instructions are taken in order of scheduled start (an order the happens-before
relation allows). One may run before an earlier one that has to wait (below) when the two
commute: their byte boxes (memory, partitions, free bytes; `footprint.py`) share nothing
that either writes. Running commuting instructions in either order computes the same
bytes, so the outputs and the first error in start order are those of running in start
order; when an instruction fails while earlier ones wait (also when it is retried), those
are finished first and the earliest failure is raised; warnings are listed in start order
(`finish` sorts them).

Overlap. A large matmul into a flat fp32 PSUM matrix (`semantics.deferrable`) has its
checks and bookkeeping done in order here (`semantics.prepare_matmul`), and its GEMM is
submitted to the helper process (`gemm_worker`, which runs GEMMs in submission order,
reading operands that are pending loads from the shared HBM), so that GEMMs use the
second core while this one goes on. An instruction that touches a PSUM bank with a GEMM
still pending, or whose bytes conflict with a parked instruction's, is parked until the
GEMM it waits for is done; instructions that commute with every parked one go on. A later
GEMM on the same bank needs no wait (the worker keeps order); one that finds every
operand slot in use (or `MAX_IN_FLIGHT` GEMMs in flight) waits, and once
`MAX_PARKED` instructions are parked `issue` waits for the GEMM the earliest needs (what
follows a parked instruction mostly conflicts with it, so looking further ahead costs
more than it finds). Without a worker, or until it is ready, GEMMs run inline and nothing
is parked.
"""

from __future__ import annotations

import time

import numpy as np

from trnc.simulator.errors import SimulationError
from trnc.simulator.footprint import MEM_IDS, Footprint, accesses
from trnc.simulator.gemm_worker import GemmWorker
from trnc.simulator.memory import Memory
from trnc.simulator.program import Program
from trnc.simulator.semantics import deferrable_flags, execute, prepare_matmul

_PSUM = MEM_IDS["psum"]
MAX_PARKED = 64
"""Parked instructions beyond which `issue` waits rather than looks further ahead."""
POLL_EVERY_S = 2e-5
"""How often `Execution.poll` reads the worker's answers (a system call) at most."""


class Execution:
    """Runs `program` on `memory` as the schedule orders it, overlapping GEMMs (see the
    module docstring). `issue(batch)` runs or submits instructions (parking some);
    `poll()` runs parked ones whose GEMMs are done; `finish()` runs the rest as their
    GEMMs complete. The caller reserves and releases the worker (`GemmWorker.get`)."""

    def __init__(
        self,
        program: Program,
        memory: Memory,
        worker: GemmWorker | None = None,
    ) -> None:
        self.program = program
        self.memory = memory
        self._bank_bytes = program.machine.psum_bank_bytes
        self._worker = worker
        self._bank_ticket: dict[int, int] = {}
        """PSUM bank -> ticket of the last GEMM submitted that writes it."""
        self._parked: list[int] = []
        """Instructions waiting for GEMMs (or for parked ones they conflict with), in
        start order."""
        self._blocked: list[tuple[Footprint, bool]] = []
        """The parked instructions' accesses: (footprint, is_write)."""
        self._wake = 0
        """Retry the parked instructions once the worker has finished this many GEMMs
        (0: none waits for a GEMM)."""
        self._polled = 0.0
        """When `poll` last read the worker's answers (`time.perf_counter`)."""
        self._banks_of: dict[int, tuple[int, ...]] = program.cache.setdefault("psum_banks", {})
        """Instruction -> the PSUM banks it touches (kept by the program)."""
        self._deferrable = deferrable_flags(program)
        self._rank: dict[int, int] = {}
        """Instruction -> its position in start order (as `issue` was given them)."""

    # --- what an instruction touches --------------------------------------------------

    def _banks(self, index: int, writes_only: bool = False) -> tuple[int, ...]:
        """The PSUM banks instruction `index` touches (writes, if `writes_only`), from the
        free-byte boxes of its footprints."""
        size = self._bank_bytes
        banks: list[int] = []
        for fp, w in accesses(self.program.instrs[index]):
            if fp.mem == _PSUM and (w or not writes_only):
                banks.extend(range(fp.lo // size, (fp.hi - 1) // size + 1))
        return tuple(banks)

    def _pending(self, banks: tuple[int, ...]) -> int:
        """The ticket to wait for before touching `banks` (0: none pending)."""
        worker = self._worker
        if worker is None or not banks:
            return 0
        need = max(self._bank_ticket.get(b, 0) for b in banks)
        return need if need > worker.done else 0

    def _conflicts(self, index: int) -> bool:
        """Whether instruction `index` touches bytes a parked one writes, or writes bytes
        a parked one touches (byte boxes: conservative)."""
        blocked = self._blocked
        if not blocked:
            return False
        for fp, w in accesses(self.program.instrs[index]):
            for other, ow in blocked:
                if (
                    (w or ow)
                    and fp.mem == other.mem
                    and fp.plo < other.phi
                    and other.plo < fp.phi
                    and fp.lo < other.hi
                    and other.lo < fp.hi
                ):
                    return True
        return False

    # --- running ----------------------------------------------------------------------

    def _touched_banks(self, index: int) -> tuple[int, ...]:
        banks = self._banks_of.get(index)
        if banks is None:
            banks = self._banks_of[index] = self._banks(index)
        return banks

    def _run(self, index: int) -> bool:
        """Run or submit instruction `index` unless it must wait; whether it ran."""
        instr = self.program.instrs[index]
        if self._deferrable[index]:
            if self._conflicts(index):
                return False
            gemm = prepare_matmul(instr, self.memory)
            if gemm is not None:
                if self._worker is None or not self._worker.ready():
                    gemm.run()  # no worker (yet): inline, into the same PSUM
                    return True
                ticket = self._worker.submit(gemm)
                for b in self._banks(index, writes_only=True):
                    self._bank_ticket[b] = ticket
            return True
        need = self._pending(self._touched_banks(index))
        if need or self._conflicts(index):
            if need:
                self._wait_for(need)
            return False
        execute(instr, self.memory)
        return True

    def _wait_for(self, ticket: int) -> None:
        """Note that a parked instruction can go on once GEMM `ticket` is done."""
        if not self._wake or ticket < self._wake:
            self._wake = ticket

    def _park(self, index: int) -> None:
        self._parked.append(index)
        self._blocked.extend(accesses(self.program.instrs[index]))

    def _retry(self) -> None:
        """Run the parked instructions that no longer wait, in start order."""
        parked = self._parked
        self._parked, self._blocked, self._wake = [], [], 0
        for index in parked:
            try:
                ran = self._run(index)
            except SimulationError:
                self._settle()  # those still parked come before it: their failure first
                raise
            if not ran:
                self._park(index)

    def _run_or_park(self, index: int) -> None:
        try:
            ran = self._run(index)
        except SimulationError:
            self._settle()  # an earlier parked instruction's failure comes first
            raise
        if not ran:
            self._park(index)

    def _settle(self) -> None:
        """Finish every GEMM and run every parked instruction, in start order."""
        worker = self._worker
        while self._parked:
            if worker is not None:
                worker.wait(worker.submitted)
            parked, self._parked, self._blocked, self._wake = self._parked, [], [], 0
            for index in parked:
                self._run_or_park(index)

    def issue(self, batch: list[int]) -> None:
        """Run `batch` (instructions in start order, after those of earlier batches),
        submitting deferrable GEMMs and parking what must wait for them (when
        `MAX_PARKED` wait, first waiting for the GEMM the earliest of them needs)."""
        rank = self._rank
        with np.errstate(all="ignore"):
            for index in batch:
                rank[index] = len(rank)
                self.poll()
                if len(self._parked) >= MAX_PARKED and self._worker is not None:
                    self._worker.wait(self._wake)
                    self._retry()
                self._run_or_park(index)

    def poll(self) -> None:
        """Run the parked instructions whose GEMMs have completed since (cheap when none
        have: the worker's answers are read at most every `POLL_EVERY_S`)."""
        worker = self._worker
        if not self._wake or worker is None:
            return
        now = time.perf_counter()
        if worker.done < self._wake and now - self._polled < POLL_EVERY_S:
            return
        self._polled = now
        if worker.poll() >= self._wake:
            with np.errstate(all="ignore"):
                self._retry()

    def finish(self) -> None:
        """Run the parked instructions as their GEMMs complete, then wait for every
        GEMM."""
        with np.errstate(all="ignore"):
            self._settle()
        if self._worker is not None:
            self._worker.wait(self._worker.submitted)
        self.memory.flush()
        # Parked instructions ran after later ones that commute with them: list the
        # warnings as start order would have met them.
        rank = self._rank
        self.memory.warnings.sort(key=lambda w: rank.get(w.instrs[0], -1) if w.instrs else -1)
