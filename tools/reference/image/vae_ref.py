#!/usr/bin/python3
"""Writes the VAE test files (vae_test.cpp reads them) into OUT_DIR/vae/:

  small_f32.safetensors, small_f16.safetensors, small_bf16.safetensors
      the small random VAE (vae.SMALL_CONFIG) as a single-file checkpoint would
      store it: every tensor under `first_stage_model.`, all in one dtype.
  cases.safetensors (F32), computed in float64 with vae.py:
      decode_z_{a,b}        latents [4, 8, 8] and [4, 6, 10]
      decode_{f32,f16}_{a,b}    images [3, 64, 64], [3, 48, 80] from the F32 weights
                            and from the weights rounded to F16
      decode_bf16_a         from the weights rounded to BF16
      encode_x_{a,b}        images [3, 64, 64] and [3, 48, 80] in [-1, 1]
      encode_{mean,logvar}_{f32,f16}_{a,b}   [4, 8, 8] and [4, 6, 10]
      tiled_z               latent [4, 20, 12]
      tiled_t8              vae.decode_tiled(tiled_z, tile=8)  [3, 160, 96]
      tiled_full            the untiled decode of tiled_z
      tiled_t8_narrow       vae.decode_tiled(tiled_z[:, :, :6], tile=8): one column of tiles
      flops_decode_a, flops_encode_b   [1] multiply-adds x 2 of decode_z_a and
                            encode_x_b, counted from the modules' shapes as they run

Usage: /usr/bin/python3 tools/reference/image/vae_ref.py OUT_DIR
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vae  # noqa: E402
from write_safetensors import write_safetensors  # noqa: E402

PREFIX = "first_stage_model."


def small_model():
    torch.manual_seed(1234)
    model = vae.AutoencoderKL(**vae.SMALL_CONFIG)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:  # GroupNorm affine: away from the 1 / 0 defaults
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
    return model.eval()


def rounded(model, dtype):
    """A float64 copy of the model with its weights rounded to `dtype`."""
    copy = vae.AutoencoderKL(**vae.SMALL_CONFIG).double().eval()
    copy.load_state_dict({k: v.to(dtype).double() for k, v in model.state_dict().items()})
    return copy


def count_flops(model, run):
    """Multiply-adds x 2 of the convolutions and attention products of run()."""
    total = [0]

    def conv_hook(m, inputs, out):
        total[0] += 2 * out.numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1]

    def attn_hook(m, inputs, out):
        _, c, h, w = inputs[0].shape
        total[0] += 2 * 2 * (h * w) ** 2 * c  # q k^T and p v

    hooks = [m.register_forward_hook(conv_hook if isinstance(m, torch.nn.Conv2d) else attn_hook)
             for m in model.modules() if isinstance(m, (torch.nn.Conv2d, vae.AttnBlock))]
    run()
    for h in hooks:
        h.remove()
    return torch.tensor([float(total[0])])


def main():
    out = os.path.join(sys.argv[1], "vae")
    os.makedirs(out, exist_ok=True)
    model = small_model()
    state = model.state_dict()
    for tag, dtype in (("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16)):
        write_safetensors(os.path.join(out, f"small_{tag}.safetensors"),
                          {PREFIX + k: v.to(dtype).contiguous() for k, v in state.items()}, {"format": "pt"})

    models = {tag: rounded(model, dtype) for tag, dtype in
              (("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16))}
    gen = torch.Generator().manual_seed(99)
    cases = {}
    with torch.no_grad():
        for case, (h, w) in (("a", (8, 8)), ("b", (6, 10))):
            z = torch.randn(1, 4, h, w, generator=gen, dtype=torch.float64)
            cases[f"decode_z_{case}"] = z[0]
            for tag in ("f32", "f16") + (("bf16",) if case == "a" else ()):
                cases[f"decode_{tag}_{case}"] = models[tag].decode(z)[0]
        for case, (H, W) in (("a", (64, 64)), ("b", (48, 80))):
            # A smooth image plus noise, in [-1, 1].
            yy, xx = torch.meshgrid(torch.linspace(0, 1, H, dtype=torch.float64),
                                    torch.linspace(0, 1, W, dtype=torch.float64), indexing="ij")
            base = torch.stack([torch.sin(3 * xx + 2 * yy), torch.cos(5 * yy), xx * yy * 2 - 1])
            noise = torch.rand(3, H, W, generator=gen, dtype=torch.float64) * 0.4 - 0.2
            x = torch.clamp(base + noise, -1, 1)[None]
            cases[f"encode_x_{case}"] = x[0]
            for tag in ("f32", "f16"):
                mean, logvar = models[tag].encode(x)
                cases[f"encode_mean_{tag}_{case}"] = mean[0]
                cases[f"encode_logvar_{tag}_{case}"] = logvar[0]
        z = torch.randn(1, 4, 20, 12, generator=gen, dtype=torch.float64)
        cases["tiled_z"] = z[0]
        cases["tiled_t8"] = vae.decode_tiled(models["f32"], z, 8)[0]
        cases["tiled_full"] = models["f32"].decode(z)[0]
        cases["tiled_t8_narrow"] = vae.decode_tiled(models["f32"], z[:, :, :, :6].contiguous(), 8)[0]
        cases["flops_decode_a"] = count_flops(models["f32"], lambda: models["f32"].decode(cases["decode_z_a"][None]))
        cases["flops_encode_b"] = count_flops(models["f32"], lambda: models["f32"].encode(cases["encode_x_b"][None]))
    write_safetensors(os.path.join(out, "cases.safetensors"),
                      {k: v.float().contiguous() for k, v in cases.items()}, {"format": "pt"})
    mse = torch.mean((cases["tiled_t8"] - cases["tiled_full"]) ** 2).item()
    print(f"vae_ref: tiled (8) vs untiled PSNR {10 * math.log10(4 / mse):.1f} dB (peak-to-peak 2)")


if __name__ == "__main__":
    main()
