// The layers of the Stable Diffusion 1.x UNet (ldm openaimodel.ResBlock and
// attention.SpatialTransformer) over weights kept in their stored dtype.
//
// Legend: n = batch, C = channels, h, w = map height and width, T = h * w
// tokens of a map, L = context tokens, E = time-embedding width.
// Maps are NCHW F32; token rows [n, T, C] F32.
//
// Each layer's load() takes the WeightStore and the layer's key prefix (with
// its trailing dot) and checks every tensor's presence and shape; forward()
// runs on caller-owned arrays with work buffers from a UnetScratch. flops() counts real
// multiply-adds x 2 (convolutions, linear layers, the two attention products).
// The kernels behind them give the same bits whatever the thread count.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "image/weights.h"

namespace aigc {

// F32 copies of the parameters the kernels need in F32 (biases and norm
// affines stored as F16 / BF16, BF16 convolution weights); F32 ones are
// used in place. Copies never move once made.
class UnetParams {
 public:
  const float* f32(const Tensor& t);

 private:
  std::vector<std::unique_ptr<float[]>> owned_;
};

// Reusable F32 work buffers of one forward pass at a time. A Buffer goes back
// to the pool when destroyed and serves a later request of at most its size,
// so repeated passes of one shape allocate (and fault in pages) only once.
// The pool keeps at most as many buffers as were alive at once. Not
// thread-safe: one pool per concurrent pass; it must outlive its Buffers.
class UnetScratch {
 public:
  class Buffer {
   public:
    Buffer() = default;
    Buffer(Buffer&& other) noexcept { *this = std::move(other); }
    Buffer& operator=(Buffer&& other) noexcept;
    ~Buffer() { give_back(); }
    float* data() const { return data_.get(); }

   private:
    friend class UnetScratch;
    void give_back();
    UnetScratch* pool_ = nullptr;
    int64_t size_ = 0;
    std::unique_ptr<float[]> data_;
  };

  // At least n floats, contents unspecified.
  Buffer get(int64_t n);

 private:
  std::vector<std::pair<int64_t, std::unique_ptr<float[]>>> free_;  // (size, buffer)
};

struct UnetConv {  // weight [c_out, c_in, k, k] F32 or F16, bias [c_out]
  const void* weight = nullptr;
  DType weight_type = DType::F32;
  const float* bias = nullptr;
  int64_t c_out = 0, c_in = 0, k = 0, stride = 1;

  static Result<UnetConv> load(const WeightStore& ws, UnetParams& params, const std::string& prefix, int64_t c_out,
                               int64_t c_in, int64_t k, int64_t stride = 1);
  // in [n, c_in, h, w] -> out [n, c_out, h / stride, w / stride] (padding k / 2)
  void forward(float* out, const float* in, int64_t n, int64_t h, int64_t w) const;
  double flops(int64_t n, int64_t h, int64_t w) const;
};

struct UnetLinear {  // weight [n_out, n_in] (or a 1x1 conv [n_out, n_in, 1, 1]) in its stored dtype
  Tensor weight;
  const float* bias = nullptr;  // null: no bias
  int64_t n_out = 0, n_in = 0;

  static Result<UnetLinear> load(const WeightStore& ws, UnetParams& params, const std::string& prefix,
                                 int64_t n_out, int64_t n_in, bool has_bias = true);
  // Output rows [first, first + count) of the layer only (GEGLU's halves).
  UnetLinear rows(int64_t first, int64_t count) const;
  // x [n_rows, n_in] -> y [n_rows, n_out]
  void forward(float* y, const float* x, int64_t n_rows) const;
  double flops(int64_t n_rows) const { return 2.0 * double(n_rows) * double(n_out) * double(n_in); }
};

struct UnetNorm {  // GroupNorm or LayerNorm affine, [C] each
  const float* weight = nullptr;
  const float* bias = nullptr;
  float eps = 1e-5f;
  int64_t groups = 32;  // GroupNorm only: the WeightStore's norm_groups()

  static Result<UnetNorm> load(const WeightStore& ws, UnetParams& params, const std::string& prefix, int64_t c,
                               float eps);
};

// h = conv(silu(gn(x))) + emb_proj(silu(emb)); out = skip(x) + conv(silu(gn(h)))
struct UnetResBlock {
  UnetNorm in_norm, out_norm;
  UnetConv in_conv, out_conv;
  UnetLinear emb_proj;
  std::optional<UnetConv> skip;  // 1x1 conv when c_in != c_out
  int64_t c_in = 0, c_out = 0;

  static Result<UnetResBlock> load(const WeightStore& ws, UnetParams& params, const std::string& prefix,
                                   int64_t c_in, int64_t c_out, int64_t emb_dim);
  // x [n, c_in, h, w], emb_silu [n, E] (SiLU already applied) -> out [n, c_out, h, w]
  void forward(float* out, const float* x, const float* emb_silu, int64_t n, int64_t h, int64_t w,
               UnetScratch& pool) const;
  double flops(int64_t n, int64_t h, int64_t w) const;
};

// x = x + attn1(norm1(x)); x = x + attn2(norm2(x), context); x = x + ff(norm3(x))
// attn: softmax(q k^T / sqrt(D)) v per head (D = C / n_heads), then to_out;
// ff: a, gate = proj(x).chunk(2); net.2(a * gelu(gate)).
struct UnetTransformerBlock {
  UnetNorm norm1, norm2, norm3;
  UnetLinear q1, k1, v1, out1, q2, k2, v2, out2, ff_a, ff_gate, ff_out;

  static Result<UnetTransformerBlock> load(const WeightStore& ws, UnetParams& params, const std::string& prefix,
                                           int64_t c, int64_t context_dim);
  // x [n, T, C] in place; context [n, L, context_dim]
  void forward(float* x, int64_t n, int64_t T, const float* context, int64_t L, int64_t n_heads,
               UnetScratch& pool) const;
  double flops(int64_t n, int64_t T, int64_t L) const;
};

// x = x + proj_out(blocks(proj_in(gn(x)) as tokens)) as a map
struct UnetSpatialTransformer {
  UnetNorm norm;  // GroupNorm eps 1e-6
  UnetLinear proj_in, proj_out;
  std::vector<UnetTransformerBlock> blocks;
  int64_t c = 0, n_heads = 8;

  // depth: number of transformer_blocks.
  static Result<UnetSpatialTransformer> load(const WeightStore& ws, UnetParams& params, const std::string& prefix,
                                             int64_t c, int64_t context_dim, int64_t n_heads, int64_t depth);
  // x [n, C, h, w] in place; context [n, L, context_dim]
  void forward(float* x, int64_t n, int64_t h, int64_t w, const float* context, int64_t L,
               UnetScratch& pool) const;
  double flops(int64_t n, int64_t h, int64_t w, int64_t L) const;
};

}  // namespace aigc
