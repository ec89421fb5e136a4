// ScratchBuffer: a grow-only, 64-byte aligned buffer for one thread's
// temporary kernel data (GEMM packing). Calls of an already-seen size do not
// allocate.
#pragma once

#include <cstddef>
#include <cstdlib>

#include "core/assert.h"

namespace aigc {

class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ~ScratchBuffer() { std::free(data_); }

  // At least `count` elements of T, uninitialised.
  template <class T>
  T* get(size_t count) {
    const size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
    if (bytes > capacity_) {
      std::free(data_);
      data_ = std::aligned_alloc(64, bytes);
      AIGC_ASSERT(data_ != nullptr);
      capacity_ = bytes;
    }
    return static_cast<T*>(data_);
  }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace aigc
