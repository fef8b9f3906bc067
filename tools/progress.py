"""Progress and verbosity of trnc's run tools (`trn-compile`, `trn-run`) on stderr.

A `Progress` shows one status line (a `tqdm` bar: `pass 7/14 tile-allocate`, or
`simulating 45,000 instructions` with the time elapsed) while long work runs:

* only when its stream is a terminal (never into a pipe, a file or a test's captured
  output) and not `-q`;
* only once the work has taken `delay` seconds (default `DELAY`, or the environment's
  `TRNC_PROGRESS_DELAY`), so a tiny program never shows it and never imports `tqdm`;
* drawn by a background thread at most `1 / INTERVAL` times a second; the work itself only
  stores the current step (`update`), so it costs the compile nothing measurable.

`-v` (`verbosity` 1) adds `line`s, such as one per pass with its wall time; they are
printed whether or not the stream is a terminal (above the bar when one is shown). `-q`
(`verbosity` -1) silences both.
"""

from __future__ import annotations

import io
import os
import sys
import threading
from types import TracebackType
from typing import IO, Any

DELAY = 0.5
"""Seconds of work before the status line appears."""
INTERVAL = 0.1
"""Seconds between two redraws of the status line (at most 10 a second)."""
SIMULATION_THRESHOLD = 10_000
"""Programs of more instructions than this show a status line while they are simulated."""


def add_verbosity_options(add: Any) -> None:
    """`-q/--quiet` and `-v/--verbose`, added with `add` (the `add_argument` of a parser's
    mutually exclusive group)."""
    add(
        "-q",
        "--quiet",
        action="store_true",
        help="print no progress nor other chatter on stderr, only errors (default: off)",
    )
    add(
        "-v",
        "--verbose",
        action="store_true",
        help="print one line per pass (or step) with its wall time on stderr, on a terminal "
        "or not (default: off; a terminal shows a progress line on long work)",
    )


def verbosity(args: Any) -> int:
    """-1 for `--quiet`, 1 for `--verbose`, else 0."""
    return -1 if args.quiet else 1 if args.verbose else 0


def is_terminal(stream: IO[str]) -> bool:
    """Whether `stream` is a terminal (a stream without `isatty` is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _delay() -> float:
    try:
        return max(0.0, float(os.environ.get("TRNC_PROGRESS_DELAY", DELAY)))
    except ValueError:
        return DELAY


class Progress:
    """One status line on `stream` (default: stderr) while work runs (see the module
    docstring). Use it as a context manager; `update` names the current step."""

    def __init__(
        self,
        verbosity: int = 0,
        stream: IO[str] | None = None,
        *,
        show: bool = True,
        delay: float | None = None,
    ) -> None:
        self.stream: IO[str] = stream if stream is not None else sys.stderr
        self.verbosity = verbosity
        self.interactive = show and verbosity >= 0 and is_terminal(self.stream)
        """Whether a status line may be shown (a terminal, not `-q`, and asked for)."""
        self.delay = _delay() if delay is None else delay
        self._desc = ""
        self._n = 0
        self._total: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Any = None

    # -- the work's side: cheap -----------------------------------------------------------

    def update(self, desc: str, n: int = 0, total: int | None = None) -> None:
        """The current step: its description, and how many of `total` steps are done."""
        self._desc, self._n, self._total = desc, n, total

    def line(self, text: str) -> None:
        """A `-v` line (not shown without `-v`, nor with `-q`)."""
        if self.verbosity < 1:
            return
        with self._lock:
            if self._bar is not None:
                self._bar.clear()
            print(text, file=self.stream, flush=True)
            if self._bar is not None:
                self._bar.refresh()

    @property
    def shown(self) -> bool:
        """Whether the status line has appeared."""
        return self._bar is not None

    # -- the display's side ---------------------------------------------------------------

    def start(self) -> Progress:
        """Start the display's thread (nothing when no status line may be shown)."""
        if self.interactive and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="trnc-progress", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop the display and clear its line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            if self._bar is not None:
                self._render()
                self._bar.close()
                self._bar = None

    def __enter__(self) -> Progress:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return  # done before the delay: nothing shown, tqdm not imported
        with self._lock:
            if self._stop.is_set():
                return
            self._bar = self._make_bar()
            self._render()
        while not self._stop.wait(INTERVAL):
            with self._lock:
                if self._bar is not None:
                    self._render()

    def _make_bar(self) -> Any:
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # no monitor thread of its own: this one redraws
        columns, rows = _size(self.stream)
        return tqdm(
            desc=self._desc,
            total=self._total,
            initial=self._n,
            file=self.stream,
            leave=False,
            mininterval=INTERVAL,
            ncols=columns,
            nrows=rows,
            bar_format=_FORMAT if self._total else _TASK_FORMAT,
        )

    def _render(self) -> None:
        bar = self._bar
        total = self._total
        if total != bar.total:
            bar.total = total
            bar.bar_format = _FORMAT if total else _TASK_FORMAT
        bar.n = self._n
        bar.set_description_str(self._desc, refresh=False)
        bar.refresh()


def _size(stream: IO[str]) -> tuple[int, int]:
    """The terminal's columns and lines, 80 x 24 where it does not say: a pseudo-terminal
    without a size says 0 x 0, for which tqdm would print nothing."""
    try:
        size = os.get_terminal_size(stream.fileno())
        columns, lines = size.columns, size.lines
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        columns = lines = 0
    return (columns if columns > 0 else 80, lines if lines > 0 else 24)


_FORMAT = "{desc} |{bar}| [{elapsed}]"
_TASK_FORMAT = "{desc} [{elapsed}]"
