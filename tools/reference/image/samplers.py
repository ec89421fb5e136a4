"""Reference of the SD 1.x noise schedule and the samplers aigc implements, in
float64, written from the math (k-diffusion's formulation for Euler, Euler
ancestral, Heun and DPM++ 2M; diffusers' DDIMScheduler and LCMScheduler for
DDIM and LCM).

Latents may be numpy arrays or torch tensors: the samplers use only
arithmetic on them, with Python floats as scalars. An eps model is a function
(x_in, t) -> eps, t a Python float; a noise function () -> a standard-normal
array shaped like the latent. `sample` is what sd_ref.py and samplers_ref.py call.

Conventions (the same as src/image/samplers.h):
- k-diffusion samplers: c_in = 1/sqrt(sigma^2+1), eps = model(x * c_in, t(sigma)),
  denoised = x - sigma * eps; txt2img starts from noise * sigmas[0].
- DDIM and LCM work on the variance-preserving latent and call the model with
  the unscaled latent and the integer timestep; txt2img starts from the noise.
- img2img with strength s: the last max(1, floor(s * steps + 1/2)) steps of the
  full schedule; the start latent is image + noise * sigma (k-diffusion) or
  sqrt(ac[t]) * image + sqrt(1 - ac[t]) * noise (DDIM, LCM).
"""
import math

import numpy as np

TRAIN_STEPS = 1000
BETA_START, BETA_END = 0.00085, 0.012
KARRAS_RHO = 7.0
SAMPLERS = ["euler", "euler_a", "heun", "dpmpp_2m", "dpmpp_2m_karras", "ddim", "lcm"]
LCM_ORIGINAL_STEPS = 50
LCM_TIMESTEP_SCALING = 10.0
LCM_SIGMA_DATA = 0.5


class Schedule:
    """Scaled-linear betas; sigma(t) = sqrt((1 - ac_t) / ac_t)."""

    def __init__(self):
        betas = np.linspace(math.sqrt(BETA_START), math.sqrt(BETA_END), TRAIN_STEPS, dtype=np.float64) ** 2
        self.alphas_cumprod = np.cumprod(1.0 - betas)
        self.sigmas = np.sqrt((1.0 - self.alphas_cumprod) / self.alphas_cumprod)
        self.log_sigmas = np.log(self.sigmas)
        self.sigma_min, self.sigma_max = float(self.sigmas[0]), float(self.sigmas[-1])

    def sigma_of_t(self, t):
        """Fractional t -> sigma, interpolating log sigma between the integer steps."""
        t = min(max(float(t), 0.0), TRAIN_STEPS - 1.0)
        lo = int(math.floor(t))
        hi = min(lo + 1, TRAIN_STEPS - 1)
        w = t - lo
        return math.exp((1 - w) * self.log_sigmas[lo] + w * self.log_sigmas[hi])

    def t_of_sigma(self, sigma):
        """sigma -> fractional t, the inverse interpolation (clamped to [0, 999])."""
        if sigma <= self.sigma_min:
            return 0.0
        if sigma >= self.sigma_max:
            return TRAIN_STEPS - 1.0
        ls = math.log(sigma)
        # the last integer step whose log sigma is <= ls
        lo = int(np.searchsorted(self.log_sigmas, ls, side="right")) - 1
        lo = min(max(lo, 0), TRAIN_STEPS - 2)
        w = (self.log_sigmas[lo] - ls) / (self.log_sigmas[lo] - self.log_sigmas[lo + 1])
        w = min(max(w, 0.0), 1.0)
        return lo + w

    def sigmas_normal(self, steps):
        """k-diffusion get_sigmas: t evenly from 999 down to 0, then a final 0."""
        ts = np.linspace(TRAIN_STEPS - 1, 0, steps)
        return [self.sigma_of_t(t) for t in ts] + [0.0]

    def sigmas_karras(self, steps):
        """Karras et al. (2022) eq. 5 with rho 7 between sigma_max and sigma_min, then a final 0."""
        lo, hi = self.sigma_min ** (1 / KARRAS_RHO), self.sigma_max ** (1 / KARRAS_RHO)
        ramp = np.linspace(0, 1, steps)
        return [float((hi + r * (lo - hi)) ** KARRAS_RHO) for r in ramp] + [0.0]

    def sigmas_for(self, steps, spacing):
        return self.sigmas_karras(steps) if spacing == "karras" else self.sigmas_normal(steps)

    def ddim_timesteps(self, steps):
        """diffusers DDIMScheduler, "leading" spacing with steps_offset 1 (SD 1.5's config)."""
        ratio = TRAIN_STEPS // steps
        return [i * ratio + 1 for i in reversed(range(steps))]

    def lcm_timesteps(self, steps):
        """diffusers LCMScheduler: `steps` evenly chosen indices of the 50-step distillation schedule."""
        k = TRAIN_STEPS // LCM_ORIGINAL_STEPS
        origin = [(i + 1) * k - 1 for i in reversed(range(LCM_ORIGINAL_STEPS))]
        return [origin[j * LCM_ORIGINAL_STEPS // steps] for j in range(steps)]


def img2img_steps(steps, strength):
    return max(1, min(steps, int(math.floor(strength * steps + 0.5))))


# ---- k-diffusion samplers over the eps model -------------------------------------------

def _denoiser(sched, eps_model, counter):
    def denoise(x, sigma):
        counter[0] += 1
        eps = eps_model(x * (1.0 / math.sqrt(sigma * sigma + 1.0)), sched.t_of_sigma(sigma))
        return x - eps * sigma
    return denoise


def euler(denoise, x, sigmas, noise_fn):
    for i in range(len(sigmas) - 1):
        d = (x - denoise(x, sigmas[i])) / sigmas[i]
        x = x + d * (sigmas[i + 1] - sigmas[i])
    return x


def euler_ancestral(denoise, x, sigmas, noise_fn):
    for i in range(len(sigmas) - 1):
        s, s_next = sigmas[i], sigmas[i + 1]
        denoised = denoise(x, s)
        # eta 1: the step to s_next splits into a deterministic part down to
        # s_down and fresh noise of size s_up, with s_down^2 + s_up^2 = s_next^2.
        s_up = min(s_next, math.sqrt(s_next ** 2 * (s ** 2 - s_next ** 2) / s ** 2))
        s_down = math.sqrt(s_next ** 2 - s_up ** 2)
        x = x + (x - denoised) / s * (s_down - s)
        if s_next > 0:
            x = x + noise_fn() * s_up
    return x


def heun(denoise, x, sigmas, noise_fn):
    for i in range(len(sigmas) - 1):
        s, s_next = sigmas[i], sigmas[i + 1]
        d = (x - denoise(x, s)) / s
        if s_next == 0:
            x = x + d * (s_next - s)
        else:
            x2 = x + d * (s_next - s)
            d2 = (x2 - denoise(x2, s_next)) / s_next
            x = x + (d + d2) * (0.5 * (s_next - s))
    return x


def dpmpp_2m(denoise, x, sigmas, noise_fn):
    # lambda = -log sigma; exact exponential-integrator step on denoised,
    # with the second-order correction from the previous denoised.
    old = None
    for i in range(len(sigmas) - 1):
        s, s_next = sigmas[i], sigmas[i + 1]
        denoised = denoise(x, s)
        if s_next == 0:
            x = denoised
        else:
            h = math.log(s) - math.log(s_next)
            if old is None:
                d = denoised
            else:
                r = (math.log(sigmas[i - 1]) - math.log(s)) / h
                d = denoised * (1 + 1 / (2 * r)) - old * (1 / (2 * r))
            x = x * (s_next / s) - d * math.expm1(-h)
        old = denoised
    return x


K_SAMPLERS = {"euler": euler, "euler_a": euler_ancestral, "heun": heun, "dpmpp_2m": dpmpp_2m,
              "dpmpp_2m_karras": dpmpp_2m}


# ---- DDIM and LCM on the variance-preserving latent -------------------------------------

def ddim(sched, eps_model, x, timesteps, ratio, counter):
    ac = sched.alphas_cumprod
    for t in timesteps:
        counter[0] += 1
        eps = eps_model(x, float(t))
        a, a_prev = ac[t], (ac[t - ratio] if t - ratio >= 0 else ac[0])
        x0 = (x - eps * math.sqrt(1 - a)) / math.sqrt(a)
        x = x0 * math.sqrt(a_prev) + eps * math.sqrt(1 - a_prev)
    return x


def lcm(sched, eps_model, x, timesteps, noise_fn, counter):
    ac = sched.alphas_cumprod
    for j, t in enumerate(timesteps):
        counter[0] += 1
        eps = eps_model(x, float(t))
        a = ac[t]
        st = t * LCM_TIMESTEP_SCALING
        c_skip = LCM_SIGMA_DATA ** 2 / (st ** 2 + LCM_SIGMA_DATA ** 2)
        c_out = st / math.sqrt(st ** 2 + LCM_SIGMA_DATA ** 2)
        x0 = (x - eps * math.sqrt(1 - a)) / math.sqrt(a)
        denoised = x0 * c_out + x * c_skip
        if j == len(timesteps) - 1:
            x = denoised
        else:
            a_next = ac[timesteps[j + 1]]
            x = denoised * math.sqrt(a_next) + noise_fn() * math.sqrt(1 - a_next)
    return x


def sample(sched, kind, steps, spacing, eps_model, noise_fn, x, strength=1.0, noise=None):
    """txt2img when noise is None (x: unit-variance noise), else img2img (x: image latent).
    Returns (final latent, number of model evaluations)."""
    counter = [0]
    run = img2img_steps(steps, strength)
    if kind in K_SAMPLERS:
        sigmas = sched.sigmas_for(steps, "karras" if kind == "dpmpp_2m_karras" else spacing)[steps - run:]
        x = x * sigmas[0] if noise is None else x + noise * sigmas[0]
        x = K_SAMPLERS[kind](_denoiser(sched, eps_model, counter), x, sigmas, noise_fn)
        return x, counter[0]
    ts = (sched.ddim_timesteps(steps) if kind == "ddim" else sched.lcm_timesteps(steps))[steps - run:]
    if noise is not None:
        a = sched.alphas_cumprod[ts[0]]
        x = x * math.sqrt(a) + noise * math.sqrt(1 - a)
    if kind == "ddim":
        return ddim(sched, eps_model, x, ts, TRAIN_STEPS // steps, counter), counter[0]
    if kind == "lcm":
        return lcm(sched, eps_model, x, ts, noise_fn, counter), counter[0]
    raise ValueError("unknown sampler " + kind)
