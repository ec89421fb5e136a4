// LlmSession: loading a GGUF LLM for the text subcommands.
#include "cli/llm_session.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "core/threads.h"

namespace aigc {

void add_llm_options(CLI::App& cmd, LlmOptions& o) {
  cmd.add_option("-m,--model", o.model, "GGUF model file (llama, qwen2, qwen3 architectures)")->required();
  cmd.add_option("-t,--threads", o.threads, "threads (0 = all cores)")->capture_default_str();
  cmd.add_option("-c,--ctx-size", o.ctx_size, "context size in tokens (0 = the model's own)")->capture_default_str();
  cmd.add_option("-b,--batch-size", o.batch_size, "prompt tokens per forward pass")->capture_default_str()
      ->check(CLI::Range(1, 8192));
}

Result<LlmSession> open_llm(const LlmOptions& o) {
  set_num_threads(o.threads);
  LlmSession s;
  AIGC_ASSIGN_OR_RETURN(s.model, LlmModel::load(o.model));
  AIGC_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::from_gguf(s.model->file()));
  s.tokenizer.emplace(std::move(tok));
  const int train = s.model->hparams().n_ctx_train;
  s.n_ctx = o.ctx_size > 0 ? o.ctx_size : train;
  if (s.n_ctx < 8) return Status::invalid_argument("--ctx-size " + std::to_string(s.n_ctx) + " is too small");
  if (s.n_ctx > (1 << 20)) return Status::invalid_argument("--ctx-size " + std::to_string(s.n_ctx) + " is too large");
  return s;
}

int print_error(const Status& s) {
  std::fprintf(stderr, "aigc: %s\n", s.to_string().c_str());
  return 1;
}

}  // namespace aigc
