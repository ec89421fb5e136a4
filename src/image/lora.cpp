// LoRA: kohya-named low-rank adapters merged into owned copies of SD weights.
#include "image/lora.h"

#include <algorithm>
#include <map>
#include <memory>

#include "core/dtype.h"
#include "formats/safetensors.h"
#include "image/diffusers_names.h"
#include "image/sd_checkpoint.h"
#include "kernels/matmul.h"

namespace aigc {
namespace {

constexpr std::string_view kUpSuffix = ".lora_up.weight";
constexpr std::string_view kDownSuffix = ".lora_down.weight";
constexpr std::string_view kAlphaSuffix = ".alpha";
constexpr size_t kUnmatchedExamples = 3;

// A weight a LoRA module may adapt.
struct Target {
  WeightStore* store;
  std::string name;
};

std::string underscored(std::string_view module) {
  std::string s(module);
  std::replace(s.begin(), s.end(), '.', '_');
  return s;
}

// "lora_unet_<module>" / "lora_te_<module>" -> the weight, for every
// ".weight" of the UNet (ldm and diffusers module paths) and text encoder.
std::map<std::string, Target> module_keys(SdCheckpoint& ckpt) {
  std::map<std::string, Target> keys;
  std::vector<std::string> unet_names;
  for (const auto& [name, t] : ckpt.unet().tensors()) unet_names.push_back(name);
  Result<SdNameMap> diffusers = SdNameMap::unet_from_ldm(unet_names);
  for (const std::string& name : unet_names) {
    if (!name.ends_with(".weight")) continue;
    keys.emplace("lora_unet_" + underscored(name.substr(0, name.size() - 7)), Target{&ckpt.unet(), name});
    if (!diffusers.ok()) continue;  // not the SD 1.x block layout: ldm names only
    if (std::optional<std::string> d = diffusers->to_diffusers(name))
      keys.emplace("lora_unet_" + underscored(d->substr(0, d->size() - 7)), Target{&ckpt.unet(), name});
  }
  for (const auto& [name, t] : ckpt.text_encoder().tensors()) {
    if (name.ends_with(".weight"))
      keys.emplace("lora_te_" + underscored(name.substr(0, name.size() - 7)), Target{&ckpt.text_encoder(), name});
  }
  return keys;
}

// The tensors of one module of a LoRA file.
struct Module {
  std::string up, down, alpha;  // tensor names; alpha may be empty
};

// One module's change of one weight: W += scale * up @ down.
struct Delta {
  Tensor up, down;  // [out, rank], [rank, rest] in elements (any of F32/F16/BF16)
  int64_t rank;
  float scale;      // strength * alpha / rank
};

constexpr int64_t kConvertChunk = 1 << 16;  // elements per thread task of a dtype conversion

// Element-wise conversions in fixed chunks over the threads (same bits for
// any thread count).
void to_f32(const Tensor& t, float* out) {
  const ToFloatFn convert = dtype_traits(t.dtype)->to_float;
  const int64_t n = t.numel(), elem = static_cast<int64_t>(dtype_traits(t.dtype)->block_bytes);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < n; c += kConvertChunk)
    convert(static_cast<const uint8_t*>(t.data) + c * elem, out + c, std::min(kConvertChunk, n - c));
}

std::vector<float> to_f32(const Tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  to_f32(t, out.data());
  return out;
}

void from_f32(const float* in, const Tensor& t) {
  const FromFloatFn convert = dtype_traits(t.dtype)->from_float;
  const int64_t n = t.numel(), elem = static_cast<int64_t>(dtype_traits(t.dtype)->block_bytes);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < n; c += kConvertChunk)
    convert(in + c, static_cast<uint8_t*>(t.data) + c * elem, std::min(kConvertChunk, n - c));
}

Result<float> scalar_value(const SafetensorsFile& file, const std::string& name) {
  AIGC_ASSIGN_OR_RETURN(Tensor t, file.tensor(name));
  if (t.numel() != 1)
    return Status::invalid_argument(file.path() + ": '" + name + "' has shape " + t.shape_string() +
                                    ", expected a scalar");
  return to_f32(t)[0];
}

// Checks one module against its weight and returns its delta.
Result<Delta> module_delta(const SafetensorsFile& file, const std::string& key, const Module& m, const Tensor& w,
                           float strength) {
  if (m.up.empty() || m.down.empty())
    return Status::corruption(file.path() + ": LoRA module '" + key + "' lacks its " +
                              (m.up.empty() ? "lora_up" : "lora_down") + " weight");
  AIGC_ASSIGN_OR_RETURN(Tensor up, file.tensor(m.up));
  AIGC_ASSIGN_OR_RETURN(Tensor down, file.tensor(m.down));
  const int64_t out = w.shape[0], rest = w.numel() / std::max<int64_t>(out, 1);
  const int64_t rank = down.n_dims ? down.shape[0] : 0;
  const bool up_ok = up.n_dims >= 2 && up.shape[0] == out && up.shape[1] == rank && up.numel() == out * rank;
  const bool down_ok = down.n_dims >= 2 && rank > 0 && down.numel() == rank * rest;
  if (!up_ok || !down_ok)
    return Status::invalid_argument(file.path() + ": LoRA module '" + key + "': up " + up.shape_string() +
                                    " and down " + down.shape_string() + " do not fit the weight's shape " +
                                    w.shape_string());
  float alpha = static_cast<float>(rank);
  if (!m.alpha.empty()) {
    AIGC_ASSIGN_OR_RETURN(alpha, scalar_value(file, m.alpha));
  }
  Delta d{make_tensor(up.dtype, {out, rank}, up.data), make_tensor(down.dtype, {rank, rest}, down.data), rank,
          static_cast<float>(static_cast<double>(strength) * alpha / static_cast<double>(rank))};
  return d;
}

// acc [out, rest] += d.scale * (up @ down), with matmul (Y = X W^T) on
// X = up [out, rank] and W = down^T [rest, rank]; matmul's results do not
// depend on the thread count.
void add_delta(const Delta& d, int64_t out, int64_t rest, float* acc) {
  std::vector<float> up = to_f32(d.up);
  const std::vector<float> down = to_f32(d.down);
  std::vector<float> down_t(down.size()), product(static_cast<size_t>(out * rest));
  for (int64_t r = 0; r < d.rank; ++r)
    for (int64_t i = 0; i < rest; ++i) down_t[i * d.rank + r] = down[r * rest + i];
  matmul(make_tensor(DType::F32, {out, rest}, product.data()), make_tensor(DType::F32, {rest, d.rank}, down_t.data()),
         make_tensor(DType::F32, {out, d.rank}, up.data()));
  const int64_t n = out * rest;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) acc[i] += d.scale * product[i];
}

}  // namespace

Status apply_loras(SdCheckpoint& ckpt, const std::vector<LoraSpec>& loras, std::vector<LoraReport>* reports) {
  const std::map<std::string, Target> keys = module_keys(ckpt);
  std::vector<SafetensorsFile> files;  // the deltas point into them
  files.reserve(loras.size());
  // (store, weight name) -> its deltas, in the order of `loras`.
  std::map<std::pair<WeightStore*, std::string>, std::vector<Delta>> deltas;
  std::vector<LoraReport> done;

  for (const LoraSpec& spec : loras) {
    AIGC_ASSIGN_OR_RETURN(SafetensorsFile opened, SafetensorsFile::open(spec.path));
    files.push_back(std::move(opened));
    const SafetensorsFile& file = files.back();
    LoraReport report;
    report.path = spec.path;
    auto unmatched = [&](const std::string& name) {
      ++report.n_unmatched_keys;
      if (report.unmatched_examples.size() < kUnmatchedExamples) report.unmatched_examples.push_back(name);
    };
    std::map<std::string, Module> modules;
    for (const SafetensorsTensorInfo& t : file.tensors()) {
      const std::string_view n = t.name;
      if (n.find(".hada_") != n.npos || n.find(".lokr_") != n.npos || n.ends_with(".lora_mid.weight") ||
          n.ends_with(".dora_scale"))
        return Status::unsupported(spec.path + ": '" + t.name +
                                   "' is a LyCORIS LoHa/LoKr/Tucker or DoRA tensor; only plain LoRA and LoCon "
                                   "(lora_up/lora_down) are supported");
      if (n.ends_with(kUpSuffix)) modules[t.name.substr(0, n.size() - kUpSuffix.size())].up = t.name;
      else if (n.ends_with(kDownSuffix)) modules[t.name.substr(0, n.size() - kDownSuffix.size())].down = t.name;
      else if (n.ends_with(kAlphaSuffix)) modules[t.name.substr(0, n.size() - kAlphaSuffix.size())].alpha = t.name;
      else unmatched(t.name);
    }
    for (const auto& [key, m] : modules) {
      auto target = keys.find(key);
      if (target == keys.end()) {
        for (const std::string* name : {&m.up, &m.down, &m.alpha})
          if (!name->empty()) unmatched(*name);
        continue;
      }
      const Tensor& w = *target->second.store->find(target->second.name);
      AIGC_ASSIGN_OR_RETURN(Delta d, module_delta(file, key, m, w, spec.strength));
      deltas[{target->second.store, target->second.name}].push_back(d);
      ++report.n_modules;
    }
    if (report.n_modules == 0) {
      std::string examples;
      for (const std::string& e : report.unmatched_examples) examples += (examples.empty() ? "'" : ", '") + e + "'";
      return Status::invalid_argument(spec.path + ": none of its " + std::to_string(file.tensors().size()) +
                                      " keys names a UNet or text encoder weight of this SD 1.x checkpoint (keys such "
                                      "as " + (examples.empty() ? std::string("none") : examples) + ")");
    }
    done.push_back(std::move(report));
  }

  for (const auto& [target, list] : deltas) {
    const Tensor w = *target.first->find(target.second);
    const int64_t out = w.shape[0], rest = w.numel() / out;
    std::vector<float> acc = to_f32(w);
    for (const Delta& d : list) add_delta(d, out, rest, acc.data());
    Tensor merged = target.first->add_owned(target.second, w.dtype, w.n_dims, w.shape);
    from_f32(acc.data(), merged);
  }
  if (reports) *reports = std::move(done);
  return {};
}

}  // namespace aigc
