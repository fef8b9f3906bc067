"""`graph-to-tile` pattern: a direct 2-D convolution, channels on the partitions.

`graph-decompose` keeps the `graph.conv2d`s this pattern takes (`direct_conv`), and turns
the others into per-tap matmuls of strided NHWC slices (each slice a trip through HBM).
Here, per image and group:

    P  = the padded image [C/g, rows, Wp] in SBUF (zeros, then one DMA of the image)
    for each kernel tap (i, j):            (weights: one load, a TensorE transpose a tap)
        acc[O/g, positions] += W[:, :, i, j]^T @ P[:, window of the tap]
    y[n, group] = acc (+ bias, per partition) -> one DMA out

The tap's window is a view of P: with unit strides, R output rows at once are one
contiguous run of the flattened P (`R * Wp` columns, the `Wp - OW` columns past each
row's end computed and dropped when PSUM is evacuated); with larger strides, one output
row at a time is a strided run. No transposes of the activations, no slices through HBM.

Taken when both channel counts of a group fit the 128 partitions, a padded row fits one
matmul (<= 512 columns) and the image fits SBUF comfortably (`fits`); depthwise
convolutions (one channel a group) stay with the decomposition.
"""

from __future__ import annotations

from xdsl.dialects.builtin import BFloat16Type, Float32Type, TensorType
from xdsl.ir import Attribute, SSAValue

from trnc.dialects import graph as g
from trnc.dialects import tile
from trnc.dialects.graph.base import get_int, get_ints
from trnc.dialects.tile.enums import AluOp
from trnc.dialects.tile.types import BufferType
from trnc.lowering.tile_builder import TileBuilder, psum, sbuf
from trnc.machine import TRN1, Engine, Memory

IMAGE_BYTES = 48 * 1024
"""Per partition, at most this much of padded image and of result (each) for the
pattern: the rest of SBUF stays for the weights and rotating buffers."""


def _shape(value: SSAValue) -> tuple[int, ...]:
    t = value.type
    assert isinstance(t, TensorType)
    return tuple(t.get_shape())


def geometry(op: g.Conv2dOp) -> dict[str, int]:
    """The sizes the lowering needs: N, C, H, W, O, groups, C/g, O/g, KH, KW, strides,
    dilations, pads (top, left), output OH, OW, padded width Wp and rows."""
    n, c, h, w = _shape(op.input)
    o, cg, kh, kw = _shape(op.weight)
    _, _, oh, ow = _shape(op.result)
    groups = get_int(op.groups)
    sh, sw = get_ints(op.strides)
    dh, dw = get_ints(op.dilations)
    pt, pl, pb, pr = get_ints(op.pads)
    wp = pl + w + pr
    rows = max(pt + h + pb, (oh - 1) * sh + (kh - 1) * dh + 1) + 1  # + a row of slack
    return {
        "n": n, "c": c, "h": h, "w": w, "o": o, "groups": groups, "cg": cg,
        "og": o // groups, "kh": kh, "kw": kw, "sh": sh, "sw": sw, "dh": dh, "dw": dw,
        "pt": pt, "pl": pl, "oh": oh, "ow": ow, "wp": wp, "rows": rows,
    }  # fmt: skip


def fits(op: g.Conv2dOp) -> bool:
    """Whether this pattern lowers `op` (see the module docstring)."""
    x_t = op.input.type
    if not isinstance(x_t, TensorType) or not isinstance(x_t.get_element_type(), Float32Type):
        return False
    if len(_shape(op.input)) != 4 or 0 in (*_shape(op.input), *_shape(op.result)):
        return False
    s = geometry(op)
    if s["cg"] == 1 and s["og"] == 1:
        return False  # depthwise: per-channel multiplies (graph-decompose)
    if s["cg"] > TRN1.partitions or s["og"] > TRN1.partitions:
        return False
    if s["wp"] > TRN1.matmul_max_moving_free or s["ow"] > TRN1.matmul_max_moving_free:
        return False
    if (s["sh"], s["sw"]) == (1, 1) and (s["kw"] - 1) * s["dw"] >= s["wp"]:
        return False
    return s["rows"] * s["wp"] * 4 <= IMAGE_BYTES and s["oh"] * s["ow"] * 4 <= IMAGE_BYTES


def lower_conv2d(
    op: g.Conv2dOp,
    buffers: dict[SSAValue, SSAValue],
    dtype: str,
    b: TileBuilder,
) -> None:
    """Emit the direct convolution (see the module docstring)."""
    s = geometry(op)
    n, c, o, cg, og, groups = s["n"], s["c"], s["o"], s["cg"], s["og"], s["groups"]
    kh, kw, oh, ow, wp, rows = s["kh"], s["kw"], s["oh"], s["ow"], s["wp"], s["rows"]
    taps = kh * kw
    f32 = Float32Type()
    element: Attribute = BFloat16Type() if dtype == "bf16" else f32
    x = b.reinterpret_as(buffers[op.input], (n * c, s["h"], s["w"]))
    w = b.reinterpret_as(buffers[op.weight], (o, cg * taps))
    y = b.reinterpret_as(buffers[op.result], (n * o, oh * ow))
    bias = (
        b.reinterpret_as(buffers[op.bias], (o, 1))
        if op.bias is not None and op.bias in buffers
        else None
    )
    for gi in range(groups):
        # per tap, the stationary operand W[group's O, group's C, i, j]^T: [C/g, O/g]
        wt = b.load(w, gi * og, 0, (og, cg * taps))
        stationary: list[SSAValue] = []
        for t in range(taps):
            tp = b.alloc(psum((cg, og)))
            b.add(tile.TransposeOp(b.view(wt, (0, t), (og, cg), (1, taps)), tp))
            st = b.alloc(sbuf((cg, og), element))
            b.add(tile.CopyOp(tp, st, Engine.VECTOR))
            b.free(tp)
            stationary.append(st)
        b.free(wt)
        bias_col = b.load(bias, gi * og, 0, (og, 1)) if bias is not None else None
        for image in range(n):
            padded = b.alloc(_sbuf3((cg, rows, wp), element))
            b.add(tile.MemsetOp(padded, 0.0))
            interior = b.view(padded, (0, s["pt"], s["pl"]), (cg, s["h"], s["w"]))
            source = b.view(x, (image * c + gi * cg, 0, 0), (cg, s["h"], s["w"]))
            b.add(tile.DmaOp(source, interior))
            flat = b.add(tile.ReinterpretOp(padded, sbuf((cg, rows * wp), element))).results[0]
            out3 = b.alloc(_sbuf3((og, oh, ow), f32))
            out2 = b.add(tile.ReinterpretOp(out3, sbuf((og, oh * ow), f32))).results[0]
            if (s["sh"], s["sw"]) == (1, 1):
                _unit_stride(s, stationary, flat, out3, bias_col, b)
            else:
                _strided(s, stationary, flat, out2, bias_col, b)
            b.store(out2, y, image * o + gi * og, 0)
            b.free(padded, out3)
        for st in stationary:
            b.free(st)
        if bias_col is not None:
            b.free(bias_col)


def _sbuf3(shape: tuple[int, int, int], element: Attribute) -> BufferType:
    return BufferType(shape, element, Memory.SBUF, tile.LayoutAttr.partition_major(3))


def _evacuate(acc: SSAValue, out: SSAValue, bias: SSAValue | None, b: TileBuilder) -> None:
    if bias is None:
        b.add(tile.CopyOp(acc, out, Engine.VECTOR))
    else:
        b.add(tile.TensorScalarOp(AluOp.ADD, acc, bias, out))


def _unit_stride(
    s: dict[str, int],
    stationary: list[SSAValue],
    flat: SSAValue,
    out3: SSAValue,
    bias: SSAValue | None,
    b: TileBuilder,
) -> None:
    """R output rows a matmul: each tap's window is one contiguous run of `flat`."""
    cg, og, oh, ow, wp = s["cg"], s["og"], s["oh"], s["ow"], s["wp"]
    block = TRN1.matmul_max_moving_free // wp
    for r0 in range(0, oh, block):
        r = min(block, oh - r0)
        acc = b.alloc(psum((og, r * wp)))
        for t, st in enumerate(stationary):
            i, j = divmod(t, s["kw"])
            start = (r0 + i * s["dh"]) * wp + j * s["dw"]
            moving = b.view(flat, (0, start), (cg, r * wp))
            b.add(tile.MatmulOp(st, moving, acc, accumulate=t > 0))
        psum3 = BufferType(
            (og, r, wp), Float32Type(), Memory.PSUM, tile.LayoutAttr.partition_major(3)
        )
        acc3 = b.add(tile.ReinterpretOp(acc, psum3)).results[0]
        valid = b.view(acc3, (0, 0, 0), (og, r, ow))
        _evacuate(valid, b.view(out3, (0, r0, 0), (og, r, ow)), bias, b)
        b.free(acc)


def _strided(
    s: dict[str, int],
    stationary: list[SSAValue],
    flat: SSAValue,
    out2: SSAValue,
    bias: SSAValue | None,
    b: TileBuilder,
) -> None:
    """One output row a matmul: each tap's window is a strided run of `flat`."""
    cg, og, oh, ow, wp = s["cg"], s["og"], s["oh"], s["ow"], s["wp"]
    for row in range(oh):
        acc = b.alloc(psum((og, ow)))
        for t, st in enumerate(stationary):
            i, j = divmod(t, s["kw"])
            start = (row * s["sh"] + i * s["dh"]) * wp + j * s["dw"]
            moving = b.view(flat, (0, start), (cg, ow), (1, s["sw"]))
            b.add(tile.MatmulOp(st, moving, acc, accumulate=t > 0))
        _evacuate(acc, b.view(out2, (0, row * ow), (og, ow)), bias, b)
        b.free(acc)
