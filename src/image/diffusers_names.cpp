// diffusers_names: SD 1.x UNet/VAE name tables between diffusers and ldm.
#include "image/diffusers_names.h"

#include <algorithm>

namespace aigc {
namespace {

using Renames = std::vector<std::pair<std::string, std::string>>;  // (diffusers, ldm) prefixes

const Renames kUnetResnet = {{"norm1.", "in_layers.0."},         {"conv1.", "in_layers.2."},
                             {"time_emb_proj.", "emb_layers.1."}, {"norm2.", "out_layers.0."},
                             {"conv2.", "out_layers.3."},         {"conv_shortcut.", "skip_connection."}};
const Renames kVaeResnet = {{"conv_shortcut.", "nin_shortcut."}};
// The first pair of each ldm name is the one to_diffusers() gives.
const Renames kVaeAttention = {{"group_norm.", "norm."}, {"to_q.", "q."},        {"query.", "q."},
                               {"to_k.", "k."},          {"key.", "k."},         {"to_v.", "v."},
                               {"value.", "v."},         {"to_out.0.", "proj_out."}, {"proj_attn.", "proj_out."}};

// The number after `prefix` in `name` ("down_blocks.3.x" -> 3), or -1.
int index_after(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return -1;
  int v = -1;
  for (size_t i = prefix.size(); i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) {
    v = (v < 0 ? 0 : v * 10) + (name[i] - '0');
    if (v > 100000) return -1;
  }
  return v;
}

bool any_starts_with(const std::vector<std::string>& names, const std::string& prefix) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return n.starts_with(prefix); });
}

// 1 + the largest index after `prefix` in any name whose start is `prefix`
// (0 if none).
int count_indices(const std::vector<std::string>& names, const std::string& prefix) {
  int n = 0;
  for (const std::string& name : names) n = std::max(n, index_after(name, prefix) + 1);
  return n;
}

constexpr int kMaxLevels = 16;
constexpr int kMaxResnets = 16;

Status check_layout(int levels, int resnets, const char* what) {
  if (levels < 1 || levels > kMaxLevels || resnets < 1 || resnets > kMaxResnets)
    return Status::invalid_argument(std::string("UNet (") + what + " names): " + std::to_string(levels) +
                                    " levels of " + std::to_string(resnets) +
                                    " resnets is not an SD 1.x UNet layout");
  return {};
}

}  // namespace

// The block structure of a UNet.
struct SdNameMap::UnetLayout {
  int levels = 0, resnets = 0;  // L, R
  std::vector<bool> down_attention, up_attention, downsampler, upsampler;
};

Result<SdNameMap> SdNameMap::unet_from_diffusers(const std::vector<std::string>& names) {
  UnetLayout l;
  l.levels = count_indices(names, "down_blocks.");
  for (int i = 0; i < std::min(l.levels, kMaxLevels); ++i)
    l.resnets = std::max(l.resnets, count_indices(names, "down_blocks." + std::to_string(i) + ".resnets."));
  AIGC_RETURN_IF_ERROR(check_layout(l.levels, l.resnets, "diffusers"));
  const int up_levels = count_indices(names, "up_blocks.");
  if (up_levels != l.levels)
    return Status::invalid_argument("UNet (diffusers names): " + std::to_string(l.levels) + " down_blocks but " +
                                    std::to_string(up_levels) + " up_blocks");
  for (int i = 0; i < l.levels; ++i) {
    const std::string d = "down_blocks." + std::to_string(i) + ".", u = "up_blocks." + std::to_string(i) + ".";
    l.down_attention.push_back(any_starts_with(names, d + "attentions."));
    l.downsampler.push_back(any_starts_with(names, d + "downsamplers."));
    l.up_attention.push_back(any_starts_with(names, u + "attentions."));
    l.upsampler.push_back(any_starts_with(names, u + "upsamplers."));
  }
  return unet_from_layout(l);
}

SdNameMap SdNameMap::unet_from_layout(const UnetLayout& l) {
  SdNameMap m;
  m.blocks_ = {{"conv_in.", "input_blocks.0.0."},
               {"time_embedding.linear_1.", "time_embed.0."},
               {"time_embedding.linear_2.", "time_embed.2."},
               {"mid_block.resnets.0.", "middle_block.0.", &kUnetResnet},
               {"mid_block.attentions.0.", "middle_block.1."},
               {"mid_block.resnets.1.", "middle_block.2.", &kUnetResnet},
               {"conv_norm_out.", "out.0."},
               {"conv_out.", "out.2."}};
  int k = 1;
  for (int i = 0; i < l.levels; ++i) {
    const std::string d = "down_blocks." + std::to_string(i) + ".";
    for (int j = 0; j < l.resnets; ++j, ++k) {
      const std::string in = "input_blocks." + std::to_string(k) + ".";
      m.blocks_.push_back({d + "resnets." + std::to_string(j) + ".", in + "0.", &kUnetResnet});
      if (l.down_attention[i]) m.blocks_.push_back({d + "attentions." + std::to_string(j) + ".", in + "1."});
    }
    if (l.downsampler[i])
      m.blocks_.push_back({d + "downsamplers.0.conv.", "input_blocks." + std::to_string(k++) + ".0.op."});
  }
  k = 0;
  for (int i = 0; i < l.levels; ++i) {
    const std::string u = "up_blocks." + std::to_string(i) + ".";
    for (int j = 0; j <= l.resnets; ++j, ++k) {
      const std::string out = "output_blocks." + std::to_string(k) + ".";
      m.blocks_.push_back({u + "resnets." + std::to_string(j) + ".", out + "0.", &kUnetResnet});
      if (l.up_attention[i]) m.blocks_.push_back({u + "attentions." + std::to_string(j) + ".", out + "1."});
      if (j == l.resnets && l.upsampler[i])
        m.blocks_.push_back({u + "upsamplers.0.conv.", out + (l.up_attention[i] ? "2" : "1") + ".conv."});
    }
  }
  return m;
}

Result<SdNameMap> SdNameMap::unet_from_ldm(const std::vector<std::string>& names) {
  // Walk the input blocks: R resnet blocks per level, each level but the last
  // closed by a downsampler ("input_blocks.k.0.op.").
  const int n_input = count_indices(names, "input_blocks.");
  auto is_downsampler = [&](int k) { return any_starts_with(names, "input_blocks." + std::to_string(k) + ".0.op."); };
  UnetLayout l;
  while (l.resnets + 1 < n_input && !is_downsampler(l.resnets + 1)) ++l.resnets;
  if (l.resnets < 1) return Status::invalid_argument("UNet (ldm names): no resnet in input_blocks.1");
  l.levels = n_input / (l.resnets + 1);
  AIGC_RETURN_IF_ERROR(check_layout(l.levels, l.resnets, "ldm"));
  if (l.levels * (l.resnets + 1) != n_input)
    return Status::invalid_argument("UNet (ldm names): " + std::to_string(n_input) + " input_blocks do not make " +
                                    "levels of " + std::to_string(l.resnets) + " resnets and a downsampler");
  const int n_output = count_indices(names, "output_blocks.");
  if (n_output != l.levels * (l.resnets + 1))
    return Status::invalid_argument("UNet (ldm names): " + std::to_string(n_output) + " output_blocks, expected " +
                                    std::to_string(l.levels * (l.resnets + 1)));
  for (int i = 0; i < l.levels; ++i) {
    const int first_in = i * (l.resnets + 1) + 1, last_out = i * (l.resnets + 1) + l.resnets;
    l.down_attention.push_back(any_starts_with(names, "input_blocks." + std::to_string(first_in) + ".1."));
    l.downsampler.push_back(i + 1 < l.levels);
    l.up_attention.push_back(any_starts_with(names, "output_blocks." + std::to_string(last_out - l.resnets) + ".1."));
    const std::string up = "output_blocks." + std::to_string(last_out) + ".";
    l.upsampler.push_back(any_starts_with(names, up + (l.up_attention.back() ? "2" : "1") + ".conv."));
  }
  return unet_from_layout(l);
}

Result<SdNameMap> SdNameMap::vae_from_diffusers(const std::vector<std::string>& names) {
  const int down = count_indices(names, "encoder.down_blocks.");
  const int up = count_indices(names, "decoder.up_blocks.");
  if (down < 1 || down > kMaxLevels || up < 1 || up > kMaxLevels)
    return Status::invalid_argument("VAE (diffusers names): " + std::to_string(down) + " encoder.down_blocks and " +
                                    std::to_string(up) + " decoder.up_blocks is not an SD 1.x VAE layout");
  SdNameMap m;
  m.vae_ = true;
  for (const char* plain : {"quant_conv.", "post_quant_conv."}) m.blocks_.push_back({plain, plain});
  for (const std::string part : {"encoder.", "decoder."}) {
    for (const char* plain : {"conv_in.", "conv_out."}) m.blocks_.push_back({part + plain, part + plain});
    m.blocks_.push_back({part + "conv_norm_out.", part + "norm_out."});
    m.blocks_.push_back({part + "mid_block.resnets.0.", part + "mid.block_1.", &kVaeResnet});
    m.blocks_.push_back({part + "mid_block.resnets.1.", part + "mid.block_2.", &kVaeResnet});
    m.blocks_.push_back({part + "mid_block.attentions.0.", part + "mid.attn_1.", &kVaeAttention});
  }
  for (int i = 0; i < down; ++i) {
    const std::string d = "encoder.down_blocks." + std::to_string(i) + ".", e = "encoder.down." + std::to_string(i) + ".";
    for (int j = 0; j < count_indices(names, d + "resnets.") && j < kMaxResnets; ++j)
      m.blocks_.push_back({d + "resnets." + std::to_string(j) + ".", e + "block." + std::to_string(j) + ".", &kVaeResnet});
    m.blocks_.push_back({d + "downsamplers.0.conv.", e + "downsample.conv."});
  }
  for (int i = 0; i < up; ++i) {
    const std::string d = "decoder.up_blocks." + std::to_string(i) + ".";
    const std::string e = "decoder.up." + std::to_string(up - 1 - i) + ".";
    for (int j = 0; j < count_indices(names, d + "resnets.") && j < kMaxResnets; ++j)
      m.blocks_.push_back({d + "resnets." + std::to_string(j) + ".", e + "block." + std::to_string(j) + ".", &kVaeResnet});
    m.blocks_.push_back({d + "upsamplers.0.conv.", e + "upsample.conv."});
  }
  return m;
}

std::optional<std::string> SdNameMap::rename(std::string_view name, const std::vector<Block>& blocks, bool to_ldm) {
  for (const Block& b : blocks) {
    const std::string& from = to_ldm ? b.diffusers : b.ldm;
    const std::string& to = to_ldm ? b.ldm : b.diffusers;
    if (!name.starts_with(from)) continue;
    std::string_view rest = name.substr(from.size());
    if (b.inner) {
      for (const auto& [d, l] : *b.inner) {
        const std::string& inner_from = to_ldm ? d : l;
        if (rest.starts_with(inner_from))
          return to + (to_ldm ? l : d) + std::string(rest.substr(inner_from.size()));
      }
    }
    return to + std::string(rest);
  }
  return std::nullopt;
}

std::optional<std::string> SdNameMap::to_ldm(std::string_view diffusers_name) const {
  return rename(diffusers_name, blocks_, true);
}

std::optional<std::string> SdNameMap::to_diffusers(std::string_view ldm_name) const {
  return rename(ldm_name, blocks_, false);
}

bool SdNameMap::is_vae_attention_linear(std::string_view ldm_name) const {
  if (!vae_ || !ldm_name.ends_with(".weight")) return false;
  for (const char* part : {"encoder.mid.attn_1.", "decoder.mid.attn_1."}) {
    if (!ldm_name.starts_with(part)) continue;
    std::string_view rest = ldm_name.substr(std::string_view(part).size());
    return rest == "q.weight" || rest == "k.weight" || rest == "v.weight" || rest == "proj_out.weight";
  }
  return false;
}

}  // namespace aigc
