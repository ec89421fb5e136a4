// WeightStore: the named weight tensors of one Stable Diffusion component
// (UNet, VAE or CLIP text encoder), keyed by their original (ldm) names with
// the component's prefix removed:
//   UNet          "model.diffusion_model."                  -> "input_blocks.0.0.weight"
//   VAE           "first_stage_model."                      -> "decoder.conv_in.weight"
//   text encoder  "cond_stage_model.transformer."           -> "text_model.embeddings.token_embedding.weight"
// Diffusers folders are renamed into these names when loaded, so the model
// code knows one naming only.
//
// Tensors are views (usually into a memory-mapped safetensors file, which
// must outlive the store) or owned copies (add_owned, e.g. LoRA-merged
// weights). get() checks presence and shape and names the component, the
// tensor and both shapes in its error.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace aigc {

class SafetensorsFile;

class WeightStore {
 public:
  explicit WeightStore(std::string component = "model") : component_(std::move(component)) {}
  WeightStore(WeightStore&&) noexcept = default;
  WeightStore& operator=(WeightStore&&) noexcept = default;

  // Every tensor of `file` whose name starts with `prefix`, under its name
  // without the prefix. Tensors that cannot be viewed (I64 position ids,
  // other dtypes) are skipped: a model that needs one fails in get().
  // Returns the number of tensors added.
  size_t add_from_safetensors(const SafetensorsFile& file, std::string_view prefix);

  // Adds (or replaces) a view.
  void add(const std::string& name, const Tensor& t) { tensors_[name] = t; }
  // Adds (or replaces) an owned, zeroed, contiguous tensor and returns its view.
  Tensor add_owned(const std::string& name, DType dtype, std::initializer_list<int64_t> shape);
  Tensor add_owned(const std::string& name, DType dtype, int n_dims, const int64_t* shape);

  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  const Tensor* find(const std::string& name) const;
  // The tensor `name` with exactly `shape` (outermost first); NotFound or
  // InvalidArgument naming the component, the tensor and the shapes.
  Result<Tensor> get(const std::string& name, std::initializer_list<int64_t> shape) const;
  // The tensor `name`, any shape.
  Result<Tensor> get(const std::string& name) const;

  const std::string& component() const { return component_; }
  // GroupNorm groups of the component's layers: SD's 32 unless a diffusers
  // config.json says otherwise ("norm_num_groups").
  int64_t norm_groups() const { return norm_groups_; }
  void set_norm_groups(int64_t groups) { norm_groups_ = groups; }
  // Attention heads of the UNet's transformers: SD 1.x's 8 unless a diffusers
  // config.json says otherwise ("attention_head_dim", which diffusers' SD 1.x
  // configs use for the head count, or "num_attention_heads").
  int64_t attention_heads() const { return attention_heads_; }
  void set_attention_heads(int64_t heads) { attention_heads_ = heads; }
  size_t size() const { return tensors_.size(); }
  const std::map<std::string, Tensor>& tensors() const { return tensors_; }

 private:
  std::string component_;
  int64_t norm_groups_ = 32;
  int64_t attention_heads_ = 8;
  std::map<std::string, Tensor> tensors_;
  std::vector<std::unique_ptr<uint8_t[]>> owned_;
};

}  // namespace aigc
