// Infotext: the web UI's exact "parameters" layout (expected texts written
// by hand from the web UI's create_infotext()/quote() rules), parsing of
// texts as the web UI writes them (multi-line prompts, quoted values,
// unknown keys, LoRA hashes), round trips and malformed values.
#include "image/infotext.h"

#include <gtest/gtest.h>

namespace aigc {
namespace {

TEST(Infotext, FormatsLikeTheWebUi) {
  GenerationParams p;
  p.prompt = "a photo of a cat, 4k";
  p.negative = "blurry, lowres";
  p.steps = 20;
  p.sampler = "Euler a";
  p.cfg = 7;
  p.seed = 42;
  p.width = 512;
  p.height = 768;
  p.model = "v1-5-pruned-emaonly";
  EXPECT_EQ(format_infotext(p),
            "a photo of a cat, 4k\nNegative prompt: blurry, lowres\n"
            "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x768, Model: v1-5-pruned-emaonly");

  p.negative.clear();
  p.sampler = "DPM++ 2M";
  p.schedule_type = "Karras";
  p.cfg = 7.5f;
  p.seed = 4294967295u;
  p.strength = 0.75f;
  p.clip_skip = 2;
  p.model_hash = "6ce0161689";
  p.extra = {{"Lora hashes", "cat: 1a2b3c, dog: 4d5e"}, {"Note", "a \"quoted\" word: ok"}, {"Version", "aigc"}};
  EXPECT_EQ(format_infotext(p),
            "a photo of a cat, 4k\n"
            "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7.5, Seed: 4294967295, Size: 512x768, "
            "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.75, Clip skip: 2, "
            "Lora hashes: \"cat: 1a2b3c, dog: 4d5e\", Note: \"a \\\"quoted\\\" word: ok\", Version: aigc");
}

TEST(Infotext, QuotesLikeJsonDumps) {
  EXPECT_EQ(quote_infotext_value("plain value"), "plain value");
  EXPECT_EQ(quote_infotext_value("a, b"), "\"a, b\"");
  EXPECT_EQ(quote_infotext_value("line\nbreak"), "\"line\\nbreak\"");
  EXPECT_EQ(quote_infotext_value("\xe7\x8c\xab: \\"), "\"\xe7\x8c\xab: \\\\\"");  // non-ASCII kept
}

TEST(Infotext, ParsesWebUiText) {
  const std::string text =
      "masterpiece, a cat\n"
      "  sitting on a (red:1.2) chair  \n"
      "Negative prompt: blurry,\n"
      "bad hands\n"
      "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234567890123, Size: 640x448, "
      "Model hash: abcdef1234, Model: my model, Denoising strength: 0.5, Clip skip: 2, "
      "Lora hashes: \"cat: 1a2b3c, dog: 4d5e\", TI hashes: \"x: \\\"y\\\"\", Hires upscale: 2, Version: v1.9.4";
  Result<GenerationParams> p = parse_infotext(text);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->prompt, "masterpiece, a cat\nsitting on a (red:1.2) chair");
  EXPECT_EQ(p->negative, "blurry,\nbad hands");
  EXPECT_EQ(p->steps, 30);
  EXPECT_EQ(p->sampler, "DPM++ 2M Karras");
  EXPECT_EQ(p->cfg, 6.5f);
  EXPECT_EQ(p->seed, 1234567890123u);
  EXPECT_EQ(p->width, 640);
  EXPECT_EQ(p->height, 448);
  EXPECT_EQ(p->model_hash, "abcdef1234");
  EXPECT_EQ(p->model, "my model");
  EXPECT_EQ(p->strength, 0.5f);
  EXPECT_EQ(p->clip_skip, 2);
  const std::vector<std::pair<std::string, std::string>> extra = {
      {"Lora hashes", "cat: 1a2b3c, dog: 4d5e"}, {"TI hashes", "x: \"y\""}, {"Hires upscale", "2"}, {"Version", "v1.9.4"}};
  EXPECT_EQ(p->extra, extra);
}

TEST(Infotext, RoundTrips) {
  GenerationParams p;
  p.prompt = "line one, with comma\nline two: colon";
  p.negative = "ugly";
  p.steps = 4;
  p.sampler = "LCM";
  p.cfg = 1.5f;
  p.seed = 18446744073709551615u;
  p.width = 768;
  p.height = 512;
  p.model = "model, with: punctuation";
  p.strength = 0.3f;
  p.extra = {{"Mask blur", "4"}, {"Inpaint area", "Only masked, padding 32"}};
  Result<GenerationParams> back = parse_infotext(format_infotext(p));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->prompt, p.prompt);
  EXPECT_EQ(back->negative, p.negative);
  EXPECT_EQ(back->steps, p.steps);
  EXPECT_EQ(back->sampler, p.sampler);
  EXPECT_EQ(back->cfg, p.cfg);
  EXPECT_EQ(back->seed, p.seed);
  EXPECT_EQ(back->width, p.width);
  EXPECT_EQ(back->height, p.height);
  EXPECT_EQ(back->model, p.model);
  EXPECT_EQ(back->strength, p.strength);
  EXPECT_EQ(back->clip_skip, 1);
  EXPECT_EQ(back->extra, p.extra);
}

TEST(Infotext, TextWithoutParametersIsAllPrompt) {
  Result<GenerationParams> p = parse_infotext("just a prompt\nSteps: 20, Sampler: Euler");  // 2 pairs < 3
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->prompt, "just a prompt\nSteps: 20, Sampler: Euler");
  EXPECT_EQ(p->steps, GenerationParams{}.steps);
  Result<GenerationParams> empty = parse_infotext("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->prompt, "");
}

TEST(Infotext, RejectsMalformedKnownValues) {
  for (const char* text : {"p\nSteps: many, Sampler: Euler, Seed: 1", "p\nSteps: 20, Sampler: Euler, Seed: -1",
                           "p\nSteps: 20, Sampler: Euler, Size: 512", "p\nSteps: 20, CFG scale: 7x, Seed: 1",
                           "p\nSteps: 20, Sampler: Euler, Size: 99999999999x2"}) {
    Result<GenerationParams> p = parse_infotext(text);
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find("infotext: "), std::string::npos) << p.status().message();
  }
}

}  // namespace
}  // namespace aigc
