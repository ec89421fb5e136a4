// LlmSession: what the text subcommands share: the model, its tokenizer and
// the command-line options that choose them (model path, threads, context).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "text/llm/llm.h"
#include "text/tokenizer/tokenizer.h"

namespace CLI {
class App;
}

namespace aigc {

struct LlmOptions {
  std::string model;
  int threads = 0;      // <= 0: all cores
  int ctx_size = 2048;  // 0: the model's training context
  int batch_size = 512;
};

// Adds -m/--model, -t/--threads, -c/--ctx-size, -b/--batch-size to `cmd`.
void add_llm_options(CLI::App& cmd, LlmOptions& opts);

struct LlmSession {
  std::unique_ptr<LlmModel> model;
  std::optional<Tokenizer> tokenizer;
  int n_ctx = 0;
};

// Loads the model and tokenizer, sets the thread count, resolves the context size.
Result<LlmSession> open_llm(const LlmOptions& opts);

// Prints "aigc: <status>" to stderr and returns 1.
int print_error(const Status& s);

}  // namespace aigc
