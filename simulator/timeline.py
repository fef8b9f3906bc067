"""The engine timeline of a profiled program as a self-contained SVG document.

`timeline_svg(profile)` draws one lane per engine and DMA queue the program uses, a box
per instruction from its start to when its queue is free again, coloured by opcode (a
DMA's fixed latency in a lighter shade of its colour than its transfer), the critical path
(`profile.Profile.path`) as a red line along the bottom of the lanes it runs through, a
time axis in microseconds, and under the lanes the achieved HBM bandwidth and TensorE's
busy fraction over time (the profile's bins). Each box has a tooltip (`<title>`): opcode,
node and times.

Boxes are placed in pixels: on a lane, consecutive boxes less than a pixel apart merge
into one when they look alike (same opcode and phase) or when either is narrower than a
pixel (the merged box takes the colour of the opcode that covers most of it, and its
tooltip counts what it holds), so a program of 10^4-10^5 instructions gives a file of at
most a few thousand boxes per lane, not one element per instruction.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from html import escape

from trnc.simulator.profile import Profile, data_start, node_name
from trnc.simulator.program import QUEUE_NAMES

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#86bcb6",
    "#8cd17d",
    "#d37295",
    "#a0cbe8",
    "#ffbe7d",
)
"""Opcode colours, given in the order of the sorted opcodes a program uses."""
PATH_COLOUR = "#d62728"
LABEL_W = 78
LANE_H = 16
LANE_GAP = 4
CHART_H = 34
TOP = 44


@dataclass
class _Run:
    """Boxes merged into one rectangle (pixel coordinates)."""

    x0: float
    x1: float
    cover: dict[tuple[str, bool], float] = field(default_factory=dict)
    """(opcode, is DMA latency) -> pixels of it in the run."""
    count: int = 0
    first: int = 0
    """The first instruction in the run (its tooltip)."""

    def key(self) -> tuple[str, bool]:
        return max(self.cover, key=lambda k: (self.cover[k], k))


def merge_boxes(boxes: list[tuple[float, float, str, bool, int]]) -> list[_Run]:
    """Merge a lane's boxes (x0, x1, opcode, latency, instr), sorted by x0 (see the
    module docstring)."""
    runs: list[_Run] = []
    for x0, x1, opcode, latency, instr in boxes:
        key = (opcode, latency)
        if runs:
            last = runs[-1]
            small = x1 - x0 < 1.0 or last.x1 - last.x0 < 1.0
            if x0 - last.x1 < 1.0 and (small or (len(last.cover) == 1 and key in last.cover)):
                last.x1 = max(last.x1, x1)
                last.cover[key] = last.cover.get(key, 0.0) + (x1 - x0)
                last.count += 1
                continue
        runs.append(_Run(x0, x1, {key: x1 - x0}, 1, instr))
    return runs


def _tick_step(total_us: float, width: float) -> float:
    """A 1-2-5 step in microseconds giving ticks at least ~90 px apart."""
    if total_us <= 0:
        return 1.0
    raw = total_us * 90.0 / width
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def timeline_svg(profile: Profile, width: int = 1200) -> str:
    """The SVG document (see the module docstring)."""
    program, schedule = profile.program_ir, profile.schedule
    if program is None or schedule is None:
        raise ValueError("the profile keeps no program and schedule to draw")
    total = profile.simulated_ns
    plot_w = max(width - LABEL_W - 12, 100)
    scale = plot_w / total if total > 0 else 0.0

    def x(ns: float) -> float:
        return LABEL_W + ns * scale

    queues = sorted({ins.queue for ins in program.instrs})
    lane_of = {q: k for k, q in enumerate(queues)}
    opcodes = sorted({ins.opcode for ins in program.instrs})
    colour = {op: PALETTE[k % len(PALETTE)] for k, op in enumerate(opcodes)}
    lanes_h = len(queues) * (LANE_H + LANE_GAP)
    charts_top = TOP + lanes_h + 12
    legend_top = charts_top + 2 * (CHART_H + 10) + 8
    legend_rows = math.ceil((len(opcodes) + 2) / 6)
    height = legend_top + legend_rows * 18 + 8

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f"<title>engine timeline of {escape(profile.program)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{LABEL_W}" y="16" font-size="13" font-weight="bold">{escape(profile.program)}'
        f": {profile.instructions} instructions, {profile.simulated_ns / 1e3:.3f} us</text>",
    ]
    # time axis and grid
    step = _tick_step(total / 1e3, plot_w)
    grid_bottom = charts_top + 2 * (CHART_H + 10)
    out.append('<g stroke="#e4e4e4">')
    ticks = []
    k = 0
    while total > 0 and k * step * 1e3 <= total * (1 + 1e-9):
        tx = x(k * step * 1e3)
        out.append(f'<line x1="{tx:.1f}" y1="{TOP - 6}" x2="{tx:.1f}" y2="{grid_bottom}"/>')
        ticks.append(
            f'<text x="{tx:.1f}" y="{TOP - 9}" text-anchor="middle">{_fmt(k * step)}</text>'
        )
        k += 1
    out.append("</g>")
    out.append(f'<g fill="#555">{"".join(ticks)}</g>')
    out.append(f'<text x="4" y="{TOP - 9}" fill="#555">time (us)</text>')

    # lanes
    boxes: dict[int, list[tuple[float, float, str, bool, int]]] = {q: [] for q in queues}
    for ins in program.instrs:
        i = ins.index
        s, e = schedule.start_ns[i], schedule.end_ns[i]
        lane = boxes[ins.queue]
        if ins.is_dma:
            flow = data_start(ins, program, s, e)
            if flow > s:
                lane.append((x(s), x(flow), ins.opcode, True, i))
            if e > flow:
                lane.append((x(flow), x(e), ins.opcode, False, i))
        else:
            lane.append((x(s), x(e), ins.opcode, False, i))
    for q in queues:
        y = TOP + lane_of[q] * (LANE_H + LANE_GAP)
        out.append(
            f'<text x="{LABEL_W - 6}" y="{y + LANE_H - 4}" text-anchor="end">'
            f"{QUEUE_NAMES[q]}</text>"
            f'<rect x="{LABEL_W}" y="{y}" width="{plot_w}" height="{LANE_H}" fill="#f6f6f6"/>'
        )
        lane = sorted(boxes[q], key=lambda b: (b[0], b[1]))
        for run in merge_boxes(lane):
            opcode, latency = run.key()
            w = max(run.x1 - run.x0, 0.5)
            opacity = ' fill-opacity="0.4"' if latency else ""
            if run.count == 1:
                ins = program.instrs[run.first]
                s, e = schedule.start_ns[run.first], schedule.end_ns[run.first]
                where = node_name(ins.loc)
                tip = f"#{run.first} {ins.opcode} {where}: {s / 1e3:.3f}-{e / 1e3:.3f} us"
            else:
                tip = (
                    f"{run.count} boxes, mostly {opcode}: {(run.x0 - LABEL_W) / scale / 1e3:.3f}-"
                    f"{(run.x1 - LABEL_W) / scale / 1e3:.3f} us"
                )
            out.append(
                f'<rect x="{run.x0:.1f}" y="{y}" width="{w:.1f}" height="{LANE_H}" '
                f'fill="{colour[opcode]}"{opacity}><title>{escape(tip)}</title></rect>'
            )

    # the critical path: thick along the bottom of the lanes it runs through, thin where
    # it moves from lane to lane
    runs: list[tuple[float, float, float]] = []  # (y, x0, x1)
    for seg in profile.path:
        q = program.instrs[seg.instr].queue
        py = TOP + lane_of[q] * (LANE_H + LANE_GAP) + LANE_H - 1.5
        x0, x1 = x(seg.start_ns), x(seg.end_ns)
        if runs and runs[-1][0] == py and x0 - runs[-1][2] < 1.0:
            runs[-1] = (py, runs[-1][1], x1)
        else:
            runs.append((py, x0, x1))
    if runs:
        along = " ".join(f"M{x0:.1f},{y:.1f}H{max(x1, x0 + 0.5):.1f}" for y, x0, x1 in runs)
        jumps = dict.fromkeys(  # one per pixel column and pair of lanes
            (round(b[1]), a[0], b[0]) for a, b in itertools.pairwise(runs)
        )
        across = " ".join(f"M{jx},{y0:.1f}V{y1:.1f}" for jx, y0, y1 in jumps)
        out.append(
            f'<g fill="none" stroke="{PATH_COLOUR}"><title>critical path</title>'
            f'<path d="{along}" stroke-width="3"/>'
            f'<path d="{across}" stroke-width="0.8" stroke-opacity="0.45"/></g>'
        )

    # bandwidth and utilisation over time
    series = [
        ("HBM GB/s", profile.hbm_gbps, profile.peak_hbm_gbps, "#4e79a7"),
        ("TensorE busy", profile.utilization.get("tensor", []), 1.0, "#e15759"),
    ]
    for n, (label, values, peak, fill) in enumerate(series):
        y0 = charts_top + n * (CHART_H + 10)
        out.append(
            f'<text x="{LABEL_W - 6}" y="{y0 + CHART_H / 2 + 4:.1f}" text-anchor="end">'
            f"{label}</text>"
            f'<rect x="{LABEL_W}" y="{y0}" width="{plot_w}" height="{CHART_H}" fill="#f6f6f6"/>'
        )
        bars = []
        for b, value in enumerate(values):
            h = CHART_H * min(value / peak, 1.0) if peak > 0 else 0.0
            if h <= 0:
                continue
            bx = x(b * profile.bin_ns)
            bw = max(profile.bin_ns * scale - 0.5, 0.5)
            shown = f"{value:.1f} GB/s" if label.startswith("HBM") else f"{value:.1%}"
            bars.append(
                f'<rect x="{bx:.1f}" y="{y0 + CHART_H - h:.1f}" width="{bw:.1f}" '
                f'height="{h:.1f}"><title>{shown}</title></rect>'
            )
        out.append(f'<g fill="{fill}">{"".join(bars)}</g>')
        hbm = label.startswith("HBM")
        top_label = f"{peak:.0f} GB/s" if hbm else "100%"
        most = max(values, default=0.0)
        most_label = f"{most:.1f} GB/s" if hbm else f"{most:.1%}"
        out.append(
            f'<text x="{LABEL_W + plot_w - 2}" y="{y0 + 10}" text-anchor="end" fill="#777">'
            f"top: {top_label}; highest bin: {most_label}</text>"
        )

    # legend
    items = [(colour[op], op, "") for op in opcodes]
    items.append((colour.get("dma_copy", PALETTE[0]), "DMA fixed latency", ' fill-opacity="0.4"'))
    legend = []
    for k, (fill, label, extra) in enumerate(items):
        lx = LABEL_W + (k % 6) * 180
        ly = legend_top + (k // 6) * 18
        legend.append(
            f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{fill}"{extra}/>'
            f'<text x="{lx + 16}" y="{ly + 10}">{escape(label)}</text>'
        )
    k = len(items)
    lx, ly = LABEL_W + (k % 6) * 180, legend_top + (k // 6) * 18
    legend.append(
        f'<line x1="{lx}" y1="{ly + 6}" x2="{lx + 12}" y2="{ly + 6}" stroke="{PATH_COLOUR}" '
        f'stroke-width="2.5"/><text x="{lx + 16}" y="{ly + 10}">critical path</text>'
    )
    out.append(f"<g>{''.join(legend)}</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
