#!/usr/bin/python3
"""Test of the shipped default image model (ctest default_image_model): that
`aigc image` loads the diffusers folder and generates what the project's
PyTorch reference modules compute from the same files.

1. The folder's weights are read here (safetensors, diffusers names mapped back
   to the ldm names of tools/reference/image/{unet,vae,clip_text}.py by
   inverting export_image_model.py's renaming) and the prompt is tokenized with
   clip_vocab.py from the folder's tokenizer/.
2. Reference: 4 Euler steps (samplers.py), cfg 7, from a seeded noise latent,
   in float64; image = VAE.decode(latent / 0.18215), 8-bit.
3. `aigc image -m FOLDER --noise noise.npy --sampler euler --steps 4` must give
   the same image within 40 dB PSNR, 64 x 64 without -W/-H (the model's own
   size, unet/config.json sample_size x the VAE's scale, 2^(levels - 1)).
4. Without -m, with AIGC_MODELS_DIR naming the models folder, aigc uses this
   model: the same PNG pixels.

usage: test_image_model.py AIGC MODEL_DIR OUT_DIR
"""
import json
import math
import os
import struct
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "reference", "image"))
import clip_text  # noqa: E402
import samplers  # noqa: E402
import unet  # noqa: E402
import vae  # noqa: E402

import clip_vocab  # noqa: E402
import export_image_model as export  # noqa: E402
import train_image_model as tim  # noqa: E402

PROMPT = "a large purple circle on a yellow background, bottom right"
NEGATIVE = ""
STEPS, CFG = 4, 7.0


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] in ("F32", "F16"), f"{path}: {name}: dtype {info['dtype']}"
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=np.float32 if info["dtype"] == "F32" else np.float16)
        out[name] = torch.from_numpy(arr.astype(np.float64).reshape(info["shape"]))
    return out


def load_models(folder):
    vocab = clip_vocab.ClipVocab(clip_vocab.read_merges(os.path.join(folder, "tokenizer")))
    unet_model = unet.UNetModel(**tim.UNET_CONFIG).double()
    names = export.unet_name_map(unet_model.state_dict(), tim.UNET_CONFIG)
    stored = read_safetensors(os.path.join(folder, "unet", "diffusion_pytorch_model.safetensors"))
    unet_model.load_state_dict({k: stored[names[k]] for k in names})

    autoencoder = vae.AutoencoderKL(**tim.VAE_CONFIG).double()
    shapes = {k: v.shape for k, v in autoencoder.state_dict().items()}
    names = export.vae_name_map(shapes, len(tim.VAE_CONFIG["ch_mult"]))
    stored = read_safetensors(os.path.join(folder, "vae", "diffusion_pytorch_model.safetensors"))
    autoencoder.load_state_dict({k: stored[names[k]].reshape(shapes[k]) for k in names})

    text = clip_text.CLIPTextModel(**tim.clip_config(len(vocab))).double()
    text.load_state_dict(read_safetensors(os.path.join(folder, "text_encoder", "model.safetensors")))
    return vocab, unet_model.eval(), autoencoder.eval(), text.eval()


def reference_image(folder, noise):
    vocab, denoiser, autoencoder, text = load_models(folder)
    with torch.no_grad():
        cond = text(torch.tensor([vocab.window(PROMPT)]))
        uncond = text(torch.tensor([vocab.window(NEGATIVE)]))
        context = torch.cat([uncond, cond])

        def eps_model(x_in, t):
            e = denoiser(torch.cat([x_in, x_in]), torch.tensor([t, t], dtype=torch.float64), context)
            return e[0:1] + CFG * (e[1:2] - e[0:1])

        latent, _ = samplers.sample(samplers.Schedule(), "euler", STEPS, "normal", eps_model, None,
                                    torch.from_numpy(noise).double())
        image = autoencoder.decode(latent / tim.LATENT_SCALE)[0]
    return torch.round(torch.clamp((image + 1) / 2, 0, 1) * 255).permute(1, 2, 0).numpy().astype(np.uint8)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def main():
    aigc, folder, out = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    os.makedirs(out, exist_ok=True)
    side = json.load(open(os.path.join(folder, "unet", "config.json")))["sample_size"]
    noise = torch.randn(1, 4, side, side, generator=torch.Generator().manual_seed(11)).numpy().astype("<f4")
    np.save(os.path.join(out, "noise.npy"), noise)
    args = ["image", "-p", PROMPT, "--noise", os.path.join(out, "noise.npy"), "--sampler", "euler",
            "--steps", str(STEPS), "--cfg", str(CFG), "-t", "1"]
    subprocess.run([aigc] + args + ["-m", folder, "-o", os.path.join(out, "given.png")], check=True)
    env = dict(os.environ, AIGC_MODELS_DIR=os.path.dirname(os.path.dirname(folder)))
    subprocess.run([aigc] + args + ["-o", os.path.join(out, "default.png")], check=True, env=env)
    given = np.asarray(Image.open(os.path.join(out, "given.png")).convert("RGB"))
    default = np.asarray(Image.open(os.path.join(out, "default.png")).convert("RGB"))
    expected = reference_image(folder, noise)
    failures = []
    image_side = side * 2 ** (len(json.load(open(os.path.join(folder, "vae", "config.json")))["block_out_channels"]) - 1)
    if given.shape != (image_side, image_side, 3):
        failures.append(f"aigc image without -W/-H: size {given.shape[1]}x{given.shape[0]}, expected {image_side}")
    elif psnr(given, expected) < 40:
        failures.append(f"aigc image vs the PyTorch reference: PSNR {psnr(given, expected):.1f} dB < 40 dB")
    if not np.array_equal(given, default):
        failures.append("aigc image without -m (AIGC_MODELS_DIR) differs from -m MODEL_DIR")
    print(f"image {given.shape[1]}x{given.shape[0]}, PSNR against the PyTorch reference "
          f"{psnr(given, expected):.1f} dB; default model: {'same' if np.array_equal(given, default) else 'differs'}")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
