"""Compile errors located for the user: `CompileError` (one whole line, as the tools print
it) and `ErrorOrigin`, which names the model's file and an ONNX node's op type in it;
`located` turns an exception a pass raised into one."""

from __future__ import annotations

import os
from typing import Any

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass

from trnc.tools.diagnostics import Diagnostic


class CompileError(Exception):
    """A model trnc cannot compile; the message names the op (and ONNX node) at fault.

    A located error (`diagnostic` set) is one whole line, as the tools print it:
    `file:line:col: error: ...` for an op with a source position, `model.onnx: error: node
    'NAME' (OpType): ...` for an op imported from an ONNX node."""

    def __init__(self, message: str, diagnostic: Diagnostic | None = None) -> None:
        super().__init__(message)
        self.diagnostic = diagnostic
        """Where the error is, when it is located (see the class docstring)."""


class ErrorOrigin:
    """What compile errors name: the model's file (`<model>` for bytes, a `ModelProto` or
    a module) and, for an ONNX model, the op type of each node (read on the first error
    only)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.onnx = not isinstance(model, ModuleOp)
        self.source = os.fspath(model) if isinstance(model, str | os.PathLike) else "<model>"
        self._types: dict[str, str] | None = None

    def node_type(self, name: str) -> str | None:
        """The ONNX op type of the node that messages name `name`, when there is one."""
        if not self.onnx:
            return None
        if self._types is None:
            self._types = {}
            try:
                import onnx

                from trnc.frontend.onnx.load import node_label

                model = self.model
                if isinstance(model, bytes):
                    model = onnx.load_from_string(model)
                elif not isinstance(model, onnx.ModelProto):
                    model = onnx.load(os.fspath(model), load_external_data=False)
                for index, node in enumerate(model.graph.node):
                    self._types[node_label(node, index)] = node.op_type
            except Exception:  # the error is still located by the node's name
                pass
        return self._types.get(name)

    def error(self, diagnostic: Diagnostic) -> CompileError:
        """`diagnostic` as one located `CompileError` line (see `CompileError`)."""
        if diagnostic.loc is not None:
            return CompileError(diagnostic.format(self.source), diagnostic)
        where = ""
        if diagnostic.name:
            op_type = self.node_type(diagnostic.name)
            where = (
                f"node '{diagnostic.name}' ({op_type}): "
                if op_type is not None
                else f"at '{diagnostic.name}': "
            )
        text = f"{self.source}: {diagnostic.severity}: {where}{diagnostic.message}"
        return CompileError(text, diagnostic)


def located(error: Exception, stage: ModulePass, origin: ErrorOrigin) -> CompileError:
    """A `CompileError` at the op the error names (its ONNX node, when imported)."""
    op = getattr(error, "op", None)
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if isinstance(op, Operation):
        return origin.error(Diagnostic.at_op(op, message))
    return CompileError(f"{stage.name}: {message}")
