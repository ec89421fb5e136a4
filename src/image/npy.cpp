// .npy reader and writer (see npy.h). Header format:
//   "\x93NUMPY" major minor, header length (u16 for 1.0, u32 for 2.0/3.0),
//   then a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 64, 64), }
//   padded with spaces and ending in '\n' so the data starts 64-byte aligned.
#include "image/npy.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/mapped_file.h"

namespace aigc {
namespace {

constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr size_t kMaxHeaderLength = 1 << 16;
constexpr int kMaxDims = 32;

// A cursor over the header dict text.
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view s) : s_(s) {}
  void skip_spaces() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  bool consume(char c) {
    skip_spaces();
    if (pos_ < s_.size() && s_[pos_] == c) return ++pos_, true;
    return false;
  }
  bool peek(char c) {
    skip_spaces();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  bool string(std::string* out) {
    skip_spaces();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) return false;
    const char quote = s_[pos_++];
    const size_t end = s_.find(quote, pos_);
    if (end == std::string_view::npos) return false;
    *out = std::string(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return true;
  }
  bool word(std::string* out) {
    skip_spaces();
    const size_t start = pos_;
    while (pos_ < s_.size() && ((s_[pos_] >= 'A' && s_[pos_] <= 'Z') || (s_[pos_] >= 'a' && s_[pos_] <= 'z'))) ++pos_;
    *out = std::string(s_.substr(start, pos_ - start));
    return !out->empty();
  }
  bool integer(int64_t* out) {
    skip_spaces();
    const size_t start = pos_;
    int64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (v > (INT64_MAX - 9) / 10) return false;
      v = v * 10 + (s_[pos_++] - '0');
    }
    if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 long suffix
    *out = v;
    return pos_ > start;
  }
  bool at_end() {
    skip_spaces();
    return pos_ == s_.size();
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

Status parse_header(std::string_view text, const std::string& name, Header* h) {
  const auto bad = [&](const std::string& what) {
    return Status::corruption(name + ": .npy header " + what + ": " + std::string(text.substr(0, 200)));
  };
  HeaderParser p(text);
  if (!p.consume('{')) return bad("is not a dict");
  bool have_descr = false, have_order = false, have_shape = false;
  while (!p.consume('}')) {
    std::string key;
    if (!p.string(&key) || !p.consume(':')) return bad("has a malformed entry");
    if (key == "descr") {
      if (!p.string(&h->descr)) return bad("'descr' is not a string");
      have_descr = true;
    } else if (key == "fortran_order") {
      std::string v;
      if (!p.word(&v) || (v != "True" && v != "False")) return bad("'fortran_order' is not True/False");
      h->fortran_order = v == "True";
      have_order = true;
    } else if (key == "shape") {
      if (!p.consume('(')) return bad("'shape' is not a tuple");
      while (!p.consume(')')) {
        int64_t d = 0;
        if (!p.integer(&d)) return bad("'shape' has a non-integer dimension");
        if (int(h->shape.size()) == kMaxDims) return bad("'shape' has more than " + std::to_string(kMaxDims) + " dimensions");
        h->shape.push_back(d);
        if (!p.consume(',') && !p.peek(')')) return bad("'shape' is malformed");
      }
      have_shape = true;
    } else {
      return bad("has the unknown key '" + key + "'");
    }
    if (!p.consume(',') && !p.peek('}')) return bad("is malformed");
  }
  if (!p.at_end()) return bad("has text after the dict");
  if (!have_descr || !have_order || !have_shape) return bad("lacks 'descr', 'fortran_order' or 'shape'");
  return {};
}

Status write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Status::io_error(path + ": cannot create: " + std::strerror(errno));
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) return Status::io_error(path + ": write failed: " + std::strerror(errno));
  return {};
}

}  // namespace

Result<NpyArray> parse_npy(const uint8_t* data, size_t size, const std::string& name) {
  if (size < 10 || std::memcmp(data, kMagic, 6) != 0) return Status::corruption(name + ": not a .npy file (bad magic)");
  const int major = data[6];
  size_t header_length = 0, header_start = 0;
  if (major == 1) {
    header_length = size_t(data[8]) | (size_t(data[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return Status::corruption(name + ": truncated .npy header");
    header_length = size_t(data[8]) | (size_t(data[9]) << 8) | (size_t(data[10]) << 16) | (size_t(data[11]) << 24);
    header_start = 12;
  } else {
    return Status::unsupported(name + ": .npy version " + std::to_string(major) + "." + std::to_string(data[7]) +
                               " (supported: 1.0, 2.0, 3.0)");
  }
  if (header_length > kMaxHeaderLength || header_length > size - header_start) {
    return Status::corruption(name + ": .npy header length " + std::to_string(header_length) +
                              " runs past the end of the file (" + std::to_string(size) + " bytes)");
  }
  Header h;
  AIGC_RETURN_IF_ERROR(parse_header(
      std::string_view(reinterpret_cast<const char*>(data + header_start), header_length), name, &h));
  if (h.fortran_order) return Status::unsupported(name + ": Fortran-order .npy arrays are not supported");
  size_t item_size = 0;
  if (h.descr == "<f4") item_size = 4;
  else if (h.descr == "<f8") item_size = 8;
  else if (h.descr == "|u1" || h.descr == "<u1") item_size = 1;
  else return Status::unsupported(name + ": .npy dtype '" + h.descr + "' (supported: '<f4', '<f8', '|u1')");

  uint64_t count = 1;
  for (int64_t d : h.shape) {
    if (d != 0 && count > uint64_t(INT64_MAX) / uint64_t(d)) {
      return Status::corruption(name + ": .npy shape product overflows");
    }
    count *= uint64_t(d);
  }
  const size_t data_start = header_start + header_length;
  const uint64_t available = size - data_start;
  if (count > available / item_size || count * item_size != available) {
    return Status::corruption(name + ": .npy shape needs " + std::to_string(count) + " elements of " +
                              std::to_string(item_size) + " bytes, the file has " + std::to_string(available) +
                              " data bytes");
  }
  NpyArray array;
  array.shape = h.shape;
  array.data.resize(size_t(count));
  const uint8_t* p = data + data_start;
  for (size_t i = 0; i < array.data.size(); ++i) {  // the host is little-endian x86-64
    if (item_size == 4) {
      std::memcpy(&array.data[i], p + 4 * i, 4);
    } else if (item_size == 8) {
      double v;
      std::memcpy(&v, p + 8 * i, 8);
      array.data[i] = float(v);
    } else {
      array.data[i] = float(p[i]);
    }
  }
  return array;
}

Result<NpyArray> read_npy(const std::string& path) {
  AIGC_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
  return parse_npy(file.data(), file.size(), path);
}

Result<std::vector<uint8_t>> encode_npy(const NpyArray& array) {
  uint64_t count = 1;
  std::string shape = "(";
  for (int64_t d : array.shape) {
    if (d < 0 || (d != 0 && count > uint64_t(INT64_MAX) / uint64_t(d))) {
      return Status::invalid_argument("write_npy: invalid shape dimension " + std::to_string(d));
    }
    count *= uint64_t(d);
    shape += std::to_string(d) + (array.shape.size() == 1 ? ",)" : ", ");
  }
  if (array.shape.size() != 1) {
    if (array.shape.size() > 1) shape.resize(shape.size() - 2);
    shape += ")";
  }
  if (count != array.data.size()) {
    return Status::invalid_argument("write_npy: shape holds " + std::to_string(count) + " elements, data has " +
                                    std::to_string(array.data.size()));
  }
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  const bool v2 = dict.size() + 11 > 65535;
  const size_t prefix = v2 ? 12 : 10;
  const size_t total_header = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total_header - prefix - dict.size() - 1, ' ');
  dict += '\n';
  std::vector<uint8_t> out(kMagic, kMagic + 6);
  out.push_back(v2 ? 2 : 1);
  out.push_back(0);
  const size_t n = dict.size();
  out.push_back(uint8_t(n));
  out.push_back(uint8_t(n >> 8));
  if (v2) {
    out.push_back(uint8_t(n >> 16));
    out.push_back(uint8_t(n >> 24));
  }
  out.insert(out.end(), dict.begin(), dict.end());
  const size_t data_start = out.size();
  out.resize(data_start + 4 * array.data.size());
  if (!array.data.empty()) std::memcpy(out.data() + data_start, array.data.data(), 4 * array.data.size());
  return out;
}

Status write_npy(const std::string& path, const NpyArray& array) {
  AIGC_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, encode_npy(array));
  return write_bytes(path, bytes);
}

}  // namespace aigc
