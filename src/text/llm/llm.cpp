// The LLaMA-family forward pass (llama, qwen2, qwen3) over a batch of tokens.
//
// Per layer, as in the reference (tools/reference/llm_ref.py):
//   h = rms_norm(x) ; q, k, v = h Wq^T (+bq), h Wk^T (+bk), h Wv^T (+bv)
//   qwen3: q, k = rms_norm per head ; q, k = rope(q, k) ; cache <- k, v
//   x += attention(q, cache) Wo^T
//   h = rms_norm(x) ; x += (silu(h Wgate^T) * (h Wup^T)) Wdown^T
// then logits = rms_norm(x) Wout^T for the tokens that want them.
#include "text/llm/llm.h"

#include <cstring>

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

// Bytes of the activation arena for a batch of n tokens.
size_t arena_bytes(const LlmHparams& hp, int n) {
  const size_t q = size_t(hp.n_head) * size_t(hp.head_dim), kv = size_t(hp.n_head_kv) * size_t(hp.head_dim);
  const size_t floats = size_t(n) * (2 * size_t(hp.n_embd) + 2 * q + 2 * kv + 2 * size_t(hp.n_ff) + size_t(hp.n_vocab));
  return floats * sizeof(float) + 16 * 64;
}

Tensor f32(Arena& arena, int64_t rows, int64_t cols) { return arena.alloc_tensor(DType::F32, {rows, cols}); }

void add_bias_if(const Tensor& bias, Tensor& y) {
  if (bias.data) add_bias(y.ptr<float>(), y.ptr<float>(), bias.ptr<float>(), y.shape[0], y.shape[1]);
}

}  // namespace

LlmContext::LlmContext(const LlmModel& model, int n_ctx, int n_seq, int n_batch)
    : model_(model),
      n_batch_(n_batch),
      cache_(n_seq, model.hparams().n_layer, n_ctx, model.hparams().n_head_kv * model.hparams().head_dim),
      arena_(arena_bytes(model.hparams(), n_batch)) {}

Status LlmContext::decode(std::span<const BatchToken> batch, std::vector<float>* logits) {
  const LlmHparams& hp = model_.hparams();
  const LlmWeights& w = model_.weights();
  const int64_t T = int64_t(batch.size());
  if (T == 0) return Status::invalid_argument("decode: empty batch");
  if (T > n_batch_)
    return Status::invalid_argument("decode: batch of " + std::to_string(T) + " tokens exceeds n_batch " +
                                    std::to_string(n_batch_));
  for (const BatchToken& bt : batch) {
    if (bt.token < 0 || bt.token >= hp.n_vocab)
      return Status::invalid_argument("decode: token id " + std::to_string(bt.token) + " is outside the vocabulary (" +
                                      std::to_string(hp.n_vocab) + ")");
    if (bt.seq < 0 || bt.seq >= cache_.n_seq())
      return Status::invalid_argument("decode: sequence " + std::to_string(bt.seq) + " is outside 0.." +
                                      std::to_string(cache_.n_seq() - 1));
    if (bt.pos < 0 || bt.pos >= cache_.n_ctx())
      return Status::out_of_range("decode: position " + std::to_string(bt.pos) + " is beyond the context of " +
                                  std::to_string(cache_.n_ctx()) + " tokens");
  }

  const int64_t d = hp.n_embd, hd = hp.head_dim, H = hp.n_head, Hkv = hp.n_head_kv;
  const int64_t q_dim = H * hd, kv_dim = Hkv * hd;
  arena_.reset();
  Tensor x = f32(arena_, T, d);      // residual stream
  Tensor h = f32(arena_, T, d);      // normed input of a sub-block
  Tensor q = f32(arena_, T, q_dim);
  Tensor k = f32(arena_, T, kv_dim);
  Tensor v = f32(arena_, T, kv_dim);
  Tensor att = f32(arena_, T, q_dim);
  Tensor gate = f32(arena_, T, hp.n_ff);
  Tensor up = f32(arena_, T, hp.n_ff);
  std::vector<int32_t> pos(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) pos[size_t(t)] = batch[size_t(t)].pos;

  const RopeParams rope_params{hp.rope_mode, hp.rope_freq_base, hp.rope_freq_scale, hp.n_rot,
                               w.rope_freqs.data ? w.rope_freqs.ptr<float>() : nullptr};
  const ToFloatFn embd_to_float = dtype_traits(w.token_embd.dtype)->to_float;
  for (int64_t t = 0; t < T; ++t)
    embd_to_float(w.token_embd.row(batch[size_t(t)].token), x.ptr<float>() + t * d, d);

  for (int il = 0; il < hp.n_layer; ++il) {
    const LlmLayer& l = w.layers[size_t(il)];
    rms_norm(h.ptr<float>(), x.ptr<float>(), l.attn_norm.ptr<float>(), hp.norm_eps, T, d);
    matmul(q, l.wq, h);
    matmul(k, l.wk, h);
    matmul(v, l.wv, h);
    add_bias_if(l.bq, q);
    add_bias_if(l.bk, k);
    add_bias_if(l.bv, v);
    if (l.q_norm.data) {
      rms_norm(q.ptr<float>(), q.ptr<float>(), l.q_norm.ptr<float>(), hp.norm_eps, T * H, hd);
      rms_norm(k.ptr<float>(), k.ptr<float>(), l.k_norm.ptr<float>(), hp.norm_eps, T * Hkv, hd);
    }
    rope(q.ptr<float>(), pos.data(), rope_params, T, H, hd);
    rope(k.ptr<float>(), pos.data(), rope_params, T, Hkv, hd);
    for (int64_t t = 0; t < T; ++t) {
      const BatchToken& bt = batch[size_t(t)];
      std::memcpy(cache_.keys(bt.seq, il) + int64_t(bt.pos) * kv_dim, k.ptr<float>() + t * kv_dim, size_t(kv_dim) * 4);
      std::memcpy(cache_.values(bt.seq, il) + int64_t(bt.pos) * kv_dim, v.ptr<float>() + t * kv_dim,
                  size_t(kv_dim) * 4);
    }
    // Attention over runs of consecutive tokens of the same sequence.
    for (int64_t t0 = 0; t0 < T;) {
      int64_t t1 = t0 + 1;
      while (t1 < T && batch[size_t(t1)].seq == batch[size_t(t0)].seq) ++t1;
      const int seq = batch[size_t(t0)].seq;
      attention_cached(att.ptr<float>() + t0 * q_dim, q.ptr<float>() + t0 * q_dim, cache_.keys(seq, il),
                       cache_.values(seq, il), DType::F32, pos.data() + t0, t1 - t0, H, Hkv, hd, cache_.n_ctx());
      t0 = t1;
    }
    matmul(h, l.wo, att);
    elementwise_add(x.ptr<float>(), x.ptr<float>(), h.ptr<float>(), T * d);

    rms_norm(h.ptr<float>(), x.ptr<float>(), l.ffn_norm.ptr<float>(), hp.norm_eps, T, d);
    matmul(gate, l.ffn_gate, h);
    matmul(up, l.ffn_up, h);
    swiglu(gate.ptr<float>(), gate.ptr<float>(), up.ptr<float>(), T * hp.n_ff);
    matmul(h, l.ffn_down, gate);
    elementwise_add(x.ptr<float>(), x.ptr<float>(), h.ptr<float>(), T * d);
  }

  // Logits of the tokens that want them, in batch order.
  int64_t n_out = 0;
  for (int64_t t = 0; t < T; ++t) {
    if (!batch[size_t(t)].logits) continue;
    std::memmove(x.ptr<float>() + n_out * d, x.ptr<float>() + t * d, size_t(d) * 4);
    ++n_out;
  }
  logits->clear();
  if (n_out == 0) return Status();
  Tensor xo = make_tensor(DType::F32, {n_out, d}, x.data);
  Tensor ho = make_tensor(DType::F32, {n_out, d}, h.data);
  rms_norm(ho.ptr<float>(), xo.ptr<float>(), w.output_norm.ptr<float>(), hp.norm_eps, n_out, d);
  Tensor out = f32(arena_, n_out, hp.n_vocab);
  matmul(out, w.output, ho);
  logits->assign(out.ptr<float>(), out.ptr<float>() + n_out * hp.n_vocab);
  return Status();
}

}  // namespace aigc
