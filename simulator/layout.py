"""The byte layout of access patterns, for `memory.Memory`: merging dimensions that
continue each other's contiguous runs, testing that no two elements share a byte, and an
AP's text form for messages."""

from __future__ import annotations

from trnc.simulator.program import AP


def distinct(counts: tuple[int, ...], steps: tuple[int, ...], itemsize: int) -> bool:
    """Whether no two elements of a pattern share a byte: ordered by |step|, each step
    clears the extent of the dims inside it (sufficient; what tile layouts satisfy)."""
    extent = itemsize
    for step, count in sorted((abs(s), c) for s, c in zip(steps, counts, strict=True) if c > 1):
        if step < extent:
            return False
        extent += step * (count - 1)
    return True


def merge_runs(
    shape: tuple[int, ...], strides: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The same elements with every dimension that continues its inner neighbour's run
    (stride = inner count x inner stride) merged into it; size-1 dimensions dropped."""
    dims = [(c, s) for c, s in zip(shape, strides, strict=True) if c != 1] or [(1, 1)]
    merged = [dims[-1]]
    for count, stride in reversed(dims[:-1]):
        inner_count, inner_stride = merged[-1]
        if stride == inner_count * inner_stride:
            merged[-1] = (count * inner_count, inner_stride)
        else:
            merged.append((count, stride))
    merged.reverse()
    return tuple(c for c, _ in merged), tuple(s for _, s in merged)


def describe(ap: AP) -> str:
    """A short text form of an AP for messages, like the trn_isa syntax."""
    dims = ", ".join(f"[{s}, {c}]" for s, c in ap.dims)
    if ap.mem == "hbm":
        return f"hbm + {ap.offset}, [[{ap.pstep}, {ap.partitions}]{', ' if dims else ''}{dims}]"
    return f"{ap.mem}[{ap.start}:{ap.start + ap.partitions}] + {ap.offset}, [{dims}]"
