// libFuzzer target for the safetensors reader: each input is tried as a
// .safetensors image (header, tiling, tensor views, summary printing) and as
// a sharded set's index.json text. Seeds: fuzz/seeds/safetensors/ (written by
// tools/reference/write_safetensors.py).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "core/assert.h"
#include "formats/safetensors.h"
#include "formats/safetensors_print.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::FILE* sink = std::fopen("/dev/null", "w");
  AIGC_ASSERT(sink != nullptr);

  aigc::Result<aigc::SafetensorsFile> file = aigc::SafetensorsFile::parse(data, size, "fuzz.safetensors");
  if (file.ok()) {
    uint64_t total = 0;
    for (const aigc::SafetensorsTensorInfo& t : file->tensors()) {
      aigc::Result<std::span<const uint8_t>> bytes = file->bytes(t.name);
      AIGC_ASSERT(bytes.ok() && bytes->data() >= data && bytes->data() + bytes->size() <= data + size);
      for (uint8_t b : *bytes) total += b;
      aigc::Result<aigc::Tensor> tensor = file->tensor(t.name);
      if (tensor.ok()) AIGC_ASSERT(tensor->nbytes() == t.nbytes());
    }
    AIGC_ASSERT(total <= 255 * uint64_t(size));
    aigc::safetensors_print_summary(*file, sink);
  }

  const std::string_view text(reinterpret_cast<const char*>(data), size);
  aigc::Result<aigc::SafetensorsIndex> index = aigc::parse_safetensors_index(text, "fuzz.index.json");
  if (index.ok()) {
    for (const auto& [tensor, shard] : index->weight_map) {
      AIGC_ASSERT(!shard.empty() && shard[0] != '/');
    }
  }
  return 0;
}
