"""`tile-plan-memory{loop_rows=true}` (`lowering/tile_loop_residency.py`): a scratch
tensor whose row blocks a loop loads is kept whole in SBUF, its producer writing its row
blocks straight into the kept tile and the loop reading views of it; the program still
computes what the graph does."""

from __future__ import annotations

import numpy as np
import pytest
from isa_compare import assert_matches_interpreter

import trnc
import trnc.lowering.graph_to_isa as pipeline_module
from trnc.lowering.tile_plan_memory import TilePlanMemory
from trnc.tools.context import parse_source

TEXT = """
func.func @main(%x: tensor<{m}x512xf32> {{graph.name = "x"}},
                %w: tensor<512x256xf32> {{graph.name = "w"}})
    -> (tensor<{m}x256xf32> {{graph.name = "y"}}) {{
  %r = graph.relu %x : tensor<{m}x512xf32> -> tensor<{m}x512xf32>
  %y = graph.matmul %r, %w : (tensor<{m}x512xf32>, tensor<512x256xf32>) -> tensor<{m}x256xf32>
  func.return %y : tensor<{m}x256xf32>
}}"""


@pytest.mark.parametrize("m", [256, 384])
@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_loop_rows_keeps_the_tensor_and_matches(
    m: int, dtype: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two and three row blocks of the relu's result, which the matmul's row loop reads
    (its weight stays on chip: `row_loop`)."""
    monkeypatch.setattr(
        pipeline_module, "TilePlanMemory", lambda **kw: TilePlanMemory(**kw, loop_rows=True)
    )
    text = TEXT.format(m=m)
    rng = np.random.default_rng(3)
    feeds = {
        "x": rng.standard_normal((m, 512)).astype(np.float32),
        "w": rng.standard_normal((512, 256)).astype(np.float32),
    }
    model = trnc.compile(parse_source(text, "rows.mlir"), dtype=dtype)
    tile_ir = model.ir("tile")
    assert 'tile.resident = ["tmp0"]' in tile_ir
    assert "tmp0" not in tile_ir.split("tile.resident")[0]  # the scratch argument is gone
    isa = model.ir("isa")
    loads = isa.count("trn_isa.dma_copy")
    # x in, w in, y out: no scratch stores or loads (x: one load per row block; w: one
    # per K block; y: one store per row block)
    row_blocks = -(-m // 128)
    assert loads == row_blocks + 4 + row_blocks
    assert_matches_interpreter(model, text, feeds, tolerance=1e-5 if dtype == "fp32" else 2e-2)


def test_off_by_default_keeps_the_scratch_in_hbm() -> None:
    text = TEXT.format(m=256)
    model = trnc.compile(parse_source(text, "rows.mlir"), dtype="bf16")
    assert "tmp0" in model.ir("tile").split("tile.resident")[0]
