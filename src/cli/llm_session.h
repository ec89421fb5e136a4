// LlmSession: what the text subcommands share: the model, its tokenizer and
// the command-line options that choose them (model path, threads, context).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "text/generate.h"
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

// The generation flags of `text` and `chat`: sampling, budget, stop strings,
// logit bias, JSON schema.
struct GenerationFlags {
  GenerateOptions gen;
  std::vector<std::string> logit_bias;  // "ID+BIAS" as typed
  std::string json_schema;              // file
};
void add_generation_flags(CLI::App& cmd, GenerationFlags& flags);

// The flags checked against the tokenizer, with the schema compiled:
// options.grammar points into `grammar`, which the struct owns.
struct ResolvedGeneration {
  GenerateOptions options;
  std::shared_ptr<Grammar> grammar;
};
Result<ResolvedGeneration> resolve_generation_flags(const GenerationFlags& flags, const Tokenizer& tokenizer);

Result<std::string> read_text_file(const std::string& path, const char* what);

// Prints "aigc: <status>" to stderr and returns 1.
int print_error(const Status& s);

}  // namespace aigc
