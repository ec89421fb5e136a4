"""LoRA reference: kohya-style key names and the merge W' = W + strength * (alpha / rank) * up @ down.

Plain torch, independent of the C++ code. A kohya LoRA file names each module by its checkpoint path with
'.' replaced by '_', behind "lora_unet_" (UNet, ldm or diffusers module path) or "lora_te_" (CLIP text
encoder, "text_model..." path); each module has "<key>.lora_down.weight" ([rank, in] or [rank, in, kh, kw]),
"<key>.lora_up.weight" ([out, rank] or [out, rank, 1, 1]) and optionally "<key>.alpha" (a scalar; default
rank). Merging is done in float32 and rounded once to the weight's stored dtype.
"""
import torch

UNET_PREFIX = "model.diffusion_model."
TEXT_PREFIX = "cond_stage_model.transformer."


def kohya_key(component, module_path):
    """'unet', 'input_blocks.1.1.proj_in' -> 'lora_unet_input_blocks_1_1_proj_in'."""
    return "lora_" + component + "_" + module_path.replace(".", "_")


def lora_module(lora, key, up, down, alpha=None, dtype=torch.float16):
    """Adds one module's tensors to the dict `lora`."""
    lora[key + ".lora_up.weight"] = up.to(dtype)
    lora[key + ".lora_down.weight"] = down.to(dtype)
    if alpha is not None:
        lora[key + ".alpha"] = torch.tensor(float(alpha), dtype=dtype)


def target_of(key, checkpoint, ldm_to_diffusers_unet):
    """The full checkpoint name of the weight a kohya module key names, or None."""
    for name in checkpoint:
        if not name.endswith(".weight"):
            continue
        module = name[: -len(".weight")]
        if module.startswith(UNET_PREFIX):
            ldm = module[len(UNET_PREFIX):]
            if key == kohya_key("unet", ldm):
                return name
            diffusers = ldm_to_diffusers_unet.get(ldm + ".weight")
            if diffusers is not None and key == kohya_key("unet", diffusers[: -len(".weight")]):
                return name
        elif module.startswith(TEXT_PREFIX):
            if key == kohya_key("te", module[len(TEXT_PREFIX):]):
                return name
    return None


def merge(checkpoint, loras, ldm_to_diffusers_unet):
    """checkpoint: full single-file state dict; loras: [(lora dict, strength)].

    Returns {checkpoint name: merged tensor in the stored dtype} for every weight a LoRA changes.
    """
    merged = {}
    for lora, strength in loras:
        modules = sorted({k[: -len(".lora_up.weight")] for k in lora if k.endswith(".lora_up.weight")})
        for key in modules:
            name = target_of(key, checkpoint, ldm_to_diffusers_unet)
            if name is None:
                continue
            up = lora[key + ".lora_up.weight"].float()
            down = lora[key + ".lora_down.weight"].float()
            rank = down.shape[0]
            alpha = float(lora[key + ".alpha"]) if key + ".alpha" in lora else float(rank)
            w = merged.get(name, checkpoint[name].float())
            delta = (up.reshape(up.shape[0], rank) @ down.reshape(rank, -1)).reshape(w.shape)
            merged[name] = w + (strength * alpha / rank) * delta
    return {name: w.to(checkpoint[name].dtype) for name, w in merged.items()}
