"""trnc.pass_statistics: statistics are kept only while collected, add up per pass, and
print in mlir-opt's layout; the compiler's passes report through it."""

from __future__ import annotations

import trnc
from trnc.pass_statistics import collecting, record
from trnc.tools.context import parse_source


def test_records_only_while_collecting_and_adds_up() -> None:
    record("p", "n", 5, "ignored: nobody collects")
    with collecting() as stats:
        record("p", "n", 2, "things done")
        record("p", "n", 3, "things done")
        record("q", "m", 7, "other things")
    record("p", "n", 1, "after the block: ignored")
    assert stats.passes == {"p": {"n": (5, "things done")}, "q": {"m": (7, "other things")}}
    lines = stats.report().splitlines()
    assert "... Pass statistics report ..." in lines[1]
    assert lines[3:] == ["'p'", "  (S) 5 n - things done", "'q'", "  (S) 7 m - other things"]


def test_a_compile_reports_its_passes() -> None:
    text = """
func.func @main(%x: tensor<128x256xf32> {graph.name = "x"},
                %w: tensor<256x64xf32> {graph.name = "w"})
    -> (tensor<128x64xf32> {graph.name = "y"}) {
  %y = graph.matmul %x, %w : (tensor<128x256xf32>, tensor<256x64xf32>) -> tensor<128x64xf32>
  func.return %y : tensor<128x64xf32>
}"""
    with collecting() as stats:
        trnc.compile(parse_source(text, "m.mlir"))
    assert stats.passes["tile-plan-memory"]["spill-bytes"][0] == 0
    assert stats.passes["isa-insert-sync"]["waits"][0] > 0
    assert stats.passes["tile-allocate"]["sbuf-peak"][0] > 0
