"""The four matmul kernel structures of trn1.md A.6, built as `trn_isa.program` ops.

All compute the bf16 `C[M, N] = A_T[K, M]^T @ B[K, N]` with HBM tensors `a_t` [K, M]
(input), `b` [K, N] (weight) and `c` [M, N] (output), following the NKI matmul tutorial:

- `tiled`: loops m (128), n (512), k (128); a 128x128 LHS tile and a 128x512 RHS tile are
  loaded for every matmul; the k loop accumulates in one PSUM bank; the bank is copied to
  SBUF as bf16 (VectorE) and stored per (m, n);
- `hoisted` (optimisation 1): the LHS column of tiles (all k) is loaded once per m, the
  RHS column once per (m, n), outside the k loop;
- `block_free` (optimisation 2): M and N blocked (2 x 128 and 2 x 512): a block of LHS and
  RHS columns is loaded once and used by every tile pair of the block;
- `block_all` (optimisation 3): M, N and K blocked (2048, 1024, 1024); loop order n, k, m
  as in the tutorial; each PSUM result (8 matmuls over the K block) is added into SBUF
  partial sums (fp32 by default; the first K block copies); loads are whole
  `[128, BLOCK_N]` / `[128, BLOCK_M]` rows (2 / 4 KiB contiguous per partition); each
  finished `[128, BLOCK_N]` row of C is stored in one DMA that casts fp32 to bf16.

Synchronisation (trn1.md A.4) is derived, not hand-written: every instruction signals
semaphore 0 of its own queue, so "the i-th instruction of queue q completed" is
`q.s0 >= i`. `_Emitter` records, per logical buffer, the last writer and the readers since,
and gives each instruction the waits for its RAW, WAR and WAW dependencies on other queues
(only the newest count per queue, and none already implied by an earlier wait of the same
in-order queue). Buffers are rings: a slot is rewritten only after its readers finished.
On-chip addresses come from a bump allocator checked against the SBUF budget; the number of
ring slots is the configured depth (default 2, double buffering) where it fits, else fewer.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import cache

from xdsl.dialects.builtin import TensorType, bf16, f32
from xdsl.ir import Operation, TypeAttribute

from trnc.dialects.trn_isa import (
    AccessPatternAttr,
    DmaCopyOp,
    HbmTensorOp,
    InstructionOp,
    MatmulOp,
    ProgramOp,
    SemaphoreAttr,
    SemWaitAttr,
    TensorCopyOp,
    TensorTensorOp,
    element_bytes,
)
from trnc.machine import TRN1, MachineModel

TILE_M, TILE_K, TILE_N = 128, 128, 512
"""Stationary free, contraction and moving free sizes of one matmul (trn1.md A.2)."""

STRUCTURES = ("tiled", "hoisted", "block_free", "block_all")
"""The kernel structures of trn1.md A.6, in the table's order."""

PUBLISHED_MS = {"tiled": 51.80, "hoisted": 42.96, "block_free": 22.07, "block_all": 6.97}
"""trn1.md A.6: measured on trn1 for bf16 [4096, 8192] @ [8192, 8192]."""


@dataclass(frozen=True)
class Problem:
    """`C[m, n] = A_T[k, m]^T @ B[k, n]`, all bf16."""

    m: int
    n: int
    k: int

    @property
    def flops(self) -> int:
        return 2 * self.m * self.n * self.k


A6 = Problem(4096, 8192, 8192)
"""The calibration size of trn1.md A.6."""
SMALL = Problem(256, 1024, 512)
"""A quick size for tests."""


@dataclass(frozen=True)
class Config:
    """Choices the A.6 text leaves open."""

    dma_queues: tuple[int, ...] = tuple(range(8))
    """DMA queues used, round robin (trn1.md A.3 has 16)."""
    bufs: int = 2
    """Ring depth of SBUF tile buffers (2 = double buffering) where the budget allows."""
    psum_banks: int = 8
    """PSUM banks used, round robin, one accumulation group each."""
    block_m: int = 2048
    """block_all: M block (A.6)."""
    block_n: int = 1024
    """block_all: N block (A.6)."""
    block_k: int = 1024
    """block_all: K block (A.6)."""
    tiles_m: int = 2
    """block_free: 128-row LHS tiles per M block (tutorial: 2)."""
    tiles_n: int = 2
    """block_free: 512-column RHS tiles per N block (tutorial: 2)."""
    acc_dtype: str = "f32"
    """block_all: element type of the SBUF partial sums ("f32" or "bf16")."""
    machine: MachineModel = field(default=TRN1)


SMALL_CONFIG = Config(block_m=128, block_n=1024, block_k=256)
"""block_all blocks that divide `SMALL` (2 M blocks, 1 N block of 2 tiles, 2 K blocks)."""

_DTYPES: dict[str, TypeAttribute] = {"f32": f32, "bf16": bf16}


# --- attribute helpers (cached: the same patterns recur thousands of times) ----------


@cache
def _sbuf(offset: int, elems: int, dtype: str) -> AccessPatternAttr:
    return AccessPatternAttr.on_chip("sbuf", 0, 128, offset, [(1, elems)], _DTYPES[dtype])


@cache
def _psum(bank: int) -> AccessPatternAttr:
    return AccessPatternAttr.on_chip(
        "psum", 0, 128, bank * TRN1.psum_bank_bytes, [(1, TILE_N)], f32
    )


def _hbm(address: int, row_elems: int, cols: int) -> AccessPatternAttr:
    """128 rows of `cols` bf16 elements, rows `row_elems` apart, from byte `address`."""
    return AccessPatternAttr.hbm(address, (row_elems, 128), [(1, cols)], bf16)


@cache
def _sem(owner: str) -> SemaphoreAttr:
    return SemaphoreAttr(owner, 0)


@cache
def _wait(owner: str, value: int) -> SemWaitAttr:
    return SemWaitAttr(_sem(owner), value)


# --- emission with derived synchronisation --------------------------------------------

Key = Hashable
"""A logical buffer: distinct keys never overlap in memory."""
Maker = Callable[[Sequence[SemWaitAttr], Sequence[SemaphoreAttr]], InstructionOp]


class _Emitter:
    """Collects instructions and derives their semaphore waits (see module docstring)."""

    def __init__(self, queues: Sequence[int]) -> None:
        self.ops: list[Operation] = []
        self.count: dict[str, int] = {}
        self.last_write: dict[Key, tuple[str, int]] = {}
        self.readers: dict[Key, dict[str, int]] = {}
        self.waited: dict[str, dict[str, int]] = {}
        self.queues = tuple(queues)
        self._next_queue = 0

    def dma_queue(self) -> int:
        """The next DMA queue, round robin."""
        q = self.queues[self._next_queue % len(self.queues)]
        self._next_queue += 1
        return q

    def emit(
        self, owner: str, make: Maker, reads: Sequence[Key] = (), writes: Sequence[Key] = ()
    ) -> None:
        deps: dict[str, int] = {}

        def need(dep_owner: str, value: int) -> None:
            if dep_owner != owner and value > deps.get(dep_owner, 0):
                deps[dep_owner] = value

        for key in reads:
            if (w := self.last_write.get(key)) is not None:
                need(*w)
        for key in writes:
            if (w := self.last_write.get(key)) is not None:
                need(*w)
            for reader, value in self.readers.get(key, {}).items():
                need(reader, value)
        done = self.waited.setdefault(owner, {})
        waits = []
        for dep_owner, value in sorted(deps.items()):
            if done.get(dep_owner, 0) < value:
                waits.append(_wait(dep_owner, value))
                done[dep_owner] = value
        self.ops.append(make(waits, [_sem(owner)]))
        n = self.count[owner] = self.count.get(owner, 0) + 1
        for key in reads:
            self.readers.setdefault(key, {})[owner] = n
        for key in writes:
            self.last_write[key] = (owner, n)
            self.readers[key] = {}

    def dma(
        self,
        dst: AccessPatternAttr,
        src: AccessPatternAttr,
        reads: Sequence[Key] = (),
        writes: Sequence[Key] = (),
    ) -> None:
        q = self.dma_queue()
        self.emit(f"dma{q}", lambda w, s: DmaCopyOp(dst, src, q, w, s), reads, writes)

    def matmul(
        self,
        dst: AccessPatternAttr,
        st: AccessPatternAttr,
        mv: AccessPatternAttr,
        accumulate: bool,
        reads: Sequence[Key],
        writes: Sequence[Key],
    ) -> None:
        self.emit("tensor", lambda w, s: MatmulOp(dst, st, mv, accumulate, w, s), reads, writes)

    def copy(
        self,
        dst: AccessPatternAttr,
        src: AccessPatternAttr,
        reads: Sequence[Key],
        writes: Sequence[Key],
    ) -> None:
        self.emit("vector", lambda w, s: TensorCopyOp(dst, src, waits=w, signals=s), reads, writes)

    def add(
        self,
        dst: AccessPatternAttr,
        lhs: AccessPatternAttr,
        rhs: AccessPatternAttr,
        reads: Sequence[Key],
        writes: Sequence[Key],
    ) -> None:
        self.emit(
            "vector",
            lambda w, s: TensorTensorOp("add", dst, lhs, rhs, waits=w, signals=s),
            reads,
            writes,
        )


class _Sbuf:
    """Bump allocator of SBUF bytes per partition, checked against the budget."""

    def __init__(self, machine: MachineModel) -> None:
        self.top = 0
        self.budget = machine.sbuf_budget_bytes_per_partition

    @property
    def left(self) -> int:
        return self.budget - self.top

    def alloc(self, nbytes: int) -> int:
        if nbytes > self.left:
            raise ValueError(f"SBUF budget exceeded: {nbytes} B wanted, {self.left} B left")
        base, self.top = self.top, self.top + nbytes
        return base


def _fit_depths(left: int, sizes: Sequence[int], want: int) -> list[int]:
    """Ring depths (1..want) for buffers of `sizes` bytes per slot within `left` bytes,
    deepening the buffers in turn (earlier first) while they fit."""
    depths = [1] * len(sizes)
    if sum(sizes) > left:
        raise ValueError(f"SBUF budget exceeded: {sum(sizes)} B needed, {left} B left")
    grown = True
    while grown:
        grown = False
        for i, size in enumerate(sizes):
            used = sum(d * s for d, s in zip(depths, sizes, strict=True))
            if depths[i] < want and used + size <= left:
                depths[i] += 1
                grown = True
    return depths


# --- the program frame ------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """HBM byte addresses of the three tensors (row-major, one after the other)."""

    p: Problem

    @property
    def a_t(self) -> int:
        return 0

    @property
    def b(self) -> int:
        return self.p.k * self.p.m * 2

    @property
    def c(self) -> int:
        return self.b + self.p.k * self.p.n * 2

    def lhs(self, k0: int, m0: int, cols: int) -> AccessPatternAttr:
        """A_T[k0:k0+128, m0:m0+cols]."""
        return _hbm(self.a_t + (k0 * self.p.m + m0) * 2, self.p.m, cols)

    def rhs(self, k0: int, n0: int, cols: int) -> AccessPatternAttr:
        """B[k0:k0+128, n0:n0+cols]."""
        return _hbm(self.b + (k0 * self.p.n + n0) * 2, self.p.n, cols)

    def out(self, m0: int, n0: int, cols: int) -> AccessPatternAttr:
        """C[m0:m0+128, n0:n0+cols]."""
        return _hbm(self.c + (m0 * self.p.n + n0) * 2, self.p.n, cols)

    def tensors(self) -> list[Operation]:
        p = self.p
        return [
            HbmTensorOp("a_t", TensorType(bf16, [p.k, p.m]), self.a_t, "input"),
            HbmTensorOp("b", TensorType(bf16, [p.k, p.n]), self.b, "weight"),
            HbmTensorOp("c", TensorType(bf16, [p.m, p.n]), self.c, "output"),
        ]


def _check_divides(p: Problem, bm: int, bn: int, bk: int) -> None:
    for name, size, block in (("M", p.m, bm), ("N", p.n, bn), ("K", p.k, bk)):
        if size % block:
            raise ValueError(f"{name}={size} is not a multiple of {block}")


def _program(name: str, layout: _Layout, em: _Emitter) -> ProgramOp:
    return ProgramOp(name, [*layout.tensors(), *em.ops])


def _drain(em: _Emitter, bank: int, out_key: Key, out_off: int, dst: AccessPatternAttr) -> None:
    """Copy PSUM `bank` to the bf16 SBUF tile at `out_off`, then store it to `dst`."""
    sb = _sbuf(out_off, TILE_N, "bf16")
    em.copy(sb, _psum(bank), reads=[("psum", bank)], writes=[out_key])
    em.dma(dst, sb, reads=[out_key])


# --- the four structures ------------------------------------------------------------------


def build_tiled(p: Problem, cfg: Config = Config()) -> ProgramOp:
    """A.6 `tiled`: two loads per matmul, one PSUM accumulation group per (m, n)."""
    _check_divides(p, TILE_M, TILE_N, TILE_K)
    lay, em, sb = _Layout(p), _Emitter(cfg.dma_queues), _Sbuf(cfg.machine)
    lhs_tile, rhs_tile, out_tile = TILE_M * 2, TILE_N * 2, TILE_N * 2
    depth = cfg.bufs
    lhs_base, rhs_base, out_base = (sb.alloc(depth * s) for s in (lhs_tile, rhs_tile, out_tile))
    it = group = 0
    for m in range(p.m // TILE_M):
        for n in range(p.n // TILE_N):
            bank = group % cfg.psum_banks
            for k in range(p.k // TILE_K):
                slot = it % depth
                it += 1
                lhs = _sbuf(lhs_base + slot * lhs_tile, TILE_M, "bf16")
                rhs = _sbuf(rhs_base + slot * rhs_tile, TILE_N, "bf16")
                em.dma(lhs, lay.lhs(k * TILE_K, m * TILE_M, TILE_M), writes=[("lhs", slot)])
                em.dma(rhs, lay.rhs(k * TILE_K, n * TILE_N, TILE_N), writes=[("rhs", slot)])
                em.matmul(
                    _psum(bank),
                    lhs,
                    rhs,
                    k > 0,
                    reads=[("lhs", slot), ("rhs", slot)],
                    writes=[("psum", bank)],
                )
            oslot = group % depth
            _drain(
                em,
                bank,
                ("out", oslot),
                out_base + oslot * out_tile,
                lay.out(m * TILE_M, n * TILE_N, TILE_N),
            )
            group += 1
    return _program("matmul_tiled", lay, em)


def _build_columns(name: str, p: Problem, cfg: Config, tiles_m: int, tiles_n: int) -> ProgramOp:
    """Blocked free dims: per M block load `tiles_m` LHS columns (all k), per N block
    `tiles_n` RHS columns, then every (bm, bn) pair accumulates over k and is stored."""
    bm_size, bn_size = tiles_m * TILE_M, tiles_n * TILE_N
    _check_divides(p, bm_size, bn_size, TILE_K)
    lay, em, sb = _Layout(p), _Emitter(cfg.dma_queues), _Sbuf(cfg.machine)
    nk = p.k // TILE_K
    out_tile = TILE_N * 2
    out_depth = cfg.bufs
    out_base = sb.alloc(out_depth * out_tile)
    lhs_set, rhs_set = tiles_m * nk * TILE_M * 2, tiles_n * nk * TILE_N * 2
    lhs_depth, rhs_depth = _fit_depths(sb.left, [lhs_set, rhs_set], cfg.bufs)
    lhs_base, rhs_base = sb.alloc(lhs_depth * lhs_set), sb.alloc(rhs_depth * rhs_set)

    def lhs_ap(slot: int, bm: int, k: int) -> AccessPatternAttr:
        return _sbuf(lhs_base + slot * lhs_set + (bm * nk + k) * TILE_M * 2, TILE_M, "bf16")

    def rhs_ap(slot: int, bn: int, k: int) -> AccessPatternAttr:
        return _sbuf(rhs_base + slot * rhs_set + (bn * nk + k) * TILE_N * 2, TILE_N, "bf16")

    rhs_blocks = group = 0
    for mb in range(p.m // bm_size):
        ls = mb % lhs_depth
        for bm in range(tiles_m):
            for k in range(nk):
                em.dma(
                    lhs_ap(ls, bm, k),
                    lay.lhs(k * TILE_K, (mb * tiles_m + bm) * TILE_M, TILE_M),
                    writes=[("lhs", ls, bm, k)],
                )
        for nb in range(p.n // bn_size):
            rs = rhs_blocks % rhs_depth
            rhs_blocks += 1
            for bn in range(tiles_n):
                for k in range(nk):
                    em.dma(
                        rhs_ap(rs, bn, k),
                        lay.rhs(k * TILE_K, (nb * tiles_n + bn) * TILE_N, TILE_N),
                        writes=[("rhs", rs, bn, k)],
                    )
            for bm in range(tiles_m):
                for bn in range(tiles_n):
                    bank = group % cfg.psum_banks
                    for k in range(nk):
                        em.matmul(
                            _psum(bank),
                            lhs_ap(ls, bm, k),
                            rhs_ap(rs, bn, k),
                            k > 0,
                            reads=[("lhs", ls, bm, k), ("rhs", rs, bn, k)],
                            writes=[("psum", bank)],
                        )
                    oslot = group % out_depth
                    m0, n0 = (mb * tiles_m + bm) * TILE_M, (nb * tiles_n + bn) * TILE_N
                    _drain(
                        em,
                        bank,
                        ("out", oslot),
                        out_base + oslot * out_tile,
                        lay.out(m0, n0, TILE_N),
                    )
                    group += 1
    return _program(name, lay, em)


def build_hoisted(p: Problem, cfg: Config = Config()) -> ProgramOp:
    """A.6 optimisation 1: LHS column loaded per m, RHS column per (m, n)."""
    return _build_columns("matmul_hoisted", p, cfg, 1, 1)


def build_block_free(p: Problem, cfg: Config = Config()) -> ProgramOp:
    """A.6 optimisation 2: M and N blocked (`cfg.tiles_m` x 128, `cfg.tiles_n` x 512)."""
    return _build_columns("matmul_block_free", p, cfg, cfg.tiles_m, cfg.tiles_n)


def build_block_all(p: Problem, cfg: Config = Config()) -> ProgramOp:
    """A.6 optimisation 3: M, N, K blocked; partial sums in SBUF across K blocks."""
    bm_size, bn_size, bk_size = cfg.block_m, cfg.block_n, cfg.block_k
    _check_divides(p, bm_size, bn_size, bk_size)
    for name, block, tile in (
        ("block_m", bm_size, TILE_M),
        ("block_n", bn_size, TILE_N),
        ("block_k", bk_size, TILE_K),
    ):
        if block % tile:
            raise ValueError(f"{name}={block} is not a multiple of {tile}")
    tm, tn, tk = bm_size // TILE_M, bn_size // TILE_N, bk_size // TILE_K
    nbm, nbn, nbk = p.m // bm_size, p.n // bn_size, p.k // bk_size
    acc_bytes = element_bytes(_DTYPES[cfg.acc_dtype]) or 4
    lay, em, sb = _Layout(p), _Emitter(cfg.dma_queues), _Sbuf(cfg.machine)
    acc_tile = TILE_N * acc_bytes
    acc_base = sb.alloc(nbm * tm * tn * acc_tile)
    rhs_set, lhs_set = tk * bn_size * 2, tk * bm_size * 2
    lhs_depth, rhs_depth = _fit_depths(sb.left, [lhs_set, rhs_set], cfg.bufs)
    lhs_base, rhs_base = sb.alloc(lhs_depth * lhs_set), sb.alloc(rhs_depth * rhs_set)

    def acc_off(mb: int, bm: int, bn: int = 0) -> int:
        return acc_base + ((mb * tm + bm) * tn + bn) * acc_tile

    lhs_blocks = rhs_blocks = group = 0
    for nb in range(nbn):
        for kb in range(nbk):
            rs = rhs_blocks % rhs_depth
            rhs_blocks += 1
            for bk in range(tk):
                em.dma(
                    _sbuf(rhs_base + rs * rhs_set + bk * bn_size * 2, bn_size, "bf16"),
                    lay.rhs((kb * tk + bk) * TILE_K, nb * bn_size, bn_size),
                    writes=[("rhs", rs, bk)],
                )
            for mb in range(nbm):
                ls = lhs_blocks % lhs_depth
                lhs_blocks += 1
                for bk in range(tk):
                    em.dma(
                        _sbuf(lhs_base + ls * lhs_set + bk * bm_size * 2, bm_size, "bf16"),
                        lay.lhs((kb * tk + bk) * TILE_K, mb * bm_size, bm_size),
                        writes=[("lhs", ls, bk)],
                    )
                for bn in range(tn):
                    for bm in range(tm):
                        bank = group % cfg.psum_banks
                        group += 1
                        for bk in range(tk):
                            st = _sbuf(
                                lhs_base + ls * lhs_set + (bk * bm_size + bm * TILE_M) * 2,
                                TILE_M,
                                "bf16",
                            )
                            mv = _sbuf(
                                rhs_base + rs * rhs_set + (bk * bn_size + bn * TILE_N) * 2,
                                TILE_N,
                                "bf16",
                            )
                            em.matmul(
                                _psum(bank),
                                st,
                                mv,
                                bk > 0,
                                reads=[("lhs", ls, bk), ("rhs", rs, bk)],
                                writes=[("psum", bank)],
                            )
                        acc = _sbuf(acc_off(mb, bm, bn), TILE_N, cfg.acc_dtype)
                        key = ("acc", mb, bm, bn)
                        if kb == 0:
                            em.copy(acc, _psum(bank), reads=[("psum", bank)], writes=[key])
                        else:
                            em.add(acc, _psum(bank), acc, reads=[("psum", bank), key], writes=[key])
        for mb in range(nbm):
            for bm in range(tm):
                em.dma(
                    lay.out((mb * tm + bm) * TILE_M, nb * bn_size, bn_size),
                    _sbuf(acc_off(mb, bm), bn_size, cfg.acc_dtype),
                    reads=[("acc", mb, bm, bn) for bn in range(tn)],
                )
    return _program("matmul_block_all", lay, em)


BUILDERS: dict[str, Callable[[Problem, Config], ProgramOp]] = {
    "tiled": build_tiled,
    "hoisted": build_hoisted,
    "block_free": build_block_free,
    "block_all": build_block_all,
}


@dataclass(frozen=True)
class Kernel:
    """One structure at one size, ready to build."""

    structure: str
    problem: Problem
    config: Config = Config()

    @property
    def published_ms(self) -> float | None:
        """trn1.md A.6's measurement, only at the A.6 size."""
        return PUBLISHED_MS[self.structure] if self.problem == A6 else None

    def build(self) -> ProgramOp:
        return BUILDERS[self.structure](self.problem, self.config)


def a6_kernels(cfg: Config = Config()) -> list[Kernel]:
    """The four structures at the A.6 size."""
    return [Kernel(s, A6, cfg) for s in STRUCTURES]


def small_kernels(cfg: Config = SMALL_CONFIG) -> list[Kernel]:
    """The four structures at `SMALL` (M=256, N=1024, K=512), for tests."""
    return [Kernel(s, SMALL, cfg) for s in STRUCTURES]
