#!/usr/bin/python3
"""Writes the UNet test files (unet_test.cpp reads them) into OUT_DIR/unet/:

  small_{f32,f16,bf16}.safetensors
      the small random UNet (unet.SMALL_CONFIG) as a single-file checkpoint
      stores it: every tensor under `model.diffusion_model.`, all in one dtype.
  inpaint_f32.safetensors
      the small 9-channel UNet (unet.SMALL_INPAINT_CONFIG: three levels, two res
      blocks, two transformer blocks, linear proj_in / proj_out).
  cases.safetensors (F32 but the flops), computed in float64 with unet.py:
      x_a [2, 4, 16, 16], t_a [2], context_a [2, 77, 64]     a batch of two at two timesteps
      out_{f32,f16,bf16}_a [2, 4, 16, 16]   from the F32 weights and from the weights rounded to F16, BF16
      x_b [2, 4, 8, 24], t_b, context_b, out_f32_b   a non-square latent
      x_c [2, 9, 8, 12], t_c, context_c, out_inpaint_c        the 9-channel model
      x_d [2, 4, 33, 31], t_d, context_d, out_f32_d  an odd latent (downsampled to 17 x 16, upsampled
                                            back to 33 x 31), large enough for the Winograd convolutions
      x_e [2, 9, 5, 7], t_e, context_e, out_inpaint_e  an odd latent through three levels (5x7, 3x4, 2x2)
      flops_a, flops_c, flops_d [1] I64   multiply-adds x 2 of the forward passes of cases a, c and d,
                             counted by unet.py as the layers run

Usage: /usr/bin/python3 tools/reference/image/unet_ref.py OUT_DIR
"""
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import unet  # noqa: E402
from write_safetensors import write_safetensors  # noqa: E402

PREFIX = "model.diffusion_model."


def random_model(config, seed):
    """Random weights at scales that keep activations O(1) (the zero-initialised
    output convs of the original would hide half of each block)."""
    torch.manual_seed(seed)
    model = unet.UNetModel(**config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                p.copy_(torch.randn_like(p) / p[0].numel() ** 0.5)
            elif "norm" in name or name.startswith("out.0") or ".in_layers.0" in name or ".out_layers.0" in name:
                p.copy_((1 + 0.1 * torch.randn_like(p)) if name.endswith("weight") else 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.1 * torch.randn_like(p))
    return model


def as_float64(model, dtype):
    """A float64 copy of `model` with its weights rounded to `dtype` first."""
    m = copy.deepcopy(model)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(p.to(dtype).to(torch.float32))
    return m.double()


def checkpoint(model, dtype):
    return {PREFIX + k: v.detach().to(dtype).contiguous() for k, v in model.state_dict().items()}


def inputs(gen, channels, h, w, context_dim, timesteps):
    x = torch.randn(2, channels, h, w, generator=gen)
    t = torch.tensor(timesteps, dtype=torch.float32)
    context = torch.randn(2, 77, context_dim, generator=gen)
    return x, t, context


def run(model, x, t, context):
    with torch.no_grad():
        return model(x.double(), t.double(), context.double()).float()


def flop_count(model, x, t, context):
    return torch.tensor([unet.flops(model, x.double(), t.double(), context.double())], dtype=torch.int64)


def main():
    out_dir = os.path.join(sys.argv[1], "unet")
    os.makedirs(out_dir, exist_ok=True)
    small = random_model(unet.SMALL_CONFIG, 1234)
    inpaint = random_model(unet.SMALL_INPAINT_CONFIG, 4321)
    for dtype, name in ((torch.float32, "f32"), (torch.float16, "f16"), (torch.bfloat16, "bf16")):
        write_safetensors(os.path.join(out_dir, f"small_{name}.safetensors"), checkpoint(small, dtype),
                          {"format": "pt"})
    write_safetensors(os.path.join(out_dir, "inpaint_f32.safetensors"), checkpoint(inpaint, torch.float32),
                      {"format": "pt"})

    gen = torch.Generator().manual_seed(99)
    models = {name: as_float64(small, dtype)
              for name, dtype in (("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16))}
    cases = {}
    x, t, context = inputs(gen, 4, 16, 16, 64, [999.0, 1.5])
    cases.update(x_a=x, t_a=t, context_a=context)
    for name, model in models.items():
        cases[f"out_{name}_a"] = run(model, x, t, context)
    cases["flops_a"] = flop_count(models["f32"], x, t, context)

    x, t, context = inputs(gen, 4, 8, 24, 64, [500.0, 20.25])
    cases.update(x_b=x, t_b=t, context_b=context)
    cases["out_f32_b"] = run(models["f32"], x, t, context)

    inpaint64 = as_float64(inpaint, torch.float32)
    x, t, context = inputs(gen, 9, 8, 12, 64, [250.0, 700.0])
    cases.update(x_c=x, t_c=t, context_c=context, out_inpaint_c=run(inpaint64, x, t, context))
    cases["flops_c"] = flop_count(inpaint64, x, t, context)

    x, t, context = inputs(gen, 4, 33, 31, 64, [800.0, 3.0])
    cases.update(x_d=x, t_d=t, context_d=context, out_f32_d=run(models["f32"], x, t, context))
    cases["flops_d"] = flop_count(models["f32"], x, t, context)
    x, t, context = inputs(gen, 9, 5, 7, 64, [100.0, 900.0])
    cases.update(x_e=x, t_e=t, context_e=context, out_inpaint_e=run(inpaint64, x, t, context))
    write_safetensors(os.path.join(out_dir, "cases.safetensors"), {k: v.contiguous() for k, v in cases.items()},
                      {"format": "pt"})


if __name__ == "__main__":
    main()
