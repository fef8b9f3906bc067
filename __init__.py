"""trnc: an open deep-learning compiler for AWS Trainium-class accelerators, on xDSL.

The repository root is this package: `dialects/` is `trnc.dialects`, `passes/` is
`trnc.passes`, and so on (see `pyproject.toml`). Levels: ONNX -> `graph` -> `tile` ->
`trn_isa` -> simulator; `docs/ARCHITECTURE.md` describes them.
"""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """`trnc.compile` and `trnc.load` (imported on first use, so `import trnc` stays
    cheap)."""
    if name == "compile":
        from trnc.compiler import compile

        return compile
    if name == "load":
        from trnc.compiler import load

        return load
    raise AttributeError(f"module 'trnc' has no attribute {name!r}")
