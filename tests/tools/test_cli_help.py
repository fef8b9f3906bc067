"""`--help` of trn-opt, trn-compile and trn-run: every option has a help text, and the
text ends with examples."""

from __future__ import annotations

import argparse

import pytest

from trnc.tools import trn_compile, trn_opt, trn_run


def _trn_opt_parser() -> argparse.ArgumentParser:
    """trn-opt's parser with every option xDSL's driver and trnc register."""
    return trn_opt.TrnOptMain(["--list-passes"]).arg_parser


@pytest.mark.parametrize(
    "make",
    [trn_compile._parser, trn_run._parser, _trn_opt_parser],
    ids=["trn-compile", "trn-run", "trn-opt"],
)
def test_every_option_has_help_and_the_help_has_examples(make: object) -> None:
    parser: argparse.ArgumentParser = make()  # type: ignore[operator]
    missing = [
        "/".join(action.option_strings) or action.dest
        for action in parser._actions
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert missing == []
    text = parser.format_help()
    assert "examples:" in text
    assert text.count(f"{parser.prog} ") >= 3  # the usage line and example commands
