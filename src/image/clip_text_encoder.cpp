// The CLIP text transformer (clip_text_encoder.h): typed weights bound to the
// HuggingFace names at load, and the forward pass on the matmul, layer_norm,
// causal attention and quick_gelu kernels.
#include "image/clip_text_encoder.h"

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "kernels/norm.h"

namespace aigc {

namespace {

constexpr int64_t kHeadDim = 64;
constexpr float kLayerNormEps = 1e-5f;

struct Linear {
  Tensor weight;            // [n_out, n_in], stored type
  std::vector<float> bias;  // [n_out]
};

struct LayerNorm {
  std::vector<float> weight, bias;  // [dim]
};

struct Layer {
  LayerNorm layer_norm1;
  Linear q_proj, k_proj, v_proj, out_proj;
  LayerNorm layer_norm2;
  Linear fc1, fc2;
};

}  // namespace

struct ClipTextEncoder::Model {
  ClipTextConfig config;
  Tensor token_embedding;     // [vocab, dim], stored type
  Tensor position_embedding;  // [n_positions, dim], stored type
  std::vector<Layer> layers;
  LayerNorm final_layer_norm;
};

namespace {

// ---- loading ------------------------------------------------------------------

// The tensor `name` of exactly `shape`, F32, F16 or BF16 and contiguous.
Result<Tensor> get_float(const WeightStore& w, const std::string& name, std::initializer_list<int64_t> shape) {
  AIGC_ASSIGN_OR_RETURN(Tensor t, w.get(name, shape));
  if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16) {
    return Status::unsupported(w.component() + ": tensor '" + name + "' has type " + dtype_name(t.dtype) +
                               "; the CLIP text encoder takes F32, F16 or BF16");
  }
  if (!t.is_contiguous()) return Status::unsupported(w.component() + ": tensor '" + name + "' is not contiguous");
  return t;
}

Result<std::vector<float>> load_vector(const WeightStore& w, const std::string& name, int64_t n) {
  AIGC_ASSIGN_OR_RETURN(Tensor t, get_float(w, name, {n}));
  std::vector<float> v(static_cast<size_t>(n));
  dtype_traits(t.dtype)->to_float(t.data, v.data(), n);
  return v;
}

Result<Linear> load_linear(const WeightStore& w, const std::string& prefix, int64_t n_out, int64_t n_in) {
  Linear l;
  AIGC_ASSIGN_OR_RETURN(l.weight, get_float(w, prefix + ".weight", {n_out, n_in}));
  AIGC_ASSIGN_OR_RETURN(l.bias, load_vector(w, prefix + ".bias", n_out));
  return l;
}

Result<LayerNorm> load_layer_norm(const WeightStore& w, const std::string& prefix, int64_t dim) {
  LayerNorm n;
  AIGC_ASSIGN_OR_RETURN(n.weight, load_vector(w, prefix + ".weight", dim));
  AIGC_ASSIGN_OR_RETURN(n.bias, load_vector(w, prefix + ".bias", dim));
  return n;
}

std::string layer_prefix(int64_t i) { return "text_model.encoder.layers." + std::to_string(i); }

Result<Layer> load_layer(const WeightStore& w, int64_t i, const ClipTextConfig& c) {
  const std::string p = layer_prefix(i);
  Layer l;
  AIGC_ASSIGN_OR_RETURN(l.layer_norm1, load_layer_norm(w, p + ".layer_norm1", c.dim));
  AIGC_ASSIGN_OR_RETURN(l.q_proj, load_linear(w, p + ".self_attn.q_proj", c.dim, c.dim));
  AIGC_ASSIGN_OR_RETURN(l.k_proj, load_linear(w, p + ".self_attn.k_proj", c.dim, c.dim));
  AIGC_ASSIGN_OR_RETURN(l.v_proj, load_linear(w, p + ".self_attn.v_proj", c.dim, c.dim));
  AIGC_ASSIGN_OR_RETURN(l.out_proj, load_linear(w, p + ".self_attn.out_proj", c.dim, c.dim));
  AIGC_ASSIGN_OR_RETURN(l.layer_norm2, load_layer_norm(w, p + ".layer_norm2", c.dim));
  AIGC_ASSIGN_OR_RETURN(l.fc1, load_linear(w, p + ".mlp.fc1", c.ffn_dim, c.dim));
  AIGC_ASSIGN_OR_RETURN(l.fc2, load_linear(w, p + ".mlp.fc2", c.dim, c.ffn_dim));
  return l;
}

// ---- forward ------------------------------------------------------------------

// y[t, :] = weight . x[t, :] + bias, for t < n_tokens.
void linear(float* y, const Linear& l, const float* x, int64_t n_tokens) {
  const int64_t n_out = l.weight.shape[0], n_in = l.weight.shape[1];
  matmul(make_tensor(DType::F32, {n_tokens, n_out}, y), l.weight,
         make_tensor(DType::F32, {n_tokens, n_in}, const_cast<float*>(x)));
  add_bias(y, y, l.bias.data(), n_tokens, n_out);
}

void normalize(float* out, const LayerNorm& n, const float* in, int64_t n_tokens) {
  layer_norm(out, in, n.weight.data(), n.bias.data(), kLayerNormEps, n_tokens, static_cast<int64_t>(n.weight.size()));
}

// Row `r` of a [rows, n] tensor of any float type, as floats.
void row_to_float(const Tensor& t, int64_t r, float* out) {
  dtype_traits(t.dtype)->to_float(t.row(r), out, t.shape[1]);
}

}  // namespace

ClipTextEncoder::ClipTextEncoder(std::unique_ptr<Model> model) : model_(std::move(model)) {}
ClipTextEncoder::ClipTextEncoder(ClipTextEncoder&&) noexcept = default;
ClipTextEncoder& ClipTextEncoder::operator=(ClipTextEncoder&&) noexcept = default;
ClipTextEncoder::~ClipTextEncoder() = default;

const ClipTextConfig& ClipTextEncoder::config() const { return model_->config; }

Result<ClipTextEncoder> ClipTextEncoder::load(const WeightStore& w) {
  auto m = std::make_unique<Model>();
  ClipTextConfig& c = m->config;

  const std::string token_name = "text_model.embeddings.token_embedding.weight";
  AIGC_ASSIGN_OR_RETURN(Tensor token, w.get(token_name));
  if (token.n_dims != 2 || token.shape[0] < 1 || token.shape[1] < 1) {
    return Status::invalid_argument(w.component() + ": tensor '" + token_name + "' has shape " +
                                    token.shape_string() + ", expected [vocab, dim]");
  }
  c.vocab = token.shape[0];
  c.dim = token.shape[1];
  if (c.dim % kHeadDim != 0) {
    return Status::invalid_argument(w.component() + ": tensor '" + token_name + "' has width " +
                                    std::to_string(c.dim) + ", not a multiple of the head size " +
                                    std::to_string(kHeadDim));
  }
  c.n_heads = c.dim / kHeadDim;
  AIGC_ASSIGN_OR_RETURN(m->token_embedding, get_float(w, token_name, {c.vocab, c.dim}));

  const std::string position_name = "text_model.embeddings.position_embedding.weight";
  AIGC_ASSIGN_OR_RETURN(Tensor position, w.get(position_name));
  if (position.n_dims != 2 || position.shape[0] < 1) {
    return Status::invalid_argument(w.component() + ": tensor '" + position_name + "' has shape " +
                                    position.shape_string() + ", expected [n_positions, " + std::to_string(c.dim) +
                                    "]");
  }
  c.n_positions = position.shape[0];
  AIGC_ASSIGN_OR_RETURN(m->position_embedding, get_float(w, position_name, {c.n_positions, c.dim}));

  while (w.has(layer_prefix(c.n_layers) + ".layer_norm1.weight")) ++c.n_layers;
  if (c.n_layers == 0) {
    return Status::not_found(w.component() + ": no transformer layers (tensor '" + layer_prefix(0) +
                             ".layer_norm1.weight' is missing)");
  }
  const std::string fc1_name = layer_prefix(0) + ".mlp.fc1.weight";
  AIGC_ASSIGN_OR_RETURN(Tensor fc1, w.get(fc1_name));
  if (fc1.n_dims != 2 || fc1.shape[0] < 1) {
    return Status::invalid_argument(w.component() + ": tensor '" + fc1_name + "' has shape " + fc1.shape_string() +
                                    ", expected [ffn_dim, " + std::to_string(c.dim) + "]");
  }
  c.ffn_dim = fc1.shape[0];

  for (int64_t i = 0; i < c.n_layers; ++i) {
    AIGC_ASSIGN_OR_RETURN(Layer layer, load_layer(w, i, c));
    m->layers.push_back(std::move(layer));
  }
  AIGC_ASSIGN_OR_RETURN(m->final_layer_norm, load_layer_norm(w, "text_model.final_layer_norm", c.dim));
  return ClipTextEncoder(std::move(m));
}

Status ClipTextEncoder::encode(const int32_t* ids, int clip_skip, float* hidden) const {
  const ClipTextConfig& c = model_->config;
  if (clip_skip < 1 || clip_skip > c.n_layers) {
    return Status::invalid_argument("CLIP text encoder: clip_skip " + std::to_string(clip_skip) +
                                    " is outside 1.." + std::to_string(c.n_layers));
  }
  const int64_t T = c.n_positions, d = c.dim;
  for (int64_t t = 0; t < T; ++t) {
    if (ids[t] < 0 || ids[t] >= c.vocab) {
      return Status::invalid_argument("CLIP text encoder: token id " + std::to_string(ids[t]) + " at position " +
                                      std::to_string(t) + " is outside the vocabulary of " +
                                      std::to_string(c.vocab));
    }
  }

  std::vector<float> x(T * d), h(T * d), q(T * d), k(T * d), v(T * d), a(T * d), u(T * c.ffn_dim);
  for (int64_t t = 0; t < T; ++t) {
    row_to_float(model_->token_embedding, ids[t], &x[t * d]);
    row_to_float(model_->position_embedding, t, &h[t * d]);
  }
  elementwise_add(x.data(), x.data(), h.data(), T * d);

  std::vector<int32_t> positions(T);  // causal: position t attends to 0..t
  for (int64_t t = 0; t < T; ++t) positions[t] = static_cast<int32_t>(t);

  const int64_t n_run = c.n_layers - clip_skip + 1;
  for (int64_t i = 0; i < n_run; ++i) {
    const Layer& l = model_->layers[i];
    normalize(h.data(), l.layer_norm1, x.data(), T);
    linear(q.data(), l.q_proj, h.data(), T);
    linear(k.data(), l.k_proj, h.data(), T);
    linear(v.data(), l.v_proj, h.data(), T);
    attention_cached(a.data(), q.data(), k.data(), v.data(), DType::F32, positions.data(), T, c.n_heads, c.n_heads,
                     kHeadDim, T);
    linear(h.data(), l.out_proj, a.data(), T);
    elementwise_add(x.data(), x.data(), h.data(), T * d);

    normalize(h.data(), l.layer_norm2, x.data(), T);
    linear(u.data(), l.fc1, h.data(), T);
    quick_gelu(u.data(), u.data(), T * c.ffn_dim);
    linear(h.data(), l.fc2, u.data(), T);
    elementwise_add(x.data(), x.data(), h.data(), T * d);
  }
  normalize(hidden, model_->final_layer_norm, x.data(), T);
  return Status::ok_status();
}

double ClipTextEncoder::flops() const {
  const ClipTextConfig& c = model_->config;
  const double T = static_cast<double>(c.n_positions), d = static_cast<double>(c.dim);
  const double projections = T * (4 * d * d + 2 * d * static_cast<double>(c.ffn_dim));
  const double attention = 2 * (T * (T + 1) / 2) * d;  // q.k and p.v over the causal triangle
  return 2 * static_cast<double>(c.n_layers) * (projections + attention);
}

}  // namespace aigc
