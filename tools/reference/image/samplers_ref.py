"""Writes the expected values of the noise schedule and of every sampler on a
toy eps model, for src/image/noise_schedule_test.cpp and samplers_test.cpp.

usage: /usr/bin/python3 tools/reference/image/samplers_ref.py OUT_DIR
writes OUT_DIR/samplers/{schedule,sigmas,noise,cases}.txt, plain text, one
record a line: a name, its fields, then the values (float64, repr precision):
  schedule.txt  alphas_cumprod|sigmas  v0..v999
                sigma_of_t  t sigma  t sigma ...
                t_of_sigma  sigma t  sigma t ...
  sigmas.txt    normal|karras  STEPS  sigma0..sigmaSTEPS
  noise.txt     init|image|img2img_noise  v0..v(N-1)      (float32 values)
                stream  v0..                              (the noise function's samples, in order)
  cases.txt     txt2img|img2img  SAMPLER  SPACING  STEPS  STRENGTH  EVALS  x0..x(N-1)
The toy model (the C++ test defines the same): eps_i = tanh(0.8 x_i + b_i log(t + 1)),
b_i = 0.25 cos(0.7 i), over a latent of N = 96 values.
"""
import math
import os
import sys

import numpy as np

import samplers

N = 96
TOY_A = 0.8
TOY_B = 0.25 * np.cos(0.7 * np.arange(N, dtype=np.float64))
STREAM_DRAWS = 60  # noise draws available per case (euler_a at 50 steps uses 49)


def toy_eps(x, t):
    return np.tanh(TOY_A * x + TOY_B * math.log(t + 1.0))


def line(*fields):
    return " ".join(repr(float(f)) if isinstance(f, (float, np.floating)) else str(f) for f in fields) + "\n"


def main():
    out = os.path.join(sys.argv[1], "samplers")
    os.makedirs(out, exist_ok=True)
    sched = samplers.Schedule()

    with open(os.path.join(out, "schedule.txt"), "w") as f:
        f.write(line("alphas_cumprod", *sched.alphas_cumprod))
        f.write(line("sigmas", *sched.sigmas))
        ts = [0.0, 0.25, 1.0, 17.5, 123.456, 500.0, 998.5, 999.0]
        f.write(line("sigma_of_t", *[v for t in ts for v in (t, sched.sigma_of_t(t))]))
        ss = [0.01, sched.sigma_min, 0.03, 0.1, 0.5, 1.0, 2.5, 7.0, 14.0, sched.sigma_max, 20.0]
        f.write(line("t_of_sigma", *[v for s in ss for v in (s, sched.t_of_sigma(s))]))

    with open(os.path.join(out, "sigmas.txt"), "w") as f:
        for spacing in ("normal", "karras"):
            for steps in (1, 2, 3, 10, 20, 25, 50):
                f.write(line(spacing, steps, *sched.sigmas_for(steps, spacing)))

    rng = np.random.RandomState(20240229)
    arrays = {name: rng.standard_normal(n).astype(np.float32).astype(np.float64)
              for name, n in (("init", N), ("image", N), ("img2img_noise", N), ("stream", N * STREAM_DRAWS))}
    arrays["image"] *= 0.8  # an encoded image latent is about this size
    with open(os.path.join(out, "noise.txt"), "w") as f:
        for name, a in arrays.items():
            f.write(line(name, *a))

    def run(mode, kind, spacing, steps, strength):
        stream = iter(arrays["stream"].reshape(STREAM_DRAWS, N))
        if mode == "txt2img":
            x, evals = samplers.sample(sched, kind, steps, spacing, toy_eps, lambda: next(stream),
                                       arrays["init"].copy())
        else:
            x, evals = samplers.sample(sched, kind, steps, spacing, toy_eps, lambda: next(stream),
                                       arrays["image"].copy(), strength, arrays["img2img_noise"])
        return line(mode, kind, spacing, steps, float(strength), evals, *x)

    with open(os.path.join(out, "cases.txt"), "w") as f:
        for kind in ("euler", "euler_a", "heun", "dpmpp_2m"):
            for spacing in ("normal", "karras"):
                for steps in (1, 2, 5, 20, 50):
                    f.write(run("txt2img", kind, spacing, steps, 1.0))
        for steps in (1, 2, 5, 20, 50):
            # "DPM++ 2M Karras" uses the Karras spacing whatever spacing is asked for
            f.write(run("txt2img", "dpmpp_2m_karras", "normal", steps, 1.0))
        for steps in (1, 4, 20, 30, 50, 999):
            f.write(run("txt2img", "ddim", "normal", steps, 1.0))
        for steps in (1, 2, 4, 8, 50):
            f.write(run("txt2img", "lcm", "normal", steps, 1.0))
        for kind in samplers.SAMPLERS:
            for strength in (0.01, 0.3, 0.75, 1.0):
                f.write(run("img2img", kind, "normal", 10, strength))
        for kind in ("euler_a", "dpmpp_2m"):
            f.write(run("img2img", kind, "karras", 20, 0.6))


if __name__ == "__main__":
    main()
