"""Runs the selected ONNX node tests through trnc's backend and writes the table of
docs/ONNX.md (op, cases, passing, excluded with reason). Run from the repository root:

    .venv/bin/python tests/onnx_node_report.py [--level graph] [--out docs/ONNX.md]

The same cases and exclusions as tests/test_onnx_node.py (tests/onnx_node_cases.py);
this script only tabulates, the pytest module is what CI checks.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnx_node_cases as cases
from onnx.backend.test.runner import Runner, _normalize_tensor

from trnc.onnx_backend import TrncBackend

ROOT = Path(__file__).resolve().parent.parent


def run_case(case, level: str) -> str | None:
    """None if the case passes, else the first line of its failure."""
    try:
        rep = TrncBackend.prepare(case.model, "CPU", level=level)
        for inputs, ref_outputs in case.data_sets:
            outputs = rep.run([_normalize_tensor(t) for t in inputs])
            expected = [_normalize_tensor(t) for t in ref_outputs]
            Runner.assert_similar_outputs(expected, outputs, case.rtol, case.atol)
    except Exception as error:
        text = str(error).strip().splitlines()
        return f"{type(error).__name__}: {text[0] if text else ''}"[:160]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--level", default="graph")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "ONNX.md")
    args = parser.parse_args(argv)
    begin, end = f"<!-- node-table:{args.level}:begin -->", f"<!-- node-table:{args.level}:end -->"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        selected = cases.selected_cases()
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    reasons: dict[str, set[str]] = defaultdict(set)
    failures: list[str] = []
    with np.errstate(all="ignore"):
        for name, (op, case) in sorted(selected.items()):
            rows[op]["cases"] += 1
            reason = cases.exclusion_reason(name, args.level)
            if reason is not None:
                rows[op]["excluded"] += 1
                reasons[op].add(reason)
                continue
            problem = run_case(case, args.level)
            if problem is None:
                rows[op]["passing"] += 1
            else:
                failures.append(f"{name}: {problem}")
    total = {k: sum(r[k] for r in rows.values()) for k in ("cases", "passing", "excluded")}
    lines = [
        begin,
        f"Level `{args.level}`: {total['cases']} cases, {total['passing']} passing, "
        f"{total['excluded']} excluded, {len(failures)} failing.",
        "",
        "| op | cases | passing | excluded | reason for the exclusions |",
        "|---|---|---|---|---|",
    ]
    for op in sorted(rows):
        r = rows[op]
        why = "; ".join(sorted(reasons[op])) if r["excluded"] else ""
        lines.append(f"| {op} | {r['cases']} | {r['passing']} | {r['excluded']} | {why} |")
    if failures:
        lines += ["", "Failing:", "", *[f"- `{f}`" for f in failures]]
    lines.append(end)
    table = "\n".join(lines)
    text = args.out.read_text() if args.out.exists() else ""
    if begin in text and end in text:
        text = text[: text.index(begin)] + table + text[text.index(end) + len(end) :]
    else:
        text = text + ("\n" if text else "") + table + "\n"
    args.out.write_text(text)
    print(table)
    return 0 if not failures or args.level != "graph" else 1


if __name__ == "__main__":
    sys.exit(main())
