#!/usr/bin/python3
"""Writes the checkpoint-loader and LoRA fixtures into OUT_DIR/loader/ (sd_checkpoint_test.cpp, lora_test.cpp).

A tiny random SD 1.x checkpoint with every tensor of the original layout (reduced widths: UNet 8 channels,
multipliers 1,2,2, two resnets a level, attention on the first two levels; VAE 8 channels, three levels;
CLIP 2 layers of width 16), written as:
  tiny_sd.safetensors          F32, original layout, plus model_ema.* and an I64 position_ids buffer
  tiny_sd_f16.safetensors      the same values: UNet and VAE in F16, text encoder in BF16
  tiny_sd_old_clip.safetensors F32, text encoder without "text_model." (the older layout)
  tiny_sd_inpaint.safetensors  F32, UNet with 9 input channels
  tiny_sd_no_vae.safetensors   tiny_sd without its VAE
  tiny_sd_sharded.safetensors.index.json + 2 shards: tiny_sd without extras, sharded
  tiny_sd_diffusers/           tiny_sd_f16 as a diffusers folder (this script's own renaming): sharded unet/,
                               vae/ (to_q/to_k/to_v/to_out.0 names), text_encoder/, a small tokenizer/
  runnable_sd.safetensors      a runnable tiny checkpoint (widths of 32, CLIP width 64: GroupNorm and CLIP heads
                               fit), F16 UNet and VAE, BF16 text encoder, original layout
  runnable_sd_diffusers/       the same tensors in a diffusers folder with the diffusers key names (unet/, vae/,
                               text_encoder/): the C++ models must compute the same bits from either
  vae_bare.safetensors         another random VAE (F32), encoder.*/decoder.* keys
  vae_prefixed.safetensors     the same under first_stage_model.
  vae_diffusers.safetensors    the same in diffusers names, older query/key/value/proj_attn attention names
Files of other families (a few tensors with their telltale names): sdxl, sd2_openclip, sd2_width (an SD
1.x layout with 1024-wide cross-attention), sd3, flux, no_components; pickles: model.ckpt (zip),
legacy.pt (legacy pickle), pickle_named.safetensors (a pickle under a safetensors name).
LoRAs (kohya naming, see lora.py): lora_ldm (F16; ldm module names: linear, 1x1 conv, 3x3 LoCon, text
encoder, one module without alpha), lora_diffusers (F32; diffusers module names, touching one weight that
lora_ldm touches too), lora_partial (one module that matches, one that does not), lora_nomatch,
lora_bad_shape (a 1x1 LoCon down for a 3x3 conv, after a module that fits), lora_loha (LyCORIS, refused).
Merged references (torch, lora.py), the changed weights under their checkpoint names:
  merged_f32_ldm.safetensors   tiny_sd + lora_ldm x 0.75
  merged_f32_two.safetensors   tiny_sd + lora_ldm x 0.75 + lora_diffusers x -0.5
  merged_f16_two.safetensors   tiny_sd_f16 + lora_ldm x 0.75 + lora_diffusers x 1.0

Usage: /usr/bin/python3 tools/reference/image/loader_ref.py OUT_DIR
"""
import json
import os
import struct
import sys
from types import SimpleNamespace

import torch

import lora as lora_ref

DTYPE_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}


def write_safetensors(path, tensors):
    """The safetensors layout: 8-byte header size, JSON header (space padded), tensors back to back."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        b = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


class Params:
    """Collects random parameters under their names."""

    def __init__(self, gen):
        self.gen, self.sd = gen, {}

    def add(self, name, *shape):
        self.sd[name] = torch.randn(*shape, generator=self.gen) * 0.2

    def linear(self, name, n_out, n_in, bias=True):
        self.add(name + ".weight", n_out, n_in)
        if bias:
            self.add(name + ".bias", n_out)

    def conv(self, name, n_out, n_in, k):
        self.add(name + ".weight", n_out, n_in, k, k)
        self.add(name + ".bias", n_out)

    def norm(self, name, n):
        self.add(name + ".weight", n)
        self.add(name + ".bias", n)


# ---- UNet (ldm names, and the diffusers name of each block) -------------------------------------------

# The widths and depths of a checkpoint: TINY for the loader and LoRA fixtures (too narrow to run: GroupNorm
# has 32 groups, CLIP heads are 64 wide), RUNNABLE for the single file vs diffusers folder comparison.
TINY = SimpleNamespace(mc=8, mult=(1, 2, 2), nres=2, attn_levels=(0, 1), temb=32,
                       vae_ch=8, vae_mult=(1, 2, 2), vae_nres=1, clip_dim=16, clip_layers=2)
RUNNABLE = SimpleNamespace(mc=32, mult=(1, 2), nres=1, attn_levels=(0, 1), temb=128,
                           vae_ch=32, vae_mult=(1, 2, 2, 2), vae_nres=1, clip_dim=64, clip_layers=2)
UNET_RESNET_INNER = [("in_layers.0.", "norm1."), ("in_layers.2.", "conv1."), ("emb_layers.1.", "time_emb_proj."),
                     ("out_layers.0.", "norm2."), ("out_layers.3.", "conv2."), ("skip_connection.", "conv_shortcut.")]


def unet_resblock(p, name, c_in, c_out, temb):
    p.norm(name + "in_layers.0", c_in)
    p.conv(name + "in_layers.2", c_out, c_in, 3)
    p.linear(name + "emb_layers.1", c_out, temb)
    p.norm(name + "out_layers.0", c_out)
    p.conv(name + "out_layers.3", c_out, c_out, 3)
    if c_in != c_out:
        p.conv(name + "skip_connection", c_out, c_in, 1)


def spatial_transformer(p, name, c, context):
    p.norm(name + "norm", c)
    p.conv(name + "proj_in", c, c, 1)
    b = name + "transformer_blocks.0."
    for attn, kv_in in (("attn1", c), ("attn2", context)):
        p.linear(b + attn + ".to_q", c, c, bias=False)
        p.linear(b + attn + ".to_k", c, kv_in, bias=False)
        p.linear(b + attn + ".to_v", c, kv_in, bias=False)
        p.linear(b + attn + ".to_out.0", c, c)
    for n in ("norm1", "norm2", "norm3"):
        p.norm(b + n, c)
    p.linear(b + "ff.net.0.proj", 8 * c, c)
    p.linear(b + "ff.net.2", c, 4 * c)
    p.conv(name + "proj_out", c, c, 1)


def unet(p, s, in_channels, context):
    """Adds an ldm UNet under model.diffusion_model.; returns [(ldm block prefix, diffusers prefix, is_resnet)]."""
    pre = "model.diffusion_model."
    blocks = [("time_embed.0.", "time_embedding.linear_1.", False), ("time_embed.2.", "time_embedding.linear_2.", False),
              ("input_blocks.0.0.", "conv_in.", False), ("out.0.", "conv_norm_out.", False),
              ("out.2.", "conv_out.", False)]
    p.linear(pre + "time_embed.0", s.temb, s.mc)
    p.linear(pre + "time_embed.2", s.temb, s.temb)
    p.conv(pre + "input_blocks.0.0", s.mc, in_channels, 3)
    ch, skip_chans, k = s.mc, [s.mc], 1
    for level, mult in enumerate(s.mult):
        for j in range(s.nres):
            unet_resblock(p, pre + f"input_blocks.{k}.0.", ch, mult * s.mc, s.temb)
            blocks.append((f"input_blocks.{k}.0.", f"down_blocks.{level}.resnets.{j}.", True))
            ch = mult * s.mc
            if level in s.attn_levels:
                spatial_transformer(p, pre + f"input_blocks.{k}.1.", ch, context)
                blocks.append((f"input_blocks.{k}.1.", f"down_blocks.{level}.attentions.{j}.", False))
            skip_chans.append(ch)
            k += 1
        if level != len(s.mult) - 1:
            p.conv(pre + f"input_blocks.{k}.0.op", ch, ch, 3)
            blocks.append((f"input_blocks.{k}.0.op.", f"down_blocks.{level}.downsamplers.0.conv.", False))
            skip_chans.append(ch)
            k += 1
    unet_resblock(p, pre + "middle_block.0.", ch, ch, s.temb)
    spatial_transformer(p, pre + "middle_block.1.", ch, context)
    unet_resblock(p, pre + "middle_block.2.", ch, ch, s.temb)
    blocks += [("middle_block.0.", "mid_block.resnets.0.", True), ("middle_block.1.", "mid_block.attentions.0.", False),
               ("middle_block.2.", "mid_block.resnets.1.", True)]
    k = 0
    for up, level in enumerate(reversed(range(len(s.mult)))):
        for j in range(s.nres + 1):
            unet_resblock(p, pre + f"output_blocks.{k}.0.", ch + skip_chans.pop(), s.mult[level] * s.mc, s.temb)
            blocks.append((f"output_blocks.{k}.0.", f"up_blocks.{up}.resnets.{j}.", True))
            ch = s.mult[level] * s.mc
            sub = 1
            if level in s.attn_levels:
                spatial_transformer(p, pre + f"output_blocks.{k}.1.", ch, context)
                blocks.append((f"output_blocks.{k}.1.", f"up_blocks.{up}.attentions.{j}.", False))
                sub = 2
            if level != 0 and j == s.nres:
                p.conv(pre + f"output_blocks.{k}.{sub}.conv", ch, ch, 3)
                blocks.append((f"output_blocks.{k}.{sub}.conv.", f"up_blocks.{up}.upsamplers.0.conv.", False))
            k += 1
    p.norm(pre + "out.0", s.mc)
    p.conv(pre + "out.2", 4, s.mc, 3)
    return blocks


def unet_ldm_to_diffusers(ldm_names, blocks):
    """{ldm name: diffusers name} for UNet names without the model.diffusion_model. prefix."""
    out = {}
    for name in ldm_names:
        ldm_block, diffusers_block, resnet = max((b for b in blocks if name.startswith(b[0])), key=lambda b: len(b[0]))
        rest = name[len(ldm_block):]
        if resnet:
            for ldm_inner, diffusers_inner in UNET_RESNET_INNER:
                if rest.startswith(ldm_inner):
                    rest = diffusers_inner + rest[len(ldm_inner):]
                    break
        out[name] = diffusers_block + rest
    return out


# ---- VAE --------------------------------------------------------------------------------------------------

Z = 4


def vae_resblock(p, name, c_in, c_out):
    p.norm(name + "norm1", c_in)
    p.conv(name + "conv1", c_out, c_in, 3)
    p.norm(name + "norm2", c_out)
    p.conv(name + "conv2", c_out, c_out, 3)
    if c_in != c_out:
        p.conv(name + "nin_shortcut", c_out, c_in, 1)


def vae_mid(p, name, c):
    vae_resblock(p, name + "mid.block_1.", c, c)
    p.norm(name + "mid.attn_1.norm", c)
    for n in ("q", "k", "v", "proj_out"):
        p.conv(name + "mid.attn_1." + n, c, c, 1)
    vae_resblock(p, name + "mid.block_2.", c, c)


def vae(p, pre, s):
    p.conv(pre + "encoder.conv_in", s.vae_ch, 3, 3)
    ch = s.vae_ch
    for i, mult in enumerate(s.vae_mult):
        for j in range(s.vae_nres):
            vae_resblock(p, pre + f"encoder.down.{i}.block.{j}.", ch, mult * s.vae_ch)
            ch = mult * s.vae_ch
        if i != len(s.vae_mult) - 1:
            p.conv(pre + f"encoder.down.{i}.downsample.conv", ch, ch, 3)
    vae_mid(p, pre + "encoder.", ch)
    p.norm(pre + "encoder.norm_out", ch)
    p.conv(pre + "encoder.conv_out", 2 * Z, ch, 3)
    p.conv(pre + "quant_conv", 2 * Z, 2 * Z, 1)
    p.conv(pre + "post_quant_conv", Z, Z, 1)
    ch = s.vae_ch * s.vae_mult[-1]
    p.conv(pre + "decoder.conv_in", ch, Z, 3)
    vae_mid(p, pre + "decoder.", ch)
    for i in reversed(range(len(s.vae_mult))):
        for j in range(s.vae_nres + 1):
            vae_resblock(p, pre + f"decoder.up.{i}.block.{j}.", ch, s.vae_mult[i] * s.vae_ch)
            ch = s.vae_mult[i] * s.vae_ch
        if i != 0:
            p.conv(pre + f"decoder.up.{i}.upsample.conv", ch, ch, 3)
    p.norm(pre + "decoder.norm_out", ch)
    p.conv(pre + "decoder.conv_out", 3, ch, 3)


def vae_to_diffusers(sd, old_attention_names, n_levels):
    """Bare ldm VAE state dict -> diffusers names (attention weights [C, C])."""
    attn = {"norm": "group_norm", "q": "query" if old_attention_names else "to_q",
            "k": "key" if old_attention_names else "to_k", "v": "value" if old_attention_names else "to_v",
            "proj_out": "proj_attn" if old_attention_names else "to_out.0"}
    n_up = n_levels
    out = {}
    for name, t in sd.items():
        parts = name.split(".")
        if parts[0] in ("encoder", "decoder") and parts[1] in ("down", "up"):
            i = int(parts[2])
            kind = "down_blocks" if parts[1] == "down" else "up_blocks"
            i = i if parts[1] == "down" else n_up - 1 - i
            if parts[3] == "block":
                rest = [("conv_shortcut" if x == "nin_shortcut" else x) for x in parts[5:]]
                new = [parts[0], kind, str(i), "resnets", parts[4]] + rest
            else:  # downsample.conv / upsample.conv
                new = [parts[0], kind, str(i), "downsamplers" if parts[1] == "down" else "upsamplers", "0"] + parts[4:]
        elif parts[0] in ("encoder", "decoder") and parts[1] == "mid":
            if parts[2].startswith("block_"):
                rest = [("conv_shortcut" if x == "nin_shortcut" else x) for x in parts[3:]]
                new = [parts[0], "mid_block", "resnets", str(int(parts[2][-1]) - 1)] + rest
            else:
                new = [parts[0], "mid_block", "attentions", "0", attn[parts[3]], parts[4]]
                if parts[3] != "norm" and parts[4] == "weight":
                    t = t.reshape(t.shape[0], t.shape[1])
        elif parts[0] in ("encoder", "decoder") and parts[1] == "norm_out":
            new = [parts[0], "conv_norm_out"] + parts[2:]
        else:
            new = parts
        out[".".join(new)] = t
    return out


# ---- CLIP text encoder ----------------------------------------------------------------------------------

CLIP_POSITIONS = 77


def text_encoder(p, pre, vocab, s):
    d = s.clip_dim
    p.add(pre + "embeddings.token_embedding.weight", vocab, d)
    p.add(pre + "embeddings.position_embedding.weight", CLIP_POSITIONS, d)
    for i in range(s.clip_layers):
        layer = pre + f"encoder.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            p.linear(layer + "self_attn." + proj, d, d)
        p.norm(layer + "layer_norm1", d)
        p.norm(layer + "layer_norm2", d)
        p.linear(layer + "mlp.fc1", 4 * d, d)
        p.linear(layer + "mlp.fc2", d, 4 * d)
    p.norm(pre + "final_layer_norm", d)


def write_tokenizer(folder):
    """A small CLIP tokenizer: the 256 byte symbols with and without </w>, one merge (id 512), the specials."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    symbols, extra = {}, 0
    for b in range(256):
        if b in printable:
            symbols[b] = chr(b)
        else:
            symbols[b] = chr(256 + extra)
            extra += 1
    tokens = [symbols[b] for b in range(256)]
    tokens += [t + "</w>" for t in tokens]
    tokens += ["ca</w>", "<|startoftext|>", "<|endoftext|>"]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(tokens)}, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\nc a</w>\n")
    return len(tokens)


# ---- checkpoints ----------------------------------------------------------------------------------------

def checkpoint(seed, vocab, in_channels=4, context=None, s=TINY):
    p = Params(torch.Generator().manual_seed(seed))
    blocks = unet(p, s, in_channels, context or s.clip_dim)
    vae(p, "first_stage_model.", s)
    text_encoder(p, "cond_stage_model.transformer.text_model.", vocab, s)
    return p.sd, blocks


def component(sd, prefix):
    return {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}


def main():
    out = os.path.join(sys.argv[1], "loader")
    os.makedirs(out, exist_ok=True)
    vocab = write_tokenizer(os.path.join(out, "tiny_sd_diffusers", "tokenizer"))
    sd, blocks = checkpoint(1, vocab)
    unet_names = unet_ldm_to_diffusers(component(sd, "model.diffusion_model."), blocks)

    with_extras = dict(sd)
    with_extras["model_ema.decay"] = torch.tensor(0.9999)
    with_extras["model_ema.diffusion_modelinput_blocks00weight"] = torch.zeros(2, 2)
    with_extras["cond_stage_model.transformer.text_model.embeddings.position_ids"] = torch.arange(77).reshape(1, 77)
    write_safetensors(os.path.join(out, "tiny_sd.safetensors"), with_extras)

    sd16 = {k: v.to(torch.bfloat16 if k.startswith("cond_stage_model.") else torch.float16) for k, v in sd.items()}
    write_safetensors(os.path.join(out, "tiny_sd_f16.safetensors"), sd16)

    old_clip = {k.replace("cond_stage_model.transformer.text_model.", "cond_stage_model.transformer."): v
                for k, v in sd.items()}
    write_safetensors(os.path.join(out, "tiny_sd_old_clip.safetensors"), old_clip)
    write_safetensors(os.path.join(out, "tiny_sd_inpaint.safetensors"), checkpoint(2, vocab, in_channels=9)[0])
    write_safetensors(os.path.join(out, "tiny_sd_no_vae.safetensors"),
                      {k: v for k, v in sd.items() if not k.startswith("first_stage_model.")})
    # The F32 checkpoint as a sharded single file: UNet in one shard, the rest in the other.
    weight_map = {}
    for i, part in enumerate([{k: v for k, v in sd.items() if k.startswith("model.diffusion_model.")},
                              {k: v for k, v in sd.items() if not k.startswith("model.diffusion_model.")}]):
        file = f"tiny_sd_sharded-0000{i + 1}-of-00002.safetensors"
        write_safetensors(os.path.join(out, file), part)
        weight_map.update({k: file for k in part})
    with open(os.path.join(out, "tiny_sd_sharded.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)

    # The F16 checkpoint as a diffusers folder; the UNet in two shards.
    folder = os.path.join(out, "tiny_sd_diffusers")
    unet16 = {unet_names[k]: v for k, v in component(sd16, "model.diffusion_model.").items()}
    shards = [{k: v for k, v in unet16.items() if k.startswith(("down_blocks.", "conv_in.", "time_embedding."))}]
    shards.append({k: v for k, v in unet16.items() if k not in shards[0]})
    weight_map = {}
    for i, shard in enumerate(shards):
        file = f"diffusion_pytorch_model-0000{i + 1}-of-00002.safetensors"
        write_safetensors(os.path.join(folder, "unet", file), shard)
        weight_map.update({k: file for k in shard})
    with open(os.path.join(folder, "unet", "diffusion_pytorch_model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f)
    with open(os.path.join(folder, "unet", "config.json"), "w") as f:
        json.dump({"_class_name": "UNet2DConditionModel", "layers_per_block": TINY.nres,
                   "block_out_channels": [TINY.mc * m for m in TINY.mult], "cross_attention_dim": 16}, f)
    write_safetensors(os.path.join(folder, "vae", "diffusion_pytorch_model.safetensors"),
                      vae_to_diffusers(component(sd16, "first_stage_model."), False, len(TINY.vae_mult)))
    write_safetensors(os.path.join(folder, "text_encoder", "model.safetensors"),
                      component(sd16, "cond_stage_model.transformer."))

    # A checkpoint the models can run, as a single file and as a diffusers folder.
    runnable, runnable_blocks = checkpoint(6, vocab, s=RUNNABLE)
    runnable = {k: v.to(torch.bfloat16 if k.startswith("cond_stage_model.") else torch.float16)
                for k, v in runnable.items()}
    write_safetensors(os.path.join(out, "runnable_sd.safetensors"), runnable)
    folder = os.path.join(out, "runnable_sd_diffusers")
    runnable_unet = component(runnable, "model.diffusion_model.")
    runnable_names = unet_ldm_to_diffusers(runnable_unet, runnable_blocks)
    write_safetensors(os.path.join(folder, "unet", "diffusion_pytorch_model.safetensors"),
                      {runnable_names[k]: v for k, v in runnable_unet.items()})
    write_safetensors(os.path.join(folder, "vae", "diffusion_pytorch_model.safetensors"),
                      vae_to_diffusers(component(runnable, "first_stage_model."), False, len(RUNNABLE.vae_mult)))
    write_safetensors(os.path.join(folder, "text_encoder", "model.safetensors"),
                      component(runnable, "cond_stage_model.transformer."))

    # Separate VAE files: one random VAE in three layouts.
    vp = Params(torch.Generator().manual_seed(3))
    vae(vp, "", TINY)
    write_safetensors(os.path.join(out, "vae_bare.safetensors"), vp.sd)
    write_safetensors(os.path.join(out, "vae_prefixed.safetensors"), {"first_stage_model." + k: v for k, v in vp.sd.items()})
    write_safetensors(os.path.join(out, "vae_diffusers.safetensors"), vae_to_diffusers(vp.sd, True, len(TINY.vae_mult)))

    # Other families and files without SD components.
    z = torch.zeros(2, 2)
    write_safetensors(os.path.join(out, "sdxl.safetensors"), {
        "conditioner.embedders.0.transformer.text_model.final_layer_norm.weight": torch.zeros(2),
        "model.diffusion_model.label_emb.0.0.weight": z, "model.diffusion_model.input_blocks.0.0.weight": z})
    write_safetensors(os.path.join(out, "sd2_openclip.safetensors"), {
        "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight": z,
        "model.diffusion_model.input_blocks.0.0.weight": z})
    write_safetensors(os.path.join(out, "sd2_width.safetensors"), checkpoint(4, vocab, context=1024)[0])
    write_safetensors(os.path.join(out, "sd3.safetensors"), {
        "model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight": z})
    write_safetensors(os.path.join(out, "flux.safetensors"), {"double_blocks.0.img_attn.qkv.weight": z})
    write_safetensors(os.path.join(out, "no_components.safetensors"), {"encoder.layer.0.weight": z, "lm_head.weight": z})
    torch.save({"state_dict": {"model.diffusion_model.out.2.weight": z}}, os.path.join(out, "model.ckpt"))
    torch.save({"state_dict": {"x": z}}, os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save({"x": z}, os.path.join(out, "pickle_named.safetensors"), _use_new_zipfile_serialization=False)

    # LoRAs.
    g = torch.Generator().manual_seed(5)
    rnd = lambda *shape: torch.randn(*shape, generator=g) * 0.3
    te = "text_model.encoder.layers."
    lora_ldm = {}
    lora_ref.lora_module(lora_ldm, lora_ref.kohya_key("unet", "input_blocks.1.1.transformer_blocks.0.attn1.to_q"),
                         rnd(8, 4), rnd(4, 8), alpha=2)
    lora_ref.lora_module(lora_ldm, lora_ref.kohya_key("unet", "input_blocks.4.1.transformer_blocks.0.attn2.to_k"),
                         rnd(16, 4), rnd(4, 16), alpha=3)
    lora_ref.lora_module(lora_ldm, lora_ref.kohya_key("unet", "middle_block.1.proj_in"),
                         rnd(16, 2, 1, 1), rnd(2, 16, 1, 1), alpha=1)
    lora_ref.lora_module(lora_ldm, lora_ref.kohya_key("unet", "input_blocks.1.0.in_layers.2"),
                         rnd(8, 4, 1, 1), rnd(4, 8, 3, 3), alpha=2)
    lora_ref.lora_module(lora_ldm, lora_ref.kohya_key("unet", "output_blocks.4.1.transformer_blocks.0.ff.net.0.proj"),
                         rnd(128, 4), rnd(4, 16))  # no alpha: scale 1
    lora_ref.lora_module(lora_ldm, lora_ref.kohya_key("te", te + "0.self_attn.q_proj"), rnd(16, 4), rnd(4, 16), alpha=2)
    lora_ref.lora_module(lora_ldm, lora_ref.kohya_key("te", te + "1.mlp.fc1"), rnd(64, 4), rnd(4, 16), alpha=2)
    write_safetensors(os.path.join(out, "lora_ldm.safetensors"), lora_ldm)

    lora_diffusers = {}
    for key, up, down, alpha in [
            ("down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q", rnd(8, 2), rnd(2, 8), 1),
            ("up_blocks.1.resnets.2.conv1", rnd(16, 2, 1, 1), rnd(2, 24, 3, 3), 3),
            ("mid_block.attentions.0.proj_out", rnd(16, 4, 1, 1), rnd(4, 16, 1, 1), 4),
            ("up_blocks.2.attentions.1.transformer_blocks.0.attn2.to_v", rnd(8, 4), rnd(4, 16), 2)]:
        lora_ref.lora_module(lora_diffusers, lora_ref.kohya_key("unet", key), up, down, alpha, dtype=torch.float32)
    lora_ref.lora_module(lora_diffusers, lora_ref.kohya_key("te", te + "1.self_attn.out_proj"), rnd(16, 2), rnd(2, 16),
                         alpha=2, dtype=torch.float32)
    write_safetensors(os.path.join(out, "lora_diffusers.safetensors"), lora_diffusers)

    lora_partial = {}
    lora_ref.lora_module(lora_partial, lora_ref.kohya_key("te", te + "0.mlp.fc2"), rnd(16, 2), rnd(2, 64), alpha=2)
    lora_ref.lora_module(lora_partial, lora_ref.kohya_key("unet", "input_blocks.99.1.proj_in"), rnd(8, 2), rnd(2, 8), alpha=2)
    write_safetensors(os.path.join(out, "lora_partial.safetensors"), lora_partial)
    lora_nomatch = {}
    lora_ref.lora_module(lora_nomatch, "lora_te2_text_model_encoder_layers_0_self_attn_q_proj", rnd(16, 2), rnd(2, 16), 1)
    lora_ref.lora_module(lora_nomatch, "lora_unet_label_emb_0_0", rnd(8, 2), rnd(2, 8), 1)
    write_safetensors(os.path.join(out, "lora_nomatch.safetensors"), lora_nomatch)
    lora_bad_shape = {}
    lora_ref.lora_module(lora_bad_shape, lora_ref.kohya_key("te", te + "0.self_attn.k_proj"), rnd(16, 2), rnd(2, 16), 1)
    lora_ref.lora_module(lora_bad_shape, lora_ref.kohya_key("unet", "out.2"), rnd(4, 2, 1, 1), rnd(2, 8, 1, 1), 1)
    write_safetensors(os.path.join(out, "lora_bad_shape.safetensors"), lora_bad_shape)
    write_safetensors(os.path.join(out, "lora_loha.safetensors"), {
        "lora_unet_out_2.hada_w1_a": rnd(4, 2), "lora_unet_out_2.hada_w1_b": rnd(2, 72), "lora_unet_out_2.alpha": torch.tensor(1.0)})

    names = {k: v for k, v in unet_names.items()}
    write_safetensors(os.path.join(out, "merged_f32_ldm.safetensors"), lora_ref.merge(sd, [(lora_ldm, 0.75)], names))
    write_safetensors(os.path.join(out, "merged_f32_two.safetensors"),
                      lora_ref.merge(sd, [(lora_ldm, 0.75), (lora_diffusers, -0.5)], names))
    write_safetensors(os.path.join(out, "merged_f16_two.safetensors"),
                      lora_ref.merge(sd16, [(lora_ldm, 0.75), (lora_diffusers, 1.0)], names))


if __name__ == "__main__":
    main()
