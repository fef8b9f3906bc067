"""What the `graph-to-tile` patterns over chains of graph ops (the fused softmax, layer
normalization and attention) ask of the graph: shapes, users, the operand beside a value,
and the checks every chain's input passes."""

from __future__ import annotations

from xdsl.dialects.builtin import Float32Type, TensorType
from xdsl.ir import Operation, SSAValue

from trnc.dialects import graph as g
from trnc.dialects.graph.base import get_ints
from trnc.lowering.tile_builder import FREE_ELEMS


def shape(value: SSAValue) -> tuple[int, ...]:
    t = value.type
    assert isinstance(t, TensorType)
    return tuple(t.get_shape())


def users(value: SSAValue) -> list[Operation]:
    """The ops using `value`, once per use."""
    return [use.operation for use in value.uses]


def only_user(value: SSAValue) -> Operation | None:
    """The op using `value`, if it has exactly one use."""
    found = users(value)
    return found[0] if len(found) == 1 else None


def other(op: Operation, value: SSAValue) -> SSAValue:
    """The operand of a binary op besides `value`."""
    a, b = op.operands
    return b if a is value else a


def is_f32(value: SSAValue) -> bool:
    t = value.type
    return isinstance(t, TensorType) and isinstance(t.get_element_type(), Float32Type)


def reduces_last_axis(op: g.ReduceOp) -> bool:
    """Whether a reduction is over the last axis alone, keeping it (size 1)."""
    dims = shape(op.input)
    axes = [a % len(dims) for a in get_ints(op.axes)] if dims else []
    return axes == [len(dims) - 1] and bool(op.keepdims.value.data)


def row_input(x: SSAValue) -> tuple[int, ...] | None:
    """The shape of a chain's input whose rows a pattern takes whole: f32, with elements,
    at most `FREE_ELEMS` along the last axis; else None."""
    if not is_f32(x):
        return None
    dims = shape(x)
    if not dims or 0 in dims or dims[-1] > FREE_ELEMS:
        return None
    return dims
