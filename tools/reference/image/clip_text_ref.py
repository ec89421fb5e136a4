#!/usr/bin/python3
"""Writes the CLIP text encoder test files (clip_text_encoder_test.cpp and
conditioning_test.cpp read them) into OUT_DIR/clip_text/:

  small_f32.safetensors, small_f16.safetensors, small_bf16.safetensors
      the small random encoder (clip_text.SMALL_CONFIG) as a single-file
      checkpoint stores it: every tensor under `cond_stage_model.transformer.`,
      all in one dtype, plus the I64 `text_model.embeddings.position_ids`.
  cases.safetensors (F32), computed in float64 with clip_text.py:
      ids_{a,b}                 [77] token ids (as floats): a a short window
                                padded with the end id, b 77 random ids
      encode_{f32,f16,bf16}_{a,b}_skip{1,2}   [77, 128] hidden states from the
                                F32 weights and from the weights rounded to F16 / BF16
      encode_f32_a_skip3        clip_skip 3 (only the first layer)
    windows cases w1 (clip_skip 1), w2 (clip_skip 2), from random ids and weights:
      {w}_cond_ids, {w}_cond_weights        [n_cond, 77]
      {w}_uncond_ids, {w}_uncond_weights    [n_uncond, 77]
      {w}_cond, {w}_uncond                  [77 * max(n_cond, n_uncond), 128]
    prompt cases p1, p2, p3 (only when ../shared/data/clip/tokenizer_cases.json
    exists; its ids are those of the original tokenizer): the prompt and the
    negative prompt are in the file's metadata as p1_prompt, p1_negative,
    p1_clip_skip; the expected p1_cond, p1_uncond as above.

Usage: /usr/bin/python3 tools/reference/image/clip_text_ref.py OUT_DIR
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import clip_text  # noqa: E402
from write_safetensors import write_safetensors  # noqa: E402

PREFIX = "cond_stage_model.transformer."
TOKENIZER_CASES = os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "clip", "tokenizer_cases.json")


def rounded(model, dtype):
    """A float64 copy of the model with its weights rounded to `dtype`."""
    copy = clip_text.CLIPTextModel(**clip_text.SMALL_CONFIG).double().eval()
    copy.load_state_dict({k: v.to(dtype).double() for k, v in model.state_dict().items()})
    return copy


def checkpoint(model, dtype):
    tensors = {PREFIX + k: v.to(dtype).contiguous() for k, v in model.state_dict().items()}
    tensors[PREFIX + "text_model.embeddings.position_ids"] = torch.arange(77, dtype=torch.int64)[None]
    return tensors


def window_tensors(windows):
    ids = torch.tensor([w[0] for w in windows], dtype=torch.float32)
    weights = torch.tensor([w[1] for w in windows], dtype=torch.float32)
    return ids, weights


# Prompt cases: the prompt text in the web UI's syntax and the pieces it parses
# into (text, weight; None for BREAK), written out by hand. Every piece's text
# is a case of tokenizer_cases.json, so its ids are known.
CAT = "a photo of a cat"
CAR = "A Red CAR, parked on the street!!!"
ASTRONAUT = "an astronaut riding a horse on mars, 4k, trending on artstation"
DONT = "don't stop; it's John's car, we'll see, they've gone, I'm here, you'd go"
CAFE = "café crème brûlée naïve résumé"
CAT_ZH = "一只可爱的猫 in a 花园"
EMOJI = "emoji 🙂👍🏽 and ❤️"
TOM = "Tom &amp; Jerry &lt;3"
LONG_WORDS = "supercalifragilisticexpialidocious antidisestablishmentarianism"

PROMPT_CASES = {
    # one window each; (x:w), [x] and ((x))
    "p1": dict(prompt=f"({CAT}:1.3)[{CAR}](({CAFE}))", negative=EMOJI, clip_skip=1,
               cond=[(CAT, 1.3), (CAR, 1.0 / 1.1), (CAFE, 1.1 * 1.1)], uncond=[(EMOJI, 1.0)]),
    # 82 tokens (two windows), BREAK, a third window; the negative padded with two empty windows
    "p2": dict(prompt=f"{ASTRONAUT}({DONT}:0.7){LONG_WORDS}({CAT_ZH}:1.15){TOM} BREAK ({CAT}:1.4)",
               negative=CAR, clip_skip=2,
               cond=[(ASTRONAUT, 1.0), (DONT, 0.7), (LONG_WORDS, 1.0), (CAT_ZH, 1.15), (TOM, 1.0), None,
                     (CAT, 1.4)],
               uncond=[(CAR, 1.0)]),
    # the negative is longer (77 tokens: two windows); the prompt padded
    "p3": dict(prompt=CAT, negative=f"({ASTRONAUT}:0.9){DONT}({LONG_WORDS}:1.2){CAT_ZH}", clip_skip=1,
               cond=[(CAT, 1.0)], uncond=[(ASTRONAUT, 0.9), (DONT, 1.0), (LONG_WORDS, 1.2), (CAT_ZH, 1.0)]),
}


def prompt_windows(pieces, ids_of):
    """Pieces -> windows: the ids of each BREAK-separated part, windowed on their own."""
    parts = [([], [])]
    for piece in pieces:
        if piece is None:
            parts.append(([], []))
            continue
        text, weight = piece
        parts[-1][0].extend(ids_of[text])
        parts[-1][1].extend([weight] * len(ids_of[text]))
    windows = []
    for ids, weights in parts:
        windows += clip_text.window_ids(ids, weights)
    return windows


def main():
    out_dir = os.path.join(sys.argv[1], "clip_text")
    os.makedirs(out_dir, exist_ok=True)
    model = clip_text.random_model(clip_text.SMALL_CONFIG, seed=77)
    for name, dtype in (("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16)):
        write_safetensors(os.path.join(out_dir, f"small_{name}.safetensors"), checkpoint(model, dtype),
                          {"format": "pt"})
    models = {"f32": rounded(model, torch.float32), "f16": rounded(model, torch.float16),
              "bf16": rounded(model, torch.bfloat16)}

    gen = torch.Generator().manual_seed(5)
    vocab = clip_text.SMALL_CONFIG["vocab"]
    ids = {"a": clip_text.window_ids(torch.randint(0, vocab - 2, (20,), generator=gen).tolist(), [1.0] * 20)[0][0],
           "b": torch.randint(0, vocab, (77,), generator=gen).tolist()}
    cases = {}
    metadata = {}
    with torch.no_grad():
        for case, window in ids.items():
            cases[f"ids_{case}"] = torch.tensor(window, dtype=torch.float32)
            for dtype_name, m in models.items():
                for skip in (1, 2):
                    cases[f"encode_{dtype_name}_{case}_skip{skip}"] = m(torch.tensor([window]), skip)[0]
        cases["encode_f32_a_skip3"] = models["f32"](torch.tensor([ids["a"]]), 3)[0]

        def random_windows(n_ids, weighted):
            window_list = torch.randint(0, vocab - 2, (n_ids,), generator=gen).tolist()
            weights = (0.5 + torch.rand(n_ids, generator=gen)).tolist() if weighted else [1.0] * n_ids
            return clip_text.window_ids(window_list, weights)

        window_cases = {"w1": (random_windows(30, True), clip_text.window_ids([], []), 1),
                        "w2": (random_windows(100, True), random_windows(10, False), 2)}
        for case, (cond_windows, uncond_windows, skip) in window_cases.items():
            cases[f"{case}_cond_ids"], cases[f"{case}_cond_weights"] = window_tensors(cond_windows)
            cases[f"{case}_uncond_ids"], cases[f"{case}_uncond_weights"] = window_tensors(uncond_windows)
            cases[f"{case}_cond"], cases[f"{case}_uncond"] = clip_text.encode_pair(
                models["f32"], cond_windows, uncond_windows, skip)

        if os.path.exists(TOKENIZER_CASES):
            with open(TOKENIZER_CASES, encoding="utf-8") as f:
                ids_of = {c["text"]: c["ids"] for c in json.load(f)["cases"]}
            for case, spec in PROMPT_CASES.items():
                cases[f"{case}_cond"], cases[f"{case}_uncond"] = clip_text.encode_pair(
                    models["f32"], prompt_windows(spec["cond"], ids_of), prompt_windows(spec["uncond"], ids_of),
                    spec["clip_skip"])
                metadata[f"{case}_prompt"] = spec["prompt"]
                metadata[f"{case}_negative"] = spec["negative"]
                metadata[f"{case}_clip_skip"] = str(spec["clip_skip"])

    write_safetensors(os.path.join(out_dir, "cases.safetensors"),
                      {k: v.to(torch.float32).contiguous() for k, v in cases.items()}, metadata)


if __name__ == "__main__":
    main()
