"""`GraphFunctions`: xDSL interpreter implementations of every `graph` op.

One `@impl` per op; each reads the op's properties, calls the numpy kernel of
`trnc.interpreters.graph_kernels` with the declared result dtype and returns the result
(the interpreter's listener checks its shape and dtype against the declared type).

Errors never go through xDSL's generic handler (which prints the whole module into the
exception): data problems become a located `GraphRunError`, anything unexpected an
`InterpretationError` naming the op, both carried out of the interpreter by `Abort`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
from xdsl.interpreter import Interpreter, InterpreterFunctions, PythonValues, impl, register_impls
from xdsl.ir import Operation
from xdsl.utils.exceptions import InterpretationError

from trnc.dialects import graph
from trnc.dialects.graph.base import get_bool, get_float, get_int, get_ints
from trnc.interpreters import graph_kernels as k
from trnc.interpreters.graph import Abort, GraphRunError, WeightStore
from trnc.interpreters.numpy_types import UnsupportedTypeError, dense_to_numpy, tensor_spec

_F = TypeVar("_F", bound=Callable[..., PythonValues])


def located(method: _F) -> _F:
    """Run an op implementation, turning its failures into an `Abort`: kernel and data
    errors become a `GraphRunError` at the op, anything else an interpreter bug."""

    @functools.wraps(method)
    def wrapper(self: Any, interpreter: Interpreter, op: Operation, args: PythonValues) -> Any:
        try:
            return method(self, interpreter, op, args)
        except GraphRunError as error:
            if error.op is None:
                error.op = op
            raise Abort(error) from None
        except (k.KernelError, UnsupportedTypeError) as error:
            raise Abort(GraphRunError(str(error), op)) from None
        except Exception as error:  # an interpreter bug: say where, keep the cause
            bug = InterpretationError(
                f"interpreter bug in '{op.name}': {type(error).__name__}: {error}"
            )
            bug.__cause__ = error
            raise Abort(bug) from error

    return cast(_F, wrapper)


def _dtype(op: Operation) -> np.dtype[Any]:
    return tensor_spec(op.results[0].type)[1]


def _shape(op: Operation) -> tuple[int, ...]:
    return tensor_spec(op.results[0].type)[0]


@register_impls
class GraphFunctions(InterpreterFunctions):
    """Implementations of the graph ops on numpy arrays; `base_dir` resolves relative
    `graph.weight` files."""

    def __init__(self, base_dir: str | Path | None = None) -> None:
        self.weights = WeightStore(base_dir)

    # ---- contractions and windows ---------------------------------------------------

    @impl(graph.MatmulOp)
    @located
    def run_matmul(self, interp: Interpreter, op: graph.MatmulOp, args: PythonValues) -> Any:
        return (k.matmul(args[0], args[1], _dtype(op)),)

    @impl(graph.GemmOp)
    @located
    def run_gemm(self, interp: Interpreter, op: graph.GemmOp, args: PythonValues) -> Any:
        c = args[2] if op.c is not None else None
        return (
            k.gemm(
                args[0],
                args[1],
                c,
                get_float(op.alpha),
                get_float(op.beta),
                get_bool(op.trans_a),
                get_bool(op.trans_b),
                _dtype(op),
            ),
        )

    @impl(graph.Conv2dOp)
    @located
    def run_conv2d(self, interp: Interpreter, op: graph.Conv2dOp, args: PythonValues) -> Any:
        bias = args[2] if op.bias is not None else None
        return (
            k.conv2d(
                args[0],
                args[1],
                bias,
                get_ints(op.strides),
                get_ints(op.pads),
                get_ints(op.dilations),
                get_int(op.groups),
                _shape(op),
                _dtype(op),
            ),
        )

    @impl(graph.MaxPoolOp)
    @located
    def run_max_pool(self, interp: Interpreter, op: graph.MaxPoolOp, args: PythonValues) -> Any:
        kernel = get_ints(op.kernel)
        dilations = op.pool_dilations() or (1,) * len(kernel)
        return (
            k.max_pool(
                args[0],
                kernel,
                get_ints(op.strides),
                get_ints(op.pads),
                dilations,
                _shape(op),
                _dtype(op),
            ),
        )

    @impl(graph.AvgPoolOp)
    @located
    def run_avg_pool(self, interp: Interpreter, op: graph.AvgPoolOp, args: PythonValues) -> Any:
        kernel = get_ints(op.kernel)
        return (
            k.avg_pool(
                args[0],
                kernel,
                get_ints(op.strides),
                get_ints(op.pads),
                op.pool_dilations() or (1,) * len(kernel),
                get_bool(op.count_include_pad),
                _shape(op),
                _dtype(op),
            ),
        )

    @impl(graph.GlobalAvgPoolOp)
    @located
    def run_global_avg_pool(
        self, interp: Interpreter, op: graph.GlobalAvgPoolOp, args: PythonValues
    ) -> Any:
        return (k.global_avg_pool(args[0], _dtype(op)),)

    # ---- elementwise binary ---------------------------------------------------------

    @impl(graph.AddOp)
    @located
    def run_add(self, interp: Interpreter, op: graph.AddOp, args: PythonValues) -> Any:
        return (k.arith(np.add, args[0], args[1], _dtype(op)),)

    @impl(graph.SubOp)
    @located
    def run_sub(self, interp: Interpreter, op: graph.SubOp, args: PythonValues) -> Any:
        return (k.arith(np.subtract, args[0], args[1], _dtype(op)),)

    @impl(graph.MulOp)
    @located
    def run_mul(self, interp: Interpreter, op: graph.MulOp, args: PythonValues) -> Any:
        return (k.arith(np.multiply, args[0], args[1], _dtype(op)),)

    @impl(graph.DivOp)
    @located
    def run_div(self, interp: Interpreter, op: graph.DivOp, args: PythonValues) -> Any:
        return (k.div(args[0], args[1], _dtype(op)),)

    @impl(graph.PowOp)
    @located
    def run_pow(self, interp: Interpreter, op: graph.PowOp, args: PythonValues) -> Any:
        return (k.power(args[0], args[1], _dtype(op)),)

    @impl(graph.MaxOp)
    @located
    def run_max(self, interp: Interpreter, op: graph.MaxOp, args: PythonValues) -> Any:
        return (k.arith(np.maximum, args[0], args[1], _dtype(op)),)

    @impl(graph.MinOp)
    @located
    def run_min(self, interp: Interpreter, op: graph.MinOp, args: PythonValues) -> Any:
        return (k.arith(np.minimum, args[0], args[1], _dtype(op)),)

    @impl(graph.EqualOp)
    @located
    def run_equal(self, interp: Interpreter, op: graph.EqualOp, args: PythonValues) -> Any:
        return (k.compare(np.equal, args[0], args[1]),)

    @impl(graph.LessOp)
    @located
    def run_less(self, interp: Interpreter, op: graph.LessOp, args: PythonValues) -> Any:
        return (k.compare(np.less, args[0], args[1]),)

    @impl(graph.GreaterOp)
    @located
    def run_greater(self, interp: Interpreter, op: graph.GreaterOp, args: PythonValues) -> Any:
        return (k.compare(np.greater, args[0], args[1]),)

    @impl(graph.WhereOp)
    @located
    def run_where(self, interp: Interpreter, op: graph.WhereOp, args: PythonValues) -> Any:
        return (k.where(args[0], args[1], args[2], _dtype(op)),)

    # ---- elementwise unary ----------------------------------------------------------

    @impl(graph.ReluOp)
    @located
    def run_relu(self, interp: Interpreter, op: graph.ReluOp, args: PythonValues) -> Any:
        return (k.relu(args[0], _dtype(op)),)

    @impl(graph.GeluOp)
    @located
    def run_gelu(self, interp: Interpreter, op: graph.GeluOp, args: PythonValues) -> Any:
        return (k.gelu(args[0], op.approximate.data, _dtype(op)),)

    @impl(graph.TanhOp)
    @located
    def run_tanh(self, interp: Interpreter, op: graph.TanhOp, args: PythonValues) -> Any:
        return (k.unary(np.tanh, args[0], _dtype(op)),)

    @impl(graph.SigmoidOp)
    @located
    def run_sigmoid(self, interp: Interpreter, op: graph.SigmoidOp, args: PythonValues) -> Any:
        return (k.unary(k.sigmoid, args[0], _dtype(op)),)

    @impl(graph.ExpOp)
    @located
    def run_exp(self, interp: Interpreter, op: graph.ExpOp, args: PythonValues) -> Any:
        return (k.unary(np.exp, args[0], _dtype(op)),)

    @impl(graph.LogOp)
    @located
    def run_log(self, interp: Interpreter, op: graph.LogOp, args: PythonValues) -> Any:
        return (k.unary(np.log, args[0], _dtype(op)),)

    @impl(graph.ErfOp)
    @located
    def run_erf(self, interp: Interpreter, op: graph.ErfOp, args: PythonValues) -> Any:
        return (k.erf_in(args[0], _dtype(op)),)

    @impl(graph.SqrtOp)
    @located
    def run_sqrt(self, interp: Interpreter, op: graph.SqrtOp, args: PythonValues) -> Any:
        return (k.unary(np.sqrt, args[0], _dtype(op)),)

    @impl(graph.RsqrtOp)
    @located
    def run_rsqrt(self, interp: Interpreter, op: graph.RsqrtOp, args: PythonValues) -> Any:
        # ONNX Reciprocal(Sqrt(x)): two roundings, as onnxruntime runs the pair.
        return (k.unary(lambda x: np.reciprocal(np.sqrt(x)), args[0], _dtype(op)),)

    @impl(graph.ReciprocalOp)
    @located
    def run_reciprocal(
        self, interp: Interpreter, op: graph.ReciprocalOp, args: PythonValues
    ) -> Any:
        return (k.unary(np.reciprocal, args[0], _dtype(op)),)

    @impl(graph.NegOp)
    @located
    def run_neg(self, interp: Interpreter, op: graph.NegOp, args: PythonValues) -> Any:
        return (k.unary(np.negative, args[0], _dtype(op)),)

    @impl(graph.AbsOp)
    @located
    def run_abs(self, interp: Interpreter, op: graph.AbsOp, args: PythonValues) -> Any:
        return (k.unary(np.abs, args[0], _dtype(op)),)

    @impl(graph.ClipOp)
    @located
    def run_clip(self, interp: Interpreter, op: graph.ClipOp, args: PythonValues) -> Any:
        low = get_float(op.min) if op.min is not None else None
        high = get_float(op.max) if op.max is not None else None
        return (k.clip(args[0], low, high, _dtype(op)),)

    @impl(graph.LeakyReluOp)
    @located
    def run_leaky_relu(self, interp: Interpreter, op: graph.LeakyReluOp, args: PythonValues) -> Any:
        return (k.leaky_relu(args[0], get_float(op.alpha), _dtype(op)),)

    @impl(graph.HardSigmoidOp)
    @located
    def run_hard_sigmoid(
        self, interp: Interpreter, op: graph.HardSigmoidOp, args: PythonValues
    ) -> Any:
        return (k.hard_sigmoid(args[0], get_float(op.alpha), get_float(op.beta), _dtype(op)),)

    @impl(graph.CastOp)
    @located
    def run_cast(self, interp: Interpreter, op: graph.CastOp, args: PythonValues) -> Any:
        return (k.cast(args[0], _dtype(op)),)

    # ---- normalization and reductions -----------------------------------------------

    @impl(graph.SoftmaxOp)
    @located
    def run_softmax(self, interp: Interpreter, op: graph.SoftmaxOp, args: PythonValues) -> Any:
        return (k.softmax(args[0], get_int(op.axis), False, _dtype(op)),)

    @impl(graph.LogSoftmaxOp)
    @located
    def run_log_softmax(
        self, interp: Interpreter, op: graph.LogSoftmaxOp, args: PythonValues
    ) -> Any:
        return (k.softmax(args[0], get_int(op.axis), True, _dtype(op)),)

    @impl(graph.LayerNormOp)
    @located
    def run_layer_norm(self, interp: Interpreter, op: graph.LayerNormOp, args: PythonValues) -> Any:
        bias = args[2] if op.bias is not None else None
        epsilon = get_float(op.epsilon)
        return (k.layer_norm(args[0], args[1], bias, get_int(op.axis), epsilon, _dtype(op)),)

    @impl(graph.BatchNormOp)
    @located
    def run_batch_norm(self, interp: Interpreter, op: graph.BatchNormOp, args: PythonValues) -> Any:
        x, scale, bias, mean, var = args
        epsilon = get_float(op.epsilon)
        return (k.batch_norm(x, scale, bias, mean, var, epsilon, _dtype(op)),)

    @impl(graph.ReduceSumOp)
    @located
    def run_reduce_sum(self, interp: Interpreter, op: graph.ReduceSumOp, args: PythonValues) -> Any:
        return (k.reduce_sum(args[0], get_ints(op.axes), get_bool(op.keepdims), _dtype(op)),)

    @impl(graph.ReduceMeanOp)
    @located
    def run_reduce_mean(
        self, interp: Interpreter, op: graph.ReduceMeanOp, args: PythonValues
    ) -> Any:
        return (k.reduce_mean(args[0], get_ints(op.axes), get_bool(op.keepdims), _dtype(op)),)

    @impl(graph.ReduceMaxOp)
    @located
    def run_reduce_max(self, interp: Interpreter, op: graph.ReduceMaxOp, args: PythonValues) -> Any:
        return (k.reduce_max(args[0], get_ints(op.axes), get_bool(op.keepdims), _dtype(op)),)

    # ---- data movement --------------------------------------------------------------

    @impl(graph.TransposeOp)
    @located
    def run_transpose(self, interp: Interpreter, op: graph.TransposeOp, args: PythonValues) -> Any:
        return (np.transpose(args[0], get_ints(op.perm)),)

    @impl(graph.ReshapeOp)
    @located
    def run_reshape(self, interp: Interpreter, op: graph.ReshapeOp, args: PythonValues) -> Any:
        return (np.reshape(args[0], _shape(op)),)

    @impl(graph.ConcatOp)
    @located
    def run_concat(self, interp: Interpreter, op: graph.ConcatOp, args: PythonValues) -> Any:
        axis = get_int(op.axis)
        return (np.concatenate(args, axis=axis + len(_shape(op)) if axis < 0 else axis),)

    @impl(graph.SliceOp)
    @located
    def run_slice(self, interp: Interpreter, op: graph.SliceOp, args: PythonValues) -> Any:
        axes = get_ints(op.axes) if op.axes is not None else None
        steps = get_ints(op.steps) if op.steps is not None else None
        starts, ends = get_ints(op.starts), get_ints(op.ends)
        return (k.slice_tensor(args[0], starts, ends, axes, steps),)

    @impl(graph.GatherOp)
    @located
    def run_gather(self, interp: Interpreter, op: graph.GatherOp, args: PythonValues) -> Any:
        return (k.gather(args[0], args[1], get_int(op.axis)),)

    # ---- weights --------------------------------------------------------------------

    @impl(graph.ConstantOp)
    @located
    def run_constant(self, interp: Interpreter, op: graph.ConstantOp, args: PythonValues) -> Any:
        return (dense_to_numpy(op.value),)

    @impl(graph.WeightOp)
    @located
    def run_weight(self, interp: Interpreter, op: graph.WeightOp, args: PythonValues) -> Any:
        shape, dtype = tensor_spec(op.result.type)
        array = self.weights.load(
            op, op.weight_name.data, op.file.data, get_int(op.offset), shape, dtype
        )
        return (array,)
