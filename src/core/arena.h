// Arena: a bump allocator for activations, sized once per model and reset
// between forward passes. Allocations are 64-byte aligned (one cache line,
// one AVX-512 register). Not thread-safe: one arena per forward pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/tensor.h"

namespace aigc {

class Arena {
 public:
  explicit Arena(size_t capacity_bytes);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // 64-byte aligned, uninitialised. Aborts if the arena is too small: the
  // arena is sized from the model's shapes, so running out is a programmer error.
  void* alloc(size_t bytes);
  Tensor alloc_tensor(DType dtype, std::initializer_list<int64_t> shape);
  void reset() { used_ = 0; }
  size_t used() const { return used_; }
  size_t capacity() const { return capacity_; }
  size_t high_water() const { return high_water_; }

 private:
  uint8_t* base_ = nullptr;
  size_t capacity_ = 0;
  size_t used_ = 0;
  size_t high_water_ = 0;
};

}  // namespace aigc
