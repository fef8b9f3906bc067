"""The profile of a simulated program as one self-contained HTML page.

`profile_html(profile)` returns a page with no network resources (inline CSS, no
scripts): a summary, the engine timeline (`simulator/timeline.py`, inline SVG), and the
tables of `simulator/profile.py`: per ONNX node, per op type (when known), per
instruction opcode, the critical path by cause and node by node, and the achieved HBM
bandwidth and engine utilisation per time bin. `trn-run --profile-html` and
`trn-compile --profile-html` write it; docs/PROFILING.md explains the columns.
"""

from __future__ import annotations

from html import escape

from trnc.simulator.profile import ENGINES, Profile, Row, total_row

MAX_STEPS = 400
"""The most critical-path steps listed (the first and last halves; the rest counted)."""

_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ddd; padding: 2px 6px; }
th { background: #f0f0f0; position: sticky; top: 0; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; background: #fafafa; }
.timeline { overflow-x: auto; }
p.note { color: #555; font-size: 0.9em; max-width: 60em; }
"""


def _num(value: float, digits: int = 3) -> str:
    return f'<td class="n">{value:,.{digits}f}</td>'


def _int(value: int) -> str:
    return f'<td class="n">{value:,d}</td>'


def _share(ns: float, total: float) -> str:
    return f'<td class="n">{ns / total:.1%}</td>' if total else '<td class="n">-</td>'


def _rows_table(table_id: str, what: str, rows: list[Row], profile: Profile, types: bool) -> str:
    head = [what, *(["op type"] if types else []), "instrs", "path us", "path %"]
    head += [f"{e} us" for e in ENGINES]
    head += ["dma us", "MFLOP", "DMA KiB", "HBM KiB", "first us", "last us"]
    total = total_row("total", rows)
    body = []
    for row in [*rows, total]:
        cells = [f"<td>{escape(row.name)}</td>"]
        if types:
            cells.append(f"<td>{escape(row.op_type)}</td>")
        cells += [
            _int(row.instructions),
            _num(row.critical_ns / 1e3),
            _share(row.critical_ns, profile.simulated_ns),
            *(_num(row.busy_ns[e] / 1e3) for e in ENGINES),
            _num(row.dma_ns / 1e3),
            _num(row.flops / 1e6),
            _num(row.dma_bytes / 1024, 1),
            _num(row.hbm_bytes / 1024, 1),
            _num(row.first_ns / 1e3 if row.instructions else 0.0),
            _num(row.last_ns / 1e3),
        ]
        kind = ' class="total"' if row is total else ""
        body.append(f"<tr{kind}>{''.join(cells)}</tr>")
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return (
        f'<table id="{table_id}"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _causes_table(profile: Profile) -> str:
    body = "".join(
        f"<tr><td>{escape(cause)}</td>{_num(ns / 1e3)}{_share(ns, profile.simulated_ns)}</tr>"
        for cause, ns in profile.causes.items()
    )
    body += (
        f'<tr class="total"><td>total</td>{_num(sum(profile.causes.values()) / 1e3)}'
        f"{_share(sum(profile.causes.values()), profile.simulated_ns)}</tr>"
    )
    return (
        '<table id="causes"><thead><tr><th>cause</th><th>us</th><th>%</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _steps_table(profile: Profile) -> str:
    steps = profile.path_steps()
    half = MAX_STEPS // 2
    shown = steps if len(steps) <= MAX_STEPS else steps[:half] + steps[-half:]
    body = []
    for k, (node, start, end, causes) in enumerate(shown):
        if len(steps) > MAX_STEPS and k == half:
            body.append(f'<tr><td colspan="4">... {len(steps) - 2 * half} more steps</td></tr>')
        parts = ", ".join(
            f"{escape(c)} {ns / 1e3:.3f}" for c, ns in sorted(causes.items(), key=lambda kv: -kv[1])
        )
        body.append(
            f"<tr>{_num(start / 1e3)}{_num(end / 1e3)}<td>{escape(node)}</td><td>{parts}</td></tr>"
        )
    return (
        '<table id="path"><thead><tr><th>from us</th><th>to us</th><th>node</th>'
        f"<th>causes (us)</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _bins_table(profile: Profile) -> str:
    peak = f"TensorE TFLOP/s (bf16 peak {profile.peak_tensor_tflops:.1f})"
    head = ["from us", "HBM GB/s", *(f"{e} busy" for e in ENGINES), peak]
    body = []
    for b, gbps in enumerate(profile.hbm_gbps):
        cells = [_num(b * profile.bin_ns / 1e3), _num(gbps, 1)]
        cells += [f'<td class="n">{profile.utilization[e][b]:.1%}</td>' for e in ENGINES]
        cells.append(_num(profile.tensor_tflops[b], 2))
        body.append(f"<tr>{''.join(cells)}</tr>")
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return (
        f'<table id="bins"><thead><tr>{header}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def profile_html(profile: Profile) -> str:
    """The page (see the module docstring)."""
    name = escape(profile.program)
    total = profile.simulated_ns
    mean_gbps = profile.hbm_bytes / total if total else 0.0
    summary = [
        ("simulated time", f"{total / 1e3:,.3f} us"),
        ("instructions", f"{profile.instructions:,d}"),
        ("matmul FLOPs", f"{profile.flops:,d}"),
        ("DMA bytes", f"{profile.dma_bytes:,d}"),
        ("HBM bytes", f"{profile.hbm_bytes:,d} ({mean_gbps:.1f} GB/s achieved on average)"),
        ("critical path", f"{len(profile.path_instructions):,d} instructions"),
    ]
    items = "".join(f"<tr><th>{k}</th><td>{escape(v)}</td></tr>" for k, v in summary)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>trnc profile: {name}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Profile of {name}</h1>",
        f'<table id="summary">{items}</table>',
        "<h2>Engine timeline</h2>",
        '<p class="note">One lane per engine and DMA queue; boxes coloured by opcode (a '
        "DMA's fixed latency lighter); the red line is the critical path. Hover a box for "
        "its instruction.</p>",
        f'<div class="timeline">{profile.timeline_svg()}</div>',
        "<h2>Per ONNX node</h2>",
        '<p class="note">path: the node\'s share of the critical path (the column sums to '
        "the simulated time); engine columns: busy time of its instructions on each compute "
        "engine; dma: its DMA queues' busy time (issue to last byte). Instructions whose "
        "location names no node are the row (unknown).</p>",
        _rows_table("nodes", "node", profile.nodes, profile, bool(profile.op_types)),
    ]
    if profile.op_types:
        parts += [
            "<h2>Per op type</h2>",
            _rows_table("op-types", "op type", profile.op_types, profile, False),
        ]
    parts += [
        "<h2>Per instruction opcode</h2>",
        _rows_table("opcodes", "opcode", profile.opcodes, profile, False),
        "<h2>Critical path by cause</h2>",
        _causes_table(profile),
        "<h2>Critical path, node by node</h2>",
        _steps_table(profile),
        f"<h2>Over time ({len(profile.hbm_gbps)} bins of {profile.bin_ns / 1e3:.3f} us)</h2>",
        _bins_table(profile),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
