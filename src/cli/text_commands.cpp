// `aigc text`, `aigc tokenize`, `aigc perplexity`: the LLM subcommands that
// run without a conversation.
#include <CLI/CLI.hpp>

#include <cmath>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/llm_session.h"
#include "image/clip_tokenizer.h"
#include "text/generate.h"

namespace aigc {

namespace {

struct TextOptions {
  LlmOptions llm;
  GenerationFlags flags;
  std::string prompt, prompt_file;
  bool no_bos = false;
};

int run_text(const TextOptions& opts) {
  TextOptions o = opts;
  if (!o.prompt_file.empty()) {
    auto text = read_text_file(o.prompt_file, "prompt file");
    if (!text.ok()) return print_error(text.status());
    o.prompt = *text;
  }
  if (o.prompt.empty()) return print_error(Status::invalid_argument("no prompt: give -p TEXT or -f FILE"));
  auto session = open_llm(o.llm);
  if (!session.ok()) return print_error(session.status());
  const Tokenizer& tok = *session->tokenizer;
  auto gen = resolve_generation_flags(o.flags, tok);
  if (!gen.ok()) return print_error(gen.status());
  auto prompt = tok.encode(o.prompt, /*add_special=*/!o.no_bos, /*parse_special=*/true);
  if (!prompt.ok()) return print_error(Status(prompt.status().code(), "prompt: " + prompt.status().message()));

  LlmContext ctx(*session->model, session->n_ctx, 1, o.llm.batch_size, session->cache_type);
  auto r = generate(ctx, tok, *prompt, gen->options, [](std::string_view s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  std::fputc('\n', stdout);
  if (!r.ok()) return print_error(r.status());
  std::fprintf(stderr, "\nprompt: %d tokens in %.2f s (%.1f tok/s); generated: %d tokens in %.2f s (%.1f tok/s); stop: %s\n",
               r->n_prompt_evaluated, r->prompt_seconds, r->n_prompt_evaluated / std::max(r->prompt_seconds, 1e-9),
               r->n_generated, r->generate_seconds, r->n_generated / std::max(r->generate_seconds, 1e-9),
               r->stop_reason.c_str());
  return 0;
}

struct TokenizeOptions {
  std::string model, prompt, clip_vocab;
  bool bos = false, parse_special = false;
};

// Stable Diffusion's CLIP tokenizer: from --clip-vocab (the original merges
// file) or a diffusers folder's tokenizer/; ids without the start and end ids.
int run_clip_tokenize(const TokenizeOptions& o) {
  auto tok = o.clip_vocab.empty() ? ClipTokenizer::from_diffusers_folder(o.model)
                                  : ClipTokenizer::from_merges_file(o.clip_vocab);
  if (!tok.ok()) return print_error(tok.status());
  auto ids = tok->encode(o.prompt);
  if (!ids.ok()) return print_error(Status(ids.status().code(), "prompt: " + ids.status().message()));
  std::string line;
  for (int32_t id : *ids) line += (line.empty() ? "" : " ") + std::to_string(id);
  std::printf("%s\n", line.c_str());
  return 0;
}

int run_tokenize(const TokenizeOptions& o) {
  if (!o.clip_vocab.empty() || std::filesystem::is_directory(o.model)) return run_clip_tokenize(o);
  if (o.model.empty()) return print_error(Status::invalid_argument("tokenize: give -m MODEL.gguf (or --clip-vocab FILE)"));
  auto file = GgufFile::open(o.model);
  if (!file.ok()) return print_error(file.status());
  auto tok = Tokenizer::from_gguf(*file);
  if (!tok.ok()) return print_error(tok.status());
  auto ids = tok->encode(o.prompt, /*add_special=*/false, o.parse_special);
  if (!ids.ok()) return print_error(Status(ids.status().code(), "prompt: " + ids.status().message()));
  std::string line;
  if (o.bos && tok->bos_id() >= 0) line = std::to_string(tok->bos_id());
  for (int32_t id : *ids) line += (line.empty() ? "" : " ") + std::to_string(id);
  std::printf("%s\n", line.c_str());
  return 0;
}

struct PerplexityOptions {
  LlmOptions llm;
  std::string text_file;
  int window = 512;
};

// The common tools' definition: windows of N tokens, the first replaced by BOS
// when the model adds one, tokens N/2+1 .. N-1 scored from the logits before them.
int run_perplexity(const PerplexityOptions& o) {
  LlmOptions llm = o.llm;
  llm.ctx_size = o.window;
  auto session = open_llm(llm);
  if (!session.ok()) return print_error(session.status());
  auto text = read_text_file(o.text_file, "text file");
  if (!text.ok()) return print_error(text.status());
  const Tokenizer& tok = *session->tokenizer;
  auto tokens = tok.encode(*text, /*add_special=*/true, /*parse_special=*/false);
  if (!tokens.ok()) return print_error(Status(tokens.status().code(), o.text_file + ": " + tokens.status().message()));
  const int n = o.window;
  const int n_windows = int(tokens->size()) / n;
  if (n_windows == 0)
    return print_error(Status::invalid_argument(o.text_file + " has " + std::to_string(tokens->size()) +
                                                " tokens, fewer than one window of -c " + std::to_string(n)));
  const bool add_bos = !tokens->empty() && (*tokens)[0] == tok.bos_id();
  LlmContext ctx(*session->model, n, 1, std::min(n, o.llm.batch_size), session->cache_type);
  const int n_vocab = session->model->hparams().n_vocab;
  double nll = 0;
  int64_t count = 0;
  std::vector<float> logits, all;
  for (int w = 0; w < n_windows; ++w) {
    std::vector<int32_t> window(tokens->begin() + int64_t(w) * n, tokens->begin() + int64_t(w + 1) * n);
    if (add_bos) window[0] = tok.bos_id();
    all.clear();
    for (int i = 0; i < n; i += ctx.n_batch()) {
      std::vector<BatchToken> batch;
      for (int j = i; j < std::min(n, i + ctx.n_batch()); ++j) batch.push_back({window[size_t(j)], 0, j, true});
      Status s = ctx.decode(batch, &logits);
      if (!s.ok()) return print_error(s);
      all.insert(all.end(), logits.begin(), logits.end());
    }
    for (int j = n / 2; j < n - 1; ++j) {
      const float* row = all.data() + size_t(j) * size_t(n_vocab);
      double mx = row[0], sum = 0;
      for (int i = 0; i < n_vocab; ++i) mx = std::max(mx, double(row[i]));
      for (int i = 0; i < n_vocab; ++i) sum += std::exp(double(row[i]) - mx);
      nll -= double(row[window[size_t(j) + 1]]) - mx - std::log(sum);
      ++count;
    }
    std::fprintf(stderr, "\rwindow %d/%d  running perplexity %.4f", w + 1, n_windows, std::exp(nll / double(count)));
  }
  std::fprintf(stderr, "\n");
  std::printf("perplexity: %.4f (%d windows of %d tokens, %lld scored)\n", std::exp(nll / double(count)), n_windows, n,
              static_cast<long long>(count));
  return 0;
}

void run_or_throw(int rc) {
  if (rc != 0) throw CLI::RuntimeError(rc);
}

}  // namespace

void add_text_commands(CLI::App& app) {
  auto text = std::make_shared<TextOptions>();
  CLI::App* t = app.add_subcommand("text", "Generate text from a prompt with a GGUF LLM (streams tokens)");
  add_llm_options(*t, text->llm);
  t->add_option("-p,--prompt", text->prompt, "the prompt");
  t->add_option("-f,--file", text->prompt_file, "read the prompt from a file");
  t->add_flag("--no-bos", text->no_bos, "do not add the model's BOS token");
  add_generation_flags(*t, text->flags);
  t->callback([text] { run_or_throw(run_text(*text)); });

  auto tok = std::make_shared<TokenizeOptions>();
  CLI::App* k = app.add_subcommand("tokenize", "Print the token ids of a text (one line, space separated)");
  k->add_option("-m,--model", tok->model,
                "GGUF model (only its tokenizer is read), or a diffusers folder (its CLIP tokenizer/)");
  k->add_option("--clip-vocab", tok->clip_vocab,
                "CLIP merges file bpe_simple_vocab_16e6.txt[.gz]: print CLIP ids (without start and end)");
  k->add_option("-p,--prompt", tok->prompt, "the text")->required();
  k->add_flag("--bos", tok->bos, "start with the BOS id");
  k->add_flag("--parse-special", tok->parse_special, "text spelling a special token becomes that token");
  k->callback([tok] { run_or_throw(run_tokenize(*tok)); });

  auto ppl = std::make_shared<PerplexityOptions>();
  CLI::App* p = app.add_subcommand("perplexity", "Measure a model's perplexity on a text file");
  add_llm_options(*p, ppl->llm);
  p->get_option("--ctx-size")->description("window size N in tokens")->default_val(512);
  p->add_option("-f,--file", ppl->text_file, "text file")->required();
  p->callback([ppl] { ppl->window = ppl->llm.ctx_size; run_or_throw(run_perplexity(*ppl)); });
}

}  // namespace aigc
