// LLM model description read from GGUF: hyperparameters and weight views for
// the LLaMA-family architectures (llama, qwen2, qwen3). Weights are Tensor
// views into the memory-mapped file (zero copy). Immutable after load: safe
// to share between threads.
//
// Legend: n_embd = model width, n_head / n_head_kv = query / key-value heads,
// head_dim = per-head width, n_ff = FFN width, n_vocab = vocabulary size.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "formats/gguf.h"
#include "kernels/rope.h"

namespace aigc {

enum class LlmArch { kLlama, kQwen2, kQwen3 };

struct LlmHparams {
  LlmArch arch = LlmArch::kLlama;
  std::string arch_name;
  int n_vocab = 0;
  int n_ctx_train = 0;
  int n_embd = 0;
  int n_layer = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;
  int n_ff = 0;
  int n_rot = 0;              // rotated dimensions per head
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / linear scaling factor
  float norm_eps = 1e-5f;
  RopeMode rope_mode = RopeMode::kNormal;  // adjacent pairs (llama in GGUF) / halves (qwen)
};

struct LlmLayer {
  Tensor attn_norm;    // [n_embd]
  Tensor wq;           // [n_head * head_dim, n_embd]
  Tensor wk;           // [n_head_kv * head_dim, n_embd]
  Tensor wv;           // [n_head_kv * head_dim, n_embd]
  Tensor bq, bk, bv;   // qwen2 biases, [rows of wq/wk/wv]; data == nullptr if absent
  Tensor q_norm;       // qwen3: [head_dim]; data == nullptr if absent
  Tensor k_norm;       // qwen3: [head_dim]
  Tensor wo;           // [n_embd, n_head * head_dim]
  Tensor ffn_norm;     // [n_embd]
  Tensor ffn_gate;     // [n_ff, n_embd]
  Tensor ffn_up;       // [n_ff, n_embd]
  Tensor ffn_down;     // [n_embd, n_ff]
};

struct LlmWeights {
  Tensor token_embd;   // [n_vocab, n_embd]
  std::vector<LlmLayer> layers;
  Tensor output_norm;  // [n_embd]
  Tensor output;       // [n_vocab, n_embd]; token_embd when tied
  Tensor rope_freqs;   // [n_rot / 2] frequency divisors (llama3 scaling); data == nullptr if absent
};

// Reads hyperparameters and checks every tensor's presence, type and shape.
// Errors name the file, the key or tensor, and what was expected.
Result<LlmHparams> read_llm_hparams(const GgufFile& file);
Result<LlmWeights> bind_llm_weights(const GgufFile& file, const LlmHparams& hp);

}  // namespace aigc
