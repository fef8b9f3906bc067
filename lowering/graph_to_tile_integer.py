"""`graph-to-tile` for integer arithmetic, made exact on the fp32 engines. A mixin of the
function lowerer.

On chip an integer tensor is f32 holding its exact values (see `graph_to_tile`), so fp32
arithmetic on it is exact while results stay within 2^24 in magnitude. This module lowers
the integer ops whose exact result provably stays there for every value of the operand
type (`exact_integer_op` decides from the element types alone), and gives ONNX's integer
semantics on top of the exact fp32 result with integer tiles and VectorE's bitvec ops:

* `add`, `sub`, `mul` (8- and 16-bit add and sub, 8-bit mul; int16 * int16 can reach 2^30
  and is refused): `Compute.binary` computes the exact sum, difference or product in fp32
  (any broadcast it lowers) into a scratch buffer, then a wrap pass per tile: the DMA loads
  it as i32 (exact for integral values), and VectorE wraps it around to the result type as
  ONNX's two's-complement arithmetic does (int8 100 + 100 = -56, uint8 3 - 5 = 254):
  `x & 0xFF`, and for a signed type `((x & 0xFF) ^ 0x80) - 0x80` (`_wrap`).
* `div` (8- and 16-bit; ONNX truncates toward zero): `Compute.binary` computes the fp32
  quotient `q = fl(a / b)` with the ALU's divide (correctly rounded, as the simulator
  models it), which `_truncate` truncates exactly, then signed results wrap (int8
  -128 / -1 = -128). Exact because `trunc(fl(a / b)) = trunc(a / b)` whenever
  `|a| + |b| < 2^24`: with `n = trunc(|a / b|)`, `|a / b| >= n` and `n` is an fp32 value,
  so `fl` (monotone) keeps it `>= n`; and `|a / b| <= n + 1 - 1 / |b|`, while reaching
  `n + 1` by rounding needs `|a / b| >= n + 1 - (n + 1) 2^-24`, i.e. `(n + 1) |b| >= 2^24`,
  but `(n + 1) |b| <= |a| + |b|`. A dividend that is a broadcast column or a compile-time
  scalar is refused: `Compute.binary` computes `c / x` as `c * (1 / x)`, which is not
  exact. Division by zero is undefined in ONNX (the reference interpreter raises); here it
  gives an unspecified value.
* `cast` from a float type to an integer type (ONNX truncates toward zero): `_truncate`,
  then narrow targets wrap as C++'s `static_cast` through int32 does (300.7 -> int8 44,
  -1.5 -> uint8 255). Out of range is undefined in ONNX: NaN gives 0, magnitudes beyond
  2^32 saturate before the sign is applied, and a signed (or narrower) result saturates at
  2^31 before it wraps (x86 gives the minimum of int32 there instead); a negative value
  cast to a 32- or 64-bit unsigned type gives 0, and a 64-bit result saturates at 2^31
  (2^32 unsigned), like the 32-bit HBM buffer of an int64 tensor.
* `cast` from an integer type to a narrower one of up to 24 bits (one that cannot hold
  every source value): the wrap pass alone (int32 300 -> int8 44).

Integer tiles: i32 (ui32 for the rounded magnitude and for 32- and 64-bit unsigned
results). A narrow result leaves the wrap pass as i32 and the store's DMA converts it (to
the f32 of a scratch buffer or the integer type of an output: exact either way); no -0.0
reaches memory.
"""

from __future__ import annotations

from xdsl.dialects.builtin import (
    AnyFloat,
    Float32Type,
    IntegerType,
    Signedness,
    TensorType,
)
from xdsl.ir import Attribute, Operation, SSAValue

from trnc.dialects import graph as g
from trnc.dialects import tile
from trnc.dialects.isa_common import ActivationFunc, AluOp
from trnc.lowering.graph_to_tile_host import LowererHost
from trnc.lowering.tile_builder import FREE_ELEMS, TileBuilder, sbuf, tiles
from trnc.lowering.tile_to_isa import LoweringError

FP32_EXACT = 2**24
"""Integers up to this magnitude are exact in fp32."""

WRAP_MAX_WIDTH = 24
"""The widest integer type the wrap pass handles (its mask is an fp32 immediate)."""

_ARITHMETIC = (g.AddOp, g.SubOp, g.MulOp, g.DivOp)

_I32 = IntegerType(32)
_UI32 = IntegerType(32, Signedness.UNSIGNED)


def _element(value: SSAValue) -> Attribute:
    t = value.type
    assert isinstance(t, TensorType)
    return t.get_element_type()


def _signed(t: IntegerType) -> bool:
    return t.signedness.data is not Signedness.UNSIGNED


def _range(t: IntegerType) -> tuple[int, int]:
    w = t.width.data
    return (-(2 ** (w - 1)), 2 ** (w - 1) - 1) if _signed(t) else (0, 2**w - 1)


def _magnitude(t: IntegerType) -> int:
    """The largest magnitude a value of `t` can have."""
    low, high = _range(t)
    return max(-low, high)


def _wraps(source: IntegerType, target: IntegerType) -> bool:
    """Whether some value of `source` is outside `target`'s range."""
    (slo, shi), (tlo, thi) = _range(source), _range(target)
    return slo < tlo or shi > thi


def _integer(t: Attribute) -> IntegerType | None:
    """`t` when it is an integer type (not a boolean), else None."""
    return t if isinstance(t, IntegerType) and t.width.data > 1 else None


def exact_integer_op(op: Operation) -> bool:
    """Whether `op` is integer arithmetic `IntegerArithmetic` lowers exactly (see the module
    docstring): add or sub whose operands' magnitudes sum to at most 2^24, mul whose
    magnitudes multiply to at most 2^24, div whose magnitudes sum to less than 2^24 (each
    with a result of at most `WRAP_MAX_WIDTH` bits), a cast from a float type to an
    integer type of at most `WRAP_MAX_WIDTH` bits, or a cast between integer types that can
    wrap around to a narrow one."""
    if isinstance(op, g.CastOp):
        source, target = _element(op.input), _integer(_element(op.result))
        if target is None:
            return False
        if isinstance(source, AnyFloat):
            # wider targets hold results beyond 2^24, which on-chip fp32 would round
            return target.width.data <= WRAP_MAX_WIDTH
        narrowed = _integer(source)
        return (
            narrowed is not None
            and target.width.data <= WRAP_MAX_WIDTH
            and _wraps(narrowed, target)
        )
    if not isinstance(op, _ARITHMETIC):
        return False
    element = _integer(_element(op.results[0]))
    if element is None or element.width.data > WRAP_MAX_WIDTH:
        return False
    m = _magnitude(element)
    if isinstance(op, g.MulOp):
        return m * m <= FP32_EXACT
    if isinstance(op, g.DivOp):
        return 2 * m < FP32_EXACT
    return 2 * m <= FP32_EXACT


class IntegerArithmetic(LowererHost):
    """Integer arithmetic lowerings; the host class provides `buffers`, `_shape`,
    `temporary` and (through `Compute`) `binary`."""

    def integer(self, op: Operation, b: TileBuilder) -> None:
        """Lower an op `exact_integer_op` accepts."""
        target = _integer(_element(op.results[0]))
        assert target is not None and exact_integer_op(op)
        if isinstance(op, g.CastOp):
            truncate = isinstance(_element(op.input), AnyFloat)
            self._integer_pass(op.input, op.result, target, truncate, b)
            return
        # the exact fp32 result into a scratch buffer, then truncated and/or wrapped
        out = op.results[0]
        final = self.buffers[out]
        t = out.type
        assert isinstance(t, TensorType)
        exact = self.temporary(tuple(t.get_shape()), target, op)
        self.buffers[out] = exact
        last = b.block.last_op
        try:
            self.binary(op, b)
        finally:
            self.buffers[out] = final
        divide = isinstance(op, g.DivOp)
        if divide:
            _check_true_division(op, last, b)
        # an unsigned quotient never leaves the type's range; the rest can
        wrap = not divide or _signed(target)
        self._integer_pass(out, out, target, divide, b, source=exact, wrap=wrap)

    def _integer_pass(
        self,
        src_v: SSAValue,
        dst_v: SSAValue,
        target: IntegerType,
        truncate: bool,
        b: TileBuilder,
        *,
        source: SSAValue | None = None,
        wrap: bool = True,
    ) -> None:
        """Per tile of `dst_v`: load `src_v` (or the buffer `source` of its shape), truncate
        toward zero (`truncate`: float values), wrap around to `target` when it is narrow
        (and `wrap`), store into `dst_v`'s buffer."""
        src = source if source is not None else self.buffers[src_v]
        dst = self.buffers[dst_v]
        rows, cols = self._shape(dst_v)
        narrow = target.width.data <= WRAP_MAX_WIDTH
        # 32- and 64-bit unsigned results stay unsigned words (up to 2^32 - 1)
        word = _I32 if narrow or _signed(target) else _UI32
        for r0, c0, p, f in tiles(rows, cols, FREE_ELEMS):
            if truncate:
                x = b.load(src, r0, c0, (p, f))
                y = b.alloc(sbuf((p, f), word))
                _truncate(x, y, b)
                b.free(x)
            else:  # integral values: the DMA converts them to i32 exactly
                y = b.load(src, r0, c0, (p, f), element=_I32)
            if narrow and wrap:
                _wrap(y, target, b)
            b.store(y, dst, r0, c0)
            b.free(y)


def _truncate(x: SSAValue, out: SSAValue, b: TileBuilder) -> None:
    """`out` (an i32 or ui32 tile) = `x` (float) truncated toward zero: `|x|` rounded to
    the nearest integer (the ALU writes a ui32 word: round to nearest even, saturating at
    2^32 - 1, NaN 0), less 1 where that went up (`round(|x|) > |x|`), times `sign(x)`.
    Every step is exact in fp32: `round(|x|)` is `|x|` itself from 2^23 up."""
    shape = tuple(x.type.get_shape())  # type: ignore[attr-defined]
    f32 = Float32Type()
    sign = b.alloc(sbuf(shape, f32))
    b.add(tile.ActivationOp(ActivationFunc.SIGN, x, sign))
    mag = b.alloc(sbuf(shape, f32))
    b.add(tile.TensorScalarOp(AluOp.ABS_MAX, x, 0.0, mag))
    rounded = b.alloc(sbuf(shape, _UI32))
    b.add(tile.TensorScalarOp(AluOp.ABS_MAX, x, 0.0, rounded))
    up = b.alloc(sbuf(shape, f32))
    b.add(tile.TensorTensorOp(AluOp.GT, rounded, mag, up))
    b.add(tile.TensorTensorOp(AluOp.SUB, rounded, up, mag))  # trunc(|x|)
    b.add(tile.TensorTensorOp(AluOp.MUL, mag, sign, out))
    b.free(sign, rounded, up, mag)


def _wrap(y: SSAValue, target: IntegerType, b: TileBuilder) -> None:
    """`y` (an i32 tile of integers) wrapped around to `target` in place: its low bits
    (`y & mask`), sign-extended for a signed type (`(y ^ top) - top`)."""
    width = target.width.data
    b.add(tile.TensorScalarOp(AluOp.BITWISE_AND, y, float(2**width - 1), y))
    if _signed(target):
        top = float(2 ** (width - 1))
        b.add(tile.TensorScalarOp(AluOp.BITWISE_XOR, y, top, y))
        b.add(tile.TensorScalarOp(AluOp.SUB, y, top, y))


def _check_true_division(op: Operation, last: Operation | None, b: TileBuilder) -> None:
    """Refuse an integer division whose fp32 quotient did not come from the ALU's divide
    alone (the ops emitted after `last`): `c / x` with the dividend a broadcast column or
    a compile-time scalar is `c * (1 / x)`, whose rounding can cross an integer."""
    emitted = b.block.first_op if last is None else last.next_op
    while emitted is not None:
        compute = isinstance(emitted, tile.TensorTensorOp | tile.TensorScalarOp)
        if isinstance(emitted, tile.ActivationOp) or (
            compute and emitted.op.data is not AluOp.DIV  # type: ignore[union-attr]
        ):
            raise LoweringError(
                f"graph-to-tile: integer '{op.name}' with the dividend broadcast along the "
                "last dim or a compile-time scalar is not lowered yet (its quotient would "
                "be c * (1 / x), which is not exact)",
                op,
            )
        emitted = emitted.next_op
