"""`--help` of trn-compile and trn-run: every option has a help text, and the text ends
with examples."""

from __future__ import annotations

import argparse

import pytest

from trnc.tools import trn_compile, trn_run


@pytest.mark.parametrize("module", [trn_compile, trn_run], ids=["trn-compile", "trn-run"])
def test_every_option_has_help_and_the_help_has_examples(module: object) -> None:
    parser: argparse.ArgumentParser = module._parser()  # type: ignore[attr-defined]
    missing = [
        "/".join(action.option_strings) or action.dest
        for action in parser._actions
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert missing == []
    text = parser.format_help()
    assert "examples:" in text
    assert text.count(f"{parser.prog} ") >= 3  # the usage line and example commands
