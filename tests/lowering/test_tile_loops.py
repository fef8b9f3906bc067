"""Loops at the tile level: graph-to-tile keeps a matmul's K loop as `scf.for` nests over
panels of w (`lowering/graph_to_tile_compute.py`), tile-allocate gives the buffers in
loops rotating slots and the DMAs rotating queues, tile-to-isa unrolls them. Checked
against the graph interpreter on matmuls whose K has full panels, a partial panel and a
partial last block, in fp32 and bf16, with the tile IR holding the loops and the program
holding every iteration's instructions."""

from __future__ import annotations

import numpy as np
import pytest
from isa_compare import assert_matches_interpreter

import trnc
from trnc.tools.context import parse_source

MATMUL = """
func.func @main(%x: tensor<{m}x{k}xf32> {{graph.name = "x"}},
                %w: tensor<{k}x{n}xf32> {{graph.name = "w"}})
    -> (tensor<{m}x{n}xf32> {{graph.name = "y"}}) {{
  %y = graph.matmul %x, %w : (tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>) -> tensor<{m}x{n}xf32>
  func.return %y : tensor<{m}x{n}xf32>
}}"""


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
@pytest.mark.parametrize(
    "mkn",
    [(128, 1280, 512), (100, 1317, 700), (57, 384, 64), (128, 2048, 1000)],
    ids=lambda c: "x".join(map(str, c)),
)
def test_looped_matmul_matches_the_interpreter(mkn: tuple[int, int, int], dtype: str) -> None:
    m, k, n = mkn
    text = MATMUL.format(m=m, k=k, n=n)
    rng = np.random.default_rng(m + k + n)
    feeds = {
        "x": rng.standard_normal((m, k)).astype(np.float32),
        "w": rng.standard_normal((k, n)).astype(np.float32),
    }
    model = trnc.compile(parse_source(text, "matmul.mlir"), dtype=dtype)
    tile_ir = model.ir("tile")
    full = k // 128
    n_blocks = -(-n // 512)
    # per N block: the load loop and the matmul loop of every panel of 8 blocks (x is
    # a graph input: its blocks are loaded and transposed one by one)
    panels = -(-full // 8)
    assert tile_ir.count("scf.for") == 2 * panels * n_blocks
    isa_ir = model.ir("isa")
    k_blocks = -(-k // 128)
    assert isa_ir.count("trn_isa.matmul ") == k_blocks * n_blocks  # every iteration unrolled
    assert_matches_interpreter(model, text, feeds, tolerance=1e-5 if dtype == "fp32" else 2e-2)


def test_loop_buffers_rotate_and_dmas_spread() -> None:
    """The panel loads of a loop run on several queues; the program verifies."""
    text = MATMUL.format(m=128, k=1280, n=512)
    model = trnc.compile(parse_source(text, "matmul.mlir"), dtype="bf16")
    tile_ir = model.ir("tile")
    assert " queues " in tile_ir
    queues = {
        line.rsplit(" on dma", 1)[1].split()[0]
        for line in model.ir("isa").splitlines()
        if "trn_isa.dma_copy" in line and " on dma" in line
    }
    assert len(queues) >= 8


def test_computed_lhs_is_loaded_once_and_transposed_by_a_loop() -> None:
    """x computed by an op (here a relu): each 128-row block of it is loaded with one DMA
    and its K blocks transposed by a loop; w stays on chip, so the row blocks are a loop
    too (`row_loop`): one transpose in the tile IR, twenty instructions; the result still
    matches."""
    text = """
func.func @main(%x: tensor<256x1280xf32> {graph.name = "x"},
                %w: tensor<1280x512xf32> {graph.name = "w"})
    -> (tensor<256x512xf32> {graph.name = "y"}) {
  %r = graph.relu %x : tensor<256x1280xf32> -> tensor<256x1280xf32>
  %y = graph.matmul %r, %w : (tensor<256x1280xf32>, tensor<1280x512xf32>) -> tensor<256x512xf32>
  func.return %y : tensor<256x512xf32>
}"""
    rng = np.random.default_rng(7)
    feeds = {
        "x": rng.standard_normal((256, 1280)).astype(np.float32),
        "w": rng.standard_normal((1280, 512)).astype(np.float32),
    }
    model = trnc.compile(parse_source(text, "matmul.mlir"), dtype="fp32")
    tile_ir = model.ir("tile")
    transposes = [line for line in tile_ir.splitlines() if "tile.transpose" in line]
    assert len(transposes) == 1  # in the loop over 10 K blocks, in the loop over 2 rows
    assert model.ir("isa").count("trn_isa.transpose ") == 20
    assert_matches_interpreter(model, text, feeds)
