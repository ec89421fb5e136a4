// The SD 1.x UNet (unet.h): configuration from the weights, the block
// structure of ldm's UNetModel, and the forward pass over the layers of
// unet_blocks.h.
#include "image/unet.h"

#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "image/unet_blocks.h"
#include "kernels/activation.h"
#include "kernels/norm.h"
#include "kernels/upsample.h"

namespace aigc {

// One entry of input_blocks / output_blocks: its layers in order (each optional).
struct UnetBlock {
  std::optional<UnetConv> conv_in;                // input_blocks.0.0
  std::optional<UnetResBlock> res;                // .0
  std::optional<UnetSpatialTransformer> attn;     // .1
  std::optional<UnetConv> downsample;             // .0.op (stride 2)
  std::optional<UnetConv> upsample;               // .{1,2}.conv after nearest 2x
};

struct UnetModel {
  UnetParams params;
  UnetLinear time_in, time_out;  // time_embed.0, time_embed.2
  std::vector<UnetBlock> input_blocks, output_blocks;
  UnetResBlock middle_res1, middle_res2;
  UnetSpatialTransformer middle_attn;
  UnetNorm out_norm;
  UnetConv out_conv;
  // Work buffers kept between passes, one pool per concurrent forward().
  mutable std::mutex scratch_mutex;
  mutable std::vector<std::unique_ptr<UnetScratch>> idle_scratch;
};

namespace {

std::string block_name(const char* list, size_t k) { return std::string(list) + "." + std::to_string(k) + "."; }

Result<UnetConfig> read_config(const WeightStore& ws) {
  const std::string& comp = ws.component();
  UnetConfig cfg;
  cfg.n_heads = ws.attention_heads();
  AIGC_ASSIGN_OR_RETURN(Tensor conv_in, ws.get("input_blocks.0.0.weight"));
  AIGC_ASSIGN_OR_RETURN(Tensor conv_out, ws.get("out.2.weight"));
  AIGC_ASSIGN_OR_RETURN(Tensor to_k, ws.get("middle_block.1.transformer_blocks.0.attn2.to_k.weight"));
  if (conv_in.n_dims != 4 || conv_out.n_dims != 4 || to_k.n_dims != 2) {
    return Status::invalid_argument(comp + ": input_blocks.0.0.weight " + conv_in.shape_string() +
                                    ", out.2.weight " + conv_out.shape_string() +
                                    " and middle_block.1.transformer_blocks.0.attn2.to_k.weight " +
                                    to_k.shape_string() + " are not a UNet's conv, conv and linear weights");
  }
  cfg.model_channels = conv_in.shape[0];
  cfg.in_channels = conv_in.shape[1];
  cfg.out_channels = conv_out.shape[0];
  cfg.context_dim = to_k.shape[1];
  cfg.transformer_depth = 0;
  while (ws.has("middle_block.1.transformer_blocks." + std::to_string(cfg.transformer_depth) + ".norm1.weight")) {
    ++cfg.transformer_depth;
  }

  // input_blocks 1, 2, ...: per level, ResBlocks (same width, with or without
  // attention) ended by a downsampling conv, except after the last level.
  std::vector<int64_t> widths, counts;
  for (size_t k = 1;; ++k) {
    const std::string p = block_name("input_blocks", k);
    const bool down = ws.has(p + "0.op.weight");
    if (!down && !ws.has(p + "0.out_layers.3.weight")) break;
    if (down) {
      if (counts.empty() || counts.back() == 0) {
        return Status::invalid_argument(comp + ": " + p + "0.op follows no ResBlock");
      }
      counts.push_back(0);
      continue;
    }
    AIGC_ASSIGN_OR_RETURN(Tensor out_conv, ws.get(p + "0.out_layers.3.weight"));
    const int64_t width = out_conv.shape[0];
    const bool attn = ws.has(p + "1.norm.weight");
    if (counts.empty() || counts.back() == 0) {
      if (counts.empty()) counts.push_back(0);
      widths.push_back(width);
      cfg.attention.push_back(attn);
    } else if (width != widths.back() || attn != cfg.attention.back()) {
      return Status::invalid_argument(comp + ": " + p + "0 has width " + std::to_string(width) +
                                      (attn ? " with" : " without") + " attention, unlike the level's first block");
    }
    ++counts.back();
  }
  if (counts.empty() || counts.back() == 0) {
    return Status::invalid_argument(comp + ": no ResBlocks after input_blocks.0 (or a level without any)");
  }
  cfg.n_res_blocks = counts[0];
  for (size_t l = 0; l < counts.size(); ++l) {
    if (counts[l] != cfg.n_res_blocks) {
      return Status::invalid_argument(comp + ": level " + std::to_string(l) + " has " + std::to_string(counts[l]) +
                                      " ResBlocks, level 0 has " + std::to_string(cfg.n_res_blocks));
    }
    if (widths[l] % cfg.model_channels) {
      return Status::invalid_argument(comp + ": level " + std::to_string(l) + " width " + std::to_string(widths[l]) +
                                      " is not a multiple of model_channels " +
                                      std::to_string(cfg.model_channels));
    }
    cfg.channel_mult.push_back(widths[l] / cfg.model_channels);
  }
  return cfg;
}

Result<std::unique_ptr<UnetModel>> build(const WeightStore& ws, const UnetConfig& cfg) {
  auto m = std::make_unique<UnetModel>();
  UnetParams& params = m->params;
  const int64_t mc = cfg.model_channels, E = 4 * mc, n_levels = int64_t(cfg.channel_mult.size());
  const int64_t depth = cfg.transformer_depth, ctx = cfg.context_dim;
  AIGC_ASSIGN_OR_RETURN(m->time_in, UnetLinear::load(ws, params, "time_embed.0.", E, mc));
  AIGC_ASSIGN_OR_RETURN(m->time_out, UnetLinear::load(ws, params, "time_embed.2.", E, E));

  UnetBlock first;
  AIGC_ASSIGN_OR_RETURN(first.conv_in, UnetConv::load(ws, params, "input_blocks.0.0.", mc, cfg.in_channels, 3));
  m->input_blocks.push_back(std::move(first));
  std::vector<int64_t> skip_channels = {mc};
  int64_t ch = mc;
  for (int64_t level = 0; level < n_levels; ++level) {
    const int64_t width = mc * cfg.channel_mult[size_t(level)];
    for (int64_t i = 0; i < cfg.n_res_blocks; ++i) {
      const std::string p = block_name("input_blocks", m->input_blocks.size());
      UnetBlock b;
      AIGC_ASSIGN_OR_RETURN(b.res, UnetResBlock::load(ws, params, p + "0.", ch, width, E));
      ch = width;
      if (cfg.attention[size_t(level)]) {
        AIGC_ASSIGN_OR_RETURN(b.attn, UnetSpatialTransformer::load(ws, params, p + "1.", ch, ctx, cfg.n_heads, depth));
      }
      m->input_blocks.push_back(std::move(b));
      skip_channels.push_back(ch);
    }
    if (level != n_levels - 1) {
      const std::string p = block_name("input_blocks", m->input_blocks.size());
      UnetBlock b;
      AIGC_ASSIGN_OR_RETURN(b.downsample, UnetConv::load(ws, params, p + "0.op.", ch, ch, 3, 2));
      m->input_blocks.push_back(std::move(b));
      skip_channels.push_back(ch);
    }
  }
  AIGC_ASSIGN_OR_RETURN(m->middle_res1, UnetResBlock::load(ws, params, "middle_block.0.", ch, ch, E));
  AIGC_ASSIGN_OR_RETURN(m->middle_attn,
                        UnetSpatialTransformer::load(ws, params, "middle_block.1.", ch, ctx, cfg.n_heads, depth));
  AIGC_ASSIGN_OR_RETURN(m->middle_res2, UnetResBlock::load(ws, params, "middle_block.2.", ch, ch, E));
  for (int64_t level = n_levels - 1; level >= 0; --level) {
    const int64_t width = mc * cfg.channel_mult[size_t(level)];
    for (int64_t i = 0; i <= cfg.n_res_blocks; ++i) {
      const std::string p = block_name("output_blocks", m->output_blocks.size());
      UnetBlock b;
      AIGC_ASSIGN_OR_RETURN(b.res, UnetResBlock::load(ws, params, p + "0.", ch + skip_channels.back(), width, E));
      skip_channels.pop_back();
      ch = width;
      if (cfg.attention[size_t(level)]) {
        AIGC_ASSIGN_OR_RETURN(b.attn, UnetSpatialTransformer::load(ws, params, p + "1.", ch, ctx, cfg.n_heads, depth));
      }
      if (level > 0 && i == cfg.n_res_blocks) {
        const std::string up = p + (b.attn ? "2" : "1") + ".conv.";
        AIGC_ASSIGN_OR_RETURN(b.upsample, UnetConv::load(ws, params, up, ch, ch, 3));
      }
      m->output_blocks.push_back(std::move(b));
    }
  }
  AIGC_ASSIGN_OR_RETURN(m->out_norm, UnetNorm::load(ws, params, "out.0.", mc, 1e-5f));
  AIGC_ASSIGN_OR_RETURN(m->out_conv, UnetConv::load(ws, params, "out.2.", cfg.out_channels, mc, 3));
  return m;
}

// Map shape [n, c, h, w] as it flows through the blocks.
struct MapShape {
  int64_t n, c, h, w;
  int64_t size() const { return n * c * h * w; }
};

// out [planes, oh, ow] = in [planes, h, w] resized by nearest neighbour
// (F.interpolate(mode="nearest", size=(oh, ow))): source row y * h / oh.
void upsample_nearest(float* out, const float* in, int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow) {
  if (oh == 2 * h && ow == 2 * w) {
    upsample_nearest2x(out, in, planes, h, w);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t y = 0; y < oh; ++y) {
      const float* src = in + (p * h + y * h / oh) * w;
      float* dst = out + (p * oh + y) * ow;
      for (int64_t x = 0; x < ow; ++x) dst[x] = src[x * w / ow];
    }
  }
}

// Runs one block's layers on `in` (shape s, updated to the output's). An
// upsampling block resizes to `skip`, the map the next block concatenates.
UnetScratch::Buffer run_block(const UnetBlock& b, const float* in, MapShape& s, const MapShape& skip,
                              const float* emb_silu, const float* context, int64_t L, UnetScratch& pool) {
  UnetScratch::Buffer cur;
  if (b.conv_in) {
    cur = pool.get(s.n * b.conv_in->c_out * s.h * s.w);
    b.conv_in->forward(cur.data(), in, s.n, s.h, s.w);
    s.c = b.conv_in->c_out;
  }
  if (b.downsample) {
    const int64_t h = s.h, w = s.w;
    s.h = (h + 1) / 2;  // stride 2, padding 1
    s.w = (w + 1) / 2;
    cur = pool.get(s.size());
    b.downsample->forward(cur.data(), in, s.n, h, w);
  }
  if (b.res) {
    cur = pool.get(s.n * b.res->c_out * s.h * s.w);
    b.res->forward(cur.data(), in, emb_silu, s.n, s.h, s.w, pool);
    s.c = b.res->c_out;
  }
  if (b.attn) b.attn->forward(cur.data(), s.n, s.h, s.w, context, L, pool);
  if (b.upsample) {
    UnetScratch::Buffer up = pool.get(s.n * s.c * skip.h * skip.w);
    upsample_nearest(up.data(), cur.data(), s.n * s.c, s.h, s.w, skip.h, skip.w);
    s.h = skip.h;
    s.w = skip.w;
    cur = pool.get(s.size());
    b.upsample->forward(cur.data(), up.data(), s.n, s.h, s.w);
  }
  return cur;
}

double block_flops(const UnetBlock& b, MapShape& s, const MapShape& skip, int64_t L) {
  double total = 0;
  if (b.conv_in) {
    total += b.conv_in->flops(s.n, s.h, s.w);
    s.c = b.conv_in->c_out;
  }
  if (b.downsample) {
    total += b.downsample->flops(s.n, s.h, s.w);
    s.h = (s.h + 1) / 2;
    s.w = (s.w + 1) / 2;
  }
  if (b.res) {
    total += b.res->flops(s.n, s.h, s.w);
    s.c = b.res->c_out;
  }
  if (b.attn) total += b.attn->flops(s.n, s.h, s.w, L);
  if (b.upsample) {
    s.h = skip.h;
    s.w = skip.w;
    total += b.upsample->flops(s.n, s.h, s.w);
  }
  return total;
}

// A scratch pool for one forward(): an idle one of the model's, returned when done.
class ScratchLease {
 public:
  explicit ScratchLease(const UnetModel& m) : m_(m) {
    std::lock_guard<std::mutex> lock(m_.scratch_mutex);
    if (m_.idle_scratch.empty()) {
      pool_ = std::make_unique<UnetScratch>();
    } else {
      pool_ = std::move(m_.idle_scratch.back());
      m_.idle_scratch.pop_back();
    }
  }
  ~ScratchLease() {
    std::lock_guard<std::mutex> lock(m_.scratch_mutex);
    m_.idle_scratch.push_back(std::move(pool_));
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  UnetScratch& pool() { return *pool_; }

 private:
  const UnetModel& m_;
  std::unique_ptr<UnetScratch> pool_;
};

}  // namespace

Unet::Unet(UnetConfig config, std::unique_ptr<UnetModel> model)
    : config_(std::move(config)), model_(std::move(model)) {}
Unet::Unet(Unet&&) noexcept = default;
Unet& Unet::operator=(Unet&&) noexcept = default;
Unet::~Unet() = default;

Result<Unet> Unet::load(const WeightStore& w) {
  AIGC_ASSIGN_OR_RETURN(UnetConfig config, read_config(w));
  AIGC_ASSIGN_OR_RETURN(std::unique_ptr<UnetModel> model, build(w, config));
  return Unet(std::move(config), std::move(model));
}

Status Unet::forward(const float* x, int64_t n, int64_t h, int64_t w, const float* timesteps, const float* context,
                     int64_t n_tokens, float* out) const {
  if (n < 1 || h < 1 || w < 1 || n_tokens < 1) {
    return Status::invalid_argument("UNet: input n=" + std::to_string(n) + " h=" + std::to_string(h) +
                                    " w=" + std::to_string(w) + " n_tokens=" + std::to_string(n_tokens) +
                                    ": all must be positive");
  }
  const UnetModel& m = *model_;
  ScratchLease lease(m);  // before every buffer: they go back to its pool
  UnetScratch& pool = lease.pool();
  const int64_t mc = config_.model_channels, half = mc / 2, E = 4 * mc;

  // emb = time_embed(cat(cos, sin)(t * freqs)), then SiLU as every ResBlock applies it first
  UnetScratch::Buffer t_emb = pool.get(n * mc), e1 = pool.get(n * E), emb_silu = pool.get(n * E);
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t i = 0; i < half; ++i) {
      const double arg = double(timesteps[b]) * std::exp(-std::log(10000.0) * double(i) / double(half));
      t_emb.data()[b * mc + i] = float(std::cos(arg));
      t_emb.data()[b * mc + half + i] = float(std::sin(arg));
    }
  }
  m.time_in.forward(e1.data(), t_emb.data(), n);
  silu(e1.data(), e1.data(), n * E);
  m.time_out.forward(emb_silu.data(), e1.data(), n);
  silu(emb_silu.data(), emb_silu.data(), n * E);

  MapShape s{n, config_.in_channels, h, w};
  std::vector<std::pair<UnetScratch::Buffer, MapShape>> skips;
  const float* cur = x;
  for (const UnetBlock& b : m.input_blocks) {
    UnetScratch::Buffer y = run_block(b, cur, s, s, emb_silu.data(), context, n_tokens, pool);
    skips.emplace_back(std::move(y), s);
    cur = skips.back().first.data();
  }
  UnetScratch::Buffer mid = pool.get(s.size()), hidden = pool.get(s.size());
  m.middle_res1.forward(mid.data(), cur, emb_silu.data(), n, s.h, s.w, pool);
  m.middle_attn.forward(mid.data(), n, s.h, s.w, context, n_tokens, pool);
  m.middle_res2.forward(hidden.data(), mid.data(), emb_silu.data(), n, s.h, s.w, pool);
  for (const UnetBlock& b : m.output_blocks) {
    const int64_t hw = s.h * s.w, c = s.c, cs = skips.back().second.c;
    UnetScratch::Buffer cat = pool.get(n * (c + cs) * hw);  // cat([h, skip], dim=1)
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(cat.data() + i * (c + cs) * hw, hidden.data() + i * c * hw, size_t(c * hw) * sizeof(float));
      std::memcpy(cat.data() + (i * (c + cs) + c) * hw, skips.back().first.data() + i * cs * hw,
                  size_t(cs * hw) * sizeof(float));
    }
    skips.pop_back();
    s.c = c + cs;
    hidden = run_block(b, cat.data(), s, skips.empty() ? s : skips.back().second, emb_silu.data(), context,
                       n_tokens, pool);
  }
  group_norm(hidden.data(), hidden.data(), m.out_norm.weight, m.out_norm.bias, m.out_norm.eps, n, s.c, s.h, s.w, m.out_norm.groups);
  silu(hidden.data(), hidden.data(), s.size());
  m.out_conv.forward(out, hidden.data(), n, s.h, s.w);
  return Status::ok_status();
}

double Unet::flops(int64_t n, int64_t h, int64_t w, int64_t n_tokens) const {
  const UnetModel& m = *model_;
  double total = m.time_in.flops(n) + m.time_out.flops(n);
  MapShape s{n, config_.in_channels, h, w};
  std::vector<MapShape> skips;
  for (const UnetBlock& b : m.input_blocks) {
    total += block_flops(b, s, s, n_tokens);
    skips.push_back(s);
  }
  total += m.middle_res1.flops(n, s.h, s.w) + m.middle_attn.flops(n, s.h, s.w, n_tokens) +
           m.middle_res2.flops(n, s.h, s.w);
  for (const UnetBlock& b : m.output_blocks) {
    s.c += skips.back().c;
    skips.pop_back();
    total += block_flops(b, s, skips.empty() ? s : skips.back(), n_tokens);
  }
  return total + m.out_conv.flops(n, s.h, s.w);
}

}  // namespace aigc
