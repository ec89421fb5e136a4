// libFuzzer target for the .npy reader: parsed arrays must hold exactly the
// shape's element count and re-encode to a file that parses to the same array.
// Seeds: fuzz/seeds/npy/ (numpy-written files from codecs_ref.py).
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/assert.h"
#include "image/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aigc::Result<aigc::NpyArray> a = aigc::parse_npy(data, size, "fuzz.npy");
  if (!a.ok()) return 0;
  uint64_t count = 1;
  for (int64_t d : a->shape) count *= uint64_t(d);
  AIGC_ASSERT(count == a->data.size());
  aigc::Result<std::vector<uint8_t>> bytes = aigc::encode_npy(*a);
  AIGC_ASSERT(bytes.ok());
  aigc::Result<aigc::NpyArray> b = aigc::parse_npy(bytes->data(), bytes->size(), "re-encoded.npy");
  AIGC_ASSERT(b.ok() && b->shape == a->shape && b->data.size() == a->data.size());
  for (size_t i = 0; i < a->data.size(); ++i) {
    AIGC_ASSERT(b->data[i] == a->data[i] || (std::isnan(a->data[i]) && std::isnan(b->data[i])));
  }
  return 0;
}
