"""Test files for the image codecs (src/image/png, jpeg, npy), written into OUT_DIR/codecs/.

PNG: a small PNG writer of its own (every colour type and bit depth, Adam7,
random row filters, palettes with tRNS, colour keys) with the expected 8-bit
pixels computed in numpy; the 8-bit cases are checked against PIL's decoding
here. PIL also writes PNGs with tEXt/zTXt/iTXt "parameters" chunks.
JPEG: PIL (libjpeg) encodes baseline, optimized, progressive, grayscale,
4:4:4/4:2:2/4:2:0 files with odd sizes; a small baseline encoder of its own
adds what PIL cannot write (restart markers, 4:1:1 and 4:4:0 sampling, Adobe
RGB). The expected pixels of every JPEG are PIL's decoding (islow IDCT, fancy
upsampling).
npy: numpy writes float32/float64/uint8 arrays, versions 1.0 and 2.0.

manifest.json lists the cases:
  {"png": [{"file", "expected"(.npy uint8 [H, W, C])}], "png_text": [{"file", "chunks": [[key, text]]}],
   "jpeg": [{"file", "expected"}], "npy": [{"file", "shape", "values"}],
   "resize": [{"file", "width", "height", "filter", "expected"}], "luma": {"file", "expected"}}
Usage: codecs_ref.py OUT_DIR
"""
import heapq
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image, PngImagePlugin

rng = np.random.default_rng(20261129)


# ------------------------------------------------------------------ PNG writer

def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_rows(rows, bpp):
    """rows: list of bytes (one pass). Each row gets a random filter type."""
    out = bytearray()
    prior = bytes(len(rows[0])) if rows else b""
    for row in rows:
        ftype = int(rng.integers(0, 5))
        out.append(ftype)
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prior[i]
            c = prior[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
            out.append((x - pred) & 0xFF)
        prior = row
    return bytes(out)


def pack_row(samples, depth):
    """samples: 1-D int array of one row (all channels interleaved)."""
    if depth == 16:
        return b"".join(struct.pack(">H", int(v)) for v in samples)
    if depth == 8:
        return bytes(int(v) for v in samples)
    per_byte = 8 // depth
    out = bytearray((len(samples) + per_byte - 1) // per_byte)
    for i, v in enumerate(samples):
        out[i // per_byte] |= int(v) << (8 - depth - (i % per_byte) * depth)
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(samples, color_type, depth, interlace, plte=None, trns=None, idat_pieces=3):
    """samples: [H, W, n] ints at `depth` bits."""
    h, w, n = samples.shape
    bpp = max(1, n * depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        raw += filter_rows([pack_row(r.reshape(-1), depth) for r in sub], bpp)
    data = b"\x89PNG\r\n\x1a\n"
    data += png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, interlace))
    if plte is not None:
        data += png_chunk(b"PLTE", bytes(plte.reshape(-1).tolist()))
    if trns is not None:
        data += png_chunk(b"tRNS", trns)
    z = zlib.compress(raw, 9)
    step = max(1, len(z) // idat_pieces + 1)
    for i in range(0, len(z), step):  # several IDAT chunks
        data += png_chunk(b"IDAT", z[i:i + step])
    data += png_chunk(b"tEXt", b"Comment\x00ancillary chunk after IDAT")
    data += png_chunk(b"IEND", b"")
    return data


def png_cases(out):
    cases = []
    sizes = [(1, 1), (7, 5), (33, 18)]
    for color_type, depths in [(0, [1, 2, 4, 8, 16]), (2, [8, 16]), (3, [1, 2, 4, 8]), (4, [8, 16]), (6, [8, 16])]:
        for depth in depths:
            for interlace in (0, 1):
                for w, h in sizes:
                    if (w, h) == (1, 1) and interlace == 0 and depth not in (1, 8):
                        continue
                    n = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
                    top = (1 << depth) - 1
                    plte = trns = None
                    if color_type == 3:
                        n_colors = 2 if depth == 1 else (1 << depth) - 1 if depth < 8 else 200
                        samples = rng.integers(0, n_colors, size=(h, w, 1))
                        plte = rng.integers(0, 256, size=(n_colors, 3))
                        expected = plte[samples[:, :, 0]]
                        if (depth + w) % 2 == 0:  # alpha for all palette entries but the last
                            alpha = rng.integers(0, 256, size=n_colors - 1)
                            trns = bytes(alpha.tolist())
                            full_alpha = np.append(alpha, 255)
                            expected = np.concatenate([expected, full_alpha[samples[:, :, 0]][:, :, None]], axis=2)
                    else:
                        samples = rng.integers(0, top + 1, size=(h, w, n))
                        expected = samples >> 8 if depth == 16 else samples * 255 // top
                        if color_type in (0, 2) and depth in (2, 8, 16) and w > 1 and h > 1:
                            key = samples[0, 0, :]  # colour key: pixel (0, 0) and a copy of it are transparent
                            samples[h - 1, w - 1, :] = key
                            expected = samples >> 8 if depth == 16 else samples * 255 // top
                            trns = b"".join(struct.pack(">H", int(v)) for v in key)
                            transparent = np.all(samples == key, axis=2)
                            expected = np.concatenate([expected, np.where(transparent, 0, 255)[:, :, None]], axis=2)
                    data = write_png(samples, color_type, depth, interlace, plte, trns)
                    name = f"png_c{color_type}_d{depth}_i{interlace}_{w}x{h}"
                    with open(os.path.join(out, name + ".png"), "wb") as f:
                        f.write(data)
                    expected = expected.astype(np.uint8)
                    np.save(os.path.join(out, name + ".npy"), expected)
                    check_with_pil(data, color_type, depth, trns, expected, name)
                    cases.append({"file": name + ".png", "expected": name + ".npy"})
    return cases


def check_with_pil(data, color_type, depth, trns, expected, name):
    """The writer's files must decode in PIL to the expected pixels (8-bit cases)."""
    if trns is not None and color_type in (0, 2):
        return
    if depth != 8 and not (color_type == 3 or (color_type == 0 and depth < 8)):
        return
    im = Image.open(io.BytesIO(data))
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[expected.shape[2]]
    got = np.asarray(im.convert(mode))
    if got.ndim == 2:
        got = got[:, :, None]
    assert np.array_equal(got, expected), f"PIL disagrees with the expected pixels of {name}"


def png_text_cases(out):
    cases = []
    base = Image.fromarray(rng.integers(0, 256, size=(8, 12, 3), dtype=np.uint8))
    entries = [
        ("parameters", "a photo of a cat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, "
                       "Size: 512x512, Model: v1-5", False),
        ("Latin1", "caf\u00e9 cr\u00e8me \u00bd", False),
        ("Unicode", "\u732b\u306e\u5199\u771f \u2014 \U0001F431", False),
        ("ZippedLatin1", "compressed " * 40, True),
        ("ZippedUnicode", "\u00fcber \u732b " * 30, True),
    ]
    info = PngImagePlugin.PngInfo()
    for key, text, zipped in entries:
        info.add_text(key, text, zip=zipped)
    base.save(os.path.join(out, "png_text.png"), pnginfo=info)
    cases.append({"file": "png_text.png", "chunks": [[k, t] for k, t, _ in entries]})
    return cases


# ------------------------------------------------------------------ JPEG writer (baseline)

ZIGZAG = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
          21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53,
          60, 61, 54, 47, 55, 62, 63]


def dct_matrix():
    m = np.zeros((8, 8))
    for k in range(8):
        for n in range(8):
            m[k, n] = (np.sqrt(0.5) if k == 0 else 1.0) * 0.5 * np.cos((2 * n + 1) * k * np.pi / 16)
    return m


def magnitude(v):
    """JPEG's (size category, extra bits) of a coefficient."""
    s = int(abs(v)).bit_length()
    return s, (v if v >= 0 else v + (1 << s) - 1)


def huffman_lengths(freqs):
    """Code lengths for the symbols of `freqs` (dict), with a never-used symbol
    256 given the all-ones code, as JPEG requires."""
    freqs = dict(freqs)
    freqs[256] = 0
    heap = [(f, i, [s]) for i, (s, f) in enumerate(sorted(freqs.items()))]
    heapq.heapify(heap)
    lengths = {s: 0 for s in freqs}
    counter = len(heap)
    while len(heap) > 1:
        f1, _, s1 = heapq.heappop(heap)
        f2, _, s2 = heapq.heappop(heap)
        for s in s1 + s2:
            lengths[s] += 1
        heapq.heappush(heap, (f1 + f2, counter, s1 + s2))
        counter += 1
    assert max(lengths.values()) <= 16
    return lengths


def canonical(lengths):
    """-> (counts[16], symbols in order, {symbol: (code, length)}) without symbol 256."""
    order = sorted(lengths, key=lambda s: (lengths[s], s == 256, s))
    codes, code, prev = {}, 0, 0
    for s in order:
        code <<= lengths[s] - prev
        prev = lengths[s]
        codes[s] = (code, lengths[s])
        code += 1
    assert codes[256][0] == (1 << codes[256][1]) - 1, "symbol 256 must hold the all-ones code"
    del codes[256]
    order = [s for s in order if s != 256]
    counts = [sum(1 for s in order if lengths[s] == n) for n in range(1, 17)]
    return counts, order, codes


class BitWriter:
    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def put(self, value, n):
        for i in range(n - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)
                self.acc, self.n = 0, 0

    def align(self):
        while self.n:
            self.put(1, 1)


def write_jpeg(rgb, sampling, quality_scale=1.0, restart=0, adobe_rgb=False, gray=False):
    """Baseline JPEG of `rgb` [H, W, 3] uint8; sampling: [(h, v)] per component."""
    h_img, w_img = rgb.shape[:2]
    x = rgb.astype(np.float64)
    if gray:
        planes = [x.mean(axis=2)]
    elif adobe_rgb:
        planes = [x[:, :, 0], x[:, :, 1], x[:, :, 2]]
    else:
        r, g, b = x[:, :, 0], x[:, :, 1], x[:, :, 2]
        planes = [0.299 * r + 0.587 * g + 0.114 * b,
                  -0.168736 * r - 0.331264 * g + 0.5 * b + 128,
                  0.5 * r - 0.418688 * g - 0.081312 * b + 128]
    hmax = max(s[0] for s in sampling)
    vmax = max(s[1] for s in sampling)
    mcux = -(-w_img // (8 * hmax))
    mcuy = -(-h_img // (8 * vmax))
    quant = [np.clip(np.round((8 + np.arange(64) * (1.5 if t else 1.0)) * quality_scale), 1, 255).astype(int)
             for t in range(2)]  # natural order
    dct = dct_matrix()
    comps = []
    for ci, (plane, (hs, vs)) in enumerate(zip(planes, sampling)):
        fx, fy = hmax // hs, vmax // vs
        ph, pw = -(-h_img // fy) * fy, -(-w_img // fx) * fx
        padded = np.pad(plane, ((0, ph - h_img), (0, pw - w_img)), mode="edge")
        small = padded.reshape(ph // fy, fy, pw // fx, fx).mean(axis=(1, 3))
        bw, bh = mcux * hs, mcuy * vs
        small = np.pad(small, ((0, bh * 8 - small.shape[0]), (0, bw * 8 - small.shape[1])), mode="edge")
        q = quant[0 if ci == 0 else 1]
        blocks = np.zeros((bh, bw, 64), dtype=int)
        for by in range(bh):
            for bx in range(bw):
                block = small[by * 8:by * 8 + 8, bx * 8:bx * 8 + 8] - 128
                coef = (dct @ block @ dct.T).reshape(64)
                blocks[by, bx] = np.round(coef / q).astype(int)
        comps.append({"id": ci + 1 if not adobe_rgb else ord("RGB"[ci]), "h": hs, "v": vs, "q": 0 if ci == 0 else 1,
                      "t": 0 if ci == 0 else 1, "blocks": blocks})

    # Symbols in coding order: (component, [(table kind, symbol, extra, n_extra)]) per block.
    order = []
    for my in range(mcuy):
        for mx in range(mcux):
            for c in comps:
                for v in range(c["v"]):
                    for hh in range(c["h"]):
                        order.append((c, c["blocks"][my * c["v"] + v, mx * c["h"] + hh]))
    blocks_per_mcu = sum(c["h"] * c["v"] for c in comps) if len(comps) > 1 else 1
    assert len(comps) > 1 or (sampling[0] == (1, 1))

    def events(block, pred):
        ev = []
        diff = int(block[0]) - pred
        s, extra = magnitude(diff)
        ev.append(("dc", s, extra, s))
        run = 0
        for k in range(1, 64):
            v = int(block[ZIGZAG[k]])
            if v == 0:
                run += 1
                continue
            while run > 15:
                ev.append(("ac", 0xF0, 0, 0))
                run -= 16
            s, extra = magnitude(v)
            ev.append(("ac", (run << 4) | s, extra, s))
            run = 0
        if run:
            ev.append(("ac", 0x00, 0, 0))
        return ev

    def walk():
        preds = {id(c): 0 for c in comps}
        for i, (c, block) in enumerate(order):
            if restart and i and i % (restart * blocks_per_mcu) == 0:
                yield "restart", None, None
                preds = {id(cc): 0 for cc in comps}
            yield "block", c, events(block, preds[id(c)])
            preds[id(c)] = int(block[0])

    freqs = {(k, t): {} for k in ("dc", "ac") for t in (0, 1)}
    for kind, c, ev in walk():
        if kind == "block":
            for table, sym, _, _ in ev:
                d = freqs[(table, c["t"])]
                d[sym] = d.get(sym, 0) + 1
    tables = {}
    dht = b""
    for (table, t), f in freqs.items():
        if not f:
            continue
        counts, symbols, codes = canonical(huffman_lengths(f))
        tables[(table, t)] = codes
        dht += bytes([(0 if table == "dc" else 0x10) | t] + counts + symbols)

    bw_ = BitWriter()
    rst = 0
    for kind, c, ev in walk():
        if kind == "restart":
            bw_.align()
            bw_.out += bytes([0xFF, 0xD0 + rst])
            rst = (rst + 1) % 8
            continue
        for table, sym, extra, n in ev:
            code, length = tables[(table, c["t"])][sym]
            bw_.put(code, length)
            if n:
                bw_.put(extra, n)
    bw_.align()

    def segment(marker, body):
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body

    data = b"\xFF\xD8"
    if adobe_rgb:
        data += segment(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, 0))
    else:
        data += segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    data += segment(0xE1, b"Exif\x00\x00" + bytes(range(40)))  # skipped
    data += segment(0xFE, b"written by codecs_ref.py")
    for t in range(2 if len(comps) > 1 else 1):
        zz = [int(quant[t][ZIGZAG[k]]) for k in range(64)]
        data += segment(0xDB, bytes([t] + zz))
    sof = struct.pack(">BHHB", 8, h_img, w_img, len(comps))
    for c in comps:
        sof += bytes([c["id"], (c["h"] << 4) | c["v"], c["q"]])
    data += segment(0xC0, sof)
    data += segment(0xC4, dht)
    if restart:
        data += segment(0xDD, struct.pack(">H", restart))
    sos = bytes([len(comps)])
    for c in comps:
        sos += bytes([c["id"], (c["t"] << 4) | c["t"]])
    sos += bytes([0, 63, 0])
    data += segment(0xDA, sos) + bytes(bw_.out) + b"\xFF\xD9"
    return data


def test_picture(h, w):
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 / max(1, w - 1), yy * 255 / max(1, h - 1), (xx + yy) * 127 / max(1, w + h - 2)], axis=2)
    img += 30 * np.sin(xx / 3.0)[:, :, None] * np.array([1, -1, 0.5])
    img += rng.normal(0, 12, size=img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def jpeg_cases(out):
    cases = []

    def add(name, data):
        with open(os.path.join(out, name + ".jpg"), "wb") as f:
            f.write(data)
        expected = np.asarray(Image.open(io.BytesIO(data)))
        if expected.ndim == 2:
            expected = expected[:, :, None]
        np.save(os.path.join(out, name + ".npy"), expected.astype(np.uint8))
        cases.append({"file": name + ".jpg", "expected": name + ".npy"})

    for w, h in [(45, 29), (64, 48), (17, 3), (1, 1)]:
        pic = Image.fromarray(test_picture(h, w))
        for sub, label in [(0, "444"), (1, "422"), (2, "420")]:
            buf = io.BytesIO()
            pic.save(buf, "JPEG", quality=90, subsampling=sub)
            add(f"jpeg_pil_{label}_{w}x{h}", buf.getvalue())
        buf = io.BytesIO()
        pic.save(buf, "JPEG", quality=75, subsampling=2, progressive=True)
        add(f"jpeg_pil_progressive_420_{w}x{h}", buf.getvalue())
        buf = io.BytesIO()
        pic.save(buf, "JPEG", quality=95, subsampling=0, progressive=True, optimize=True)
        add(f"jpeg_pil_progressive_444_{w}x{h}", buf.getvalue())
        buf = io.BytesIO()
        pic.convert("L").save(buf, "JPEG", quality=85, optimize=True)
        add(f"jpeg_pil_gray_{w}x{h}", buf.getvalue())
        buf = io.BytesIO()
        pic.convert("L").save(buf, "JPEG", quality=85, progressive=True)
        add(f"jpeg_pil_gray_progressive_{w}x{h}", buf.getvalue())
    # High quality: large coefficients; an EXIF block.
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "aigc test camera"
    Image.fromarray(test_picture(40, 40)).save(buf, "JPEG", quality=100, subsampling=0, exif=exif.tobytes())
    add("jpeg_pil_q100_exif", buf.getvalue())

    pic = test_picture(27, 53)
    for sampling, label in [([(1, 1), (1, 1), (1, 1)], "444"), ([(4, 1), (1, 1), (1, 1)], "411"),
                            ([(1, 2), (1, 1), (1, 1)], "440"), ([(2, 2), (1, 1), (1, 1)], "420"),
                            ([(2, 1), (1, 1), (1, 1)], "422"), ([(2, 2), (2, 1), (1, 1)], "mixed")]:
        add(f"jpeg_own_{label}", write_jpeg(pic, sampling))
        add(f"jpeg_own_{label}_restart", write_jpeg(pic, sampling, restart=1 if label == "444" else 2))
    add("jpeg_own_adobe_rgb", write_jpeg(pic, [(1, 1)] * 3, adobe_rgb=True, restart=3))
    add("jpeg_own_gray_restart", write_jpeg(pic, [(1, 1)], gray=True, restart=5))
    add("jpeg_own_fine_quant", write_jpeg(pic, [(2, 2), (1, 1), (1, 1)], quality_scale=0.1))
    return cases


# ------------------------------------------------------------------ conversions

def conversion_cases(out):
    """PIL's resize (bilinear, Lanczos; up and down) and its RGB -> L luma."""
    src = Image.fromarray(test_picture(17, 23))
    src.save(os.path.join(out, "resize_src.png"))
    resize = []
    for w, h in [(40, 30), (9, 7), (23, 5), (64, 64)]:
        for name, flt in [("bilinear", Image.BILINEAR), ("lanczos", Image.LANCZOS)]:
            expected = f"resize_{name}_{w}x{h}.npy"
            np.save(os.path.join(out, expected), np.asarray(src.resize((w, h), flt)))
            resize.append({"file": "resize_src.png", "width": w, "height": h, "filter": name, "expected": expected})
    np.save(os.path.join(out, "luma.npy"), np.asarray(src.convert("L")))
    return resize, {"file": "resize_src.png", "expected": "luma.npy"}


# ------------------------------------------------------------------ npy

def npy_cases(out):
    cases = []

    def add(name, array, version=None):
        path = os.path.join(out, name + ".npy")
        if version is None:
            np.save(path, array)
        else:
            with open(path, "wb") as f:
                np.lib.format.write_array(f, array, version=version)
        cases.append({"file": name + ".npy", "shape": list(array.shape),
                      "values": [float(v) for v in np.asarray(array, dtype=np.float64).reshape(-1)]})

    latent = (rng.standard_normal((1, 4, 3, 5)) * 1.5).astype(np.float32)
    add("npy_f4_latent", latent)
    add("npy_f4_v2", latent, version=(2, 0))
    add("npy_f8", rng.standard_normal((3, 7)))
    add("npy_u1", rng.integers(0, 256, size=(2, 3, 3)).astype(np.uint8))
    add("npy_scalar", np.array(2.5, dtype=np.float32))
    add("npy_empty", np.zeros((0, 3), dtype=np.float32))
    add("npy_1d", np.arange(5, dtype=np.float32) * 0.25)
    return cases


def main():
    out = os.path.join(sys.argv[1], "codecs")
    os.makedirs(out, exist_ok=True)
    resize, luma = conversion_cases(out)
    manifest = {"png": png_cases(out), "png_text": png_text_cases(out), "jpeg": jpeg_cases(out), "npy": npy_cases(out),
                "resize": resize, "luma": luma}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
    print(f"codecs: {sum(len(v) for v in manifest.values() if isinstance(v, list))} cases in {out}")


if __name__ == "__main__":
    main()
