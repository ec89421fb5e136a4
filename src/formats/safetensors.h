// safetensors reader: one memory-mapped .safetensors file, or a sharded set
// described by a `*.safetensors.index.json`, checked as hostile input, with
// zero-copy tensor views.
//
// File layout: an 8-byte little-endian header size N, N bytes of UTF-8 JSON
// (an object, possibly padded with trailing spaces), then the data section:
//   {"__metadata__": {"format": "pt"},
//    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
// Offsets are relative to the first byte after the header. Shapes are
// outermost first, as in PyTorch (and as Tensor wants them).
//
// Every field is checked before use: the header size against the file and a
// 100 MB limit, the JSON syntax (duplicate keys included), each entry's dtype,
// shape and offsets, each byte size against dtype x shape (no overflow), and
// the tensors must tile the data section exactly: sorted by offset they start
// at 0, neither overlap nor leave gaps, and end at the end of the file. A bad
// file gives a Status naming the file, the field and the problem, never a
// crash or an allocation larger than the file.
//
// Every dtype of the format is listed (name, shape, bytes); only F32, F16 and
// BF16 can be viewed as a Tensor, others give an Unsupported Status.
//
// SafetensorsFile and SafetensorsSet are move-only and immutable after
// open(): safe to read from many threads at once. Tensor views point into the
// read-only map and stay valid as long as the file (or set) lives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"
#include "core/tensor.h"

namespace aigc {

// The largest JSON header accepted (the same limit as the reference reader).
constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// Bits per element of a safetensors dtype name ("F32" -> 32, "F4" -> 4), or 0
// if the name is not a dtype of the format.
int safetensors_dtype_bits(std::string_view dtype);

// One entry of the header.
struct SafetensorsTensorInfo {
  std::string name;
  std::string dtype;           // as written: "F32", "BF16", "I64", "F8_E4M3", ...
  std::vector<int64_t> shape;  // outermost first; empty for a scalar
  uint64_t begin = 0;          // data_offsets, relative to the data section
  uint64_t end = 0;
  uint64_t nbytes() const { return end - begin; }
  std::string shape_string() const;  // "[2, 3]"
};

class SafetensorsFile {
 public:
  // Maps and checks `path`.
  static Result<SafetensorsFile> open(const std::string& path);
  // Checks an image in memory (for tests and fuzzing); `name` is used in
  // messages. `data` must outlive the result.
  static Result<SafetensorsFile> parse(const uint8_t* data, size_t size, const std::string& name);

  SafetensorsFile(SafetensorsFile&&) noexcept = default;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept = default;

  const std::string& path() const { return path_; }
  uint64_t header_bytes() const { return header_bytes_; }  // N, the JSON header's size
  uint64_t data_bytes() const { return data_bytes_; }      // size of the data section

  // __metadata__, sorted by key.
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
  const std::string* find_metadata(std::string_view key) const;  // nullptr if absent

  // All tensors, sorted by name.
  const std::vector<SafetensorsTensorInfo>& tensors() const { return tensors_; }
  const SafetensorsTensorInfo* find(std::string_view name) const;  // nullptr if absent

  // A contiguous view of tensor `name`: NotFound if absent; Unsupported if its
  // dtype is not F32, F16 or BF16, it has more than kMaxDims dimensions, or
  // its data is not aligned to its element size (copy bytes() instead).
  Result<Tensor> tensor(std::string_view name) const;
  // The raw bytes of tensor `name`, any dtype; NotFound if absent.
  Result<std::span<const uint8_t>> bytes(std::string_view name) const;

 private:
  SafetensorsFile() = default;
  Status parse_header(std::string_view json);
  Status check_layout() const;

  MappedFile file_;               // empty for parse()
  std::string path_;
  const uint8_t* data_ = nullptr;  // start of the data section
  uint64_t header_bytes_ = 0;
  uint64_t data_bytes_ = 0;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::vector<SafetensorsTensorInfo> tensors_;
};

// The parsed contents of a sharded set's index.json (no files opened).
struct SafetensorsIndex {
  // "metadata": strings as they are, other values as compact JSON text
  // ({"total_size": 123} gives "123"); sorted by key.
  std::vector<std::pair<std::string, std::string>> metadata;
  // "weight_map": (tensor name, shard file name), sorted by tensor name.
  std::vector<std::pair<std::string, std::string>> weight_map;
};

// Parses and checks an index.json text: an object with an object
// "weight_map" of string values and an optional object "metadata"; no
// duplicate keys; shard names relative, inside the index's folder (not empty,
// not absolute, no ".." component, no NUL). `name` is used in messages.
Result<SafetensorsIndex> parse_safetensors_index(std::string_view json, const std::string& name);

// A model's tensors: one file, or the shards of a sharded set.
class SafetensorsSet {
 public:
  // A tensor of the set and the shard that holds it.
  struct Entry {
    size_t shard;                       // index into shards()
    const SafetensorsTensorInfo* info;  // owned by shards()[shard]
  };

  // `path` is a .safetensors file, or an index .json whose shards are opened
  // relative to the index's folder. For an index, every tensor of the
  // weight_map must be in its shard, and every tensor of a shard in the
  // weight_map under that shard.
  static Result<SafetensorsSet> open(const std::string& path);

  SafetensorsSet(SafetensorsSet&&) noexcept = default;
  SafetensorsSet& operator=(SafetensorsSet&&) noexcept = default;

  const std::string& path() const { return path_; }
  bool is_sharded() const { return sharded_; }
  // The file's __metadata__, or the index's "metadata"; sorted by key.
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
  const std::vector<SafetensorsFile>& shards() const { return shards_; }

  const std::vector<Entry>& tensors() const { return entries_; }  // sorted by name
  const Entry* find(std::string_view name) const;                  // nullptr if absent
  // As SafetensorsFile::tensor / bytes, in whichever shard holds `name`.
  Result<Tensor> tensor(std::string_view name) const;
  Result<std::span<const uint8_t>> bytes(std::string_view name) const;

 private:
  SafetensorsSet() = default;
  Status open_index(const std::string& path);

  std::string path_;
  bool sharded_ = false;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::vector<SafetensorsFile> shards_;
  std::vector<Entry> entries_;
};

}  // namespace aigc
