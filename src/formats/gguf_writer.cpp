// GGUF writer: serialises metadata, tensor infos and aligned tensor data as a
// GGUF v3 file.
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/assert.h"
#include "formats/gguf.h"

namespace aigc {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" written little-endian
constexpr uint32_t kVersion = 3;
constexpr uint64_t kDefaultAlignment = 32;
constexpr const char* kAlignmentKey = "general.alignment";

// Appends little-endian encodings to a byte buffer (this is a little-endian
// build: x86-64).
class ByteSink {
 public:
  template <class T>
  void put(T v) {
    const size_t n = bytes_.size();
    bytes_.resize(n + sizeof(T));
    std::memcpy(bytes_.data() + n, &v, sizeof(T));
  }
  void put_bytes(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  void put_string(std::string_view s) {
    put<uint64_t>(s.size());
    put_bytes(s.data(), s.size());
  }
  void pad_to(uint64_t alignment) { bytes_.resize((bytes_.size() + alignment - 1) / alignment * alignment, 0); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// Writes the payload of a fixed-size value of type `t` held in `v`.
void put_scalar(ByteSink& out, GgufType t, const GgufValue& v) {
  AIGC_ASSERT(gguf_type_size(t) != 0);  // a known fixed-size type
  switch (t) {
    case GgufType::kUint8: out.put<uint8_t>(uint8_t(v.u)); break;
    case GgufType::kInt8: out.put<int8_t>(int8_t(v.i)); break;
    case GgufType::kUint16: out.put<uint16_t>(uint16_t(v.u)); break;
    case GgufType::kInt16: out.put<int16_t>(int16_t(v.i)); break;
    case GgufType::kUint32: out.put<uint32_t>(uint32_t(v.u)); break;
    case GgufType::kInt32: out.put<int32_t>(int32_t(v.i)); break;
    case GgufType::kFloat32: out.put<float>(float(v.f)); break;
    case GgufType::kBool: out.put<uint8_t>(v.i != 0 ? 1 : 0); break;
    case GgufType::kUint64: out.put<uint64_t>(v.u); break;
    case GgufType::kInt64: out.put<int64_t>(v.i); break;
    case GgufType::kFloat64: out.put<double>(v.f); break;
    case GgufType::kString:
    case GgufType::kArray: break;
  }
}

// Writes the payload of `v` (not its type id).
void put_value(ByteSink& out, const GgufValue& v) {
  if (v.type == GgufType::kString) {
    out.put_string(v.str);
    return;
  }
  if (v.type != GgufType::kArray) {
    put_scalar(out, v.type, v);
    return;
  }
  out.put<uint32_t>(uint32_t(v.elem_type));
  out.put<uint64_t>(v.size());
  if (v.raw && v.elem_type != GgufType::kString) {
    out.put_bytes(v.raw, size_t(v.count * gguf_type_size(v.elem_type)));
    return;
  }
  for (uint64_t j = 0; j < v.size(); ++j) {
    const GgufValue e = v.at(j);
    AIGC_ASSERT(e.type == v.elem_type);  // a hand-built array must hold elements of its elem_type
    put_value(out, e);
  }
}

GgufValue scalar(GgufType t) {
  GgufValue v;
  v.type = t;
  return v;
}

GgufValue array_of(GgufType elem) {
  GgufValue v;
  v.type = GgufType::kArray;
  v.elem_type = elem;
  return v;
}

}  // namespace

void GgufWriter::set_alignment(uint64_t a) {
  AIGC_ASSERT(a != 0 && std::has_single_bit(a) && a <= std::numeric_limits<uint32_t>::max());
  alignment_ = a;
  if (a != kDefaultAlignment) {
    add_uint32(kAlignmentKey, uint32_t(a));
    return;
  }
  std::erase_if(kv_, [](const auto& kv) { return kv.first == kAlignmentKey; });
}

void GgufWriter::own(GgufValue& v) {
  if (v.type == GgufType::kString) {
    v.str = storage_.emplace_back(v.str);
    return;
  }
  if (v.type != GgufType::kArray) return;
  if (v.raw) {
    // Rebuild a file-backed array as elements the writer owns.
    std::vector<GgufValue> elems;
    elems.reserve(size_t(v.size()));
    for (uint64_t j = 0; j < v.size(); ++j) elems.push_back(v.at(j));
    v.array = std::move(elems);
    v.raw = nullptr;
    v.count = 0;
    v.offsets.clear();
  }
  for (GgufValue& e : v.array) own(e);
}

void GgufWriter::add_value(std::string key, GgufValue value) {
  AIGC_ASSERT(!key.empty());
  own(value);
  for (auto& kv : kv_) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  kv_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::add_string(std::string key, std::string value) {
  GgufValue v = scalar(GgufType::kString);
  v.str = value;
  add_value(std::move(key), std::move(v));  // own() copies the string
}

void GgufWriter::add_uint32(std::string key, uint32_t value) {
  GgufValue v = scalar(GgufType::kUint32);
  v.u = value;
  add_value(std::move(key), std::move(v));
}

void GgufWriter::add_int32(std::string key, int32_t value) {
  GgufValue v = scalar(GgufType::kInt32);
  v.i = value;
  add_value(std::move(key), std::move(v));
}

void GgufWriter::add_uint64(std::string key, uint64_t value) {
  GgufValue v = scalar(GgufType::kUint64);
  v.u = value;
  add_value(std::move(key), std::move(v));
}

void GgufWriter::add_float32(std::string key, float value) {
  GgufValue v = scalar(GgufType::kFloat32);
  v.f = value;
  add_value(std::move(key), std::move(v));
}

void GgufWriter::add_bool(std::string key, bool value) {
  GgufValue v = scalar(GgufType::kBool);
  v.i = value ? 1 : 0;
  add_value(std::move(key), std::move(v));
}

void GgufWriter::add_string_array(std::string key, const std::vector<std::string>& values) {
  GgufValue v = array_of(GgufType::kString);
  for (const std::string& s : values) {
    GgufValue e = scalar(GgufType::kString);
    e.str = s;
    v.array.push_back(e);
  }
  add_value(std::move(key), std::move(v));
}

void GgufWriter::add_float_array(std::string key, const std::vector<float>& values) {
  GgufValue v = array_of(GgufType::kFloat32);
  for (float x : values) {
    GgufValue e = scalar(GgufType::kFloat32);
    e.f = x;
    v.array.push_back(e);
  }
  add_value(std::move(key), std::move(v));
}

void GgufWriter::add_int32_array(std::string key, const std::vector<int32_t>& values) {
  GgufValue v = array_of(GgufType::kInt32);
  for (int32_t x : values) {
    GgufValue e = scalar(GgufType::kInt32);
    e.i = x;
    v.array.push_back(e);
  }
  add_value(std::move(key), std::move(v));
}

Status GgufWriter::add_tensor(std::string name, DType dtype, std::vector<int64_t> shape, const void* data,
                              size_t nbytes) {
  AIGC_RETURN_IF_ERROR(check_tensor(name, dtype, shape, nbytes));  // before reading `data`
  const uint8_t* b = static_cast<const uint8_t*>(data);
  tensors_.push_back(PendingTensor{std::move(name), dtype, std::move(shape), std::vector<uint8_t>(b, b + nbytes)});
  return Status();
}

Status GgufWriter::add_tensor(std::string name, DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes) {
  AIGC_RETURN_IF_ERROR(check_tensor(name, dtype, shape, bytes.size()));
  tensors_.push_back(PendingTensor{std::move(name), dtype, std::move(shape), std::move(bytes)});
  return Status();
}

Status GgufWriter::check_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                                uint64_t nbytes) const {
  const std::string where = "GGUF writer: tensor '" + name + "'";
  if (name.empty()) return Status::invalid_argument("GGUF writer: empty tensor name");
  for (const PendingTensor& t : tensors_) {
    if (t.name == name) return Status::invalid_argument(where + ": duplicate tensor name");
  }
  const DTypeTraits* tr = dtype_traits(dtype);
  if (!tr) return Status::invalid_argument(where + ": unknown dtype id " + std::to_string(uint32_t(dtype)));
  if (shape.empty() || shape.size() > size_t(kMaxDims)) {
    return Status::invalid_argument(where + ": " + std::to_string(shape.size()) + " dimensions, expected 1.." +
                                    std::to_string(kMaxDims));
  }
  uint64_t rows = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] <= 0) {
      return Status::invalid_argument(where + ": dimension " + std::to_string(d) + " is " +
                                      std::to_string(shape[d]) + ", not positive");
    }
    if (d + 1 < shape.size()) {
      if (rows > uint64_t(std::numeric_limits<int64_t>::max()) / uint64_t(shape[d])) {
        return Status::invalid_argument(where + ": element count overflows int64");
      }
      rows *= uint64_t(shape[d]);
    }
  }
  if (rows > uint64_t(std::numeric_limits<int64_t>::max()) / uint64_t(shape.back())) {
    return Status::invalid_argument(where + ": element count overflows int64");
  }
  const std::optional<uint64_t> row_bytes = dtype_row_bytes(dtype, shape.back());
  if (!row_bytes) {
    return Status::invalid_argument(where + ": innermost dimension " + std::to_string(shape.back()) +
                                    " is not a multiple of " + tr->name + "'s block size " +
                                    std::to_string(tr->block_size));
  }
  if (*row_bytes > std::numeric_limits<uint64_t>::max() / rows || *row_bytes * rows != nbytes) {
    return Status::invalid_argument(where + ": " + std::to_string(nbytes) + " bytes given, but " + tr->name + " " +
                                    make_tensor(dtype, int(shape.size()), shape.data(), nullptr).shape_string() +
                                    " needs " + std::to_string(*row_bytes) + " x " + std::to_string(rows));
  }
  return Status();
}

Status GgufWriter::write(const std::string& path) const {
  ByteSink head;
  head.put<uint32_t>(kMagic);
  head.put<uint32_t>(kVersion);
  head.put<uint64_t>(tensors_.size());
  head.put<uint64_t>(kv_.size());
  for (const auto& [key, value] : kv_) {
    head.put_string(key);
    head.put<uint32_t>(uint32_t(value.type));
    put_value(head, value);
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    head.put_string(t.name);
    head.put<uint32_t>(uint32_t(t.shape.size()));
    for (size_t d = t.shape.size(); d-- > 0;) head.put<uint64_t>(uint64_t(t.shape[d]));  // innermost first
    head.put<uint32_t>(uint32_t(t.dtype));
    head.put<uint64_t>(offset);
    offset = (offset + t.bytes.size() + alignment_ - 1) / alignment_ * alignment_;
  }
  head.pad_to(alignment_);

  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Status::io_error(path + ": cannot create " + tmp + ": " + std::strerror(errno));
  bool ok = std::fwrite(head.bytes().data(), 1, head.bytes().size(), f) == head.bytes().size();
  static const uint8_t kZeros[256] = {};
  for (const PendingTensor& t : tensors_) {
    if (!ok) break;
    ok = std::fwrite(t.bytes.data(), 1, t.bytes.size(), f) == t.bytes.size();
    size_t pad = (alignment_ - t.bytes.size() % alignment_) % alignment_;
    while (ok && pad > 0) {
      const size_t n = pad < sizeof(kZeros) ? pad : sizeof(kZeros);
      ok = std::fwrite(kZeros, 1, n, f) == n;
      pad -= n;
    }
  }
  const int saved_errno = errno;
  if (std::fclose(f) != 0) ok = false;
  if (!ok) {
    std::remove(tmp.c_str());
    return Status::io_error(path + ": cannot write " + tmp + ": " + std::strerror(saved_errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    std::remove(tmp.c_str());
    return Status::io_error(path + ": cannot rename " + tmp + " into place: " + err);
  }
  return Status();
}

}  // namespace aigc
