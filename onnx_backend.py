"""trnc as an ONNX backend (`onnx.backend.base.Backend`), so ONNX's own conformance tests
and any code written against that API run models through trnc.

    import trnc.onnx_backend as backend
    rep = backend.prepare(model)                   # or backend.run_model(model, inputs)
    outputs = rep.run([x, mask])                   # a list, in the graph's output order

`level="isa"` (the default) compiles the model to a `trn_isa` program (`trnc.compile`,
fp32 unless `dtype="bf16"`) and runs that on the simulator; an op the lowering does not
cover yet is a `CompileError` naming its ONNX node. `level="graph"` imports the model and
runs the `graph` dialect's reference interpreter, which covers every op the importer does.
trnc compiles for static shapes, so a model is specialised when it runs: dynamic dims are
pinned to the shapes of the inputs given, and graph inputs an op needs at compile time
(Reshape's shape, Slice's starts, Clip's bounds, ... passed as inputs rather than
initializers) are bound to their values. Each specialisation is imported once and
cached by input shapes and bound values.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx.backend.base import Backend, BackendRep, Device, DeviceType
from xdsl.dialects.builtin import ModuleOp

from trnc.frontend.onnx import OnnxImportError, import_model
from trnc.frontend.onnx.load import load_model

LEVELS = ("graph", "isa")
"""What `level=` accepts: compiled and simulated (`isa`), or the graph interpreter."""
_MAX_BINDING_ROUNDS = 8


class TrncRep(BackendRep):
    """A prepared model; `run(inputs)` returns its outputs as a list."""

    def __init__(
        self, model: onnx.ModelProto, level: str, base_dir: str | None, dtype: str = "fp32"
    ) -> None:
        self.model = model
        self.level = level
        self.dtype = dtype
        self._compiled: dict[int, Any] = {}
        """id of a cached graph module (kept alive by `_cache`) -> its compiled program"""
        self.base_dir = base_dir
        initializers = {t.name for t in model.graph.initializer}
        self.input_names = [v.name for v in model.graph.input if v.name not in initializers]
        self.output_names = [v.name for v in model.graph.output]
        self._tmp = tempfile.TemporaryDirectory(prefix="trnc-onnx-")
        self._cache: dict[tuple[Any, ...], tuple[ModuleOp, frozenset[str]]] = {}
        self._bound_names: set[str] = set()
        self.last_module: ModuleOp | None = None

    def _feeds(self, inputs: Any) -> dict[str, np.ndarray]:
        if isinstance(inputs, Mapping):
            return {k: np.asarray(v) for k, v in inputs.items()}
        if isinstance(inputs, np.ndarray):
            inputs = [inputs]
        values = list(inputs)
        if len(values) > len(self.input_names):
            raise ValueError(
                f"got {len(values)} inputs, the model has {len(self.input_names)} "
                f"({', '.join(self.input_names)})"
            )
        return {n: np.asarray(v) for n, v in zip(self.input_names, values, strict=False)}

    def compile(self, feeds: Mapping[str, np.ndarray]) -> tuple[ModuleOp, frozenset[str]]:
        """The module specialised for these inputs, and the inputs bound as constants."""
        shapes = {n: list(a.shape) for n, a in feeds.items()}
        key: tuple[Any, ...] = tuple(sorted((n, tuple(s)) for n, s in shapes.items()))
        key += tuple((n, feeds[n].dtype.str, feeds[n].tobytes()) for n in sorted(self._bound_names))
        found = self._cache.get(key)
        if found is not None:
            return found
        bound = set(self._bound_names)
        for _ in range(_MAX_BINDING_ROUNDS):
            try:
                result = import_model(
                    self.model,
                    input_shapes={n: s for n, s in shapes.items() if n not in bound},
                    weights_path=Path(self._tmp.name) / f"w{len(self._cache)}.weights",
                    base_dir=self.base_dir,
                    constant_inputs={n: feeds[n] for n in bound},
                )
            except OnnxImportError as error:
                new = {n for n in error.needs_constant if n in feeds} - bound
                if not new:
                    raise
                bound |= new
                continue
            self._bound_names |= bound
            entry = (result.module, frozenset(bound))
            self._cache[key] = entry
            return entry
        raise OnnxImportError("<model>", ["too many rounds of binding inputs as constants"])

    def run(self, inputs: Any, **kwargs: Any) -> tuple[Any, ...]:
        feeds = self._feeds(inputs)
        if self.level == "isa":
            return self._run_isa(feeds)
        module, bound = self.compile(feeds)
        self.last_module = module
        from trnc.interpreters.graph import run_graph

        result = run_graph(
            module,
            {n: a for n, a in feeds.items() if n not in bound},
            base_dir=self._tmp.name,
        )
        return tuple(result.outputs[name] for name in self.output_names)

    def _run_isa(self, feeds: dict[str, np.ndarray]) -> tuple[Any, ...]:
        from trnc.compiler import compile as trnc_compile

        # the graph-level import of this specialisation (cached), lowered once more
        module, bound = self.compile(feeds)
        compiled = self._compiled.get(id(module))
        if compiled is None:
            compiled = trnc_compile(module, dtype=self.dtype, base_dir=self._tmp.name)
            self._compiled[id(module)] = compiled
        outputs = compiled.run({n: a for n, a in feeds.items() if n not in bound})
        return tuple(outputs[name] for name in self.output_names)


class TrncBackend(Backend):
    """`onnx.backend.base.Backend` for trnc (see the module docstring)."""

    @classmethod
    def is_compatible(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs: Any) -> bool:
        return cls.supports_device(device)

    @classmethod
    def prepare(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs: Any) -> TrncRep:
        """Check the model now (raising `OnnxImportError` for bad ones); compile at run."""
        level = kwargs.pop("level", "isa")
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
        if not cls.supports_device(device):
            raise ValueError(f"trnc runs on the CPU device only, not {device!r}")
        base_dir = kwargs.pop("base_dir", None)
        dtype = kwargs.pop("dtype", "fp32")
        # Structure, dtypes, external data: shapes are pinned when inputs arrive.
        load_model(model, base_dir=base_dir, bound=[v.name for v in model.graph.input])
        return TrncRep(model, level, base_dir, dtype)

    @classmethod
    def run_model(
        cls, model: onnx.ModelProto, inputs: Any, device: str = "CPU", **kwargs: Any
    ) -> tuple[Any, ...]:
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(
        cls,
        node: onnx.NodeProto,
        inputs: Any,
        device: str = "CPU",
        outputs_info: Sequence[tuple[np.dtype[Any], tuple[int, ...]]] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, ...] | None:
        raise NotImplementedError("trnc runs whole models; use run_model")

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return Device(device).type == DeviceType.CPU


prepare = TrncBackend.prepare
run_model = TrncBackend.run_model
run_node = TrncBackend.run_node
supports_device = TrncBackend.supports_device

__all__ = ["LEVELS", "TrncBackend", "TrncRep", "prepare", "run_model", "supports_device"]
