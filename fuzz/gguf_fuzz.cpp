// libFuzzer target for the GGUF reader: each input is parsed as a GGUF image;
// when it parses, every metadata value, array element and tensor byte is
// read and the summary printed, so ASan sees any view that leaves the input.
// Seeds: fuzz/seeds/gguf/ (written by GgufSeeds.DISABLED_WriteFuzzSeeds).
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "core/assert.h"
#include "formats/gguf.h"
#include "formats/gguf_print.h"

namespace {

// Reads every element of `v`, nested arrays included; returns a checksum.
uint64_t touch(const aigc::GgufValue& v) {
  uint64_t sum = v.u + uint64_t(v.i);
  for (char c : v.str) sum += uint8_t(c);
  if (v.type == aigc::GgufType::kArray) {
    for (uint64_t j = 0; j < v.size(); ++j) sum += touch(v.at(j));
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::FILE* sink = std::fopen("/dev/null", "w");
  AIGC_ASSERT(sink != nullptr);

  aigc::Result<aigc::GgufFile> file = aigc::GgufFile::parse(data, size, "fuzz.gguf");
  if (!file.ok()) {
    AIGC_ASSERT(!file.status().message().empty());
    return 0;
  }
  uint64_t sum = 0;
  for (const auto& [key, value] : file->metadata()) {
    sum += touch(value);
    AIGC_ASSERT(file->find(key) == &value);
  }
  for (const aigc::GgufTensorInfo& t : file->tensors()) {
    const uint8_t* p = static_cast<const uint8_t*>(t.tensor.data);
    AIGC_ASSERT(p >= data && p + t.nbytes <= data + size);
    AIGC_ASSERT(t.tensor.nbytes() == t.nbytes);
    AIGC_ASSERT(file->find_tensor(t.name) == &t);
    for (uint64_t j = 0; j < t.nbytes; ++j) sum += p[j];
  }
  std::fprintf(sink, "%llu\n", static_cast<unsigned long long>(sum));
  aigc::gguf_print_summary(*file, sink);
  return 0;
}
