"""The direct convolution of graph-to-tile (`lowering/graph_to_tile_conv.py`): channels on
the partitions, each kernel tap a window of the padded image in SBUF. Checked against
the graph interpreter on convolutions with pads, strides, dilations, groups, a bias and
several images, in fp32 and bf16; and that graph-decompose leaves exactly these convs."""

from __future__ import annotations

import numpy as np
import pytest
from isa_compare import assert_matches_interpreter

import trnc
from trnc.tools.context import parse_source

CONV = """
func.func @main(%x: tensor<{n}x{c}x{h}x{w}xf32> {{graph.name = "x"}},
                %k: tensor<{o}x{cg}x{kh}x{kw}xf32> {{graph.name = "k"}},
                %b: tensor<{o}xf32> {{graph.name = "b"}})
    -> (tensor<{n}x{o}x{oh}x{ow}xf32> {{graph.name = "y"}}) {{
  %y = graph.conv2d %x, %k, %b {{strides = [{sh}, {sw}], pads = [{pt}, {pl}, {pb}, {pr}],
                                dilations = [{dh}, {dw}], groups = {groups}}}
     : (tensor<{n}x{c}x{h}x{w}xf32>, tensor<{o}x{cg}x{kh}x{kw}xf32>, tensor<{o}xf32>)
     -> tensor<{n}x{o}x{oh}x{ow}xf32>
  func.return %y : tensor<{n}x{o}x{oh}x{ow}xf32>
}}"""

CASES = [
    # n, c, h, w, o, groups, kh, kw, strides, pads (t, l, b, r), dilations
    (2, 3, 9, 11, 5, 1, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1)),
    (1, 4, 16, 16, 8, 4, 3, 3, (2, 2), (2, 2, 2, 2), (2, 2)),
    (3, 8, 7, 20, 6, 2, 2, 5, (1, 1), (0, 2, 1, 0), (1, 1)),
    (1, 16, 12, 12, 24, 1, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1)),
    (2, 5, 10, 9, 7, 1, 3, 2, (2, 1), (1, 0, 0, 1), (1, 2)),
    (1, 3, 40, 40, 4, 1, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1)),
]


def _text(case: tuple) -> str:
    n, c, h, w, o, groups, kh, kw, (sh, sw), (pt, pl, pb, pr), (dh, dw) = case
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
    return CONV.format(
        n=n, c=c, h=h, w=w, o=o, cg=c // groups, kh=kh, kw=kw, oh=oh, ow=ow, sh=sh, sw=sw,
        pt=pt, pl=pl, pb=pb, pr=pr, dh=dh, dw=dw, groups=groups,
    )  # fmt: skip


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c[:7])))
def test_direct_conv_matches_the_interpreter(case: tuple, dtype: str) -> None:
    text = _text(case)
    n, c, h, w, o, groups, kh, kw = case[:8]
    rng = np.random.default_rng(sum(case[:8]))
    feeds = {
        "x": rng.standard_normal((n, c, h, w)).astype(np.float32),
        "k": rng.standard_normal((o, c // groups, kh, kw)).astype(np.float32),
        "b": rng.standard_normal(o).astype(np.float32),
    }
    model = trnc.compile(parse_source(text, "conv.mlir"), dtype=dtype)
    onchip_reshapes = [
        line
        for line in model.ir("tile").splitlines()
        if "tile.reinterpret" in line and "sbuf" in line
    ]
    assert onchip_reshapes  # the padded image, flattened in SBUF: the direct lowering
    assert_matches_interpreter(model, text, feeds, tolerance=1e-5 if dtype == "fp32" else 2e-2)


def test_decompose_leaves_only_the_direct_convs() -> None:
    from xdsl.context import Context

    from trnc.passes.graph_decompose import GraphDecomposePass

    direct = parse_source(_text(CASES[0]), "conv.mlir")
    GraphDecomposePass(direct_conv=True).apply(Context(), direct)
    assert "graph.conv2d" in str(direct)
    GraphDecomposePass().apply(Context(), direct)  # the standalone pass: every conv
    assert "graph.conv2d" not in str(direct)
    depthwise = (1, 4, 8, 8, 4, 4, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1))
    kept = parse_source(_text(depthwise), "conv.mlir")
    GraphDecomposePass(direct_conv=True).apply(Context(), kept)
    assert "graph.conv2d" not in str(kept)  # depthwise: per-channel multiplies
