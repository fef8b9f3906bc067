"""Where the simulated time goes: a per-node profile of a scheduled program.

`build_profile(program, schedule)` reads a decoded `Program` and its timing `Schedule`
(`timing.schedule`) and returns a `Profile`:

- one `Row` per ONNX node (the name in each instruction's `loc`; instructions without one
  go to the row `(unknown)`), per op type (the graph op kind of each node, when the caller
  knows it: `node_types`), and per instruction opcode: instructions, critical-path time,
  engine busy time (per compute engine) and DMA queue busy time, matmul FLOPs, DMA payload
  and HBM bytes. FLOPs and bytes come from the simulator's own cost functions
  (`costs.matmul_flops`, `costs.dma_info`), so each column sums to the schedule's total.
- the critical path: from the instruction whose results are visible last, walked back to
  time 0 through what held each instruction's start: the previous instruction of its
  queue (queue order), a result of its own engine it had to see (A.2 stall), or the
  semaphore signal that released its last wait (`Schedule.wait_sources`). The path is a
  list of `Segment`s that tile [0, simulated time] exactly; each has a cause: `DMA
  latency` (a transfer's fixed latency and descriptor set-up), `DMA transfer` (its bytes
  flowing), `<engine> busy` (a compute instruction's cost), `<engine> result latency`
  (the cycles before its results are visible), `semaphore wait on <queue>` (from the
  signalling instruction's results being visible to the waiter's start: the semaphore's
  visibility delay) or `idle` (a gap nothing in the schedule explains; none in practice).
  Per node, per op type, per opcode and per cause the path's time sums to the simulated
  time.
- achieved HBM bandwidth and each engine's busy fraction (and TensorE's FLOP rate) over
  time, in `bins` equal time bins: each transfer's HBM bytes are spread evenly over its
  data phase (after its fixed latency), each instruction's busy time over its span.

`Profile.table()` formats it for a terminal (`trn-run --profile`); `simulator/timeline.py`
draws the engine timeline and `tools/report_html.py` writes the HTML report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trnc.simulator.costs import dma_info, matmul_flops
from trnc.simulator.program import FIRST_DMA_QUEUE, QUEUE_NAMES, Instr, Program
from trnc.simulator.timing import Schedule

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp

UNKNOWN = "(unknown)"
"""The row of instructions whose location names no ONNX node."""
ENGINES = QUEUE_NAMES[:FIRST_DMA_QUEUE]
"""The compute engines' queue names (tensor, vector, scalar, gpsimd)."""
BINS = 40
"""Time bins of the bandwidth and utilisation series (default)."""
NODE_WIDTH = 46
"""Characters of a node name in `Profile.table` (longer ones are shortened: `_clip`)."""

_NAMED = re.compile(r"^.*:\d+:\d+ \((?P<name>.*)\)$")
_POSITION = re.compile(r"^.*:\d+:\d+$")


def node_name(loc: str) -> str:
    """The ONNX node named by an instruction's `loc` (`Instr.loc`: `file:line:col (name)`,
    `name`, `file:line:col`, or the op's name `trn_isa.<opcode>` when it has no location),
    or `UNKNOWN`."""
    named = _NAMED.match(loc)
    if named:
        return named["name"] or UNKNOWN
    if not loc or _POSITION.match(loc) or loc.startswith("trn_isa."):
        return UNKNOWN
    return loc


def node_types(module: ModuleOp) -> dict[str, str]:
    """ONNX node name -> the kind of the graph op(s) it became (`gemm`, `relu`, ...; kinds
    joined by `+` when a node became several), from a graph-level module."""
    from trnc.tools.diagnostics import op_source_loc

    kinds: dict[str, list[str]] = {}
    for op in module.walk():
        if not op.name.startswith("graph."):
            continue
        _, name = op_source_loc(op)
        if name:
            found = kinds.setdefault(name, [])
            kind = op.name.split(".", 1)[1]
            if kind not in found:
                found.append(kind)
    return {name: "+".join(found) for name, found in kinds.items()}


@dataclass
class Row:
    """What one node, op type or opcode costs. Times in ns, sizes in bytes."""

    name: str
    op_type: str = ""
    """Nodes only: the graph op kind of the node, when known."""
    instructions: int = 0
    critical_ns: float = 0.0
    """Its share of the critical path (the rows of a table sum to the simulated time)."""
    busy_ns: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ENGINES, 0.0))
    """Per compute engine: the sum of its instructions' `end - start`."""
    dma_ns: float = 0.0
    """The sum of its DMA transfers' `end - start` (issue to last byte)."""
    flops: int = 0
    dma_bytes: int = 0
    hbm_bytes: int = 0
    first_ns: float = math.inf
    """When its first instruction started."""
    last_ns: float = 0.0
    """When its last instruction's results were visible."""

    @property
    def engine_ns(self) -> float:
        """Busy time on the compute engines, all four together."""
        return sum(self.busy_ns.values())


@dataclass(frozen=True)
class Segment:
    """A piece of the critical path: instruction `instr` held the program's end from
    `start_ns` to `end_ns` because of `cause` (see the module docstring)."""

    instr: int
    start_ns: float
    end_ns: float
    cause: str
    node: str

    @property
    def ns(self) -> float:
        return self.end_ns - self.start_ns


@dataclass
class Profile:
    """See the module docstring. Rows are sorted by critical-path time, then busy time."""

    program: str
    simulated_ns: float
    instructions: int
    flops: int
    dma_bytes: int
    hbm_bytes: int
    nodes: list[Row]
    op_types: list[Row]
    """Empty when no node's op type is known."""
    opcodes: list[Row]
    path: list[Segment]
    """The critical path in time order; the segments tile [0, simulated_ns]."""
    causes: dict[str, float]
    """Critical-path time per cause, largest first."""
    bin_ns: float
    hbm_gbps: list[float]
    """Achieved HBM bandwidth per bin (GB/s = bytes per ns)."""
    utilization: dict[str, list[float]]
    """Per compute engine, its busy fraction per bin."""
    tensor_tflops: list[float]
    """TensorE's achieved matmul rate per bin (10^12 FLOP/s)."""
    peak_hbm_gbps: float
    peak_tensor_tflops: float
    """The machine's HBM bandwidth and TensorE's bf16 peak, for scale."""
    program_ir: Program | None = field(default=None, repr=False, compare=False)
    schedule: Schedule | None = field(default=None, repr=False, compare=False)

    @property
    def path_instructions(self) -> set[int]:
        """The instructions the critical path runs through."""
        return {segment.instr for segment in self.path}

    def path_steps(self) -> list[tuple[str, float, float, dict[str, float]]]:
        """The critical path node by node, in time order: (node, start, end, time per
        cause) for each run of consecutive segments of one node."""
        steps: list[tuple[str, float, float, dict[str, float]]] = []
        for seg in self.path:
            if steps and steps[-1][0] == seg.node:
                node, start, _, causes = steps[-1]
                causes[seg.cause] = causes.get(seg.cause, 0.0) + seg.ns
                steps[-1] = (node, start, seg.end_ns, causes)
            else:
                steps.append((seg.node, seg.start_ns, seg.end_ns, {seg.cause: seg.ns}))
        return steps

    def table(self, top: int = 20) -> str:
        """The profile for a terminal: the node table (its `top` rows by critical-path
        time, the rest summed in one row), the op-type and opcode tables, the critical
        path by cause and node by node, and the bandwidth and utilisation over time."""
        lines = [
            f"profile of {self.program}: {self.instructions} instructions, "
            f"{self.simulated_ns / 1e3:.3f} us simulated",
            "",
            "per ONNX node (path: its share of the critical path; engine: busy time on "
            "the compute engines; dma: DMA queues busy)",
            *_table(self.nodes, self, "node", top, with_type=bool(self.op_types)),
        ]
        if self.op_types:
            lines += ["", "per op type", *_table(self.op_types, self, "op type", top)]
        lines += ["", "per instruction opcode", *_table(self.opcodes, self, "opcode", top)]
        lines += ["", f"critical path by cause ({len(self.path_instructions)} instructions)"]
        for cause, ns in self.causes.items():
            lines.append(f"  {cause:<32} {ns / 1e3:10.3f} us {_share(ns, self.simulated_ns)}")
        steps = self.path_steps()
        lines += ["", f"critical path node by node ({len(steps)} steps, time order)"]
        shown = steps if len(steps) <= top else steps[: top // 2] + steps[-(top // 2) :]
        for k, (node, start, end, causes) in enumerate(shown):
            if len(steps) > top and k == top // 2:
                lines.append(f"  ... {len(steps) - 2 * (top // 2)} more steps")
            main = max(causes, key=lambda c: causes[c])
            name = _clip(node, NODE_WIDTH)
            lines.append(f"  {start / 1e3:9.3f} - {end / 1e3:9.3f} us  {name:<{NODE_WIDTH}} {main}")
        if self.bin_ns > 0:
            lines += ["", f"over time ({len(self.hbm_gbps)} bins of {self.bin_ns / 1e3:.3f} us)"]
            mean = self.hbm_bytes / self.simulated_ns
            lines.append(
                f"  HBM GB/s      |{_spark(self.hbm_gbps, self.peak_hbm_gbps)}|  mean "
                f"{mean:.1f}, peak bin {max(self.hbm_gbps):.1f} (of {self.peak_hbm_gbps:.0f})"
            )
            for engine, series in self.utilization.items():
                if any(series):
                    mean_busy = sum(series) / len(series)
                    lines.append(
                        f"  {engine + ' busy':<13} |{_spark(series, 1.0)}|  mean "
                        f"{mean_busy:.1%}, peak bin {max(series):.1%}"
                    )
        return "\n".join(lines)

    def timeline_svg(self, width: int = 1200) -> str:
        """The engine timeline as an SVG document (`simulator/timeline.py`)."""
        from trnc.simulator.timeline import timeline_svg

        return timeline_svg(self, width=width)

    def html(self) -> str:
        """The self-contained HTML report: the tables and the timeline."""
        from trnc.tools.report_html import profile_html

        return profile_html(self)

    def write_timeline(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.timeline_svg())

    def write_html(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html())


def _share(ns: float, total: float) -> str:
    return f"{ns / total:6.1%}" if total else "     -"


def _clip(text: str, width: int) -> str:
    """`text` shortened to `width`: a node path (`/model/encoder/layer.1/...`) loses
    components, each run of them shown as `...`: first its leading ones after the first
    (`model`, `encoder`), then the middle ones up to the last two, keeping the layer and the
    op; anything else (or a path still too long) keeps its end."""
    if len(text) <= width:
        return text
    parts = text.split("/")
    kept = [True] * len(parts)

    def shown() -> str:
        out: list[str] = []
        for part, keep in zip(parts, kept, strict=True):
            if keep:
                out.append(part)
            elif not out or out[-1] != "...":
                out.append("...")
        return "/".join(out)

    for k in [1, 2, *range(4, len(parts) - 2)]:
        if k >= len(parts) - 2:
            break
        kept[k] = False
        if len(shown()) <= width:
            return shown()
    return "..." + text[-(width - 3) :]


_LEVELS = " .:-=+*#%@"


def _spark(series: list[float], scale: float) -> str:
    """One ASCII character per value, darker for larger values (`scale` is full)."""
    top = len(_LEVELS) - 1
    out = []
    for value in series:
        level = 0 if scale <= 0 or value <= 0 else max(1, min(top, round(value / scale * top)))
        out.append(_LEVELS[level])
    return "".join(out)


def _table(
    rows: list[Row], profile: Profile, what: str, top: int, with_type: bool = False
) -> list[str]:
    width = NODE_WIDTH if what == "node" else 24
    type_head = f" {'type':<10}" if with_type else ""
    lines = [
        f"  {what:<{width}}{type_head} {'instrs':>7} {'path us':>10} {'path %':>6} "
        f"{'engine us':>10} {'dma us':>10} {'MFLOP':>10} {'DMA KiB':>10}"
    ]
    shown = rows[:top]
    rest = rows[top:]
    if rest:
        shown = [*shown, total_row(f"({len(rest)} more)", rest)]
    for row in [*shown, total_row("total", rows)]:
        kind = f" {_clip(row.op_type, 10):<10}" if with_type else ""
        lines.append(
            f"  {_clip(row.name, width):<{width}}{kind} {row.instructions:>7d} "
            f"{row.critical_ns / 1e3:>10.3f} {_share(row.critical_ns, profile.simulated_ns)} "
            f"{row.engine_ns / 1e3:>10.3f} {row.dma_ns / 1e3:>10.3f} {row.flops / 1e6:>10.3f} "
            f"{row.dma_bytes / 1024:>10.1f}"
        )
    return lines


def total_row(name: str, rows: Iterable[Row]) -> Row:
    total = Row(name)
    for row in rows:
        _merge(total, row)
    return total


def _merge(into: Row, row: Row) -> None:
    into.instructions += row.instructions
    into.critical_ns += row.critical_ns
    for engine, ns in row.busy_ns.items():
        into.busy_ns[engine] += ns
    into.dma_ns += row.dma_ns
    into.flops += row.flops
    into.dma_bytes += row.dma_bytes
    into.hbm_bytes += row.hbm_bytes
    into.first_ns = min(into.first_ns, row.first_ns)
    into.last_ns = max(into.last_ns, row.last_ns)


def data_start(instr: Instr, program: Program, start: float, end: float) -> float:
    """When a transfer's bytes start flowing: after its descriptor set-up and the fixed
    latency (A.3), at most its end."""
    info = dma_info(instr, program.machine)
    return min(start + info.setup_ns + program.machine.dma_fixed_latency_ns, end)


def critical_path(program: Program, schedule: Schedule, nodes: list[str]) -> list[Segment]:
    """The critical path (see the module docstring), in time order; `nodes[i]` is the node
    of instruction i."""
    instrs = program.instrs
    if not instrs:
        return []
    start, end, visible = schedule.start_ns, schedule.end_ns, schedule.visible_ns
    previous = [-1] * len(instrs)  # the instruction before it on its queue
    last: dict[int, int] = {}
    landed: dict[tuple[int, float], int] = {}  # (compute queue, visible time) -> instr
    for ins in instrs:
        previous[ins.index] = last.get(ins.queue, -1)
        last[ins.queue] = ins.index
        if not ins.is_dma:
            landed[(ins.queue, visible[ins.index])] = ins.index
    segments: list[Segment] = []

    def add(i: int, a: float, b: float, cause: str) -> None:
        if b > a:
            segments.append(Segment(i, a, b, cause, nodes[i]))

    i = max(range(len(instrs)), key=lambda k: (visible[k], k))
    t = visible[i]
    seen: set[int] = set()
    while True:
        seen.add(i)
        ins = instrs[i]
        s = start[i]
        engine = QUEUE_NAMES[ins.queue]
        if ins.is_dma:
            flow = max(s, min(data_start(ins, program, s, end[i]), t))
            add(i, flow, t, "DMA transfer")
            add(i, s, flow, "DMA latency")
        else:
            e = max(s, min(end[i], t))
            add(i, e, t, f"{engine} result latency")
            add(i, s, e, f"{engine} busy")
        if s <= 0.0:
            break
        p = previous[i]
        if p >= 0 and p not in seen and end[p] >= s:  # queue order: its queue was busy
            i, t = p, s
            continue
        j = None if ins.is_dma else landed.get((ins.queue, s))
        if j is not None and j not in seen:  # waiting to see its own engine's results
            i, t = j, s
            continue
        sources = [k for k in schedule.wait_sources[i] if k >= 0 and k not in seen]
        sources = [k for k in sources if visible[k] <= s]
        if sources:  # the signal that released its last wait
            j = max(sources, key=lambda k: (visible[k], k))
            add(i, visible[j], s, f"semaphore wait on {QUEUE_NAMES[instrs[j].queue]}")
            i, t = j, visible[j]
            continue
        if p >= 0 and p not in seen:  # not seen in practice: keep the path whole
            add(i, end[p], s, "idle")
            i, t = p, end[p]
            continue
        add(i, 0.0, s, "idle")
        break
    segments.reverse()
    return segments


def _spread(series: list[float], bin_ns: float, a: float, b: float, amount: float) -> None:
    """Add `amount`, spread evenly over [a, b], to the bins of `series`."""
    count = len(series)
    if amount == 0 or count == 0:
        return
    if b <= a:
        series[min(int(a / bin_ns), count - 1)] += amount
        return
    rate = amount / (b - a)
    k = min(int(a / bin_ns), count - 1)
    while k < count:
        lo, hi = k * bin_ns, (k + 1) * bin_ns if k < count - 1 else math.inf
        part = min(b, hi) - max(a, lo)
        if part > 0:
            series[k] += part * rate
        if hi >= b:
            break
        k += 1


def build_profile(
    program: Program,
    schedule: Schedule,
    *,
    node_types: Mapping[str, str] | None = None,
    bins: int = BINS,
) -> Profile:
    """The profile of `program` as `schedule` ran it (see the module docstring).
    `node_types`: ONNX node name -> op type (`node_types(graph module)`), when known."""
    m = program.machine
    types = dict(node_types or {})
    start, end, visible = schedule.start_ns, schedule.end_ns, schedule.visible_ns
    total = schedule.total_ns
    names: dict[str, str] = {}
    nodes: list[str] = []
    for ins in program.instrs:
        node = names.get(ins.loc)
        if node is None:
            node = names[ins.loc] = node_name(ins.loc)
        nodes.append(node)

    by_node: dict[str, Row] = {}
    by_opcode: dict[str, Row] = {}
    count = bins if total > 0 else 0
    bin_ns = total / count if count else 0.0
    hbm = [0.0] * count
    busy = {engine: [0.0] * count for engine in ENGINES}
    flops_series = [0.0] * count
    for ins in program.instrs:
        i = ins.index
        node = nodes[i]
        s, e = start[i], end[i]
        own = Row(node, instructions=1, first_ns=s, last_ns=visible[i])
        if ins.is_dma:
            info = dma_info(ins, m)
            own.dma_ns = e - s
            own.dma_bytes = info.payload_bytes
            own.hbm_bytes = info.hbm_bytes
            _spread(hbm, bin_ns, data_start(ins, program, s, e), e, float(info.hbm_bytes))
        else:
            engine = QUEUE_NAMES[ins.queue]
            own.busy_ns[engine] = e - s
            own.flops = matmul_flops(ins)
            _spread(busy[engine], bin_ns, s, e, e - s)
            _spread(flops_series, bin_ns, s, e, float(own.flops))
        row = by_node.get(node)
        if row is None:
            row = by_node[node] = Row(node, op_type=types.get(node, ""))
        _merge(row, own)
        row = by_opcode.get(ins.opcode)
        if row is None:
            row = by_opcode[ins.opcode] = Row(ins.opcode)
        _merge(row, own)

    path = critical_path(program, schedule, nodes)
    causes: dict[str, float] = {}
    for seg in path:
        by_node[seg.node].critical_ns += seg.ns
        by_opcode[program.instrs[seg.instr].opcode].critical_ns += seg.ns
        causes[seg.cause] = causes.get(seg.cause, 0.0) + seg.ns

    by_type: dict[str, Row] = {}
    if any(row.op_type for row in by_node.values()):
        for row in by_node.values():
            kind = row.op_type or UNKNOWN
            _merge(by_type.setdefault(kind, Row(kind)), row)

    def ordered(rows: Iterable[Row]) -> list[Row]:
        return sorted(rows, key=lambda r: (-r.critical_ns, -(r.engine_ns + r.dma_ns), r.name))

    return Profile(
        program=program.name,
        simulated_ns=total,
        instructions=len(program.instrs),
        flops=schedule.flops,
        dma_bytes=schedule.dma_bytes,
        hbm_bytes=schedule.hbm_bytes,
        nodes=ordered(by_node.values()),
        op_types=ordered(by_type.values()),
        opcodes=ordered(by_opcode.values()),
        path=path,
        causes=dict(sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))),
        bin_ns=bin_ns,
        hbm_gbps=[b / bin_ns for b in hbm] if bin_ns else [],
        utilization={k: [b / bin_ns for b in v] for k, v in busy.items()} if bin_ns else {},
        tensor_tflops=[f / bin_ns / 1e3 for f in flops_series] if bin_ns else [],
        peak_hbm_gbps=m.hbm_gbps,
        peak_tensor_tflops=m.tensor_peak_flops_bf16 / 1e12,
        program_ir=program,
        schedule=schedule,
    )


def profile_of(module: Any, *, node_types: Mapping[str, str] | None = None) -> Profile:
    """Schedule a `trn_isa` module (or decoded `Program`) and profile it (timing only)."""
    from trnc.simulator.program import decode
    from trnc.simulator.timing import schedule

    program = module if isinstance(module, Program) else decode(module)
    return build_profile(program, schedule(program), node_types=node_types)
