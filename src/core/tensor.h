// Tensor: a typed, strided view of memory it does not own (a memory-mapped
// file, an arena, a std::vector).
//
// Shape is outermost first, as in PyTorch: a GGUF weight with ne = [n_embd,
// n_vocab] is shape {n_vocab, n_embd}. stride[i] is in bytes. The innermost
// dimension of a quantized tensor is always contiguous (its elements live in
// blocks), so stride[n_dims-1] is the element size only for plain types.
// A Tensor is a value: copying it copies the view, never the data.
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.h"

namespace aigc {

constexpr int kMaxDims = 4;

struct Tensor {
  DType dtype = DType::F32;
  int n_dims = 0;
  int64_t shape[kMaxDims] = {1, 1, 1, 1};
  int64_t stride[kMaxDims] = {0, 0, 0, 0};  // bytes
  void* data = nullptr;

  int64_t rows() const;          // product of all but the innermost dimension
  int64_t cols() const { return n_dims ? shape[n_dims - 1] : 1; }
  int64_t numel() const;
  uint64_t row_bytes() const;    // bytes of one contiguous innermost row
  uint64_t nbytes() const;       // bytes of the whole tensor if contiguous
  bool is_contiguous() const;
  std::string shape_string() const;  // "[32000, 2048]"

  template <class T> T* ptr() const { return static_cast<T*>(data); }
  // Start of row r (r indexes the flattened outer dimensions; contiguous outer dims).
  void* row(int64_t r) const { return static_cast<char*>(data) + r * stride[n_dims > 1 ? n_dims - 2 : 0]; }
};

// A contiguous tensor view over `data` with the given shape (outermost first).
// The shape must be valid for the type (innermost a multiple of the block size).
Tensor make_tensor(DType dtype, std::initializer_list<int64_t> shape, void* data);
Tensor make_tensor(DType dtype, int n_dims, const int64_t* shape, void* data);

}  // namespace aigc
