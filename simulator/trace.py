"""Chrome trace-event JSON of a simulated program, for Perfetto's UI or chrome://tracing.

One track (thread) per engine and DMA queue, one complete ("X") slice per instruction
from its start to when its queue is free again, named by opcode, with its sizes and its
source location in `args`; a flow arrow from each signalling instruction to every
instruction whose semaphore wait it satisfied.
"""

from __future__ import annotations

import json
from typing import Any

from trnc.simulator.program import QUEUE_NAMES, Program
from trnc.simulator.timing import Schedule


def _us(ns: float) -> float:
    return ns / 1e3


def trace_events(program: Program, schedule: Schedule) -> dict[str, Any]:
    """The trace as a JSON-ready dict (`{"traceEvents": [...]}`; times in microseconds)."""
    pid = 1
    events: list[dict[str, Any]] = [
        {"ph": "M", "pid": pid, "name": "process_name", "args": {"name": program.name}}
    ]
    used = sorted({instr.queue for instr in program.instrs})
    for queue in used:
        events.append(
            {
                "ph": "M",
                "pid": pid,
                "tid": queue,
                "name": "thread_name",
                "args": {"name": QUEUE_NAMES[queue]},
            }
        )
        events.append(
            {
                "ph": "M",
                "pid": pid,
                "tid": queue,
                "name": "thread_sort_index",
                "args": {"sort_index": queue},
            }
        )
    for instr in program.instrs:
        i = instr.index
        sizes = {
            name: f"{ap.mem}[{ap.start}:{ap.start + ap.partitions}] x {ap.free_elems} {ap.dtype}"
            for name, ap in instr.args.items()
            if hasattr(ap, "mem")
        }
        events.append(
            {
                "ph": "X",
                "pid": pid,
                "tid": instr.queue,
                "name": instr.opcode,
                "ts": _us(schedule.start_ns[i]),
                "dur": _us(max(schedule.end_ns[i] - schedule.start_ns[i], 0.0)),
                "args": {"index": i, "loc": instr.loc, **sizes},
            }
        )
    flow = 0
    for instr in program.instrs:
        for source in schedule.wait_sources[instr.index]:
            if source < 0:
                continue
            flow += 1
            producer = program.instrs[source]
            events.append(
                {
                    "ph": "s",
                    "pid": pid,
                    "tid": producer.queue,
                    "id": flow,
                    "name": "semaphore",
                    "cat": "sync",
                    "ts": _us(schedule.start_ns[source]),
                }
            )
            events.append(
                {
                    "ph": "f",
                    "bp": "e",
                    "pid": pid,
                    "tid": instr.queue,
                    "id": flow,
                    "name": "semaphore",
                    "cat": "sync",
                    "ts": _us(schedule.start_ns[instr.index]),
                }
            )
    return {"traceEvents": events, "displayTimeUnit": "ns"}


def write_trace(path: str, program: Program, schedule: Schedule) -> None:
    with open(path, "w") as f:
        json.dump(trace_events(program, schedule), f)
