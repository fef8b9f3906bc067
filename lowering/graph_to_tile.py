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

Integers and booleans: the engines compute in fp32, so on chip such a tensor is f32 holding
its exact values (a boolean is 0.0 or 1.0). In HBM, inputs, outputs and weights keep an
integer type (int64 narrowed to i32, bool as ui8; `tile.tensor_element` records the graph
type) and intermediates are f32; the DMAs convert. Only ops whose results are exact in
fp32 are lowered on them (`_INTEGER_EXACT`, `_cast_exact`), provided values stay within
2^24 in magnitude, which `trnc.compile`'s `run` checks on integer inputs; integer add,
sub, mul and div whose results provably stay there, and casts that truncate or wrap
around, are made exact with integer tiles and bitvec ops (`graph_to_tile_integer`).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    AnyFloat,
    ArrayAttr,
    BFloat16Type,
    DenseArrayBase,
    DictionaryAttr,
    Float32Type,
    FunctionType,
    IntegerType,
    ModuleOp,
    Signedness,
    StringAttr,
    TensorType,
    UnitAttr,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import VerifyException

from trnc.dialects import graph as g
from trnc.dialects.tile.types import BufferType
from trnc.lowering.graph_to_tile_compute import ACTIVATIONS, ALU, Compute, scalar_constant
from trnc.lowering.graph_to_tile_integer import IntegerArithmetic, exact_integer_op
from trnc.lowering.graph_to_tile_matmul import Matmuls
from trnc.lowering.graph_to_tile_movement import DataMovement
from trnc.lowering.graph_to_tile_patterns import (
    DefaultLowering,
    GraphToTilePattern,
    populate_graph_to_tile_patterns,
)
from trnc.lowering.graph_to_tile_select import Selection
from trnc.lowering.tile_builder import TileBuilder, flat2d, hbm, storage
from trnc.lowering.tile_to_isa import (
    ELEMENT_ATTR,
    EMPTY_KERNEL_ATTR,
    NAME_ATTR,
    ROLE_ATTR,
    SHAPE_ATTR,
    VALUE_ATTR,
    WEIGHT_FILE_ATTR,
    WEIGHT_OFFSET_ATTR,
    LoweringError,
)


def _weight_source(op: g.WeightOp | g.ConstantOp) -> dict[str, Attribute]:
    if isinstance(op, g.WeightOp):
        return {WEIGHT_FILE_ATTR: op.file, WEIGHT_OFFSET_ATTR: op.offset}
    return {VALUE_ATTR: op.value}


_INTEGER_EXACT = (
    g.ReshapeOp,
    g.ConcatOp,
    g.SliceOp,
    g.TransposeOp,
    g.GatherOp,
    g.WhereOp,
    g.EqualOp,
    g.LessOp,
    g.GreaterOp,
    g.MinOp,
    g.MaxOp,
    g.ReduceMaxOp,
)
"""Ops lowered for integer and boolean tensors too: their results are exact in the fp32 the
engines compute in (data movement, selection, comparisons, min and max); casts are decided
by `_cast_exact`."""


def _element(value: SSAValue) -> Attribute:
    t = value.type
    assert isinstance(t, TensorType)
    return t.get_element_type()


def _empty(value: SSAValue) -> bool:
    """Whether a tensor has no elements (it gets no buffer; ops producing only such
    tensors compute nothing)."""
    t = value.type
    return isinstance(t, TensorType) and 0 in t.get_shape()


def _cast_exact(source: Attribute, target: Attribute) -> bool:
    """Whether a cast of integer or boolean values (held as exact f32 on chip) is a plain
    copy or a `!= 0` test: to a float or a boolean always, from a boolean always, and
    between integers when the target holds every value the source can (or is a signed
    integer of >= 32 bits, which holds every value inside the input contract)."""
    if isinstance(target, AnyFloat):
        return True
    if not isinstance(source, IntegerType) or not isinstance(target, IntegerType):
        return False
    src_w, dst_w = source.width.data, target.width.data
    if dst_w == 1 or src_w == 1:
        return True
    src_unsigned = source.signedness.data is Signedness.UNSIGNED
    dst_unsigned = target.signedness.data is Signedness.UNSIGNED
    if not dst_unsigned and dst_w >= 32:
        return True
    if dst_unsigned:
        return src_unsigned and dst_w >= src_w
    return dst_w > src_w or (dst_w == src_w and not src_unsigned)


def _immediate_only(value: SSAValue) -> bool:
    """Whether every user of a constant takes it as an immediate, so it needs no buffer: a
    one-element constant in an ALU op or a where, constant gather indices."""
    if not isinstance(value.owner, g.ConstantOp) or not value.uses:
        return False
    scalar = scalar_constant(value) is not None
    for use in value.uses:
        user = use.operation
        if isinstance(user, g.GatherOp) and use.index == 1:
            continue
        if not scalar or not (type(user) in ALU or isinstance(user, g.WhereOp)):
            return False
        if type(user) in ALU:  # `binary` takes an immediate against a full-shape operand
            other = user.operands[1 - use.index].type
            result = user.results[0].type
            assert isinstance(other, TensorType) and isinstance(result, TensorType)
            if other.get_shape() != result.get_shape():
                return False
    return True


def _check_integer_exact(op: Operation) -> None:
    """Refuse, with a located error, an op on integer or boolean tensors whose result the
    fp32 engines might not compute exactly (see `_INTEGER_EXACT`)."""
    values = (*op.operands, *op.results)
    if all(isinstance(_element(v), AnyFloat) for v in values):
        return
    if exact_integer_op(op):
        return  # made exact by `IntegerArithmetic`
    if isinstance(op, g.CastOp):
        source, target = _element(op.input), _element(op.result)
        if isinstance(source, AnyFloat) and isinstance(target, IntegerType):
            if target.width.data == 1:
                return
            raise LoweringError(
                f"graph-to-tile: a cast from {source} to {target} is not lowered yet (it "
                "truncates toward zero, which the engines' conversions do not)",
                op,
            )
        if _cast_exact(source, target):
            return
        raise LoweringError(
            f"graph-to-tile: a cast from {source} to {target} is not lowered yet (it can "
            "wrap around, which the engines' fp32 arithmetic does not)",
            op,
        )
    if isinstance(op, _INTEGER_EXACT):
        return
    raise LoweringError(
        f"graph-to-tile: '{op.name}' on integer or boolean tensors is not lowered yet "
        "(the engines compute in fp32; lowered on integers: comparisons, min, max, where, "
        "gather, casts and data movement, whose results are exact there, and add, sub, mul "
        "and div whose results stay within 2^24 for every value of the type: 8- and 16-bit "
        "add, sub and div, 8-bit mul)",
        op,
    )


def _only_matmuls_read(value: SSAValue) -> bool:
    """Whether every use of `value` is a matmul, or a reshape or transpose whose result
    only matmuls read."""
    if not value.uses:
        return False
    for use in value.uses:
        user = use.operation
        if isinstance(user, g.MatmulOp):
            continue
        if isinstance(user, g.ReshapeOp | g.TransposeOp) and _only_matmuls_read(user.results[0]):
            continue
        return False
    return True


class _FunctionLowerer(Compute, Matmuls, DataMovement, Selection, IntegerArithmetic):
    def __init__(self, function: func.FuncOp, dtype: str = "fp32") -> None:
        self.function = function
        self.dtype = dtype
        self.deferred: set[Operation] = set()  # lowered as part of a pattern's chain
        self.patterns: list[GraphToTilePattern] = [
            *populate_graph_to_tile_patterns(),
            DefaultLowering(self.lower_default),
        ]
        self.buffers: dict[SSAValue, SSAValue] = {}
        """graph value -> the HBM buffer (a function argument) holding it"""
        self.args: list[tuple[BufferType, str, str]] = []  # (type, name, role)
        self.shapes: list[tuple[int, ...]] = []  # each argument's graph tensor shape
        self.sources: list[dict[str, Attribute]] = []  # where a weight argument's data is
        self.block = Block()
        self.temporaries = 0

    def _arg_names(self, attrs: ArrayAttr[DictionaryAttr] | None, n: int, prefix: str) -> list[str]:
        names = []
        for i in range(n):
            entry = attrs.data[i].data.get(NAME_ATTR) if attrs is not None else None
            names.append(entry.data if isinstance(entry, StringAttr) else f"{prefix}{i}")
        return names

    def new_buffer(
        self,
        shape: tuple[int, ...],
        element: Attribute,
        name: str,
        role: str,
        owner: Operation,
        stored: Attribute | None = None,
    ) -> SSAValue:
        """A new HBM buffer argument of the lowered function for a tensor of `shape` and
        graph element type `element` (stored as `stored`, by default as
        `storage(element, role)`); errors name `owner`."""
        t = f"tensor<{'x'.join(map(str, (*shape, element)))}>"
        if 0 in shape:
            raise LoweringError(
                f"graph-to-tile: tensor '{name}' ({t}) has no elements; zero-size tensors "
                "are not lowered yet",
                owner,
            )
        try:
            buf = hbm(flat2d(shape), stored if stored is not None else storage(element, role))
        except (VerifyException, ValueError) as error:
            raise LoweringError(
                f"graph-to-tile: tensor '{name}' ({t}) is not lowered yet: {str(error).strip()}",
                owner,
            ) from None
        arg = self.block.insert_arg(buf, len(self.block.args))
        taken = {n for _, n, _ in self.args}
        unique, k = name, 1
        while unique in taken:  # e.g. a weight returned as an output of the same name
            unique, k = f"{name}.{k}", k + 1
        self.args.append((buf, unique, role))
        self.shapes.append(shape)
        self.sources.append({} if buf.element_type == element else {ELEMENT_ATTR: element})
        return arg

    def weight_storage(self, value: SSAValue) -> Attribute | None:
        """How a weight is stored in HBM: with `dtype=bf16`, an f32 weight that only
        matmuls read is stored as bf16 (its data converted, round to nearest even, when it
        is placed in HBM): the matmuls read it in bf16 anyway, so its bytes halve and no
        engine casts its tiles; None keeps `storage`'s choice."""
        if (
            self.dtype == "bf16"
            and isinstance(value.type, TensorType)
            and isinstance(value.type.get_element_type(), Float32Type)
            and value.uses
            and all(isinstance(use.operation, g.MatmulOp) for use in value.uses)
        ):
            return BFloat16Type()
        return None

    def scratch_storage(self, value: SSAValue) -> Attribute | None:
        """How an intermediate is stored: with `dtype=bf16`, an f32 value that only
        matmuls read (directly or through reshapes and transposes) is stored as bf16,
        the type those matmuls read it in anyway (a matmul rounds its operands to bf16
        before it multiplies), so it takes half the SBUF and HBM bytes; None keeps
        `storage`'s choice."""
        if self.dtype != "bf16" or not isinstance(value.type, TensorType):
            return None
        if not isinstance(value.type.get_element_type(), Float32Type):
            return None
        return BFloat16Type() if _only_matmuls_read(value) else None

    def temporary(self, shape: tuple[int, ...], element: Attribute, owner: Operation) -> SSAValue:
        """A scratch HBM buffer for an intermediate result inside one graph op's lowering."""
        self.temporaries += 1
        return self.new_buffer(shape, element, f"tmp.{self.temporaries}", "scratch", owner)

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

        self.block = new_block

        def new_arg(value: SSAValue, name: str, role: str) -> SSAValue:
            t = value.type
            assert isinstance(t, TensorType)
            owner = value.owner if isinstance(value.owner, Operation) else fn
            shape, element = tuple(t.get_shape()), t.get_element_type()
            stored = None
            if role == "weight":
                stored = self.weight_storage(value)
            elif role == "scratch":
                stored = self.scratch_storage(value)
            return self.new_buffer(shape, element, name, role, owner, stored)

        for arg_value, name in zip(block.args, in_names, strict=True):
            if not _empty(arg_value):  # a tensor without elements has no buffer
                self.buffers[arg_value] = new_arg(arg_value, name, "input")
        copies: list[tuple[SSAValue, SSAValue]] = []  # (graph value, output buffer)
        for value, name in zip(ret.arguments, out_names, strict=True):
            if _empty(value):
                continue
            if value in self.buffers or not isinstance(value.owner, Operation):
                # an input returned as is, or a value returned twice: copied at the end
                copies.append((value, new_arg(value, name, "output")))
                continue
            self.buffers[value] = new_arg(value, name, "output")
        scratch = 0
        for op in block.ops:
            if isinstance(op, func.ReturnOp):
                continue
            for pattern in self.patterns if op not in self.deferred else ():
                chain = pattern.claim(op)
                if chain is not None:  # lowered at its last op; the others are skipped
                    self.deferred.update(chain[:-1])
                    break
            if op in self.deferred:
                continue
            builder.where = op
            try:
                for result in op.results:
                    if isinstance(op, g.WeightOp | g.ConstantOp) and result in self.buffers:
                        # a weight returned as an output: its own argument, then a copy
                        copies.append((result, self.buffers[result]))
                        del self.buffers[result]
                    if result in self.buffers or isinstance(op, g.ReshapeOp) or _empty(result):
                        continue  # a reshape aliases its input's bytes (see `reshape`)
                    if _immediate_only(result):
                        continue  # folded into its users as an immediate
                    if isinstance(op, g.WeightOp | g.ConstantOp):
                        name = (
                            op.weight_name.data if isinstance(op, g.WeightOp) else f"const{scratch}"
                        )
                        self.buffers[result] = new_arg(result, name, "weight")
                        self.sources[-1] |= _weight_source(op)
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
        if len(new_block.ops) == 1:  # every tensor is empty: mark it for tile-to-isa
            result.attributes[EMPTY_KERNEL_ATTR] = UnitAttr()
        return result

    def lower_op(self, op: Operation, b: TileBuilder) -> None:
        if isinstance(op, g.WeightOp | g.ConstantOp):
            return  # data supplied with the weights; see the module docstring
        if op.results and all(_empty(r) for r in op.results):
            return  # nothing to compute
        if any(_empty(v) for v in op.operands) and not isinstance(
            op, g.ConcatOp | g.ReduceSumOp | g.ReduceMaxOp | g.ReduceMeanOp
        ):
            raise LoweringError(
                f"graph-to-tile: '{op.name}' with an operand of no elements and a result "
                "with some is not lowered yet",
                op,
            )
        _check_integer_exact(op)
        for pattern in self.patterns:
            if pattern.match(op, self):
                pattern.lower(op, self, b)
                return

    def lower_default(self, op: Operation, b: TileBuilder) -> None:
        """The op kind's own lowering (the last pattern)."""
        if exact_integer_op(op):
            self.integer(op, b)
        elif type(op) in ACTIVATIONS or isinstance(op, g.NegOp | g.CastOp | g.GeluOp):
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
        elif isinstance(op, g.WhereOp):
            self.where(op, b)
        elif isinstance(op, g.GatherOp):
            self.gather(op, b)
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
