#!/usr/bin/python3
"""Writes a full-size Stable Diffusion 1.5 checkpoint with random weights, for
`aigc bench image` (not run at build time; about 2.1 GB, F16, single file in
the original layout):

  model.diffusion_model.*              UNet, unet.SD15_CONFIG (about 860 M parameters)
  first_stage_model.*                  VAE, vae.SD15_CONFIG (about 84 M)
  cond_stage_model.transformer.text_model.*   CLIP ViT-L/14 text encoder (about 123 M):
                                       vocabulary 49408, 77 positions, 12 layers, width 768,
                                       12 heads, MLP 3072

The shapes come from the reference modules (unet.py, vae.py) and, for the
text encoder, the table in this file. Weights are random with the scale that
keeps activations sane through the residual stacks: matrices and convolutions
N(0, 1/fan_in) (unit gain), biases 0, norms weight 1 and bias 0, embeddings
N(0, 0.02^2) (CLIP's initialisation). The models are built without
initialising their parameters, and tensors are generated and written one at
a time, so the script needs little memory.

Usage: /usr/bin/python3 tools/reference/image/make_sd15_random.py OUT.safetensors [--seed N]
"""
import argparse
import json
import os
import struct
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unet  # noqa: E402
import vae  # noqa: E402

CLIP_VOCAB, CLIP_POSITIONS, CLIP_LAYERS, CLIP_WIDTH, CLIP_MLP = 49408, 77, 12, 768, 3072


def clip_shapes():
    """The SD 1.x text encoder (HuggingFace CLIPTextModel names), name -> shape."""
    p = "cond_stage_model.transformer.text_model."
    shapes = {p + "embeddings.token_embedding.weight": (CLIP_VOCAB, CLIP_WIDTH),
              p + "embeddings.position_embedding.weight": (CLIP_POSITIONS, CLIP_WIDTH)}
    for i in range(CLIP_LAYERS):
        layer = f"{p}encoder.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            shapes[f"{layer}self_attn.{proj}.weight"] = (CLIP_WIDTH, CLIP_WIDTH)
            shapes[f"{layer}self_attn.{proj}.bias"] = (CLIP_WIDTH,)
        for norm in ("layer_norm1", "layer_norm2"):
            shapes[f"{layer}{norm}.weight"] = (CLIP_WIDTH,)
            shapes[f"{layer}{norm}.bias"] = (CLIP_WIDTH,)
        shapes[f"{layer}mlp.fc1.weight"] = (CLIP_MLP, CLIP_WIDTH)
        shapes[f"{layer}mlp.fc1.bias"] = (CLIP_MLP,)
        shapes[f"{layer}mlp.fc2.weight"] = (CLIP_WIDTH, CLIP_MLP)
        shapes[f"{layer}mlp.fc2.bias"] = (CLIP_WIDTH,)
    shapes[p + "final_layer_norm.weight"] = (CLIP_WIDTH,)
    shapes[p + "final_layer_norm.bias"] = (CLIP_WIDTH,)
    return shapes


def module_shapes(model, prefix):
    return {prefix + name: tuple(p.shape) for name, p in model.state_dict().items()}


def uninitialised(make):
    """Builds a module without running the layers' initialisers (the memory is never touched)."""
    layers = (nn.Linear, nn.Conv2d, nn.GroupNorm, nn.LayerNorm, nn.Embedding)
    saved = {cls: cls.reset_parameters for cls in layers}
    try:
        for cls in layers:
            cls.reset_parameters = lambda self: None
        return make()
    finally:
        for cls, f in saved.items():
            cls.reset_parameters = f


def is_norm(name):
    return any(k in name for k in ("norm", "in_layers.0.", "out_layers.0.", "out.0.", "layer_norm"))


def random_tensor(name, shape, gen):
    if len(shape) == 1:
        value = 1.0 if is_norm(name) and name.endswith(".weight") else 0.0
        return torch.full(shape, value, dtype=torch.float16)
    if "embedding" in name:
        return (torch.randn(shape, generator=gen) * 0.02).to(torch.float16)
    fan_in = 1
    for d in shape[1:]:
        fan_in *= d
    return (torch.randn(shape, generator=gen) / fan_in ** 0.5).to(torch.float16)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    shapes = module_shapes(uninitialised(lambda: unet.UNetModel(**unet.SD15_CONFIG)), "model.diffusion_model.")
    shapes.update(module_shapes(uninitialised(lambda: vae.AutoencoderKL(**vae.SD15_CONFIG)), "first_stage_model."))
    shapes.update(clip_shapes())

    header = {"__metadata__": {"format": "pt", "generator": "aigc make_sd15_random.py"}}
    offset = 0
    names = sorted(shapes)
    for name in names:
        n = 2
        for d in shapes[name]:
            n *= d
        header[name] = {"dtype": "F16", "shape": list(shapes[name]), "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    gen = torch.Generator().manual_seed(args.seed)
    with open(args.out, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in names:
            f.write(random_tensor(name, shapes[name], gen).numpy().tobytes())
    params = sum(header[n]["data_offsets"][1] - header[n]["data_offsets"][0] for n in names) // 2
    print(f"{args.out}: {len(names)} tensors, {params / 1e6:.1f} M parameters, {offset / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
