// GGUF reader: parses and checks the header, metadata and tensor infos of a
// GGUF v2/v3 image, then lays tensor views over its data section.
#include "formats/gguf.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>

#include "core/assert.h"

namespace aigc {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read little-endian
constexpr const char* kAlignmentKey = "general.alignment";
// Smallest encodings, for bounding counts by the bytes left: a key/value pair
// is a key length, a type and a 1-byte value; a tensor info is a name length,
// n_dims, one dim, a type and an offset.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
constexpr uint64_t kMinArrayBytes = 4 + 8;

template <class T>
T load_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

bool is_known_type(uint32_t t) { return t <= uint32_t(GgufType::kFloat64); }

bool is_signed_int(GgufType t) {
  return t == GgufType::kInt8 || t == GgufType::kInt16 || t == GgufType::kInt32 || t == GgufType::kInt64;
}
bool is_unsigned_int(GgufType t) {
  return t == GgufType::kUint8 || t == GgufType::kUint16 || t == GgufType::kUint32 || t == GgufType::kUint64;
}
bool is_float(GgufType t) { return t == GgufType::kFloat32 || t == GgufType::kFloat64; }

// Decodes one fixed-size value of type `t` at `p`.
GgufValue decode_scalar(GgufType t, const uint8_t* p) {
  GgufValue v;
  v.type = t;
  switch (t) {
    case GgufType::kUint8: v.u = p[0]; break;
    case GgufType::kInt8: v.i = int8_t(p[0]); break;
    case GgufType::kUint16: v.u = load_le<uint16_t>(p); break;
    case GgufType::kInt16: v.i = load_le<int16_t>(p); break;
    case GgufType::kUint32: v.u = load_le<uint32_t>(p); break;
    case GgufType::kInt32: v.i = load_le<int32_t>(p); break;
    case GgufType::kFloat32: v.f = load_le<float>(p); break;
    case GgufType::kBool: v.i = p[0]; break;
    case GgufType::kUint64: v.u = load_le<uint64_t>(p); break;
    case GgufType::kInt64: v.i = load_le<int64_t>(p); break;
    case GgufType::kFloat64: v.f = load_le<double>(p); break;
    case GgufType::kString:
    case GgufType::kArray: break;
  }
  return v;
}

// A name from the file, quoted for a message: printable ASCII, cut if long.
std::string quoted(std::string_view s) {
  constexpr size_t kMax = 96;
  std::string r = "'";
  for (char c : s.substr(0, kMax)) r += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > kMax) r += "...";
  return r + "'";
}

std::string type_string(const GgufValue& v) {
  if (v.type != GgufType::kArray) return gguf_type_name(v.type);
  return std::string("array of ") + gguf_type_name(v.elem_type);
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::kUint8: return "uint8";
    case GgufType::kInt8: return "int8";
    case GgufType::kUint16: return "uint16";
    case GgufType::kInt16: return "int16";
    case GgufType::kUint32: return "uint32";
    case GgufType::kInt32: return "int32";
    case GgufType::kFloat32: return "float32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kUint64: return "uint64";
    case GgufType::kInt64: return "int64";
    case GgufType::kFloat64: return "float64";
  }
  return "unknown";
}

size_t gguf_type_size(GgufType t) {
  switch (t) {
    case GgufType::kUint8: case GgufType::kInt8: case GgufType::kBool: return 1;
    case GgufType::kUint16: case GgufType::kInt16: return 2;
    case GgufType::kUint32: case GgufType::kInt32: case GgufType::kFloat32: return 4;
    case GgufType::kUint64: case GgufType::kInt64: case GgufType::kFloat64: return 8;
    case GgufType::kString: case GgufType::kArray: return 0;
  }
  return 0;
}

GgufValue GgufValue::at(uint64_t index) const {
  AIGC_ASSERT(type == GgufType::kArray && index < size());
  if (!raw) return array[size_t(index)];
  if (elem_type != GgufType::kString) return decode_scalar(elem_type, raw + index * gguf_type_size(elem_type));
  // The reader checked each element: a length, then that many bytes.
  const uint8_t* p = raw + offsets[size_t(index)];
  GgufValue v;
  v.type = GgufType::kString;
  v.str = std::string_view(reinterpret_cast<const char*>(p + 8), size_t(load_le<uint64_t>(p)));
  return v;
}

// ---------------------------------------------------------------- Parser

// Reads a GGUF image front to back; every read is checked against the bytes
// left, and every error names the file and the field being read.
class GgufFile::Parser {
 public:
  Parser(const uint8_t* data, size_t size, GgufFile* out) : data_(data), size_(size), f_(out) {}

  Status run() {
    AIGC_RETURN_IF_ERROR(read_header());
    for (uint64_t k = 0; k < n_kv_; ++k) AIGC_RETURN_IF_ERROR(read_kv(k));
    AIGC_RETURN_IF_ERROR(read_alignment());
    for (uint64_t t = 0; t < n_tensors_; ++t) AIGC_RETURN_IF_ERROR(read_tensor_info(t));
    return place_tensors();
  }

 private:
  Status fail(const std::string& field, const std::string& problem) const {
    return Status::corruption(f_->path_ + ": " + field + ": " + problem);
  }
  Status truncated(const std::string& field, uint64_t need) const {
    return fail(field, "needs " + std::to_string(need) + " bytes at offset " + std::to_string(pos_) + ", but only " +
                           std::to_string(remaining()) + " remain (truncated file)");
  }
  uint64_t remaining() const { return size_ - pos_; }

  template <class T>
  Status read(const std::string& field, T* out) {
    if (remaining() < sizeof(T)) return truncated(field, sizeof(T));
    *out = load_le<T>(data_ + pos_);
    pos_ += sizeof(T);
    return Status();
  }

  Status read_string(const std::string& field, std::string_view* out) {
    uint64_t n = 0;
    AIGC_RETURN_IF_ERROR(read(field + " length", &n));
    if (n > remaining()) {
      return fail(field, "string length " + std::to_string(n) + " is beyond the end of the file (" +
                             std::to_string(remaining()) + " bytes remain)");
    }
    *out = std::string_view(reinterpret_cast<const char*>(data_ + pos_), size_t(n));
    pos_ += n;
    return Status();
  }

  // A count of elements of at least `min_bytes` each must fit in the bytes left.
  Status check_count(const std::string& field, uint64_t count, uint64_t min_bytes) const {
    if (count > remaining() / min_bytes) {
      return fail(field, "count " + std::to_string(count) + " cannot fit in the " + std::to_string(remaining()) +
                             " bytes that remain (at least " + std::to_string(min_bytes) + " bytes each)");
    }
    return Status();
  }

  Status read_header() {
    const std::string& name = f_->path_;
    if (size_ < 4) {
      return Status::corruption(name + ": file is " + std::to_string(size_) + " bytes, too short for the GGUF magic");
    }
    uint32_t magic = 0;
    AIGC_RETURN_IF_ERROR(read("magic", &magic));
    if (magic != kMagic) {
      char hex[16];
      std::snprintf(hex, sizeof(hex), "0x%08x", magic);
      return fail("magic", std::string("is ") + hex + " " + quoted(std::string_view(
                               reinterpret_cast<const char*>(data_), 4)) + ", expected 'GGUF' (not a GGUF file)");
    }
    AIGC_RETURN_IF_ERROR(read("version", &f_->version_));
    const uint32_t v = f_->version_;
    if (v == 1) {
      return Status::unsupported(name + ": version: GGUF version 1 is not supported (only 2 and 3); "
                                        "convert the file with a current llama.cpp");
    }
    if (v != 2 && v != 3) {
      std::string why = name + ": version: GGUF version " + std::to_string(v) + " is not supported (only 2 and 3)";
      if (__builtin_bswap32(v) == 2 || __builtin_bswap32(v) == 3) why += "; the file looks big-endian";
      return Status::unsupported(why);
    }
    AIGC_RETURN_IF_ERROR(read("tensor_count", &n_tensors_));
    AIGC_RETURN_IF_ERROR(read("metadata_kv_count", &n_kv_));
    AIGC_RETURN_IF_ERROR(check_count("metadata_kv_count", n_kv_, kMinKvBytes));
    // Both lists follow; the tensor infos alone must fit in what the smallest kvs leave.
    AIGC_RETURN_IF_ERROR(check_count("tensor_count", n_tensors_, kMinTensorInfoBytes));
    if (n_tensors_ > (remaining() - n_kv_ * kMinKvBytes) / kMinTensorInfoBytes) {
      return fail("tensor_count", "count " + std::to_string(n_tensors_) + " with " + std::to_string(n_kv_) +
                                      " metadata entries cannot fit in the " + std::to_string(remaining()) +
                                      " bytes that remain");
    }
    // Lists grow as entries are read, never by the stated counts.
    return Status();
  }

  Status read_kv(uint64_t k) {
    const std::string field = "metadata entry " + std::to_string(k);
    std::string_view key;
    AIGC_RETURN_IF_ERROR(read_string(field + " key", &key));
    if (key.empty()) return fail(field + " key", "is empty");
    const std::string where = "metadata " + quoted(key);
    if (f_->kv_index_.count(std::string(key))) return fail(where, "duplicate key");
    uint32_t type = 0;
    AIGC_RETURN_IF_ERROR(read(where + " type", &type));
    GgufValue value;
    AIGC_RETURN_IF_ERROR(read_value(where, type, 0, &value));
    f_->kv_index_.emplace(std::string(key), f_->kv_.size());
    f_->kv_.emplace_back(std::string(key), std::move(value));
    return Status();
  }

  // One value of type id `type`; `depth` counts the arrays it is inside.
  Status read_value(const std::string& where, uint32_t type, int depth, GgufValue* out) {
    if (!is_known_type(type)) return fail(where, "unknown value type " + std::to_string(type));
    const GgufType t = GgufType(type);
    out->type = t;
    if (t == GgufType::kString) return read_string(where, &out->str);
    if (t != GgufType::kArray) {
      const size_t n = gguf_type_size(t);
      if (remaining() < n) return truncated(where + " (" + gguf_type_name(t) + ")", n);
      *out = decode_scalar(t, data_ + pos_);
      if (t == GgufType::kBool && out->i > 1) {
        return fail(where, "bool value is " + std::to_string(out->i) + ", expected 0 or 1");
      }
      pos_ += n;
      return Status();
    }
    if (depth + 1 > kGgufMaxArrayDepth) {
      return fail(where, "arrays nested deeper than " + std::to_string(kGgufMaxArrayDepth) + " levels");
    }
    uint32_t elem = 0;
    AIGC_RETURN_IF_ERROR(read(where + " array element type", &elem));
    if (!is_known_type(elem)) return fail(where, "unknown array element type " + std::to_string(elem));
    out->elem_type = GgufType(elem);
    uint64_t count = 0;
    AIGC_RETURN_IF_ERROR(read(where + " array count", &count));
    const size_t elem_size = gguf_type_size(out->elem_type);
    if (elem_size != 0) {
      AIGC_RETURN_IF_ERROR(check_count(where + " array", count, elem_size));
      if (out->elem_type == GgufType::kBool) {
        for (uint64_t j = 0; j < count; ++j) {
          if (data_[pos_ + j] > 1) {
            return fail(where + " element " + std::to_string(j),
                        "bool value is " + std::to_string(data_[pos_ + j]) + ", expected 0 or 1");
          }
        }
      }
      out->raw = data_ + pos_;
      out->count = count;
      pos_ += count * elem_size;
      return Status();
    }
    if (out->elem_type == GgufType::kString) {
      AIGC_RETURN_IF_ERROR(check_count(where + " array", count, 8));
      out->raw = data_ + pos_;
      out->count = count;
      out->offsets.resize(size_t(count));  // 8 bytes per element of at least 8 bytes
      // Element names are built only on failure: vocabularies hold 10^5 strings.
      for (uint64_t j = 0; j < count; ++j) {
        out->offsets[j] = uint64_t(data_ + pos_ - out->raw);
        uint64_t n = 0;
        if (remaining() < 8 || (n = load_le<uint64_t>(data_ + pos_)) > remaining() - 8) {
          std::string_view s;
          return read_string(where + " element " + std::to_string(j), &s);  // reports the problem
        }
        pos_ += 8 + n;
      }
      return Status();
    }
    AIGC_RETURN_IF_ERROR(check_count(where + " array", count, kMinArrayBytes));
    for (uint64_t j = 0; j < count; ++j) {
      GgufValue e;
      AIGC_RETURN_IF_ERROR(read_value(where + " element " + std::to_string(j), elem, depth + 1, &e));
      out->array.push_back(std::move(e));
    }
    return Status();
  }

  Status read_alignment() {
    const GgufValue* a = f_->find(kAlignmentKey);
    if (!a) return Status();
    const std::string where = std::string("metadata '") + kAlignmentKey + "'";
    if (a->type != GgufType::kUint32) return fail(where, std::string("is ") + type_string(*a) + ", expected uint32");
    if (a->u == 0 || !std::has_single_bit(a->u)) {
      return fail(where, "alignment " + std::to_string(a->u) + " is not a nonzero power of two");
    }
    f_->alignment_ = a->u;
    return Status();
  }

  Status read_tensor_info(uint64_t t) {
    const std::string field = "tensor " + std::to_string(t);
    std::string_view name;
    AIGC_RETURN_IF_ERROR(read_string(field + " name", &name));
    const std::string where = "tensor " + quoted(name);
    if (f_->tensor_index_.count(std::string(name))) return fail(where, "duplicate tensor name");
    uint32_t n_dims = 0;
    AIGC_RETURN_IF_ERROR(read(where + " n_dims", &n_dims));
    if (n_dims < 1 || n_dims > uint32_t(kMaxDims)) {
      return fail(where, "n_dims " + std::to_string(n_dims) + " is out of range 1.." + std::to_string(kMaxDims));
    }
    int64_t ne[kMaxDims] = {1, 1, 1, 1};  // innermost first, as stored
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t n = 0;
      AIGC_RETURN_IF_ERROR(read(where + " ne[" + std::to_string(d) + "]", &n));
      if (n == 0 || n > uint64_t(std::numeric_limits<int64_t>::max())) {
        return fail(where, "ne[" + std::to_string(d) + "] = " + std::to_string(int64_t(n)) + " is not positive");
      }
      if (numel > uint64_t(std::numeric_limits<int64_t>::max()) / n) {
        return fail(where, "element count overflows int64 at ne[" + std::to_string(d) + "] = " + std::to_string(n));
      }
      numel *= n;
      ne[d] = int64_t(n);
    }
    uint32_t type_id = 0;
    AIGC_RETURN_IF_ERROR(read(where + " type", &type_id));
    const std::optional<DType> dtype = dtype_from_id(type_id);
    if (!dtype || !dtype_traits(*dtype)) {
      return Status::unsupported(f_->path_ + ": " + where + ": unknown or unsupported tensor type " +
                                 std::to_string(type_id));
    }
    const DTypeTraits* tr = dtype_traits(*dtype);
    if (ne[0] % tr->block_size != 0) {
      return fail(where, "innermost dimension ne[0] = " + std::to_string(ne[0]) + " is not a multiple of " +
                             tr->name + "'s block size " + std::to_string(tr->block_size));
    }
    const std::optional<uint64_t> row_bytes = dtype_row_bytes(*dtype, ne[0]);
    const uint64_t rows = numel / uint64_t(ne[0]);
    if (!row_bytes || (rows != 0 && *row_bytes > std::numeric_limits<uint64_t>::max() / rows)) {
      return fail(where, "byte size overflows (" + std::string(tr->name) + ", " + std::to_string(numel) +
                             " elements)");
    }
    uint64_t offset = 0;
    AIGC_RETURN_IF_ERROR(read(where + " offset", &offset));
    if (offset % f_->alignment_ != 0) {
      return fail(where, "offset " + std::to_string(offset) + " is not a multiple of the alignment " +
                             std::to_string(f_->alignment_));
    }
    GgufTensorInfo info;
    info.name = std::string(name);
    info.offset = offset;
    info.nbytes = *row_bytes * rows;
    info.tensor.dtype = *dtype;
    info.tensor.n_dims = int(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) info.tensor.shape[d] = ne[n_dims - 1 - d];
    f_->tensor_index_.emplace(info.name, f_->tensors_.size());
    f_->tensors_.push_back(std::move(info));
    return Status();
  }

  // Checks every tensor lies inside the data section without overlapping
  // another, then points its view at the data.
  Status place_tensors() {
    const uint64_t a = f_->alignment_;
    const uint64_t data_start = (uint64_t(pos_) + a - 1) / a * a;  // pos_ <= size_, no overflow
    f_->data_offset_ = data_start;
    if (f_->tensors_.empty()) return Status();
    const uint64_t data_bytes = data_start <= size_ ? size_ - data_start : 0;
    std::vector<const GgufTensorInfo*> by_offset;
    by_offset.reserve(f_->tensors_.size());
    for (GgufTensorInfo& t : f_->tensors_) {
      const std::string where = "tensor " + quoted(t.name);
      if (t.offset > data_bytes || t.nbytes > data_bytes - t.offset) {
        return fail(where, "data at offset " + std::to_string(t.offset) + " + " + std::to_string(t.nbytes) +
                               " bytes runs past the end of the data section (" + std::to_string(data_bytes) +
                               " bytes from file offset " + std::to_string(data_start) + ")");
      }
      uint8_t* p = const_cast<uint8_t*>(data_ + data_start + t.offset);
      t.tensor = make_tensor(t.tensor.dtype, t.tensor.n_dims, t.tensor.shape, p);
      by_offset.push_back(&t);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const GgufTensorInfo* x, const GgufTensorInfo* y) { return x->offset < y->offset; });
    for (size_t j = 1; j < by_offset.size(); ++j) {
      const GgufTensorInfo* prev = by_offset[j - 1];
      const GgufTensorInfo* cur = by_offset[j];
      if (prev->offset + prev->nbytes > cur->offset) {
        return fail("tensor " + quoted(cur->name), "data at offset " + std::to_string(cur->offset) +
                                                      " overlaps tensor " + quoted(prev->name) + " (offset " +
                                                      std::to_string(prev->offset) + ", " +
                                                      std::to_string(prev->nbytes) + " bytes)");
      }
    }
    return Status();
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
  GgufFile* f_;
};

// ---------------------------------------------------------------- GgufFile

Result<GgufFile> GgufFile::open(const std::string& path) {
  AIGC_ASSIGN_OR_RETURN(MappedFile map, MappedFile::open(path));
  AIGC_ASSIGN_OR_RETURN(GgufFile f, parse(map.data(), map.size(), path));
  f.file_ = std::move(map);
  return f;
}

Result<GgufFile> GgufFile::parse(const uint8_t* data, size_t size, const std::string& name) {
  GgufFile f;
  f.path_ = name;
  Parser parser(data, size, &f);
  AIGC_RETURN_IF_ERROR(parser.run());
  return f;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(std::string(key));
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

// ---------------------------------------------------------------- typed accessors

namespace {

Status missing(const std::string& path, std::string_view key) {
  return Status::not_found(path + ": metadata key '" + std::string(key) + "' is absent");
}

Status wrong_type(const std::string& path, std::string_view key, const GgufValue& v, const char* wanted) {
  return Status::invalid_argument(path + ": metadata '" + std::string(key) + "' is " + type_string(v) + ", expected " +
                                  wanted);
}

// An integer value as int64, if it is an integer type and fits.
std::optional<int64_t> as_int(const GgufValue& v) {
  if (is_signed_int(v.type)) return v.i;
  if (is_unsigned_int(v.type) && v.u <= uint64_t(std::numeric_limits<int64_t>::max())) return int64_t(v.u);
  return std::nullopt;
}

std::optional<double> as_double(const GgufValue& v) {
  if (is_float(v.type)) return v.f;
  if (is_signed_int(v.type)) return double(v.i);
  if (is_unsigned_int(v.type)) return double(v.u);
  return std::nullopt;
}

}  // namespace

Result<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return missing(path_, key);
  if (v->type != GgufType::kString) return wrong_type(path_, key, *v, "string");
  return std::string(v->str);
}

Result<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return missing(path_, key);
  const std::optional<int64_t> i = as_int(*v);
  if (!i) {
    if (is_unsigned_int(v->type)) {
      return Status::invalid_argument(path_ + ": metadata '" + std::string(key) + "' = " + std::to_string(v->u) +
                                      " does not fit in int64");
    }
    return wrong_type(path_, key, *v, "an integer");
  }
  return *i;
}

Result<uint64_t> GgufFile::get_uint(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return missing(path_, key);
  if (is_unsigned_int(v->type)) return v->u;
  if (is_signed_int(v->type)) {
    if (v->i < 0) {
      return Status::invalid_argument(path_ + ": metadata '" + std::string(key) + "' = " + std::to_string(v->i) +
                                      " is negative, expected a non-negative integer");
    }
    return uint64_t(v->i);
  }
  return wrong_type(path_, key, *v, "an unsigned integer");
}

Result<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return missing(path_, key);
  const std::optional<double> d = as_double(*v);
  if (!d) return wrong_type(path_, key, *v, "a number");
  return *d;
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return missing(path_, key);
  if (v->type != GgufType::kBool) return wrong_type(path_, key, *v, "bool");
  return v->i != 0;
}

Result<std::vector<std::string>> GgufFile::get_string_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return missing(path_, key);
  if (v->type != GgufType::kArray || v->elem_type != GgufType::kString) {
    return wrong_type(path_, key, *v, "array of string");
  }
  std::vector<std::string> out;
  out.reserve(size_t(v->size()));
  for (uint64_t j = 0; j < v->size(); ++j) out.emplace_back(v->at(j).str);
  return out;
}

Result<std::vector<float>> GgufFile::get_float_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return missing(path_, key);
  const bool numeric = v->type == GgufType::kArray &&
                       (is_float(v->elem_type) || is_signed_int(v->elem_type) || is_unsigned_int(v->elem_type));
  if (!numeric) return wrong_type(path_, key, *v, "array of numbers");
  std::vector<float> out(size_t(v->size()));
  if (v->raw && v->elem_type == GgufType::kFloat32) {
    std::memcpy(out.data(), v->raw, out.size() * sizeof(float));
    return out;
  }
  for (uint64_t j = 0; j < v->size(); ++j) out[j] = float(*as_double(v->at(j)));
  return out;
}

Result<std::vector<int64_t>> GgufFile::get_int_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return missing(path_, key);
  if (v->type != GgufType::kArray || !(is_signed_int(v->elem_type) || is_unsigned_int(v->elem_type))) {
    return wrong_type(path_, key, *v, "array of integers");
  }
  std::vector<int64_t> out(size_t(v->size()));
  for (uint64_t j = 0; j < v->size(); ++j) {
    const std::optional<int64_t> i = as_int(v->at(j));
    if (!i) {
      return Status::invalid_argument(path_ + ": metadata '" + std::string(key) + "' element " + std::to_string(j) +
                                      " = " + std::to_string(v->at(j).u) + " does not fit in int64");
    }
    out[j] = *i;
  }
  return out;
}

}  // namespace aigc
