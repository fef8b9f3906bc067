"""What the `graph-to-tile` mixins (`Compute`, `DataMovement`, `Selection`,
`IntegerArithmetic`) use from each other and from the function lowerer that combines them,
declared once for the type checker: each mixin derives from `LowererHost`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from xdsl.ir import Attribute, Operation, SSAValue

from trnc.lowering.tile_builder import TileBuilder

if TYPE_CHECKING:
    from trnc.dialects import graph as g
    from trnc.lowering.graph_to_tile_dense import Epilogue


class LowererHost:
    """The shared state and the methods one mixin calls on another (see the module
    docstring); the definitions live in the function lowerer and the mixins."""

    buffers: dict[SSAValue, SSAValue]
    """graph value -> the HBM buffer holding it"""
    dtype: str
    """"fp32" or "bf16": the matmul input type"""

    if TYPE_CHECKING:

        def _shape(self, value: SSAValue) -> tuple[int, int]: ...

        def temporary(
            self, shape: tuple[int, ...], element: Attribute, owner: Operation
        ) -> SSAValue: ...

        def binary(self, op: Operation, b: TileBuilder) -> None: ...

        def matmul(
            self,
            op: g.MatmulOp,
            b: TileBuilder,
            epilogue: Epilogue | None = None,
            out_value: SSAValue | None = None,
        ) -> None: ...

        def permute(
            self,
            src: SSAValue,
            shape: tuple[int, ...],
            perm: list[int],
            dst: SSAValue,
            owner: Operation,
            b: TileBuilder,
        ) -> None: ...

        def take(
            self,
            source: SSAValue,
            shape: tuple[int, ...],
            axis: int,
            indices: Sequence[int],
            result: SSAValue,
            b: TileBuilder,
        ) -> None: ...

        def _copy_window(
            self,
            src: SSAValue,
            src_c0: int,
            dst: SSAValue,
            dst_c0: int,
            rows: int,
            cols: int,
            b: TileBuilder,
        ) -> None: ...
