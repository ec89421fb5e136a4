#!/usr/bin/python3
"""Writes the end-to-end test files of the image pipeline (pipeline_test.cpp
and the CLI test read them) into OUT_DIR/sd/:

  sd_tiny.safetensors   a tiny random SD 1.x checkpoint, F32, single file in the
                        original layout: UNet unet.SMALL_CONFIG under
                        `model.diffusion_model.` (unet_ref.random_model), VAE
                        vae.SMALL_CONFIG under `first_stage_model.`
                        (vae_ref.small_model), a 2-layer CLIP text encoder of
                        width 64 (the UNet's context, one head) with the full
                        49408-id vocabulary under `cond_stage_model.transformer.`
                        (clip_text.random_model)
  noise.npy             float32 [1, 4, 6, 8]: the initial latent (torch.randn, seed 7)
  image.npy             float32 [1, 3, 48, 64]: the VAE output of the run below, unclamped
  image.png             its 8-bit RGB: round(clamp((x + 1) / 2, 0, 1) * 255)
  reference.json        the run's settings and the token ids used

The run: txt2img 64x48, Euler, normal spacing, 4 steps, cfg 7, from noise.npy,
prompt "an astronaut riding a horse on mars, 4k, trending on artstation",
negative "A Red CAR, parked on the street!!!". The ids of both are the
original tokenizer's, taken from ../shared/data/clip/tokenizer_cases.json
(no C++ involved); each is one 77-id window: start, ids, end padding,
encoded with the web UI's conditioning (clip_text.encode_pair, all weights 1).
Everything is computed in float64 from the F32 weights with the project's
reference modules (clip_text.py, unet.py, vae.py, samplers.py):
  cond, uncond = CLIP(window)                     last layer, final_layer_norm, x mean/mean
  eps(x_in, t) = e_u + 7 (e_c - e_u),  [e_u, e_c] = UNet([x_in, x_in], [t, t], [uncond, cond])
  latent = samplers.sample(euler, 4 steps, normal)   (x = noise * sigma_max first)
  image = VAE.decode(latent / 0.18215)

Usage: /usr/bin/python3 tools/reference/image/sd_ref.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import clip_text  # noqa: E402
import samplers  # noqa: E402
import unet  # noqa: E402
import unet_ref  # noqa: E402
import vae_ref  # noqa: E402
from write_safetensors import write_safetensors  # noqa: E402

CASES = os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "clip", "tokenizer_cases.json")
PROMPT = "an astronaut riding a horse on mars, 4k, trending on artstation"
NEGATIVE = "A Red CAR, parked on the street!!!"
WIDTH, HEIGHT, STEPS, CFG = 64, 48, 4, 7.0
LATENT_SCALE = 0.18215
# The UNet's context width, 64, is one CLIP head of 64.
CLIP_CONFIG = dict(vocab=49408, n_positions=77, dim=64, n_layers=2, n_heads=1, ffn_dim=128)


def main():
    out = os.path.join(sys.argv[1], "sd")
    os.makedirs(out, exist_ok=True)
    with open(CASES, encoding="utf-8") as f:
        cases = {c["text"]: c["ids"] for c in json.load(f)["cases"]}
    prompt_ids, negative_ids = cases[PROMPT], cases[NEGATIVE]

    # Random weights at realistic spreads, as each component's reference draws them.
    text = clip_text.random_model(CLIP_CONFIG, seed=2024)
    denoiser = unet_ref.random_model(unet.SMALL_CONFIG, seed=2025).eval()
    autoencoder = vae_ref.small_model()

    tensors = {}
    for prefix, model in (("cond_stage_model.transformer.", text), ("model.diffusion_model.", denoiser),
                          ("first_stage_model.", autoencoder)):
        tensors.update({prefix + k: v.detach().float().contiguous() for k, v in model.state_dict().items()
                        if v.is_floating_point()})
    write_safetensors(os.path.join(out, "sd_tiny.safetensors"), tensors, {"format": "pt"})

    text, denoiser, autoencoder = text.double(), denoiser.double(), autoencoder.double()
    h, w = HEIGHT // 8, WIDTH // 8
    noise = torch.randn(1, 4, h, w, generator=torch.Generator().manual_seed(7), dtype=torch.float32)
    np.save(os.path.join(out, "noise.npy"), noise.numpy().astype("<f4"))

    with torch.no_grad():
        cond, uncond = clip_text.encode_pair(text, clip_text.window_ids(prompt_ids, [1.0] * len(prompt_ids)),
                                             clip_text.window_ids(negative_ids, [1.0] * len(negative_ids)), 1)
        context = torch.stack([uncond, cond])  # [2, 77, 64]

        def eps_model(x_in, t):
            x2 = torch.cat([x_in, x_in])
            e = denoiser(x2, torch.tensor([t, t], dtype=torch.float64), context)
            return e[0:1] + CFG * (e[1:2] - e[0:1])

        def no_noise():
            raise AssertionError("Euler draws no noise")

        sched = samplers.Schedule()
        latent, evals = samplers.sample(sched, "euler", STEPS, "normal", eps_model, no_noise, noise.double())
        assert evals == STEPS
        image = autoencoder.decode(latent / LATENT_SCALE)  # [1, 3, 48, 64]
    np.save(os.path.join(out, "image.npy"), image.float().numpy().astype("<f4"))
    pixels = torch.round(torch.clamp((image[0] + 1) / 2, 0, 1) * 255).to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(pixels, "RGB").save(os.path.join(out, "image.png"))
    with open(os.path.join(out, "reference.json"), "w", encoding="utf-8") as f:
        json.dump({"prompt": PROMPT, "negative": NEGATIVE, "prompt_ids": prompt_ids, "negative_ids": negative_ids,
                   "width": WIDTH, "height": HEIGHT, "steps": STEPS, "cfg": CFG, "sampler": "euler",
                   "spacing": "normal", "latent_scale": LATENT_SCALE,
                   "image_range": [float(image.min()), float(image.max())]}, f, indent=1)


if __name__ == "__main__":
    main()
