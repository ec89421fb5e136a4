"""Trains the default image model on the generated shapes data set (shapes.py),
on the CPU, seeded: first the VAE, then the UNet and the CLIP text encoder
together. The modules are the project's PyTorch references
(tools/reference/image/{vae,unet,clip_text}.py), so the trained weights are
what the C++ engine runs.

1. data: --images training scenes (64 x 64) and their captions; the tokenizer
   (clip_vocab.py) learned from the training captions.
2. VAE (AutoencoderKL with three levels, 4x down, so a 64 x 64 image has
   16 x 16 latents: at 8x down the small shapes, 2 latent pixels wide, came
   back as blobs): L1 + L2 reconstruction plus a small KL term, AdamW, on
   whole images: the captioned training images mixed half and half with
   uncaptioned images of random-coloured shapes on random-coloured
   backgrounds (shapes.codec_images: a codec must reproduce any colour pair,
   not only the pairs of the captions). GroupNorm with 8 groups (4 channels
   each at width 32): with SD's 32 groups every channel is normalised on its
   own, which couples the colours of shape and background (trained so, the
   VAE turned held-out pairs such as red on green brownish, with droplet
   artifacts). Then the latents of all training images (posterior means) and an
   exact reparametrisation (quant_conv's mean rows times k, its log-variance
   bias + 2 ln k, post_quant_conv's weight / k) that makes latent * 0.18215
   (SD 1.x's fixed scaling factor) of unit standard deviation.
3. UNet + text encoder: epsilon prediction on the SD scaled-linear schedule
   (betas 0.00085..0.012, 1000 steps, t uniform; min-SNR loss weighting,
   gamma 5, Hang et al. 2023; offset noise 0.3, Guttenberg 2023), captions replaced by the
   empty prompt 10% of the time (for classifier-free guidance), AdamW with
   warm-up and cosine decay, and an exponential moving average of the weights
   (what is exported).
4. The decoder alone (encoder frozen, so the UNet's latents stay valid) on
   the latents plus a little noise, of the same half-and-half mix: sharper
   shapes and truer colours than the VAE's own training gives in the time;
   it runs beside the UNet's training (--part).

usage: /usr/bin/python3 train_image_model.py WORK_DIR [--images N] [--vae-steps N] [--codec-images N]
       [--unet-steps N] [--unet-lr LR] [--decoder-steps N] [--part all|vae|unet|decoder]
WORK_DIR holds data.npz, codec.npz, tokenizer/, vae.pt, latents.pt, unet.pt, decoder.pt (checkpoints
every --save-every steps; an existing one is resumed, a finished stage skipped)
and log.tsv.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "reference", "image"))
import clip_text  # noqa: E402
import unet  # noqa: E402
import vae  # noqa: E402

import check_image_prompts  # noqa: E402
import clip_vocab  # noqa: E402
import shapes  # noqa: E402

VAE_CONFIG = dict(ch=32, ch_mult=(1, 1, 2), num_res_blocks=1, z_channels=4, embed_dim=4, norm_groups=8)
# Three levels (16, 8, 4 latent pixels), the spatial transformers on the two coarser ones (attention over the
# 256 pixels of the first level doubled the step time).
UNET_CONFIG = dict(in_channels=4, out_channels=4, model_channels=32, channel_mult=(1, 2, 2), n_res_blocks=1,
                   attention_levels=(1, 2), context_dim=64, n_heads=4, transformer_depth=1, norm_groups=8)
CLIP_LAYERS, CLIP_DIM, CLIP_FFN = 1, 64, 128  # one head of 64 (clip_text.HEAD_DIM)
LATENT_SCALE = 0.18215
TRAIN_STEPS, BETA_START, BETA_END = 1000, 0.00085, 0.012
CAPTION_DROPOUT = 0.1
MIN_SNR_GAMMA = 5.0
OFFSET_NOISE = 0.3


def clip_config(vocab_size):
    return dict(vocab=vocab_size, n_positions=77, dim=CLIP_DIM, n_layers=CLIP_LAYERS, n_heads=CLIP_DIM // 64,
                ffn_dim=CLIP_FFN)


def alphas_cumprod():
    betas = torch.linspace(BETA_START ** 0.5, BETA_END ** 0.5, TRAIN_STEPS, dtype=torch.float64) ** 2
    return torch.cumprod(1 - betas, 0).float()


def log(work, line):
    print(line, flush=True)
    with open(os.path.join(work, "log.tsv"), "a") as f:
        f.write(line + "\n")


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup))))


def save(path, state):
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)


# ---- data -----------------------------------------------------------------------------------------------

def make_data(work, n_images):
    path = os.path.join(work, "data.npz")
    if not os.path.exists(path):
        images, captions = shapes.training_images(n_images, seed=1)
        np.savez(path, images=images, captions=np.array(captions))
    data = np.load(path)
    images = torch.from_numpy(data["images"]).permute(0, 3, 1, 2).float() / 127.5 - 1  # [n, 3, 64, 64] in [-1, 1]
    captions = [str(c) for c in data["captions"]]
    tok_dir = os.path.join(work, "tokenizer")
    if not os.path.exists(os.path.join(tok_dir, "merges.txt")):
        clip_vocab.ClipVocab(clip_vocab.learn_merges(sorted(set(captions)))).write_diffusers_folder(tok_dir)
    return images, captions, clip_vocab.ClipVocab(clip_vocab.read_merges(tok_dir))


def make_codec_data(work, n_images):
    path = os.path.join(work, "codec.npz")
    if not os.path.exists(path):
        np.savez(path, images=shapes.codec_images(n_images, seed=4))
    return torch.from_numpy(np.load(path)["images"]).permute(0, 3, 1, 2).float() / 127.5 - 1


# ---- VAE ------------------------------------------------------------------------------------------------

def train_vae(work, images, steps, peak_lr=2e-3, batch=8, kl_weight=1e-6, save_every=200):
    """Trains the VAE on whole images from random weights; checkpoint WORK/vae.pt."""
    name = "vae"
    path = os.path.join(work, name + ".pt")
    torch.manual_seed(2)
    model = vae.AutoencoderKL(**VAE_CONFIG)
    opt = torch.optim.AdamW(model.parameters(), lr=peak_lr, weight_decay=0.0)
    step = 0
    if os.path.exists(path):
        state = torch.load(path)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
    if step >= steps:
        return model.eval()
    log(work, f"{name}: {sum(p.numel() for p in model.parameters())} parameters, from step {step} of {steps}")
    start, smoothed = time.time(), None
    while step < steps:
        g = torch.Generator().manual_seed(1000 + step)
        idx = torch.randint(0, images.shape[0], (batch,), generator=g)
        x = images[idx]
        mean, logvar = model.encode(x)
        z = mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=g)
        rec = model.decode(z)
        kl = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).sum(dim=(1, 2, 3)).mean()
        loss = (rec - x).abs().mean() + ((rec - x) ** 2).mean() + kl_weight * kl
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, peak_lr, 50)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        smoothed = loss.item() if smoothed is None else 0.95 * smoothed + 0.05 * loss.item()
        if step % 50 == 0 or step == steps:
            log(work, f"{name}\t{step}\t{smoothed:.4f}\t{time.time() - start:.0f}s")
        if step % save_every == 0 or step == steps:
            save(path, {"model": model.state_dict(), "opt": opt.state_dict(), "step": step})
    return model.eval()


def scale_latents(model, latents):
    """Reparametrises the VAE so that its latents * LATENT_SCALE have unit standard deviation; returns them."""
    k = 1.0 / (LATENT_SCALE * latents.std().item())
    c = VAE_CONFIG["embed_dim"]
    with torch.no_grad():
        model.quant_conv.weight[:c] *= k
        model.quant_conv.bias[:c] *= k
        model.quant_conv.bias[c:] += 2 * math.log(k)
        model.post_quant_conv.weight /= k
    return latents * k


def reconstruction_check(work, name, model, count=100):
    """Logs how the prompt-adherence checker classifies the VAE's reconstructions (encode, decode, no
    diffusion) of `count` held-out scenes: they bound what the whole model can score."""
    scenes = shapes.held_out_scenes(count)
    x = torch.from_numpy(np.stack([shapes.render(s) for s in scenes])).permute(0, 3, 1, 2).float() / 127.5 - 1
    with torch.no_grad():
        rec = model.decode(model.encode(x)[0])
    rgb = ((rec.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    figures = check_image_prompts.score(scenes, [check_image_prompts.classify(im) for im in rgb])
    log(work, f"{name} reconstructions of {count} held-out scenes: " +
        ", ".join(f"{p} {v * 100:.0f}%" for p, v in figures.items()))


def encode_all(work, model, images):
    path = os.path.join(work, "latents.pt")
    if os.path.exists(path):
        state = torch.load(path)
        model.load_state_dict(state["vae"])
        return state["latents"]
    with torch.no_grad():
        latents = torch.cat([model.encode(images[i:i + 64])[0] for i in range(0, images.shape[0], 64)])
        latents = scale_latents(model, latents)
        rec = torch.cat([model.decode(latents[i:i + 64]) for i in range(0, 512, 64)])
    log(work, f"vae: latent std x {LATENT_SCALE} = {(latents * LATENT_SCALE).std().item():.3f}, "
              f"reconstruction L1 on 512 images {(rec.clamp(-1, 1) - images[:512]).abs().mean().item() * 127.5:.2f}"
              " / 255")
    reconstruction_check(work, "vae", model)
    save(path, {"latents": latents, "vae": model.state_dict()})
    return latents


def train_decoder(work, model, images, latents, steps, batch=8, peak_lr=1e-3, latent_noise=0.05, save_every=200):
    """Fine-tunes the decoder (and post_quant_conv) with the encoder frozen, so the latents the UNet learns stay
    valid: images from their latents plus a little noise (latent_noise x their standard deviation), L1 + L2.
    Checkpoint WORK/decoder.pt."""
    path = os.path.join(work, "decoder.pt")
    params = list(model.decoder.parameters()) + list(model.post_quant_conv.parameters())
    opt = torch.optim.AdamW(params, lr=peak_lr, weight_decay=0.0)
    step = 0
    if os.path.exists(path):
        state = torch.load(path)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
    if step >= steps:
        return model.eval()
    log(work, f"decoder: from step {step} of {steps}")
    sigma = latent_noise * latents.std().item()
    start, smoothed = time.time(), None
    while step < steps:
        g = torch.Generator().manual_seed(9000 + step)
        idx = torch.randint(0, images.shape[0], (batch,), generator=g)
        x = images[idx]
        rec = model.decode(latents[idx] + sigma * torch.randn(latents[idx].shape, generator=g))
        loss = (rec - x).abs().mean() + ((rec - x) ** 2).mean()
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, peak_lr, 50)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        smoothed = loss.item() if smoothed is None else 0.95 * smoothed + 0.05 * loss.item()
        if step % 50 == 0 or step == steps:
            log(work, f"decoder\t{step}\t{smoothed:.4f}\t{time.time() - start:.0f}s")
        if step % save_every == 0 or step == steps:
            save(path, {"model": model.state_dict(), "opt": opt.state_dict(), "step": step})
    return model.eval()


# ---- UNet + text encoder --------------------------------------------------------------------------------

class Denoiser(torch.nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.unet = unet.UNetModel(**UNET_CONFIG)
        self.text = clip_text.CLIPTextModel(**clip_config(vocab_size))

    def forward(self, x, t, ids):
        return self.unet(x, t, self.text(ids))


def train_unet(work, latents, captions, vocab, steps, peak_lr, batch=32, ema_decay=0.998, save_every=100):
    path = os.path.join(work, "unet.pt")
    torch.manual_seed(3)
    model = Denoiser(len(vocab))
    with torch.no_grad():
        model.text.text_model.embeddings.token_embedding.weight.normal_(0, 0.02)
        model.text.text_model.embeddings.position_embedding.weight.normal_(0, 0.01)
    ema = Denoiser(len(vocab))
    ema.load_state_dict(model.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=peak_lr, weight_decay=0.01)
    step = 0
    if os.path.exists(path):
        state = torch.load(path)
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
    if step >= steps:
        return ema.eval()
    log(work, f"unet: {sum(p.numel() for p in model.unet.parameters())} + text encoder "
              f"{sum(p.numel() for p in model.text.parameters())} parameters, from step {step} of {steps}")
    ids = torch.tensor([vocab.window(c) for c in captions])
    empty = torch.tensor(vocab.window(""))
    ac = alphas_cumprod()
    start, smoothed = time.time(), None
    while step < steps:
        g = torch.Generator().manual_seed(5000 + step)
        idx = torch.randint(0, latents.shape[0], (batch,), generator=g)
        x0 = latents[idx] * LATENT_SCALE
        t = torch.randint(0, TRAIN_STEPS, (batch,), generator=g)
        # Offset noise: a per-channel constant in the noise, so that the noisy latent's mean (which SD's
        # schedule leaves 7% of the image's in at t = 999) no longer tells the background colour: sampling
        # starts from pure noise, whose mean is random, and the model must take the colour from the prompt.
        eps = torch.randn(x0.shape, generator=g) + OFFSET_NOISE * torch.randn(x0.shape[:2] + (1, 1), generator=g)
        a = ac[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        cond = ids[idx].clone()
        cond[torch.rand(batch, generator=g) < CAPTION_DROPOUT] = empty
        # Min-SNR weighting: the per-sample loss x min(SNR, gamma) / SNR, so that the nearly clean steps (high
        # SNR, easy) do not dominate the gradient over the noisy ones that decide colours and shapes.
        snr = ac[t] / (1 - ac[t])
        weight = snr.clamp(max=MIN_SNR_GAMMA) / snr
        loss = (weight * ((model(xt, t.float(), cond) - eps) ** 2).mean(dim=(1, 2, 3))).mean()
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, peak_lr, 100)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        d = min(ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(p, alpha=1 - d)
        smoothed = loss.item() if smoothed is None else 0.98 * smoothed + 0.02 * loss.item()
        if step % 50 == 0 or step == steps:
            log(work, f"unet\t{step}\t{smoothed:.4f}\t{time.time() - start:.0f}s")
        if step % save_every == 0 or step == steps:
            save(path, {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step})
    return ema.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--images", type=int, default=20000)
    ap.add_argument("--vae-steps", type=int, default=1500)
    ap.add_argument("--codec-images", type=int, default=10000)
    ap.add_argument("--unet-steps", type=int, default=3000)
    ap.add_argument("--unet-lr", type=float, default=1e-3)
    ap.add_argument("--decoder-steps", type=int, default=3400)
    ap.add_argument("--part", choices=["all", "vae", "unet", "decoder"], default="all",
                    help="after the latents: both stages (one after the other) or one of them (they are "
                         "independent, so two processes can run them at once)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.work, exist_ok=True)
    images, captions, vocab = make_data(args.work, args.images)
    codec = make_codec_data(args.work, args.codec_images)
    autoencoder = train_vae(args.work, torch.cat([images[:codec.shape[0]], codec]), args.vae_steps)
    latents = encode_all(args.work, autoencoder, images)
    if args.part in ("all", "unet"):
        train_unet(args.work, latents, captions, vocab, args.unet_steps, args.unet_lr)
    if args.part in ("all", "decoder"):
        with torch.no_grad():
            codec_latents = torch.cat([autoencoder.encode(codec[i:i + 64])[0] for i in range(0, codec.shape[0], 64)])
        n = codec.shape[0]
        train_decoder(args.work, autoencoder, torch.cat([images[:n], codec]), torch.cat([latents[:n], codec_latents]),
                      args.decoder_steps)
        reconstruction_check(args.work, "decoder", autoencoder)
    log(args.work, "done")


if __name__ == "__main__":
    main()
