// The LLaMA-family forward pass (llama, qwen2, qwen3) over a batch of tokens.
//
// Per layer, as in the reference (tools/reference/llm_ref.py):
//   h = rms_norm(x) ; q, k, v = h Wq^T (+bq), h Wk^T (+bk), h Wv^T (+bv)
//   qwen3: q, k = rms_norm per head ; q, k = rope(q, k) ; cache <- k, v
//   x += attention(q, cache) Wo^T
//   h = rms_norm(x) ; x += (silu(h Wgate^T) * (h Wup^T)) Wdown^T
// then logits = rms_norm(x) Wout^T for the tokens that want them.
//
// Two ways to run it, the same math:
// - forward_by_dots, for batches smaller than the GEMM pays for (decode):
//   the whole pass is one OpenMP parallel region. The threads share the rows
//   of each matrix (matmul_dots_shared) and meet at a barrier between
//   dependent steps; a token's normed activation is converted to the dots'
//   input type once for Q, K and V (and once for gate and up).
// - forward_by_gemm, for larger batches (prompt processing): matrix by matrix
//   through matmul's GEMM, each kernel its own parallel region.
// Attention runs per (token, KV head): the query heads that share a KV head
// read its cache block together.
#include "text/llm/llm.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <initializer_list>

#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "kernels/norm.h"
#include "kernels/rope.h"

namespace aigc {

Result<std::unique_ptr<LlmModel>> LlmModel::load(const std::string& path) {
  auto model = std::unique_ptr<LlmModel>(new LlmModel());
  AIGC_ASSIGN_OR_RETURN(model->file_, GgufFile::open(path));
  AIGC_ASSIGN_OR_RETURN(model->hp_, read_llm_hparams(model->file_));
  AIGC_ASSIGN_OR_RETURN(model->w_, bind_llm_weights(model->file_, model->hp_));
  return model;
}

uint64_t LlmModel::weight_bytes() const {
  uint64_t total = 0;
  for (const GgufTensorInfo& t : file_.tensors())
    if (t.name != "token_embd.weight" || w_.output.data == w_.token_embd.data) total += t.nbytes;
  return total;
}

namespace {

// Batches of fewer tokens than this run as forward_by_dots.
int64_t dots_max_tokens(const LlmWeights& w) { return matmul_gemm_min_tokens(w.layers[0].wq.dtype) - 1; }

// Activations of one forward pass over T tokens, views into the arena.
struct PassBuffers {
  float* x;     // [T, n_embd] residual stream
  float* h;     // [T, n_embd] normed input of a sub-block
  float* o;     // [T, n_embd] output of a sub-block (Wo, Wdown)
  float* q;     // [T, n_head * head_dim]
  float* k;     // [T, n_head_kv * head_dim]
  float* v;     // [T, n_head_kv * head_dim]
  float* att;   // [T, n_head * head_dim]
  float* gate;  // [T, n_ff]
  float* up;    // [T, n_ff]
  std::array<uint8_t*, 3> act;  // forward_by_dots: converted input rows, act_row_bytes per token
  int64_t act_row_bytes;
};

int64_t widest_input(const LlmHparams& hp) {
  return std::max({int64_t(hp.n_embd), int64_t(hp.n_head) * hp.head_dim, int64_t(hp.n_ff)});
}

// Bytes of the activation arena for a batch of n tokens.
size_t arena_bytes(const LlmModel& m, int n) {
  const LlmHparams& hp = m.hparams();
  const size_t q = size_t(hp.n_head) * size_t(hp.head_dim), kv = size_t(hp.n_head_kv) * size_t(hp.head_dim);
  const size_t floats = size_t(n) * (3 * size_t(hp.n_embd) + 2 * q + 2 * kv + 2 * size_t(hp.n_ff));
  // Converted rows are at most as large as F32 ones.
  const size_t act = 3 * size_t(std::min<int64_t>(n, dots_max_tokens(m.weights()))) * size_t(widest_input(hp)) * 4;
  return (floats * sizeof(float) + act) + 16 * 64;
}

PassBuffers alloc_buffers(Arena& arena, const LlmHparams& hp, int64_t T, bool with_act) {
  const int64_t d = hp.n_embd, q_dim = int64_t(hp.n_head) * hp.head_dim, kv_dim = int64_t(hp.n_head_kv) * hp.head_dim;
  auto floats = [&](int64_t cols) { return static_cast<float*>(arena.alloc(size_t(T * cols) * sizeof(float))); };
  PassBuffers b{};
  b.x = floats(d);
  b.h = floats(d);
  b.o = floats(d);
  b.q = floats(q_dim);
  b.k = floats(kv_dim);
  b.v = floats(kv_dim);
  b.att = floats(q_dim);
  b.gate = floats(hp.n_ff);
  b.up = floats(hp.n_ff);
  if (with_act) {
    b.act_row_bytes = widest_input(hp) * 4;
    for (uint8_t*& a : b.act) a = static_cast<uint8_t*>(arena.alloc(size_t(T * b.act_row_bytes)));
  }
  return b;
}

// One input, converted for the dots of up to three weights that read it (Q,
// K, V; gate, up): once per distinct activation type. Weight i reads token
// t's row at act[i] + t * row_bytes[i].
struct DotInput {
  int n = 0;
  std::array<const Tensor*, 3> w{};
  std::array<uint8_t*, 3> act{};
  std::array<int64_t, 3> row_bytes{};
  std::array<bool, 3> converts{};  // false: shares an earlier weight's rows

  DotInput(std::initializer_list<const Tensor*> weights, int64_t n_in, const PassBuffers& b) {
    for (const Tensor* t : weights) {
      w[size_t(n)] = t;
      row_bytes[size_t(n)] = matmul_act_row_bytes(t->dtype, n_in);
      act[size_t(n)] = b.act[size_t(n)];
      converts[size_t(n)] = true;
      for (int j = 0; j < n; ++j)
        if (dtype_traits(w[size_t(j)]->dtype)->vec_dot_type == dtype_traits(t->dtype)->vec_dot_type) {
          act[size_t(n)] = act[size_t(j)];
          converts[size_t(n)] = false;
        }
      ++n;
    }
  }
  void convert(const float* x, int64_t n_in, int64_t t) const {
    for (int i = 0; i < n; ++i)
      if (converts[size_t(i)])
        matmul_convert_act(w[size_t(i)]->dtype, x, n_in, act[size_t(i)] + t * row_bytes[size_t(i)]);
  }
  // y = x W_i^T for all T tokens, rows shared by the team (no barrier).
  void dots(int i, float* y, int64_t y_ld, int64_t T) const {
    matmul_dots_shared(y, y_ld, *w[size_t(i)], act[size_t(i)], row_bytes[size_t(i)], T);
  }
};

void embed(const LlmWeights& w, int32_t token, float* x, int64_t d) {
  dtype_traits(w.token_embd.dtype)->to_float(w.token_embd.row(token), x, d);
}

// Token t's query heads that share KV head g, and that KV head, after the
// projections: biases, Qwen3's per-head norms, RoPE; then the key and value
// into the cache at (seq, pos). Every step is per head, so the groups can
// be done in any order or by different threads.
void finish_qkv_group(const LlmHparams& hp, const LlmLayer& l, const RopeParams& rope_params, KvCache& cache, int il,
                      const BatchToken& bt, int g, float* q, float* k, float* v) {
  const int64_t hd = hp.head_dim, per_kv = hp.n_head / hp.n_head_kv, h0 = g * per_kv;
  float* qg = q + h0 * hd;
  float* kg = k + g * hd;
  float* vg = v + g * hd;
  if (l.bq.data) add_bias(qg, qg, l.bq.ptr<float>() + h0 * hd, 1, per_kv * hd);
  if (l.bk.data) add_bias(kg, kg, l.bk.ptr<float>() + g * hd, 1, hd);
  if (l.bv.data) add_bias(vg, vg, l.bv.ptr<float>() + g * hd, 1, hd);
  if (l.q_norm.data) {
    rms_norm(qg, qg, l.q_norm.ptr<float>(), hp.norm_eps, per_kv, hd);
    rms_norm(kg, kg, l.k_norm.ptr<float>(), hp.norm_eps, 1, hd);
  }
  rope(qg, &bt.pos, rope_params, 1, per_kv, hd);
  rope(kg, &bt.pos, rope_params, 1, 1, hd);
  cache.store(bt.seq, il, g, bt.pos, kg, vg);
}

// Attention of token t's query heads that share KV head g (q, att: the
// token's rows).
void attend(const LlmHparams& hp, KvCache& cache, int il, const BatchToken& bt, int g, const float* q, float* att) {
  const int64_t hd = hp.head_dim, per_kv = hp.n_head / hp.n_head_kv;
  attention_cached(att + g * per_kv * hd, q + g * per_kv * hd, cache.keys(bt.seq, il, g), cache.values(bt.seq, il, g),
                   cache.type(), &bt.pos, 1, per_kv, 1, hd, cache.n_ctx());
}

RopeParams rope_params_of(const LlmHparams& hp, const LlmWeights& w) {
  return {hp.rope_mode, hp.rope_freq_base, hp.rope_freq_scale, hp.n_rot,
          w.rope_freqs.data ? w.rope_freqs.ptr<float>() : nullptr};
}

// The pass as one parallel region (see the top of the file). out_rows: the
// batch indices whose logits go to `logits`, one row each.
void forward_by_dots(const LlmModel& model, KvCache& cache, std::span<const BatchToken> batch, const PassBuffers& b,
                     const std::vector<int64_t>& out_rows, float* logits) {
  const LlmHparams& hp = model.hparams();
  const LlmWeights& w = model.weights();
  const RopeParams rope_params = rope_params_of(hp, w);
  const int64_t T = int64_t(batch.size()), n_out = int64_t(out_rows.size());
  const int64_t d = hp.n_embd, q_dim = int64_t(hp.n_head) * hp.head_dim, kv_dim = int64_t(hp.n_head_kv) * hp.head_dim;
  const int64_t ff = hp.n_ff, Hkv = hp.n_head_kv;
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; ++t) embed(w, batch[size_t(t)].token, b.x + t * d, d);
    for (int il = 0; il < hp.n_layer; ++il) {
      const LlmLayer& l = w.layers[size_t(il)];
      const DotInput qkv({&l.wq, &l.wk, &l.wv}, d, b);
#pragma omp for schedule(static)
      for (int64_t t = 0; t < T; ++t) {
        if (il > 0) elementwise_add(b.x + t * d, b.x + t * d, b.o + t * d, d);  // the previous layer's FFN
        rms_norm(b.h + t * d, b.x + t * d, l.attn_norm.ptr<float>(), hp.norm_eps, 1, d);
        qkv.convert(b.h + t * d, d, t);
      }
      qkv.dots(0, b.q, q_dim, T);
      qkv.dots(1, b.k, kv_dim, T);
      qkv.dots(2, b.v, kv_dim, T);
#pragma omp barrier
      // One thread per KV head, tokens in order: a token may attend to the
      // keys an earlier token of the batch has just stored.
#pragma omp for schedule(static)
      for (int64_t g = 0; g < Hkv; ++g)
        for (int64_t t = 0; t < T; ++t) {
          finish_qkv_group(hp, l, rope_params, cache, il, batch[size_t(t)], int(g), b.q + t * q_dim,
                           b.k + t * kv_dim, b.v + t * kv_dim);
          attend(hp, cache, il, batch[size_t(t)], int(g), b.q + t * q_dim, b.att + t * q_dim);
        }
      const DotInput wo({&l.wo}, q_dim, b);
#pragma omp for schedule(static)
      for (int64_t t = 0; t < T; ++t) wo.convert(b.att + t * q_dim, q_dim, t);
      wo.dots(0, b.o, d, T);
#pragma omp barrier
      const DotInput gate_up({&l.ffn_gate, &l.ffn_up}, d, b);
#pragma omp for schedule(static)
      for (int64_t t = 0; t < T; ++t) {
        elementwise_add(b.x + t * d, b.x + t * d, b.o + t * d, d);
        rms_norm(b.h + t * d, b.x + t * d, l.ffn_norm.ptr<float>(), hp.norm_eps, 1, d);
        gate_up.convert(b.h + t * d, d, t);
      }
      gate_up.dots(0, b.gate, ff, T);
      gate_up.dots(1, b.up, ff, T);
#pragma omp barrier
      const DotInput down({&l.ffn_down}, ff, b);
#pragma omp for schedule(static)
      for (int64_t t = 0; t < T; ++t) {
        swiglu(b.gate + t * ff, b.gate + t * ff, b.up + t * ff, ff);
        down.convert(b.gate + t * ff, ff, t);
      }
      down.dots(0, b.o, d, T);
#pragma omp barrier
    }
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; ++t) elementwise_add(b.x + t * d, b.x + t * d, b.o + t * d, d);  // the last FFN
    const DotInput out({&w.output}, d, b);
#pragma omp for schedule(static)
    for (int64_t j = 0; j < n_out; ++j) {
      rms_norm(b.h + j * d, b.x + out_rows[size_t(j)] * d, w.output_norm.ptr<float>(), hp.norm_eps, 1, d);
      out.convert(b.h + j * d, d, j);
    }
    out.dots(0, logits, hp.n_vocab, n_out);
  }
}

Tensor f32_view(float* data, int64_t rows, int64_t cols) { return make_tensor(DType::F32, {rows, cols}, data); }

// The pass matrix by matrix through the GEMM (see the top of the file).
void forward_by_gemm(const LlmModel& model, KvCache& cache, std::span<const BatchToken> batch, const PassBuffers& b,
                     const std::vector<int64_t>& out_rows, float* logits) {
  const LlmHparams& hp = model.hparams();
  const LlmWeights& w = model.weights();
  const RopeParams rope_params = rope_params_of(hp, w);
  const int64_t T = int64_t(batch.size()), n_out = int64_t(out_rows.size());
  const int64_t d = hp.n_embd, q_dim = int64_t(hp.n_head) * hp.head_dim, kv_dim = int64_t(hp.n_head_kv) * hp.head_dim;
  const int64_t ff = hp.n_ff, Hkv = hp.n_head_kv;
  const Tensor h = f32_view(b.h, T, d), o = f32_view(b.o, T, d);
  const Tensor q = f32_view(b.q, T, q_dim), k = f32_view(b.k, T, kv_dim), v = f32_view(b.v, T, kv_dim);
  const Tensor att = f32_view(b.att, T, q_dim), gate = f32_view(b.gate, T, ff), up = f32_view(b.up, T, ff);
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t) embed(w, batch[size_t(t)].token, b.x + t * d, d);
  for (int il = 0; il < hp.n_layer; ++il) {
    const LlmLayer& l = w.layers[size_t(il)];
    rms_norm(b.h, b.x, l.attn_norm.ptr<float>(), hp.norm_eps, T, d);
    matmul(q, l.wq, h);
    matmul(k, l.wk, h);
    matmul(v, l.wv, h);
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t g = 0; g < Hkv; ++g)
        finish_qkv_group(hp, l, rope_params, cache, il, batch[size_t(t)], int(g), b.q + t * q_dim,
                         b.k + t * kv_dim, b.v + t * kv_dim);
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t g = 0; g < Hkv; ++g)
      for (int64_t t = 0; t < T; ++t)
        attend(hp, cache, il, batch[size_t(t)], int(g), b.q + t * q_dim, b.att + t * q_dim);
    matmul(o, l.wo, att);
    elementwise_add(b.x, b.x, b.o, T * d);
    rms_norm(b.h, b.x, l.ffn_norm.ptr<float>(), hp.norm_eps, T, d);
    matmul(gate, l.ffn_gate, h);
    matmul(up, l.ffn_up, h);
    swiglu(b.gate, b.gate, b.up, T * ff);
    matmul(o, l.ffn_down, gate);
    elementwise_add(b.x, b.x, b.o, T * d);
  }
  if (n_out == 0) return;
  for (int64_t j = 0; j < n_out; ++j)
    std::memcpy(b.o + j * d, b.x + out_rows[size_t(j)] * d, size_t(d) * sizeof(float));
  rms_norm(b.h, b.o, w.output_norm.ptr<float>(), hp.norm_eps, n_out, d);
  matmul(f32_view(logits, n_out, hp.n_vocab), w.output, f32_view(b.h, n_out, d));
}

}  // namespace

LlmContext::LlmContext(const LlmModel& model, int n_ctx, int n_seq, int n_batch, DType cache_type)
    : model_(model),
      n_batch_(n_batch),
      cache_(n_seq, model.hparams().n_layer, model.hparams().n_head_kv, n_ctx, model.hparams().head_dim, cache_type),
      arena_(arena_bytes(model, n_batch)) {}

Status LlmContext::decode(std::span<const BatchToken> batch, std::vector<float>* logits) {
  const LlmHparams& hp = model_.hparams();
  const int64_t T = int64_t(batch.size());
  if (T == 0) return Status::invalid_argument("decode: empty batch");
  if (T > n_batch_)
    return Status::invalid_argument("decode: batch of " + std::to_string(T) + " tokens exceeds n_batch " +
                                    std::to_string(n_batch_));
  std::vector<int64_t> out_rows;  // batch indices of the tokens that want logits
  for (size_t t = 0; t < batch.size(); ++t) {
    const BatchToken& bt = batch[t];
    if (bt.token < 0 || bt.token >= hp.n_vocab)
      return Status::invalid_argument("decode: token id " + std::to_string(bt.token) + " is outside the vocabulary (" +
                                      std::to_string(hp.n_vocab) + ")");
    if (bt.seq < 0 || bt.seq >= cache_.n_seq())
      return Status::invalid_argument("decode: sequence " + std::to_string(bt.seq) + " is outside 0.." +
                                      std::to_string(cache_.n_seq() - 1));
    if (bt.pos < 0 || bt.pos >= cache_.n_ctx())
      return Status::out_of_range("decode: position " + std::to_string(bt.pos) + " is beyond the context of " +
                                  std::to_string(cache_.n_ctx()) + " tokens");
    if (bt.logits) out_rows.push_back(int64_t(t));
  }

  arena_.reset();
  const bool by_dots = T <= dots_max_tokens(model_.weights());
  const PassBuffers b = alloc_buffers(arena_, hp, T, by_dots);
  logits->resize(out_rows.size() * size_t(hp.n_vocab));
  if (by_dots)
    forward_by_dots(model_, cache_, batch, b, out_rows, logits->data());
  else
    forward_by_gemm(model_, cache_, batch, b, out_rows, logits->data());
  return Status();
}

}  // namespace aigc
