"""Build small, randomly initialised PyTorch models and export them to ONNX.

Produces the ONNX test models in this directory plus ``manifest.json``, then
verifies every file (ONNX checker, onnxruntime at two shapes, comparison with
PyTorch). Run it from the repository root with an environment that has torch,
transformers, onnx, onnxscript and onnxruntime (NOT the trnc project venv;
torch is not a trnc dependency)::

    python3 -m venv /work/exportenv
    /work/exportenv/bin/pip install torch==2.13.0
    /work/exportenv/bin/pip install transformers onnx onnxruntime onnxscript numpy
    /work/exportenv/bin/python tests/models/export_models.py

Everything is built from configs with fixed seeds; nothing is downloaded.
Exit status is non-zero if any verification fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import transformers
from transformers import BertConfig, BertModel, GPT2Config, GPT2LMHeadModel

HERE = Path(__file__).resolve().parent

VOCAB = 1000
MAX_POS = 128
TS_OPSET = 17  # TorchScript exporter
DYNAMO_OPSET = None  # None: the dynamo exporter's default opset
ATOL = 1e-4


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


class BertWrapper(nn.Module):
    """Calls BertModel with keyword arguments only.

    transformers 5.x's forward decorator rejects the positional call the
    TorchScript tracer makes ("got multiple values for argument 'use_cache'"),
    so both exporters see this wrapper instead of the bare model.
    """

    def __init__(self, model: BertModel) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        return self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            use_cache=False,
            return_dict=False,
        )


class GPT2Wrapper(nn.Module):
    def __init__(self, model: GPT2LMHeadModel) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        return self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            use_cache=False,
            return_dict=False,
        )


def randomize_vectors(model: nn.Module, seed: int) -> None:
    """Give every 1-D parameter (biases, LayerNorm scales/shifts) random values.

    transformers' init sets biases to 0 and LayerNorm to (1, 0); exported as
    is, a wrong bias or LayerNorm affine in a compiler would go unnoticed, and
    the dynamo exporter's optimizer also merges the identical constants.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim == 1:
                p.add_(torch.randn(p.shape, generator=gen) * 0.1)


def build_bert() -> nn.Module:
    seed_all(0)
    cfg = BertConfig(
        vocab_size=VOCAB,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=MAX_POS,
        type_vocab_size=2,
        use_cache=False,
    )
    model = BertModel(cfg)  # default attention implementation (sdpa)
    randomize_vectors(model, 100)
    return BertWrapper(model).eval()


def build_gpt2() -> nn.Module:
    seed_all(1)
    cfg = GPT2Config(
        vocab_size=VOCAB,
        n_embd=64,
        n_layer=2,
        n_head=4,
        n_positions=MAX_POS,
        use_cache=False,
        bos_token_id=VOCAB - 1,
        eos_token_id=VOCAB - 1,
    )
    model = GPT2LMHeadModel(cfg)  # default attention implementation (sdpa)
    randomize_vectors(model, 101)
    return GPT2Wrapper(model).eval()


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.fc1(x))
        x = nn.functional.gelu(self.fc2(x))
        return self.fc3(x)


def build_mlp() -> nn.Module:
    seed_all(2)
    return MLP().eval()


class CNN(nn.Module):
    """3x32x32 -> 10 classes.

    bn1 follows a ReLU, so no exporter can fold it into a Conv; bn2 directly
    follows conv2 and is kept only because the TorchScript export uses
    TrainingMode.PRESERVE (the dynamo exporter folds it into conv2).
    conv2 is grouped (groups=4), dilated (2) and strided (2).
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.pool1 = nn.MaxPool2d(2)  # 32 -> 16
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=2, dilation=2, groups=4)  # 16 -> 8
        self.bn2 = nn.BatchNorm2d(32)
        self.pool2 = nn.AvgPool2d(2)  # 8 -> 4
        self.fc = nn.Linear(32 * 4 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.bn1(torch.relu(self.conv1(x))))
        x = self.pool2(torch.relu(self.bn2(self.conv2(x))))
        return self.fc(torch.flatten(x, 1))


def bn_effect() -> float:
    """Max abs change in the CNN's output if its BN layers had default stats."""
    x = torch.from_numpy(
        np.random.default_rng(9).standard_normal((2, 3, 32, 32)).astype(np.float32)
    )
    m = build_cnn()
    plain = build_cnn()
    for bn in (plain.bn1, plain.bn2):
        bn.reset_parameters()  # weight 1, bias 0, mean 0, var 1
    with torch.no_grad():
        return float((m(x) - plain(x)).abs().max())


def build_cnn() -> nn.Module:
    seed_all(3)
    m = CNN()
    with torch.no_grad():
        for bn in (m.bn1, m.bn2):
            c = bn.num_features
            bn.weight.copy_(torch.rand(c) * 1.5 + 0.5)
            bn.bias.copy_(torch.randn(c) * 0.5)
            bn.running_mean.copy_(torch.randn(c) * 0.5)
            bn.running_var.copy_(torch.rand(c) * 1.5 + 0.5)
    return m.eval()


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


MakeInputs = Callable[[dict[str, int], int], dict[str, np.ndarray]]


@dataclass
class InputSpec:
    name: str
    dtype: str  # numpy dtype name
    shape: list  # ints, or strings for dynamic dims
    pin_shape: list[int]  # suggested concrete shape
    value_range: dict | None = None  # integer inputs only


@dataclass
class ModelSpec:
    file: str
    description: str
    build: Callable[[], nn.Module]
    exporter: str  # "torchscript" | "dynamo"
    inputs: list[InputSpec]
    outputs: list[str]
    make_inputs: MakeInputs
    second_dims: dict[str, int] | None  # dynamic dims for the 2nd check
    export_kwargs: dict = field(default_factory=dict)
    expect_counts: dict[str, int] = field(default_factory=dict)  # op type -> node count


def token_inputs(with_token_types: bool) -> MakeInputs:
    def make(dims: dict[str, int], seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        b, s = dims["batch"], dims["sequence"]
        ids = rng.integers(0, VOCAB, size=(b, s), dtype=np.int64)
        mask = np.ones((b, s), dtype=np.int64)
        # right padding: every other row loses a tail (first token stays 1)
        for r in range(b):
            if r % 2 == 1 and s > 1:
                mask[r, max(1, s - 1 - s // 3) :] = 0
        feeds = {"input_ids": ids, "attention_mask": mask}
        if with_token_types:
            tt = np.zeros((b, s), dtype=np.int64)
            tt[:, s // 2 :] = 1
            feeds["token_type_ids"] = tt
        return feeds

    return make


def float_inputs(name: str, shape_fn: Callable[[dict[str, int]], tuple[int, ...]]) -> MakeInputs:
    def make(dims: dict[str, int], seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        return {name: rng.standard_normal(shape_fn(dims)).astype(np.float32)}

    return make


BS = ["batch", "sequence"]
PIN_TOK = {"batch": 2, "sequence": 16}
SECOND_TOK = {"batch": 3, "sequence": 7}
IDS = {"min": 0, "max_exclusive": VOCAB}
BINARY = {"values": [0, 1]}

BERT_INPUTS = [
    InputSpec("input_ids", "int64", BS, [2, 16], IDS),
    InputSpec(
        "attention_mask",
        "int64",
        BS,
        [2, 16],
        dict(
            BINARY,
            note="1 = attend, 0 = padding; keep at least one 1 per row (an all-0 row "
            "matches PyTorch in the TorchScript export only)",
        ),
    ),
    InputSpec("token_type_ids", "int64", BS, [2, 16], dict(BINARY, note="segment id")),
]
GPT2_INPUTS = [
    InputSpec("input_ids", "int64", BS, [2, 16], IDS),
    InputSpec(
        "attention_mask",
        "int64",
        BS,
        [2, 16],
        dict(
            BINARY,
            note="1 = attend, 0 = padding; use right padding (first token 1): with left "
            "padding the dynamo export differs from PyTorch at the padded positions",
        ),
    ),
]
TOK_DYNAMIC_AXES_IN = {0: "batch", 1: "sequence"}


def ts_kwargs(inputs: list[InputSpec], outputs: dict[str, dict[int, str]], **extra: object) -> dict:
    axes = {}
    for spec in inputs:
        d = {i: s for i, s in enumerate(spec.shape) if isinstance(s, str)}
        if d:
            axes[spec.name] = d
    axes.update(outputs)
    return dict(dynamo=False, opset_version=TS_OPSET, dynamic_axes=axes, **extra)


def dynamo_kwargs(inputs: list[InputSpec]) -> dict:
    dims: dict[str, torch.export.Dim] = {}
    shapes = {}
    for spec in inputs:
        ds = {}
        for i, s in enumerate(spec.shape):
            if isinstance(s, str):
                if s not in dims:
                    dims[s] = torch.export.Dim(s, min=1, max={"sequence": MAX_POS}.get(s, 1024))
                ds[i] = dims[s]
        shapes[spec.name] = ds
    kw = dict(dynamo=True, external_data=False, dynamic_shapes=shapes)
    if DYNAMO_OPSET is not None:
        kw["opset_version"] = DYNAMO_OPSET
    return kw


BERT_OUT_AXES = {"last_hidden_state": {0: "batch", 1: "sequence"}, "pooler_output": {0: "batch"}}
GPT2_OUT_AXES = {"logits": {0: "batch", 1: "sequence"}}

MLP_INPUTS = [InputSpec("x", "float32", ["batch", 64], [4, 64])]
CNN_INPUTS = [InputSpec("x", "float32", ["batch", 3, 32, 32], [1, 3, 32, 32])]

MODELS: list[ModelSpec] = [
    ModelSpec(
        "bert_torchscript.onnx",
        "BertModel (hidden 64, 2 layers, 4 heads, ffn 128, vocab 1000, 128 positions), "
        "random weights",
        build_bert,
        "torchscript",
        BERT_INPUTS,
        ["last_hidden_state", "pooler_output"],
        token_inputs(True),
        SECOND_TOK,
        ts_kwargs(BERT_INPUTS, BERT_OUT_AXES),
    ),
    ModelSpec(
        "bert_dynamo.onnx",
        "same BertModel as bert_torchscript.onnx",
        build_bert,
        "dynamo",
        BERT_INPUTS,
        ["last_hidden_state", "pooler_output"],
        token_inputs(True),
        SECOND_TOK,
        dynamo_kwargs(BERT_INPUTS),
    ),
    ModelSpec(
        "gpt2_torchscript.onnx",
        "GPT2LMHeadModel (n_embd 64, 2 layers, 4 heads, vocab 1000, 128 positions), "
        "random weights, tied LM head",
        build_gpt2,
        "torchscript",
        GPT2_INPUTS,
        ["logits"],
        token_inputs(False),
        SECOND_TOK,
        ts_kwargs(GPT2_INPUTS, GPT2_OUT_AXES),
    ),
    ModelSpec(
        "gpt2_dynamo.onnx",
        "same GPT2LMHeadModel as gpt2_torchscript.onnx",
        build_gpt2,
        "dynamo",
        GPT2_INPUTS,
        ["logits"],
        token_inputs(False),
        SECOND_TOK,
        dynamo_kwargs(GPT2_INPUTS),
    ),
    ModelSpec(
        "mlp.onnx",
        "MLP Linear(64,128)-ReLU-Linear(128,128)-GELU(erf)-Linear(128,10)",
        build_mlp,
        "torchscript",
        MLP_INPUTS,
        ["y"],
        float_inputs("x", lambda d: (d["batch"], 64)),
        {"batch": 7},
        ts_kwargs(MLP_INPUTS, {"y": {0: "batch"}}),
    ),
    ModelSpec(
        "mlp_dynamo.onnx",
        "same MLP as mlp.onnx",
        build_mlp,
        "dynamo",
        MLP_INPUTS,
        ["y"],
        float_inputs("x", lambda d: (d["batch"], 64)),
        {"batch": 7},
        dynamo_kwargs(MLP_INPUTS),
    ),
    ModelSpec(
        "cnn.onnx",
        "CNN Conv(3->16,k3,p1)-ReLU-BN-MaxPool2-Conv(16->32,k3,s2,p2,dil2,groups4)-BN-ReLU-"
        "AvgPool2-Flatten-Linear(512,10)",
        build_cnn,
        "torchscript",
        CNN_INPUTS,
        ["y"],
        float_inputs("x", lambda d: (d["batch"], 3, 32, 32)),
        {"batch": 3},
        ts_kwargs(CNN_INPUTS, {"y": {0: "batch"}}, training=torch.onnx.TrainingMode.PRESERVE),
        {"BatchNormalization": 2, "Conv": 2},
    ),
    ModelSpec(
        "cnn_dynamo.onnx",
        "same CNN as cnn.onnx; the dynamo exporter folds bn2 into conv2, bn1 stays",
        build_cnn,
        "dynamo",
        CNN_INPUTS,
        ["y"],
        float_inputs("x", lambda d: (d["batch"], 3, 32, 32)),
        {"batch": 3},
        dynamo_kwargs(CNN_INPUTS),
        {"BatchNormalization": 1, "Conv": 2},
    ),
]


# --------------------------------------------------------------------------
# Export, inspection, verification
# --------------------------------------------------------------------------


def pin_dims(spec: ModelSpec) -> dict[str, int]:
    dims: dict[str, int] = {}
    for inp in spec.inputs:
        for s, v in zip(inp.shape, inp.pin_shape, strict=True):
            if isinstance(s, str):
                dims[s] = v
    return dims


def to_torch_args(spec: ModelSpec, feeds: dict[str, np.ndarray]) -> tuple:
    return tuple(torch.from_numpy(feeds[i.name]) for i in spec.inputs)


def export(spec: ModelSpec, path: Path) -> None:
    model = spec.build()
    args = to_torch_args(spec, spec.make_inputs(pin_dims(spec), 1234))
    with warnings.catch_warnings():
        # the legacy-exporter deprecation notice is expected; keep the rest
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        torch.onnx.export(
            model,
            args,
            str(path),
            input_names=[i.name for i in spec.inputs],
            output_names=spec.outputs,
            **spec.export_kwargs,
        )
    if spec.exporter == "dynamo":
        strip_stack_traces(path)


STACK_TRACE_KEY = "pkg.torch.onnx.stack_trace"


def strip_stack_traces(path: Path) -> None:
    """Drop the dynamo exporter's per-node Python stack traces.

    They hold absolute paths of this machine's venv and line numbers of this
    script, so keeping them would make the files differ between checkouts and
    after any edit of this script. All other metadata is kept.
    """
    model = onnx.load(str(path))

    def strip(nodes: Iterable[onnx.NodeProto]) -> None:
        for node in nodes:
            keep = [p for p in node.metadata_props if p.key != STACK_TRACE_KEY]
            del node.metadata_props[:]
            node.metadata_props.extend(keep)
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    strip(attr.g.node)
                elif attr.type == onnx.AttributeProto.GRAPHS:
                    for g in attr.graphs:
                        strip(g.node)

    strip(model.graph.node)
    for fn in model.functions:
        strip(fn.node)
    onnx.save(model, str(path))


def op_types(model: onnx.ModelProto) -> list[str]:
    found: set[str] = set()

    def walk(graph: onnx.GraphProto) -> None:
        for node in graph.node:
            dom = node.domain if node.domain not in ("", "ai.onnx") else ""
            found.add(f"{dom}::{node.op_type}" if dom else node.op_type)
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    walk(attr.g)
                elif attr.type == onnx.AttributeProto.GRAPHS:
                    for g in attr.graphs:
                        walk(g)

    walk(model.graph)
    for fn in model.functions:
        for node in fn.node:
            found.add(node.op_type)
    return sorted(found)


def dim_list(vi: onnx.ValueInfoProto) -> list:
    return [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]


def torch_reference(
    spec: ModelSpec, model: nn.Module, feeds: dict[str, np.ndarray]
) -> list[np.ndarray]:
    with torch.no_grad():
        out = model(*to_torch_args(spec, feeds))
    if isinstance(out, torch.Tensor):
        out = (out,)
    return [o.numpy() for o in out]


def verify(spec: ModelSpec, path: Path) -> tuple[list[str], list[dict]]:
    """Return (failures, per-shape results)."""
    failures: list[str] = []
    results: list[dict] = []
    model_proto = onnx.load(str(path))
    try:
        onnx.checker.check_model(model_proto, full_check=True)
    except Exception as e:
        failures.append(f"checker: {e}")
    # declared graph inputs/outputs agree with the manifest
    graph_in = {vi.name: dim_list(vi) for vi in model_proto.graph.input}
    for inp in spec.inputs:
        if graph_in.get(inp.name) != inp.shape:
            failures.append(
                f"input {inp.name}: graph shape {graph_in.get(inp.name)} != {inp.shape}"
            )
    if [o.name for o in model_proto.graph.output] != spec.outputs:
        failures.append(f"outputs {[o.name for o in model_proto.graph.output]} != {spec.outputs}")
    for op, n in spec.expect_counts.items():
        got_n = sum(node.op_type == op for node in model_proto.graph.node)
        if got_n != n:
            failures.append(f"expected {n} {op} node(s), found {got_n}")
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in model_proto.graph.initializer):
        failures.append("external data")

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    torch_model = spec.build()
    shapes = [pin_dims(spec)] + ([spec.second_dims] if spec.second_dims else [])
    for k, dims in enumerate(shapes):
        feeds = spec.make_inputs(dims, 100 + k)
        got = sess.run(spec.outputs, feeds)
        ref = torch_reference(spec, torch_model, feeds)
        res: dict = {"dims": dims, "outputs": {}}
        for name, g, r in zip(spec.outputs, got, ref, strict=True):
            finite = bool(np.isfinite(g).all())
            diff = float(np.abs(g - r).max()) if g.shape == r.shape else float("inf")
            res["outputs"][name] = {"shape": list(g.shape), "finite": finite, "max_abs_diff": diff}
            if not finite:
                failures.append(f"{dims} {name}: non-finite output")
            if g.shape != r.shape:
                failures.append(f"{dims} {name}: shape {g.shape} != torch {r.shape}")
            elif diff >= ATOL:
                failures.append(f"{dims} {name}: max abs diff {diff:.3g} >= {ATOL}")
        results.append(res)
    return failures, results


def manifest_entry(spec: ModelSpec, path: Path) -> dict:
    m = onnx.load(str(path))
    opsets = {o.domain or "ai.onnx": o.version for o in m.opset_import}
    return {
        "description": spec.description,
        "exporter": spec.exporter,
        "opset": opsets.get("ai.onnx"),
        "opset_imports": opsets,
        "ir_version": m.ir_version,
        "inputs": [
            {
                "name": i.name,
                "dtype": i.dtype,
                "shape": i.shape,
                "pin_shape": i.pin_shape,
                **({"value_range": i.value_range} if i.value_range else {}),
            }
            for i in spec.inputs
        ],
        "dim_max": {
            d: MAX_POS
            for d in sorted({s for i in spec.inputs for s in i.shape if isinstance(s, str)})
            if d == "sequence"
        },
        "outputs": [{"name": vi.name, "shape": dim_list(vi)} for vi in m.graph.output],
        "op_types": op_types(m),
        "node_count": len(m.graph.node),
        "bytes": path.stat().st_size,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output directory (default: this one)")
    ap.add_argument("--only", nargs="*", help="export only these files (manifest keeps others)")
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(min(2, os.cpu_count() or 1))

    manifest_path = out / "manifest.json"
    manifest: dict = {"models": {}}
    if args.only and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())

    all_failures: dict[str, list[str]] = {}
    for spec in MODELS:
        if args.only and spec.file not in args.only:
            continue
        path = out / spec.file
        print(f"== {spec.file}: exporting ({spec.exporter})", flush=True)
        export(spec, path)
        failures, results = verify(spec, path)
        entry = manifest_entry(spec, path)
        if entry["bytes"] >= 2 * 1024 * 1024:
            failures.append(f"file is {entry['bytes']} bytes (>= 2 MiB)")
        entry["verified"] = results
        manifest["models"][spec.file] = entry
        for r in results:
            print(
                f"   dims {r['dims']}: "
                + ", ".join(
                    f"{n} {o['shape']} finite={o['finite']} maxdiff={o['max_abs_diff']:.2e}"
                    for n, o in r["outputs"].items()
                )
            )
        print(
            f"   opset {entry['opset']}, {entry['bytes']} bytes, ops: {' '.join(entry['op_types'])}"
        )
        if failures:
            all_failures[spec.file] = failures
            for f in failures:
                print(f"   FAIL: {f}")

    if not args.only or "cnn.onnx" in args.only:
        effect = bn_effect()
        print(f"BN effect on CNN output (random vs default BN stats): max abs {effect:.3g}")
        if effect < 1e-2:
            all_failures["cnn.onnx"] = [*all_failures.get("cnn.onnx", []), "BN stats barely matter"]

    manifest["generator"] = {
        "script": "tests/models/export_models.py",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": ort.__version__,
        "onnxscript": __import__("onnxscript").__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }
    manifest["all_op_types"] = sorted(
        {op for e in manifest["models"].values() for op in e["op_types"]}
    )
    manifest["models"] = dict(sorted(manifest["models"].items()))
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {manifest_path}")
    if all_failures:
        print(f"VERIFICATION FAILED for {sorted(all_failures)}")
        return 1
    print(f"all {len(MODELS) if not args.only else len(args.only)} models verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
