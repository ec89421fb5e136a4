// Human-readable summary of a GGUF file.
#include "formats/gguf_print.h"

#include <algorithm>

namespace aigc {

namespace {

constexpr size_t kMaxStringChars = 120;  // longer strings are cut
constexpr size_t kMaxNameWidth = 60;     // longer names widen only their own row

// `s` with control bytes, quotes and backslashes escaped, cut to about
// `max_chars`, noting the full size when cut.
std::string escaped(std::string_view s, size_t max_chars) {
  std::string out;
  size_t i = 0;
  for (; i < s.size() && out.size() < max_chars; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  if (i < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

std::string quoted(std::string_view s, size_t max_chars) {
  std::string out(1, '"');
  out += escaped(s, max_chars);
  out += '"';
  return out;
}

std::string number(const GgufValue& v) {
  switch (v.type) {
    case GgufType::kUint8: case GgufType::kUint16: case GgufType::kUint32: case GgufType::kUint64:
      return std::to_string(v.u);
    case GgufType::kInt8: case GgufType::kInt16: case GgufType::kInt32: case GgufType::kInt64:
      return std::to_string(v.i);
    case GgufType::kFloat32: case GgufType::kFloat64: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.7g", v.f);
      return buf;
    }
    case GgufType::kBool: return v.i ? "true" : "false";
    case GgufType::kString: case GgufType::kArray: break;
  }
  return "?";
}

std::string type_label(const GgufValue& v) {
  if (v.type != GgufType::kArray) return gguf_type_name(v.type);
  return std::string("[") + gguf_type_name(v.elem_type) + "]";
}

}  // namespace

std::string gguf_value_to_string(const GgufValue& v, size_t max_items) {
  if (v.type == GgufType::kString) return quoted(v.str, kMaxStringChars);
  if (v.type != GgufType::kArray) return number(v);
  const uint64_t n = v.size();
  const bool cut = n > max_items;
  std::string s(1, '[');
  if (cut) s += std::to_string(n) + " items: ";
  const uint64_t shown = cut ? max_items : n;
  for (uint64_t j = 0; j < shown; ++j) {
    if (j) s += ", ";
    const GgufValue e = v.at(j);
    s += e.type == GgufType::kString ? quoted(e.str, 40) : gguf_value_to_string(e, max_items);
  }
  if (cut) s += shown ? ", ...]" : "...]";
  else s += "]";
  return s;
}

void gguf_print_summary(const GgufFile& file, std::FILE* out) {
  std::fprintf(out, "gguf: %s\n", file.path().c_str());
  std::fprintf(out, "version %u, alignment %llu, data section at offset %llu\n", file.version(),
               static_cast<unsigned long long>(file.alignment()), static_cast<unsigned long long>(file.data_offset()));
  std::fprintf(out, "metadata: %zu entries\n", file.metadata().size());
  size_t key_width = 4;
  for (const auto& kv : file.metadata()) key_width = std::max(key_width, std::min(kv.first.size(), kMaxNameWidth));
  for (const auto& [key, value] : file.metadata()) {
    std::fprintf(out, "  %-*s  %-9s  %s\n", int(key_width), escaped(key, 200).c_str(), type_label(value).c_str(),
                 gguf_value_to_string(value).c_str());
  }
  size_t width = 4;
  for (const GgufTensorInfo& t : file.tensors()) width = std::max(width, std::min(t.name.size(), kMaxNameWidth));
  std::fprintf(out, "tensors: %zu\n", file.tensors().size());
  std::fprintf(out, "  %-*s  %-6s  %-24s  %14s\n", int(width), "name", "type", "shape", "bytes");
  uint64_t total = 0;
  for (const GgufTensorInfo& t : file.tensors()) {
    std::fprintf(out, "  %-*s  %-6s  %-24s  %14llu\n", int(width), escaped(t.name, 200).c_str(),
                 dtype_name(t.tensor.dtype), t.tensor.shape_string().c_str(),
                 static_cast<unsigned long long>(t.nbytes));
    total += t.nbytes;
  }
  std::fprintf(out, "total: %llu bytes of tensor data\n", static_cast<unsigned long long>(total));
}

}  // namespace aigc
