"""The `graph-fold-weights` pass: evaluate, at compile time, every graph op whose operands
are all weights or constants, whatever their size, and store the result as a new weight.

Rewrites `op(graph.weight | graph.constant, ...)` into `graph.weight "<name>" from "<file>"
at <offset>`, appending the value to the weights file `file` (option; relative names
resolve against `base-dir`, also where existing `graph.weight` files are read). This is how
a Gemm's `transB` on its weight, a reshape of a bias or a cast of an embedding table costs
nothing at run time: `graph-canonicalize` folds only small constants (they print inline),
this pass folds the rest into the weights file. The folded value is the graph reference
interpreter's result, so it is exactly what the op would compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass

from trnc.dialects import graph
from trnc.dialects.graph.base import element_of, shape_of
from trnc.frontend.onnx.weights import WeightsWriter
from trnc.passes.graph_canonicalize import FoldConstantOps


@dataclass(frozen=True)
class GraphFoldWeightsPass(ModulePass):
    """Fold all-weight ops into new weights (see the module docstring)."""

    name = "graph-fold-weights"

    file: str = "folded.weights"
    base_dir: str = "."

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        from trnc.interpreters.graph import WeightStore
        from trnc.interpreters.numpy_types import dense_to_numpy, numpy_dtype

        base = Path(self.base_dir)
        path = Path(self.file) if Path(self.file).is_absolute() else base / self.file
        writer = WeightsWriter(path, self.file)
        store = WeightStore(base)
        values: dict[SSAValue, np.ndarray] = {}
        evaluator = FoldConstantOps()
        # appending to an existing file keeps the offsets other ops already reference
        if path.exists():
            writer.size = path.stat().st_size
            writer._file = open(path, "ab")  # noqa: SIM115 - closed below

        def value_of(v: SSAValue) -> np.ndarray | None:
            if v in values:
                return values[v]
            owner = v.owner
            result: np.ndarray | None = None
            if isinstance(owner, graph.ConstantOp) and isinstance(
                owner.value, DenseIntOrFPElementsAttr
            ):
                result = dense_to_numpy(owner.value)
            elif isinstance(owner, graph.WeightOp):
                dtype = numpy_dtype(element_of(owner.result))
                result = store.load(
                    owner,
                    owner.weight_name.data,
                    owner.file.data,
                    owner.offset.value.data,
                    shape_of(owner.result),
                    dtype,
                )
            if result is not None:
                values[v] = result
            return result

        count = 0
        try:
            for target in list(op.walk()):
                if not _foldable(target):
                    continue
                args = [value_of(v) for v in target.operands]
                if any(a is None for a in args):
                    continue
                folded = evaluator.evaluate(target, [a for a in args if a is not None])
                if folded is None:
                    continue
                name = f"folded{count}"
                count += 1
                file, offset = writer.add(name, folded)
                new = graph.WeightOp(name, file, offset, target.results[0].type)
                new.location = target.location
                parent = target.parent_block()
                assert parent is not None
                parent.insert_op_before(new, target)
                target.results[0].replace_all_uses_with(new.result)
                values[new.result] = folded
                parent.erase_op(target)
        finally:
            writer.close()
        _remove_dead(op)


def _foldable(op: Operation) -> bool:
    return (
        isinstance(op, graph.GraphOp)
        and not isinstance(op, graph.ConstantOp | graph.WeightOp)
        and len(op.results) == 1
        and bool(op.operands)
    )


def _remove_dead(module: ModuleOp) -> None:
    changed = True
    while changed:
        changed = False
        for op in list(module.walk()):
            if isinstance(op, graph.GraphOp) and all(not r.uses for r in op.results):
                parent = op.parent_block()
                assert parent is not None
                parent.erase_op(op)
                changed = True
