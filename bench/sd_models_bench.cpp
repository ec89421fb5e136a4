// Speed of the full-size Stable Diffusion 1.5 models with random F16 weights
// (real checkpoints of the same shapes run at the same speed), reported as the
// models' real FLOPs (Unet::flops, Vae::decode_flops, ClipTextEncoder::flops)
// per CPU second of the whole process (counter "FLOPS"; with N threads, N
// times that is the rate on an idle machine). Threads: OMP_NUM_THREADS;
// AIGC_ISA=avx2 runs the AVX2 kernels. Building the weights takes seconds;
// one UNet call at 64 takes over 10 CPU seconds. Pick with --benchmark_filter:
//
//   build-release/bench/sd_models_bench --benchmark_filter=sd15/unet/latent32
//
//   sd15/unet/latent<N>        one UNet call, N x N latent, batch 2 (uncond and
//                              cond of a guided step), 77 context tokens, after
//                              a warm-up call (a sampler's later steps)
//   sd15/vae_decode/latent32   the decoder, 32 x 32 latent -> 256 x 256 image;
//                              also its peak activation memory ("peak_activation_MB")
//   sd15/clip_text/window77    the text encoder on one 77-token window
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bench_main.h"
#include "core/fp16.h"
#include "image/clip_text_encoder.h"
#include "image/unet.h"
#include "image/vae.h"

namespace aigc {
namespace {

void set_flops(benchmark::State& state, double flops_per_iter) {
  state.counters["FLOPS"] = benchmark::Counter(flops_per_iter * double(state.iterations()), benchmark::Counter::kIsRate);
}

// Adds SD 1.5-shaped random F16 weights (UnetConfig's layout) to `ws`.
void add_random_sd15(WeightStore& ws, int64_t latent_channels) {
  uint64_t state = 88172645463325252ull;
  auto add = [&](const std::string& name, std::initializer_list<int64_t> shape) {
    Tensor t = ws.add_owned(name, DType::F16, shape);
    uint16_t* p = t.ptr<uint16_t>();
    const float scale = name.ends_with("weight") && t.n_dims > 1 ? 1.0f / std::sqrt(float(t.numel() / t.shape[0])) : 0.1f;
    for (int64_t i = 0, n = t.numel(); i < n; ++i) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      p[i] = fp32_to_fp16(scale * (float(state >> 40) / float(1 << 24) * 2 - 1));
    }
  };
  auto conv = [&](const std::string& p, int64_t co, int64_t ci, int64_t k) {
    add(p + "weight", {co, ci, k, k});
    add(p + "bias", {co});
  };
  auto linear = [&](const std::string& p, int64_t o, int64_t i, bool bias) {
    add(p + "weight", {o, i});
    if (bias) add(p + "bias", {o});
  };
  auto norm = [&](const std::string& p, int64_t c) { add(p + "weight", {c}), add(p + "bias", {c}); };
  auto res = [&](const std::string& p, int64_t ci, int64_t co) {
    norm(p + "in_layers.0.", ci), conv(p + "in_layers.2.", co, ci, 3), linear(p + "emb_layers.1.", co, 1280, true);
    norm(p + "out_layers.0.", co), conv(p + "out_layers.3.", co, co, 3);
    if (ci != co) conv(p + "skip_connection.", co, ci, 1);
  };
  auto st = [&](const std::string& p, int64_t c) {
    norm(p + "norm.", c), conv(p + "proj_in.", c, c, 1), conv(p + "proj_out.", c, c, 1);
    const std::string b = p + "transformer_blocks.0.";
    norm(b + "norm1.", c), norm(b + "norm2.", c), norm(b + "norm3.", c);
    for (const char* a : {"attn1.", "attn2."}) {
      const int64_t kv = a[4] == '1' ? c : 768;
      linear(b + a + "to_q.", c, c, false), linear(b + a + "to_k.", c, kv, false);
      linear(b + a + "to_v.", c, kv, false), linear(b + a + "to_out.0.", c, c, true);
    }
    linear(b + "ff.net.0.proj.", 8 * c, c, true), linear(b + "ff.net.2.", c, 4 * c, true);
  };
  const int64_t mult[] = {1, 2, 4, 4};
  linear("time_embed.0.", 1280, 320, true), linear("time_embed.2.", 1280, 1280, true);
  conv("input_blocks.0.0.", 320, latent_channels, 3);
  std::vector<int64_t> skips = {320};
  int64_t ch = 320, k = 1;
  for (int level = 0; level < 4; ++level) {
    for (int i = 0; i < 2; ++i, ++k) {
      res("input_blocks." + std::to_string(k) + ".0.", ch, 320 * mult[level]);
      ch = 320 * mult[level];
      if (level < 3) st("input_blocks." + std::to_string(k) + ".1.", ch);
      skips.push_back(ch);
    }
    if (level < 3) conv("input_blocks." + std::to_string(k++) + ".0.op.", ch, ch, 3), skips.push_back(ch);
  }
  res("middle_block.0.", ch, ch), st("middle_block.1.", ch), res("middle_block.2.", ch, ch);
  k = 0;
  for (int level = 3; level >= 0; --level) {
    for (int i = 0; i <= 2; ++i, ++k) {
      const std::string p = "output_blocks." + std::to_string(k) + ".";
      res(p + "0.", ch + skips.back(), 320 * mult[level]);
      skips.pop_back();
      ch = 320 * mult[level];
      if (level < 3) st(p + "1.", ch);
      if (level > 0 && i == 2) conv(p + (level < 3 ? "2" : "1") + ".conv.", ch, ch, 3);
    }
  }
  norm("out.0.", 320), conv("out.2.", 4, 320, 3);
}

// The SD 1.x decoder's tensors (ch 128, ch_mult 1, 2, 4, 4, 2 res blocks, z 4)
// as owned F16 tensors, uniform in +-1/sqrt(fan_in).
void add_full_size_decoder(WeightStore& store) {
  std::mt19937 rng(7);
  auto add = [&](const std::string& name, std::initializer_list<int64_t> shape) {
    Tensor t = store.add_owned(name, DType::F16, shape);
    const int64_t fan_in = shape.size() == 1 ? 1 : t.numel() / shape.begin()[0];
    std::uniform_real_distribution<float> dist(-1.0f / std::sqrt(float(fan_in)), 1.0f / std::sqrt(float(fan_in)));
    const bool norm_weight = name.find("norm") != std::string::npos && name.ends_with(".weight");
    for (int64_t i = 0; i < t.numel(); ++i) t.ptr<uint16_t>()[i] = fp32_to_fp16(norm_weight ? 1.0f : dist(rng));
  };
  auto conv = [&](const std::string& p, int64_t co, int64_t ci, int64_t k) {
    add(p + ".weight", {co, ci, k, k});
    add(p + ".bias", {co});
  };
  auto norm = [&](const std::string& p, int64_t c) {
    add(p + ".weight", {c});
    add(p + ".bias", {c});
  };
  auto res = [&](const std::string& p, int64_t ci, int64_t co) {
    norm(p + ".norm1", ci);
    conv(p + ".conv1", co, ci, 3);
    norm(p + ".norm2", co);
    conv(p + ".conv2", co, co, 3);
    if (ci != co) conv(p + ".nin_shortcut", co, ci, 1);
  };
  conv("post_quant_conv", 4, 4, 1);
  conv("decoder.conv_in", 512, 4, 3);
  res("decoder.mid.block_1", 512, 512);
  norm("decoder.mid.attn_1.norm", 512);
  for (const char* p : {"q", "k", "v", "proj_out"}) conv(std::string("decoder.mid.attn_1.") + p, 512, 512, 1);
  res("decoder.mid.block_2", 512, 512);
  const int64_t mult[] = {1, 2, 4, 4};
  int64_t c = 512;
  for (int i = 3; i >= 0; --i) {
    const std::string p = "decoder.up." + std::to_string(i);
    for (int j = 0; j < 3; ++j) {
      res(p + ".block." + std::to_string(j), c, 128 * mult[i]);
      c = 128 * mult[i];
    }
    if (i != 0) conv(p + ".upsample.conv", c, c, 3);
  }
  norm("decoder.norm_out", c);
  conv("decoder.conv_out", 3, c, 3);
}

constexpr int64_t kClipVocab = 49408, kClipPositions = 77, kClipDim = 768;

// The SD 1.5 text encoder's tensors (dim 768, 12 layers, ffn 3072) as owned
// F16 tensors, normal with standard deviation 0.02 (layer-norm weights around 1).
void add_full_size_clip_text(WeightStore& store) {
  const int64_t d = kClipDim, f = 3072, n_layers = 12;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto random = [&](const std::string& name, std::initializer_list<int64_t> shape, float scale, float offset) {
    Tensor t = store.add_owned(name, DType::F16, shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.ptr<uint16_t>()[i] = fp32_to_fp16(offset + scale * normal(rng));
  };
  random("text_model.embeddings.token_embedding.weight", {kClipVocab, d}, 0.02f, 0);
  random("text_model.embeddings.position_embedding.weight", {kClipPositions, d}, 0.01f, 0);
  for (int64_t i = 0; i < n_layers; ++i) {
    const std::string p = "text_model.encoder.layers." + std::to_string(i) + ".";
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      random(p + "self_attn." + proj + ".weight", {d, d}, 0.02f, 0);
      random(p + "self_attn." + proj + ".bias", {d}, 0.02f, 0);
    }
    for (const char* norm : {"layer_norm1", "layer_norm2"}) {
      random(p + norm + ".weight", {d}, 0.02f, 1);
      random(p + norm + ".bias", {d}, 0.02f, 0);
    }
    random(p + "mlp.fc1.weight", {f, d}, 0.02f, 0);
    random(p + "mlp.fc1.bias", {f}, 0.02f, 0);
    random(p + "mlp.fc2.weight", {d, f}, 0.02f, 0);
    random(p + "mlp.fc2.bias", {d}, 0.02f, 0);
  }
  random("text_model.final_layer_norm.weight", {d}, 0.02f, 1);
  random("text_model.final_layer_norm.bias", {d}, 0.02f, 0);
}

void unet(benchmark::State& state, int64_t side) {
  WeightStore weights("UNet");
  add_random_sd15(weights, 4);
  Result<Unet> unet = Unet::load(weights);
  if (!unet.ok()) {
    state.SkipWithError(unet.status().message().c_str());
    return;
  }
  const int64_t n = 2, n_tokens = 77;
  std::vector<float> x(static_cast<size_t>(n * 4 * side * side), 0.5f), out(x.size());
  std::vector<float> context(static_cast<size_t>(n * n_tokens * 768), 0.25f);
  const float t[2] = {999, 500};
  auto forward = [&] { return unet->forward(x.data(), n, side, side, t, context.data(), n_tokens, out.data()); };
  if (Status s = forward(); !s.ok()) {  // warm-up, as a sampler's first step
    state.SkipWithError(s.message().c_str());
    return;
  }
  for (auto _ : state) {
    if (Status s = forward(); !s.ok()) {
      state.SkipWithError(s.message().c_str());
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_flops(state, unet->flops(n, side, side, n_tokens));
}

void vae_decode(benchmark::State& state, int64_t side) {
  WeightStore weights("VAE");
  add_full_size_decoder(weights);
  Result<Vae> vae = Vae::load(weights);
  if (!vae.ok()) {
    state.SkipWithError(vae.status().message().c_str());
    return;
  }
  std::vector<float> z(static_cast<size_t>(4 * side * side)), image(static_cast<size_t>(3 * 64 * side * side));
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (float& v : z) v = normal(rng);
  vae->reset_peak_activation_bytes();
  for (auto _ : state) {
    if (Status s = vae->decode(z.data(), side, side, image.data()); !s.ok()) {
      state.SkipWithError(s.message().c_str());
      break;
    }
    benchmark::DoNotOptimize(image.data());
  }
  set_flops(state, vae->decode_flops(side, side));
  state.counters["peak_activation_MB"] = double(vae->peak_activation_bytes()) / 1e6;
}

void clip_text(benchmark::State& state) {
  WeightStore weights("text encoder");
  add_full_size_clip_text(weights);
  Result<ClipTextEncoder> enc = ClipTextEncoder::load(weights);
  if (!enc.ok()) {
    state.SkipWithError(enc.status().message().c_str());
    return;
  }
  std::vector<int32_t> window_ids(kClipPositions, 49407);  // 20 tokens, then end-of-text padding
  for (int64_t t = 0; t < 20; ++t) window_ids[t] = static_cast<int32_t>(t * 997 % kClipVocab);
  std::vector<float> out(static_cast<size_t>(kClipPositions * kClipDim));
  auto encode = [&] { return enc->encode(window_ids.data(), 1, out.data()); };
  if (Status s = encode(); !s.ok()) {  // warm-up
    state.SkipWithError(s.message().c_str());
    return;
  }
  for (auto _ : state) {
    if (Status s = encode(); !s.ok()) {
      state.SkipWithError(s.message().c_str());
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_flops(state, enc->flops());
}

void register_all() {
  for (int64_t side : {32, 64}) {
    benchmark::RegisterBenchmark(("sd15/unet/latent" + std::to_string(side)).c_str(), unet, side)
        ->Unit(benchmark::kMillisecond)
        ->MeasureProcessCPUTime();
  }
  benchmark::RegisterBenchmark("sd15/vae_decode/latent32", vae_decode, int64_t{32})
      ->Unit(benchmark::kMillisecond)
      ->MeasureProcessCPUTime();
  benchmark::RegisterBenchmark("sd15/clip_text/window77", clip_text)
      ->Unit(benchmark::kMillisecond)
      ->MeasureProcessCPUTime();
}

}  // namespace
}  // namespace aigc

int main(int argc, char** argv) { return aigc::run_benchmarks(argc, argv, aigc::register_all); }
