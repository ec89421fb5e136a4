// ChatTemplate tests: byte-for-byte against Python's jinja2 (HF settings).
//
// Expected outputs are written by tools/reference/render_chat_templates.py:
// testdata/chat/expected/<template>.json for the real templates in
// ../shared/data/chat_templates (skipped when absent), and
// testdata/chat/feature_expected.json for small templates that exercise
// one language feature each. Where Python raised, we must fail too.
#include "text/chat_template.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace aigc {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

const fs::path kChatData = fs::path(AIGC_SOURCE_DIR) / "src/text/testdata/chat";

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

ojson read_json(const fs::path& p) { return ojson::parse(read_file(p)); }

// The reference pins strftime_now to this local time.
std::tm fixed_now() {
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 6;
  tm.tm_mday = 26;
  tm.tm_hour = 12;
  tm.tm_wday = 5;
  tm.tm_yday = 207;
  return tm;
}

TEST(ChatTemplate, LanguageFeaturesMatchJinja2) {
  ojson cases = read_json(kChatData / "feature_cases.json");
  ojson expected = read_json(kChatData / "feature_expected.json");
  ASSERT_EQ(cases.size(), expected.size());
  int compared = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string name = cases[i]["name"];
    SCOPED_TRACE(name);
    ASSERT_EQ(expected[i]["name"], name);
    Result<ChatTemplate> t = ChatTemplate::parse(cases[i]["template"].get<std::string>());
    Result<std::string> out = t.ok() ? [&] {
      ChatTemplate tt = *t;
      tt.set_now(fixed_now());
      return tt.render(cases[i]["context"]);
    }() : Result<std::string>(t.status());
    if (expected[i].contains("error")) {
      EXPECT_FALSE(out.ok()) << "jinja2 raised " << expected[i]["error"] << " but we rendered: " << *out;
    } else {
      ASSERT_TRUE(out.ok()) << out.status().to_string();
      EXPECT_EQ(*out, expected[i]["output"].get<std::string>());
    }
    ++compared;
  }
  EXPECT_GT(compared, 90);
}

TEST(ChatTemplate, RealTemplatesMatchJinja2) {
  const fs::path templates = fs::path(AIGC_SHARED_DATA_DIR) / "chat_templates";
  if (!fs::exists(templates)) GTEST_SKIP() << "no shared chat templates at " << templates;
  ojson spec = read_json(kChatData / "conversations.json");
  int rendered = 0, errors = 0;
  for (const auto& entry : fs::directory_iterator(kChatData / "expected")) {
    ojson expected = read_json(entry.path());
    const std::string name = expected["template"];
    SCOPED_TRACE(name);
    Result<ChatTemplate> t = ChatTemplate::parse(read_file(templates / name));
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    t->set_now(fixed_now());
    for (const auto& c : expected["cases"]) {
      const ojson* conv = nullptr;
      for (const auto& cv : spec["conversations"]) {
        if (cv["name"] == c["conversation"]) conv = &cv;
      }
      ASSERT_NE(conv, nullptr);
      SCOPED_TRACE(c["conversation"].get<std::string>() + (c["add_generation_prompt"].get<bool>() ? " +gen" : ""));
      ChatInput in;
      in.messages = (*conv)["messages"];
      if (conv->contains("tools")) in.tools = (*conv)["tools"];
      in.add_generation_prompt = c["add_generation_prompt"];
      in.bos_token = spec["bos_token"];
      in.eos_token = spec["eos_token"];
      Result<std::string> out = t->apply(in);
      if (c.contains("error")) {
        EXPECT_FALSE(out.ok()) << "jinja2 raised " << c["error"] << " but we rendered:\n" << *out;
        ++errors;
      } else {
        ASSERT_TRUE(out.ok()) << out.status().to_string();
        EXPECT_EQ(*out, c["output"].get<std::string>());
        ++rendered;
      }
    }
  }
  EXPECT_GT(rendered, 100);
  std::printf("compared %d renderings and %d expected errors\n", rendered, errors);
}

TEST(ChatTemplate, ApplyPassesHfVariables) {
  Result<ChatTemplate> t = ChatTemplate::parse(
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}"
      "{{ tools is none }}{{ documents is none }}{% if add_generation_prompt %}>{% endif %}{{ eos_token }}{{ x }}");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  ChatInput in;
  in.messages = ojson::parse(R"([{"role":"user","content":"hi"}])");
  in.add_generation_prompt = true;
  in.bos_token = "<s>";
  in.eos_token = "</s>";
  in.extra = ojson::parse(R"({"x": 7})");
  Result<std::string> out = t->apply(in);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(*out, "<s>[user:hi]TrueTrue></s>7");
}

TEST(ChatTemplate, RaiseExceptionIsAnError) {
  Result<ChatTemplate> t = ChatTemplate::parse("line1\n{{ raise_exception('Roles must alternate') }}");
  ASSERT_TRUE(t.ok());
  Result<std::string> out = t->render(ojson::object());
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("raise_exception: Roles must alternate"), std::string::npos)
      << out.status().message();
  EXPECT_NE(out.status().message().find("line 2"), std::string::npos) << out.status().message();
}

TEST(ChatTemplate, ErrorsNameTheLineAndConstruct) {
  Result<ChatTemplate> t = ChatTemplate::parse("ok\n\n{% include 'x' %}");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line 3"), std::string::npos) << t.status().message();
  EXPECT_NE(t.status().message().find("include"), std::string::npos) << t.status().message();
}

TEST(ChatTemplate, PlainJsonContextWorks) {
  Result<ChatTemplate> t = ChatTemplate::parse("{{ a }}-{{ b | tojson }}");
  ASSERT_TRUE(t.ok());
  nlohmann::json ctx = {{"a", 1}, {"b", {{"k", "v"}}}};
  Result<std::string> out = t->render(ctx);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ(*out, "1-{\"k\": \"v\"}");
}

}  // namespace
}  // namespace aigc
