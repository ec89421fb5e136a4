// Tensor: shape arithmetic and contiguous view construction.
#include "core/tensor.h"

#include "core/assert.h"

namespace aigc {

int64_t Tensor::rows() const {
  int64_t r = 1;
  for (int i = 0; i + 1 < n_dims; ++i) r *= shape[i];
  return r;
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int i = 0; i < n_dims; ++i) n *= shape[i];
  return n;
}

uint64_t Tensor::row_bytes() const {
  auto b = dtype_row_bytes(dtype, cols());
  AIGC_ASSERT(b.has_value());
  return *b;
}

uint64_t Tensor::nbytes() const { return row_bytes() * uint64_t(rows()); }

bool Tensor::is_contiguous() const {
  if (n_dims == 0) return true;
  uint64_t expect = row_bytes();
  for (int i = n_dims - 2; i >= 0; --i) {
    if (uint64_t(stride[i]) != expect) return false;
    expect *= uint64_t(shape[i]);
  }
  return true;
}

std::string Tensor::shape_string() const {
  std::string s = "[";
  for (int i = 0; i < n_dims; ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Tensor make_tensor(DType dtype, int n_dims, const int64_t* shape, void* data) {
  AIGC_ASSERT(n_dims >= 0 && n_dims <= kMaxDims);
  Tensor t;
  t.dtype = dtype;
  t.n_dims = n_dims;
  t.data = data;
  for (int i = 0; i < n_dims; ++i) t.shape[i] = shape[i];
  if (n_dims == 0) return t;
  const DTypeTraits* tr = dtype_traits(dtype);
  AIGC_ASSERT(tr != nullptr);
  t.stride[n_dims - 1] = tr->block_size == 1 ? tr->block_bytes : 0;
  auto rb = dtype_row_bytes(dtype, shape[n_dims - 1]);
  AIGC_ASSERT(rb.has_value());
  int64_t s = int64_t(*rb);
  for (int i = n_dims - 2; i >= 0; --i) {
    t.stride[i] = s;
    s *= shape[i];
  }
  return t;
}

Tensor make_tensor(DType dtype, std::initializer_list<int64_t> shape, void* data) {
  return make_tensor(dtype, int(shape.size()), shape.begin(), data);
}

}  // namespace aigc
