"""graph-fuse-activations: a spelled-out GELU (exact or tanh) and the `graph.gelu` it
becomes compute the same values under the graph interpreter, to fp32 rounding."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.context import Context

from trnc.interpreters.graph import run_graph
from trnc.passes.graph_fuse_activations import GraphFuseActivationsPass
from trnc.tools.context import parse_source

GELU = """
func.func @main(%x: tensor<64x48xf32> {graph.name = "x"})
    -> (tensor<64x48xf32> {graph.name = "y"}) {
  %sqrt2 = graph.constant dense<1.41421354> : tensor<f32>
  %half = graph.constant dense<5.000000e-01> : tensor<f32>
  %one = graph.constant dense<1.000000e+00> : tensor<f32>
  %0 = graph.div %x, %sqrt2 : (tensor<64x48xf32>, tensor<f32>) -> tensor<64x48xf32>
  %1 = graph.mul %x, %half : (tensor<64x48xf32>, tensor<f32>) -> tensor<64x48xf32>
  %2 = graph.erf %0 : tensor<64x48xf32>
  %3 = graph.add %2, %one : (tensor<64x48xf32>, tensor<f32>) -> tensor<64x48xf32>
  %4 = graph.mul %1, %3 : (tensor<64x48xf32>, tensor<64x48xf32>) -> tensor<64x48xf32>
  func.return %4 : tensor<64x48xf32>
}"""


GELU_TANH = """
func.func @main(%x: tensor<64x48xf32> {graph.name = "x"})
    -> (tensor<64x48xf32> {graph.name = "y"}) {
  %half = graph.constant dense<5.000000e-01> : tensor<f32>
  %three = graph.constant dense<3.000000e+00> : tensor<f32>
  %cubic = graph.constant dense<4.471500e-02> : tensor<f32>
  %scale = graph.constant dense<0.797884583> : tensor<f32>
  %one = graph.constant dense<1.000000e+00> : tensor<f32>
  %0 = graph.mul %x, %half : (tensor<64x48xf32>, tensor<f32>) -> tensor<64x48xf32>
  %1 = graph.pow %x, %three : (tensor<64x48xf32>, tensor<f32>) -> tensor<64x48xf32>
  %2 = graph.mul %1, %cubic : (tensor<64x48xf32>, tensor<f32>) -> tensor<64x48xf32>
  %3 = graph.add %x, %2 : (tensor<64x48xf32>, tensor<64x48xf32>) -> tensor<64x48xf32>
  %4 = graph.mul %3, %scale : (tensor<64x48xf32>, tensor<f32>) -> tensor<64x48xf32>
  %5 = graph.tanh %4 : tensor<64x48xf32>
  %6 = graph.add %5, %one : (tensor<64x48xf32>, tensor<f32>) -> tensor<64x48xf32>
  %7 = graph.mul %0, %6 : (tensor<64x48xf32>, tensor<64x48xf32>) -> tensor<64x48xf32>
  func.return %7 : tensor<64x48xf32>
}"""


@pytest.mark.parametrize(("text", "gone"), [(GELU, "graph.erf"), (GELU_TANH, "graph.tanh")])
def test_fused_gelu_computes_the_spelled_out_one(text: str, gone: str) -> None:
    x = (np.random.default_rng(0).standard_normal((64, 48)) * 4).astype(np.float32)
    x.flat[:4] = [0.0, -30.0, 30.0, -0.0]
    spelled = run_graph(parse_source(text, "gelu.mlir"), {"x": x}).outputs["y"]
    module = parse_source(text, "gelu.mlir")
    GraphFuseActivationsPass().apply(Context(), module)
    fused_text = str(module)
    assert "graph.gelu" in fused_text and gone not in fused_text
    assert "graph.constant" not in fused_text
    fused = run_graph(module, {"x": x}).outputs["y"]
    np.testing.assert_allclose(fused, spelled, rtol=2e-6, atol=1e-6)
