// LLM model description: GGUF metadata keys and tensor names of the
// LLaMA-family architectures, checked on load.
#include "text/llm/model.h"

#include <string>

namespace aigc {

namespace {

Result<int> get_positive(const GgufFile& f, const std::string& key) {
  AIGC_ASSIGN_OR_RETURN(int64_t v, f.get_int(key));
  if (v <= 0 || v > (int64_t(1) << 30))
    return Status::corruption(f.path() + ": metadata '" + key + "' = " + std::to_string(v) + " is out of range");
  return int(v);
}

// Optional integer key: `fallback` when absent, an error when present but bad.
Result<int> get_positive_or(const GgufFile& f, const std::string& key, int fallback) {
  if (!f.find(key)) return fallback;
  return get_positive(f, key);
}

Result<float> get_float_or(const GgufFile& f, const std::string& key, float fallback) {
  if (!f.find(key)) return fallback;
  AIGC_ASSIGN_OR_RETURN(double v, f.get_float(key));
  return float(v);
}

std::string shape_of(std::initializer_list<int64_t> s) {
  std::string r = "[";
  for (int64_t d : s) r += (r.size() > 1 ? ", " : "") + std::to_string(d);
  return r + "]";
}

// The tensor `name` with exactly `shape` (outermost first).
Result<Tensor> need(const GgufFile& f, const std::string& name, std::initializer_list<int64_t> shape) {
  const GgufTensorInfo* info = f.find_tensor(name);
  if (!info) return Status::not_found(f.path() + ": missing tensor '" + name + "' " + shape_of(shape));
  const Tensor& t = info->tensor;
  bool same = t.n_dims == int(shape.size());
  int i = 0;
  for (int64_t d : shape) same = same && t.shape[i++] == d;
  if (!same)
    return Status::corruption(f.path() + ": tensor '" + name + "' has shape " + t.shape_string() + ", expected " +
                              shape_of(shape));
  const DTypeTraits* tr = dtype_traits(t.dtype);
  if (!tr || !tr->to_float)
    return Status::unsupported(f.path() + ": tensor '" + name + "' has type " + dtype_name(t.dtype) +
                               ", which cannot be used as a weight");
  return t;
}

Result<Tensor> optional(const GgufFile& f, const std::string& name, std::initializer_list<int64_t> shape) {
  if (!f.find_tensor(name)) return Tensor{};
  return need(f, name, shape);
}

// Norm weights and biases are F32 in every converter's output; the kernels read them as floats.
Result<Tensor> need_f32(const GgufFile& f, const std::string& name, std::initializer_list<int64_t> shape) {
  AIGC_ASSIGN_OR_RETURN(Tensor t, need(f, name, shape));
  if (t.dtype != DType::F32)
    return Status::unsupported(f.path() + ": tensor '" + name + "' has type " + dtype_name(t.dtype) +
                               ", expected F32");
  return t;
}

Result<Tensor> optional_f32(const GgufFile& f, const std::string& name, std::initializer_list<int64_t> shape) {
  if (!f.find_tensor(name)) return Tensor{};
  return need_f32(f, name, shape);
}

}  // namespace

Result<LlmHparams> read_llm_hparams(const GgufFile& f) {
  LlmHparams hp;
  AIGC_ASSIGN_OR_RETURN(hp.arch_name, f.get_string("general.architecture"));
  if (hp.arch_name == "llama") {
    hp.arch = LlmArch::kLlama;
    hp.rope_mode = RopeMode::kNormal;
  } else if (hp.arch_name == "qwen2") {
    hp.arch = LlmArch::kQwen2;
    hp.rope_mode = RopeMode::kNeox;
  } else if (hp.arch_name == "qwen3") {
    hp.arch = LlmArch::kQwen3;
    hp.rope_mode = RopeMode::kNeox;
  } else {
    return Status::unsupported(f.path() + ": general.architecture '" + hp.arch_name +
                               "' is not supported (supported: llama, qwen2, qwen3)");
  }
  const std::string a = hp.arch_name + ".";
  AIGC_ASSIGN_OR_RETURN(hp.n_embd, get_positive(f, a + "embedding_length"));
  AIGC_ASSIGN_OR_RETURN(hp.n_layer, get_positive(f, a + "block_count"));
  AIGC_ASSIGN_OR_RETURN(hp.n_ff, get_positive(f, a + "feed_forward_length"));
  AIGC_ASSIGN_OR_RETURN(hp.n_head, get_positive(f, a + "attention.head_count"));
  AIGC_ASSIGN_OR_RETURN(hp.n_head_kv, get_positive_or(f, a + "attention.head_count_kv", hp.n_head));
  AIGC_ASSIGN_OR_RETURN(hp.n_ctx_train, get_positive_or(f, a + "context_length", 2048));
  if (hp.n_head % hp.n_head_kv != 0)
    return Status::corruption(f.path() + ": attention.head_count " + std::to_string(hp.n_head) +
                              " is not a multiple of head_count_kv " + std::to_string(hp.n_head_kv));
  const int default_head_dim = hp.n_embd / hp.n_head;
  AIGC_ASSIGN_OR_RETURN(hp.head_dim, get_positive_or(f, a + "attention.key_length", default_head_dim));
  AIGC_ASSIGN_OR_RETURN(int value_dim, get_positive_or(f, a + "attention.value_length", hp.head_dim));
  if (value_dim != hp.head_dim)
    return Status::unsupported(f.path() + ": attention.value_length " + std::to_string(value_dim) +
                               " differs from key_length " + std::to_string(hp.head_dim));
  AIGC_ASSIGN_OR_RETURN(hp.n_rot, get_positive_or(f, a + "rope.dimension_count", hp.head_dim));
  if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0)
    return Status::corruption(f.path() + ": rope.dimension_count " + std::to_string(hp.n_rot) +
                              " must be even and at most the head size " + std::to_string(hp.head_dim));
  AIGC_ASSIGN_OR_RETURN(hp.rope_freq_base, get_float_or(f, a + "rope.freq_base", 10000.0f));
  AIGC_ASSIGN_OR_RETURN(hp.norm_eps, get_float_or(f, a + "attention.layer_norm_rms_epsilon", 1e-5f));
  if (f.find(a + "rope.scaling.type")) {
    AIGC_ASSIGN_OR_RETURN(std::string type, f.get_string(a + "rope.scaling.type"));
    if (type == "linear") {
      AIGC_ASSIGN_OR_RETURN(float factor, get_float_or(f, a + "rope.scaling.factor", 1.0f));
      if (!(factor > 0.0f))
        return Status::corruption(f.path() + ": rope.scaling.factor must be positive");
      hp.rope_freq_scale = 1.0f / factor;
    } else if (type != "none" && type != "llama3") {  // llama3 scaling comes as rope_freqs.weight
      return Status::unsupported(f.path() + ": rope.scaling.type '" + type + "' is not supported");
    }
  }
  const GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
  if (!embd) return Status::not_found(f.path() + ": missing tensor 'token_embd.weight'");
  if (embd->tensor.n_dims != 2)
    return Status::corruption(f.path() + ": tensor 'token_embd.weight' must have 2 dimensions, has " +
                              std::to_string(embd->tensor.n_dims));
  hp.n_vocab = int(embd->tensor.shape[0]);
  return hp;
}

Result<LlmWeights> bind_llm_weights(const GgufFile& f, const LlmHparams& hp) {
  LlmWeights w;
  const int64_t d = hp.n_embd, q_rows = int64_t(hp.n_head) * hp.head_dim,
                kv_rows = int64_t(hp.n_head_kv) * hp.head_dim;
  AIGC_ASSIGN_OR_RETURN(w.token_embd, need(f, "token_embd.weight", {hp.n_vocab, d}));
  AIGC_ASSIGN_OR_RETURN(w.output_norm, need_f32(f, "output_norm.weight", {d}));
  AIGC_ASSIGN_OR_RETURN(w.output, optional(f, "output.weight", {hp.n_vocab, d}));
  if (!w.output.data) w.output = w.token_embd;  // tied embeddings
  AIGC_ASSIGN_OR_RETURN(w.rope_freqs, optional_f32(f, "rope_freqs.weight", {hp.n_rot / 2}));
  w.layers.resize(size_t(hp.n_layer));
  for (int il = 0; il < hp.n_layer; ++il) {
    LlmLayer& l = w.layers[size_t(il)];
    const std::string p = "blk." + std::to_string(il) + ".";
    AIGC_ASSIGN_OR_RETURN(l.attn_norm, need_f32(f, p + "attn_norm.weight", {d}));
    AIGC_ASSIGN_OR_RETURN(l.wq, need(f, p + "attn_q.weight", {q_rows, d}));
    AIGC_ASSIGN_OR_RETURN(l.wk, need(f, p + "attn_k.weight", {kv_rows, d}));
    AIGC_ASSIGN_OR_RETURN(l.wv, need(f, p + "attn_v.weight", {kv_rows, d}));
    AIGC_ASSIGN_OR_RETURN(l.wo, need(f, p + "attn_output.weight", {d, q_rows}));
    AIGC_ASSIGN_OR_RETURN(l.ffn_norm, need_f32(f, p + "ffn_norm.weight", {d}));
    AIGC_ASSIGN_OR_RETURN(l.ffn_gate, need(f, p + "ffn_gate.weight", {hp.n_ff, d}));
    AIGC_ASSIGN_OR_RETURN(l.ffn_up, need(f, p + "ffn_up.weight", {hp.n_ff, d}));
    AIGC_ASSIGN_OR_RETURN(l.ffn_down, need(f, p + "ffn_down.weight", {d, hp.n_ff}));
    if (hp.arch == LlmArch::kQwen2) {
      AIGC_ASSIGN_OR_RETURN(l.bq, need_f32(f, p + "attn_q.bias", {q_rows}));
      AIGC_ASSIGN_OR_RETURN(l.bk, need_f32(f, p + "attn_k.bias", {kv_rows}));
      AIGC_ASSIGN_OR_RETURN(l.bv, need_f32(f, p + "attn_v.bias", {kv_rows}));
    } else {  // some llama fine-tunes carry biases too
      AIGC_ASSIGN_OR_RETURN(l.bq, optional_f32(f, p + "attn_q.bias", {q_rows}));
      AIGC_ASSIGN_OR_RETURN(l.bk, optional_f32(f, p + "attn_k.bias", {kv_rows}));
      AIGC_ASSIGN_OR_RETURN(l.bv, optional_f32(f, p + "attn_v.bias", {kv_rows}));
    }
    if (hp.arch == LlmArch::kQwen3) {
      AIGC_ASSIGN_OR_RETURN(l.q_norm, need_f32(f, p + "attn_q_norm.weight", {hp.head_dim}));
      AIGC_ASSIGN_OR_RETURN(l.k_norm, need_f32(f, p + "attn_k_norm.weight", {hp.head_dim}));
    }
  }
  return w;
}

}  // namespace aigc
