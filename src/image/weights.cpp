// WeightStore: named weight views and owned copies of one SD component.
#include "image/weights.h"

#include <cstring>

#include "formats/safetensors.h"

namespace aigc {

size_t WeightStore::add_from_safetensors(const SafetensorsFile& file, std::string_view prefix) {
  size_t added = 0;
  for (const SafetensorsTensorInfo& info : file.tensors()) {
    if (!std::string_view(info.name).starts_with(prefix)) continue;
    Result<Tensor> t = file.tensor(info.name);
    if (!t.ok()) continue;
    tensors_[info.name.substr(prefix.size())] = t.value();
    ++added;
  }
  return added;
}

Tensor WeightStore::add_owned(const std::string& name, DType dtype, std::initializer_list<int64_t> shape) {
  return add_owned(name, dtype, static_cast<int>(shape.size()), shape.begin());
}

Tensor WeightStore::add_owned(const std::string& name, DType dtype, int n_dims, const int64_t* shape) {
  Tensor probe = make_tensor(dtype, n_dims, shape, nullptr);
  const uint64_t bytes = probe.nbytes();
  owned_.push_back(std::make_unique<uint8_t[]>(bytes ? bytes : 1));
  std::memset(owned_.back().get(), 0, bytes);
  probe.data = owned_.back().get();
  tensors_[name] = probe;
  return probe;
}

const Tensor* WeightStore::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

Result<Tensor> WeightStore::get(const std::string& name) const {
  const Tensor* t = find(name);
  if (!t) return Status::not_found(component_ + ": missing tensor '" + name + "'");
  return *t;
}

Result<Tensor> WeightStore::get(const std::string& name, std::initializer_list<int64_t> shape) const {
  AIGC_ASSIGN_OR_RETURN(Tensor t, get(name));
  bool same = t.n_dims == static_cast<int>(shape.size());
  for (int i = 0; same && i < t.n_dims; ++i) same = t.shape[i] == shape.begin()[i];
  if (!same) {
    std::string want = "[";
    for (int64_t d : shape) want += (want.size() > 1 ? ", " : "") + std::to_string(d);
    return Status::invalid_argument(component_ + ": tensor '" + name + "' has shape " + t.shape_string() +
                                   ", expected " + want + "]");
  }
  return t;
}

}  // namespace aigc
