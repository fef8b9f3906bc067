"""The weights file an import writes: raw tensors that `graph.weight` ops reference.

Layout: each tensor's bytes, little-endian and row-major in its element type (bool as one
byte), starting at a multiple of 64; no header. A module names the file relative to
the .mlir file it is printed into (or by absolute path when printed to stdout), so the
text stays small and the data is read lazily (`np.memmap`) by whoever runs the module.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import numpy as np

ALIGN = 64


class WeightsWriter:
    """Appends tensors to `path` (created on the first one); `ref` is how ops name it."""

    def __init__(self, path: Path, ref: str) -> None:
        self.path = path
        self.ref = ref
        self.size = 0
        self.count = 0
        self._file: IO[bytes] | None = None

    def add(self, name: str, array: np.ndarray) -> tuple[str, int]:
        """Store `array`; returns (file reference, byte offset)."""
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        pad = (-self.size) % ALIGN
        if pad:
            self._file.write(b"\0" * pad)
            self.size += pad
        offset = self.size
        data = np.ascontiguousarray(array)
        if data.dtype.byteorder == ">":
            data = data.astype(data.dtype.newbyteorder("<"))
        self._file.write(data.tobytes())
        self.size += data.nbytes
        self.count += 1
        return self.ref, offset

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
