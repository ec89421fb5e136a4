"""The Stable Diffusion 1.x UNet in plain PyTorch, as the original ldm
`openaimodel.UNetModel` with `use_spatial_transformer=True` lays it out, under
the original parameter names (a single-file checkpoint stores them under
`model.diffusion_model.`).

  time_embed.{0,2}                 Linear(mc, 4 mc), SiLU, Linear(4 mc, 4 mc)
  input_blocks.0.0                 conv3x3(in_channels, mc)
  input_blocks.k.0                 ResBlock (in_layers.{0 GroupNorm, 2 conv3x3}, emb_layers.1,
                                   out_layers.{0 GroupNorm, 3 conv3x3}, skip_connection 1x1 if widths differ)
  input_blocks.k.1                 SpatialTransformer at the attention levels
  input_blocks.k.0.op              Downsample (conv3x3, stride 2, padding 1: ceil(h / 2)) after each level but the last
  middle_block.{0,1,2}             ResBlock, SpatialTransformer, ResBlock
  output_blocks.k.0                ResBlock on cat(h, skip) (n_res_blocks + 1 per level)
  output_blocks.k.{1,2}.conv       SpatialTransformer and / or Upsample (nearest to the size of the skip the
                                   next block concatenates, as diffusers does: 2x, or 2x - 1 after an odd
                                   size was halved; then conv3x3)
  out.{0,2}                        GroupNorm, SiLU, conv3x3(mc, out_channels)

GroupNorm: norm_groups groups (32 in SD; diffusers' norm_num_groups), eps 1e-5 in the ResBlocks and `out`, 1e-6 in the
SpatialTransformer. LayerNorm eps 1e-5. Heads: n_heads, head dim = width /
n_heads. The timestep embedding is cat(cos, sin) of t * 10000^(-i / half).

flops() counts the real multiply-adds x 2 of every conv, linear layer and
attention product of one forward pass, as the layers run (COUNTER).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

SD15_CONFIG = dict(in_channels=4, out_channels=4, model_channels=320, channel_mult=(1, 2, 4, 4), n_res_blocks=2,
                   attention_levels=(0, 1, 2), context_dim=768, n_heads=8, transformer_depth=1)
SD15_INPAINT_CONFIG = dict(SD15_CONFIG, in_channels=9)
# For the tests: every width a multiple of 32 (GroupNorm), head dims 4 and 8.
SMALL_CONFIG = dict(in_channels=4, out_channels=4, model_channels=32, channel_mult=(1, 2), n_res_blocks=1,
                    attention_levels=(0, 1), context_dim=64, n_heads=8, transformer_depth=1)
# Inpainting-shaped: 9 input channels, three levels (attention at the first
# two, as SD 1.x leaves the last without), two res blocks, two transformer
# blocks per SpatialTransformer, linear proj_in / proj_out (as SD 2.x stores them).
SMALL_INPAINT_CONFIG = dict(in_channels=9, out_channels=4, model_channels=32, channel_mult=(1, 1, 2), n_res_blocks=2,
                            attention_levels=(0, 1), context_dim=64, n_heads=8, transformer_depth=2,
                            linear_proj=True)


class FlopCounter:
    def __init__(self):
        self.total = 0


COUNTER = FlopCounter()  # multiply-adds x 2 since the last flops() started


def conv(x, layer):
    out = layer(x)
    COUNTER.total += 2 * out.numel() * layer.weight[0].numel()
    return out


def linear(x, layer):
    out = layer(x)
    COUNTER.total += 2 * out.numel() * layer.in_features
    return out


def timestep_embedding(t, dim, max_period=10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64) / half).to(t.dtype)
    args = t[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, channels, emb_channels, out_channels, groups):
        super().__init__()
        self.in_layers = nn.Sequential(nn.GroupNorm(groups, channels), nn.SiLU(),
                                       nn.Conv2d(channels, out_channels, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, out_channels))
        self.out_layers = nn.Sequential(nn.GroupNorm(groups, out_channels), nn.SiLU(), nn.Dropout(0.0),
                                        nn.Conv2d(out_channels, out_channels, 3, padding=1))
        self.skip_connection = nn.Identity() if channels == out_channels else nn.Conv2d(channels, out_channels, 1)

    def forward(self, x, emb):
        h = conv(F.silu(self.in_layers[0](x)), self.in_layers[2])
        h = h + linear(F.silu(emb), self.emb_layers[1])[:, :, None, None]
        h = conv(F.silu(self.out_layers[0](h)), self.out_layers[3])
        skip = x if isinstance(self.skip_connection, nn.Identity) else conv(x, self.skip_connection)
        return skip + h


class CrossAttention(nn.Module):
    def __init__(self, query_dim, context_dim, heads, dim_head):
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, query_dim), nn.Dropout(0.0))

    def forward(self, x, context=None):
        context = x if context is None else context
        q, k, v = linear(x, self.to_q), linear(context, self.to_k), linear(context, self.to_v)
        b, n, inner = q.shape
        d = inner // self.heads
        q, k, v = (t.reshape(b, -1, self.heads, d).transpose(1, 2) for t in (q, k, v))  # [b, heads, tokens, d]
        scores = q @ k.transpose(-1, -2) * d ** -0.5
        out = scores.softmax(dim=-1) @ v
        COUNTER.total += 2 * 2 * b * self.heads * n * k.shape[2] * d
        out = out.transpose(1, 2).reshape(b, n, inner)
        return linear(out, self.to_out[0])


class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x):
        x, gate = linear(x, self.proj).chunk(2, dim=-1)
        return x * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.net = nn.Sequential(GEGLU(dim, 4 * dim), nn.Dropout(0.0), nn.Linear(4 * dim, dim))

    def forward(self, x):
        return linear(self.net[0](x), self.net[2])


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, dim_head, context_dim):
        super().__init__()
        self.attn1 = CrossAttention(dim, dim, heads, dim_head)
        self.ff = FeedForward(dim)
        self.attn2 = CrossAttention(dim, context_dim, heads, dim_head)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class SpatialTransformer(nn.Module):
    def __init__(self, channels, heads, context_dim, depth, linear_proj, groups):
        super().__init__()
        self.linear_proj = linear_proj
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, channels) if linear_proj else nn.Conv2d(channels, channels, 1)
        self.transformer_blocks = nn.ModuleList(
            [BasicTransformerBlock(channels, heads, channels // heads, context_dim) for _ in range(depth)])
        self.proj_out = nn.Linear(channels, channels) if linear_proj else nn.Conv2d(channels, channels, 1)

    def forward(self, x, context):
        b, c, h, w = x.shape
        t = self.norm(x)
        if self.linear_proj:
            t = linear(t.flatten(2).transpose(1, 2), self.proj_in)  # [b, h w, c]
        else:
            t = conv(t, self.proj_in).flatten(2).transpose(1, 2)
        for block in self.transformer_blocks:
            t = block(t, context)
        if self.linear_proj:
            t = linear(t, self.proj_out).transpose(1, 2).reshape(b, c, h, w)
        else:
            t = conv(t.transpose(1, 2).reshape(b, c, h, w), self.proj_out)
        return t + x


class Downsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return conv(x, self.op)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x, size):
        return conv(F.interpolate(x, size=size, mode="nearest"), self.conv)


class UNetModel(nn.Module):
    def __init__(self, in_channels, out_channels, model_channels, channel_mult, n_res_blocks, attention_levels,
                 context_dim, n_heads, transformer_depth, linear_proj=False, norm_groups=32):
        super().__init__()
        self.model_channels = model_channels
        emb = 4 * model_channels
        self.time_embed = nn.Sequential(nn.Linear(model_channels, emb), nn.SiLU(), nn.Linear(emb, emb))

        def transformer(ch):
            return SpatialTransformer(ch, n_heads, context_dim, transformer_depth, linear_proj, norm_groups)

        self.input_blocks = nn.ModuleList([nn.ModuleList([nn.Conv2d(in_channels, model_channels, 3, padding=1)])])
        skip_channels = [model_channels]
        ch = model_channels
        for level, mult in enumerate(channel_mult):
            for _ in range(n_res_blocks):
                layers = [ResBlock(ch, emb, mult * model_channels, norm_groups)]
                ch = mult * model_channels
                if level in attention_levels:
                    layers.append(transformer(ch))
                self.input_blocks.append(nn.ModuleList(layers))
                skip_channels.append(ch)
            if level != len(channel_mult) - 1:
                self.input_blocks.append(nn.ModuleList([Downsample(ch)]))
                skip_channels.append(ch)
        self.middle_block = nn.ModuleList([ResBlock(ch, emb, ch, norm_groups), transformer(ch),
                                           ResBlock(ch, emb, ch, norm_groups)])
        self.output_blocks = nn.ModuleList()
        for level, mult in reversed(list(enumerate(channel_mult))):
            for i in range(n_res_blocks + 1):
                layers = [ResBlock(ch + skip_channels.pop(), emb, mult * model_channels, norm_groups)]
                ch = mult * model_channels
                if level in attention_levels:
                    layers.append(transformer(ch))
                if level and i == n_res_blocks:
                    layers.append(Upsample(ch))
                self.output_blocks.append(nn.ModuleList(layers))
        self.out = nn.Sequential(nn.GroupNorm(norm_groups, ch), nn.SiLU(), nn.Conv2d(model_channels, out_channels, 3, padding=1))

    @staticmethod
    def run_block(layers, h, emb, context, upsample_size=None):
        for layer in layers:
            if isinstance(layer, ResBlock):
                h = layer(h, emb)
            elif isinstance(layer, SpatialTransformer):
                h = layer(h, context)
            elif isinstance(layer, nn.Conv2d):
                h = conv(h, layer)
            elif isinstance(layer, Upsample):
                h = layer(h, upsample_size)
            else:
                h = layer(h)
        return h

    def forward(self, x, timesteps, context):
        t_emb = timestep_embedding(timesteps, self.model_channels)
        emb = linear(F.silu(linear(t_emb, self.time_embed[0])), self.time_embed[2])
        skips = []
        h = x
        for block in self.input_blocks:
            h = self.run_block(block, h, emb, context)
            skips.append(h)
        h = self.run_block(self.middle_block, h, emb, context)
        for block in self.output_blocks:
            h = torch.cat([h, skips.pop()], dim=1)
            h = self.run_block(block, h, emb, context, skips[-1].shape[2:] if skips else None)
        return conv(F.silu(self.out[0](h)), self.out[2])


def flops(model, x, timesteps, context):
    """Multiply-adds x 2 of one forward pass (convs, linears, attention products)."""
    COUNTER.total = 0
    with torch.no_grad():
        model(x, timesteps, context)
    return COUNTER.total
