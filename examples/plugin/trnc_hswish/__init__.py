"""trnc_hswish: an example out-of-tree trnc plug-in (a dialect and one pass)."""
