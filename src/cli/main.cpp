// aigc: the command-line program. This file creates the CLI11 app; each
// subcommand is declared and implemented in its own file (commands.h).
// Errors are printed as "aigc: <message>" and exit non-zero.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "cli/bench_kernels.h"
#include "cli/commands.h"
#include "cli/inspect.h"
#include "cli/llm_session.h"
#include "core/cpu_features.h"

namespace {

constexpr const char* kVersion = "0.1.0";

}  // namespace

int main(int argc, char** argv) {
  if (std::string bad_isa; !aigc::cap_isa_from_environment(&bad_isa)) {
    std::fprintf(stderr, "aigc: AIGC_ISA=%s names no instruction set: use scalar, avx2 or avx512 (or unset it)\n",
                 bad_isa.c_str());
    return 2;
  }
  CLI::App app{
      "aigc: local AI-generated content. Text with GGUF LLMs (llama, qwen2, qwen3) and images with Stable "
      "Diffusion 1.x checkpoints, on your own machine.\n"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("aigc ") + kVersion);

  std::string inspect_path;
  CLI::App* inspect = app.add_subcommand(
      "inspect", "Print a model file's metadata and tensor table (GGUF, safetensors, or a sharded "
                 "safetensors index .json)");
  inspect->add_option("FILE", inspect_path, "model file")->required();
  inspect->callback([&] {
    if (int rc = aigc::inspect_file(inspect_path, stdout)) throw CLI::RuntimeError(rc);
  });

  aigc::add_text_commands(app);
  aigc::add_chat_command(app);
  aigc::default_to_shipped_text_model(*app.get_subcommand("text"));
  aigc::default_to_shipped_text_model(*app.get_subcommand("chat"));
  aigc::add_quantize_command(app);
  aigc::add_image_command(app);

  CLI::App* bench = app.add_subcommand("bench", "Measure performance against this machine's limits");
  bench->require_subcommand(1);
  aigc::BenchKernelsOptions kernel_opts;
  CLI::App* bench_kernels = bench->add_subcommand(
      "kernels", "Measure memory bandwidth and peak FLOP rate, then each kernel as a fraction of them");
  bench_kernels->add_option("-t,--threads", kernel_opts.threads, "threads (0 = all cores)")->capture_default_str();
  bench_kernels->add_flag("--quick", kernel_opts.quick, "tiny sizes: a smoke test, not a measurement");
  bench_kernels->callback([&] {
    if (int rc = aigc::bench_kernels(kernel_opts)) throw CLI::RuntimeError(rc);
  });
  aigc::add_bench_text_command(*bench);
  aigc::add_bench_image_command(*bench);

  CLI::App* info = app.add_subcommand("info", "Print the CPU features (AVX2, AVX-512, AMX) the kernels will use here");
  info->callback([] {
    for (aigc::Isa isa : {aigc::Isa::kScalar, aigc::Isa::kAvx2, aigc::Isa::kAvx512})
      std::printf("%-7s %s\n", aigc::isa_name(isa), aigc::cpu_supports(isa) ? "yes" : "no");
    std::printf("amx     %s\n", aigc::amx_usable() ? "yes (prompt GEMMs; AIGC_NO_AMX=1 turns it off)" : "no");
    std::printf("kernels use: %s (AIGC_ISA=avx2 or scalar caps it)\n", aigc::isa_name(aigc::active_isa()));
  });

  CLI11_PARSE(app, argc, argv);
  return 0;
}
