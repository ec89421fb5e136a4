// GGUF reader and writer: a memory-mapped GGUF file (v2 or v3), checked as
// hostile input, with typed metadata accessors and zero-copy tensor views;
// and a writer of GGUF v3 files.
//
// Every size, count, string length and offset is checked against the file
// before use; a bad file gives a Status naming the file, the field and the
// problem, never a crash. No allocation is sized by a count from the file
// before that count is checked against the bytes left: strings, arrays of
// numbers and arrays of strings stay views into the file, so parsed metadata
// takes at most a small multiple of the file's size. A GgufFile is immutable
// after open(): safe to read from many threads at once.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"
#include "core/tensor.h"

namespace aigc {

// GGUF metadata value types (gguf_type); persisted ids.
enum class GgufType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5,
  kFloat32 = 6, kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};
const char* gguf_type_name(GgufType t);  // "uint32", "string", ...; "unknown" for other ids
// Bytes of one value of a fixed-size type (numbers, bool); 0 for string and array.
size_t gguf_type_size(GgufType t);

// One metadata value. Scalars are widened into i/u/f; strings are views into
// the mapped file (or into the writer's storage).
//
// Arrays: `count` elements of `elem_type`. Arrays read from a file stay in
// the file where they can, so a value never takes more memory than its bytes:
// fixed-size elements (numbers, bools) are packed little-endian at `raw`;
// for strings, `raw` points at the first element and offsets[j] is where
// element j starts, relative to `raw`; arrays of arrays hold their elements
// in `array`. Use size() and at() to read any kind. To build an array value
// for GgufWriter, fill `array` (any element type) and leave `raw` null.
struct GgufValue {
  GgufType type = GgufType::kUint8;
  GgufType elem_type = GgufType::kUint8;  // for kArray
  int64_t i = 0;                 // signed integer types and bool
  uint64_t u = 0;                // unsigned integer types
  double f = 0;                  // float types
  std::string_view str;          // kString
  std::vector<GgufValue> array;  // kArray of arrays (or of any type, when built by hand)
  const uint8_t* raw = nullptr;  // kArray of fixed-size elements or strings, as read from a file
  uint64_t count = 0;            // kArray: number of elements when `raw` is set
  std::vector<uint64_t> offsets; // kArray of strings read from a file: element starts

  uint64_t size() const { return raw ? count : array.size(); }  // array elements
  GgufValue at(uint64_t index) const;                           // index < size()
};

struct GgufTensorInfo {
  std::string name;
  Tensor tensor;        // shape outermost first (GGUF's ne reversed); data points into the map
  uint64_t offset = 0;  // relative to the data section
  uint64_t nbytes = 0;
};

// Arrays may nest at most this deep (an array of arrays is depth 2).
constexpr int kGgufMaxArrayDepth = 8;

class GgufFile {
 public:
  static Result<GgufFile> open(const std::string& path);
  // Parses a GGUF image in memory (for fuzzing); `data` must outlive the result.
  static Result<GgufFile> parse(const uint8_t* data, size_t size, const std::string& name);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const std::string& path() const { return path_; }
  uint64_t data_offset() const { return data_offset_; }  // file offset of the data section

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;  // nullptr if absent
  // Typed accessors: NotFound if absent, InvalidArgument naming the key and
  // both types if the stored type does not fit.
  Result<std::string> get_string(std::string_view key) const;
  Result<int64_t> get_int(std::string_view key) const;      // any integer type that fits
  Result<uint64_t> get_uint(std::string_view key) const;    // any non-negative integer
  Result<double> get_float(std::string_view key) const;     // float or integer types
  Result<bool> get_bool(std::string_view key) const;
  Result<std::vector<std::string>> get_string_array(std::string_view key) const;
  Result<std::vector<float>> get_float_array(std::string_view key) const;   // float or integer elements
  Result<std::vector<int64_t>> get_int_array(std::string_view key) const;   // integer elements that fit

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;  // nullptr if absent

 private:
  class Parser;

  MappedFile file_;
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

// GGUF writer: collects metadata and tensors, then writes a GGUF v3 file with
// every tensor's data aligned to the alignment, in the order added. Adding a
// key that exists replaces its value in place. The writer copies everything
// it is given (strings, arrays, tensor bytes).
class GgufWriter {
 public:
  // A nonzero power of two that fits in uint32; written as general.alignment
  // (uint32) unless it is the default 32.
  void set_alignment(uint64_t a);
  void add_string(std::string key, std::string value);
  void add_uint32(std::string key, uint32_t value);
  void add_int32(std::string key, int32_t value);
  void add_uint64(std::string key, uint64_t value);
  void add_float32(std::string key, float value);
  void add_bool(std::string key, bool value);
  void add_value(std::string key, GgufValue value);  // any type, arrays included
  void add_string_array(std::string key, const std::vector<std::string>& values);
  void add_float_array(std::string key, const std::vector<float>& values);
  void add_int32_array(std::string key, const std::vector<int32_t>& values);
  // Copies `data` (row_bytes x rows of `dtype`); shape outermost first.
  // InvalidArgument for a duplicate or empty name, a bad shape or a size
  // that does not match.
  Status add_tensor(std::string name, DType dtype, std::vector<int64_t> shape, const void* data, size_t nbytes);
  // Takes `bytes` without copying (std::move a buffer in to save a copy).
  Status add_tensor(std::string name, DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes);
  // Writes `path` (via a temporary file renamed into place).
  Status write(const std::string& path) const;

 private:
  struct PendingTensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;  // outermost first
    std::vector<uint8_t> bytes;
  };
  // InvalidArgument naming the tensor unless add_tensor() may take it.
  Status check_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape, uint64_t nbytes) const;
  // Deep-copies the strings and raw bytes `v` points to into storage_.
  void own(GgufValue& v);

  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::deque<std::string> storage_;  // backing for string_views and raw arrays in kv_
  std::vector<PendingTensor> tensors_;
};

}  // namespace aigc
