// `aigc chat -m MODEL`: an interactive conversation. Each turn renders the
// whole history with the model's chat template (or --chat-template FILE),
// reuses the KV cache for the part already evaluated, and streams the answer.
// Ctrl-C stops the current answer (not the program); /reset forgets the
// conversation; /exit or end of input quits.
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/llm_session.h"
#include "text/chat_template.h"

namespace aigc {

namespace {

std::atomic<bool> g_interrupted{false};

void on_sigint(int) { g_interrupted.store(true); }

struct ChatOptions {
  LlmOptions llm;
  GenerationFlags flags;
  std::string system, chat_template_file;
};

Result<ChatTemplate> load_template(const ChatOptions& o, const LlmModel& model) {
  std::string source;
  if (!o.chat_template_file.empty()) {
    AIGC_ASSIGN_OR_RETURN(source, read_text_file(o.chat_template_file, "--chat-template"));
  } else if (model.file().find("tokenizer.chat_template")) {
    AIGC_ASSIGN_OR_RETURN(source, model.file().get_string("tokenizer.chat_template"));
  } else {
    return Status::not_found(o.llm.model + " has no tokenizer.chat_template: give one with --chat-template FILE");
  }
  auto t = ChatTemplate::parse(source);
  if (!t.ok()) return Status(t.status().code(), "chat template: " + t.status().message());
  return t;
}

int run_chat(const ChatOptions& o) {
  auto session = open_llm(o.llm);
  if (!session.ok()) return print_error(session.status());
  const Tokenizer& tok = *session->tokenizer;
  auto gen = resolve_generation_flags(o.flags, tok);
  if (!gen.ok()) return print_error(gen.status());
  auto tmpl = load_template(o, *session->model);
  if (!tmpl.ok()) return print_error(tmpl.status());

  ChatInput input;
  input.bos_token = tok.bos_id() >= 0 ? tok.token_to_piece(tok.bos_id(), true) : "";
  input.eos_token = tok.eos_id() >= 0 ? tok.token_to_piece(tok.eos_id(), true) : "";
  input.add_generation_prompt = true;
  auto reset = [&] {
    input.messages = nlohmann::ordered_json::array();
    if (!o.system.empty()) input.messages.push_back({{"role", "system"}, {"content", o.system}});
  };
  reset();

  LlmContext ctx(*session->model, session->n_ctx, 1, o.llm.batch_size, session->cache_type);
  std::vector<int32_t> cached;
  GenerateOptions options = gen->options;
  options.cached_tokens = &cached;
  std::signal(SIGINT, on_sigint);
  std::fprintf(stderr, "chat with %s: /reset forgets the conversation, /exit quits, Ctrl-C stops an answer\n",
               o.llm.model.c_str());
  std::string line;
  while (true) {
    std::fprintf(stderr, "> ");
    g_interrupted.store(false);
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      reset();
      cached.clear();
      std::fprintf(stderr, "(conversation cleared)\n");
      continue;
    }
    if (line.empty()) continue;
    input.messages.push_back({{"role", "user"}, {"content", line}});
    auto rendered = tmpl->apply(input);
    if (!rendered.ok()) {
      input.messages.erase(input.messages.end() - 1);
      print_error(rendered.status());
      continue;
    }
    const bool has_bos = !input.bos_token.empty() && rendered->rfind(input.bos_token, 0) == 0;
    auto prompt = tok.encode(*rendered, /*add_special=*/!has_bos, /*parse_special=*/true);
    if (!prompt.ok()) {
      input.messages.erase(input.messages.end() - 1);
      print_error(prompt.status());
      continue;
    }
    auto r = generate(ctx, tok, *prompt, options, [](std::string_view s) {
      std::fwrite(s.data(), 1, s.size(), stdout);
      std::fflush(stdout);
      return !g_interrupted.load();
    });
    std::fputc('\n', stdout);
    if (!r.ok()) {
      input.messages.erase(input.messages.end() - 1);
      print_error(r.status());
      continue;
    }
    if (r->stop_reason == "cancelled") std::fprintf(stderr, "(stopped)\n");
    input.messages.push_back({{"role", "assistant"}, {"content", r->text}});
  }
  std::signal(SIGINT, SIG_DFL);
  return 0;
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* c = app.add_subcommand("chat", "Chat with a GGUF LLM interactively, using its chat template");
  add_llm_options(*c, o->llm);
  c->add_option("--system", o->system, "system prompt");
  c->add_option("--chat-template", o->chat_template_file, "Jinja chat template file (instead of the model's own)");
  add_generation_flags(*c, o->flags);
  c->callback([o] {
    if (int rc = run_chat(*o)) throw CLI::RuntimeError(rc);
  });
}

}  // namespace aigc
