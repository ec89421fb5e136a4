// `aigc bench text -m MODEL`: prompt processing and generation speed of a
// GGUF LLM, each as a fraction of this machine's ceiling: generation reads
// every weight once per token (ceiling = read bandwidth / weight bytes);
// prompt processing does 2 x parameters FLOPs per token (ceiling = the FMA
// loop's FLOP rate). Medians of repeated runs. Also the CPU time per token
// (all threads; at -t 1 it gives the speed of an idle machine on a busy one)
// and the resident memory after the runs, against file + KV cache.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>

#include "cli/commands.h"
#include "cli/llm_session.h"
#include "core/threads.h"
#include "kernels/ceilings.h"

namespace aigc {

namespace {

struct BenchTextOptions {
  LlmOptions llm;
  int n_prompt = 512;
  int n_gen = 64;
  int runs = 3;
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// This process's resident memory now (VmRSS), in bytes; 0 if unknown.
double resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  double kb = 0;
  while (status >> key) {
    if (key == "VmRSS:") {
      status >> kb;
      break;
    }
  }
  return kb * 1024.0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Elements of the weights that multiply activations (every matrix but the
// embedding table, unless it doubles as the output matrix).
double matmul_params(const LlmModel& m) {
  double n = 0;
  for (const GgufTensorInfo& t : m.file().tensors()) {
    if (t.tensor.n_dims < 2) continue;
    if (t.name == "token_embd.weight" && m.weights().output.data != m.weights().token_embd.data) continue;
    n += double(t.tensor.numel());
  }
  return n;
}

Status bench_text(const BenchTextOptions& o) {
  LlmOptions llm = o.llm;
  llm.ctx_size = o.n_prompt + o.n_gen + 1;
  const double t_load = now_seconds();
  AIGC_ASSIGN_OR_RETURN(LlmSession s, open_llm(llm));
  const double load_seconds = now_seconds() - t_load;
  const int threads = num_threads();
  std::printf("model: %s (%s, %d layers, %d wide), %d threads, loaded in %.3f s\n", o.llm.model.c_str(),
              s.model->hparams().arch_name.c_str(), s.model->hparams().n_layer, s.model->hparams().n_embd, threads,
              load_seconds);
  std::printf("measuring this machine's ceilings...\n");
  const double bw = measure_read_bandwidth_gbs(threads);
  const double peak = measure_peak_gflops(threads);
  const double params = matmul_params(*s.model);
  const double weight_bytes = double(s.model->weight_bytes());
  std::printf("  read bandwidth %.1f GB/s, FMA peak %.1f GFLOP/s; weights %.1f MB, %.3g matmul parameters\n", bw, peak,
              weight_bytes / 1e6, params);

  LlmContext ctx(*s.model, s.n_ctx, 1, std::min(o.n_prompt, llm.batch_size), s.cache_type);
  std::mt19937 rng(1);
  const int n_vocab = s.model->hparams().n_vocab;
  std::vector<double> pp, tg, pp_cpu, tg_cpu;  // tokens/s; CPU seconds per token
  std::vector<float> logits;
  for (int run = 0; run < o.runs; ++run) {
    std::vector<BatchToken> batch;
    const double t0 = now_seconds(), c0 = cpu_seconds();
    for (int i = 0; i < o.n_prompt; i += ctx.n_batch()) {
      batch.clear();
      for (int j = i; j < std::min(o.n_prompt, i + ctx.n_batch()); ++j)
        batch.push_back({int32_t(rng() % uint32_t(n_vocab)), 0, j, j + 1 == o.n_prompt});
      AIGC_RETURN_IF_ERROR(ctx.decode(batch, &logits));
    }
    pp.push_back(o.n_prompt / (now_seconds() - t0));
    pp_cpu.push_back((cpu_seconds() - c0) / o.n_prompt);
    const double t1 = now_seconds(), c1 = cpu_seconds();
    for (int i = 0; i < o.n_gen; ++i) {
      const BatchToken t{int32_t(rng() % uint32_t(n_vocab)), 0, o.n_prompt + i, true};
      AIGC_RETURN_IF_ERROR(ctx.decode(std::span<const BatchToken>(&t, 1), &logits));
    }
    tg.push_back(o.n_gen / (now_seconds() - t1));
    tg_cpu.push_back((cpu_seconds() - c1) / o.n_gen);
    std::printf("  run %d: prompt %.2f tok/s (%.1f ms CPU/tok), generation %.2f tok/s (%.1f ms CPU/tok)\n", run + 1,
                pp.back(), 1e3 * pp_cpu.back(), tg.back(), 1e3 * tg_cpu.back());
  }
  const double pp_tps = median(pp), tg_tps = median(tg);
  const double pp_gflops = 2.0 * params * pp_tps / 1e9;
  const double tg_gbs = weight_bytes * tg_tps / 1e9;
  std::printf("prompt processing (%d tokens): %8.2f tok/s = %7.1f GFLOP/s = %5.1f%% of the FLOP ceiling\n", o.n_prompt,
              pp_tps, pp_gflops, 100.0 * pp_gflops / peak);
  std::printf("generation (%d tokens):         %8.2f tok/s = %7.1f GB/s    = %5.1f%% of the bandwidth ceiling\n",
              o.n_gen, tg_tps, tg_gbs, 100.0 * tg_gbs / bw);
  std::printf("CPU time per token (all threads): prompt %.1f ms, generation %.1f ms\n", 1e3 * median(pp_cpu),
              1e3 * median(tg_cpu));
  std::error_code ec;
  const double file = double(std::filesystem::file_size(s.model->file().path(), ec)), kv = double(ctx.kv_cache_bytes());
  const double rss = resident_bytes();
  std::printf("resident memory after the runs: %.1f MB = file %.1f MB + KV cache %.1f MB + %.1f MB\n", rss / 1e6,
              file / 1e6, kv / 1e6, (rss - file - kv) / 1e6);
  return Status();
}

}  // namespace

void add_bench_text_command(CLI::App& bench) {
  auto o = std::make_shared<BenchTextOptions>();
  CLI::App* b = bench.add_subcommand("text", "Prompt processing and generation speed of an LLM against this machine's ceilings");
  add_llm_options(*b, o->llm);
  b->add_option("-p,--n-prompt", o->n_prompt, "prompt tokens")->capture_default_str()->check(CLI::Range(1, 65536));
  b->add_option("-n,--n-gen", o->n_gen, "generated tokens")->capture_default_str()->check(CLI::Range(1, 65536));
  b->add_option("-r,--runs", o->runs, "repetitions (the median is reported)")->capture_default_str()
      ->check(CLI::Range(1, 100));
  b->callback([o] {
    Status s = bench_text(*o);
    if (!s.ok()) throw CLI::RuntimeError(print_error(s));
  });
}

}  // namespace aigc
