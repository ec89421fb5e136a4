"""Writes the trained default image model (train_image_model.py's WORK_DIR) as
a diffusers folder: model_index.json, unet/, vae/, text_encoder/ (config.json
and safetensors, F16), tokenizer/ (clip_vocab.py). Tensor names are renamed
from the ldm layout of the reference modules into diffusers' names, the
inverse of src/image/diffusers_names.cpp.

usage: /usr/bin/python3 export_image_model.py WORK_DIR OUT_DIR
"""
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "reference"))
from write_safetensors import write_safetensors  # noqa: E402

import clip_vocab  # noqa: E402
import train_image_model as tim  # noqa: E402

DTYPE = torch.float32
RESNET_INNER = [("in_layers.0.", "norm1."), ("in_layers.2.", "conv1."), ("emb_layers.1.", "time_emb_proj."),
                ("out_layers.0.", "norm2."), ("out_layers.3.", "conv2."), ("skip_connection.", "conv_shortcut.")]


def unet_blocks(c):
    """[(ldm prefix, diffusers prefix, is_resnet)] of every block of a UNet of config c."""
    blocks = [("time_embed.0.", "time_embedding.linear_1.", False), ("time_embed.2.", "time_embedding.linear_2.", False),
              ("input_blocks.0.0.", "conv_in.", False), ("out.0.", "conv_norm_out.", False),
              ("out.2.", "conv_out.", False),
              ("middle_block.0.", "mid_block.resnets.0.", True), ("middle_block.1.", "mid_block.attentions.0.", False),
              ("middle_block.2.", "mid_block.resnets.1.", True)]
    levels, n_res, attn = len(c["channel_mult"]), c["n_res_blocks"], c["attention_levels"]
    k = 1
    for level in range(levels):
        for j in range(n_res):
            blocks.append((f"input_blocks.{k}.0.", f"down_blocks.{level}.resnets.{j}.", True))
            if level in attn:
                blocks.append((f"input_blocks.{k}.1.", f"down_blocks.{level}.attentions.{j}.", False))
            k += 1
        if level != levels - 1:
            blocks.append((f"input_blocks.{k}.0.op.", f"down_blocks.{level}.downsamplers.0.conv.", False))
            k += 1
    k = 0
    for up, level in enumerate(reversed(range(levels))):
        for j in range(n_res + 1):
            blocks.append((f"output_blocks.{k}.0.", f"up_blocks.{up}.resnets.{j}.", True))
            if level in attn:
                blocks.append((f"output_blocks.{k}.1.", f"up_blocks.{up}.attentions.{j}.", False))
            if level != 0 and j == n_res:
                sub = 2 if level in attn else 1
                blocks.append((f"output_blocks.{k}.{sub}.conv.", f"up_blocks.{up}.upsamplers.0.conv.", False))
            k += 1
    return blocks


def unet_name_map(ldm_names, c):
    """{ldm name: diffusers name} of the UNet tensors of config c."""
    blocks = unet_blocks(c)
    out = {}
    for name in ldm_names:
        ldm, diffusers, resnet = max((b for b in blocks if name.startswith(b[0])), key=lambda b: len(b[0]))
        rest = name[len(ldm):]
        if resnet:
            for a, b in RESNET_INNER:
                if rest.startswith(a):
                    rest = b + rest[len(a):]
                    break
        out[name] = diffusers + rest
    return out


def vae_name_map(ldm_names, n_levels):
    """{ldm name: diffusers name} of the VAE tensors (diffusers numbers the decoder's levels from the deepest)."""
    attn = {"norm": "group_norm", "q": "to_q", "k": "to_k", "v": "to_v", "proj_out": "to_out.0"}

    def shortcut(parts):
        return ["conv_shortcut" if x == "nin_shortcut" else x for x in parts]

    out = {}
    for name in ldm_names:
        p = name.split(".")
        if p[0] in ("encoder", "decoder") and p[1] in ("down", "up"):
            i = int(p[2]) if p[1] == "down" else n_levels - 1 - int(p[2])
            kind = "down_blocks" if p[1] == "down" else "up_blocks"
            if p[3] == "block":
                new = [p[0], kind, str(i), "resnets", p[4]] + shortcut(p[5:])
            else:
                new = [p[0], kind, str(i), "downsamplers" if p[1] == "down" else "upsamplers", "0"] + p[4:]
        elif p[0] in ("encoder", "decoder") and p[1] == "mid":
            if p[2].startswith("block_"):
                new = [p[0], "mid_block", "resnets", str(int(p[2][-1]) - 1)] + shortcut(p[3:])
            else:
                new = [p[0], "mid_block", "attentions", "0", attn[p[3]], p[4]]
        elif p[0] in ("encoder", "decoder") and p[1] == "norm_out":
            new = [p[0], "conv_norm_out"] + p[2:]
        else:
            new = p
        out[name] = ".".join(new)
    return out


def vae_to_diffusers(sd, n_levels):
    """The VAE state dict under diffusers names; the mid attention's 1x1 conv weights as [C, C] matrices."""
    names = vae_name_map(sd, n_levels)
    return {names[k]: t.reshape(t.shape[:2]) if ".mid.attn_1." in k and k.endswith("weight") and t.dim() == 4 else t
            for k, t in sd.items()}


def write_component(folder, file, tensors, config):
    os.makedirs(folder, exist_ok=True)
    write_safetensors(os.path.join(folder, file),
                      {k: v.detach().to(DTYPE).contiguous() for k, v in tensors.items()}, {"format": "pt"})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


def main():
    work, out = sys.argv[1], sys.argv[2]
    vocab = clip_vocab.ClipVocab(clip_vocab.read_merges(os.path.join(work, "tokenizer")))
    # The fine-tuned decoder's VAE (decoder.pt); before that stage, the VAE the latents came from.
    decoder = os.path.join(work, "decoder.pt")
    vae_sd = torch.load(decoder)["model"] if os.path.exists(decoder) else torch.load(os.path.join(work, "latents.pt"))["vae"]
    denoiser = torch.load(os.path.join(work, "unet.pt"))["ema"]
    unet_sd = {k[len("unet."):]: v for k, v in denoiser.items() if k.startswith("unet.")}
    text_sd = {k[len("text."):]: v for k, v in denoiser.items() if k.startswith("text.")}
    uc, vc, cc = tim.UNET_CONFIG, tim.VAE_CONFIG, tim.clip_config(len(vocab))
    if os.path.exists(out):
        shutil.rmtree(out)
    widths = [uc["model_channels"] * m for m in uc["channel_mult"]]
    attn = [i in uc["attention_levels"] for i in range(len(widths))]
    unet_names = unet_name_map(unet_sd, uc)
    write_component(os.path.join(out, "unet"), "diffusion_pytorch_model.safetensors",
                    {unet_names[k]: v for k, v in unet_sd.items()}, {
        "_class_name": "UNet2DConditionModel", "sample_size": tim.shapes.SIZE // 2 ** (len(vc["ch_mult"]) - 1),
        "in_channels": uc["in_channels"], "out_channels": uc["out_channels"], "block_out_channels": widths,
        "down_block_types": ["CrossAttnDownBlock2D" if a else "DownBlock2D" for a in attn],
        "up_block_types": ["CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(attn)],
        "layers_per_block": uc["n_res_blocks"], "cross_attention_dim": uc["context_dim"],
        "attention_head_dim": uc["n_heads"], "norm_num_groups": uc["norm_groups"], "norm_eps": 1e-5,
        "act_fn": "silu", "center_input_sample": False, "flip_sin_to_cos": True, "freq_shift": 0,
        "downsample_padding": 1, "mid_block_scale_factor": 1})
    write_component(os.path.join(out, "vae"), "diffusion_pytorch_model.safetensors",
                    vae_to_diffusers(vae_sd, len(vc["ch_mult"])), {
                        "_class_name": "AutoencoderKL", "sample_size": tim.shapes.SIZE, "in_channels": 3,
                        "out_channels": 3, "latent_channels": vc["z_channels"],
                        "block_out_channels": [vc["ch"] * m for m in vc["ch_mult"]],
                        "down_block_types": ["DownEncoderBlock2D"] * len(vc["ch_mult"]),
                        "up_block_types": ["UpDecoderBlock2D"] * len(vc["ch_mult"]),
                        "layers_per_block": vc["num_res_blocks"], "norm_num_groups": vc["norm_groups"], "act_fn": "silu",
                        "scaling_factor": tim.LATENT_SCALE})
    write_component(os.path.join(out, "text_encoder"), "model.safetensors", text_sd, {
        "architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "vocab_size": cc["vocab"],
        "max_position_embeddings": cc["n_positions"], "hidden_size": cc["dim"], "num_hidden_layers": cc["n_layers"],
        "num_attention_heads": cc["n_heads"], "intermediate_size": cc["ffn_dim"], "hidden_act": "quick_gelu",
        "layer_norm_eps": 1e-5, "bos_token_id": vocab.start_id, "eos_token_id": vocab.end_id,
        "pad_token_id": vocab.end_id, "projection_dim": cc["dim"]})
    vocab.write_diffusers_folder(os.path.join(out, "tokenizer"))
    with open(os.path.join(out, "model_index.json"), "w") as f:
        json.dump({"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.21.0",
                   "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
                   "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
                   "scheduler": ["diffusers", "EulerAncestralDiscreteScheduler"], "safety_checker": [None, None],
                   "feature_extractor": [None, None], "requires_safety_checker": False}, f, indent=2)


if __name__ == "__main__":
    main()
