"""How a matmul is tiled: the decisions `graph-plan-tiling` records on each
`graph.matmul` as its `tile.plan` attribute and `graph-to-tile` follows.

    %y = graph.matmul %x, %w {tile.plan = {row_group = 1 : i64, keep_xt = true,
                                           k_loop = true, panel_blocks = 8 : i64,
                                           x_row_loads = true}} : ...

* `row_group`: 128-row blocks of x that share each loaded tile of w (w streams
  M / (128 x row_group) times);
* `keep_xt`: x^T's K blocks stay in SBUF for every block of output columns (else they are
  transposed again for each);
* `k_loop`: the K steps are `scf.for` loops over panels of `panel_blocks` K blocks of w,
  each filled by a loop of loads (which `tile-prefetch` moves ahead as one) and read by a
  loop of matmuls; else they are unrolled top-level ops, which `tile-plan-memory` can
  serve from SBUF across row groups;
* `x_row_loads`: each 128-row block of x is loaded with one DMA per `ROW_LOAD_BYTES` and
  its K blocks transposed by a loop (else one load per K block);
* `row_loop` (optional, default false): w is loaded once, whole, and the 128-row blocks
  of x are an `scf.for` over one body (x's rows loaded and transposed, the K steps a
  loop, the result stored), so the tile IR does not grow with M; the other entries
  then do not apply.

`plan_matmul` is the rule (one definition: the pass records it and `graph-to-tile` falls
back to it for a matmul without a plan); a plan written on the IR beforehand is an
override, checked by `MatmulPlan.from_attr`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from math import prod

from xdsl.dialects.builtin import (
    BFloat16Type,
    BoolAttr,
    DictionaryAttr,
    Float32Type,
    IntegerAttr,
    IntegerType,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue

from trnc.dialects import graph as g
from trnc.dialects.graph.base import element_of, shape_of
from trnc.dialects.isa_common import byte_size
from trnc.lowering.tile_builder import FREE_ELEMS
from trnc.lowering.tile_plan_memory import DEFAULT_BUDGET
from trnc.machine import TRN1

PLAN_ATTR = "tile.plan"
"""The attribute of a `graph.matmul` holding its `MatmulPlan`."""

STATIONARY_BUDGET = 64 * 1024
"""Bytes per partition a matmul may keep of x^T's K blocks in SBUF (of the 180 KiB budget,
trn1.md A.1) before it transposes them again for each block of output columns."""
ROW_GROUP = 4
"""Row blocks of a matmul's left operand that share each loaded tile of the right one
(their x^T blocks and result segments kept within STATIONARY_BUDGET; one PSUM bank
each), when the right operand is too big to stay on chip (`RESIDENT_WEIGHT_BYTES`).
Measured (bf16, simulated): 2048 x 8192 x 8192 12.3 -> 3.71 ms (G 1 -> 2), 1024 x 8192 x
4096 1.70 -> 1.02 ms; 1024^3, whose weights tile-plan-memory keeps on chip anyway, 47.3 ->
63.5 us with G = 4 (fewer PSUM banks left to rotate), so G = 1 there."""
PANEL_BLOCKS = 8
"""K blocks of w per panel of a looped matmul (8 KiB a partition for 512 bf16 columns):
small enough that tile-prefetch can move a panel's loads well ahead and tile-allocate
finds room for it among other tiles (one panel for all of K: BERT-base 1,469.0 us; 4
blocks: 1,300.6 us; 8 blocks: 1,279.6 us)."""
ROW_LOAD_BYTES = 32 * 1024
"""Bytes per partition of each DMA that loads a 128-row block of a computed x for its
transposes (8192 fp32 columns; a row tile is 4096 wide, so it is served whole from SBUF).
Not for a graph input: one 32 KiB load per row block took a 4096 x 8192 x 8192 GEMM from
7.4 to 17.2 ms, 8 KiB loads to 12.1 ms (the transposes wait for whole loads)."""
RESIDENT_WEIGHT_BYTES = DEFAULT_BUDGET * TRN1.partitions // 2
"""A right operand up to this size is loaded once and kept on chip by tile-plan-memory
(half the SBUF it keeps tensors in)."""


OPTIONAL = ("row_loop",)
"""Entries a plan written on the IR may leave out (their defaults apply)."""


class PlanError(ValueError):
    """A `tile.plan` that cannot be followed; the message says which entry and why."""


@dataclass(frozen=True)
class MatmulPlan:
    """The tiling of one 2-D matmul (see the module docstring)."""

    row_group: int
    keep_xt: bool
    k_loop: bool
    panel_blocks: int
    x_row_loads: bool
    row_loop: bool = False

    def to_attr(self) -> DictionaryAttr:
        entries: dict[str, Attribute] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            entries[f.name] = (
                BoolAttr.from_bool(value) if isinstance(value, bool) else (IntegerAttr(value, i64))
            )
        return DictionaryAttr(entries)

    @staticmethod
    def from_attr(attr: Attribute) -> MatmulPlan:
        """The plan an attribute gives (every entry, of its type), or `PlanError`."""
        if not isinstance(attr, DictionaryAttr):
            raise PlanError(f"{PLAN_ATTR} must be a dictionary, got {attr}")
        given = dict(attr.data)
        values: dict[str, int | bool] = {}
        for f in fields(MatmulPlan):
            entry = given.pop(f.name, None)
            if entry is None and f.name in OPTIONAL:
                continue
            if entry is None:
                raise PlanError(f"{PLAN_ATTR} has no '{f.name}'")
            is_bool = f.type in ("bool", bool)
            if isinstance(entry, IntegerAttr) and isinstance(entry.type, IntegerType):
                number = entry.value.data
                if is_bool and entry.type.width.data == 1:
                    values[f.name] = bool(number)
                    continue
                if not is_bool and entry.type.width.data > 1:
                    if number < 1:
                        raise PlanError(f"{PLAN_ATTR} '{f.name}' must be at least 1, got {number}")
                    values[f.name] = number
                    continue
            kind = "true or false" if is_bool else "an integer"
            raise PlanError(f"{PLAN_ATTR} '{f.name}' must be {kind}, got {entry}")
        if given:
            raise PlanError(f"{PLAN_ATTR} has unknown entries: {', '.join(sorted(given))}")
        plan = MatmulPlan(**values)  # type: ignore[arg-type]
        if plan.k_loop and not plan.keep_xt:
            raise PlanError(f"{PLAN_ATTR}: k_loop needs keep_xt (the loop views x^T's blocks)")
        if plan.x_row_loads and not plan.keep_xt:
            raise PlanError(f"{PLAN_ATTR}: x_row_loads needs keep_xt")
        return plan


def plan_matmul(
    mkn: tuple[int, int, int],
    element_bytes: int,
    result_bytes: int,
    x_computed: bool,
) -> MatmulPlan:
    """The rule: `mkn` of the 2-D matmul, the bytes of an element of its operands on chip
    (2 in bf16 mode) and of its result, and whether an op computes x (so tile-plan-memory
    keeps it in SBUF)."""
    m, k, n = mkn
    part = TRN1.partitions
    # x^T's K blocks stay in SBUF for every N block while they fit the budget (past it,
    # K beyond 16k for 128 fp32 rows, they are transposed again for each N block); up to
    # ROW_GROUP row blocks of x are kept at once, and each tile of w, loaded once, serves
    # all of them (the weights stream M / (128 * group) times instead of M / 128).
    kept_bytes = -(-k // part) * part * element_bytes
    keep = kept_bytes <= STATIONARY_BUDGET
    row_bytes = kept_bytes + min(n, FREE_ELEMS) * result_bytes
    group = max(1, min(ROW_GROUP, STATIONARY_BUDGET // row_bytes)) if keep else 1
    if k * n * element_bytes <= RESIDENT_WEIGHT_BYTES:
        group = 1  # w stays on chip (tile-plan-memory): one row block at a time rotates best
    # The K loop stays a loop where each w tile is loaded once anyway: all row blocks in
    # one group. With several groups the loads stay top-level ops, which
    # tile-plan-memory may serve from SBUF for a later group (measured: looping them there
    # loses 7 % on a 4096 x 8192 x 8192 GEMM).
    full = k // part
    row_blocks = -(-m // part)
    k_loop = keep and full >= 3 and row_blocks <= group
    # A computed x is loaded a row block per DMA (its producer's row tile, served whole
    # from SBUF) and transposed by a loop; a graph input's blocks are loaded one by one,
    # so its loads from HBM pipeline with the transposes.
    x_row_loads = keep and full >= 3 and x_computed
    # A weight that stays on chip is loaded once, whole, and the row blocks are a loop.
    row_loop = keep and k * n * element_bytes <= RESIDENT_WEIGHT_BYTES and row_blocks >= 2
    return MatmulPlan(group, keep, k_loop, PANEL_BLOCKS, x_row_loads, row_loop)


def computed(value: SSAValue) -> bool:
    """Whether an op computes `value` (through no-copy reshapes), rather than it being a
    graph input, a weight or a constant: what tile-plan-memory can keep on chip."""
    while isinstance(value.owner, g.ReshapeOp):
        value = value.owner.input
    return isinstance(value.owner, Operation) and not isinstance(
        value.owner, g.WeightOp | g.ConstantOp
    )


def operand_element(op: g.MatmulOp, dtype: str) -> Attribute:
    """The element type a matmul's operands have on chip: bf16 for fp32 in bf16 mode
    (accumulation stays fp32 in PSUM)."""
    element = element_of(op.lhs)
    if dtype == "bf16" and isinstance(element, Float32Type):
        return BFloat16Type()
    return element


def matmul_mkn(op: g.MatmulOp) -> tuple[int, int, int]:
    """M, K, N of each 2-D matmul of `op` (a 1-D lhs is one row, a 1-D rhs one column)."""
    ls, rs = shape_of(op.lhs), shape_of(op.rhs)
    m = ls[-2] if len(ls) > 1 else 1
    n = rs[-1] if len(rs) > 1 else 1
    if len(rs) <= 2:  # a 2-D rhs: the batch dims of the lhs fold into M
        m = prod(ls[:-1]) if len(ls) > 1 else 1
    return m, ls[-1], n


def plan_of(op: g.MatmulOp, dtype: str) -> MatmulPlan:
    """The plan `op` carries (an override, checked), else the rule's."""
    given = op.attributes.get(PLAN_ATTR)
    if given is not None:
        return MatmulPlan.from_attr(given)
    return plan_matmul(
        matmul_mkn(op),
        byte_size(operand_element(op, dtype)),
        byte_size(element_of(op.lhs)),
        computed(op.lhs),
    )
