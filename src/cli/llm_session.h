// LlmSession: what the text subcommands share: the model, its tokenizer and
// the command-line options that choose them (model path, threads, context),
// and where the shipped default text model is found when -m is not given.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

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
  std::string cache_type = "f16";  // the KV cache's element type: f16 or f32
};

// Adds -m/--model, -t/--threads, -c/--ctx-size, -b/--batch-size, --cache-type to `cmd`.
void add_llm_options(CLI::App& cmd, LlmOptions& opts);

// The shipped demonstration model, relative to a models directory.
inline constexpr const char* kDefaultTextModel = "text/aigc-kjv-3m-q8_0.gguf";

// The models directories searched, in order: $AIGC_MODELS_DIR when set (and
// then only it), else <exe dir>/../models (a build directory inside the
// repository) and <exe dir>/../share/aigc/models (an installed program).
std::vector<std::string> default_models_dirs();

// The first existing <dir>/kDefaultTextModel, or NotFound naming the places searched.
Result<std::string> find_default_text_model();

// Makes -m optional for `cmd` (added with add_llm_options): without it the
// shipped default text model is used, or the command fails saying where it looked.
void default_to_shipped_text_model(CLI::App& cmd);

struct LlmSession {
  std::unique_ptr<LlmModel> model;
  std::optional<Tokenizer> tokenizer;
  int n_ctx = 0;
  DType cache_type = DType::F16;
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
