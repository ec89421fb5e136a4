"""The generated data set of the default image model: one shape of a named
colour, size and position on a plain background of another colour, with its
caption, e.g. "a small red star on a blue background, top left".

Vocabulary: 8 colours x 4 shapes x 2 sizes x 9 positions x 7 backgrounds.
Held out (never in training): each shape in two colours (8 (colour, shape)
pairs, every colour once) and each shape colour on one background colour
(8 (colour, background) pairs). Every colour, shape and background still
occurs in training, only these combinations do not.

Scenes are drawn at 4x and box-filtered down, so edges are anti-aliased. The
same drawing gives the shape templates of the prompt-adherence checker
(check_image_prompts.py).
"""
import math
import random

import numpy as np
from PIL import Image, ImageDraw

SIZE = 64  # pixels, square
SUPERSAMPLE = 4

COLOURS = {
    "red": (220, 40, 40),
    "orange": (250, 150, 30),
    "yellow": (245, 225, 50),
    "green": (40, 165, 60),
    "blue": (40, 70, 210),
    "purple": (145, 60, 190),
    "white": (245, 245, 245),
    "black": (25, 25, 25),
}
COLOUR_NAMES = list(COLOURS)
SHAPES = ["circle", "square", "triangle", "star"]
SIZES = {"small": 18, "large": 32}  # side of the shape's square box, pixels
POSITIONS = ["top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right"]


def held_out_colour_shape(colour, shape):
    """Shape k is never seen in training in colours 2k and 2k + 1."""
    return COLOUR_NAMES.index(colour) // 2 == SHAPES.index(shape)


def held_out_colour_background(colour, background):
    """Shape colour c is never seen in training on background c + 3 (mod 8)."""
    return COLOUR_NAMES.index(background) == (COLOUR_NAMES.index(colour) + 3) % len(COLOUR_NAMES)


def is_held_out(scene):
    return held_out_colour_shape(scene["colour"], scene["shape"]) or \
        held_out_colour_background(scene["colour"], scene["background"])


def caption(scene):
    return f"a {scene['size']} {scene['colour']} {scene['shape']} on a {scene['background']} background, " \
           f"{scene['position']}"


def shape_centre(size, position):
    """Pixel centre of a shape of `size` ("small"/"large") at a named position (a 3 x 3 grid)."""
    side = SIZES[size]
    margin = side / 2 + 3
    step = (SIZE - 2 * margin) / 2
    col = 0 if "left" in position else 2 if "right" in position else 1
    row = 0 if "top" in position else 2 if "bottom" in position else 1
    return margin + col * step, margin + row * step


def shape_polygon(shape, cx, cy, side):
    """The outline of a triangle, square or star in a side x side box centred at (cx, cy)."""
    r = side / 2
    if shape == "square":
        r *= 0.85
        return [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    if shape == "triangle":
        return [(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)]
    if shape == "star":
        points = []
        for k in range(10):
            radius = r if k % 2 == 0 else r * 0.42
            angle = -math.pi / 2 + k * math.pi / 5
            points.append((cx + radius * math.cos(angle), cy + r * 0.1 + radius * math.sin(angle)))
        return points
    raise ValueError(f"unknown shape '{shape}'")


def draw_shape(draw, shape, cx, cy, side, fill):
    if shape == "circle":
        r = side / 2
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        draw.polygon(shape_polygon(shape, cx, cy, side), fill=fill)


def render(scene, jitter=(0.0, 0.0, 1.0)):
    """The scene as an RGB uint8 array [SIZE, SIZE, 3]; jitter = (dx, dy, scale) of the shape."""
    s = SUPERSAMPLE
    img = Image.new("RGB", (SIZE * s, SIZE * s), COLOURS[scene["background"]])
    cx, cy = shape_centre(scene["size"], scene["position"])
    dx, dy, scale = jitter
    draw_shape(ImageDraw.Draw(img), scene["shape"], (cx + dx) * s, (cy + dy) * s, SIZES[scene["size"]] * scale * s,
               COLOURS[scene["colour"]])
    return np.asarray(img.resize((SIZE, SIZE), Image.BOX))


def shape_mask(shape, side=64):
    """A binary template of `shape`, cropped to its bounding box (for the checker)."""
    canvas = side * 2
    img = Image.new("L", (canvas, canvas), 0)
    draw_shape(ImageDraw.Draw(img), shape, canvas / 2, canvas / 2, side, 255)
    m = np.asarray(img) > 127
    ys, xs = np.nonzero(m)
    return m[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def all_scenes():
    scenes = []
    for colour in COLOUR_NAMES:
        for shape in SHAPES:
            for background in COLOUR_NAMES:
                if background == colour:
                    continue
                for size in SIZES:
                    for position in POSITIONS:
                        scenes.append(dict(colour=colour, shape=shape, background=background, size=size,
                                           position=position))
    return scenes


def training_scenes():
    return [s for s in all_scenes() if not is_held_out(s)]


def held_out_scenes(count, seed=1234):
    """`count` held-out scenes, chosen with a fixed seed: half of them with an unseen (colour, shape), half with
    an unseen (colour, background); the same list on every call."""
    rng = random.Random(seed)
    unseen_shape = [s for s in all_scenes() if held_out_colour_shape(s["colour"], s["shape"])]
    unseen_background = [s for s in all_scenes() if held_out_colour_background(s["colour"], s["background"])
                         and not held_out_colour_shape(s["colour"], s["shape"])]
    half = count // 2
    return rng.sample(unseen_shape, half) + rng.sample(unseen_background, count - half)


def training_images(count, seed):
    """`count` training (image uint8 [count, SIZE, SIZE, 3], captions), scenes drawn uniformly with small
    jitter of position (+-2 px) and size (+-8%)."""
    rng = random.Random(seed)
    scenes = training_scenes()
    images = np.empty((count, SIZE, SIZE, 3), dtype=np.uint8)
    captions = []
    for i in range(count):
        scene = rng.choice(scenes)
        images[i] = render(scene, (rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(0.92, 1.08)))
        captions.append(caption(scene))
    return images, captions


def codec_images(count, seed):
    """`count` uncaptioned images [count, SIZE, SIZE, 3] for the VAE alone: one or two of the same shapes, of any
    side from 12 to 40 px and at any place, in random RGB colours on a random RGB background (the shapes at least
    100 apart from it in RGB distance). The captioned scenes pair a few named colours; a VAE trained on them alone
    reproduced the pairs it had seen and blurred the others (held-out pairs such as red on green came back
    brownish), because its group norms mix the whole image's colours."""
    rng = random.Random(seed)
    images = np.empty((count, SIZE, SIZE, 3), dtype=np.uint8)
    s = SUPERSAMPLE

    def random_colour():
        return tuple(rng.randrange(256) for _ in range(3))

    for i in range(count):
        background = random_colour()
        img = Image.new("RGB", (SIZE * s, SIZE * s), background)
        draw = ImageDraw.Draw(img)
        for _ in range(rng.choice((1, 1, 2))):
            fill = random_colour()
            while sum((a - b) ** 2 for a, b in zip(fill, background)) < 100 ** 2:
                fill = random_colour()
            side = rng.uniform(12, 40)
            cx, cy = rng.uniform(side / 2, SIZE - side / 2), rng.uniform(side / 2, SIZE - side / 2)
            draw_shape(draw, rng.choice(SHAPES), cx * s, cy * s, side * s, fill)
        images[i] = np.asarray(img.resize((SIZE, SIZE), Image.BOX))
    return images
