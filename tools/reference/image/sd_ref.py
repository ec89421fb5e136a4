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
  sd_inpaint_tiny.safetensors   the same checkpoint with a 9-channel UNet (unet.SMALL_CONFIG,
                        in_channels 9, its own random weights): an SD 1.5 inpainting checkpoint in small
  inpaint_init.png      8-bit RGB 64x48: the image to inpaint (a colour pattern)
  inpaint_mask.png      8-bit gray 64x48, white = repaint: a disc whose soft edge (gray levels)
                        does not follow the 8-pixel grid, so the mask conventions below matter
  inpaint_image.npy     float32 [1, 3, 48, 64]: the VAE output of the inpainting run below
  lora_partial.safetensors   a kohya LoRA with one text-encoder module that matches and one
                        UNet module that does not (lora_unet_label_emb_0_0, an SDXL name)
  lora_foreign.safetensors   a kohya LoRA none of whose keys names a weight of these checkpoints

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

The inpainting run (the 9-channel UNet input, as the diffusers inpainting
pipeline and the web UI build it): img2img from inpaint_init.png at strength
0.75 (Euler, normal, 4 steps: the last 3 run), the same prompts, cfg and noise:
  init = pixels * 2 / 255 - 1                     [1, 3, 48, 64]
  m = mask / 255 >= 0.5                           binarized (diffusers' mask_processor; the web
                                                  UI rounds, the same on 8-bit levels)
  masked = init * (1 - m)                         repainted pixels become 0 (gray)
  mask_latent = interpolate(m, (6, 8), nearest)   pixel (8y, 8x) of each 8x8 block
  masked_latent = VAE.encode(masked).mean * 0.18215   (the posterior mean: diffusers and the
                                                  web UI draw a sample; the mean is deterministic)
  x = VAE.encode(init).mean * 0.18215 + noise * sigmas[1]
  eps(x_in, t) from UNet(cat([x_in, mask_latent, masked_latent])) with guidance as above
  image = VAE.decode(sample(...) / 0.18215)       (no latent masking with a 9-channel UNet)

Usage: /usr/bin/python3 tools/reference/image/sd_ref.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import clip_text  # noqa: E402
import lora  # noqa: E402
import samplers  # noqa: E402
import unet  # noqa: E402
import unet_ref  # noqa: E402
import vae_ref  # noqa: E402
from write_safetensors import write_safetensors  # noqa: E402

CASES = os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "clip", "tokenizer_cases.json")
PROMPT = "an astronaut riding a horse on mars, 4k, trending on artstation"
NEGATIVE = "A Red CAR, parked on the street!!!"
WIDTH, HEIGHT, STEPS, CFG = 64, 48, 4, 7.0
INPAINT_STRENGTH = 0.75
LATENT_SCALE = 0.18215
# The UNet's context width, 64, is one CLIP head of 64.
CLIP_CONFIG = dict(vocab=49408, n_positions=77, dim=64, n_layers=2, n_heads=1, ffn_dim=128)


def write_checkpoint(path, text, denoiser, autoencoder):
    tensors = {}
    for prefix, model in (("cond_stage_model.transformer.", text), ("model.diffusion_model.", denoiser),
                          ("first_stage_model.", autoencoder)):
        tensors.update({prefix + k: v.detach().float().contiguous() for k, v in model.state_dict().items()
                        if v.is_floating_point()})
    write_safetensors(path, tensors, {"format": "pt"})


def write_loras(out):
    g = torch.Generator().manual_seed(11)
    rnd = lambda *shape: torch.randn(*shape, generator=g) * 0.1  # noqa: E731
    dim = CLIP_CONFIG["dim"]
    partial = {}
    lora.lora_module(partial, lora.kohya_key("te", "text_model.encoder.layers.0.self_attn.q_proj"), rnd(dim, 2),
                     rnd(2, dim), alpha=1)
    lora.lora_module(partial, "lora_unet_label_emb_0_0", rnd(8, 2), rnd(2, 8), alpha=1)
    write_safetensors(os.path.join(out, "lora_partial.safetensors"), partial, {"format": "pt"})
    foreign = {}
    lora.lora_module(foreign, "lora_te2_text_model_encoder_layers_0_self_attn_q_proj", rnd(dim, 2), rnd(2, dim), alpha=1)
    lora.lora_module(foreign, "lora_unet_label_emb_0_0", rnd(8, 2), rnd(2, 8), alpha=1)
    write_safetensors(os.path.join(out, "lora_foreign.safetensors"), foreign, {"format": "pt"})


def inpaint_inputs():
    """The image to inpaint (uint8 [48, 64, 3]) and the mask (uint8 [48, 64], white = repaint): a disc
    centred off the 8-pixel grid with a 6-pixel soft edge."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    init = np.stack([(4 * x + 3 * y) % 256, (128 + 2 * x - 5 * y) % 256, (x * y) % 256], axis=-1).astype(np.uint8)
    radius = np.hypot(x - 37.3, y - 21.6)
    mask = np.clip((17.0 - radius) * 40.0 + 128.0, 0, 255).astype(np.uint8)
    return init, mask


def main():
    out = os.path.join(sys.argv[1], "sd")
    if not os.path.exists(CASES):
        # A clone without ../shared (a user's): no token ids, so no reference; the tests that need it skip.
        print(f"sd_ref.py: {CASES} is absent; the tiny SD reference is not written", file=sys.stderr)
        return
    os.makedirs(out, exist_ok=True)
    with open(CASES, encoding="utf-8") as f:
        cases = {c["text"]: c["ids"] for c in json.load(f)["cases"]}
    prompt_ids, negative_ids = cases[PROMPT], cases[NEGATIVE]

    # Random weights at realistic spreads, as each component's reference draws them.
    text = clip_text.random_model(CLIP_CONFIG, seed=2024)
    denoiser = unet_ref.random_model(unet.SMALL_CONFIG, seed=2025).eval()
    autoencoder = vae_ref.small_model()
    inpainter = unet_ref.random_model(dict(unet.SMALL_CONFIG, in_channels=9), seed=2026).eval()
    write_checkpoint(os.path.join(out, "sd_tiny.safetensors"), text, denoiser, autoencoder)
    write_checkpoint(os.path.join(out, "sd_inpaint_tiny.safetensors"), text, inpainter, autoencoder)
    write_loras(out)

    text, denoiser, autoencoder = text.double(), denoiser.double(), autoencoder.double()
    inpainter = inpainter.double()
    h, w = HEIGHT // 8, WIDTH // 8
    noise = torch.randn(1, 4, h, w, generator=torch.Generator().manual_seed(7), dtype=torch.float32)
    np.save(os.path.join(out, "noise.npy"), noise.numpy().astype("<f4"))

    with torch.no_grad():
        cond, uncond = clip_text.encode_pair(text, clip_text.window_ids(prompt_ids, [1.0] * len(prompt_ids)),
                                             clip_text.window_ids(negative_ids, [1.0] * len(negative_ids)), 1)
        context = torch.stack([uncond, cond])  # [2, 77, 64]

        def guided(model, extra_channels):
            def eps_model(x_in, t):
                x = torch.cat([x_in] + extra_channels, dim=1)
                e = model(torch.cat([x, x]), torch.tensor([t, t], dtype=torch.float64), context)
                return e[0:1] + CFG * (e[1:2] - e[0:1])
            return eps_model

        eps_model = guided(denoiser, [])

        def no_noise():
            raise AssertionError("Euler draws no noise")

        sched = samplers.Schedule()
        latent, evals = samplers.sample(sched, "euler", STEPS, "normal", eps_model, no_noise, noise.double())
        assert evals == STEPS
        image = autoencoder.decode(latent / LATENT_SCALE)  # [1, 3, 48, 64]

        init_pixels, mask_pixels = inpaint_inputs()
        Image.fromarray(init_pixels, "RGB").save(os.path.join(out, "inpaint_init.png"))
        Image.fromarray(mask_pixels, "L").save(os.path.join(out, "inpaint_mask.png"))
        init = torch.from_numpy(init_pixels).permute(2, 0, 1)[None].double() * (2 / 255) - 1
        m = (torch.from_numpy(mask_pixels)[None, None].double() / 255 >= 0.5).double()
        masked_latent = autoencoder.encode(init * (1 - m))[0] * LATENT_SCALE
        mask_latent = F.interpolate(m, size=(h, w), mode="nearest")
        init_latent = autoencoder.encode(init)[0] * LATENT_SCALE
        inpainted, _ = samplers.sample(sched, "euler", STEPS, "normal", guided(inpainter, [mask_latent, masked_latent]),
                                       no_noise, init_latent, strength=INPAINT_STRENGTH, noise=noise.double())
        inpaint_image = autoencoder.decode(inpainted / LATENT_SCALE)
    np.save(os.path.join(out, "image.npy"), image.float().numpy().astype("<f4"))
    np.save(os.path.join(out, "inpaint_image.npy"), inpaint_image.float().numpy().astype("<f4"))
    pixels = torch.round(torch.clamp((image[0] + 1) / 2, 0, 1) * 255).to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(pixels, "RGB").save(os.path.join(out, "image.png"))
    with open(os.path.join(out, "reference.json"), "w", encoding="utf-8") as f:
        json.dump({"prompt": PROMPT, "negative": NEGATIVE, "prompt_ids": prompt_ids, "negative_ids": negative_ids,
                   "width": WIDTH, "height": HEIGHT, "steps": STEPS, "cfg": CFG, "sampler": "euler",
                   "spacing": "normal", "latent_scale": LATENT_SCALE,
                   "image_range": [float(image.min()), float(image.max())],
                   "inpaint": {"strength": INPAINT_STRENGTH, "mask_latent": mask_latent[0, 0].tolist(),
                               "image_range": [float(inpaint_image.min()), float(inpaint_image.max())]}},
                  f, indent=1)


if __name__ == "__main__":
    main()
