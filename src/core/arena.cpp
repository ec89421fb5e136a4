// Arena: bump allocation over one aligned block.
#include "core/arena.h"

#include <cstdlib>

#include "core/assert.h"

namespace aigc {

constexpr size_t kArenaAlign = 64;

Arena::Arena(size_t capacity_bytes) : capacity_((capacity_bytes + kArenaAlign - 1) / kArenaAlign * kArenaAlign) {
  base_ = static_cast<uint8_t*>(std::aligned_alloc(kArenaAlign, capacity_ ? capacity_ : kArenaAlign));
  AIGC_ASSERT(base_ != nullptr);
}

Arena::~Arena() { std::free(base_); }

void* Arena::alloc(size_t bytes) {
  const size_t size = (bytes + kArenaAlign - 1) / kArenaAlign * kArenaAlign;
  AIGC_ASSERT(size >= bytes && size <= capacity_ - used_);
  void* p = base_ + used_;
  used_ += size;
  if (used_ > high_water_) high_water_ = used_;
  return p;
}

Tensor Arena::alloc_tensor(DType dtype, std::initializer_list<int64_t> shape) {
  Tensor t = make_tensor(dtype, shape, nullptr);
  t.data = alloc(t.nbytes());
  return t;
}

}  // namespace aigc
