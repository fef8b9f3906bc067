"""The `graph-to-tile` pass: a `func.func` of `graph` ops -> a `func.func` of `tile` ops.

Layout rule (the simple one; a later pass makes layout global): every tensor lives in HBM
as a row-major 2-D buffer `[rows, cols]` (`cols` = its last dim, `rows` = the product of
the others; a scalar is `[1, 1]`), and every op is tiled over that 2-D view with rows on
the partitions (<= 128 per tile) and columns on the free axis:

* elementwise ops (same-shape operands): per tile, DMA the operands into SBUF, one
  instruction (ScalarE activation, VectorE ALU op or copy/cast), DMA the result out;
  at most `FREE_ELEMS` columns per tile;
* `graph.matmul` `[M, K] @ [K, N]` (or `[..., M, K] @ [K, N]`, batch folded into rows):
  per 128-row block of x, each 128-column block of x is DMA'd in, transposed on TensorE
  (via PSUM) and kept in SBUF as the stationary operand `x^T`; per 512-column block of w,
  the K blocks accumulate into one PSUM bank (`accumulate = false` on the first), which is
  copied to SBUF and DMA'd out. Any M, N, K.

The function's arguments become HBM buffers: the graph inputs, then the outputs (written
by the kernel), then scratch buffers for intermediate tensors and weights/constants
(`tile.role`), each named (`graph.name`) and with its graph shape (`tile.tensor_shape`)
so the compiled program's tensor table matches the graph's inputs and outputs. Buffers get
no addresses and DMAs no queues here: `tile-allocate` decides those. Ops outside the
supported set are a located error naming the op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    AnyFloat,
    ArrayAttr,
    BFloat16Type,
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    Float32Type,
    FunctionType,
    ModuleOp,
    StringAttr,
    TensorType,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import VerifyException

from trnc.dialects import graph as g
from trnc.dialects import tile
from trnc.dialects.graph.base import get_int, get_ints
from trnc.dialects.isa_common import ActivationFunc, AluOp
from trnc.dialects.tile.types import BufferType
from trnc.lowering.tile_to_isa import NAME_ATTR, ROLE_ATTR, SHAPE_ATTR, LoweringError
from trnc.machine import TRN1, Engine, Memory

FREE_ELEMS = 2048
"""Columns per elementwise tile (8 KiB of fp32 per partition per operand)."""
REDUCE_CHUNK = 8192
"""Columns per reduction instruction (32 KiB of fp32 per partition)."""

ACTIVATIONS: dict[type[Operation], ActivationFunc] = {
    g.ReluOp: ActivationFunc.RELU,
    g.TanhOp: ActivationFunc.TANH,
    g.SigmoidOp: ActivationFunc.SIGMOID,
    g.ExpOp: ActivationFunc.EXP,
    g.LogOp: ActivationFunc.LOG,
    g.ErfOp: ActivationFunc.ERF,
    g.SqrtOp: ActivationFunc.SQRT,
    g.RsqrtOp: ActivationFunc.RSQRT,
    g.ReciprocalOp: ActivationFunc.RECIPROCAL,
    g.AbsOp: ActivationFunc.ABS,
}
"""Unary graph ops that are one ScalarE activation."""

ALU: dict[type[Operation], AluOp] = {
    g.AddOp: AluOp.ADD,
    g.SubOp: AluOp.SUB,
    g.MulOp: AluOp.MUL,
    g.DivOp: AluOp.DIV,
    g.MaxOp: AluOp.MAX,
    g.MinOp: AluOp.MIN,
    g.PowOp: AluOp.POW,
}
"""Binary graph ops that are one VectorE ALU instruction."""


def flat2d(shape: Sequence[int]) -> tuple[int, int]:
    """The 2-D row-major view `[rows, cols]` of a tensor shape."""
    if not shape:
        return (1, 1)
    return (prod(shape[:-1]), shape[-1])


def _layout() -> tile.LayoutAttr:
    return tile.LayoutAttr.partition_major(2)


def sbuf(shape: tuple[int, int], element: Attribute) -> BufferType:
    return BufferType(shape, element, Memory.SBUF, _layout())


def psum(shape: tuple[int, int]) -> BufferType:
    return BufferType(shape, Float32Type(), Memory.PSUM, _layout())


def hbm(shape: tuple[int, int], element: Attribute) -> BufferType:
    return BufferType(shape, element, Memory.HBM)


class _Builder:
    """Emits tile ops into `block`, each located at the graph op it comes from."""

    def __init__(self, block: Block) -> None:
        self.block = block
        self.where: Operation | None = None

    def add(self, op: Operation) -> Operation:
        if self.where is not None:
            op.location = self.where.location
        self.block.add_op(op)
        return op

    def alloc(self, buf: BufferType) -> SSAValue:
        return self.add(tile.AllocOp(buf)).results[0]

    def view(self, source: SSAValue, offsets: Sequence[int], shape: tuple[int, int]) -> SSAValue:
        src = source.type
        assert isinstance(src, BufferType)
        result = BufferType(shape, src.element_type, src.memory.data, src.layout)
        if tuple(offsets) == (0, 0) and tuple(src.get_shape()) == shape:
            return source
        return self.add(tile.ViewOp(source, list(offsets), result)).results[0]

    def load(self, source: SSAValue, r0: int, c0: int, shape: tuple[int, int]) -> SSAValue:
        src = source.type
        assert isinstance(src, BufferType)
        buf = self.alloc(sbuf(shape, src.element_type))
        self.add(tile.DmaOp(self.view(source, (r0, c0), shape), buf))
        return buf

    def reinterpret(self, source: SSAValue, shape: tuple[int, int]) -> SSAValue:
        """The same HBM bytes as a row-major buffer of another 2-D shape (no data moves)."""
        src = source.type
        assert isinstance(src, BufferType)
        if tuple(src.get_shape()) == shape:
            return source
        result = BufferType(shape, src.element_type, Memory.HBM)
        return self.add(tile.ReinterpretOp(source, result)).results[0]

    def reinterpret_as(self, source: SSAValue, shape: tuple[int, ...]) -> SSAValue:
        """The same HBM bytes as a row-major buffer of any shape (no data moves)."""
        src = source.type
        assert isinstance(src, BufferType)
        if tuple(src.get_shape()) == shape:
            return source
        result = BufferType(shape, src.element_type, Memory.HBM)
        return self.add(tile.ReinterpretOp(source, result)).results[0]

    def store(self, buf: SSAValue, dest: SSAValue, r0: int, c0: int) -> None:
        shape = buf.type.get_shape()  # type: ignore[attr-defined]
        self.add(tile.DmaOp(buf, self.view(dest, (r0, c0), tuple(shape))))

    def free(self, *bufs: SSAValue) -> None:
        for b in bufs:
            self.add(tile.DeallocOp(b))


def _tiles(rows: int, cols: int, free: int) -> list[tuple[int, int, int, int]]:
    return [
        (r0, c0, min(TRN1.partitions, rows - r0), min(free, cols - c0))
        for r0 in range(0, rows, TRN1.partitions)
        for c0 in range(0, cols, free)
    ]


WEIGHT_FILE_ATTR = "tile.weight_file"
WEIGHT_OFFSET_ATTR = "tile.weight_offset"
VALUE_ATTR = "tile.value"
"""Argument attributes saying where a weight argument's data comes from: a raw weights
file and byte offset (from `graph.weight`), or an inline value (from `graph.constant`)."""


def _weight_source(op: g.WeightOp | g.ConstantOp) -> dict[str, Attribute]:
    if isinstance(op, g.WeightOp):
        return {WEIGHT_FILE_ATTR: op.file, WEIGHT_OFFSET_ATTR: op.offset}
    return {VALUE_ATTR: op.value}


_DATA_MOVEMENT = (g.ReshapeOp, g.ConcatOp, g.SliceOp)
"""Ops lowered to DMA copies only, exact for any element type (a transpose goes through
TensorE's fp32 datapath, a cast to an integer would need a rounding rule)."""


def _element(value: SSAValue) -> Attribute:
    t = value.type
    assert isinstance(t, TensorType)
    return t.get_element_type()


def _scalar_constant(value: SSAValue) -> float | None:
    """The value of a one-element `graph.constant` (any shape), else None."""
    owner = value.owner
    if not isinstance(owner, g.ConstantOp):
        return None
    attr = owner.value
    if not isinstance(attr, DenseIntOrFPElementsAttr):
        return None
    t = value.type
    assert isinstance(t, TensorType)
    if prod(t.get_shape()) != 1:
        return None
    return float(attr.get_values()[0])


def coalesce(
    out: tuple[int, ...], shapes: Sequence[tuple[int, ...]]
) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
    """Broadcasting shapes with size-1 output dims dropped and adjacent dims merged where
    every operand is broadcast (or not) alike: `[1,16,32,32]` with `[16,1,1]` becomes
    `[16, 1024]` with `[16, 1]`. Row-major element order is kept, so the buffers can be
    reinterpreted in the merged shapes."""
    padded = [(1,) * (len(out) - len(s)) + tuple(s) for s in shapes]
    dims = [d for d in range(len(out)) if out[d] != 1]
    merged_out: list[int] = []
    merged: list[list[int]] = [[] for _ in shapes]
    previous: tuple[bool, ...] | None = None
    for d in dims:
        status = tuple(p[d] == out[d] for p in padded)
        if status == previous:
            merged_out[-1] *= out[d]
            for m, p in zip(merged, padded, strict=True):
                m[-1] *= p[d]
        else:
            merged_out.append(out[d])
            for m, p in zip(merged, padded, strict=True):
                m.append(p[d])
        previous = status
    return tuple(merged_out), [tuple(m) for m in merged]


def _kind(shape: tuple[int, int], out: tuple[int, int]) -> str | None:
    """How a coalesced 2-D operand meets the coalesced 2-D output: `full`, `row` (one row
    for every row), `col` (one value per row), else None."""
    if shape == out:
        return "full"
    if shape == (1, out[1]) and out[0] > 1:
        return "row"
    if shape == (out[0], 1) and out[1] > 1:
        return "col"
    return None


class _FunctionLowerer:
    def __init__(self, function: func.FuncOp, dtype: str = "fp32") -> None:
        self.function = function
        self.dtype = dtype
        self.buffers: dict[SSAValue, SSAValue] = {}
        """graph value -> the HBM buffer (a function argument) holding it"""
        self.args: list[tuple[BufferType, str, str]] = []  # (type, name, role)
        self.shapes: list[tuple[int, ...]] = []  # each argument's graph tensor shape
        self.sources: list[dict[str, Attribute]] = []  # where a weight argument's data is

    def _arg_names(self, attrs: ArrayAttr[DictionaryAttr] | None, n: int, prefix: str) -> list[str]:
        names = []
        for i in range(n):
            entry = attrs.data[i].data.get(NAME_ATTR) if attrs is not None else None
            names.append(entry.data if isinstance(entry, StringAttr) else f"{prefix}{i}")
        return names

    def lower(self) -> func.FuncOp:
        fn = self.function
        self.sources = []
        block = fn.body.block
        ret = block.last_op
        assert isinstance(ret, func.ReturnOp)
        in_names = self._arg_names(fn.arg_attrs, len(block.args), "arg")
        out_names = self._arg_names(fn.res_attrs, len(ret.arguments), "output")
        new_block = Block()
        builder = _Builder(new_block)

        def new_arg(value: SSAValue, name: str, role: str) -> SSAValue:
            t = value.type
            assert isinstance(t, TensorType)
            if 0 in t.get_shape():
                owner = value.owner if isinstance(value.owner, Operation) else fn
                raise LoweringError(
                    f"graph-to-tile: tensor '{name}' ({t}) has no elements; zero-size tensors "
                    "are not lowered yet",
                    owner,
                )
            try:
                buf = hbm(flat2d(t.get_shape()), t.get_element_type())
            except VerifyException as error:
                owner = value.owner if isinstance(value.owner, Operation) else fn
                raise LoweringError(
                    f"graph-to-tile: tensor '{name}' ({t}) is not lowered yet: "
                    f"{str(error).strip()}",
                    owner,
                ) from None
            arg = new_block.insert_arg(buf, len(new_block.args))
            taken = {n for _, n, _ in self.args}
            unique, k = name, 1
            while unique in taken:  # e.g. a weight returned as an output of the same name
                unique, k = f"{name}.{k}", k + 1
            self.args.append((buf, unique, role))
            self.shapes.append(tuple(t.get_shape()))
            self.sources.append({})
            return arg

        for arg_value, name in zip(block.args, in_names, strict=True):
            self.buffers[arg_value] = new_arg(arg_value, name, "input")
        copies: list[tuple[SSAValue, SSAValue]] = []  # (graph value, output buffer)
        for value, name in zip(ret.arguments, out_names, strict=True):
            if value in self.buffers or not isinstance(value.owner, Operation):
                # an input returned as is, or a value returned twice: copied at the end
                copies.append((value, new_arg(value, name, "output")))
                continue
            self.buffers[value] = new_arg(value, name, "output")
        scratch = 0
        for op in block.ops:
            if isinstance(op, func.ReturnOp):
                continue
            builder.where = op
            try:
                for result in op.results:
                    if isinstance(op, g.WeightOp | g.ConstantOp) and result in self.buffers:
                        # a weight returned as an output: its own argument, then a copy
                        copies.append((result, self.buffers[result]))
                        del self.buffers[result]
                    if result in self.buffers or isinstance(op, g.ReshapeOp):
                        continue  # a reshape aliases its input's bytes (see `reshape`)
                    if _scalar_constant(result) is not None and all(
                        type(use.operation) in ALU for use in result.uses
                    ):
                        continue  # folded into its users as an immediate
                    if isinstance(op, g.WeightOp | g.ConstantOp):
                        name = (
                            op.weight_name.data if isinstance(op, g.WeightOp) else f"const{scratch}"
                        )
                        self.buffers[result] = new_arg(result, name, "weight")
                        self.sources[-1] = _weight_source(op)
                    else:
                        self.buffers[result] = new_arg(result, f"tmp{scratch}", "scratch")
                    scratch += 1
                self.lower_op(op, builder)
            except LoweringError:
                raise
            except (VerifyException, ValueError) as error:
                message = str(error).strip().splitlines()[0] if str(error).strip() else ""
                raise LoweringError(f"graph-to-tile: {message}", op) from None
        builder.where = ret
        for value, out in copies:
            rows, cols = self._shape(value)
            self._copy_window(self.buffers[value], 0, out, 0, rows, cols, builder)
        builder.where = None
        new_block.add_op(func.ReturnOp())
        arg_attrs = ArrayAttr(
            [
                DictionaryAttr(
                    {
                        NAME_ATTR: StringAttr(n),
                        ROLE_ATTR: StringAttr(r),
                        SHAPE_ATTR: DenseArrayBase.from_list(i64, list(shape)),
                        **source,
                    }
                )
                for (_, n, r), shape, source in zip(
                    self.args, self.shapes, self.sources, strict=True
                )
            ]
        )
        result = func.FuncOp(
            fn.sym_name.data,
            FunctionType.from_lists([t for t, _, _ in self.args], []),
            Region(new_block),
            arg_attrs=arg_attrs,
        )
        result.location = fn.location
        return result

    def lower_op(self, op: Operation, b: _Builder) -> None:
        if isinstance(op, g.WeightOp | g.ConstantOp):
            return  # data supplied with the weights; see the module docstring
        exact = isinstance(op, _DATA_MOVEMENT) or (
            isinstance(op, g.CastOp) and isinstance(_element(op.result), AnyFloat)
        )
        if not exact and any(
            not isinstance(_element(v), AnyFloat) for v in (*op.operands, *op.results)
        ):
            raise LoweringError(
                f"graph-to-tile: '{op.name}' on integer or boolean tensors is not lowered yet "
                "(the engines compute in fp32, so integer results need care)",
                op,
            )
        if type(op) in ACTIVATIONS or isinstance(op, g.NegOp | g.CastOp | g.GeluOp):
            self.unary(op, b)
        elif type(op) in ALU:
            self.binary(op, b)
        elif isinstance(op, g.MatmulOp):
            self.matmul(op, b)
        elif isinstance(op, g.ReduceSumOp | g.ReduceMaxOp | g.ReduceMeanOp):
            self.reduce(op, b)
        elif isinstance(op, g.ReshapeOp):
            self.reshape(op, b)
        elif isinstance(op, g.TransposeOp):
            self.transpose(op, b)
        elif isinstance(op, g.ConcatOp):
            self.concat(op, b)
        elif isinstance(op, g.SliceOp):
            self.slice(op, b)
        else:
            raise LoweringError(f"graph-to-tile: '{op.name}' is not lowered yet", op)

    def _shape(self, value: SSAValue) -> tuple[int, int]:
        t = value.type
        assert isinstance(t, TensorType)
        return flat2d(t.get_shape())

    def unary(self, op: Operation, b: _Builder) -> None:
        src, dst = self.buffers[op.operands[0]], self.buffers[op.results[0]]
        rows, cols = self._shape(op.results[0])
        out_t = op.results[0].type
        assert isinstance(out_t, TensorType)
        for r0, c0, p, f in _tiles(rows, cols, FREE_ELEMS):
            x = b.load(src, r0, c0, (p, f))
            y = b.alloc(sbuf((p, f), out_t.get_element_type()))
            if isinstance(op, g.NegOp):
                b.add(tile.TensorScalarOp(AluOp.MUL, x, -1.0, y))
            elif isinstance(op, g.CastOp):
                b.add(tile.CopyOp(x, y, Engine.VECTOR))
            elif isinstance(op, g.GeluOp):
                tanh = op.approximate.data == "tanh"
                func = ActivationFunc.GELU_TANH if tanh else ActivationFunc.GELU
                b.add(tile.ActivationOp(func, x, y))
            else:
                b.add(tile.ActivationOp(ACTIVATIONS[type(op)], x, y))
            b.store(y, dst, r0, c0)
            b.free(x, y)

    def binary(self, op: Operation, b: _Builder) -> None:
        lhs_v, rhs_v = op.operands[0], op.operands[1]
        for value, other, on_left in ((rhs_v, lhs_v, False), (lhs_v, rhs_v, True)):
            scalar = _scalar_constant(value)
            if scalar is not None and other.type == op.results[0].type:
                self.with_scalar(op, other, scalar, on_left, b)
                return
        out_t = op.results[0].type
        assert isinstance(out_t, TensorType)
        shapes = [tuple(v.type.get_shape()) for v in (lhs_v, rhs_v)]  # type: ignore[attr-defined]
        merged_out, merged = coalesce(tuple(out_t.get_shape()), shapes)
        # Up to one leading group is looped over (`blocks`): [A, B, C] with each operand
        # [A or 1, ...]; the trailing two groups are the 2-D problem of each block.
        outer = merged_out[0] if len(merged_out) == 3 else 1
        lead = [m[0] for m in merged] if len(merged_out) == 3 else [1, 1]
        tail_out = merged_out[1:] if len(merged_out) == 3 else merged_out
        tails = [m[1:] for m in merged] if len(merged_out) == 3 else merged
        kinds: list[str | None] = [None, None]
        if len(merged_out) <= 3:
            pad = (1,) * (2 - len(tail_out))
            out2 = pad + tuple(tail_out)
            ops2 = [pad + tuple(t) for t in tails]
            kinds = [_kind(m, out2) for m in ops2]  # type: ignore[arg-type]
        if None in kinds or kinds == ["row", "row"] or ("col" in kinds and "row" in kinds):
            raise LoweringError(
                "graph-to-tile: this broadcast is not lowered yet (operands "
                f"{lhs_v.type} and {rhs_v.type}; lowered: same elements, a compile-time "
                "scalar, or one operand repeated along one group of dims of the other)",
                op,
            )
        rows, cols = out2
        lhs = b.reinterpret(self.buffers[lhs_v], (lead[0] * ops2[0][0], ops2[0][1]))
        rhs = b.reinterpret(self.buffers[rhs_v], (lead[1] * ops2[1][0], ops2[1][1]))
        dst = b.reinterpret(self.buffers[op.results[0]], (outer * rows, cols))
        blocks = [
            (a * rows, [a * ops2[i][0] if lead[i] > 1 else 0 for i in range(2)])
            for a in range(outer)
        ]
        element = out_t.get_element_type()
        alu = ALU[type(op)]
        free = TRN1.matmul_max_moving_free if "row" in kinds else FREE_ELEMS
        ones = None
        if "row" in kinds:  # broadcast a row to the partitions with a K=1 matmul by ones
            ones = b.alloc(sbuf((1, TRN1.partitions), Float32Type()))
            b.add(tile.MemsetOp(ones, 1.0))
        tiles = [
            (base, bases, r0, c0, p, f)
            for base, bases in blocks
            for r0, c0, p, f in _tiles(rows, cols, free)
        ]
        for base, bases, r0, c0, p, f in tiles:
            operands: list[SSAValue] = []
            temps: list[SSAValue] = []
            for kind, buf, ob in zip(kinds, (lhs, rhs), bases, strict=True):
                if kind == "full":
                    operands.append(b.load(buf, ob + r0, c0, (p, f)))
                    temps.append(operands[-1])
                elif kind == "col":
                    operands.append(b.load(buf, ob + r0, 0, (p, 1)))
                    temps.append(operands[-1])
                else:
                    assert ones is not None
                    row = b.load(buf, ob, c0, (1, f))
                    spread = b.alloc(psum((p, f)))
                    ones_p = b.view(ones, (0, 0), (1, p))
                    b.add(tile.MatmulOp(ones_p, row, spread, accumulate=False))
                    operands.append(spread)
                    temps += [row, spread]
            z = b.alloc(sbuf((p, f), element))
            if "col" in kinds:
                col_left = kinds[0] == "col"
                full_op = operands[1] if col_left else operands[0]
                col_op = operands[0] if col_left else operands[1]
                self._with_column(alu, full_op, col_op, z, col_left, op, b)
            else:
                b.add(tile.TensorTensorOp(alu, operands[0], operands[1], z))
            b.store(z, dst, base + r0, c0)
            b.free(*temps, z)
        if ones is not None:
            b.free(ones)

    def _with_column(
        self,
        alu: AluOp,
        full: SSAValue,
        column: SSAValue,
        out: SSAValue,
        column_left: bool,
        op: Operation,
        b: _Builder,
    ) -> None:
        """`x op c` with a per-partition [P, 1] operand `c` (VectorE tensor_scalar); `c - x`
        and `c / x` through a negation or reciprocal first."""
        if not column_left or alu in (AluOp.ADD, AluOp.MUL, AluOp.MAX, AluOp.MIN):
            b.add(tile.TensorScalarOp(alu, full, column, out))
            return
        shape = full.type.get_shape()  # type: ignore[attr-defined]
        element = out.type.element_type  # type: ignore[attr-defined]
        t = b.alloc(sbuf(tuple(shape), element))
        if alu is AluOp.SUB:
            b.add(tile.TensorScalarOp(AluOp.MUL, full, -1.0, t))
            b.add(tile.TensorScalarOp(AluOp.ADD, t, column, out))
        elif alu is AluOp.DIV:
            b.add(tile.ActivationOp(ActivationFunc.RECIPROCAL, full, t))
            b.add(tile.TensorScalarOp(AluOp.MUL, t, column, out))
        else:
            raise LoweringError(
                f"graph-to-tile: {alu.value} with a broadcast column on the left is not "
                "lowered yet",
                op,
            )
        b.free(t)

    def with_scalar(
        self, op: Operation, x_v: SSAValue, value: float, on_left: bool, b: _Builder
    ) -> None:
        """`x op c` (or `c op x`) with a compile-time scalar `c`: one VectorE tensor_scalar
        (two for `c - x` and `c / x`)."""
        alu = ALU[type(op)]
        src, dst = self.buffers[x_v], self.buffers[op.results[0]]
        rows, cols = self._shape(op.results[0])
        out_t = op.results[0].type
        assert isinstance(out_t, TensorType)
        element = out_t.get_element_type()
        for r0, c0, p, f in _tiles(rows, cols, FREE_ELEMS):
            x = b.load(src, r0, c0, (p, f))
            y = b.alloc(sbuf((p, f), element))
            if on_left and alu is AluOp.SUB:  # c - x = (-1 * x) + c
                t = b.alloc(sbuf((p, f), element))
                b.add(tile.TensorScalarOp(AluOp.MUL, x, -1.0, t))
                b.add(tile.TensorScalarOp(AluOp.ADD, t, value, y))
                b.free(t)
            elif on_left and alu is AluOp.DIV:  # c / x = c * (1 / x)
                t = b.alloc(sbuf((p, f), element))
                b.add(tile.ActivationOp(ActivationFunc.RECIPROCAL, x, t))
                b.add(tile.TensorScalarOp(AluOp.MUL, t, value, y))
                b.free(t)
            elif on_left and alu is AluOp.POW:
                raise LoweringError(
                    "graph-to-tile: pow with a constant base is not lowered yet", op
                )
            else:
                b.add(tile.TensorScalarOp(alu, x, value, y))
            b.store(y, dst, r0, c0)
            b.free(x, y)

    def transpose(self, op: g.TransposeOp, b: _Builder) -> None:
        """A permutation that swaps two adjacent groups of trailing dims (`[.., A.., B..]
        -> [.., B.., A..]`: 2-D transposes, NCHW <-> NHWC, ...) as batched 2-D transposes
        on TensorE, 128 x 128 blocks through PSUM."""
        in_t = op.input.type
        assert isinstance(in_t, TensorType)
        shape = tuple(in_t.get_shape())
        perm = list(get_ints(op.perm))
        n = len(shape)
        k = next((i for i, p in enumerate(perm) if p != i), n)
        if k == n:  # the identity
            self.copy_into(op.input, op.result, b)
            return
        j = perm[k]
        if perm != [*range(k), *range(j, n), *range(k, j)]:
            raise LoweringError(
                f"graph-to-tile: transpose with perm {perm} is not lowered yet (lowered: "
                "swapping two adjacent groups of trailing dims)",
                op,
            )
        outer, a, c = prod(shape[:k]), prod(shape[k:j]), prod(shape[j:])
        src = b.reinterpret(self.buffers[op.input], (outer * a, c))
        dst = b.reinterpret(self.buffers[op.result], (outer * c, a))
        element = in_t.get_element_type()
        part = TRN1.partitions
        for o in range(outer):
            for a0 in range(0, a, part):
                at = min(part, a - a0)
                for c0 in range(0, c, part):
                    ct = min(part, c - c0)
                    x = b.load(src, o * a + a0, c0, (at, ct))
                    t = b.alloc(psum((ct, at)))
                    b.add(tile.TransposeOp(x, t))
                    y = b.alloc(sbuf((ct, at), element))
                    b.add(tile.CopyOp(t, y, Engine.VECTOR))
                    b.store(y, dst, o * c + c0, a0)
                    b.free(x, t, y)

    def _copy_window(
        self,
        src: SSAValue,
        src_c0: int,
        dst: SSAValue,
        dst_c0: int,
        rows: int,
        cols: int,
        b: _Builder,
    ) -> None:
        """Copy `src[:, src_c0 : src_c0 + cols]` to `dst[:, dst_c0 : ...]` through SBUF."""
        for r0, c0, p, f in _tiles(rows, cols, FREE_ELEMS):
            x = b.load(src, r0, src_c0 + c0, (p, f))
            b.store(x, dst, r0, dst_c0 + c0)
            b.free(x)

    def concat(self, op: g.ConcatOp, b: _Builder) -> None:
        """Concatenation on axis k: with P = prod(dims before k), every input is a
        [P, its rest] window of the output seen as [P, prod(dims from k)]."""
        out_t = op.result.type
        assert isinstance(out_t, TensorType)
        shape = tuple(out_t.get_shape())
        k = get_int(op.axis) % len(shape)
        outer = prod(shape[:k])
        dst = b.reinterpret(self.buffers[op.result], (outer, prod(shape[k:])))
        offset = 0
        for value in op.inputs:
            t = value.type
            assert isinstance(t, TensorType)
            width = prod(t.get_shape()[k:])
            if width:
                src = b.reinterpret(self.buffers[value], (outer, width))
                self._copy_window(src, 0, dst, offset, outer, width, b)
            offset += width

    def slice(self, op: g.SliceOp, b: _Builder) -> None:
        """A slice with positive steps, as strided DMAs: the input is seen with each sliced
        axis as its own dim and each run of untouched dims merged into one (at most 5
        dims), the first dim on the partitions (128 at a time), the rest on the free axis
        (the second chunked to `FREE_ELEMS` elements per partition); each tile is one
        strided view into SBUF and out again. Negative steps are not lowered yet."""
        in_t, out_t = op.input.type, op.result.type
        assert isinstance(in_t, TensorType) and isinstance(out_t, TensorType)
        shape, out = tuple(in_t.get_shape()), tuple(out_t.get_shape())
        n = len(shape)
        axes = (
            [a % n for a in get_ints(op.axes)]
            if op.axes is not None
            else list(range(len(get_ints(op.starts))))
        )
        steps = list(get_ints(op.steps)) if op.steps is not None else [1] * len(axes)
        sliced: dict[int, tuple[int, int]] = {}
        for a, st, sp in zip(axes, get_ints(op.starts), steps, strict=True):
            if sp < 1:
                raise LoweringError("graph-to-tile: negative slice steps are not lowered yet", op)
            if shape[a] != out[a] or sp != 1:
                st = st + shape[a] if st < 0 else st
                sliced[a] = (max(0, min(shape[a] - 1, st)), sp)
        if not sliced:
            self.copy_into(op.input, op.result, b)
            return
        # groups: (input size, output size, start, step)
        groups: list[list[int]] = []
        for d in range(n):
            if d in sliced:
                groups.append([shape[d], out[d], *sliced[d]])
            elif (
                groups
                and groups[-1][3] == 1
                and groups[-1][0] == groups[-1][1]
                and (d - 1 not in sliced)
            ):
                groups[-1][0] *= shape[d]
                groups[-1][1] *= shape[d]
            else:
                groups.append([shape[d], shape[d], 0, 1])
        if len(groups) > 5:
            raise LoweringError(
                "graph-to-tile: this slice needs more than 4 free dims (not lowered yet)", op
            )
        if len(groups) == 1:
            groups.insert(0, [1, 1, 0, 1])
        src = b.reinterpret_as(self.buffers[op.input], tuple(g[0] for g in groups))
        dst = b.reinterpret_as(self.buffers[op.result], tuple(g[1] for g in groups))
        element = in_t.get_element_type()
        rest = prod(g[1] for g in groups[2:])
        if rest > FREE_ELEMS * 8:
            raise LoweringError(
                "graph-to-tile: this slice's rows are too wide (not lowered yet)", op
            )
        chunk = max(1, FREE_ELEMS // max(1, rest))
        first, second = groups[0], groups[1]
        for r0 in range(0, first[1], TRN1.partitions):
            p = min(TRN1.partitions, first[1] - r0)
            for c0 in range(0, second[1], chunk):
                ct = min(chunk, second[1] - c0)
                window = (p, ct, *(g[1] for g in groups[2:]))
                offsets = [
                    first[2] + r0 * first[3],
                    second[2] + c0 * second[3],
                    *(g[2] for g in groups[2:]),
                ]
                hbm_t = BufferType(window, element, Memory.HBM)
                view = b.add(
                    tile.ViewOp(src, offsets, hbm_t, strides=[g[3] for g in groups])
                ).results[0]
                layout = tile.LayoutAttr.partition_major(len(window))
                t = b.alloc(BufferType(window, element, Memory.SBUF, layout))
                b.add(tile.DmaOp(view, t))
                out_offsets = [r0, c0, *([0] * (len(window) - 2))]
                out_view = b.add(tile.ViewOp(dst, out_offsets, hbm_t)).results[0]
                b.add(tile.DmaOp(t, out_view))
                b.free(t)

    def copy_into(self, source: SSAValue, result: SSAValue, b: _Builder) -> None:
        src, dst = self.buffers[source], self.buffers[result]
        rows, cols = self._shape(result)
        for r0, c0, p, f in _tiles(rows, cols, FREE_ELEMS):
            x = b.load(src, r0, c0, (p, f))
            b.store(x, dst, r0, c0)
            b.free(x)

    def reshape(self, op: g.ReshapeOp, b: _Builder) -> None:
        """Row-major tensors: a reshape is the same bytes (`tile.reinterpret`, no data
        moves), unless the result is a graph output with its own buffer: then a copy."""
        src = self.buffers[op.input]
        rows, cols = self._shape(op.result)
        alias = b.reinterpret(src, (rows, cols))
        dst = self.buffers.get(op.result)
        if dst is None:
            self.buffers[op.result] = alias
            return
        out_t = op.result.type
        assert isinstance(out_t, TensorType)
        for r0, c0, p, f in _tiles(rows, cols, FREE_ELEMS):
            x = b.load(alias, r0, c0, (p, f))
            b.store(x, dst, r0, c0)
            b.free(x)

    def reduce(self, op: g.ReduceOp, b: _Builder) -> None:
        """A reduction over trailing axes: the input seen as [rows, n] (n = the product of
        the reduced dims), each row tile reduced along the free axis by VectorE in chunks
        of `REDUCE_CHUNK` columns combined with the same op (the mean scales the sum)."""
        in_t = op.input.type
        assert isinstance(in_t, TensorType)
        shape = tuple(in_t.get_shape())
        axes = sorted({a % len(shape) for a in get_ints(op.axes)}) if shape else []
        if not axes:  # ONNX: no axes means every axis
            axes = list(range(len(shape)))
        if axes != list(range(len(shape) - len(axes), len(shape))):
            raise LoweringError(
                f"graph-to-tile: reductions over non-trailing axes {axes} of {list(shape)} "
                "are not lowered yet",
                op,
            )
        if not isinstance(in_t.get_element_type(), Float32Type):
            raise LoweringError("graph-to-tile: reductions are lowered for f32 only", op)
        n = prod(shape[len(shape) - len(axes) :]) if axes else 1
        rows = prod(shape) // n if n else 0
        src = b.reinterpret(self.buffers[op.input], (rows, n))
        dst = b.reinterpret(self.buffers[op.results[0]], (rows, 1))
        alu = AluOp.MAX if isinstance(op, g.ReduceMaxOp) else AluOp.ADD
        element = in_t.get_element_type()
        for r0 in range(0, rows, TRN1.partitions):
            p = min(TRN1.partitions, rows - r0)
            acc = b.alloc(sbuf((p, 1), element))
            for i, c0 in enumerate(range(0, n, REDUCE_CHUNK)):
                f = min(REDUCE_CHUNK, n - c0)
                x = b.load(src, r0, c0, (p, f))
                part = acc if i == 0 else b.alloc(sbuf((p, 1), element))
                b.add(tile.ReduceOp(alu, x, [1], part))
                if i:
                    b.add(tile.TensorTensorOp(alu, acc, part, acc))
                    b.free(part)
                b.free(x)
            if isinstance(op, g.ReduceMeanOp):
                b.add(tile.TensorScalarOp(AluOp.MUL, acc, 1.0 / n, acc))
            b.store(acc, dst, r0, 0)
            b.free(acc)

    def matmul(self, op: g.MatmulOp, b: _Builder) -> None:
        """`[..., M, K] @ [K, N]` (batch folded into M) or `[B..., M, K] @ [B..., K, N]`
        with the same batch dims (one 2-D matmul per batch index)."""
        lhs_t, rhs_t = op.lhs.type, op.rhs.type
        assert isinstance(lhs_t, TensorType) and isinstance(rhs_t, TensorType)
        ls, rs = tuple(lhs_t.get_shape()), tuple(rhs_t.get_shape())
        if len(ls) < 2 or len(rs) < 2 or (len(rs) > 2 and ls[:-2] != rs[:-2]):
            raise LoweringError(
                "graph-to-tile: matmul is lowered for [..., M, K] @ [K, N] and for equal batch "
                "dims on both sides; broadcast batches and vectors are not lowered yet",
                op,
            )
        element = lhs_t.get_element_type()
        if self.dtype == "bf16" and isinstance(element, Float32Type):
            element = BFloat16Type()  # matmul inputs in bf16, accumulation in fp32 PSUM
        x, w, out = self.buffers[op.lhs], self.buffers[op.rhs], self.buffers[op.result]
        if len(rs) == 2:
            m, k = flat2d(ls)
            self._matmul_2d(x, w, out, (m, k, rs[1]), (0, 0, 0), element, lhs_t, b)
            return
        batch = prod(ls[:-2])
        m, k, n = ls[-2], ls[-1], rs[-1]
        for i in range(batch):
            self._matmul_2d(x, w, out, (m, k, n), (i * m, i * k, i * m), element, lhs_t, b)

    def _matmul_2d(
        self,
        x: SSAValue,
        w: SSAValue,
        out: SSAValue,
        mkn: tuple[int, int, int],
        rows: tuple[int, int, int],
        element: Attribute,
        lhs_t: TensorType[Attribute],
        b: _Builder,
    ) -> None:
        """out[o0 + i, j] = sum_k x[x0 + i, k] * w[w0 + k, j] for i < M, j < N (the three
        buffers are 2-D row-major; x0, w0, o0 = `rows`)."""
        m, k, n = mkn
        x0, w0, o0 = rows
        cast = element != lhs_t.get_element_type()
        part, moving = TRN1.partitions, TRN1.matmul_max_moving_free
        for m0 in range(0, m, part):
            mt = min(part, m - m0)
            stationary: list[tuple[SSAValue, int, int]] = []
            for k0 in range(0, k, part):
                kt = min(part, k - k0)
                xs = b.load(x, x0 + m0, k0, (mt, kt))
                xt_psum = b.alloc(psum((kt, mt)))
                b.add(tile.TransposeOp(xs, xt_psum))
                xt = b.alloc(sbuf((kt, mt), element))
                b.add(tile.CopyOp(xt_psum, xt, Engine.VECTOR))
                b.free(xs, xt_psum)
                stationary.append((xt, k0, kt))
            for n0 in range(0, n, moving):
                nt = min(moving, n - n0)
                acc = b.alloc(psum((mt, nt)))
                for i, (xt, k0, kt) in enumerate(stationary):
                    ws = b.load(w, w0 + k0, n0, (kt, nt))
                    if cast:
                        wc = b.alloc(sbuf((kt, nt), element))
                        b.add(tile.CopyOp(ws, wc, Engine.GPSIMD))
                        b.free(ws)
                        ws = wc
                    b.add(tile.MatmulOp(xt, ws, acc, accumulate=i > 0))
                    b.free(ws)
                ys = b.alloc(sbuf((mt, nt), lhs_t.get_element_type()))
                b.add(tile.CopyOp(acc, ys, Engine.VECTOR))
                b.store(ys, out, o0 + m0, n0)
                b.free(acc, ys)
            b.free(*(xt for xt, _, _ in stationary))


@dataclass(frozen=True)
class GraphToTile(ModulePass):
    """Lower every function of graph ops to tile ops (see the module docstring);
    `dtype=bf16` runs matmuls on bf16 inputs (fp32 accumulation), `fp32` keeps fp32."""

    name = "graph-to-tile"

    dtype: str = "fp32"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in list(op.ops):
            if not isinstance(function, func.FuncOp) or function.is_declaration:
                continue
            types = [*function.function_type.inputs, *function.function_type.outputs]
            if not any(isinstance(t, TensorType) for t in types) and not any(
                o.dialect_name() == "graph" for o in function.body.walk()
            ):
                continue
            if self.dtype not in ("fp32", "bf16"):
                raise LoweringError(
                    f"graph-to-tile: dtype must be fp32 or bf16, not {self.dtype}", op
                )
            lowered = _FunctionLowerer(function, self.dtype).lower()
            op.body.block.insert_op_before(lowered, function)
            op.body.block.erase_op(function)
