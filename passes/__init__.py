"""trnc's passes, one module per pass, registered by name as lazy factories (the module
is imported when the pass is first used). Level-to-level lowerings live in
`trnc.lowering`."""

from __future__ import annotations

from collections.abc import Callable

from xdsl.passes import ModulePass


def _graph_canonicalize() -> type[ModulePass]:
    from trnc.passes.graph_canonicalize import GraphCanonicalizePass

    return GraphCanonicalizePass


def _graph_decompose() -> type[ModulePass]:
    from trnc.passes.graph_decompose import GraphDecomposePass

    return GraphDecomposePass


def _graph_fold_weights() -> type[ModulePass]:
    from trnc.passes.graph_fold_weights import GraphFoldWeightsPass

    return GraphFoldWeightsPass


def _graph_fuse_activations() -> type[ModulePass]:
    from trnc.passes.graph_fuse_activations import GraphFuseActivationsPass

    return GraphFuseActivationsPass


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Pass name -> factory returning the pass class."""
    return {
        "graph-canonicalize": _graph_canonicalize,
        "graph-decompose": _graph_decompose,
        "graph-fold-weights": _graph_fold_weights,
        "graph-fuse-activations": _graph_fuse_activations,
    }
