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

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    AnyFloat,
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
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
from trnc.dialects.tile.types import BufferType
from trnc.lowering.graph_to_tile_compute import ACTIVATIONS, ALU, Compute, scalar_constant
from trnc.lowering.graph_to_tile_movement import DataMovement
from trnc.lowering.tile_builder import TileBuilder, flat2d, hbm
from trnc.lowering.tile_to_isa import NAME_ATTR, ROLE_ATTR, SHAPE_ATTR, LoweringError

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


class _FunctionLowerer(Compute, DataMovement):
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
        builder = TileBuilder(new_block)

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
                    if scalar_constant(result) is not None and all(
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

    def lower_op(self, op: Operation, b: TileBuilder) -> None:
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
