// The UNet's layers (unet_blocks.h): ResBlock, SpatialTransformer and the
// convolutions, linear layers and norms they are made of.
#include "image/unet_blocks.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/conv2d.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "kernels/norm.h"
#include "kernels/winograd_conv3x3.h"

namespace aigc {

namespace {

// Fewest 2x2 tiles (whole batch) for a 3x3 convolution to run as Winograd: its
// kernel transform per call is 16 C_out C_in writes, against 16 C_out C_in
// multiply-adds per tile (at 512 x 512, batch 2: the 64 x 64 and 32 x 32 maps).
constexpr int64_t kMinWinogradTiles = 512;

// out = silu(group_norm(in))
void group_norm_silu(float* out, const float* in, const UnetNorm& norm, int64_t n, int64_t c, int64_t h, int64_t w) {
  group_norm(out, in, norm.weight, norm.bias, norm.eps, n, c, h, w, norm.groups);
  silu(out, out, n * c * h * w);
}

// out[b, t, c] = in[b, c, t]
void maps_to_tokens(float* out, const float* in, int64_t n, int64_t c, int64_t T) {
#pragma omp parallel for schedule(static)
  for (int64_t bt = 0; bt < n * T; ++bt) {
    const int64_t b = bt / T, t = bt % T;
    const float* src = in + b * c * T + t;
    float* dst = out + bt * c;
    for (int64_t i = 0; i < c; ++i) dst[i] = src[i * T];
  }
}

// x[b, c, t] += tokens[b, t, c]
void add_tokens_to_maps(float* x, const float* tokens, int64_t n, int64_t c, int64_t T) {
#pragma omp parallel for schedule(static)
  for (int64_t bc = 0; bc < n * c; ++bc) {
    const int64_t b = bc / c, i = bc % c;
    const float* src = tokens + b * T * c + i;
    float* dst = x + bc * T;
    for (int64_t t = 0; t < T; ++t) dst[t] += src[t * c];
  }
}

}  // namespace

// ---- scratch and parameters ----

UnetScratch::Buffer& UnetScratch::Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    give_back();
    pool_ = std::exchange(other.pool_, nullptr);
    size_ = std::exchange(other.size_, 0);
    data_ = std::move(other.data_);
  }
  return *this;
}

void UnetScratch::Buffer::give_back() {
  if (pool_ && data_) pool_->free_.emplace_back(size_, std::move(data_));
  pool_ = nullptr;
}

UnetScratch::Buffer UnetScratch::get(int64_t n) {
  // The smallest free buffer that fits; else a new one, dropping the largest
  // free buffer that is too small (it would never fit this shape's requests).
  auto best = free_.end(), largest_small = free_.end();
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->first >= n && (best == free_.end() || it->first < best->first)) best = it;
    if (it->first < n && (largest_small == free_.end() || it->first > largest_small->first)) largest_small = it;
  }
  Buffer b;
  b.pool_ = this;
  if (best != free_.end()) {
    b.size_ = best->first;
    b.data_ = std::move(best->second);
    free_.erase(best);
  } else {
    if (largest_small != free_.end()) free_.erase(largest_small);
    b.size_ = n;
    b.data_ = std::make_unique_for_overwrite<float[]>(static_cast<size_t>(n));
  }
  return b;
}


const float* UnetParams::f32(const Tensor& t) {
  if (t.dtype == DType::F32) return t.ptr<const float>();
  const int64_t n = t.numel();
  owned_.push_back(std::make_unique<float[]>(static_cast<size_t>(n)));
  dtype_traits(t.dtype)->to_float(t.data, owned_.back().get(), n);
  return owned_.back().get();
}

Result<UnetConv> UnetConv::load(const WeightStore& ws, UnetParams& params, const std::string& prefix, int64_t c_out,
                                int64_t c_in, int64_t k, int64_t stride) {
  AIGC_ASSIGN_OR_RETURN(Tensor weight, ws.get(prefix + "weight", {c_out, c_in, k, k}));
  AIGC_ASSIGN_OR_RETURN(Tensor bias, ws.get(prefix + "bias", {c_out}));
  UnetConv conv;
  conv.weight_type = weight.dtype == DType::F16 ? DType::F16 : DType::F32;  // conv2d takes F32 or F16
  conv.weight = weight.dtype == DType::F16 ? weight.data : params.f32(weight);
  conv.bias = params.f32(bias);
  conv.c_out = c_out;
  conv.c_in = c_in;
  conv.k = k;
  conv.stride = stride;
  return conv;
}

void UnetConv::forward(float* out, const float* in, int64_t n, int64_t h, int64_t w) const {
  // Winograd where its per-call kernel transform is small next to the work.
  if (k == 3 && stride == 1 && n * ((h + 1) / 2) * ((w + 1) / 2) >= kMinWinogradTiles) {
    conv3x3_winograd(out, in, weight, weight_type, bias, n, c_in, c_out, h, w);
    return;
  }
  Conv2dShape s{n, c_in, h, w, c_out, k, k, stride, k / 2};
  conv2d(out, in, weight, weight_type, bias, s);
}

double UnetConv::flops(int64_t n, int64_t h, int64_t w) const {
  const double out_pixels = double((h + 2 * (k / 2) - k) / stride + 1) * double((w + 2 * (k / 2) - k) / stride + 1);
  return 2.0 * double(n) * out_pixels * double(c_out) * double(c_in * k * k);
}

Result<UnetLinear> UnetLinear::load(const WeightStore& ws, UnetParams& params, const std::string& prefix,
                                    int64_t n_out, int64_t n_in, bool has_bias) {
  AIGC_ASSIGN_OR_RETURN(Tensor weight, ws.get(prefix + "weight"));
  const bool as_conv = weight.n_dims == 4 && weight.shape[2] == 1 && weight.shape[3] == 1;
  if (as_conv) {
    AIGC_ASSIGN_OR_RETURN(weight, ws.get(prefix + "weight", {n_out, n_in, 1, 1}));
  } else {
    AIGC_ASSIGN_OR_RETURN(weight, ws.get(prefix + "weight", {n_out, n_in}));
  }
  UnetLinear linear;
  linear.weight = make_tensor(weight.dtype, {n_out, n_in}, weight.data);
  if (has_bias) {
    AIGC_ASSIGN_OR_RETURN(Tensor bias, ws.get(prefix + "bias", {n_out}));
    linear.bias = params.f32(bias);
  }
  linear.n_out = n_out;
  linear.n_in = n_in;
  return linear;
}

UnetLinear UnetLinear::rows(int64_t first, int64_t count) const {
  UnetLinear part = *this;
  part.weight = make_tensor(weight.dtype, {count, n_in}, static_cast<char*>(weight.data) + first * weight.stride[0]);
  part.bias = bias ? bias + first : nullptr;
  part.n_out = count;
  return part;
}

void UnetLinear::forward(float* y, const float* x, int64_t n_rows) const {
  matmul(make_tensor(DType::F32, {n_rows, n_out}, y), weight,
         make_tensor(DType::F32, {n_rows, n_in}, const_cast<float*>(x)));
  if (bias) add_bias(y, y, bias, n_rows, n_out);
}

Result<UnetNorm> UnetNorm::load(const WeightStore& ws, UnetParams& params, const std::string& prefix, int64_t c,
                                float eps) {
  AIGC_ASSIGN_OR_RETURN(Tensor weight, ws.get(prefix + "weight", {c}));
  AIGC_ASSIGN_OR_RETURN(Tensor bias, ws.get(prefix + "bias", {c}));
  return UnetNorm{params.f32(weight), params.f32(bias), eps, ws.norm_groups()};
}

// ---- ResBlock ----

Result<UnetResBlock> UnetResBlock::load(const WeightStore& ws, UnetParams& params, const std::string& prefix,
                                        int64_t c_in, int64_t c_out, int64_t emb_dim) {
  if (c_in % ws.norm_groups() || c_out % ws.norm_groups()) {
    return Status::invalid_argument(ws.component() + ": " + prefix + ": channels " + std::to_string(c_in) + " -> " +
                                    std::to_string(c_out) + " are not multiples of the " +
                                    std::to_string(ws.norm_groups()) + " GroupNorm groups");
  }
  UnetResBlock r;
  r.c_in = c_in;
  r.c_out = c_out;
  AIGC_ASSIGN_OR_RETURN(r.in_norm, UnetNorm::load(ws, params, prefix + "in_layers.0.", c_in, 1e-5f));
  AIGC_ASSIGN_OR_RETURN(r.in_conv, UnetConv::load(ws, params, prefix + "in_layers.2.", c_out, c_in, 3));
  AIGC_ASSIGN_OR_RETURN(r.emb_proj, UnetLinear::load(ws, params, prefix + "emb_layers.1.", c_out, emb_dim));
  AIGC_ASSIGN_OR_RETURN(r.out_norm, UnetNorm::load(ws, params, prefix + "out_layers.0.", c_out, 1e-5f));
  AIGC_ASSIGN_OR_RETURN(r.out_conv, UnetConv::load(ws, params, prefix + "out_layers.3.", c_out, c_out, 3));
  if (c_in != c_out) {
    AIGC_ASSIGN_OR_RETURN(r.skip, UnetConv::load(ws, params, prefix + "skip_connection.", c_out, c_in, 1));
  }
  return r;
}

void UnetResBlock::forward(float* out, const float* x, const float* emb_silu, int64_t n, int64_t h, int64_t w,
                           UnetScratch& pool) const {
  const int64_t hw = h * w;
  UnetScratch::Buffer act = pool.get(n * std::max(c_in, c_out) * hw);
  UnetScratch::Buffer hidden = pool.get(n * c_out * hw);
  UnetScratch::Buffer emb = pool.get(n * c_out);
  group_norm_silu(act.data(), x, in_norm, n, c_in, h, w);
  in_conv.forward(hidden.data(), act.data(), n, h, w);  // [n, c_out, h, w]
  emb_proj.forward(emb.data(), emb_silu, n);            // [n, c_out]
#pragma omp parallel for schedule(static)
  for (int64_t plane = 0; plane < n * c_out; ++plane) {
    float* p = hidden.data() + plane * hw;
    for (int64_t i = 0; i < hw; ++i) p[i] += emb.data()[plane];
  }
  group_norm_silu(act.data(), hidden.data(), out_norm, n, c_out, h, w);
  out_conv.forward(out, act.data(), n, h, w);
  if (skip) {
    skip->forward(hidden.data(), x, n, h, w);
    elementwise_add(out, out, hidden.data(), n * c_out * hw);
  } else {
    elementwise_add(out, out, x, n * c_out * hw);
  }
}

double UnetResBlock::flops(int64_t n, int64_t h, int64_t w) const {
  return in_conv.flops(n, h, w) + emb_proj.flops(n) + out_conv.flops(n, h, w) + (skip ? skip->flops(n, h, w) : 0.0);
}

// ---- SpatialTransformer ----

Result<UnetTransformerBlock> UnetTransformerBlock::load(const WeightStore& ws, UnetParams& params,
                                                        const std::string& prefix, int64_t c, int64_t context_dim) {
  UnetTransformerBlock b;
  AIGC_ASSIGN_OR_RETURN(b.norm1, UnetNorm::load(ws, params, prefix + "norm1.", c, 1e-5f));
  AIGC_ASSIGN_OR_RETURN(b.norm2, UnetNorm::load(ws, params, prefix + "norm2.", c, 1e-5f));
  AIGC_ASSIGN_OR_RETURN(b.norm3, UnetNorm::load(ws, params, prefix + "norm3.", c, 1e-5f));
  AIGC_ASSIGN_OR_RETURN(b.q1, UnetLinear::load(ws, params, prefix + "attn1.to_q.", c, c, false));
  AIGC_ASSIGN_OR_RETURN(b.k1, UnetLinear::load(ws, params, prefix + "attn1.to_k.", c, c, false));
  AIGC_ASSIGN_OR_RETURN(b.v1, UnetLinear::load(ws, params, prefix + "attn1.to_v.", c, c, false));
  AIGC_ASSIGN_OR_RETURN(b.out1, UnetLinear::load(ws, params, prefix + "attn1.to_out.0.", c, c));
  AIGC_ASSIGN_OR_RETURN(b.q2, UnetLinear::load(ws, params, prefix + "attn2.to_q.", c, c, false));
  AIGC_ASSIGN_OR_RETURN(b.k2, UnetLinear::load(ws, params, prefix + "attn2.to_k.", c, context_dim, false));
  AIGC_ASSIGN_OR_RETURN(b.v2, UnetLinear::load(ws, params, prefix + "attn2.to_v.", c, context_dim, false));
  AIGC_ASSIGN_OR_RETURN(b.out2, UnetLinear::load(ws, params, prefix + "attn2.to_out.0.", c, c));
  AIGC_ASSIGN_OR_RETURN(UnetLinear ff_in, UnetLinear::load(ws, params, prefix + "ff.net.0.proj.", 8 * c, c));
  b.ff_a = ff_in.rows(0, 4 * c);
  b.ff_gate = ff_in.rows(4 * c, 4 * c);
  AIGC_ASSIGN_OR_RETURN(b.ff_out, UnetLinear::load(ws, params, prefix + "ff.net.2.", c, 4 * c));
  return b;
}

void UnetTransformerBlock::forward(float* x, int64_t n, int64_t T, const float* context, int64_t L,
                                   int64_t n_heads, UnetScratch& pool) const {
  const int64_t c = q1.n_out, D = c / n_heads, rows = n * T;
  UnetScratch::Buffer a = pool.get(rows * c), q = pool.get(rows * c), o = pool.get(rows * c);
  // self-attention
  {
    UnetScratch::Buffer k = pool.get(rows * c), v = pool.get(rows * c);
    layer_norm(a.data(), x, norm1.weight, norm1.bias, norm1.eps, rows, c);
    q1.forward(q.data(), a.data(), rows);
    k1.forward(k.data(), a.data(), rows);
    v1.forward(v.data(), a.data(), rows);
    for (int64_t b = 0; b < n; ++b) {
      const int64_t off = b * T * c;
      attention_full(o.data() + off, q.data() + off, k.data() + off, v.data() + off, T, T, n_heads, D);
    }
    out1.forward(a.data(), o.data(), rows);
    elementwise_add(x, x, a.data(), rows * c);
  }
  // cross-attention over the context
  {
    UnetScratch::Buffer k = pool.get(n * L * c), v = pool.get(n * L * c);
    layer_norm(a.data(), x, norm2.weight, norm2.bias, norm2.eps, rows, c);
    q2.forward(q.data(), a.data(), rows);
    k2.forward(k.data(), context, n * L);
    v2.forward(v.data(), context, n * L);
    for (int64_t b = 0; b < n; ++b) {
      attention_full(o.data() + b * T * c, q.data() + b * T * c, k.data() + b * L * c, v.data() + b * L * c, T, L,
                     n_heads, D);
    }
    out2.forward(a.data(), o.data(), rows);
    elementwise_add(x, x, a.data(), rows * c);
  }
  // GEGLU feed-forward
  {
    UnetScratch::Buffer hidden = pool.get(rows * 4 * c), gate = pool.get(rows * 4 * c);
    layer_norm(a.data(), x, norm3.weight, norm3.bias, norm3.eps, rows, c);
    ff_a.forward(hidden.data(), a.data(), rows);
    ff_gate.forward(gate.data(), a.data(), rows);
    geglu(hidden.data(), hidden.data(), gate.data(), rows * 4 * c);
    ff_out.forward(a.data(), hidden.data(), rows);
    elementwise_add(x, x, a.data(), rows * c);
  }
}

double UnetTransformerBlock::flops(int64_t n, int64_t T, int64_t L) const {
  const int64_t rows = n * T, c = q1.n_out;
  const double attention = 4.0 * double(n) * double(T) * double(T + L) * double(c);  // q k^T and p v, both attentions
  return q1.flops(rows) + k1.flops(rows) + v1.flops(rows) + out1.flops(rows) + q2.flops(rows) + k2.flops(n * L) +
         v2.flops(n * L) + out2.flops(rows) + ff_a.flops(rows) + ff_gate.flops(rows) + ff_out.flops(rows) + attention;
}

Result<UnetSpatialTransformer> UnetSpatialTransformer::load(const WeightStore& ws, UnetParams& params,
                                                            const std::string& prefix, int64_t c,
                                                            int64_t context_dim, int64_t n_heads, int64_t depth) {
  if (c % ws.norm_groups() || c % n_heads) {
    return Status::invalid_argument(ws.component() + ": " + prefix + ": " + std::to_string(c) +
                                    " channels are not a multiple of the " + std::to_string(ws.norm_groups()) +
                                    " GroupNorm groups and " +
                                    std::to_string(n_heads) + " heads");
  }
  UnetSpatialTransformer st;
  st.c = c;
  st.n_heads = n_heads;
  AIGC_ASSIGN_OR_RETURN(st.norm, UnetNorm::load(ws, params, prefix + "norm.", c, 1e-6f));
  AIGC_ASSIGN_OR_RETURN(st.proj_in, UnetLinear::load(ws, params, prefix + "proj_in.", c, c));
  AIGC_ASSIGN_OR_RETURN(st.proj_out, UnetLinear::load(ws, params, prefix + "proj_out.", c, c));
  for (int64_t j = 0; j < depth; ++j) {
    AIGC_ASSIGN_OR_RETURN(UnetTransformerBlock block,
                          UnetTransformerBlock::load(ws, params, prefix + "transformer_blocks." + std::to_string(j) +
                                                                     ".", c, context_dim));
    st.blocks.push_back(std::move(block));
  }
  return st;
}

void UnetSpatialTransformer::forward(float* x, int64_t n, int64_t h, int64_t w, const float* context, int64_t L,
                                     UnetScratch& pool) const {
  const int64_t T = h * w;
  UnetScratch::Buffer normed = pool.get(n * c * T), tokens = pool.get(n * T * c);
  group_norm(normed.data(), x, norm.weight, norm.bias, norm.eps, n, c, h, w, norm.groups);
  maps_to_tokens(tokens.data(), normed.data(), n, c, T);
  proj_in.forward(normed.data(), tokens.data(), n * T);  // normed now holds the token rows [n, T, c]
  for (const UnetTransformerBlock& block : blocks) block.forward(normed.data(), n, T, context, L, n_heads, pool);
  proj_out.forward(tokens.data(), normed.data(), n * T);
  add_tokens_to_maps(x, tokens.data(), n, c, T);
}

double UnetSpatialTransformer::flops(int64_t n, int64_t h, int64_t w, int64_t L) const {
  double total = proj_in.flops(n * h * w) + proj_out.flops(n * h * w);
  for (const UnetTransformerBlock& block : blocks) total += block.flops(n, h * w, L);
  return total;
}

}  // namespace aigc
