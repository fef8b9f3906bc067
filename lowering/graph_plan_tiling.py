"""The `graph-plan-tiling` pass: decide how each `graph.matmul` is tiled and record it on
the op as its `tile.plan` (`lowering/matmul_plan.py`: row blocks sharing each loaded tile
of the right operand, whether x^T's blocks stay in SBUF, whether the K steps are
`scf.for` loops over panels of the right operand and how many blocks a panel holds,
whether x is loaded a row block at a time). Rewrites nothing else; `graph-to-tile`
follows the plans.

A `tile.plan` already on an op is kept (an override, as MLIR users set one by hand or
through `graph-plan-tiling{override=...}`), after checking it; `override` takes
`name:key=value;key=value,name2:...`, `name` the op's location name (the ONNX node).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, NameLoc
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from trnc.dialects import graph as g
from trnc.lowering.matmul_plan import PLAN_ATTR, MatmulPlan, PlanError, plan_of


class PlanningError(DiagnosticException):
    """A plan that cannot be followed, located at `op`."""

    def __init__(self, message: str, op: Operation) -> None:
        super().__init__(message)
        self.op = op


def _location_name(op: Operation) -> str | None:
    loc = op.location
    return loc.desc.data if isinstance(loc, NameLoc) else None


def parse_overrides(text: str) -> dict[str, dict[str, str]]:
    """`name:key=value;key=value,name2:key=value` -> {name: {key: value}}."""
    overrides: dict[str, dict[str, str]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, rest = item.rpartition(":")
        if not sep or not name:
            raise PlanError(f"override '{item}' is not name:key=value;...")
        entries = overrides.setdefault(name, {})
        for pair in filter(None, (p.strip() for p in rest.split(";"))):
            key, eq, value = pair.partition("=")
            if not eq:
                raise PlanError(f"override '{item}': '{pair}' is not key=value")
            entries[key.strip()] = value.strip()
    return overrides


def _apply(plan: MatmulPlan, entries: dict[str, str]) -> MatmulPlan:
    changes: dict[str, int | bool] = {}
    for key, value in entries.items():
        current = getattr(plan, key, None)
        if current is None:
            raise PlanError(f"override: a matmul plan has no '{key}'")
        if isinstance(current, bool):
            if value not in ("true", "false"):
                raise PlanError(f"override: '{key}' must be true or false, got '{value}'")
            changes[key] = value == "true"
        else:
            if not value.isdigit() or int(value) < 1:
                raise PlanError(f"override: '{key}' must be a positive integer, got '{value}'")
            changes[key] = int(value)
    return MatmulPlan.from_attr(replace(plan, **changes).to_attr())


@dataclass(frozen=True)
class GraphPlanTiling(ModulePass):
    """Record a `tile.plan` on every `graph.matmul` (see the module docstring)."""

    name = "graph-plan-tiling"

    dtype: str = "bf16"
    """The element type matmuls compute in (`bf16`: fp32 operands as bf16)."""

    override: str = ""
    """Plans to change, by op location name: `name:key=value;key=value,name2:...`."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        try:
            overrides = parse_overrides(self.override)
        except PlanError as error:
            raise PlanningError(f"graph-plan-tiling: {error}", op) from None
        used: set[str] = set()
        for inner in op.walk():
            if not isinstance(inner, g.MatmulOp):
                continue
            try:
                plan = plan_of(inner, self.dtype)
                name = _location_name(inner)
                if name is not None and name in overrides:
                    plan = _apply(plan, overrides[name])
                    used.add(name)
            except PlanError as error:
                raise PlanningError(f"graph-plan-tiling: {error}", inner) from None
            inner.attributes[PLAN_ATTR] = plan.to_attr()
        unknown = sorted(set(overrides) - used)
        if unknown:
            raise PlanningError(
                f"graph-plan-tiling: override names no matmul: {', '.join(unknown)}", op
            )
