"""Independent numpy reference for the GGUF block quantization types, written
from the block-format description, and the fixture writer for
src/core/quants_ref_test.cpp.

What it implements:
  - dequantize for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K,
    Q5_K, Q6_K, Q8_K;
  - llama.cpp's reference quantizers (no importance matrix) for all of them,
    reproduced operation for operation in float32 so that the bytes match
    what llama.cpp writes: the legacy types' min/max rules, and the K types'
    scale searches (asymmetric weighted grid search for Q2_K/Q4_K/Q5_K,
    per-element refinement for Q3_K, symmetric 18-step search for Q6_K).

Exactness rules followed throughout: every float operation is done on
numpy float32 scalars or arrays, one rounding per operation, in the order the
format's reference code uses; sums are accumulated left to right (never
numpy's pairwise sum); "nearest int" is round-half-to-even (as the
1.5 * 2^23 trick does), "roundf" is round-half-away-from-zero, and C's
float -> int conversion truncates toward zero.

Fixture files (src/core/testdata/quants/<type>.bin, little-endian):
  u32 n_blocks | n_blocks blocks (raw bytes) | f32 expected dequantized values
  u32 n_elems  | f32 input[n_elems]         | expected quantized blocks (raw bytes)

Regenerate with:  /usr/bin/python3 tools/reference/quants.py
(deterministic: fixed seeds; the C++ test must pass unchanged afterwards).
"""
import os
import struct

import numpy as np

F32 = np.float32
QK = 32
QK_K = 256
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "core", "testdata", "quants")


# ---------------------------------------------------------------- scalars

def f32(v):
    return np.float32(v)


def nearest_int(v):
    """Round half to even of a float32 (|v| < 2^22): what adding 1.5 * 2^23 in
    float32 does, since that sum's ulp is 1 and 1.5 * 2^23 is even."""
    r = np.rint(np.float64(np.float32(v)))
    return int(r)


def round_away(v):
    """C roundf on a float32 value: ties away from zero."""
    a = np.floor(np.abs(np.float64(np.float32(v))) + 0.5)
    return int(-a if v < 0 else a)


def trunc_int(v):
    """C's float -> int conversion (toward zero)."""
    return int(np.trunc(np.float64(np.float32(v))))


def half_bits(v):
    return int(np.array([v], dtype=np.float32).astype(np.float16).view(np.uint16)[0])


def half_value(bits):
    return np.array([bits], dtype=np.uint16).view(np.float16).astype(np.float32)[0]


def halves(bits_array):
    return np.asarray(bits_array, dtype="<u2").view(np.float16).astype(np.float32)


# ---------------------------------------------------------------- layouts

LAYOUTS = {
    "q4_0": [("d", "<u2"), ("qs", "u1", 16)],
    "q4_1": [("d", "<u2"), ("m", "<u2"), ("qs", "u1", 16)],
    "q5_0": [("d", "<u2"), ("qh", "u1", 4), ("qs", "u1", 16)],
    "q5_1": [("d", "<u2"), ("m", "<u2"), ("qh", "u1", 4), ("qs", "u1", 16)],
    "q8_0": [("d", "<u2"), ("qs", "i1", 32)],
    "q8_1": [("d", "<u2"), ("s", "<u2"), ("qs", "i1", 32)],
    "q2_k": [("scales", "u1", 16), ("qs", "u1", 64), ("d", "<u2"), ("dmin", "<u2")],
    "q3_k": [("hmask", "u1", 32), ("qs", "u1", 64), ("scales", "u1", 12), ("d", "<u2")],
    "q4_k": [("d", "<u2"), ("dmin", "<u2"), ("scales", "u1", 12), ("qs", "u1", 128)],
    "q5_k": [("d", "<u2"), ("dmin", "<u2"), ("scales", "u1", 12), ("qh", "u1", 32), ("qs", "u1", 128)],
    "q6_k": [("ql", "u1", 128), ("qh", "u1", 64), ("scales", "i1", 16), ("d", "<u2")],
    "q8_k": [("d", "<f4"), ("qs", "i1", 256), ("bsums", "<i2", 16)],
}
DTYPES = {name: np.dtype(fields) for name, fields in LAYOUTS.items()}
BLOCK_SIZE = {name: (QK if name[-1] != "k" else QK_K) for name in LAYOUTS}
BLOCK_BYTES = {"q4_0": 18, "q4_1": 20, "q5_0": 22, "q5_1": 24, "q8_0": 34, "q8_1": 36,
               "q2_k": 84, "q3_k": 110, "q4_k": 144, "q5_k": 176, "q6_k": 210, "q8_k": 292}
for _name, _dt in DTYPES.items():
    assert _dt.itemsize == BLOCK_BYTES[_name], _name


# ---------------------------------------------------------------- dequantize

def nibbles_32(qs):
    """(nb, 16) bytes -> (nb, 32): low nibbles are elements 0..15, high 16..31."""
    return np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int32)


def fifth_bits(qh):
    """(nb, 4) bytes -> (nb, 32): bit j of the little-endian u32 is element j's bit 4."""
    word = qh.astype(np.uint32) @ np.array([1, 1 << 8, 1 << 16, 1 << 24], dtype=np.uint32)
    return ((word[:, None] >> np.arange(32, dtype=np.uint32)) & 1).astype(np.int32)


def deq_q4_0(b):
    return (nibbles_32(b["qs"]) - 8).astype(F32) * halves(b["d"])[:, None]


def deq_q4_1(b):
    return nibbles_32(b["qs"]).astype(F32) * halves(b["d"])[:, None] + halves(b["m"])[:, None]


def deq_q5_0(b):
    q = nibbles_32(b["qs"]) | (fifth_bits(b["qh"]) << 4)
    return (q - 16).astype(F32) * halves(b["d"])[:, None]


def deq_q5_1(b):
    q = nibbles_32(b["qs"]) | (fifth_bits(b["qh"]) << 4)
    return q.astype(F32) * halves(b["d"])[:, None] + halves(b["m"])[:, None]


def deq_q8_0(b):
    return b["qs"].astype(F32) * halves(b["d"])[:, None]


deq_q8_1 = deq_q8_0


def two_bit_planes(qs):
    """(nb, 64) bytes -> (nb, 256) 2-bit values. Each half of 128 elements uses
    32 bytes; element 32*j + l of a half is bits 2j..2j+1 of byte l."""
    nb = qs.shape[0]
    out = np.empty((nb, 256), dtype=np.int32)
    for half in range(2):
        for j in range(4):
            out[:, half * 128 + 32 * j: half * 128 + 32 * j + 32] = (qs[:, half * 32: half * 32 + 32] >> (2 * j)) & 3
    return out


def k_dequant(d, scale, q, dmin=None, mins=None):
    """y = (d * scale[g]) * q - (dmin * min[g]); scale, mins are per group."""
    group = q.shape[1] // scale.shape[1]
    dl = d[:, None] * scale.astype(F32)
    y = np.repeat(dl, group, axis=1) * q.astype(F32)
    if dmin is not None:
        ml = dmin[:, None] * mins.astype(F32)
        y = y - np.repeat(ml, group, axis=1)
    return y


def deq_q2_k(b):
    sc = b["scales"]
    return k_dequant(halves(b["d"]), sc & 0xF, two_bit_planes(b["qs"]), halves(b["dmin"]), sc >> 4)


def q3_scales(packed):
    """(nb, 12) -> (nb, 16) signed scales: low 4 bits from bytes 0..7 (low
    nibble for scales 0..7, high nibble for 8..15), high 2 bits from bytes
    8..11 (scale j: byte 8 + j % 4, bits 2*(j // 4))."""
    p = packed.astype(np.int32)
    out = np.empty((p.shape[0], 16), dtype=np.int32)
    for j in range(16):
        low = (p[:, j] & 0xF) if j < 8 else (p[:, j - 8] >> 4)
        high = (p[:, 8 + j % 4] >> (2 * (j // 4))) & 3
        out[:, j] = (low | (high << 4)) - 32
    return out


def deq_q3_k(b):
    low = two_bit_planes(b["qs"])
    hm = b["hmask"].astype(np.int32)
    high = np.concatenate([(hm >> bit) & 1 for bit in range(8)], axis=1)  # element e: bit e // 32 of byte e % 32
    q = low - np.where(high == 1, 0, 4)
    return k_dequant(halves(b["d"]), q3_scales(b["scales"]), q)


def k4_scales_mins(packed):
    """(nb, 12) -> scales (nb, 8), mins (nb, 8), 6 bits each. Slots 0..3: low 6
    bits of bytes 0..3 (scales) and 4..7 (mins); slots 4..7: nibbles of bytes
    8..11 plus the top 2 bits of bytes 0..3 (scales) and 4..7 (mins)."""
    p = packed.astype(np.int32)
    sc = np.empty((p.shape[0], 8), dtype=np.int32)
    mn = np.empty((p.shape[0], 8), dtype=np.int32)
    for j in range(8):
        if j < 4:
            sc[:, j] = p[:, j] & 63
            mn[:, j] = p[:, j + 4] & 63
        else:
            sc[:, j] = (p[:, j + 4] & 0xF) | ((p[:, j - 4] >> 6) << 4)
            mn[:, j] = (p[:, j + 4] >> 4) | ((p[:, j] >> 6) << 4)
    return sc, mn


def four_bit_chunks(qs):
    """(nb, 128) -> (nb, 256): each 64 elements use 32 bytes, low nibbles first."""
    parts = []
    for c in range(4):
        chunk = qs[:, 32 * c: 32 * c + 32].astype(np.int32)
        parts += [chunk & 0xF, chunk >> 4]
    return np.concatenate(parts, axis=1)


def deq_q4_k(b):
    sc, mn = k4_scales_mins(b["scales"])
    return k_dequant(halves(b["d"]), sc, four_bit_chunks(b["qs"]), halves(b["dmin"]), mn)


def deq_q5_k(b):
    sc, mn = k4_scales_mins(b["scales"])
    qh = b["qh"].astype(np.int32)
    high = np.concatenate([(qh >> bit) & 1 for bit in range(8)], axis=1)  # element e: bit e // 32 of qh[e % 32]
    return k_dequant(halves(b["d"]), sc, four_bit_chunks(b["qs"]) + 16 * high, halves(b["dmin"]), mn)


def deq_q6_k(b):
    ql = b["ql"].astype(np.int32)
    qh = b["qh"].astype(np.int32)
    nb = ql.shape[0]
    q = np.empty((nb, 256), dtype=np.int32)
    for half in range(2):
        for quarter in range(4):
            src = ql[:, half * 64 + 32 * (quarter & 1): half * 64 + 32 * (quarter & 1) + 32]
            low = (src & 0xF) if quarter < 2 else (src >> 4)
            high = (qh[:, half * 32: half * 32 + 32] >> (2 * quarter)) & 3
            q[:, half * 128 + 32 * quarter: half * 128 + 32 * quarter + 32] = (low | (high << 4)) - 32
    return k_dequant(halves(b["d"]), b["scales"].astype(np.int32), q)


def deq_q8_k(b):
    return b["d"].astype(F32)[:, None] * b["qs"].astype(F32)


DEQUANT = {"q4_0": deq_q4_0, "q4_1": deq_q4_1, "q5_0": deq_q5_0, "q5_1": deq_q5_1, "q8_0": deq_q8_0,
           "q8_1": deq_q8_1, "q2_k": deq_q2_k, "q3_k": deq_q3_k, "q4_k": deq_q4_k, "q5_k": deq_q5_k,
           "q6_k": deq_q6_k, "q8_k": deq_q8_k}


def dequantize(name, raw):
    blocks = np.frombuffer(raw, dtype=DTYPES[name])
    return DEQUANT[name](blocks).astype(F32).reshape(-1)


# ---------------------------------------------------------------- legacy quantizers

def absmax_signed(x):
    """The element of largest magnitude (the first on ties); +0 if all zero."""
    best, value = f32(0), f32(0)
    for v in x:
        if best < abs(v):
            best, value = abs(v), v
    return value


def min_and_max(x):
    lo, hi = f32(np.finfo(np.float32).max), f32(-np.finfo(np.float32).max)
    for v in x:
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    return lo, hi


def pack_nibbles(q):
    return [(q[j] & 0xF) | ((q[j + 16] & 0xF) << 4) for j in range(16)]


def pack_fifth_bits(q):
    word = 0
    for j in range(32):
        word |= ((q[j] >> 4) & 1) << j
    return list(struct.pack("<I", word))


def quant_q4_0(x):
    d = absmax_signed(x) / f32(-8)
    inv = f32(1) / d if d != 0 else f32(0)
    q = [min(15, trunc_int(v * inv + f32(8.5))) for v in x]
    return struct.pack("<H", half_bits(d)) + bytes(pack_nibbles(q))


def quant_q5_0(x):
    d = absmax_signed(x) / f32(-16)
    inv = f32(1) / d if d != 0 else f32(0)
    q = [min(31, trunc_int(v * inv + f32(16.5))) for v in x]
    return struct.pack("<H", half_bits(d)) + bytes(pack_fifth_bits(q)) + bytes(pack_nibbles(q))


def quant_q4_1(x):
    lo, hi = min_and_max(x)
    d = (hi - lo) / f32(15)
    inv = f32(1) / d if d != 0 else f32(0)
    q = [min(15, trunc_int((v - lo) * inv + f32(0.5))) for v in x]
    return struct.pack("<HH", half_bits(d), half_bits(lo)) + bytes(pack_nibbles(q))


def quant_q5_1(x):
    lo, hi = min_and_max(x)
    d = (hi - lo) / f32(31)
    inv = f32(1) / d if d != 0 else f32(0)
    q = [trunc_int((v - lo) * inv + f32(0.5)) for v in x]
    return struct.pack("<HH", half_bits(d), half_bits(lo)) + bytes(pack_fifth_bits(q)) + bytes(pack_nibbles(q))


def q8_quants(x):
    amax = f32(0)
    for v in x:
        amax = max(amax, abs(v))
    d = amax / f32(127)
    inv = f32(1) / d if d != 0 else f32(0)
    return d, [round_away(v * inv) for v in x]


def quant_q8_0(x):
    d, q = q8_quants(x)
    return struct.pack("<H", half_bits(d)) + struct.pack("<32b", *q)


def quant_q8_1(x):
    d, q = q8_quants(x)
    return struct.pack("<HH", half_bits(d), half_bits(f32(sum(q)) * d)) + struct.pack("<32b", *q)


def quant_q8_k(x):
    amax, mx = f32(0), f32(0)
    for v in x:
        if abs(v) > amax:
            amax, mx = abs(v), v
    if amax == 0:
        return bytes(BLOCK_BYTES["q8_k"])
    iscale = f32(-127) / mx
    q = [min(127, nearest_int(iscale * v)) for v in x]
    bsums = [sum(q[16 * g: 16 * g + 16]) for g in range(16)]
    return struct.pack("<f", f32(1) / iscale) + struct.pack("<256b", *q) + struct.pack("<16h", *bsums)


# ---------------------------------------------------------------- K-type searches

def qkx2_search(x, weights, nmax, rmin, rdelta, nstep, use_mad):
    """Asymmetric quants 0..nmax: returns (scale, -min, L) minimising the
    weighted error (|diff| if use_mad else diff^2) over trial scales
    (rmin + rdelta * k + nmax) / (max - min), k = 0..nstep, each refined by
    weighted least squares for scale and min (min clamped to <= 0)."""
    n = len(x)
    lo, hi = x[0], x[0]
    sum_w = weights[0]
    sum_x = sum_w * x[0]
    for i in range(1, n):
        if x[i] < lo:
            lo = x[i]
        if x[i] > hi:
            hi = x[i]
        sum_w = sum_w + weights[i]
        sum_x = sum_x + weights[i] * x[i]
    if lo > 0:
        lo = f32(0)
    if hi == lo:
        return f32(0), -lo, [0] * n

    def error(scale, mn, L):
        err = f32(0)
        for i in range(n):
            diff = scale * f32(L[i]) + mn - x[i]
            diff = abs(diff) if use_mad else diff * diff
            err = err + weights[i] * diff
        return err

    iscale = f32(nmax) / (hi - lo)
    scale = f32(1) / iscale
    L = [max(0, min(nmax, nearest_int(iscale * (x[i] - lo)))) for i in range(n)]
    best = error(scale, lo, L)
    for k in range(nstep + 1):
        iscale = (f32(rmin) + f32(rdelta) * f32(k) + f32(nmax)) / (hi - lo)
        trial = [max(0, min(nmax, nearest_int(iscale * (x[i] - lo)))) for i in range(n)]
        sum_l, sum_l2, sum_xl = f32(0), f32(0), f32(0)
        for i in range(n):
            w, l = weights[i], f32(trial[i])
            sum_l = sum_l + w * l
            sum_l2 = sum_l2 + w * l * l
            sum_xl = sum_xl + w * l * x[i]
        det = sum_w * sum_l2 - sum_l * sum_l
        if det > 0:
            this_scale = (sum_w * sum_xl - sum_x * sum_l) / det
            this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det
            if this_min > 0:
                this_min = f32(0)
                this_scale = sum_xl / sum_l2
            err = error(this_scale, this_min, trial)
            if err < best:
                L, best, scale, lo = trial, err, this_scale, this_min
    return scale, -lo, L


def qx_search(x, nmax):
    """Symmetric quants -nmax..nmax-1 with weights x^2: the scale nmax/max and
    18 neighbours (nmax + 0.1 k)/max, k = -9..9, keeping the best weighted
    least-squares fit. Returns (scale, L + nmax)."""
    n = len(x)
    amax, mx = f32(0), f32(0)
    for v in x:
        if abs(v) > amax:
            amax, mx = abs(v), v
    if amax < f32(1e-15):
        return f32(0), [0] * n

    def fit(iscale):
        L = [max(-nmax, min(nmax - 1, nearest_int(iscale * v))) for v in x]
        sumlx, suml2 = f32(0), f32(0)
        for v, l in zip(x, L):
            w = v * v
            sumlx = sumlx + w * v * f32(l)
            suml2 = suml2 + w * f32(l) * f32(l)
        return L, sumlx, suml2

    L, sumlx, suml2 = fit(f32(-nmax) / mx)
    scale = sumlx / suml2 if suml2 != 0 else f32(0)
    best = scale * sumlx
    for k in range(-9, 10):
        if k == 0:
            continue
        trial, sumlx, suml2 = fit(-(f32(nmax) + f32(0.1) * f32(k)) / mx)
        if suml2 > 0 and sumlx * sumlx > best * suml2:
            L, scale = trial, sumlx / suml2
            best = scale * sumlx
    return scale, [l + nmax for l in L]


def q3_search(x, nmax):
    """Symmetric quants -nmax..nmax-1 from nmax/max, then up to 5 passes that
    move single elements to their least-squares optimum when that improves
    sumlx^2 / suml2 (weights x^2). Returns (scale, L + nmax)."""
    n = len(x)
    amax, mx = f32(0), f32(0)
    for v in x:
        if abs(v) > amax:
            amax, mx = abs(v), v
    if amax < f32(1e-15):
        return f32(0), [0] * n
    iscale = f32(-nmax) / mx
    L = [max(-nmax, min(nmax - 1, nearest_int(iscale * v))) for v in x]
    sumlx, suml2 = f32(0), f32(0)
    for v, l in zip(x, L):
        w = v * v
        sumlx = sumlx + w * v * f32(l)
        suml2 = suml2 + w * f32(l) * f32(l)
    for _ in range(5):
        changed = 0
        for i in range(n):
            w = x[i] * x[i]
            slx = sumlx - w * x[i] * f32(L[i])
            if slx > 0:
                sl2 = suml2 - w * f32(L[i]) * f32(L[i])
                new_l = max(-nmax, min(nmax - 1, nearest_int(x[i] * sl2 / slx)))
                if new_l != L[i]:
                    slx = slx + w * x[i] * f32(new_l)
                    sl2 = sl2 + w * f32(new_l) * f32(new_l)
                    if sl2 > 0 and slx * slx * suml2 > sumlx * sumlx * sl2:
                        L[i], sumlx, suml2 = new_l, slx, sl2
                        changed += 1
        if changed == 0:
            break
    return (sumlx / suml2 if suml2 > 0 else f32(0)), [l + nmax for l in L]


def pack_2bit_planes(L):
    """256 values 0..3 -> 64 bytes (inverse of two_bit_planes)."""
    out = []
    for half in range(2):
        base = half * 128
        out += [L[base + l] | (L[base + l + 32] << 2) | (L[base + l + 64] << 4) | (L[base + l + 96] << 6)
                for l in range(32)]
    return out


def quant_q2_k(x):
    scales, mins, L = [], [], []
    for g in range(16):
        xs = x[16 * g: 16 * g + 16]
        s, m, l = qkx2_search(xs, [abs(v) for v in xs], 3, -0.5, 0.1, 15, True)
        scales.append(s)
        mins.append(m)
        L += l
    max_scale = max([f32(0)] + scales)
    max_min = max([f32(0)] + mins)
    packed = [0] * 16
    d_bits = dmin_bits = 0
    if max_scale > 0:
        iscale = f32(15) / max_scale
        packed = [nearest_int(iscale * s) for s in scales]
        d_bits = half_bits(max_scale / f32(15))
    if max_min > 0:
        iscale = f32(15) / max_min
        packed = [p | (nearest_int(iscale * m) << 4) for p, m in zip(packed, mins)]
        dmin_bits = half_bits(max_min / f32(15))
    d, dmin = half_value(d_bits), half_value(dmin_bits)
    for g in range(16):
        dl = d * f32(packed[g] & 0xF)
        if dl == 0:
            continue
        ml = dmin * f32(packed[g] >> 4)
        for i in range(16 * g, 16 * g + 16):
            L[i] = max(0, min(3, nearest_int((x[i] + ml) / dl)))
    return bytes(packed) + bytes(pack_2bit_planes(L)) + struct.pack("<HH", d_bits, dmin_bits)


def quant_q3_k(x):
    scales, L = [], []
    for g in range(16):
        s, l = q3_search(x[16 * g: 16 * g + 16], 4)
        scales.append(s)
        L += l
    max_scale, amax = f32(0), f32(0)
    for s in scales:
        if abs(s) > amax:
            amax, max_scale = abs(s), s
    packed = [0] * 12
    d_bits = 0
    if max_scale != 0:
        iscale = f32(-32) / max_scale
        for j, s in enumerate(scales):
            r = nearest_int(iscale * s)
            r = ((r + 128) % 256) - 128  # kept in an int8 before clamping, as the format's quantizer does
            l = max(-32, min(31, r)) + 32
            if j < 8:
                packed[j] = l & 0xF
            else:
                packed[j - 8] |= (l & 0xF) << 4
            packed[8 + j % 4] |= (l >> 4) << (2 * (j // 4))
        d_bits = half_bits(f32(1) / iscale)
    d = half_value(d_bits)
    sc = q3_scales(np.array([packed], dtype=np.uint8))[0]
    for g in range(16):
        dl = d * f32(sc[g])
        if dl == 0:
            continue
        for i in range(16 * g, 16 * g + 16):
            L[i] = max(-4, min(3, nearest_int(x[i] / dl))) + 4
    hmask = [0] * 32
    for e in range(256):
        if L[e] > 3:
            hmask[e % 32] |= 1 << (e // 32)
            L[e] -= 4
    return bytes(hmask) + bytes(pack_2bit_planes(L)) + bytes(packed) + struct.pack("<H", d_bits)


def k4_search(x, nmax, rmin, nstep):
    """Q4_K/Q5_K: per 32 elements a qkx2 search with weights rms + |x|; 6-bit
    scales and mins relative to their maxima; final quants 0..nmax.
    Returns (d_bits, dmin_bits, packed scales, L)."""
    scales, mins, L = [], [], []
    for g in range(8):
        xs = x[32 * g: 32 * g + 32]
        sum_x2 = f32(0)
        for v in xs:
            sum_x2 = sum_x2 + v * v
        av_x = np.sqrt(sum_x2 / f32(32))
        s, m, l = qkx2_search(xs, [av_x + abs(v) for v in xs], nmax, rmin, 0.1, nstep, False)
        scales.append(s)
        mins.append(m)
        L += l
    max_scale = max([f32(0)] + scales)
    max_min = max([f32(0)] + mins)
    inv_scale = f32(63) / max_scale if max_scale > 0 else f32(0)
    inv_min = f32(63) / max_min if max_min > 0 else f32(0)
    ls = [min(63, nearest_int(inv_scale * s) & 0xFF) for s in scales]
    lm = [min(63, nearest_int(inv_min * m) & 0xFF) for m in mins]
    packed = [0] * 12
    for j in range(8):
        if j < 4:
            packed[j] = ls[j]
            packed[j + 4] = lm[j]
        else:
            packed[j + 4] = (ls[j] & 0xF) | ((lm[j] & 0xF) << 4)
            packed[j - 4] |= (ls[j] >> 4) << 6
            packed[j] |= (lm[j] >> 4) << 6
    d_bits, dmin_bits = half_bits(max_scale / f32(63)), half_bits(max_min / f32(63))
    d, dmin = half_value(d_bits), half_value(dmin_bits)
    sc, mn = k4_scales_mins(np.array([packed], dtype=np.uint8))
    for g in range(8):
        dl = d * f32(sc[0, g])
        if dl == 0:
            continue
        ml = dmin * f32(mn[0, g])
        for i in range(32 * g, 32 * g + 32):
            L[i] = max(0, min(nmax, nearest_int((x[i] + ml) / dl)))
    return d_bits, dmin_bits, packed, L


def quant_q4_k(x):
    d_bits, dmin_bits, packed, L = k4_search(x, 15, -1.0, 20)
    qs = []
    for c in range(4):
        qs += [L[64 * c + l] | (L[64 * c + 32 + l] << 4) for l in range(32)]
    return struct.pack("<HH", d_bits, dmin_bits) + bytes(packed) + bytes(qs)


def quant_q5_k(x):
    d_bits, dmin_bits, packed, L = k4_search(x, 31, -0.5, 15)
    qh = [0] * 32
    for e in range(256):
        if L[e] > 15:
            qh[e % 32] |= 1 << (e // 32)
    low = [v & 0xF for v in L]
    qs = []
    for c in range(4):
        qs += [low[64 * c + l] | (low[64 * c + 32 + l] << 4) for l in range(32)]
    return struct.pack("<HH", d_bits, dmin_bits) + bytes(packed) + bytes(qh) + bytes(qs)


def quant_q6_k(x):
    scales, L = [], []
    for g in range(16):
        s, l = qx_search(x[16 * g: 16 * g + 16], 32)
        scales.append(s)
        L += l
    max_scale, max_abs = f32(0), f32(0)
    for s in scales:
        if abs(s) > max_abs:
            max_abs, max_scale = abs(s), s
    if max_abs < f32(1e-15):
        return bytes(BLOCK_BYTES["q6_k"])
    iscale = f32(-128) / max_scale
    d_bits = half_bits(f32(1) / iscale)
    sc = [min(127, nearest_int(iscale * s)) for s in scales]
    d = half_value(d_bits)
    for g in range(16):
        dl = d * f32(sc[g])
        if dl == 0:
            continue
        for i in range(16 * g, 16 * g + 16):
            L[i] = max(-32, min(31, nearest_int(x[i] / dl))) + 32
    ql, qh = [0] * 128, [0] * 64
    for half in range(2):
        for l in range(32):
            q1, q2, q3, q4 = (L[half * 128 + 32 * k + l] for k in range(4))
            ql[half * 64 + l] = (q1 & 0xF) | ((q3 & 0xF) << 4)
            ql[half * 64 + 32 + l] = (q2 & 0xF) | ((q4 & 0xF) << 4)
            qh[half * 32 + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)
    return bytes(ql) + bytes(qh) + struct.pack("<16b", *sc) + struct.pack("<H", d_bits)


QUANT = {"q4_0": quant_q4_0, "q4_1": quant_q4_1, "q5_0": quant_q5_0, "q5_1": quant_q5_1, "q8_0": quant_q8_0,
         "q8_1": quant_q8_1, "q2_k": quant_q2_k, "q3_k": quant_q3_k, "q4_k": quant_q4_k, "q5_k": quant_q5_k,
         "q6_k": quant_q6_k, "q8_k": quant_q8_k}


def quantize(name, x):
    x = np.asarray(x, dtype=F32)
    bs = BLOCK_SIZE[name]
    return b"".join(QUANT[name]([f32(v) for v in x[i: i + bs]]) for i in range(0, len(x), bs))


# ---------------------------------------------------------------- fixtures

def random_blocks(name, nb, rng):
    """Random bytes with finite, modest F16/F32 scale fields."""
    raw = np.frombuffer(rng.bytes(nb * BLOCK_BYTES[name]), dtype=np.uint8).copy()
    blocks = raw.view(DTYPES[name])
    for field in ("d", "m", "s", "dmin"):
        if field in blocks.dtype.names:
            values = rng.normal(0, 0.05, nb).astype(F32)
            if blocks.dtype[field] == np.dtype("<f4"):
                blocks[field] = values
            else:
                blocks[field] = values.astype(np.float16).view(np.uint16)
    return blocks.tobytes()


def awkward_input(n, group, rng):
    """Gaussian groups at varied scales plus groups that stress the searches:
    all zero, constant, one spike, all positive (min > 0), tiny values,
    negative extreme, exact halves (rounding ties)."""
    x = rng.normal(0, 1, n).astype(F32)
    for g in range(n // group):
        s = slice(g * group, (g + 1) * group)
        kind = g % 8
        if kind == 0:
            x[s] = x[s] * F32(10 ** rng.uniform(-2, 1))
        elif kind == 1:
            x[s] = 0
        elif kind == 2:
            x[s] = F32(0.375)
        elif kind == 3:
            x[s] = 0
            x[g * group + group // 3] = F32(-4.5)
        elif kind == 4:
            x[s] = np.abs(x[s]) + F32(1)
        elif kind == 5:
            x[s] = x[s] * F32(1e-6)
        elif kind == 6:
            x[g * group + group - 1] = F32(-7)
        else:
            x[s] = (np.arange(group) % 17 - 8).astype(F32) * F32(0.5)
    return x


def write_fixture(name, rng):
    bs = BLOCK_SIZE[name]
    n_deq = 4 if bs == QK else 1
    blocks = random_blocks(name, n_deq, rng)
    expected = dequantize(name, blocks)
    n_q = 8 * QK if bs == QK else QK_K
    x = awkward_input(n_q, 16 if bs == QK_K else QK, rng)
    quant = quantize(name, x)
    assert len(quant) == n_q // bs * BLOCK_BYTES[name]
    path = os.path.join(OUT_DIR, name + ".bin")
    with open(path, "wb") as f:
        f.write(struct.pack("<I", n_deq) + blocks + expected.astype("<f4").tobytes())
        f.write(struct.pack("<I", n_q) + x.astype("<f4").tobytes() + quant)
    return path


def self_check(rng):
    """The quantizers and dequantizers agree: round trips stay close."""
    for name in LAYOUTS:
        x = rng.normal(0, 1, 2 * BLOCK_SIZE[name]).astype(F32)
        y = dequantize(name, quantize(name, x))
        rel = np.sqrt(np.mean((y - x) ** 2) / np.mean(x ** 2))
        assert rel < 0.45, (name, rel)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    rng = np.random.default_rng(20240611)
    self_check(rng)
    for index, name in enumerate(LAYOUTS):
        path = write_fixture(name, np.random.default_rng(1000 + index))
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
