"""A seeded mutation fuzzer for the ONNX frontend: a malformed model must never crash it.

Every bundled model (`examples/*.onnx`, `tests/models/*.onnx`, duplicates by content
dropped) is mutated many ways with a fixed seed: initializers whose dims, dtype or data
disagree, external data with bad offsets and lengths, node inputs renamed to '' or to
nothing, unknown op types, attributes of the wrong type, axes out of range, huge constants
without data, inputs pinned to 2^31-1, deleted / duplicated / renamed / shuffled nodes,
inputs, outputs and value_info, wrong element types, negative and huge dims, bad opsets and
IR versions. Each mutant is imported (`import_model`); a subset is compiled end to end
(`trnc.compile`) and another through `trn-compile`'s `main()` in-process. The outcome must be
success or the project's own error (`OnnxImportError`, `CompileError`) with a message, the
exit code 0 or 1 with a one-line-per-problem `error:` and no traceback, and no mutant may
take longer than its time limit. The default run is bounded (`MUTANTS`); `-m slow` runs
`MUTANTS_SLOW` more.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import random
import signal
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import onnx
import pytest
from onnx import AttributeProto, TensorProto, helper

from trnc.compiler import CompileError
from trnc.compiler import compile as trnc_compile
from trnc.frontend.onnx import OnnxImportError, import_model
from trnc.tools.trn_compile import main as trn_compile_main

ROOT = Path(__file__).resolve().parent.parent.parent
SEED = 20250612
MUTANTS = 340
"""Mutants in the default run (import level; every COMPILE_EVERY-th is also compiled)."""
MUTANTS_SLOW = 1500
COMPILE_EVERY = 17
CLI_EVERY = 23
IMPORT_LIMIT = 20  # seconds per import (a busy 2-core machine); more means a hang
COMPILE_LIMIT = 60
HUGE = 2**31 - 1

MANIFEST = json.loads((ROOT / "tests/models/manifest.json").read_text())["models"]


def _corpus() -> list[tuple[str, bytes, dict[str, list[int]]]]:
    """(name, bytes, pinned input shapes) per distinct bundled model."""
    pins: dict[str, dict[str, list[int]]] = {}  # by content: examples copy tests/models
    for name, entry in MANIFEST.items():
        digest = hashlib.sha256((ROOT / "tests/models" / name).read_bytes()).hexdigest()
        pins[digest] = {i["name"]: i["pin_shape"] for i in entry["inputs"] if i.get("pin_shape")}
    seen: set[str] = set()
    out = []
    for path in sorted([*ROOT.glob("tests/models/*.onnx"), *ROOT.glob("examples/*.onnx")]):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        out.append((str(path.relative_to(ROOT)), data, pins.get(digest, {})))
    return out


CORPUS = _corpus()
SMALL = {name for name, data, _ in CORPUS if len(data) < 200_000}
"""Models small enough to compile end to end in the default run."""


@dataclass
class Mutant:
    label: str
    model: onnx.ModelProto
    pins: dict[str, list[int]]
    files: dict[str, bytes] = field(default_factory=dict)
    """Files to write beside the model (external data)."""


Mutation = Callable[[Mutant, random.Random], bool]
"""Mutates in place; False when it does not apply to this model."""


def _nodes_with(m: Mutant, pred: Callable[[onnx.NodeProto], bool]) -> list[onnx.NodeProto]:
    return [n for n in m.model.graph.node if pred(n)]


def _data_initializers(m: Mutant) -> list[TensorProto]:
    return [t for t in m.model.graph.initializer if t.raw_data or t.float_data or t.int64_data]


def init_dims(m: Mutant, rng: random.Random) -> bool:
    inits = _data_initializers(m)
    if not inits:
        return False
    t = rng.choice(inits)
    how = rng.randrange(3)
    if how == 0 and t.dims:
        i = rng.randrange(len(t.dims))
        t.dims[i] = t.dims[i] + rng.choice([1, -1, 7])
    elif how == 1:
        t.dims.append(rng.choice([2, 3]))
    else:
        del t.dims[:]
        t.dims.extend([rng.choice([0, 5, 1000])])
    return True


def init_dtype(m: Mutant, rng: random.Random) -> bool:
    inits = _data_initializers(m)
    if not inits:
        return False
    t = rng.choice(inits)
    t.data_type = rng.choice(
        [TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT8, TensorProto.DOUBLE,
         TensorProto.STRING, TensorProto.BOOL, TensorProto.FLOAT16, 0, 99]
    )  # fmt: skip
    return True


def init_data(m: Mutant, rng: random.Random) -> bool:
    inits = [t for t in m.model.graph.initializer if t.raw_data]
    if not inits:
        return False
    t = rng.choice(inits)
    how = rng.randrange(3)
    if how == 0:
        t.raw_data = t.raw_data[: rng.randrange(len(t.raw_data))]
    elif how == 1:
        t.raw_data = t.raw_data + b"\x01\x02\x03"
    else:
        t.ClearField("raw_data")
    return True


def external(m: Mutant, rng: random.Random) -> bool:
    inits = [t for t in m.model.graph.initializer if t.raw_data]
    if not inits:
        return False
    t = rng.choice(inits)
    raw = bytes(t.raw_data)
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    entries = {"location": "w.bin", "offset": "0", "length": str(len(raw))}
    key = rng.choice(["offset", "length", "location", "file"])
    if key == "file":
        m.files["w.bin"] = raw[: rng.randrange(len(raw) + 1)]
    else:
        m.files["w.bin"] = raw
        entries[key] = rng.choice(
            ["abc", "-5", "1e3", "", str(2**70), str(len(raw) + 1), "0x10", " 4", "../w.bin",
             "/etc/passwd", "missing.bin", "w.bin\x00"]
        )  # fmt: skip
    for k, v in entries.items():
        entry = t.external_data.add()
        entry.key, entry.value = k, v
    return True


def input_empty(m: Mutant, rng: random.Random) -> bool:
    nodes = _nodes_with(m, lambda n: len(n.input) > 0)
    if not nodes:
        return False
    n = rng.choice(nodes)
    n.input[rng.randrange(len(n.input))] = rng.choice(["", "", "no_such_value"])
    return True


def unknown_op(m: Mutant, rng: random.Random) -> bool:
    n = rng.choice(list(m.model.graph.node))
    if rng.randrange(2):
        n.op_type = rng.choice(["FooBar", "", "matmul", "Conv3x3"])
    else:
        n.domain = rng.choice(["com.example", "ai.onnx.ml", "com.microsoft"])
    return True


def _other_attr(a: AttributeProto, rng: random.Random) -> AttributeProto:
    values: list[object] = [1.5, 3, "abc", [1, 2], [0.5], b"", -7, ["a"], 2**40]
    choices = [v for v in values if helper.make_attribute("x", v).type != a.type]
    return helper.make_attribute(a.name, rng.choice(choices))


def attr_type(m: Mutant, rng: random.Random) -> bool:
    nodes = _nodes_with(m, lambda n: len(n.attribute) > 0 and n.op_type != "Constant")
    if not nodes:
        return False
    n = rng.choice(nodes)
    i = rng.randrange(len(n.attribute))
    n.attribute[i].CopyFrom(_other_attr(n.attribute[i], rng))
    return True


AXIS_OPS = {"Softmax", "Concat", "Gather", "Split", "Flatten", "LayerNormalization",
            "ReduceMean", "ReduceSum", "Transpose", "Unsqueeze", "Squeeze", "CumSum",
            "LogSoftmax", "ArgMax", "ReduceMax"}  # fmt: skip


def axis(m: Mutant, rng: random.Random) -> bool:
    nodes = _nodes_with(m, lambda n: n.op_type in AXIS_OPS)
    if not nodes:
        return False
    n = rng.choice(nodes)
    name = {"Transpose": "perm", "ReduceMean": "axes", "ReduceSum": "axes"}.get(n.op_type, "axis")
    value: object = rng.choice([99, -99, 2**40, 4])
    if name != "axis":
        value = rng.choice([[99], [0, 0], [-99, 1], [5, 4, 3, 2, 1, 0]])
    kept = [a for a in n.attribute if a.name != name]
    del n.attribute[:]
    n.attribute.extend([*kept, helper.make_attribute(name, value)])
    return True


def huge_constant(m: Mutant, rng: random.Random) -> bool:
    g = m.model.graph
    dims = rng.choice([[HUGE, 4], [HUGE], [65536, 65536], [2**20, 2**20, 2**20]])
    if g.initializer and rng.randrange(2):
        t = rng.choice(list(g.initializer))
        for f in ("raw_data", "float_data", "int64_data", "int32_data", "double_data"):
            t.ClearField(f)
        del t.dims[:]
        t.dims.extend(dims)
        return True
    nodes = _nodes_with(m, lambda n: n.op_type == "Constant")
    tensor = TensorProto(name="v", data_type=TensorProto.FLOAT, dims=dims)
    if nodes:
        n = rng.choice(nodes)
        del n.attribute[:]
        n.attribute.extend([helper.make_attribute("value", tensor)])
        return True
    if not g.initializer:
        return False
    t = rng.choice(list(g.initializer))
    name = t.name
    g.initializer.remove(t)
    g.node.insert(0, helper.make_node("Constant", [], [name], value=tensor, name="huge"))
    return True


def pin_huge(m: Mutant, rng: random.Random) -> bool:
    if not m.pins:
        return False
    name = rng.choice(sorted(m.pins))
    dims = list(m.pins[name])
    dims[rng.randrange(len(dims))] = rng.choice([HUGE, 65536, 2**20])
    m.pins[name] = dims
    return True


def graph_lists(m: Mutant, rng: random.Random) -> bool:
    """Delete, duplicate or rename an entry of node / input / output / value_info."""
    g = m.model.graph
    lists = {"node": g.node, "input": g.input, "output": g.output, "value_info": g.value_info}
    name = rng.choice([k for k, v in lists.items() if len(v)])
    items = lists[name]
    i = rng.randrange(len(items))
    how = rng.randrange(3)
    if how == 0:
        del items[i]
    elif how == 1:
        items.add().CopyFrom(items[i])
    elif name == "node":
        node = items[i]
        assert isinstance(node, onnx.NodeProto)
        if node.output:
            node.output[rng.randrange(len(node.output))] = rng.choice(["renamed", ""])
    else:
        items[i].name = rng.choice(["renamed", "", g.node[0].output[0] if g.node else "x"])
    return True


def shuffle(m: Mutant, rng: random.Random) -> bool:
    nodes = list(m.model.graph.node)
    rng.shuffle(nodes)
    del m.model.graph.node[:]
    m.model.graph.node.extend(nodes)
    return True


def value_types(m: Mutant, rng: random.Random) -> bool:
    g = m.model.graph
    values = [*g.input, *g.output, *g.value_info]
    if not values:
        return False
    v = rng.choice(values)
    t = v.type.tensor_type
    how = rng.randrange(4)
    if how == 0:
        t.elem_type = rng.choice(
            [TensorProto.STRING, TensorProto.COMPLEX64, 0, 99, TensorProto.INT64,
             TensorProto.FLOAT, TensorProto.BOOL]
        )  # fmt: skip
    elif how == 1 and t.HasField("shape") and len(t.shape.dim):
        d = t.shape.dim[rng.randrange(len(t.shape.dim))]
        d.dim_value = rng.choice([-1, -(2**40), 0, HUGE, 2**40, 3])
    elif how == 2 and t.HasField("shape"):
        t.shape.dim.add().dim_value = rng.choice([1, 2, 0])
    else:
        v.type.ClearField("tensor_type") if rng.randrange(2) else t.ClearField("shape")
    return True


def header(m: Mutant, rng: random.Random) -> bool:
    model = m.model
    how = rng.randrange(5)
    if how == 0:
        model.ir_version = rng.choice([0, 1, 2, 99, -1])
    elif how == 1:
        del model.opset_import[:]
    elif how == 2:
        for entry in model.opset_import:
            if entry.domain in ("", "ai.onnx"):
                entry.version = rng.choice([0, 1, 6, 99, 2**40])
    elif how == 3:
        names = [n for n in model.graph.node if n.name]
        if len(names) < 2:
            return False
        a, b = rng.sample(names, 2)
        a.name = b.name
    else:
        entry = model.opset_import.add()
        entry.domain, entry.version = rng.choice([("", 17), ("com.example", 1), ("", 99)])
    return True


def node_arity(m: Mutant, rng: random.Random) -> bool:
    n = rng.choice(list(m.model.graph.node))
    how = rng.randrange(4)
    if how == 0:
        del n.input[:]
    elif how == 1:
        n.input.append(rng.choice([n.input[0] if n.input else "x", "extra"]))
    elif how == 2:
        n.output.append("extra_out")
    else:
        kept = list(n.attribute)
        if kept and rng.randrange(2):
            del n.attribute[rng.randrange(len(kept))]
        else:
            n.attribute.extend([helper.make_attribute("bogus", 1)])
    return True


MUTATIONS: list[Mutation] = [
    init_dims, init_dtype, init_data, external, input_empty, unknown_op, attr_type, axis,
    huge_constant, pin_huge, graph_lists, shuffle, value_types, header, node_arity,
]  # fmt: skip


def mutants(count: int, seed: int = SEED) -> Iterator[tuple[int, Mutant]]:
    """`count` mutants, deterministic in `seed`, cycling through the corpus and the
    mutation kinds (one or, every fifth mutant, two mutations each)."""
    rng = random.Random(seed)
    protos = {name: onnx.load_from_string(data) for name, data, _ in CORPUS}
    made = 0
    while made < count:
        name, _, pins = CORPUS[made % len(CORPUS)]
        m = Mutant(name, onnx.ModelProto(), {k: list(v) for k, v in pins.items()})
        m.model.CopyFrom(protos[name])
        steps = 2 if made % 5 == 4 else 1
        kinds = []
        for _ in range(steps):
            for _attempt in range(5):
                kind = MUTATIONS[rng.randrange(len(MUTATIONS))]
                if kind(m, rng):
                    kinds.append(kind.__name__)
                    break
        m.label = f"#{made} {name} {'+'.join(kinds)}"
        yield made, m
        made += 1


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Hang


@contextlib.contextmanager
def _limit(seconds: int) -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _write(m: Mutant, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in m.files.items():
        (folder / name).write_bytes(data)
    path = folder / "model.onnx"
    path.write_bytes(m.model.SerializeToString())
    return path


def run_one(m: Mutant, folder: Path, mode: str) -> tuple[str, str | None]:
    """("ok" or "refused", None) if `m` ends in success or a proper error; else
    ("bad", what went wrong)."""
    path = _write(m, folder)
    limit = IMPORT_LIMIT if mode == "import" else COMPILE_LIMIT
    try:
        with _limit(limit):
            if mode == "import":
                import_model(path, input_shapes=m.pins, weights_path=folder / "model.weights")
            elif mode == "compile":
                trnc_compile(path, input_shapes=m.pins, dtype="fp32")
            else:
                return _run_cli(path, m)
    except _Hang:
        return "bad", f"hangs (> {limit} s)"
    except OnnxImportError as error:
        if not error.problems or not all(p.strip() for p in error.problems):
            return "bad", f"OnnxImportError without a message: {error.problems!r}"
        return "refused", None
    except CompileError as error:
        if not str(error).strip():
            return "bad", "CompileError without a message"
        return "refused", None
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        return "bad", "".join(traceback.format_exception(error)[-3:])
    return "ok", None


def _run_cli(path: Path, m: Mutant) -> tuple[str, str | None]:
    args = [str(path), "-o", str(path.with_suffix(".mlir"))]
    args += [f"--input-shape={k}={'x'.join(map(str, v))}" for k, v in m.pins.items()]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = trn_compile_main(args)
    text = err.getvalue()
    if code not in (0, 1) or "Traceback" in text:
        return "bad", f"exit code {code}: {text}"
    if code == 1 and not all(": error: " in line for line in text.strip().splitlines()):
        return "bad", f"exit code 1, but not one error per line: {text}"
    return ("ok" if code == 0 else "refused"), None


def _mode(index: int, m: Mutant) -> str:
    if m.label.split()[1] in SMALL:
        if index % CLI_EVERY == 0:
            return "cli"
        if index % COMPILE_EVERY == 0:
            return "compile"
    return "import"


def _check(count: int, seed: int, tmp_path: Path) -> None:
    failures = []
    outcomes: Counter[tuple[str, str]] = Counter()
    for index, m in mutants(count, seed):
        mode = _mode(index, m)
        outcome, problem = run_one(m, tmp_path / str(index), mode)
        outcomes[mode, outcome] += 1
        if problem is not None:
            failures.append(f"{m.label} ({mode}): {problem}")
    assert not failures, f"{len(failures)} of {count} mutants:\n" + "\n".join(failures)
    # the run exercised every path: refusals and successes, at each level
    for mode in ("import", "compile", "cli"):
        assert outcomes[mode, "refused"] > 0, (mode, outcomes)
    assert outcomes["import", "ok"] > 0 and outcomes["compile", "ok"] + outcomes["cli", "ok"] > 0


def test_corpus() -> None:
    assert len(CORPUS) >= 8 and SMALL
    assert all(pins for _, _, pins in CORPUS)  # every model's inputs can be pinned


def test_mutants_are_deterministic() -> None:
    first = [m.model.SerializeToString() for _, m in mutants(30)]
    second = [m.model.SerializeToString() for _, m in mutants(30)]
    assert first == second
    assert len(set(first)) > 25


def test_mutants(tmp_path: Path) -> None:
    _check(MUTANTS, SEED, tmp_path)


@pytest.mark.slow
def test_more_mutants(tmp_path: Path) -> None:
    _check(MUTANTS_SLOW, SEED + 1, tmp_path)


def test_fixed_cases(tmp_path: Path) -> None:
    """The issue's mutants, each built on purpose (the seeded ones may miss one)."""
    name = "tests/models/mlp.onnx"
    proto = onnx.load(str(ROOT / name))
    pins = {"x": [4, 64]}
    cases: list[tuple[str, Mutation]] = [
        (kind.__name__, kind) for kind in MUTATIONS if kind not in (shuffle, graph_lists)
    ]
    rng = random.Random(SEED)
    failures = []
    for i, (label, kind) in enumerate(cases * 4):
        m = Mutant(label, onnx.ModelProto(), {k: list(v) for k, v in pins.items()})
        m.model.CopyFrom(proto)
        if kind(m, rng):
            _, problem = run_one(m, tmp_path / str(i), "import")
            if problem is not None:
                failures.append(f"{label}: {problem}")
    assert not failures, "\n".join(failures)
