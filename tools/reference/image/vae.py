"""Stable Diffusion 1.x VAE (the ldm AutoencoderKL) in plain PyTorch, with the
original parameter names (a single-file checkpoint stores them under the
prefix `first_stage_model.`), and the tiled decode that src/image/vae.cpp
implements. Written for the C++ tests (vae_ref.py); independent of the C++ code.

Structure (ch = base channels, mult = ch_mult, L = len(mult), R = res blocks):
  encoder: conv_in(3 -> ch); level i: R ResnetBlocks to ch*mult[i], then (not
           the last level) a stride-2 3x3 conv after zero-padding right and
           bottom by one; mid (ResnetBlock, AttnBlock, ResnetBlock);
           GroupNorm, SiLU, conv_out(-> 2 z).  quant_conv: 1x1, 2 z -> 2 z.
           mean, logvar = chunks of the moments; logvar clamped to [-30, 20].
  decoder: post_quant_conv 1x1 (z -> z); conv_in(z -> ch*mult[-1]); mid;
           levels from the deepest: decoder.up[i] has R + 1 ResnetBlocks to
           ch*mult[i], then (i != 0) nearest 2x + 3x3 conv; GroupNorm, SiLU,
           conv_out(-> 3).
  GroupNorm: norm_groups groups (32 in SD; diffusers' norm_num_groups), eps 1e-6. AttnBlock: single-head attention over the
  pixels with 1x1 convs q, k, v, proj_out, scale 1/sqrt(C), residual.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

SD15_CONFIG = dict(ch=128, ch_mult=(1, 2, 4, 4), num_res_blocks=2, z_channels=4, embed_dim=4)
# The small random VAE of the tests: every structural feature of the full one
# (4 levels, channel changes with nin_shortcut, 8x scale) at a fraction of the cost.
SMALL_CONFIG = dict(ch=32, ch_mult=(1, 2, 2, 4), num_res_blocks=1, z_channels=4, embed_dim=4)

LOGVAR_MIN, LOGVAR_MAX = -30.0, 20.0


def group_norm(channels, groups):
    return nn.GroupNorm(groups, channels, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, c_in, c_out, groups):
        super().__init__()
        self.norm1 = group_norm(c_in, groups)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm2 = group_norm(c_out, groups)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        if c_in != c_out:
            self.nin_shortcut = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        skip = self.nin_shortcut(x) if hasattr(self, "nin_shortcut") else x
        return skip + h


class AttnBlock(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.norm = group_norm(c, groups)
        self.q = nn.Conv2d(c, c, 1)
        self.k = nn.Conv2d(c, c, 1)
        self.v = nn.Conv2d(c, c, 1)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        n, c, h, w = x.shape
        y = self.norm(x)
        q = self.q(y).reshape(n, c, h * w).transpose(1, 2)  # [n, hw, c]
        k = self.k(y).reshape(n, c, h * w)                  # [n, c, hw]
        v = self.v(y).reshape(n, c, h * w).transpose(1, 2)  # [n, hw, c]
        p = torch.softmax(torch.bmm(q, k) / c ** 0.5, dim=2)  # [n, hw (query), hw (key)]
        o = torch.bmm(p, v).transpose(1, 2).reshape(n, c, h, w)
        return x + self.proj_out(o)


class Mid(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.block_1 = ResnetBlock(c, c, groups)
        self.attn_1 = AttnBlock(c, groups)
        self.block_2 = ResnetBlock(c, c, groups)

    def forward(self, x):
        return self.block_2(self.attn_1(self.block_1(x)))


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))  # (left, right, top, bottom)


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Encoder(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, groups, in_channels=3):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1)
        self.down = nn.ModuleList()
        c = ch
        for i, mult in enumerate(ch_mult):
            level = nn.Module()
            level.block = nn.ModuleList()
            for _ in range(num_res_blocks):
                level.block.append(ResnetBlock(c, ch * mult, groups))
                c = ch * mult
            if i != len(ch_mult) - 1:
                level.downsample = Downsample(c)
            self.down.append(level)
        self.mid = Mid(c, groups)
        self.norm_out = group_norm(c, groups)
        self.conv_out = nn.Conv2d(c, 2 * z_channels, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for level in self.down:
            for block in level.block:
                h = block(h)
            if hasattr(level, "downsample"):
                h = level.downsample(h)
        h = self.mid(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, groups, out_channels=3):
        super().__init__()
        c = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z_channels, c, 3, padding=1)
        self.mid = Mid(c, groups)
        levels = []
        for i in reversed(range(len(ch_mult))):  # built deepest first, stored by level index
            level = nn.Module()
            level.block = nn.ModuleList()
            for _ in range(num_res_blocks + 1):
                level.block.append(ResnetBlock(c, ch * ch_mult[i], groups))
                c = ch * ch_mult[i]
            if i != 0:
                level.upsample = Upsample(c)
            levels.insert(0, level)
        self.up = nn.ModuleList(levels)
        self.norm_out = group_norm(c, groups)
        self.conv_out = nn.Conv2d(c, out_channels, 3, padding=1)

    def forward(self, z):
        h = self.mid(self.conv_in(z))
        for level in reversed(self.up):
            for block in level.block:
                h = block(h)
            if hasattr(level, "upsample"):
                h = level.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class AutoencoderKL(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, embed_dim, norm_groups=32):
        super().__init__()
        self.encoder = Encoder(ch, ch_mult, num_res_blocks, z_channels, norm_groups)
        self.decoder = Decoder(ch, ch_mult, num_res_blocks, z_channels, norm_groups)
        self.quant_conv = nn.Conv2d(2 * z_channels, 2 * embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(embed_dim, z_channels, 1)
        self.scale = 2 ** (len(ch_mult) - 1)

    def encode(self, image):
        """image [n, 3, H, W] in [-1, 1] -> mean, logvar [n, embed_dim, H/8, W/8]."""
        mean, logvar = torch.chunk(self.quant_conv(self.encoder(image)), 2, dim=1)
        return mean, torch.clamp(logvar, LOGVAR_MIN, LOGVAR_MAX)

    def decode(self, z):
        """z [n, embed_dim, h, w] (raw latent, already divided by 0.18215) -> image [n, 3, 8h, 8w]."""
        return self.decoder(self.post_quant_conv(z))


def tile_starts(n, tile):
    """Latent start of each tile along one axis: every `tile - tile // 4`, the last one flush with the end."""
    if n <= tile:
        return [0]
    stride = tile - tile // 4
    count = (n - tile + stride - 1) // stride + 1
    return [min(i * stride, n - tile) for i in range(count)]


def tile_ramp(start, length, total, overlap):
    """Blend weight of each pixel of a tile along one axis: a linear ramp over
    `overlap` pixels at every edge shared with a neighbour, else 1."""
    i = torch.arange(length, dtype=torch.float64)
    w = torch.ones(length, dtype=torch.float64)
    if start > 0:
        w = torch.minimum(w, (i + 0.5) / overlap)
    if start + length < total:
        w = torch.minimum(w, (length - i - 0.5) / overlap)
    return w


def decode_tiled(vae, z, tile):
    """Decodes z [1, C, h, w] in overlapping tiles of tile x tile latents (the
    overlap is tile // 4 latents); each output pixel is the weighted mean of
    the tiles covering it, weights being products of the per-axis ramps."""
    _, _, h, w = z.shape
    s = vae.scale
    overlap = tile // 4 * s
    out = torch.zeros(1, 3, h * s, w * s, dtype=torch.float64)
    wsum_y = torch.zeros(h * s, dtype=torch.float64)
    wsum_x = torch.zeros(w * s, dtype=torch.float64)
    ys, xs = tile_starts(h, tile), tile_starts(w, tile)
    th, tw = min(tile, h), min(tile, w)
    for y0 in ys:
        wsum_y[y0 * s:(y0 + th) * s] += tile_ramp(y0 * s, th * s, h * s, overlap)
    for x0 in xs:
        wsum_x[x0 * s:(x0 + tw) * s] += tile_ramp(x0 * s, tw * s, w * s, overlap)
    for y0 in ys:
        for x0 in xs:
            part = vae.decode(z[:, :, y0:y0 + th, x0:x0 + tw]).double()
            wy = tile_ramp(y0 * s, th * s, h * s, overlap)
            wx = tile_ramp(x0 * s, tw * s, w * s, overlap)
            out[:, :, y0 * s:(y0 + th) * s, x0 * s:(x0 + tw) * s] += part * wy[:, None] * wx[None, :]
    return out / (wsum_y[:, None] * wsum_x[None, :])
