"""PyTorch references for the CPU ops whose math is easy to get subtly wrong
(GroupNorm, conv2d, RoPE normal vs NeoX, GELU/SiLU, bilinear upsampling), written as small fixtures
that src/kernels/ops_reference_test.cpp compares the C++ reference kernels to.

Run with /usr/bin/python3 (Debian's torch). Writes src/kernels/testdata/*.f32:
each file is a concatenation of little-endian float32 arrays in the order
listed next to its writer below (the C++ test knows the sizes and checks the
file length). Everything is computed in float64 from float32 inputs, so the
expected values are exact to float32 rounding.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "kernels", "testdata")


def f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def write(name, arrays):
    path = os.path.join(OUT_DIR, name)
    with open(path, "wb") as f:
        for a in arrays:
            f.write(f32(a).astype("<f4").tobytes())
    print(f"{path}: {os.path.getsize(path)} bytes")


def t64(a):
    return torch.from_numpy(f32(a).astype(np.float64))


def group_norm(rng):
    # x [2, 6, 5, 3], weight [6], bias [6], out [2, 6, 5, 3]; G = 3, eps = 1e-5
    x = f32(rng.standard_normal((2, 6, 5, 3)) * 3.0 + 1.0)
    w = f32(rng.standard_normal(6))
    b = f32(rng.standard_normal(6))
    y = F.group_norm(t64(x), 3, t64(w), t64(b), eps=1e-5).numpy()
    write("group_norm.f32", [x, w, b, y])


# conv2d cases: (c_in, c_out, h, w, k, stride, pad), batch 2, with bias
CONV_CASES = [(3, 4, 7, 6, 3, 1, 1), (3, 4, 7, 6, 4, 2, 1), (5, 2, 5, 5, 1, 1, 0), (2, 3, 6, 9, 3, 2, 0)]


def conv2d(rng):
    # per case: x [2, c_in, h, w], weight [c_out, c_in, k, k], bias [c_out], out [2, c_out, oh, ow]
    arrays = []
    for c_in, c_out, h, w, k, stride, pad in CONV_CASES:
        x = f32(rng.standard_normal((2, c_in, h, w)))
        wt = f32(rng.standard_normal((c_out, c_in, k, k)))
        b = f32(rng.standard_normal(c_out))
        y = F.conv2d(t64(x), t64(wt), t64(b), stride=stride, padding=pad).numpy()
        arrays += [x, wt, b, y]
    write("conv2d.f32", arrays)


def rope(rng):
    # x [3, 2, 8]; then for (mode normal, neox) x (freq_scale 1, 0.5): out [3, 2, 8].
    # positions 0, 5, 17; freq_base 10000.
    T, H, D = 3, 2, 8
    pos = np.array([0, 5, 17], dtype=np.float64)
    x = f32(rng.standard_normal((T, H, D)))
    xs = torch.from_numpy(x.astype(np.float64))
    outs = []
    for neox in (False, True):
        for freq_scale in (1.0, 0.5):
            inv_freq = 1.0 / (10000.0 ** (torch.arange(0, D, 2, dtype=torch.float64) / D))  # [D/2]
            theta = torch.from_numpy(pos * freq_scale)[:, None] * inv_freq[None, :]        # [T, D/2]
            cos, sin = torch.cos(theta)[:, None, :], torch.sin(theta)[:, None, :]            # [T, 1, D/2]
            if neox:  # Hugging Face rotate_half on (first half, second half)
                a, b = xs[..., : D // 2], xs[..., D // 2:]
                y = torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
            else:  # GPT-J rotate_every_two on (even, odd)
                a, b = xs[..., 0::2], xs[..., 1::2]
                y = torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).reshape(T, H, D)
            outs.append(y.numpy())
    write("rope.f32", [x] + outs)


def activations(rng):
    # x [64] in [-6, 6]; gelu(tanh) [64], gelu(erf) [64], silu [64]
    x = f32(rng.uniform(-6.0, 6.0, 64))
    xs = t64(x)
    write("activations.f32", [x, F.gelu(xs, approximate="tanh").numpy(), F.gelu(xs).numpy(), F.silu(xs).numpy()])


def upsample_bilinear(rng):
    # x [2, 5, 7] (planes, H, W); out [2, 10, 14] (2x); out [2, 8, 3] (any size, mixed up/down)
    x = f32(rng.standard_normal((1, 2, 5, 7)))
    outs = [F.interpolate(t64(x), size=size, mode="bilinear", align_corners=False).numpy()
            for size in ((10, 14), (8, 3))]
    write("upsample_bilinear.f32", [x] + outs)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    rng = np.random.default_rng(20261128)
    group_norm(rng)
    conv2d(rng)
    rope(rng)
    activations(rng)
    upsample_bilinear(rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
