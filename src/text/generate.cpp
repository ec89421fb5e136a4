// generate: prompt evaluation in batches, then sample -> decode one token at
// a time, with stop strings, grammar constraints and streaming text.
#include "text/generate.h"

#include <algorithm>
#include <array>
#include <chrono>

#include "text/tokenizer/streaming_decoder.h"

namespace aigc {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Bytes at the end of `text` that are the start of some stop string (and so
// must be held back until the next piece shows whether the stop string follows).
size_t stop_prefix_at_end(const std::string& text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& s : stops)
    for (size_t k = std::min(s.size() - 1, text.size()); k > hold; --k)
      if (text.compare(text.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
  return hold;
}

// Tokens the grammar allows next: text tokens whose bytes it can accept, and
// end-of-generation tokens once the output is complete.
void grammar_mask(const GrammarMatcher& m, const Tokenizer& tok, const std::vector<std::string>& pieces,
                  std::vector<bool>& allowed) {
  std::array<bool, 256> first_ok{};
  for (int b = 0; b < 256; ++b) first_ok[size_t(b)] = m.can_accept(std::string(1, char(b)));
  const bool complete = m.is_complete();
  for (size_t id = 0; id < pieces.size(); ++id) {
    const std::string& p = pieces[id];
    if (p.empty()) {
      allowed[id] = complete && is_end_of_generation(tok, int32_t(id));
      continue;
    }
    allowed[id] = first_ok[uint8_t(p[0])] && (p.size() == 1 || m.can_accept(p));
  }
}

}  // namespace

bool is_end_of_generation(const Tokenizer& tokenizer, int32_t id) {
  if (id == tokenizer.eos_id()) return true;
  if (!tokenizer.is_control(id)) return false;
  static const char* kEndOfTurn[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|endoftext|>",
                                     "<end_of_turn>", "<|end_of_text|>", "<|eom_id|>", "</s>"};
  const std::string text = tokenizer.token_to_piece(id, /*render_special=*/true);
  for (const char* e : kEndOfTurn)
    if (text == e) return true;
  return false;
}

Result<GenerateResult> generate(LlmContext& ctx, const Tokenizer& tokenizer, std::vector<int32_t> prompt,
                                const GenerateOptions& opt, const OnText& on_text) {
  GenerateResult r;
  const int n_ctx = ctx.n_ctx();
  if (prompt.empty()) return Status::invalid_argument("generate: the prompt has no tokens");
  if (int(prompt.size()) >= n_ctx) {
    if (!opt.truncate)
      return Status::out_of_range("the prompt has " + std::to_string(prompt.size()) +
                                  " tokens, more than the context of " + std::to_string(n_ctx) +
                                  " allows (use a larger --ctx-size, or --truncate to drop the oldest tokens)");
    prompt.erase(prompt.begin(), prompt.end() - (n_ctx / 2));
  }
  r.n_prompt = int(prompt.size());

  // Reuse the cached prefix (at least the last prompt token is evaluated, for its logits).
  size_t reuse = 0;
  if (opt.cached_tokens) {
    const std::vector<int32_t>& c = *opt.cached_tokens;
    while (reuse < c.size() && reuse + 1 < prompt.size() && c[reuse] == prompt[reuse]) ++reuse;
  }
  std::vector<int32_t> in_cache(prompt.begin(), prompt.begin() + long(reuse));
  if (opt.cached_tokens) *opt.cached_tokens = in_cache;

  const auto t_prompt = std::chrono::steady_clock::now();
  std::vector<float> logits;
  std::vector<BatchToken> batch;
  for (size_t i = reuse; i < prompt.size(); i += size_t(ctx.n_batch())) {
    const size_t end = std::min(prompt.size(), i + size_t(ctx.n_batch()));
    batch.clear();
    for (size_t j = i; j < end; ++j) batch.push_back({prompt[j], opt.seq, int32_t(j), j + 1 == prompt.size()});
    AIGC_RETURN_IF_ERROR(ctx.decode(batch, &logits));
    in_cache.insert(in_cache.end(), prompt.begin() + long(i), prompt.begin() + long(end));
    if (opt.cached_tokens) *opt.cached_tokens = in_cache;
  }
  r.n_prompt_evaluated = int(prompt.size() - reuse);
  r.prompt_seconds = seconds_since(t_prompt);

  const int n_vocab = ctx.model().hparams().n_vocab;
  Sampler sampler(opt.sampling, n_vocab);
  for (int32_t t : prompt) sampler.accept(t);
  std::optional<GrammarMatcher> matcher;
  std::vector<std::string> pieces;
  std::vector<bool> allowed;
  if (opt.grammar) {
    matcher.emplace(*opt.grammar);
    pieces.resize(size_t(n_vocab));
    for (int32_t id = 0; id < n_vocab && id < tokenizer.n_vocab(); ++id)
      if (!tokenizer.is_control(id)) pieces[size_t(id)] = tokenizer.token_to_piece(id);
    allowed.resize(size_t(n_vocab));
  }

  StreamingDecoder decoder(tokenizer);
  size_t emitted = 0;  // bytes of r.text already handed to on_text
  auto emit_upto = [&](size_t end) {
    if (end <= emitted) return true;
    const bool go_on = !on_text || on_text(std::string_view(r.text).substr(emitted, end - emitted));
    emitted = end;
    return go_on;
  };

  const auto t_gen = std::chrono::steady_clock::now();
  int pos = int(prompt.size());
  r.stop_reason = "length";
  for (int i = 0; opt.n_predict < 0 || i < opt.n_predict; ++i) {
    if (pos >= n_ctx) {
      r.stop_reason = "context";
      break;
    }
    if (matcher) grammar_mask(*matcher, tokenizer, pieces, allowed);
    const int32_t id = sampler.sample(logits.data(), matcher ? &allowed : nullptr);
    if (id < 0 || is_end_of_generation(tokenizer, id)) {
      r.stop_reason = id < 0 ? "grammar" : "eos";
      break;
    }
    sampler.accept(id);
    ++r.n_generated;
    r.tokens.push_back(id);
    if (matcher) matcher->accept_bytes(pieces[size_t(id)]);
    AIGC_ASSIGN_OR_RETURN(std::string piece, decoder.push(id));
    const size_t before = r.text.size();
    r.text += piece;

    // A stop string anywhere in the new text ends generation before it.
    size_t stop_at = std::string::npos;
    for (const std::string& s : opt.stop) {
      if (s.empty()) continue;
      const size_t from = before >= s.size() ? before - s.size() + 1 : 0;
      const size_t at = r.text.find(s, from);
      if (at != std::string::npos) stop_at = std::min(stop_at, at);
    }
    if (stop_at != std::string::npos) {
      r.text.resize(stop_at);
      r.stop_reason = "stop";
      break;
    }
    if (!emit_upto(r.text.size() - stop_prefix_at_end(r.text, opt.stop))) {
      r.stop_reason = "cancelled";
      break;
    }
    if (matcher && matcher->is_finished()) {
      r.stop_reason = "grammar";
      break;
    }
    if (opt.n_predict >= 0 && i + 1 >= opt.n_predict) break;  // budget spent: no need for more logits
    const BatchToken next{id, opt.seq, pos, true};
    AIGC_RETURN_IF_ERROR(ctx.decode(std::span<const BatchToken>(&next, 1), &logits));
    in_cache.push_back(id);
    if (opt.cached_tokens) *opt.cached_tokens = in_cache;
    ++pos;
  }
  if (r.stop_reason != "stop" && r.stop_reason != "cancelled") r.text += decoder.finish();
  if (r.stop_reason != "cancelled") emit_upto(r.text.size());
  r.generate_seconds = seconds_since(t_gen);
  return r;
}

}  // namespace aigc
