"""Functional execution of a scheduled program on data: `Execution(program, memory)`,
then `issue(batch)` for successive batches of instructions in order of scheduled start (as
`timing.schedule` gives them to its `on_started`), and `finish()`.

Instructions run one after another in order of scheduled start, an order the
happens-before relation allows, so the outputs, the warnings and the first error are those
of that order. Every instruction runs in this process: there is no helper process and no
reordering, and each matmul's arithmetic goes through one function
(`semantics.matmul_f32`), so the same program and inputs give the same bytes on every run
(docs/SIMULATOR.md, "Determinism").
"""

from __future__ import annotations

import numpy as np

from trnc.simulator.memory import Memory
from trnc.simulator.program import Program
from trnc.simulator.semantics import execute


class Execution:
    """Runs `program` on `memory` as the schedule orders it (see the module docstring)."""

    def __init__(self, program: Program, memory: Memory) -> None:
        self.program = program
        self.memory = memory

    def issue(self, batch: list[int]) -> None:
        """Run `batch` (instructions in start order, after those of earlier batches)."""
        instrs, memory = self.program.instrs, self.memory
        with np.errstate(all="ignore"):
            for index in batch:
                execute(instrs[index], memory)

    def finish(self) -> None:
        """Copy in the loads still pending (`Memory.flush`): memory is then as written."""
        self.memory.flush()
