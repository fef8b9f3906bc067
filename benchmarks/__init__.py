"""Benchmarks of trnc: hand-built `trn_isa` programs and the scripts that time them."""
