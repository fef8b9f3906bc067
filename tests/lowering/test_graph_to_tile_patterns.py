"""graph-to-tile's pattern set: a registered pattern is tried before the built-in ones and
takes an op from its default lowering; the result still runs and matches."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.ir import Operation

import trnc
from trnc.dialects import graph as g
from trnc.dialects import tile
from trnc.dialects.tile.enums import AluOp
from trnc.lowering import graph_to_tile_patterns as patterns
from trnc.lowering.graph_to_tile_host import LowererHost
from trnc.lowering.tile_builder import TileBuilder, sbuf
from trnc.tools.context import parse_source

RELU = """
func.func @main(%x: tensor<128x64xf32> {graph.name = "x"})
    -> (tensor<128x64xf32> {graph.name = "y"}) {
  %y = graph.relu %x : tensor<128x64xf32>
  func.return %y : tensor<128x64xf32>
}"""


class ReluAsMax(patterns.GraphToTilePattern):
    """relu as max(x, 0) on VectorE instead of ScalarE's activation."""

    def match(self, op: Operation, lowerer: LowererHost) -> bool:
        return isinstance(op, g.ReluOp)

    def lower(self, op: Operation, lowerer: LowererHost, b: TileBuilder) -> None:
        x = b.load(lowerer.buffers[op.operands[0]], 0, 0, (128, 64))
        y = b.alloc(sbuf((128, 64), x.type.element_type))
        b.add(tile.TensorScalarOp(AluOp.MAX, x, 0.0, y))
        b.store(y, lowerer.buffers[op.results[0]], 0, 0)
        b.free(x, y)


def test_a_registered_pattern_takes_the_op_before_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = trnc.compile(parse_source(RELU, "relu.mlir"), dtype="fp32")
    assert "tile.activation relu" in default.ir("tile")
    monkeypatch.setattr(patterns, "_REGISTERED", [])
    patterns.register_graph_to_tile_pattern(ReluAsMax)
    assert isinstance(patterns.populate_graph_to_tile_patterns()[0], ReluAsMax)
    model = trnc.compile(parse_source(RELU, "relu.mlir"), dtype="fp32")
    tile_ir = model.ir("tile")
    assert "tile.activation" not in tile_ir
    assert "tile.tensor_scalar max" in tile_ir
    x = np.random.default_rng(0).standard_normal((128, 64)).astype(np.float32)
    np.testing.assert_array_equal(model.run({"x": x})["y"], np.maximum(x, 0))
