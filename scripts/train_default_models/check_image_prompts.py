#!/usr/bin/python3
"""Prompt-adherence checker of the default image model: generates one image
per held-out prompt (caption combinations never seen in training, shapes.py)
with `aigc image` and measures whether each image shows what its prompt says.

Per image (RGB, any size; measured at 64 x 64):
  background  the named colour (nearest in RGB, shapes.COLOURS) most frequent
              on the 2-pixel border;
  shape mask  the largest 4-connected region of pixels whose nearest named
              colour is not the background's;
  colour      the named colour most frequent in the mask;
  kind        the shape whose template (shapes.shape_mask, scaled to the
              mask's bounding box) has the highest IoU with the mask;
  size        "large" if the bounding box's longer side is over 25 px;
  position    the 3 x 3 grid cell nearest to the mask's centroid.
An image with no mask of at least 12 pixels has no colour and no kind.

usage: check_image_prompts.py AIGC [--model DIR] [--count N] [--out DIR] [--steps N] [--cfg X]
       [--min-colour F] [--min-kind F] [--json FILE]
Prints the fraction of images right on each property and exits 1 if the
shape colour or kind fraction is below its threshold (default 0.9 and 0.7).
"""
import argparse
import collections
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes  # noqa: E402

PALETTE = np.array([shapes.COLOURS[n] for n in shapes.COLOUR_NAMES], dtype=np.float32)
MIN_PIXELS = 12


def nearest_colours(rgb):
    """[..., 3] -> index of the nearest named colour of each pixel."""
    return np.argmin(((rgb[..., None, :].astype(np.float32) - PALETTE) ** 2).sum(-1), axis=-1)


def largest_region(mask):
    """The largest 4-connected region of a boolean mask."""
    h, w = mask.shape
    label = np.zeros((h, w), dtype=np.int32)
    best, best_size, n = None, 0, 0
    for y0, x0 in zip(*np.nonzero(mask)):
        if label[y0, x0]:
            continue
        n += 1
        label[y0, x0] = n
        stack, size = [(y0, x0)], 0
        while stack:
            y, x = stack.pop()
            size += 1
            for yy, xx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= yy < h and 0 <= xx < w and mask[yy, xx] and not label[yy, xx]:
                    label[yy, xx] = n
                    stack.append((yy, xx))
        if size > best_size:
            best, best_size = n, size
    return label == best if best else np.zeros_like(mask)


TEMPLATES = {s: shapes.shape_mask(s) for s in shapes.SHAPES}


def shape_kind(mask):
    ys, xs = np.nonzero(mask)
    crop = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = crop.shape
    scores = {}
    for name, t in TEMPLATES.items():
        scaled = np.asarray(Image.fromarray(t.astype(np.uint8) * 255).resize((w, h), Image.BILINEAR)) > 127
        scores[name] = (scaled & crop).sum() / max(1, (scaled | crop).sum())
    return max(scores, key=scores.get), scores


def classify(rgb):
    """An RGB uint8 image -> {background, colour, kind, size, position} (None where nothing was found)."""
    if rgb.shape[:2] != (shapes.SIZE, shapes.SIZE):
        rgb = np.asarray(Image.fromarray(rgb).resize((shapes.SIZE, shapes.SIZE), Image.BOX))
    names = nearest_colours(rgb)
    border = np.concatenate([names[:2].ravel(), names[-2:].ravel(), names[:, :2].ravel(), names[:, -2:].ravel()])
    bg = collections.Counter(border.tolist()).most_common(1)[0][0]
    result = dict(background=shapes.COLOUR_NAMES[bg], colour=None, kind=None, size=None, position=None)
    mask = largest_region(names != bg)
    if mask.sum() < MIN_PIXELS:
        return result
    result["colour"] = shapes.COLOUR_NAMES[collections.Counter(names[mask].tolist()).most_common(1)[0][0]]
    result["kind"], _ = shape_kind(mask)
    ys, xs = np.nonzero(mask)
    result["size"] = "large" if max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 > 25 else "small"
    cy, cx = ys.mean(), xs.mean()
    result["position"] = min(shapes.POSITIONS, key=lambda p: sum(
        (a - b) ** 2 for a, b in zip(shapes.shape_centre(result["size"], p), (cx, cy))))
    return result


PROPERTIES = [("colour", "colour"), ("kind", "shape"), ("background", "background"), ("size", "size"),
              ("position", "position")]


def score(scenes, results):
    """Fraction of results whose property equals the scene's, per property."""
    return {p: sum(r[p] == s[key] for s, r in zip(scenes, results)) / len(scenes) for p, key in PROPERTIES}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("aigc")
    ap.add_argument("--model", help="model folder (default: the program's default model)")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--out", default="out/check_image_prompts")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--cfg", type=float, default=7.0)
    ap.add_argument("--min-colour", type=float, default=0.9)
    ap.add_argument("--min-kind", type=float, default=0.7)
    ap.add_argument("--json", help="write the per-image results here")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    scenes = shapes.held_out_scenes(args.count)
    results = []
    for i, scene in enumerate(scenes):
        path = os.path.join(args.out, f"{i:03d}.png")
        cmd = [args.aigc, "image", "-p", shapes.caption(scene), "-o", path, "--seed", str(i + 1),
               "--steps", str(args.steps), "--cfg", str(args.cfg), "-t", "1"]
        if args.model:
            cmd += ["-m", args.model]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results.append(classify(np.asarray(Image.open(path).convert("RGB"))))
    figures = score(scenes, results)
    for p, _ in PROPERTIES:
        print(f"{p:<10} {figures[p] * 100:5.1f}% of {len(scenes)} held-out prompts")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"figures": figures, "images": [dict(prompt=shapes.caption(s), path=f"{i:03d}.png", found=r)
                                                      for i, (s, r) in enumerate(zip(scenes, results))]}, f, indent=1)
    ok = figures["colour"] >= args.min_colour and figures["kind"] >= args.min_kind
    print(f"shape colour {figures['colour'] * 100:.1f}% (>= {args.min_colour * 100:.0f}%), shape kind "
          f"{figures['kind'] * 100:.1f}% (>= {args.min_kind * 100:.0f}%): {'pass' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
