"""What each trn_isa instruction computes: `execute(instr, memory)` runs one decoded
instruction on a `Memory`.

Numerics (trn1.md B.2, B.3): the engines compute in fp32, so every arithmetic operand is
read as float32 (bf16, fp8, fp16 and integers converted exactly where fp32 can hold them)
and every result is rounded to the destination dtype when it is written (`Memory.write`:
round-to-nearest-even, as ml_dtypes does). Bitvec ALU ops (`bitwise_*`, `invert`,
`shift_left`, `logical_shift_right`) work on the integer values as 32-bit two's-complement
words (a logical shift right sees the 32-bit pattern) and the result wraps to the
destination's width. Comparisons and logical ops give 1.0 / 0.0.

Per opcode (`dst` is always written, the others read):

- `matmul`: `dst[M, N] = stationary[K, M]^T @ moving[K, N]` in fp32 (products of bf16 or
  fp8 values are exact in fp32; sums in fp32); `accumulate` adds onto `dst` in fp32
  after checking the PSUM accumulation rule (`PsumAccumulateError`, A.1).
- `transpose`: `dst[F, P] = src[P, F]` (an identity matmul; counts as a matmul write).
- `activation`: `dst = func(src * scale + bias)`; scale an immediate (default 1.0) or
  [P, 1], bias [P, 1] (default 0); `accum` ([P, 1]) gets each partition's fp32 sum of
  the results (before rounding to `dst`'s dtype). Functions: see `ACTIVATIONS`; `prelu`
  has no slope operand in trn_isa and raises `UnsupportedError`.
- `tensor_tensor`: `dst = lhs op rhs`; `tensor_scalar`: `dst = (src op0 operand0) op1
  operand1` with immediates or [P, 1] operands (see `alu` for the ops).
- `tensor_reduce`: reduce the last `axes` free dims of `src` with `op` (add, sub =
  first minus the rest, mul, max, min, bitwise and/or/xor, logical and/or/xor), negated
  when `negate`.
- `tensor_copy`, `dma_copy`: bit-exact copy when the dtypes match, else a cast through
  fp32. `dma_gather`: `dst[p, :] = table[indices[p], :]`, bit-exact; an index outside the
  table is an `OutOfBoundsError`. `reciprocal`: `1 / src`. `memset`: fill with `value`.
- `tensor_copy_predicated`: `dst = src` bit-exactly (same dtype: NaN payloads, -0.0 and
  infinities kept) where the predicate element is nonzero in its own dtype, else `dst`
  keeps its value (`dst` is read as well as written).
- `iota`: `dst = base + p * channel_multiplier + sum_k idx_k * step_k` (exact integers,
  converted to `dst`'s dtype); `affine_select`: `dst = cmp(that value, 0) ? src :
  on_false`.

`erf` is a vectorised rational approximation (max error 1.6e-8 in float64 arithmetic,
a few float32 ulps when evaluated in float32 as the simulator does), kept within [-1, 1]
and exactly +-1 where float32 erf rounds to +-1 (|x| >= 3.919206).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from trnc.simulator.errors import UnsupportedError
from trnc.simulator.memory import Memory
from trnc.simulator.program import AP, Instr

Array = np.ndarray[Any, Any]
F32 = np.dtype(np.float32)
I64 = np.dtype(np.int64)
_M32 = 0xFFFFFFFF

# --- erf ------------------------------------------------------------------------------

_ERF_CLAMP = 4.0
"""|x| beyond which erf is +-1 to within 1.6e-8 (the fit's domain)."""
_ERF_ONE = 3.919206
"""The least float32 |x| whose erf rounds to 1.0 in float32 (erf(3.9192057) is 1 - 3.0e-8,
which rounds to 1 - 2^-24): from there on erf is exactly +-1, as ONNX Erf gives, so that
`x * 0.5 * (1 + erf(x / sqrt 2))` (GELU) is exactly 0 for large negative x."""
_ERF_P = (
    1.1283791820743292,
    0.18471155509401274,
    0.054332822898035385,
    0.003839590490136097,
    0.00038269628782704,
    4.780600270008675e-06,
    -1.3667115030782222e-08,
)
_ERF_Q = (
    1.0,
    0.497029898753186,
    0.11382686634023702,
    0.015453647820324413,
    0.001309597623822838,
    6.400992914755173e-05,
)
"""erf(x) = x * P(x^2) / Q(x^2) on [-4, 4] (coefficients lowest first; a weighted
least-squares rational fit, max error 1.5e-9 on [0, 4])."""


def _poly(t: Array, coeffs: tuple[float, ...]) -> Array:
    out = np.full_like(t, coeffs[-1])
    for c in coeffs[-2::-1]:
        np.multiply(out, t, out=out)
        np.add(out, c, out=out)
    return out


def erf(x: Array) -> Array:
    """Vectorised erf, computed in the (floating) dtype of `x`: within [-1, 1], and
    exactly +-1 from |x| = `_ERF_ONE` on (NaN stays NaN)."""
    t = np.clip(x, -_ERF_CLAMP, _ERF_CLAMP)
    t2 = t * t
    num = _poly(t2, _ERF_P)
    np.multiply(num, t, out=num)
    np.divide(num, _poly(t2, _ERF_Q), out=num)
    np.clip(num, -1.0, 1.0, out=num)
    np.copyto(num, np.copysign(num.dtype.type(1.0), t), where=np.abs(t) >= _ERF_ONE)
    return num


# --- activation functions (trn1.md B.2 ScalarE "Functions") ---------------------------


def _sigmoid(y: Array) -> Array:
    out = np.tanh(y * 0.5)
    np.add(out, 1.0, out=out)
    np.multiply(out, 0.5, out=out)
    return out


def _gelu(y: Array) -> Array:
    out = erf(y * (1.0 / math.sqrt(2.0)))
    np.add(out, 1.0, out=out)
    np.multiply(out, y, out=out)
    np.multiply(out, 0.5, out=out)
    return out


def _gelu_tanh(y: Array) -> Array:
    inner = y * y
    np.multiply(inner, 0.044715, out=inner)
    np.add(inner, 1.0, out=inner)
    np.multiply(inner, y, out=inner)
    np.multiply(inner, math.sqrt(2.0 / math.pi), out=inner)
    out = np.tanh(inner, out=inner)
    np.add(out, 1.0, out=out)
    np.multiply(out, y, out=out)
    np.multiply(out, 0.5, out=out)
    return out


def _gelu_dx(y: Array) -> Array:
    # d/dy [y * Phi(y)] = Phi(y) + y * phi(y)
    phi = np.exp(y * y * -0.5) * (1.0 / math.sqrt(2.0 * math.pi))
    return (erf(y * (1.0 / math.sqrt(2.0))) + 1.0) * 0.5 + y * phi


def _silu_dx(y: Array) -> Array:
    s = _sigmoid(y)
    return s * (1.0 + y * (1.0 - s))


def _recip(y: Array) -> Array:
    return np.divide(1.0, y, dtype=y.dtype)


ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "copy": lambda y: y,
    "relu": lambda y: np.maximum(y, 0.0),
    "gelu": _gelu,
    "gelu_tanh": _gelu_tanh,
    "gelu_sigmoid": lambda y: y * _sigmoid(y * 1.702),
    "gelu_dx": _gelu_dx,
    "silu": lambda y: y * _sigmoid(y),
    "silu_dx": _silu_dx,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "softplus": lambda y: np.logaddexp(y.dtype.type(0), y),
    "mish": lambda y: y * np.tanh(np.logaddexp(y.dtype.type(0), y)),
    "exp": np.exp,
    "log": np.log,
    "erf": erf,
    "erf_dx": lambda y: np.exp(-(y * y)) * (2.0 / math.sqrt(math.pi)),
    "sqrt": np.sqrt,
    "rsqrt": lambda y: _recip(np.sqrt(y)),
    "reciprocal": _recip,
    "square": np.square,
    "abs": np.abs,
    "sign": np.sign,
    "sin": np.sin,
    "arctan": np.arctan,
}
"""ActivationFunc name -> fp32 function. gelu uses erf; gelu_tanh the tanh form;
gelu_sigmoid is `y * sigmoid(1.702 y)`; `*_dx` are the derivatives."""

# --- ALU ops (trn1.md B.3) ------------------------------------------------------------

Operand = Array | float | int


def _f32(a: Operand) -> Any:
    if isinstance(a, np.ndarray):
        return a if a.dtype == F32 else a.astype(F32)
    return np.float32(a)


def _ints(a: Operand) -> Any:
    if isinstance(a, np.ndarray):
        if a.dtype.kind in "iub":
            return a.astype(I64, copy=False)
        return np.nan_to_num(np.rint(a.astype(np.float64)), nan=0.0).astype(I64)
    return int(np.rint(a)) if math.isfinite(a) else 0


def _as_f32(a: Array) -> Array:
    return a.astype(F32)


ARITH_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "bypass": lambda a, b: a,
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "max": np.maximum,
    "min": np.minimum,
    "pow": np.power,
    "abs_max": lambda a, b: np.maximum(np.abs(a), np.abs(b)),
    "abs_min": lambda a, b: np.minimum(np.abs(a), np.abs(b)),
    "eq": lambda a, b: _as_f32(np.equal(a, b)),
    "ne": lambda a, b: _as_f32(np.not_equal(a, b)),
    "ge": lambda a, b: _as_f32(np.greater_equal(a, b)),
    "gt": lambda a, b: _as_f32(np.greater(a, b)),
    "le": lambda a, b: _as_f32(np.less_equal(a, b)),
    "lt": lambda a, b: _as_f32(np.less(a, b)),
    "logical_and": lambda a, b: _as_f32(np.logical_and(a, b)),
    "logical_or": lambda a, b: _as_f32(np.logical_or(a, b)),
    "logical_xor": lambda a, b: _as_f32(np.logical_xor(a, b)),
}
"""Arithmetic ALU ops on fp32 operands (`bypass` passes the first operand through)."""


def _shift(a: Any, s: Any, left: bool) -> Any:
    bits = np.bitwise_and(a, _M32).astype(np.uint64)
    amount = np.clip(s, 0, 64).astype(np.uint64)
    out = np.left_shift(bits, amount) if left else np.right_shift(bits, amount)
    return np.bitwise_and(out, _M32).astype(I64)


BITVEC_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "bitwise_and": np.bitwise_and,
    "bitwise_or": np.bitwise_or,
    "bitwise_xor": np.bitwise_xor,
    "invert": lambda a, b: np.invert(a),
    "shift_left": lambda a, b: _shift(a, b, True),
    "logical_shift_right": lambda a, b: _shift(a, b, False),
}
"""Bitvec ALU ops on integer values as 32-bit words (`invert` ignores its operand)."""


def alu(op: str, a: Operand, b: Operand, instr: Instr | None = None) -> Any:
    """`a op b` as the engines compute it (fp32 or, for bitvec ops, 32-bit integers)."""
    fn = ARITH_OPS.get(op)
    if fn is not None:
        return fn(_f32(a), _f32(b))
    fn = BITVEC_OPS.get(op)
    if fn is not None:
        return fn(_ints(a), _ints(b))
    raise _unsupported(f"ALU op {op!r}", instr)


def _unsupported(what: str, instr: Instr | None) -> UnsupportedError:
    if instr is None:
        return UnsupportedError(f"{what} is not supported by the simulator")
    return UnsupportedError(
        f"{what} is not supported by the simulator",
        (instr.index,),
        (f"{instr.loc} [{instr.opcode} #{instr.index}]",),
    )


# --- instructions ---------------------------------------------------------------------


def _operand(mem: Memory, ap: AP, instr: Instr, bitvec: bool = False) -> Array:
    """The AP's elements as `[partitions, free]`: fp32, or int64 for a bitvec op."""
    return mem.read_as(ap, I64 if bitvec else F32, instr).reshape(ap.partitions, -1)


def _scalar(mem: Memory, value: AP | float, instr: Instr, bitvec: bool = False) -> Operand:
    """An immediate, or a [P, 1] operand as a `[P, 1]` array."""
    if isinstance(value, AP):
        return _operand(mem, value, instr, bitvec)
    return value


_BLAS: list[ThreadpoolController] = []
"""The process's BLAS libraries (found once, when first needed)."""
_single = 0
"""How many `single_threaded_blas` contexts are open, in any thread."""
_single_lock = threading.Lock()
_restore: list[Any] = []
"""The limiter of the outermost open context (its exit restores BLAS's threads)."""


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS limited to one thread meanwhile (OpenBLAS sums in another order with more
    threads on some CPUs). `simulate` opens one for a whole run; `matmul_f32` opens its
    own when called outside one. Contexts open in several threads at once share one limit,
    lifted when the last of them closes."""
    global _single
    with _single_lock:
        if not _single:
            if not _BLAS:
                _BLAS.append(ThreadpoolController())
            _restore.append(_BLAS[0].limit(limits=1, user_api="blas"))
        _single += 1
    try:
        yield
    finally:
        with _single_lock:
            _single -= 1
            if not _single:
                _restore.pop().restore_original_limits()


def matmul_f32(st: Array, mv: Array) -> Array:
    """`st[K, M]^T @ mv[K, N]` in fp32: the one GEMM every matmul goes through.

    Both operands become C-contiguous fp32 arrays first, so numpy takes the same BLAS
    call (`sgemm`, or `sgemv`/`sdot` when a dimension is 1) for the same shapes however
    the operands lay in memory, and BLAS runs on one thread: the sums' order is then a
    function of the shapes alone, and a program's results are bit-identical from run to
    run and process to process on one machine (docs/SIMULATOR.md, "Determinism")."""
    st32 = np.ascontiguousarray(st, F32)
    mv32 = np.ascontiguousarray(mv, F32)
    if _single:
        return np.matmul(st32.T, mv32)
    with single_threaded_blas():
        return np.matmul(st32.T, mv32)


def _matmul(instr: Instr, mem: Memory) -> None:
    """`dst (+)= stationary^T @ moving`: operands read (pending loads straight from HBM),
    the product formed by `matmul_f32`, the PSUM accumulation rule checked, then `dst`
    written (fp32 PSUM in place: the same fp32 sums as `product + dst`, one pass
    fewer)."""
    args = instr.args
    dst: AP = args["dst"]
    accumulate = bool(args.get("accumulate", False))
    st = mem.operand(args["stationary"], instr)
    mv = mem.operand(args["moving"], instr)
    product = matmul_f32(st, mv)
    if accumulate:
        mem.check_accumulate(dst, instr)
    target = mem.psum_f32_matrix(dst, instr) if dst.dtype == "f32" else None
    if target is None or target.shape != product.shape:
        if accumulate:
            product += _operand(mem, dst, instr).reshape(product.shape)
        mem.write(dst, product, instr, by_matmul=True)
        return
    if accumulate:
        mem.check_initialized(dst, instr)
        target += product
    else:
        target[...] = product
    mem.mark_written(dst, instr, by_matmul=True)


def _transpose(instr: Instr, mem: Memory) -> None:
    args = instr.args
    mem.write(args["dst"], _operand(mem, args["src"], instr).T, instr, by_matmul=True)


def _activation(instr: Instr, mem: Memory) -> None:
    args = instr.args
    func = ACTIVATIONS.get(args["func"])
    if func is None:
        raise _unsupported(f"activation function {args['func']!r}", instr)
    y = _operand(mem, args["src"], instr)
    scale = args.get("scale", 1.0)
    if isinstance(scale, AP):
        y = y * _operand(mem, scale, instr)
    elif scale != 1.0:
        y = y * np.float32(scale)
    bias = args.get("bias")
    if bias is not None:
        y = y + _operand(mem, bias, instr)
    out = func(y)
    accum = args.get("accum")
    total = None if accum is None else np.sum(out, axis=1, dtype=F32)
    mem.write(args["dst"], out, instr)
    if accum is not None:
        mem.write(accum, total, instr)


def _tensor_tensor(instr: Instr, mem: Memory) -> None:
    args = instr.args
    op = args["op"]
    bitvec = op in BITVEC_OPS
    lhs = _operand(mem, args["lhs"], instr, bitvec)
    rhs = _operand(mem, args["rhs"], instr, bitvec)
    mem.write(args["dst"], alu(op, lhs, rhs, instr), instr)


def _tensor_scalar(instr: Instr, mem: Memory) -> None:
    args = instr.args
    op0 = args["op0"]
    bitvec = op0 in BITVEC_OPS
    out = alu(
        op0,
        _operand(mem, args["src"], instr, bitvec),
        _scalar(mem, args["operand0"], instr, bitvec),
        instr,
    )
    op1 = args.get("op1")
    if op1 is not None:
        out = alu(op1, out, _scalar(mem, args["operand1"], instr, op1 in BITVEC_OPS), instr)
    mem.write(args["dst"], out, instr)


def _reduce_sub(x: Array, axis: int) -> Array:
    first = np.take(x, 0, axis=axis)
    rest = np.sum(np.delete(x, 0, axis=axis), axis=axis, dtype=F32)
    return np.subtract(first, rest, dtype=F32)


REDUCE_OPS: dict[str, Callable[[Array, int], Any]] = {
    "add": lambda x, ax: np.sum(x, axis=ax, dtype=F32),
    "sub": _reduce_sub,
    "mul": lambda x, ax: np.prod(x, axis=ax, dtype=F32),
    "max": lambda x, ax: np.max(x, axis=ax),
    "min": lambda x, ax: np.min(x, axis=ax),
    "bitwise_and": lambda x, ax: np.bitwise_and.reduce(x, axis=ax),
    "bitwise_or": lambda x, ax: np.bitwise_or.reduce(x, axis=ax),
    "bitwise_xor": lambda x, ax: np.bitwise_xor.reduce(x, axis=ax),
    "logical_and": lambda x, ax: _as_f32(np.all(x != 0, axis=ax)),
    "logical_or": lambda x, ax: _as_f32(np.any(x != 0, axis=ax)),
    "logical_xor": lambda x, ax: _as_f32(np.count_nonzero(x, axis=ax) % 2),
}
"""tensor_reduce ops: fold one axis (the trailing free dims, flattened)."""


def _tensor_reduce(instr: Instr, mem: Memory) -> None:
    args = instr.args
    op, src, dst = args["op"], args["src"], args["dst"]
    fold = REDUCE_OPS.get(op)
    if fold is None:
        raise _unsupported(f"reduce op {op!r}", instr)
    axes = int(args.get("axes", 1))
    x = mem.read_as(src, I64 if op in BITVEC_OPS else F32, instr)
    x = x.reshape(*x.shape[: x.ndim - axes], -1)
    out = fold(x, -1)
    if args.get("negate", False):
        out = np.negative(out)
    mem.write(dst, out, instr)


def _copy(instr: Instr, mem: Memory) -> None:
    args = instr.args
    dst, src = args["dst"], args["src"]
    if dst.dtype == src.dtype:
        mem.copy(dst, src, instr)
    else:
        mem.write(dst, mem.read_as(src, F32, instr), instr)


def _copy_predicated(instr: Instr, mem: Memory) -> None:
    args = instr.args
    dst, src, predicate = args["dst"], args["src"], args["predicate"]
    if dst.dtype != src.dtype:
        raise _unsupported(f"a predicated copy from {src.dtype} to {dst.dtype}", instr)
    where = mem.read_as(predicate, predicate.np_dtype, instr) != 0
    mem.copy_where(dst, src, where, instr)


def _reciprocal(instr: Instr, mem: Memory) -> None:
    args = instr.args
    mem.write(args["dst"], _recip(_operand(mem, args["src"], instr)), instr)


def _memset(instr: Instr, mem: Memory) -> None:
    dst: AP = instr.args["dst"]
    value = float(instr.args["value"])
    if dst.np_dtype.kind in "iu" and math.isfinite(value):
        mem.write(dst, int(value), instr)
    else:
        mem.write(dst, np.float32(value), instr)


def affine_values(args: dict[str, Any], partitions: int) -> Array:
    """`base + p * channel_multiplier + sum_k idx_k * step_k` as int64, shape
    `[partitions, *pattern counts]`."""
    pattern: tuple[tuple[int, int], ...] = tuple(args["pattern"])
    ndim = 1 + len(pattern)
    shape = [partitions] + [1] * len(pattern)
    v = np.arange(partitions, dtype=I64).reshape(shape) * int(args["channel_multiplier"])
    v += int(args["base"])
    for k, (step, count) in enumerate(pattern, start=1):
        shape = [1] * ndim
        shape[k] = count
        v = v + np.arange(count, dtype=I64).reshape(shape) * step
    return v


def _iota(instr: Instr, mem: Memory) -> None:
    dst: AP = instr.args["dst"]
    values = affine_values(instr.args, dst.partitions)
    if dst.np_dtype.kind not in "iu":
        values = values.astype(F32)
    mem.write(dst, values, instr)


_COMPARE: dict[str, Callable[[Array, int], Array]] = {
    "eq": np.equal,
    "ne": np.not_equal,
    "ge": np.greater_equal,
    "gt": np.greater,
    "le": np.less_equal,
    "lt": np.less,
}


def _affine_select(instr: Instr, mem: Memory) -> None:
    args = instr.args
    dst, src = args["dst"], args["src"]
    cond = _COMPARE[args["cmp"]](affine_values(args, dst.partitions), 0)
    exact = np.float64 if src.np_dtype.kind in "iu" else F32
    x = mem.read_as(src, exact, instr).reshape(cond.shape)
    on_false = np.asarray(args["on_false"], exact)
    mem.write(dst, np.where(cond, x, on_false), instr)


def _dma_gather(instr: Instr, mem: Memory) -> None:
    """`dst[p, :] = table[indices[p], :]` (the indirect DMA of trn1.md A.3)."""
    args = instr.args
    dst, table = args["dst"], args["table"]
    indices = mem.read(args["indices"], instr).reshape(-1)
    rows = mem.gather_rows(table, indices, instr, args["indices"].start)
    mem.write(dst, rows.reshape(dst.partitions, -1), instr)


HANDLERS: dict[str, Callable[[Instr, Memory], None]] = {
    "matmul": _matmul,
    "transpose": _transpose,
    "activation": _activation,
    "tensor_tensor": _tensor_tensor,
    "tensor_scalar": _tensor_scalar,
    "tensor_reduce": _tensor_reduce,
    "tensor_copy": _copy,
    "tensor_copy_predicated": _copy_predicated,
    "reciprocal": _reciprocal,
    "memset": _memset,
    "iota": _iota,
    "affine_select": _affine_select,
    "dma_copy": _copy,
    "dma_gather": _dma_gather,
}
"""opcode -> function computing it."""


def execute(instr: Instr, memory: Memory) -> None:
    """Run one instruction on `memory` (see the module docstring for what each computes).
    Raises the simulator's typed errors (`OutOfBoundsError`, `PsumAccumulateError`,
    `UninitializedReadError` when strict, `UnsupportedError`)."""
    handler = HANDLERS.get(instr.opcode)
    if handler is None:
        raise _unsupported(f"opcode {instr.opcode!r}", instr)
    with np.errstate(all="ignore"):
        handler(instr, memory)
