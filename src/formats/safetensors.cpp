// safetensors reader: header checks, tiling checks, sharded index, tensor views.
#include "formats/safetensors.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

namespace aigc {

namespace {

using nlohmann::json;

constexpr uint64_t kMaxIndexBytes = 100'000'000;
// Deeper JSON than this is never a valid header or index; it is refused early.
constexpr int kMaxJsonDepth = 16;

struct DtypeRow {
  const char* name;
  int bits;
  std::optional<DType> dtype;  // set for the dtypes Tensor can view
};

constexpr DtypeRow kDtypes[] = {
    {"F32", 32, DType::F32},   {"F16", 16, DType::F16},   {"BF16", 16, DType::BF16},
    {"F64", 64, std::nullopt}, {"I64", 64, std::nullopt}, {"U64", 64, std::nullopt},
    {"I32", 32, std::nullopt}, {"U32", 32, std::nullopt}, {"I16", 16, std::nullopt},
    {"U16", 16, std::nullopt}, {"I8", 8, std::nullopt},   {"U8", 8, std::nullopt},
    {"BOOL", 8, std::nullopt}, {"F8_E4M3", 8, std::nullopt}, {"F8_E5M2", 8, std::nullopt},
    {"F8_E8M0", 8, std::nullopt}, {"C64", 64, std::nullopt}, {"F6_E2M3", 6, std::nullopt},
    {"F6_E3M2", 6, std::nullopt}, {"F4", 4, std::nullopt},
};

const DtypeRow* find_dtype(std::string_view name) {
  for (const DtypeRow& r : kDtypes) {
    if (name == r.name) return &r;
  }
  return nullptr;
}

// A short printable form of a JSON value for messages.
std::string describe(const json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

// SAX pass that only checks: syntax (with nlohmann's message), nesting depth,
// and duplicate keys, which nlohmann's DOM parser would silently merge.
class JsonChecker final : public json::json_sax_t {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(json::number_integer_t) override { return true; }
  bool number_unsigned(json::number_unsigned_t) override { return true; }
  bool number_float(json::number_float_t, const json::string_t&) override { return true; }
  bool string(json::string_t&) override { return true; }
  bool binary(json::binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    objects_.emplace_back();
    return enter();
  }
  bool key(json::string_t& k) override {
    Level& level = objects_.back();
    const auto [it, inserted] = level.keys.insert(k);
    if (!inserted) {
      error_ = "duplicate key '" + k + "'";
      if (objects_.size() > 1) error_ += " in '" + *objects_[objects_.size() - 2].last_key + "'";
      return false;
    }
    level.last_key = &*it;
    return true;
  }
  bool end_object() override {
    objects_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) override {
    error_ = std::string("not valid JSON: ") + ex.what();
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  struct Level {  // one open object
    std::set<std::string> keys;
    const std::string* last_key = nullptr;  // in `keys`; set before any nested object opens
  };
  bool enter() {
    if (++depth_ > kMaxJsonDepth) {
      error_ = "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
      return false;
    }
    return true;
  }

  std::vector<Level> objects_;
  int depth_ = 0;
  std::string error_;
};

// Parses `text` as JSON, refusing bad syntax, deep nesting and duplicate keys.
// `where` names the file and the part ("model.safetensors: header").
Result<json> parse_json(std::string_view text, const std::string& where) {
  // nlohmann stops at a NUL byte as at the end of input; JSON text never holds one.
  const size_t nul = text.find('\0');
  if (nul != std::string_view::npos) {
    return Status::corruption(where + ": not valid JSON: NUL byte at offset " + std::to_string(nul));
  }
  try {
    JsonChecker checker;
    if (!json::sax_parse(text.begin(), text.end(), &checker) || !checker.error().empty()) {
      return Status::corruption(where + ": " + (checker.error().empty() ? "not valid JSON" : checker.error()));
    }
    json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Status::corruption(where + ": not valid JSON");
    return j;
  } catch (const std::exception& e) {
    return Status::corruption(where + ": cannot parse JSON: " + e.what());
  }
}

// A non-negative JSON integer that fits in int64, or an error naming `field`.
Status get_count(const json& v, const std::string& field, uint64_t* out) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(std::numeric_limits<int64_t>::max())) {
      return Status::corruption(field + " is " + std::to_string(u) + ", larger than 2^63-1");
    }
    *out = u;
    return Status();
  }
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i < 0) return Status::corruption(field + " is " + std::to_string(i) + ", negative");
    *out = uint64_t(i);
    return Status();
  }
  if (v.is_number_float()) return Status::corruption(field + " is " + describe(v) + ", not an integer");
  return Status::corruption(field + " is " + describe(v) + ", not a number");
}

// A field of a tensor entry; nullptr if absent.
const json* field_of(const json& entry, const char* key) {
  auto it = entry.find(key);
  return it == entry.end() ? nullptr : &*it;
}

std::string metadata_value(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

int safetensors_dtype_bits(std::string_view dtype) {
  const DtypeRow* r = find_dtype(dtype);
  return r ? r->bits : 0;
}

std::string SafetensorsTensorInfo::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// ---------------------------------------------------------------- SafetensorsFile

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  AIGC_ASSIGN_OR_RETURN(MappedFile map, MappedFile::open(path));
  AIGC_ASSIGN_OR_RETURN(SafetensorsFile f, parse(map.data(), map.size(), path));
  f.file_ = std::move(map);
  return f;
}

Result<SafetensorsFile> SafetensorsFile::parse(const uint8_t* data, size_t size, const std::string& name) {
  if (size < 8) {
    return Status::corruption(name + ": file is " + std::to_string(size) +
                              " bytes, shorter than the 8-byte header size field");
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n > kSafetensorsMaxHeaderBytes) {
    return Status::out_of_range(name + ": header size " + std::to_string(n) + " is over the limit of " +
                                std::to_string(kSafetensorsMaxHeaderBytes) + " bytes");
  }
  if (n > size - 8) {
    return Status::corruption(name + ": header size " + std::to_string(n) + " is larger than the " +
                              std::to_string(size - 8) + " bytes that follow it");
  }
  if (n == 0 || data[8] != '{') {
    return Status::corruption(name + ": header does not start with '{' (header size " + std::to_string(n) + ")");
  }
  SafetensorsFile f;
  f.path_ = name;
  f.header_bytes_ = n;
  f.data_ = data + 8 + n;
  f.data_bytes_ = size - 8 - n;
  AIGC_RETURN_IF_ERROR(f.parse_header(std::string_view(reinterpret_cast<const char*>(data + 8), size_t(n))));
  AIGC_RETURN_IF_ERROR(f.check_layout());
  return f;
}

Status SafetensorsFile::parse_header(std::string_view text) {
  // parse() checked that the text starts with '{' and parse_json that all of
  // it is one JSON value: the header is an object.
  AIGC_ASSIGN_OR_RETURN(const json header, parse_json(text, path_ + ": header"));
  try {
    for (const auto& [name, v] : header.items()) {
      if (name == "__metadata__") {
        if (!v.is_object()) {
          return Status::corruption(path_ + ": __metadata__ is " + describe(v) + ", not an object");
        }
        for (const auto& [key, value] : v.items()) {
          if (!value.is_string()) {
            return Status::corruption(path_ + ": __metadata__: value of '" + key + "' is " + describe(value) +
                                      ", not a string");
          }
          metadata_.emplace_back(key, value.get<std::string>());
        }
        continue;
      }
      const std::string where = path_ + ": tensor '" + name + "'";
      if (!v.is_object()) return Status::corruption(where + ": entry is " + describe(v) + ", not an object");
      SafetensorsTensorInfo t;
      t.name = name;

      const json* dtype = field_of(v, "dtype");
      if (!dtype) return Status::corruption(where + ": missing field 'dtype'");
      if (!dtype->is_string()) return Status::corruption(where + ": dtype is " + describe(*dtype) + ", not a string");
      t.dtype = dtype->get<std::string>();
      const DtypeRow* row = find_dtype(t.dtype);
      if (!row) return Status::unsupported(where + ": unknown dtype " + describe(*dtype));

      const json* shape = field_of(v, "shape");
      if (!shape) return Status::corruption(where + ": missing field 'shape'");
      if (!shape->is_array()) return Status::corruption(where + ": shape is " + describe(*shape) + ", not an array");
      // The product of the non-zero dims must fit, so that any partial product
      // (Tensor::rows, strides) of a zero-element tensor fits too.
      uint64_t nonzero_product = 1;
      bool has_zero = false;
      for (size_t i = 0; i < shape->size(); ++i) {
        uint64_t d = 0;
        AIGC_RETURN_IF_ERROR(get_count((*shape)[i], where + ": shape dimension " + std::to_string(i), &d));
        t.shape.push_back(int64_t(d));
        if (d == 0) {
          has_zero = true;
        } else if (__builtin_mul_overflow(nonzero_product, d, &nonzero_product) ||
                   nonzero_product > uint64_t(std::numeric_limits<int64_t>::max()) / 8) {
          return Status::corruption(where + ": shape: the product of the dimensions overflows at dimension " +
                                    std::to_string(i) + " (" + std::to_string(d) + ")");
        }
      }
      const uint64_t numel = has_zero ? 0 : nonzero_product;
      uint64_t bits = 0;
      if (__builtin_mul_overflow(numel, uint64_t(row->bits), &bits)) {
        return Status::corruption(where + ": shape " + t.shape_string() + " of " + t.dtype + " overflows 2^64 bits");
      }
      if (bits % 8 != 0) {
        return Status::corruption(where + ": " + std::to_string(numel) + " elements of " + t.dtype +
                                  " do not fill whole bytes");
      }

      const json* offsets = field_of(v, "data_offsets");
      if (!offsets) return Status::corruption(where + ": missing field 'data_offsets'");
      if (!offsets->is_array() || offsets->size() != 2) {
        return Status::corruption(where + ": data_offsets is " + describe(*offsets) + ", not an array of 2 integers");
      }
      for (int i = 0; i < 2; ++i) {
        uint64_t* dst = i == 0 ? &t.begin : &t.end;
        AIGC_RETURN_IF_ERROR(get_count((*offsets)[i], where + ": data_offsets[" + std::to_string(i) + "]", dst));
      }
      const std::string range = "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
      if (t.end < t.begin) return Status::corruption(where + ": " + range + ": end is before begin");
      if (t.end > data_bytes_) {
        return Status::corruption(where + ": " + range + ": end is beyond the data section of " +
                                  std::to_string(data_bytes_) + " bytes");
      }
      if (t.nbytes() != bits / 8) {
        return Status::corruption(where + ": " + range + " holds " + std::to_string(t.nbytes()) + " bytes, but " +
                                  t.dtype + " " + t.shape_string() + " needs " + std::to_string(bits / 8));
      }
      tensors_.push_back(std::move(t));
    }
  } catch (const std::exception& e) {
    return Status::corruption(path_ + ": header: " + e.what());
  }
  return Status();
}

Status SafetensorsFile::check_layout() const {
  std::vector<const SafetensorsTensorInfo*> by_offset;
  by_offset.reserve(tensors_.size());
  for (const SafetensorsTensorInfo& t : tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const SafetensorsTensorInfo* a, const SafetensorsTensorInfo* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t cursor = 0;
  const SafetensorsTensorInfo* previous = nullptr;
  for (const SafetensorsTensorInfo* t : by_offset) {
    if (t->begin < cursor) {
      return Status::corruption(path_ + ": tensor '" + t->name + "': data_offsets [" + std::to_string(t->begin) +
                                ", " + std::to_string(t->end) + "] overlap tensor '" + previous->name + "' [" +
                                std::to_string(previous->begin) + ", " + std::to_string(previous->end) + "]");
    }
    if (t->begin > cursor) {
      return Status::corruption(path_ + ": tensor '" + t->name + "': data_offsets [" + std::to_string(t->begin) +
                                ", " + std::to_string(t->end) + "] leave a gap: bytes [" + std::to_string(cursor) +
                                ", " + std::to_string(t->begin) + ") of the data section belong to no tensor");
    }
    cursor = t->end;
    previous = t;
  }
  if (cursor != data_bytes_) {
    return Status::corruption(path_ + ": the tensors end at data offset " + std::to_string(cursor) +
                              " but the data section has " + std::to_string(data_bytes_) +
                              " bytes: trailing bytes belong to no tensor");
  }
  return Status();
}

const std::string* SafetensorsFile::find_metadata(std::string_view key) const {
  auto it = std::lower_bound(metadata_.begin(), metadata_.end(), key,
                             [](const auto& kv, std::string_view k) { return kv.first < k; });
  return it != metadata_.end() && it->first == key ? &it->second : nullptr;
}

const SafetensorsTensorInfo* SafetensorsFile::find(std::string_view name) const {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                             [](const SafetensorsTensorInfo& t, std::string_view n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

Result<std::span<const uint8_t>> SafetensorsFile::bytes(std::string_view name) const {
  const SafetensorsTensorInfo* t = find(name);
  if (!t) return Status::not_found(path_ + ": no tensor '" + std::string(name) + "'");
  return std::span<const uint8_t>(data_ + t->begin, size_t(t->nbytes()));
}

Result<Tensor> SafetensorsFile::tensor(std::string_view name) const {
  const SafetensorsTensorInfo* t = find(name);
  if (!t) return Status::not_found(path_ + ": no tensor '" + std::string(name) + "'");
  const std::string where = path_ + ": tensor '" + t->name + "'";
  const DtypeRow* row = find_dtype(t->dtype);
  if (!row || !row->dtype) {
    return Status::unsupported(where + ": unsupported dtype " + t->dtype + " (a Tensor can be F32, F16 or BF16)");
  }
  if (t->shape.size() > size_t(kMaxDims)) {
    return Status::unsupported(where + ": shape " + t->shape_string() + " has " + std::to_string(t->shape.size()) +
                               " dimensions, more than " + std::to_string(kMaxDims));
  }
  const uint8_t* p = data_ + t->begin;
  const uintptr_t element_bytes = uintptr_t(row->bits / 8);
  if (reinterpret_cast<uintptr_t>(p) % element_bytes != 0) {
    return Status::unsupported(where + ": data at offset " + std::to_string(8 + header_bytes_ + t->begin) +
                               " is not aligned to its element size " + std::to_string(element_bytes) +
                               " (read it with bytes() and copy it)");
  }
  // The map is read-only: Tensor's pointer is non-const only because Tensor
  // also views writable memory.
  return make_tensor(*row->dtype, int(t->shape.size()), t->shape.data(), const_cast<uint8_t*>(p));
}

// ---------------------------------------------------------------- index.json

Result<SafetensorsIndex> parse_safetensors_index(std::string_view text, const std::string& name) {
  AIGC_ASSIGN_OR_RETURN(const json index, parse_json(text, name));
  if (!index.is_object()) return Status::corruption(name + ": index is " + describe(index) + ", not an object");
  SafetensorsIndex out;
  try {
    auto meta = index.find("metadata");
    if (meta != index.end()) {
      if (!meta->is_object()) return Status::corruption(name + ": metadata is " + describe(*meta) + ", not an object");
      for (const auto& [key, value] : meta->items()) out.metadata.emplace_back(key, metadata_value(value));
    }
    auto map = index.find("weight_map");
    if (map == index.end()) return Status::corruption(name + ": missing field 'weight_map'");
    if (!map->is_object()) return Status::corruption(name + ": weight_map is " + describe(*map) + ", not an object");
    for (const auto& [tensor, shard_value] : map->items()) {
      const std::string where = name + ": weight_map: tensor '" + tensor + "'";
      if (!shard_value.is_string()) {
        return Status::corruption(where + ": shard is " + describe(shard_value) + ", not a string");
      }
      std::string shard = shard_value.get<std::string>();
      if (shard.empty()) return Status::corruption(where + ": shard file name is empty");
      if (shard.find('\0') != std::string::npos) {
        return Status::corruption(where + ": shard file name contains a NUL byte");
      }
      if (shard.front() == '/') {
        return Status::corruption(where + ": shard file name '" + shard + "' is absolute");
      }
      for (size_t start = 0; start <= shard.size();) {
        size_t slash = shard.find('/', start);
        if (slash == std::string::npos) slash = shard.size();
        if (shard.compare(start, slash - start, "..") == 0) {
          return Status::corruption(where + ": shard file name '" + shard + "' leaves the index's folder");
        }
        start = slash + 1;
      }
      out.weight_map.emplace_back(tensor, std::move(shard));
    }
  } catch (const std::exception& e) {
    return Status::corruption(name + ": " + e.what());
  }
  return out;
}

// ---------------------------------------------------------------- SafetensorsSet

Result<SafetensorsSet> SafetensorsSet::open(const std::string& path) {
  SafetensorsSet set;
  set.path_ = path;
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    AIGC_RETURN_IF_ERROR(set.open_index(path));
    return set;
  }
  AIGC_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::open(path));
  set.metadata_ = file.metadata();
  set.shards_.push_back(std::move(file));
  for (const SafetensorsTensorInfo& t : set.shards_[0].tensors()) set.entries_.push_back(Entry{0, &t});
  return set;
}

Status SafetensorsSet::open_index(const std::string& path) {
  sharded_ = true;
  AIGC_ASSIGN_OR_RETURN(MappedFile map, MappedFile::open(path));
  if (map.size() > kMaxIndexBytes) {
    return Status::out_of_range(path + ": index is " + std::to_string(map.size()) + " bytes, over the limit of " +
                                std::to_string(kMaxIndexBytes));
  }
  AIGC_ASSIGN_OR_RETURN(
      SafetensorsIndex index,
      parse_safetensors_index(std::string_view(reinterpret_cast<const char*>(map.data()), map.size()), path));
  metadata_ = std::move(index.metadata);

  // Open each shard once, in name order.
  std::vector<std::string> shard_names;
  for (const auto& [tensor, shard] : index.weight_map) shard_names.push_back(shard);
  std::sort(shard_names.begin(), shard_names.end());
  shard_names.erase(std::unique(shard_names.begin(), shard_names.end()), shard_names.end());
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  for (const std::string& shard : shard_names) {
    Result<SafetensorsFile> file = SafetensorsFile::open((folder / shard).string());
    if (!file.ok()) {
      return Status(file.status().code(), path + ": shard '" + shard + "': " + file.status().message());
    }
    shards_.push_back(std::move(file).value());
  }
  auto shard_index = [&](const std::string& shard) {
    return size_t(std::lower_bound(shard_names.begin(), shard_names.end(), shard) - shard_names.begin());
  };

  // weight_map -> shards: every tensor it names is in its shard.
  std::vector<size_t> mapped_count(shards_.size(), 0);
  for (const auto& [tensor, shard] : index.weight_map) {
    const size_t s = shard_index(shard);
    const SafetensorsTensorInfo* info = shards_[s].find(tensor);
    if (!info) {
      return Status::corruption(path + ": weight_map: tensor '" + tensor + "' is not in shard '" + shard + "'");
    }
    entries_.push_back(Entry{s, info});
    ++mapped_count[s];
  }
  // shards -> weight_map: every tensor of a shard is mapped to that shard.
  for (size_t s = 0; s < shards_.size(); ++s) {
    if (mapped_count[s] == shards_[s].tensors().size()) continue;
    for (const SafetensorsTensorInfo& t : shards_[s].tensors()) {
      const Entry* e = find(t.name);
      if (!e) {
        return Status::corruption(path + ": shard '" + shard_names[s] + "' holds tensor '" + t.name +
                                  "', which the weight_map does not list");
      }
      if (e->shard != s) {
        return Status::corruption(path + ": shard '" + shard_names[s] + "' holds tensor '" + t.name +
                                  "', which the weight_map puts in shard '" + shard_names[e->shard] + "'");
      }
    }
  }
  return Status();
}

const SafetensorsSet::Entry* SafetensorsSet::find(std::string_view name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const Entry& e, std::string_view n) { return e.info->name < n; });
  return it != entries_.end() && it->info->name == name ? &*it : nullptr;
}

Result<Tensor> SafetensorsSet::tensor(std::string_view name) const {
  const Entry* e = find(name);
  if (!e) return Status::not_found(path_ + ": no tensor '" + std::string(name) + "'");
  return shards_[e->shard].tensor(name);
}

Result<std::span<const uint8_t>> SafetensorsSet::bytes(std::string_view name) const {
  const Entry* e = find(name);
  if (!e) return Status::not_found(path_ + ": no tensor '" + std::string(name) + "'");
  return shards_[e->shard].bytes(name);
}

}  // namespace aigc
