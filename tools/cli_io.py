"""What trnc's run tools (`trn-compile`, `trn-run`) share at their edges: their version
line, reading input
arrays, checking them against what a program takes, checking output paths before any
work is done, their profile options (`--profile`, `--profile-html`, `--timeline`), and
exiting quietly when stdout is a closed pipe.

Every problem is a `UserError` whose message is one line for the user (the tool prefixes
`<tool>: error: `); nothing here lets a Python traceback through.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def version_line(tool: str) -> str:
    """What `<tool> --version` prints: the tool, trnc's version and the xDSL it runs on."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "unknown"

    return f"{tool} (trnc {installed('trnc')}) built on xdsl {installed('xdsl')}"


class UserError(Exception):
    """A problem with the command line or its files; the message is for the user."""


def load_npz(path: str) -> dict[str, np.ndarray]:
    """The arrays of an .npz file by name; any unreadable file or entry is a `UserError`."""
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as error:  # OSError, ValueError, BadZipFile, EOFError, pickle errors
        raise UserError(f"cannot read '{path}': {_reason(error)}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise UserError(f"cannot read '{path}': a single .npy array, not an .npz archive")
    try:
        with archive:
            return {k: archive[k] for k in archive.files}
    except Exception as error:
        raise UserError(f"cannot read '{path}': {_reason(error)}") from None


def load_npy(path: str) -> np.ndarray:
    """One array from an .npy file; an unreadable file is a `UserError`."""
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as error:
        raise UserError(f"cannot read '{path}': {_reason(error)}") from None
    if not isinstance(array, np.ndarray):
        array.close()
        raise UserError(f"cannot read '{path}': an .npz archive, not one .npy array")
    return array


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def dtype_ok(given: np.dtype[Any], expected: np.dtype[Any]) -> bool:
    """Whether an array of dtype `given` may feed a tensor of dtype `expected`: the same
    dtype (as onnxruntime requires), except that a tensor of a float type numpy cannot
    store in .npy files (bf16, fp8) also takes its raw bytes (`V2`) or float32."""
    if given == expected:
        return True
    native = expected.kind in "biufc"
    return not native and (
        given == np.float32 or (given.kind == "V" and given.itemsize == expected.itemsize)
    )


def as_expected(array: np.ndarray, expected: np.dtype[Any]) -> np.ndarray:
    """`array` (accepted by `dtype_ok`) in the dtype `expected`."""
    if array.dtype == expected:
        return array
    if array.dtype.kind == "V":
        return array.view(expected)
    return array.astype(expected)


def check_inputs(
    given: Mapping[str, np.ndarray],
    expected: Mapping[str, tuple[tuple[int, ...], np.dtype[Any]]],
    *,
    random_inputs: bool,
    what: str = "the program",
    how: str = "--inputs FILE.npz",
    required: Sequence[str] | None = None,
) -> None:
    """`given` against `expected` (name -> (shape, dtype)): no unknown name, each of the
    expected dtype and shape, and none of `required` (default: all) missing unless
    `random_inputs`."""
    names = ", ".join(expected) or "none"
    for name, array in given.items():
        if name not in expected:
            raise UserError(f"input '{name}' is not an input of {what} (its inputs: {names})")
        shape, dtype = expected[name]
        if not dtype_ok(array.dtype, dtype):
            raise UserError(
                f"input '{name}' has dtype {array.dtype}, {what} expects {dtype} "
                "(convert it; trnc does not cast inputs)"
            )
        if tuple(array.shape) != tuple(shape):
            raise UserError(
                f"input '{name}' has shape {tuple(array.shape)}, {what} expects {tuple(shape)}"
            )
    missing = [name for name in (expected if required is None else required) if name not in given]
    if missing and not random_inputs:
        plural = "s" if len(missing) > 1 else ""
        raise UserError(
            f"no data for input{plural} {', '.join(repr(n) for n in missing)}: give "
            f"{'them' if plural else 'it'} with {how}, or pass --random-inputs for seeded "
            "random data"
        )


def check_output_file(path: str | None, flag: str) -> None:
    """Refuse an output file that cannot be written, before any work is done."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise UserError(f"{flag} '{path}': is a directory")
    parent = target.parent
    if not parent.is_dir():
        raise UserError(f"{flag} '{path}': directory '{parent}' does not exist")
    if target.exists() and not os.access(target, os.W_OK):
        raise UserError(f"{flag} '{path}': permission denied")
    if not target.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{flag} '{path}': cannot create a file in '{parent}' (permission denied)")


def check_output_dir(path: str | None, flag: str) -> None:
    """Refuse an output directory that cannot be created or written (it is created, with
    its parents, only when the outputs are written)."""
    if path is None:
        return
    target = Path(path)
    existing = target
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{flag} '{path}': '{existing}' is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{flag} '{path}': cannot write in '{existing}' (permission denied)")


def add_profile_options(add: Callable[..., Any]) -> None:
    """The profile options, added with `add` (a parser's or group's `add_argument`)."""
    add(
        "--profile",
        action="store_true",
        help="print where the simulated time goes: per ONNX node, op type and opcode, the "
        "critical path by cause, HBM bandwidth and TensorE utilisation over time "
        "(docs/PROFILING.md) (default: off)",
    )
    add(
        "--profile-html",
        metavar="FILE.html",
        help="write the profile and the engine timeline as one self-contained HTML page "
        "(default: none)",
    )
    add(
        "--timeline",
        metavar="FILE.svg",
        help="write the engine timeline (a lane per engine and DMA queue, the critical path "
        "in red) as an SVG picture (default: none)",
    )


def wants_profile(args: Any) -> bool:
    """Whether any profile option was given."""
    return bool(args.profile or args.profile_html or args.timeline)


def check_profile_paths(args: Any) -> None:
    """Refuse the profile's output files before any work is done."""
    check_output_file(args.profile_html, "--profile-html")
    check_output_file(args.timeline, "--timeline")
    if args.timeline and Path(args.timeline).suffix.lower() != ".svg":
        raise UserError(
            f"--timeline '{args.timeline}': the timeline is an SVG picture; give a file name "
            "ending in .svg"
        )


def write_profile(args: Any, profile: Any) -> None:
    """Print and write a `simulator.profile.Profile` as the profile options ask."""
    if args.profile:
        print()
        print(profile.table())
    for path, write in (
        (args.profile_html, profile.write_html),
        (args.timeline, profile.write_timeline),
    ):
        if path:
            try:
                write(path)
            except OSError as error:
                raise UserError(f"cannot write '{path}': {_reason(error)}") from None


def stdout_closed() -> int:
    """After a `BrokenPipeError` (stdout piped into `head`, say): stop writing, as Unix
    tools do, without Python's "Exception ignored" message at exit. Returns exit code 0."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 0
