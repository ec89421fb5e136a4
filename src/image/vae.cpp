// The Stable Diffusion VAE (vae.h): typed weights bound to the ldm names at
// load, and the decoder / encoder forward passes on the conv2d, group_norm,
// attention and matmul kernels.
#include "image/vae.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <utility>

#include "core/dtype.h"
#include "core/tensor.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/conv2d.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "kernels/norm.h"
#include "kernels/upsample.h"
#include "kernels/winograd_conv3x3.h"

namespace aigc {

namespace {

constexpr float kNormEps = 1e-6f;
constexpr float kLogvarMin = -30.0f, kLogvarMax = 20.0f;
constexpr int64_t kMaxLatentSide = 4096;  // 32768 pixels at f = 8

// ---- weights ----------------------------------------------------------------

struct Conv {
  Tensor weight;            // [c_out, c_in, k, k], stored type
  std::vector<float> bias;  // [c_out]
  int64_t c_out = 0, c_in = 0, k = 0;
};

struct Norm {  // GroupNorm affine
  std::vector<float> weight, bias;  // [C]
  int64_t groups = 32;
};

struct Linear {  // a 1x1 conv used on [T, C] rows
  Tensor weight;            // [c_out, c_in], stored type
  std::vector<float> bias;  // [c_out]
};

struct ResBlock {
  Norm norm1;
  Conv conv1;
  Norm norm2;
  Conv conv2;
  std::optional<Conv> nin_shortcut;  // 1x1, when the channels change
};

struct AttnBlock {
  Norm norm;
  Linear q, k, v, proj_out;
};

struct Mid {
  ResBlock block_1;
  AttnBlock attn_1;
  ResBlock block_2;
};

struct Level {
  std::vector<ResBlock> blocks;
  std::optional<Conv> resample;  // encoder: downsample.conv (stride 2); decoder: upsample.conv
};

struct Encoder {
  Conv conv_in;
  std::vector<Level> down;  // down[0] at full resolution
  Mid mid;
  Norm norm_out;
  Conv conv_out;  // -> 2 z_channels
  Conv quant_conv;
};

struct Decoder {
  Conv post_quant_conv;
  Conv conv_in;
  Mid mid;
  std::vector<Level> up;  // up[0] at full resolution; run from up[L-1]
  Norm norm_out;
  Conv conv_out;
};

// Live and peak bytes of activation maps.
struct ActivationMeter {
  std::atomic<int64_t> live{0}, peak{0};
  void add(int64_t bytes) {
    const int64_t now = live += bytes;
    int64_t p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
  }
  void sub(int64_t bytes) { live -= bytes; }
};

}  // namespace

struct Vae::Model {
  VaeConfig config;
  Decoder decoder;
  std::optional<Encoder> encoder;
  mutable ActivationMeter meter;
};

namespace {

// ---- loading ------------------------------------------------------------------

std::string shape_text(std::initializer_list<int64_t> dims) {
  std::string s = "[";
  for (int64_t d : dims) s += (s.size() > 1 ? ", " : "") + (d < 0 ? std::string("C") : std::to_string(d));
  return s + "]";
}

Status check_float(const WeightStore& w, const std::string& name, const Tensor& t) {
  if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16) {
    return Status::unsupported(w.component() + ": tensor '" + name + "' has type " + dtype_name(t.dtype) +
                               "; the VAE takes F32, F16 or BF16");
  }
  if (!t.is_contiguous()) return Status::unsupported(w.component() + ": tensor '" + name + "' is not contiguous");
  return Status::ok_status();
}

// The tensor `name` of shape `dims`, where -1 matches any size.
Result<Tensor> get_shaped(const WeightStore& w, const std::string& name, std::initializer_list<int64_t> dims) {
  AIGC_ASSIGN_OR_RETURN(Tensor t, w.get(name));
  bool same = t.n_dims == static_cast<int>(dims.size());
  for (int i = 0; same && i < t.n_dims; ++i) same = dims.begin()[i] < 0 || t.shape[i] == dims.begin()[i];
  if (!same) {
    return Status::invalid_argument(w.component() + ": tensor '" + name + "' has shape " + t.shape_string() +
                                    ", expected " + shape_text(dims));
  }
  AIGC_RETURN_IF_ERROR(check_float(w, name, t));
  return t;
}

Result<std::vector<float>> load_vector(const WeightStore& w, const std::string& name, int64_t n) {
  AIGC_ASSIGN_OR_RETURN(Tensor t, get_shaped(w, name, {n}));
  std::vector<float> v(static_cast<size_t>(n));
  dtype_traits(t.dtype)->to_float(t.data, v.data(), n);
  return v;
}

// c_out < 0: any (taken from the weight).
Result<Conv> load_conv(const WeightStore& w, const std::string& prefix, int64_t c_out, int64_t c_in, int64_t k) {
  Conv c;
  AIGC_ASSIGN_OR_RETURN(c.weight, get_shaped(w, prefix + ".weight", {c_out, c_in, k, k}));
  c.c_out = c.weight.shape[0];
  c.c_in = c_in;
  c.k = k;
  AIGC_ASSIGN_OR_RETURN(c.bias, load_vector(w, prefix + ".bias", c.c_out));
  return c;
}

Result<Norm> load_norm(const WeightStore& w, const std::string& prefix, int64_t c) {
  if (c % w.norm_groups() != 0) {
    return Status::invalid_argument(w.component() + ": '" + prefix + "' normalises " + std::to_string(c) +
                                    " channels, not a multiple of the " + std::to_string(w.norm_groups()) + " groups");
  }
  Norm n;
  n.groups = w.norm_groups();
  AIGC_ASSIGN_OR_RETURN(n.weight, load_vector(w, prefix + ".weight", c));
  AIGC_ASSIGN_OR_RETURN(n.bias, load_vector(w, prefix + ".bias", c));
  return n;
}

// A 1x1 conv stored as [C, C, 1, 1] (ldm) or [C, C] (some converted checkpoints).
Result<Linear> load_linear(const WeightStore& w, const std::string& prefix, int64_t c) {
  const std::string name = prefix + ".weight";
  AIGC_ASSIGN_OR_RETURN(Tensor t, w.get(name));
  if (t.n_dims == 4) {
    AIGC_ASSIGN_OR_RETURN(t, get_shaped(w, name, {c, c, 1, 1}));
  } else {
    AIGC_ASSIGN_OR_RETURN(t, get_shaped(w, name, {c, c}));
  }
  Linear l;
  l.weight = make_tensor(t.dtype, {c, c}, t.data);
  AIGC_ASSIGN_OR_RETURN(l.bias, load_vector(w, prefix + ".bias", c));
  return l;
}

Result<ResBlock> load_res_block(const WeightStore& w, const std::string& prefix, int64_t c_in) {
  ResBlock b;
  AIGC_ASSIGN_OR_RETURN(b.norm1, load_norm(w, prefix + ".norm1", c_in));
  AIGC_ASSIGN_OR_RETURN(b.conv1, load_conv(w, prefix + ".conv1", -1, c_in, 3));
  const int64_t c_out = b.conv1.c_out;
  AIGC_ASSIGN_OR_RETURN(b.norm2, load_norm(w, prefix + ".norm2", c_out));
  AIGC_ASSIGN_OR_RETURN(b.conv2, load_conv(w, prefix + ".conv2", c_out, c_out, 3));
  if (c_out != c_in) {
    AIGC_ASSIGN_OR_RETURN(b.nin_shortcut, load_conv(w, prefix + ".nin_shortcut", c_out, c_in, 1));
  }
  return b;
}

Result<Mid> load_mid(const WeightStore& w, const std::string& prefix, int64_t c) {
  Mid m;
  AIGC_ASSIGN_OR_RETURN(m.block_1, load_res_block(w, prefix + ".block_1", c));
  AIGC_ASSIGN_OR_RETURN(m.attn_1.norm, load_norm(w, prefix + ".attn_1.norm", c));
  AIGC_ASSIGN_OR_RETURN(m.attn_1.q, load_linear(w, prefix + ".attn_1.q", c));
  AIGC_ASSIGN_OR_RETURN(m.attn_1.k, load_linear(w, prefix + ".attn_1.k", c));
  AIGC_ASSIGN_OR_RETURN(m.attn_1.v, load_linear(w, prefix + ".attn_1.v", c));
  AIGC_ASSIGN_OR_RETURN(m.attn_1.proj_out, load_linear(w, prefix + ".attn_1.proj_out", c));
  AIGC_ASSIGN_OR_RETURN(m.block_2, load_res_block(w, prefix + ".block_2", c));
  return m;
}

int64_t count_present(const WeightStore& w, const std::string& before, const std::string& after) {
  int64_t n = 0;
  while (w.has(before + std::to_string(n) + after)) ++n;
  return n;
}

Result<Decoder> load_decoder(const WeightStore& w, VaeConfig& cfg) {
  Decoder d;
  AIGC_ASSIGN_OR_RETURN(d.post_quant_conv.weight, get_shaped(w, "post_quant_conv.weight", {-1, -1, 1, 1}));
  cfg.latent_channels = d.post_quant_conv.weight.shape[1];
  const int64_t z_channels = d.post_quant_conv.weight.shape[0];
  AIGC_ASSIGN_OR_RETURN(d.post_quant_conv, load_conv(w, "post_quant_conv", z_channels, cfg.latent_channels, 1));
  AIGC_ASSIGN_OR_RETURN(d.conv_in, load_conv(w, "decoder.conv_in", -1, z_channels, 3));
  int64_t c = d.conv_in.c_out;
  AIGC_ASSIGN_OR_RETURN(d.mid, load_mid(w, "decoder.mid", c));

  cfg.n_levels = count_present(w, "decoder.up.", ".block.0.conv1.weight");
  const int64_t n_blocks = count_present(w, "decoder.up.0.block.", ".conv1.weight");
  if (cfg.n_levels == 0 || n_blocks == 0) {
    return Status::not_found(w.component() + ": missing tensor 'decoder.up.0.block.0.conv1.weight'");
  }
  cfg.n_res_blocks = n_blocks - 1;
  d.up.resize(static_cast<size_t>(cfg.n_levels));
  cfg.level_channels.resize(static_cast<size_t>(cfg.n_levels));
  for (int64_t i = cfg.n_levels - 1; i >= 0; --i) {
    const std::string prefix = "decoder.up." + std::to_string(i);
    Level& level = d.up[static_cast<size_t>(i)];
    for (int64_t j = 0; j < n_blocks; ++j) {
      AIGC_ASSIGN_OR_RETURN(ResBlock b, load_res_block(w, prefix + ".block." + std::to_string(j), c));
      c = b.conv1.c_out;
      level.blocks.push_back(std::move(b));
    }
    cfg.level_channels[static_cast<size_t>(i)] = c;
    if (i != 0) {
      AIGC_ASSIGN_OR_RETURN(level.resample, load_conv(w, prefix + ".upsample.conv", c, c, 3));
    }
  }
  AIGC_ASSIGN_OR_RETURN(d.norm_out, load_norm(w, "decoder.norm_out", c));
  AIGC_ASSIGN_OR_RETURN(d.conv_out, load_conv(w, "decoder.conv_out", -1, c, 3));
  cfg.image_channels = d.conv_out.c_out;
  return d;
}

Result<Encoder> load_encoder(const WeightStore& w, const VaeConfig& cfg, int64_t z_channels) {
  Encoder e;
  AIGC_ASSIGN_OR_RETURN(e.conv_in, load_conv(w, "encoder.conv_in", -1, cfg.image_channels, 3));
  int64_t c = e.conv_in.c_out;
  e.down.resize(static_cast<size_t>(cfg.n_levels));
  for (int64_t i = 0; i < cfg.n_levels; ++i) {
    const std::string prefix = "encoder.down." + std::to_string(i);
    Level& level = e.down[static_cast<size_t>(i)];
    for (int64_t j = 0; j < cfg.n_res_blocks; ++j) {
      AIGC_ASSIGN_OR_RETURN(ResBlock b, load_res_block(w, prefix + ".block." + std::to_string(j), c));
      c = b.conv1.c_out;
      level.blocks.push_back(std::move(b));
    }
    if (i != cfg.n_levels - 1) {
      AIGC_ASSIGN_OR_RETURN(level.resample, load_conv(w, prefix + ".downsample.conv", c, c, 3));
    }
  }
  AIGC_ASSIGN_OR_RETURN(e.mid, load_mid(w, "encoder.mid", c));
  AIGC_ASSIGN_OR_RETURN(e.norm_out, load_norm(w, "encoder.norm_out", c));
  AIGC_ASSIGN_OR_RETURN(e.conv_out, load_conv(w, "encoder.conv_out", 2 * z_channels, c, 3));
  AIGC_ASSIGN_OR_RETURN(e.quant_conv, load_conv(w, "quant_conv", 2 * cfg.latent_channels, 2 * z_channels, 1));
  return e;
}

// ---- activations ----------------------------------------------------------------

// A feature map [c, h, w] (batch 1), uninitialised on creation, counted by
// the meter while it holds memory.
class Map {
 public:
  Map(ActivationMeter& meter, int64_t c, int64_t h, int64_t w)
      : c(c), h(h), w(w), meter_(&meter), data_(new float[static_cast<size_t>(c * h * w)]) {
    meter_->add(bytes());
  }
  Map(Map&& o) noexcept : c(o.c), h(o.h), w(o.w), meter_(std::exchange(o.meter_, nullptr)), data_(std::move(o.data_)) {}
  Map& operator=(Map&& o) noexcept {
    if (this != &o) {
      release();
      c = o.c, h = o.h, w = o.w;
      meter_ = std::exchange(o.meter_, nullptr);
      data_ = std::move(o.data_);
    }
    return *this;
  }
  Map(const Map&) = delete;
  Map& operator=(const Map&) = delete;
  ~Map() { release(); }

  void release() {
    if (meter_) meter_->sub(bytes());
    meter_ = nullptr;
    data_.reset();
  }
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  int64_t size() const { return c * h * w; }
  ActivationMeter& meter() const { return *meter_; }

  int64_t c, h, w;

 private:
  int64_t bytes() const { return size() * int64_t(sizeof(float)); }
  ActivationMeter* meter_;
  std::unique_ptr<float[]> data_;
};

// out [c_out, OH, OW] = conv(in [c_in, h, w]) (+ bias).
void conv_into(const Conv& c, const float* in, int64_t h, int64_t w, int64_t stride, int64_t pad, float* out) {
  Conv2dShape s;
  s.c_in = c.c_in, s.h = h, s.w = w, s.c_out = c.c_out, s.kh = c.k, s.kw = c.k, s.stride = stride, s.pad = pad;
  conv2d(out, in, c.weight.data, c.weight.dtype, c.bias.data(), s);
}

// A "same" convolution (stride 1, padding k / 2).
Map conv(const Conv& c, const float* in, int64_t h, int64_t w, ActivationMeter& meter) {
  Map out(meter, c.c_out, h, w);
  if (c.k == 3) {
    conv3x3_winograd(out.data(), in, c.weight.data, c.weight.dtype, c.bias.data(), 1, c.c_in, c.c_out, h, w);
  } else {
    conv_into(c, in, h, w, 1, c.k / 2, out.data());
  }
  return out;
}
Map conv(const Conv& c, const Map& x) { return conv(c, x.data(), x.h, x.w, x.meter()); }

void group_norm_map(const Norm& n, const Map& x, float* out) {
  group_norm(out, x.data(), n.weight.data(), n.bias.data(), kNormEps, 1, x.c, x.h, x.w, n.groups);
}

// x = silu(group_norm(x))
void norm_silu_in_place(const Norm& n, Map& x) {
  group_norm_map(n, x, x.data());
  silu(x.data(), x.data(), x.size());
}

Map norm_silu(const Norm& n, const Map& x) {
  Map y(x.meter(), x.c, x.h, x.w);
  group_norm_map(n, x, y.data());
  silu(y.data(), y.data(), y.size());
  return y;
}

// out [cols, rows] = in [rows, cols]^T
void transpose(float* out, const float* in, int64_t rows, int64_t cols) {
  constexpr int64_t kBlock = 64;
#pragma omp parallel for schedule(static)
  for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
    for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
      for (int64_t c = c0; c < std::min(cols, c0 + kBlock); ++c) {
        for (int64_t r = r0; r < std::min(rows, r0 + kBlock); ++r) out[c * rows + r] = in[r * cols + c];
      }
    }
  }
}

// out [T, C] = in [T, C] W^T + b
Map linear(const Linear& l, const Map& in) {
  const int64_t T = in.h, C = in.w;
  Map out(in.meter(), 1, T, C);
  matmul(make_tensor(DType::F32, {T, C}, out.data()), l.weight,
         make_tensor(DType::F32, {T, C}, const_cast<float*>(in.data())));
  add_bias(out.data(), out.data(), l.bias.data(), T, C);
  return out;
}

Map res_block(const ResBlock& b, Map x) {
  Map h = conv(b.conv1, norm_silu(b.norm1, x));
  norm_silu_in_place(b.norm2, h);
  Map out = conv(b.conv2, h);
  h.release();
  if (b.nin_shortcut) {
    const Map skip = conv(*b.nin_shortcut, x);
    x.release();
    elementwise_add(out.data(), out.data(), skip.data(), out.size());
  } else {
    elementwise_add(out.data(), out.data(), x.data(), out.size());
  }
  return out;
}

// x + proj_out(attention(q, k, v)) with the pixels as T = h w tokens of C channels.
Map attn_block(const AttnBlock& a, Map x) {
  const int64_t C = x.c, T = x.h * x.w;
  Map tokens(x.meter(), 1, T, C);  // norm(x) as [T, C]
  {
    Map y(x.meter(), C, x.h, x.w);
    group_norm_map(a.norm, x, y.data());
    transpose(tokens.data(), y.data(), C, T);
  }
  Map q = linear(a.q, tokens), k = linear(a.k, tokens), v = linear(a.v, tokens);
  tokens.release();
  Map o(x.meter(), 1, T, C);
  attention_full(o.data(), q.data(), k.data(), v.data(), T, T, 1, C);
  q.release(), k.release(), v.release();
  const Map p = linear(a.proj_out, o);
  o.release();
  Map p_chw(x.meter(), C, x.h, x.w);
  transpose(p_chw.data(), p.data(), T, C);
  elementwise_add(x.data(), x.data(), p_chw.data(), x.size());
  return x;
}

Map mid_block(const Mid& m, Map x) {
  x = res_block(m.block_1, std::move(x));
  x = attn_block(m.attn_1, std::move(x));
  return res_block(m.block_2, std::move(x));
}

Map upsample(const Conv& c, Map x) {
  Map up(x.meter(), x.c, 2 * x.h, 2 * x.w);
  upsample_nearest2x(up.data(), x.data(), x.c, x.h, x.w);
  x.release();
  return conv(c, up);
}

// Zero-pad right and bottom by one, then a 3x3 conv with stride 2 (h, w even).
Map downsample(const Conv& c, Map x) {
  Map padded(x.meter(), x.c, x.h + 1, x.w + 1);
  std::fill_n(padded.data(), padded.size(), 0.0f);
  for (int64_t ch = 0; ch < x.c; ++ch) {
    for (int64_t y = 0; y < x.h; ++y) {
      std::copy_n(x.data() + (ch * x.h + y) * x.w, x.w, padded.data() + (ch * padded.h + y) * padded.w);
    }
  }
  x.release();
  Map out(padded.meter(), c.c_out, (padded.h - 3) / 2 + 1, (padded.w - 3) / 2 + 1);
  conv_into(c, padded.data(), padded.h, padded.w, 2, 0, out.data());
  return out;
}

// z [C_z, h, w] -> image [image_channels, f h, f w]
void decode_into(const Vae::Model& m, const float* z, int64_t h, int64_t w, float* image) {
  const Decoder& d = m.decoder;
  Map x = conv(d.post_quant_conv, z, h, w, m.meter);
  x = conv(d.conv_in, x);
  x = mid_block(d.mid, std::move(x));
  for (auto level = d.up.rbegin(); level != d.up.rend(); ++level) {
    for (const ResBlock& b : level->blocks) x = res_block(b, std::move(x));
    if (level->resample) x = upsample(*level->resample, std::move(x));
  }
  norm_silu_in_place(d.norm_out, x);
  conv_into(d.conv_out, x.data(), x.h, x.w, 1, 1, image);
}

// ---- FLOP counts ----------------------------------------------------------------

double conv_flops(const Conv& c, int64_t out_h, int64_t out_w) {
  return 2.0 * double(c.c_out) * double(c.c_in * c.k * c.k) * double(out_h * out_w);
}

double res_block_flops(const ResBlock& b, int64_t h, int64_t w) {
  return conv_flops(b.conv1, h, w) + conv_flops(b.conv2, h, w) +
         (b.nin_shortcut ? conv_flops(*b.nin_shortcut, h, w) : 0.0);
}

double mid_flops(const Mid& m, int64_t h, int64_t w) {
  const double T = double(h * w), C = double(m.block_1.conv1.c_out);
  const double attn = 4 * 2 * T * C * C + 2 * 2 * T * T * C;  // q, k, v, proj_out; q k^T and p v
  return res_block_flops(m.block_1, h, w) + attn + res_block_flops(m.block_2, h, w);
}

// ---- tiling -----------------------------------------------------------------------
// Latent start of each tile along an axis of n latents (vae.py tile_starts).
std::vector<int64_t> tile_starts(int64_t n, int64_t tile) {
  if (n <= tile) return {0};
  const int64_t stride = tile - tile / 4;
  const int64_t count = (n - tile + stride - 1) / stride + 1;
  std::vector<int64_t> starts;
  for (int64_t i = 0; i < count; ++i) starts.push_back(std::min(i * stride, n - tile));
  return starts;
}

// Blend weight of pixel i of a tile covering [start, start + length) of
// `total` pixels: a ramp over `overlap` pixels at each edge shared with a
// neighbour, else 1.
float tile_ramp(int64_t i, int64_t start, int64_t length, int64_t total, int64_t overlap) {
  float r = 1.0f;
  if (start > 0) r = std::min(r, (float(i) + 0.5f) / float(overlap));
  if (start + length < total) r = std::min(r, (float(length - i) - 0.5f) / float(overlap));
  return r;
}

Status check_latent_size(const char* what, int64_t h, int64_t w) {
  if (h < 1 || w < 1 || h > kMaxLatentSide || w > kMaxLatentSide) {
    return Status::invalid_argument(std::string("VAE ") + what + ": latent size " + std::to_string(h) + "x" +
                                    std::to_string(w) + " is outside 1.." + std::to_string(kMaxLatentSide));
  }
  return Status::ok_status();
}

}  // namespace

// ---- Vae --------------------------------------------------------------------------

Vae::Vae(std::unique_ptr<Model> model) : model_(std::move(model)) {}
Vae::Vae(Vae&&) noexcept = default;
Vae& Vae::operator=(Vae&&) noexcept = default;
Vae::~Vae() = default;

Result<Vae> Vae::load(const WeightStore& w) {
  auto m = std::make_unique<Model>();
  AIGC_ASSIGN_OR_RETURN(m->decoder, load_decoder(w, m->config));
  if (w.has("encoder.conv_in.weight")) {
    AIGC_ASSIGN_OR_RETURN(m->encoder, load_encoder(w, m->config, m->decoder.post_quant_conv.c_out));
    m->config.has_encoder = true;
  }
  return Vae(std::move(m));
}

const VaeConfig& Vae::config() const { return model_->config; }

Status Vae::decode(const float* z, int64_t h, int64_t w, float* image) const {
  AIGC_RETURN_IF_ERROR(check_latent_size("decode", h, w));
  decode_into(*model_, z, h, w, image);
  return Status::ok_status();
}

Status Vae::decode_tiled(const float* z, int64_t h, int64_t w, int64_t tile, float* image) const {
  AIGC_RETURN_IF_ERROR(check_latent_size("decode_tiled", h, w));
  if (tile < 4) return Status::invalid_argument("VAE decode_tiled: tile " + std::to_string(tile) + " is below 4");
  if (h <= tile && w <= tile) return decode(z, h, w, image);
  const VaeConfig& cfg = model_->config;
  const int64_t f = cfg.scale(), C = cfg.image_channels, H = h * f, W = w * f;
  const int64_t th = std::min(tile, h), tw = std::min(tile, w), overlap = tile / 4 * f;
  const std::vector<int64_t> ys = tile_starts(h, tile), xs = tile_starts(w, tile);
  // Per-axis weight sums: the weight of a pixel in a tile is ramp_y * ramp_x
  // and the tiles form a grid, so the sum over tiles is sum_y * sum_x.
  std::vector<float> sum_y(static_cast<size_t>(H), 0.0f), sum_x(static_cast<size_t>(W), 0.0f);
  for (int64_t y0 : ys) {
    for (int64_t i = 0; i < th * f; ++i) sum_y[y0 * f + i] += tile_ramp(i, y0 * f, th * f, H, overlap);
  }
  for (int64_t x0 : xs) {
    for (int64_t j = 0; j < tw * f; ++j) sum_x[x0 * f + j] += tile_ramp(j, x0 * f, tw * f, W, overlap);
  }
  std::fill_n(image, C * H * W, 0.0f);
  std::vector<float> z_tile(static_cast<size_t>(cfg.latent_channels * th * tw));
  Map part(model_->meter, C, th * f, tw * f);
  for (int64_t y0 : ys) {
    for (int64_t x0 : xs) {
      for (int64_t c = 0; c < cfg.latent_channels; ++c) {
        for (int64_t y = 0; y < th; ++y) {
          std::copy_n(z + (c * h + y0 + y) * w + x0, tw, z_tile.data() + (c * th + y) * tw);
        }
      }
      decode_into(*model_, z_tile.data(), th, tw, part.data());
      for (int64_t c = 0; c < C; ++c) {
        for (int64_t i = 0; i < part.h; ++i) {
          const float wy = tile_ramp(i, y0 * f, part.h, H, overlap);
          const float* src = part.data() + (c * part.h + i) * part.w;
          float* dst = image + (c * H + y0 * f + i) * W + x0 * f;
          for (int64_t j = 0; j < part.w; ++j) dst[j] += src[j] * (wy * tile_ramp(j, x0 * f, part.w, W, overlap));
        }
      }
    }
  }
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t i = 0; i < H; ++i) {
      for (int64_t j = 0; j < W; ++j) image[(c * H + i) * W + j] /= sum_y[i] * sum_x[j];
    }
  }
  return Status::ok_status();
}

Status Vae::encode(const float* image, int64_t H, int64_t W, float* mean, float* logvar) const {
  if (!model_->encoder) return Status::not_found("VAE encode: the VAE has no encoder ('encoder.conv_in.weight')");
  const VaeConfig& cfg = model_->config;
  const int64_t f = cfg.scale();
  if (H % f != 0 || W % f != 0) {
    return Status::invalid_argument("VAE encode: image size " + std::to_string(W) + "x" + std::to_string(H) +
                                    " is not a multiple of " + std::to_string(f));
  }
  AIGC_RETURN_IF_ERROR(check_latent_size("encode", H / f, W / f));
  const Encoder& e = *model_->encoder;
  Map x = conv(e.conv_in, image, H, W, model_->meter);
  for (const Level& level : e.down) {
    for (const ResBlock& b : level.blocks) x = res_block(b, std::move(x));
    if (level.resample) x = downsample(*level.resample, std::move(x));
  }
  x = mid_block(e.mid, std::move(x));
  norm_silu_in_place(e.norm_out, x);
  x = conv(e.conv_out, x);
  const Map moments = conv(e.quant_conv, x);  // [mean; logvar]
  const int64_t n = cfg.latent_channels * moments.h * moments.w;
  std::copy_n(moments.data(), n, mean);
  for (int64_t i = 0; i < n; ++i) logvar[i] = std::clamp(moments.data()[n + i], kLogvarMin, kLogvarMax);
  return Status::ok_status();
}

double Vae::decode_flops(int64_t h, int64_t w) const {
  const Decoder& d = model_->decoder;
  double flops = conv_flops(d.post_quant_conv, h, w) + conv_flops(d.conv_in, h, w) + mid_flops(d.mid, h, w);
  for (auto level = d.up.rbegin(); level != d.up.rend(); ++level) {
    for (const ResBlock& b : level->blocks) flops += res_block_flops(b, h, w);
    if (level->resample) h *= 2, w *= 2, flops += conv_flops(*level->resample, h, w);
  }
  return flops + conv_flops(d.conv_out, h, w);
}

double Vae::encode_flops(int64_t H, int64_t W) const {
  if (!model_->encoder) return 0.0;
  const Encoder& e = *model_->encoder;
  double flops = conv_flops(e.conv_in, H, W);
  for (const Level& level : e.down) {
    for (const ResBlock& b : level.blocks) flops += res_block_flops(b, H, W);
    if (level.resample) H /= 2, W /= 2, flops += conv_flops(*level.resample, H, W);
  }
  return flops + mid_flops(e.mid, H, W) + conv_flops(e.conv_out, H, W) + conv_flops(e.quant_conv, H, W);
}

int64_t Vae::peak_activation_bytes() const { return model_->meter.peak.load(); }

void Vae::reset_peak_activation_bytes() const { model_->meter.peak = model_->meter.live.load(); }

}  // namespace aigc
