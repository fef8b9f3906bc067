"""A plug-in whose pass takes a name that is already registered (xDSL's `cse`)."""

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass


@dataclass(frozen=True)
class ShadowCsePass(ModulePass):
    """A pass that tries to replace cse."""

    name = "cse"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        pass
