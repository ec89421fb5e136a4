// LlmSession: loading a GGUF LLM for the text subcommands.
#include "cli/llm_session.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/threads.h"
#include "text/grammar/json_schema.h"

namespace aigc {

void add_llm_options(CLI::App& cmd, LlmOptions& o) {
  cmd.add_option("-m,--model", o.model, "GGUF model file (llama, qwen2, qwen3 architectures)")->required();
  cmd.add_option("-t,--threads", o.threads, "threads (0 = all cores)")->capture_default_str();
  cmd.add_option("-c,--ctx-size", o.ctx_size, "context size in tokens (0 = the model's own)")->capture_default_str();
  cmd.add_option("-b,--batch-size", o.batch_size, "prompt tokens per forward pass")->capture_default_str()
      ->check(CLI::Range(1, 8192));
  cmd.add_option("--cache-type", o.cache_type,
                 "KV cache element type: f16 (half the memory and the bytes read per token) or f32 (exact)")
      ->capture_default_str()
      ->check(CLI::IsMember({"f16", "f32"}));
}

std::vector<std::string> default_models_dirs() {
  if (const char* env = std::getenv("AIGC_MODELS_DIR"); env != nullptr && *env != '\0') return {env};
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const std::filesystem::path prefix = exe.parent_path().parent_path();
  return {(prefix / "models").string(), (prefix / "share" / "aigc" / "models").string()};
}

Result<std::string> find_default_text_model() {
  const std::vector<std::string> dirs = default_models_dirs();
  std::string searched;
  for (const std::string& dir : dirs) {
    const std::filesystem::path path = std::filesystem::path(dir) / kDefaultTextModel;
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) return path.string();
    searched += (searched.empty() ? "" : ", ") + path.string();
  }
  if (searched.empty()) searched = "nowhere: the program's own path is unknown";
  return Status::not_found("no -m MODEL given and the default text model was not found (searched " + searched +
                           "): give -m MODEL.gguf, or set AIGC_MODELS_DIR to the folder holding " +
                           kDefaultTextModel);
}

void default_to_shipped_text_model(CLI::App& cmd) {
  CLI::Option* model = cmd.get_option("--model");
  model->required(false)->description(std::string("GGUF model file (llama, qwen2, qwen3 architectures); default: "
                                                  "the shipped demonstration model, <models dir>/") +
                                      kDefaultTextModel);
  // Resolved only when this subcommand runs; -m on the command line still overrides it.
  cmd.preparse_callback([model](size_t) {
    if (auto path = find_default_text_model(); path.ok()) model->run_callback_for_default()->default_val(*path);
  });
}

Result<LlmSession> open_llm(const LlmOptions& o) {
  set_num_threads(o.threads);
  LlmSession s;
  std::string path = o.model;
  if (path.empty()) {
    AIGC_ASSIGN_OR_RETURN(path, find_default_text_model());
  }
  AIGC_ASSIGN_OR_RETURN(s.model, LlmModel::load(path));
  AIGC_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::from_gguf(s.model->file()));
  s.tokenizer.emplace(std::move(tok));
  const int train = s.model->hparams().n_ctx_train;
  s.n_ctx = o.ctx_size > 0 ? o.ctx_size : train;
  if (s.n_ctx < 8) return Status::invalid_argument("--ctx-size " + std::to_string(s.n_ctx) + " is too small");
  if (s.n_ctx > (1 << 20)) return Status::invalid_argument("--ctx-size " + std::to_string(s.n_ctx) + " is too large");
  s.cache_type = o.cache_type == "f32" ? DType::F32 : DType::F16;
  return s;
}

namespace {

// "15043+1.5" or "15043-inf": a token id and the bias added to its logit.
Result<std::pair<int32_t, float>> parse_logit_bias(const std::string& s) {
  const size_t at = s.find_first_of("+-", 1);
  try {
    if (at == std::string::npos) throw std::invalid_argument(s);
    const int32_t id = std::stoi(s.substr(0, at));
    const float bias = std::stof(s.substr(at));
    return std::make_pair(id, bias);
  } catch (const std::exception&) {
    return Status::invalid_argument("--logit-bias '" + s + "': expected TOKEN_ID+BIAS or TOKEN_ID-BIAS, e.g. 15043+1.5");
  }
}


}  // namespace

void add_generation_flags(CLI::App& cmd, GenerationFlags& o) {
  SamplingParams& s = o.gen.sampling;
  cmd.add_option("-n,--n-predict", o.gen.n_predict, "most tokens to generate (-1 = until the context is full)")
      ->capture_default_str();
  cmd.add_option("--temp", s.temperature, "temperature (0 = greedy)")->capture_default_str();
  cmd.add_option("--top-k", s.top_k, "keep the k most likely tokens (0 = off)")->capture_default_str();
  cmd.add_option("--top-p", s.top_p, "keep the smallest set with this much probability (1 = off)")->capture_default_str();
  cmd.add_option("--min-p", s.min_p, "drop tokens below this fraction of the best one's probability (0 = off)")
      ->capture_default_str();
  cmd.add_option("--repeat-penalty", s.repeat_penalty, "penalty for repeated tokens (1 = off)")->capture_default_str();
  cmd.add_option("--repeat-last-n", s.penalty_last_n, "tokens the penalties look back over")->capture_default_str();
  cmd.add_option("--presence-penalty", s.presence_penalty, "subtracted once from a token seen before")
      ->capture_default_str();
  cmd.add_option("--frequency-penalty", s.frequency_penalty, "subtracted per occurrence of a token seen before")
      ->capture_default_str();
  cmd.add_option("--logit-bias", o.logit_bias, "TOKEN_ID+BIAS or TOKEN_ID-BIAS (repeatable)");
  cmd.add_option("-s,--seed", s.seed, "random seed: the same seed and settings give the same text")
      ->capture_default_str();
  cmd.add_option("--stop", o.gen.stop, "stop when this text is generated (repeatable)");
  cmd.add_option("--json-schema", o.json_schema, "constrain the output to JSON valid against this schema file");
  cmd.add_flag("--truncate", o.gen.truncate, "drop the oldest prompt tokens if the prompt exceeds the context");
}

Result<std::string> read_text_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(std::string(what) + " " + path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<ResolvedGeneration> resolve_generation_flags(const GenerationFlags& f, const Tokenizer& tok) {
  ResolvedGeneration r;
  r.options = f.gen;
  for (const std::string& b : f.logit_bias) {
    AIGC_ASSIGN_OR_RETURN(auto lb, parse_logit_bias(b));
    if (lb.first < 0 || lb.first >= tok.n_vocab())
      return Status::invalid_argument("--logit-bias: token id " + std::to_string(lb.first) +
                                      " is outside the vocabulary (" + std::to_string(tok.n_vocab()) + ")");
    r.options.sampling.logit_bias.push_back(lb);
  }
  if (!f.json_schema.empty()) {
    AIGC_ASSIGN_OR_RETURN(std::string text, read_text_file(f.json_schema, "--json-schema"));
    auto schema = nlohmann::ordered_json::parse(text, nullptr, false);
    if (schema.is_discarded()) return Status::invalid_argument("--json-schema " + f.json_schema + ": not valid JSON");
    auto g = grammar_from_json_schema(schema);
    if (!g.ok()) return Status(g.status().code(), f.json_schema + ": " + g.status().message());
    r.grammar = std::make_shared<Grammar>(std::move(g).value());
    r.options.grammar = r.grammar.get();
  }
  return r;
}

int print_error(const Status& s) {
  std::fprintf(stderr, "aigc: %s\n", s.to_string().c_str());
  return 1;
}

}  // namespace aigc
