// `aigc bench image -m MODEL`: one sampling step with guidance (the UNet on a
// batch of 2: uncond and cond) at 256x256 and 512x512, and the VAE decode of
// a 512x512 image, each in seconds and as a fraction of this machine's FLOP
// ceiling (the FMA loop of `aigc bench kernels`), counting the models' real
// FLOPs (Unet::flops, Vae::decode_flops: multiply-adds x 2). Medians of
// repeated runs on random inputs; fewer repeats at 512. Each line also gives
// the process CPU time and GFLOP per CPU second, the steadier figure on a
// shared machine (against the ceiling per thread).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/llm_session.h"
#include "core/threads.h"
#include "image/clip_tokenizer.h"
#include "image/gaussian_rng.h"
#include "image/sd_checkpoint.h"
#include "image/unet.h"
#include "image/vae.h"
#include "kernels/ceilings.h"

namespace aigc {

namespace {

struct BenchImageOptions {
  std::string model;
  int threads = 0;
  int runs = 3;        // at 256x256; 512x512 runs max(1, runs - 1)
  bool quick = false;  // 64x64 only, one run: a smoke test
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

struct Timing {
  double seconds = 0, cpu_seconds = 0;  // medians
};

// Median wall and process CPU seconds of `runs` calls of f.
template <class F>
Result<Timing> time_runs(int runs, F&& f) {
  std::vector<double> t, cpu;
  for (int i = 0; i < runs; ++i) {
    const double t0 = now_seconds();
    const std::clock_t c0 = std::clock();
    AIGC_RETURN_IF_ERROR(f());
    cpu.push_back(double(std::clock() - c0) / CLOCKS_PER_SEC);
    t.push_back(now_seconds() - t0);
  }
  return Timing{median(t), median(cpu)};
}

void report(const char* what, const Timing& t, double flops, double peak_gflops, int threads) {
  const double gflops = flops / t.seconds / 1e9, per_cpu = flops / t.cpu_seconds / 1e9;
  std::printf("%-34s %8.3f s  %7.1f GFLOP (real)  %7.1f GFLOP/s = %5.1f%% of the FLOP ceiling;  %8.3f CPU s, "
              "%5.1f GFLOP per CPU s = %5.1f%% of the ceiling per thread\n",
              what, t.seconds, flops / 1e9, gflops, 100.0 * gflops / peak_gflops, t.cpu_seconds, per_cpu,
              100.0 * per_cpu * threads / peak_gflops);
  std::fflush(stdout);
}

Status bench_image(const BenchImageOptions& o) {
  set_num_threads(o.threads);
  const int threads = num_threads();
  const double t_load = now_seconds();
  AIGC_ASSIGN_OR_RETURN(SdCheckpoint ckpt, SdCheckpoint::open(o.model));
  AIGC_ASSIGN_OR_RETURN(Unet unet, Unet::load(ckpt.unet()));
  AIGC_ASSIGN_OR_RETURN(Vae vae, Vae::load(ckpt.vae()));
  const double load_seconds = now_seconds() - t_load;
  const UnetConfig& cfg = unet.config();
  std::printf("model: %s (UNet %lld channels, context %lld), %d threads, UNet + VAE loaded in %.3f s\n",
              ckpt.name().c_str(), (long long)cfg.model_channels, (long long)cfg.context_dim, threads, load_seconds);
  std::printf("measuring this machine's FLOP ceiling...\n");
  std::fflush(stdout);
  const double peak = o.quick ? measure_peak_gflops(threads, 2'000'000) : measure_peak_gflops(threads);
  std::printf("  FMA peak %.1f GFLOP/s\n", peak);

  const int64_t n_tokens = kClipWindowLength;
  GaussianRng rng(1);
  std::vector<float> context(size_t(2 * n_tokens * cfg.context_dim));
  rng.fill(context.data(), int64_t(context.size()));
  const std::vector<int> sides = o.quick ? std::vector<int>{64} : std::vector<int>{256, 512};
  for (int side : sides) {
    const int64_t h = side / 8, w = side / 8;
    std::vector<float> x(size_t(2 * cfg.in_channels * h * w)), out(size_t(2 * cfg.out_channels * h * w));
    rng.fill(x.data(), int64_t(x.size()));
    const float t[2] = {500.0f, 500.0f};
    const int runs = o.quick ? 1 : (side >= 512 ? std::max(1, o.runs - 1) : o.runs);
    AIGC_ASSIGN_OR_RETURN(Timing s, time_runs(runs, [&] {
                            return unet.forward(x.data(), 2, h, w, t, context.data(), n_tokens, out.data());
                          }));
    const std::string what = "sampling step " + std::to_string(side) + "x" + std::to_string(side) + " (cfg, batch 2)";
    report(what.c_str(), s, unet.flops(2, h, w, n_tokens), peak, threads);
  }
  const int side = o.quick ? 64 : 512;
  const int64_t h = side / 8, w = side / 8;
  std::vector<float> z(size_t(vae.config().latent_channels * h * w)), image(size_t(3 * side * side));
  rng.fill(z.data(), int64_t(z.size()));
  AIGC_ASSIGN_OR_RETURN(Timing s, time_runs(o.quick ? 1 : std::max(1, o.runs - 1),
                                            [&] { return vae.decode(z.data(), h, w, image.data()); }));
  const std::string what = "VAE decode " + std::to_string(side) + "x" + std::to_string(side);
  report(what.c_str(), s, vae.decode_flops(h, w), peak, threads);
  return Status();
}

}  // namespace

void add_bench_image_command(CLI::App& bench) {
  auto o = std::make_shared<BenchImageOptions>();
  CLI::App* b = bench.add_subcommand(
      "image", "Stable Diffusion sampling step and VAE decode speed against this machine's FLOP ceiling");
  b->add_option("-m,--model", o->model, "checkpoint: a single .safetensors file or a diffusers folder")->required();
  b->add_option("-t,--threads", o->threads, "threads (0 = all cores)")->capture_default_str();
  b->add_option("-r,--runs", o->runs, "repetitions at 256x256 (the median is reported; 512x512 runs one fewer)")
      ->capture_default_str()->check(CLI::Range(1, 100));
  b->add_flag("--quick", o->quick, "64x64 only, one run: a smoke test, not a measurement");
  b->callback([o] {
    Status s = bench_image(*o);
    if (!s.ok()) throw CLI::RuntimeError(print_error(s));
  });
}

}  // namespace aigc
