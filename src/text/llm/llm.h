// LlmModel and LlmContext: a loaded LLaMA-family model and the state to run it.
//
// LlmModel owns the mapped GGUF file; its weights are used in place. It is
// immutable after load and can be shared by many contexts.
// LlmContext holds the KV cache of n_seq sequence slots and the activation
// arena for batches of up to n_batch tokens. decode() runs one forward pass
// over a batch whose tokens may belong to different sequences at different
// positions (the server's continuous batching). Not thread-safe: one caller
// at a time; the kernels inside use all threads.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/arena.h"
#include "core/status.h"
#include "formats/gguf.h"
#include "text/llm/kv_cache.h"
#include "text/llm/model.h"

namespace aigc {

class LlmModel {
 public:
  static Result<std::unique_ptr<LlmModel>> load(const std::string& path);

  const GgufFile& file() const { return file_; }
  const LlmHparams& hparams() const { return hp_; }
  const LlmWeights& weights() const { return w_; }
  uint64_t weight_bytes() const;  // bytes of all weight tensors read per token

 private:
  GgufFile file_;
  LlmHparams hp_;
  LlmWeights w_;
};

// One token of a batch: which sequence slot it extends, at which position,
// and whether its logits are wanted.
struct BatchToken {
  int32_t token = 0;
  int32_t seq = 0;
  int32_t pos = 0;
  bool logits = false;
};

class LlmContext {
 public:
  // n_ctx: positions per sequence; n_seq: sequence slots; n_batch: most tokens per decode();
  // cache_type: the KV cache's element type, F32 (exact) or F16 (half the memory, see kv_cache.h).
  LlmContext(const LlmModel& model, int n_ctx, int n_seq = 1, int n_batch = 512, DType cache_type = DType::F32);

  // Runs the batch. Each token's key and value are stored at (seq, pos); a
  // token attends to positions 0..pos of its sequence, which must have been
  // filled by earlier decodes or earlier tokens of this batch. On success,
  // `logits` holds one row of n_vocab floats per token with logits = true, in
  // batch order. Errors (bad token id, position beyond n_ctx, batch too large)
  // leave the cache unchanged.
  Status decode(std::span<const BatchToken> batch, std::vector<float>* logits);

  int n_ctx() const { return cache_.n_ctx(); }
  int n_batch() const { return n_batch_; }
  int n_seq() const { return cache_.n_seq(); }
  const LlmModel& model() const { return model_; }
  size_t kv_cache_bytes() const { return cache_.bytes(); }

 private:
  const LlmModel& model_;
  int n_batch_;
  KvCache cache_;
  Arena arena_;
};

}  // namespace aigc
