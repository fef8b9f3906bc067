"""Lowerings between trnc levels (graph -> tile -> trn_isa); filled by later issues."""
