"""A deterministic fuzzer for trn-opt: bad input must never crash it.

Every corpus file (tests/filecheck/**/*.mlir and examples/matmul_gelu.mlir) is split into
its `// -----` chunks, each chunk is mutated many ways with a fixed seed (truncations,
deleted/duplicated tokens and lines, absurd integers, other types and shapes, swapped
memory spaces, broken `#tile.layout<...>`/`#trn_isa.ap<...>` bodies, unicode and NUL
bytes), and `trn-opt` runs in-process on each mutant. Whatever the input, it must exit
with 0 or 1, print no traceback and no "internal error", never hang, and a failure's first
line must be an MLIR-style `file:line:col: error: ...` (or `trn-opt: error: ...`).
"""

from __future__ import annotations

import contextlib
import io
import random
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from trnc.tools.trn_opt import main

ROOT = Path(__file__).resolve().parent.parent
SEED = 20240531
MUTANTS_PER_CHUNK = 8
TIME_LIMIT = 5  # seconds per run: more means a hang

CORPUS = [
    *sorted(p for p in (ROOT / "tests" / "filecheck").rglob("*.mlir") if "Output" not in p.parts),
    ROOT / "examples" / "matmul_gelu.mlir",
]
INVALID = sorted((ROOT / "tests" / "filecheck" / "dialects").glob("*/invalid.mlir"))

HEADER = re.compile(r"^(.+:\d+:\d+|trn-opt): error: ")
TOKEN = re.compile(r"[%@#!^][\w.$-]+|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|\w+|->|\"[^\"\n]*\"|\S")
INTEGER = re.compile(r"(?<![\w.%@#])\d+(?![\w.])")
TYPE = re.compile(r"\b(?:f32|bf16|f16|i32|i1|i16|i64|f8E4M3FN|f8E5M2|ui32|index)\b|tensor<[^>]*>")
SPACE = re.compile(r"\b(?:sbuf|psum|hbm)\b")
DIM = re.compile(r"(?<=[<x])\d+(?=x)")
ATTR = re.compile(r"#(?:tile\.layout|trn_isa\.ap)<")

ABSURD_INTS = ["0", "-1", "65536", str(2**31), str(2**64), str(10**30), str(-(2**63) - 1)]
TYPES = [
    "i1", "f32", "index", "i64", "bf16", "none", "ui32", "i0", "i128", "complex<f32>",
    "tensor<0xf32>", "tensor<?xf32>", "tensor<*xf32>", f"tensor<{2**40}xf32>",
    "tensor<0x4xi1>", "memref<4xf32>", "vector<4xf32>", "!tile.buffer<0x4xf32, sbuf>",
    "i100", "f80", "complex<i100>",  # no binary format for a dense literal's elements
]  # fmt: skip
SPACES = ["sbuf", "psum", "hbm", "dram", "sbuf[0:0]", "psum[5:2]", "sbuf[0:999999]"]
DIMS = ["0", "?", "-1", str(2**31), str(2**40), str(10**30)]
INSERTS = ["\x00", "é", "\u202e", "😀", "\t", "\r", "\\", '"', "<", ">", "[", "]", "(", ")",
           "{", "}", ",", ":", "x", "?", "-", "+", "*", "#", "!", "%", "@"]  # fmt: skip
ATTR_INSERTS = [",", "[", "]", ":", "x", "-1", "0", str(2**64), "d9", "d0.5", ".", "(", ")",
                "?", "+", "-", " part(d0)", " 1e9"]  # fmt: skip


def _chunks() -> list[tuple[str, str]]:
    out = []
    for path in CORPUS:
        text = path.read_text()
        for i, chunk in enumerate(re.split(r"^// -----.*$", text, flags=re.MULTILINE)):
            if chunk.strip():
                out.append((f"{path.relative_to(ROOT)}#{i}", chunk))
    return out


def _replace(text: str, match: re.Match[str], new: str) -> str:
    return text[: match.start()] + new + text[match.end() :]


def _mutate(text: str, rng: random.Random) -> str:
    """One mutant of `text`."""
    tokens = list(TOKEN.finditer(text))
    lines = text.split("\n")
    kind = rng.randrange(12)

    def pick(pattern: re.Pattern[str]) -> re.Match[str] | None:
        found = list(pattern.finditer(text))
        return rng.choice(found) if found else None

    if kind == 0:  # truncation
        return text[: rng.randrange(len(text) + 1)]
    if kind == 1 and tokens:  # delete a token
        return _replace(text, rng.choice(tokens), "")
    if kind == 2 and tokens:  # duplicate a token
        m = rng.choice(tokens)
        return _replace(text, m, f"{m.group()} {m.group()}")
    if kind == 3:  # delete a line
        i = rng.randrange(len(lines))
        return "\n".join(lines[:i] + lines[i + 1 :])
    if kind == 4:  # duplicate a line
        i = rng.randrange(len(lines))
        return "\n".join(lines[: i + 1] + lines[i:])
    if kind == 5 and (m := pick(INTEGER)):
        return _replace(text, m, rng.choice(ABSURD_INTS))
    if kind == 6 and (m := pick(TYPE)):
        return _replace(text, m, rng.choice(TYPES))
    if kind == 7 and (m := pick(SPACE)):
        return _replace(text, m, rng.choice(SPACES))
    if kind == 8 and (m := pick(DIM)):
        return _replace(text, m, rng.choice(DIMS))
    if kind == 9:  # a stray character: unicode, NUL, punctuation
        p = rng.randrange(len(text) + 1)
        return text[:p] + rng.choice(INSERTS) + text[p:]
    if kind == 10 and (m := pick(ATTR)):  # break the body of a layout or access pattern
        end = text.find(">", m.end())
        end = len(text) if end == -1 else end
        body = text[m.end() : end]
        p = rng.randrange(len(body) + 1)
        how = rng.randrange(4)
        if how == 0:
            body = body[:p]
        elif how == 1:
            body = body[:p] + rng.choice(ATTR_INSERTS) + body[p:]
        elif how == 2:
            body = body[:p] + body[p + 1 :]
        else:
            body = re.sub(r"\d+", lambda d: rng.choice([d.group(), *ABSURD_INTS]), body)
        return text[: m.end()] + body + text[end:]
    if kind == 11 and tokens:  # a token in another's place
        return _replace(text, rng.choice(tokens), rng.choice(tokens).group())
    return text[: rng.randrange(len(text) + 1)]


def _cases() -> Iterator[tuple[str, str]]:
    rng = random.Random(SEED)
    yield "empty", ""
    yield "whitespace", " \n\t\n"
    yield "nul", "\x00"
    yield "bom", "\ufeffmodule {}"
    yield "only-comment", "// nothing"
    yield "unterminated-string", 'func.func @f() {\n  %0 = "' + "x " * 200 + "\n}\n"
    for name, chunk in _chunks():
        for i in range(MUTANTS_PER_CHUNK):
            yield f"{name}~{i}", _mutate(chunk, rng)


CASES = list(_cases())


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Hang


def run_trn_opt(args: list[str]) -> tuple[int, str]:
    """`trn-opt args` in-process: (exit code, stderr); stdout is discarded."""
    err, out = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(args)
    except _Hang:
        pytest.fail(f"trn-opt {' '.join(args)} hangs (> {TIME_LIMIT} s)")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, err.getvalue()


def check(args: list[str], text: str) -> None:
    code, err = run_trn_opt(args)
    context = f"\ninput:\n{text}\nstderr:\n{err}"
    assert code in (0, 1), f"exit code {code}{context}"
    # (the diagnostics echo the offending source line, which may say "Traceback")
    assert "Traceback (most recent call last)" not in err, context
    assert "internal error" not in err, context
    if code == 1:
        assert HEADER.match(err), f"not an MLIR-style error{context}"


def test_corpus_is_found() -> None:
    assert len(CORPUS) >= 10 and len(INVALID) == 3
    assert len(CASES) > 1500


@pytest.mark.parametrize("batch", range(8))
def test_mutants(batch: int, tmp_path: Path) -> None:
    path = tmp_path / "input.mlir"
    for _, text in CASES[batch::8]:
        path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
        check([str(path)], text)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.parent.name)
@pytest.mark.parametrize("verify", [False, True], ids=["plain", "verify-diagnostics"])
def test_split_input_file(path: Path, verify: bool) -> None:
    args = [str(path), "--split-input-file"] + (["--verify-diagnostics"] if verify else [])
    check(args, "")


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.parent.name)
def test_split_input_file_mutants(path: Path, tmp_path: Path) -> None:
    """Whole invalid.mlir files with one mutant chunk, under --split-input-file."""
    rng = random.Random(f"{SEED}{path.parent.name}")
    text = path.read_text()
    out = tmp_path / "input.mlir"
    for _ in range(4):
        mutant = _mutate(text, rng)
        out.write_text(mutant)
        check([str(out), "--split-input-file"], mutant)
        check([str(out), "--split-input-file", "--verify-diagnostics"], mutant)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "input.mlir"
    path.write_bytes(b"func.func @f() {\xff\xfe}\n")
    check([str(path)], "<bytes>")
