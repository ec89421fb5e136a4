// diffusers_names: the pair tables between diffusers' module names and the
// original (ldm) names of Stable Diffusion 1.x's UNet and VAE, in both
// directions. The model code knows the ldm names only; diffusers folders are
// renamed on load, and LoRA files may name modules either way.
//
// UNet (L levels, R resnets per down level, R+1 per up level; in SD 1.x L = 4,
// R = 2, every level but the last has a down/upsampler):
//   conv_in                          <-> input_blocks.0.0
//   time_embedding.linear_{1,2}      <-> time_embed.{0,2}
//   down_blocks.i.resnets.j          <-> input_blocks.(i(R+1)+j+1).0
//   down_blocks.i.attentions.j       <-> input_blocks.(i(R+1)+j+1).1
//   down_blocks.i.downsamplers.0.conv<-> input_blocks.((i+1)(R+1)).0.op
//   mid_block.resnets.{0,1}          <-> middle_block.{0,2};  mid_block.attentions.0 <-> middle_block.1
//   up_blocks.i.resnets.j            <-> output_blocks.(i(R+1)+j).0
//   up_blocks.i.attentions.j         <-> output_blocks.(i(R+1)+j).1
//   up_blocks.i.upsamplers.0.conv    <-> output_blocks.(i(R+1)+R).{1 without attention, 2 with}.conv
//   conv_norm_out, conv_out          <-> out.0, out.2
//   inside resnets: norm1 in_layers.0, conv1 in_layers.2, time_emb_proj emb_layers.1,
//                   norm2 out_layers.0, conv2 out_layers.3, conv_shortcut skip_connection
//   attention (transformer) blocks have the same inner names in both.
// VAE (L levels; the decoder's up blocks are numbered in reverse):
//   encoder.down_blocks.i.resnets.j / downsamplers.0.conv <-> encoder.down.i.block.j / downsample.conv
//   decoder.up_blocks.i.resnets.j / upsamplers.0.conv     <-> decoder.up.(L-1-i).block.j / upsample.conv
//   {en,de}coder.mid_block.resnets.{0,1} <-> mid.block_{1,2}
//   {en,de}coder.mid_block.attentions.0.{group_norm, to_q|query, to_k|key, to_v|value, to_out.0|proj_attn}
//       <-> mid.attn_1.{norm, q, k, v, proj_out} (diffusers' [C, C] linear weights are ldm's [C, C, 1, 1])
//   conv_norm_out <-> norm_out;  inside resnets: conv_shortcut <-> nin_shortcut
//
// Level and resnet counts come from the names themselves.
// Immutable after construction: safe to use from many threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace aigc {

class SdNameMap {
 public:
  // From the complete list of a UNet's (or VAE's) tensor names in diffusers
  // naming; InvalidArgument if they do not describe the SD 1.x layout.
  static Result<SdNameMap> unet_from_diffusers(const std::vector<std::string>& names);
  static Result<SdNameMap> vae_from_diffusers(const std::vector<std::string>& names);
  // From the same in ldm naming.
  static Result<SdNameMap> unet_from_ldm(const std::vector<std::string>& names);

  // The ldm name of a diffusers tensor name, or nullopt if no rule covers it.
  std::optional<std::string> to_ldm(std::string_view diffusers_name) const;
  // The diffusers name of an ldm tensor name, or nullopt.
  std::optional<std::string> to_diffusers(std::string_view ldm_name) const;

  // True for the VAE attention weights that diffusers stores as [C, C] and
  // ldm as [C, C, 1, 1] (`ldm_name` in ldm naming).
  bool is_vae_attention_linear(std::string_view ldm_name) const;

 private:
  // One renamed block: every name that starts with one prefix starts with
  // the other in the other naming, with the inner renames applied to the rest.
  struct Block {
    std::string diffusers, ldm;  // prefixes, ending with '.'
    const std::vector<std::pair<std::string, std::string>>* inner = nullptr;  // (diffusers, ldm) prefixes
  };
  struct UnetLayout;  // levels, resnets per level, which levels have attention and samplers
  static SdNameMap unet_from_layout(const UnetLayout& layout);
  static std::optional<std::string> rename(std::string_view name, const std::vector<Block>& blocks, bool to_ldm);

  std::vector<Block> blocks_;
  bool vae_ = false;
};

}  // namespace aigc
