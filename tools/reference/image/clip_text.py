"""The CLIP text encoder of Stable Diffusion 1.x (HuggingFace CLIPTextModel
names; a single-file checkpoint stores them under `cond_stage_model.transformer.`)
in plain PyTorch, and the prompt conditioning of the AUTOMATIC1111 web UI on
top of it. Written for the C++ tests (clip_text_ref.py); independent of the
C++ code.

Encoder (T = 77 positions, d = dim, h = n_heads of 64 dims each):
  x = token_embedding[ids] + position_embedding[0..T-1]
  each layer (pre-LayerNorm):  x += out_proj(attention(layer_norm1(x)))
                               x += fc2(quick_gelu(fc1(layer_norm2(x))))
  attention: causal (position t sees 0..t), scores q.k / sqrt(64), softmax
  quick_gelu(u) = u * sigmoid(1.702 u); LayerNorm eps 1e-5.
  clip_skip c >= 1: the hidden state after layer n_layers - c + 1 (the last
  one for c = 1), then final_layer_norm, as the web UI does for SD 1.x.

Conditioning (the web UI's "Original" emphasis), per 77-token window:
  z = encode(window ids); z *= weight of each position (row-wise);
  z *= mean(z before weighting) / mean(z after)   (means over the whole window)
  A prompt's windows are concatenated along the tokens. When the prompt and
  the negative prompt have different window counts, the shorter is padded with
  the encoding of the empty prompt's window.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

HEAD_DIM = 64
LAYER_NORM_EPS = 1e-5
WINDOW_LENGTH = 77
WINDOW_TOKENS = WINDOW_LENGTH - 2
START_ID, END_ID = 49406, 49407

# CLIP ViT-L/14's text transformer, as SD 1.x uses it (about 123 M parameters).
SD15_CONFIG = dict(vocab=49408, n_positions=77, dim=768, n_layers=12, n_heads=12, ffn_dim=3072)
# The small random encoder of the tests: the real vocabulary (so real token ids
# fit), two heads of 64, three layers (so clip_skip 2 and 3 stop early).
SMALL_CONFIG = dict(vocab=49408, n_positions=77, dim=128, n_layers=3, n_heads=2, ffn_dim=256)


class Attention(nn.Module):
    def __init__(self, dim, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        h = self.n_heads

        def heads(y):
            return y.reshape(b, t, h, d // h).transpose(1, 2)  # [b, h, t, 64]

        q, k, v = heads(self.q_proj(x)), heads(self.k_proj(x)), heads(self.v_proj(x))
        scores = q @ k.transpose(-1, -2) / (d // h) ** 0.5
        future = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        scores = scores.masked_fill(future, float("-inf"))
        out = torch.softmax(scores, dim=-1) @ v
        return self.out_proj(out.transpose(1, 2).reshape(b, t, d))


class Mlp(nn.Module):
    def __init__(self, dim, ffn_dim):
        super().__init__()
        self.fc1 = nn.Linear(dim, ffn_dim)
        self.fc2 = nn.Linear(ffn_dim, dim)

    def forward(self, x):
        u = self.fc1(x)
        return self.fc2(u * torch.sigmoid(1.702 * u))


class EncoderLayer(nn.Module):
    def __init__(self, dim, n_heads, ffn_dim):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)
        self.self_attn = Attention(dim, n_heads)
        self.layer_norm2 = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)
        self.mlp = Mlp(dim, ffn_dim)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class Embeddings(nn.Module):
    def __init__(self, vocab, n_positions, dim):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, dim)
        self.position_embedding = nn.Embedding(n_positions, dim)


class Encoder(nn.Module):
    def __init__(self, dim, n_layers, n_heads, ffn_dim):
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(dim, n_heads, ffn_dim) for _ in range(n_layers)])


class TextTransformer(nn.Module):
    def __init__(self, vocab, n_positions, dim, n_layers, n_heads, ffn_dim):
        super().__init__()
        self.embeddings = Embeddings(vocab, n_positions, dim)
        self.encoder = Encoder(dim, n_layers, n_heads, ffn_dim)
        self.final_layer_norm = nn.LayerNorm(dim, eps=LAYER_NORM_EPS)


class CLIPTextModel(nn.Module):
    """Parameter names as HuggingFace's: text_model.embeddings.token_embedding.weight, ..."""

    def __init__(self, vocab, n_positions, dim, n_layers, n_heads, ffn_dim):
        super().__init__()
        assert dim == n_heads * HEAD_DIM
        self.text_model = TextTransformer(vocab, n_positions, dim, n_layers, n_heads, ffn_dim)

    def forward(self, ids, clip_skip=1):
        """ids: [b, T] integer token ids -> [b, T, dim]."""
        m = self.text_model
        n_layers = len(m.encoder.layers)
        assert 1 <= clip_skip <= n_layers
        positions = torch.arange(ids.shape[1])
        x = m.embeddings.token_embedding(ids) + m.embeddings.position_embedding(positions)
        for layer in m.encoder.layers[:n_layers - clip_skip + 1]:
            x = layer(x)
        return m.final_layer_norm(x)


def random_model(config, seed):
    """A CLIPTextModel of `config` with random weights of a realistic spread:
    unit-scale embeddings, LayerNorm affines away from 1 / 0, random biases,
    q and k scaled up so that attention is not nearly uniform."""
    torch.manual_seed(seed)
    model = CLIPTextModel(**config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "embedding" in name:
                p.copy_(0.5 * torch.randn_like(p))
            elif "norm" in name:
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            elif "q_proj" in name or "k_proj" in name:
                p.mul_(2.0)
    return model.eval()


def window_ids(ids, weights):
    """A list of ids (and their weights) -> the 77-token windows: chunks of 75,
    each as [start, chunk, end, end...]; weight 1 outside the chunk. An empty
    list gives one window."""
    windows = []
    for begin in range(0, max(len(ids), 1), WINDOW_TOKENS):
        chunk, w = ids[begin:begin + WINDOW_TOKENS], weights[begin:begin + WINDOW_TOKENS]
        pad = WINDOW_LENGTH - 2 - len(chunk)
        windows.append(([START_ID] + list(chunk) + [END_ID] * (pad + 1), [1.0] + list(w) + [1.0] * (pad + 1)))
    return windows


def encode_window(model, ids, weights, clip_skip):
    """One 77-token window with per-position weights -> [77, dim] (web UI emphasis)."""
    dtype = next(model.parameters()).dtype
    z = model(torch.tensor([ids]), clip_skip)[0]
    original_mean = z.mean()
    z = z * torch.tensor(weights, dtype=torch.float32).to(dtype)[:, None]
    return z * (original_mean / z.mean())


def encode_windows(model, windows, clip_skip):
    return torch.cat([encode_window(model, ids, w, clip_skip) for ids, w in windows], dim=0)


def encode_pair(model, cond_windows, uncond_windows, clip_skip):
    """Prompt and negative windows -> (cond, uncond), both [77 * n, dim]; the
    shorter padded with the empty prompt's encoding."""
    cond = encode_windows(model, cond_windows, clip_skip)
    uncond = encode_windows(model, uncond_windows, clip_skip)
    empty = encode_windows(model, window_ids([], []), clip_skip)
    while cond.shape[0] < uncond.shape[0]:
        cond = torch.cat([cond, empty])
    while uncond.shape[0] < cond.shape[0]:
        uncond = torch.cat([uncond, empty])
    return cond, uncond
