"""Every op of every trnc dialect round-trips in its `ops.mlir`, and every verifier rule
named in a dialect's source is broken at least once in its `invalid.mlir`.

Rules are found by their names in error messages (`"... rule: ..."`, `"... mismatch: ..."`),
so a new rule without a negative test, or a new op without a round trip, fails here.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from xdsl.ir import Dialect

ROOT = Path(__file__).resolve().parent.parent
DIALECTS = {"graph": "Graph", "tile": "Tile", "trn_isa": "TrnIsa"}

UNREACHABLE_ON_TRN1 = {
    # K of a matmul is the partition count of its inputs, which the partition count rule
    # already caps at TRN1.partitions (128) = TRN1.matmul_max_k. The check stays for
    # machines whose contraction limit is below their partition count.
    ("trn_isa", "matmul contraction rule"),
    # P of a transpose is the partition count of its source, which the partition count
    # rule already caps at TRN1.partitions (128) = TRN1.transpose_max. The check stays for
    # machines whose transpose limit is below their partition count.
    ("trn_isa", "transpose partition rule"),
}

SHARED = {"tile": "isa_common.py", "trn_isa": "isa_common.py"}
"""Modules outside a dialect's package whose rules that dialect also checks."""

_RULE = re.compile(r"f?\"([a-z][a-z0-9_ /-]*? (?:rule|mismatch))\b")


def _dialect(name: str) -> Dialect:
    dialect = getattr(importlib.import_module(f"trnc.dialects.{name}"), DIALECTS[name])
    assert isinstance(dialect, Dialect)
    return dialect


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_every_op_round_trips(name: str) -> None:
    text = (ROOT / "tests" / "filecheck" / "dialects" / name / "ops.mlir").read_text()
    assert "--print-op-generic | trn-opt" in text, "ops.mlir must also round-trip generic form"
    missing = [
        op.name
        for op in _dialect(name).operations
        if not re.search(rf"^\s*(%\S+ = )?{re.escape(op.name)}\b", text, re.MULTILINE)
    ]
    assert not missing, f"ops without a round-trip case in {name}/ops.mlir: {missing}"


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_every_rule_has_a_negative_case(name: str) -> None:
    paths = [*(ROOT / "dialects" / name).glob("*.py")]
    if name in SHARED:
        paths.append(ROOT / "dialects" / SHARED[name])
    source = "\n".join(p.read_text() for p in paths)
    rules = set(_RULE.findall(source))
    assert len(rules) > 10, f"rule names not found in dialects/{name}: {sorted(rules)}"
    invalid = (ROOT / "tests" / "filecheck" / "dialects" / name / "invalid.mlir").read_text()
    untested = sorted(
        rule for rule in rules if rule not in invalid and (name, rule) not in UNREACHABLE_ON_TRN1
    )
    assert not untested, f"rules without a case in {name}/invalid.mlir: {untested}"
