// SdNameMap on the full SD 1.5 layout (names as diffusers and the original
// checkpoints spell them) and on layouts that are not SD 1.x.
#include "image/diffusers_names.h"

#include <gtest/gtest.h>

namespace aigc {
namespace {

// Block prefixes of the SD 1.5 UNet in diffusers naming (4 levels, 2 resnets,
// attention on the first three down levels and the last three up levels).
std::vector<std::string> sd15_unet_diffusers_names() {
  std::vector<std::string> names = {"conv_in.weight", "time_embedding.linear_1.weight",
                                    "time_embedding.linear_2.bias", "mid_block.resnets.0.norm1.weight",
                                    "mid_block.attentions.0.proj_in.weight", "mid_block.resnets.1.conv2.weight",
                                    "conv_norm_out.weight", "conv_out.bias"};
  for (int i = 0; i < 4; ++i) {
    const std::string d = "down_blocks." + std::to_string(i) + ".", u = "up_blocks." + std::to_string(i) + ".";
    for (int j = 0; j < 2; ++j) {
      names.push_back(d + "resnets." + std::to_string(j) + ".conv1.weight");
      if (i < 3) names.push_back(d + "attentions." + std::to_string(j) + ".transformer_blocks.0.attn2.to_k.weight");
    }
    if (i < 3) names.push_back(d + "downsamplers.0.conv.weight");
    for (int j = 0; j < 3; ++j) {
      names.push_back(u + "resnets." + std::to_string(j) + ".conv_shortcut.weight");
      if (i > 0) names.push_back(u + "attentions." + std::to_string(j) + ".proj_out.weight");
    }
    if (i < 3) names.push_back(u + "upsamplers.0.conv.weight");
  }
  return names;
}

TEST(SdNameMap, Sd15UnetNamesMatchTheOriginalCheckpoint) {
  Result<SdNameMap> map = SdNameMap::unet_from_diffusers(sd15_unet_diffusers_names());
  ASSERT_TRUE(map.ok()) << map.status().to_string();
  // Names as they are in v1-5-pruned.safetensors.
  const std::pair<const char*, const char*> cases[] = {
      {"conv_in.weight", "input_blocks.0.0.weight"},
      {"time_embedding.linear_2.bias", "time_embed.2.bias"},
      {"down_blocks.0.resnets.0.norm1.weight", "input_blocks.1.0.in_layers.0.weight"},
      {"down_blocks.0.attentions.1.transformer_blocks.0.attn1.to_q.weight",
       "input_blocks.2.1.transformer_blocks.0.attn1.to_q.weight"},
      {"down_blocks.0.downsamplers.0.conv.weight", "input_blocks.3.0.op.weight"},
      {"down_blocks.1.resnets.0.conv_shortcut.bias", "input_blocks.4.0.skip_connection.bias"},
      {"down_blocks.2.downsamplers.0.conv.bias", "input_blocks.9.0.op.bias"},
      {"down_blocks.3.resnets.1.conv2.weight", "input_blocks.11.0.out_layers.3.weight"},
      {"down_blocks.3.resnets.0.time_emb_proj.weight", "input_blocks.10.0.emb_layers.1.weight"},
      {"mid_block.resnets.1.norm2.bias", "middle_block.2.out_layers.0.bias"},
      {"mid_block.attentions.0.proj_out.weight", "middle_block.1.proj_out.weight"},
      {"up_blocks.0.resnets.2.conv1.weight", "output_blocks.2.0.in_layers.2.weight"},
      {"up_blocks.0.upsamplers.0.conv.weight", "output_blocks.2.1.conv.weight"},
      {"up_blocks.1.attentions.0.norm.weight", "output_blocks.3.1.norm.weight"},
      {"up_blocks.1.upsamplers.0.conv.bias", "output_blocks.5.2.conv.bias"},
      {"up_blocks.2.upsamplers.0.conv.weight", "output_blocks.8.2.conv.weight"},
      {"up_blocks.3.attentions.2.transformer_blocks.0.ff.net.2.weight",
       "output_blocks.11.1.transformer_blocks.0.ff.net.2.weight"},
      {"conv_norm_out.bias", "out.0.bias"},
      {"conv_out.weight", "out.2.weight"},
  };
  std::vector<std::string> ldm_names;
  for (const auto& [diffusers, ldm] : cases) {
    EXPECT_EQ(map->to_ldm(diffusers).value_or("-"), ldm);
    EXPECT_EQ(map->to_diffusers(ldm).value_or("-"), diffusers);
    ldm_names.push_back(ldm);
  }
  EXPECT_FALSE(map->to_ldm("add_embedding.linear_1.weight"));
  EXPECT_FALSE(map->to_diffusers("label_emb.0.0.weight"));

  // The same tables from the ldm names of the whole layout.
  for (const std::string& n : sd15_unet_diffusers_names()) ldm_names.push_back(map->to_ldm(n).value());
  Result<SdNameMap> from_ldm = SdNameMap::unet_from_ldm(ldm_names);
  ASSERT_TRUE(from_ldm.ok()) << from_ldm.status().to_string();
  for (const std::string& n : sd15_unet_diffusers_names()) {
    EXPECT_EQ(from_ldm->to_diffusers(map->to_ldm(n).value()).value_or("-"), n);
  }
}

TEST(SdNameMap, VaeDecoderLevelsAreReversedAndAttentionRenamed) {
  std::vector<std::string> names;
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 3; ++j) names.push_back("decoder.up_blocks." + std::to_string(i) + ".resnets." +
                                                std::to_string(j) + ".conv1.weight");
    for (int j = 0; j < 2; ++j) names.push_back("encoder.down_blocks." + std::to_string(i) + ".resnets." +
                                                std::to_string(j) + ".conv1.weight");
  }
  Result<SdNameMap> map = SdNameMap::vae_from_diffusers(names);
  ASSERT_TRUE(map.ok()) << map.status().to_string();
  const std::pair<const char*, const char*> cases[] = {
      {"decoder.up_blocks.0.resnets.2.conv1.weight", "decoder.up.3.block.2.conv1.weight"},
      {"decoder.up_blocks.3.resnets.0.conv_shortcut.bias", "decoder.up.0.block.0.nin_shortcut.bias"},
      {"decoder.up_blocks.1.upsamplers.0.conv.weight", "decoder.up.2.upsample.conv.weight"},
      {"encoder.down_blocks.2.downsamplers.0.conv.bias", "encoder.down.2.downsample.conv.bias"},
      {"encoder.down_blocks.1.resnets.1.norm2.weight", "encoder.down.1.block.1.norm2.weight"},
      {"encoder.mid_block.resnets.1.conv1.weight", "encoder.mid.block_2.conv1.weight"},
      {"decoder.mid_block.attentions.0.group_norm.bias", "decoder.mid.attn_1.norm.bias"},
      {"decoder.mid_block.attentions.0.to_out.0.weight", "decoder.mid.attn_1.proj_out.weight"},
      {"encoder.mid_block.attentions.0.key.weight", "encoder.mid.attn_1.k.weight"},
      {"encoder.mid_block.attentions.0.proj_attn.bias", "encoder.mid.attn_1.proj_out.bias"},
      {"encoder.conv_norm_out.weight", "encoder.norm_out.weight"},
      {"post_quant_conv.weight", "post_quant_conv.weight"},
  };
  for (const auto& [diffusers, ldm] : cases) EXPECT_EQ(map->to_ldm(diffusers).value_or("-"), ldm);
  EXPECT_EQ(map->to_diffusers("encoder.mid.attn_1.k.weight").value_or("-"),
            "encoder.mid_block.attentions.0.to_k.weight");
  EXPECT_TRUE(map->is_vae_attention_linear("decoder.mid.attn_1.q.weight"));
  EXPECT_FALSE(map->is_vae_attention_linear("decoder.mid.attn_1.q.bias"));
  EXPECT_FALSE(map->is_vae_attention_linear("decoder.mid.attn_1.norm.weight"));
}

TEST(SdNameMap, LayoutsThatAreNotSd1AreErrors) {
  EXPECT_FALSE(SdNameMap::unet_from_diffusers({"conv_in.weight"}).ok());
  Result<SdNameMap> uneven = SdNameMap::unet_from_diffusers(
      {"down_blocks.0.resnets.0.conv1.weight", "down_blocks.1.resnets.0.conv1.weight", "up_blocks.0.resnets.0.x"});
  ASSERT_FALSE(uneven.ok());
  EXPECT_NE(uneven.status().message().find("2 down_blocks but 1 up_blocks"), std::string::npos);
  EXPECT_FALSE(SdNameMap::unet_from_ldm({"input_blocks.0.0.weight", "out.2.weight"}).ok());
  EXPECT_FALSE(SdNameMap::unet_from_diffusers({"down_blocks.99999999999.resnets.0.x", "up_blocks.0.x"}).ok());
  EXPECT_FALSE(SdNameMap::vae_from_diffusers({"encoder.conv_in.weight"}).ok());
}

}  // namespace
}  // namespace aigc
