"""Command-line tools: trn-opt (and later trn-run, trn-compile)."""
