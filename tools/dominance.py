"""SSA dominance, verified as MLIR's verifier does (xDSL's does not): every use of a value
must be dominated by its definition, i.e. the value is defined earlier in the same block,
or in a block that dominates the use's block, or in a region enclosing the use.

`dominance_errors(root)` returns one `Diagnostic` per op with an operand that breaks the
rule (`operand #0 does not dominate this use`), located at the op and naming where the
value is defined. The body of `builtin.module` is a graph region, as in MLIR, and is not
checked; neither are uses in blocks unreachable from their region's entry.
"""

from __future__ import annotations

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, BlockArgument, Operation, OpResult, Region, SSAValue
from xdsl.irdl.dominance import DominanceInfo

from trnc.tools.diagnostics import Diagnostic, op_source_loc


class _Dominance:
    """Lazily computed per-block op positions and per-region block dominance."""

    def __init__(self) -> None:
        self.positions: dict[Block, dict[Operation, int]] = {}
        self.regions: dict[Region, tuple[DominanceInfo, set[Block]]] = {}

    def position(self, op: Operation) -> int:
        block = op.parent_block()
        assert block is not None
        found = self.positions.get(block)
        if found is None:
            found = {o: i for i, o in enumerate(block.ops)}
            self.positions[block] = found
        return found[op]

    def blocks(self, region: Region) -> tuple[DominanceInfo, set[Block]]:
        """The region's dominance and its blocks reachable from the entry."""
        found = self.regions.get(region)
        if found is None:
            reachable: set[Block] = set()
            pending = [region.blocks.first] if region.blocks.first is not None else []
            while pending:
                block = pending.pop()
                if block not in reachable:
                    reachable.add(block)
                    if block.last_op is not None:
                        pending.extend(block.last_op.successors)
            found = (DominanceInfo(region), reachable)
            self.regions[region] = found
        return found

    def problem(self, value: SSAValue, user: Operation) -> str | None:
        """Why `value`'s definition does not dominate its use by `user` (None if it does)."""
        block: Block | None
        definer: Operation | None
        if isinstance(value, BlockArgument):
            block, definer = value.block, None
        elif isinstance(value, OpResult):
            definer = value.op
            block = definer.parent_block()
        else:
            return None
        if block is None:
            return "is defined outside any block"
        region = block.parent
        if region is None or isinstance(region.parent, ModuleOp):
            return None  # a graph region (or a detached block): no order to check
        # the ancestor of the user that lies in the definition's region
        ancestor: Operation | None = user
        while ancestor is not None and ancestor.parent_region() is not region:
            ancestor = ancestor.parent_op()
        if ancestor is None:
            return "is used outside the region that defines it"
        if ancestor is definer:
            return "is used by the op that defines it"
        use_block = ancestor.parent_block()
        assert use_block is not None
        if use_block is block:
            if definer is not None and self.position(definer) > self.position(ancestor):
                return "is used before its definition"
            return None
        info, reachable = self.blocks(region)
        if use_block in reachable and not info.dominates(block, use_block):
            return "is defined in a block that does not dominate this use"
        return None


def _where(value: SSAValue) -> str:
    if isinstance(value, OpResult):
        owner: Operation | None = value.op
    elif isinstance(value, BlockArgument):
        owner = value.block.parent_op()
    else:
        owner = None
    if owner is None:
        return ""
    loc, _ = op_source_loc(owner)
    return f" (defined at {loc})" if loc is not None else ""


def dominance_errors(root: Operation) -> list[Diagnostic]:
    """One diagnostic per op under `root` (included) using a value its definition does
    not dominate (see the module docstring)."""
    checker = _Dominance()
    diagnostics: list[Diagnostic] = []
    for op in root.walk():
        for i, operand in enumerate(op.operands):
            problem = checker.problem(operand, op)
            if problem is not None:
                message = f"operand #{i} does not dominate this use: it {problem}"
                diagnostics.append(Diagnostic.at_op(op, message + _where(operand)))
                break
    return diagnostics
