// Human-readable summary of a safetensors file or sharded set.
#include "formats/safetensors_print.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace aigc {

namespace {

constexpr size_t kMaxValueChars = 200;  // longer metadata values are cut
constexpr size_t kMaxNameWidth = 80;    // longer names widen only their own row

// `s` with control bytes escaped and cut to `max_chars`, noting the full size.
std::string printable(const std::string& s, size_t max_chars) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < max_chars; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  if (out.size() >= max_chars && s.size() > max_chars) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

void print_metadata(const std::vector<std::pair<std::string, std::string>>& metadata, std::FILE* out) {
  std::fprintf(out, "metadata: %zu entries\n", metadata.size());
  for (const auto& [key, value] : metadata) {
    std::fprintf(out, "  %s = %s\n", printable(key, kMaxValueChars).c_str(), printable(value, kMaxValueChars).c_str());
  }
}

struct Row {
  const SafetensorsTensorInfo* info;
  const char* shard;  // nullptr for a single file
};

void print_table(const std::vector<Row>& rows, std::FILE* out) {
  size_t width = 4;
  for (const Row& r : rows) width = std::max(width, std::min(r.info->name.size(), kMaxNameWidth));
  uint64_t total = 0;
  std::fprintf(out, "tensors: %zu\n", rows.size());
  std::fprintf(out, "  %-*s  %-7s  %-24s  %14s%s\n", int(width), "name", "dtype", "shape", "bytes",
               rows.empty() || !rows[0].shard ? "" : "  shard");
  for (const Row& r : rows) {
    std::fprintf(out, "  %-*s  %-7s  %-24s  %14llu%s%s\n", int(width), printable(r.info->name, 4096).c_str(),
                 printable(r.info->dtype, 32).c_str(), r.info->shape_string().c_str(),
                 static_cast<unsigned long long>(r.info->nbytes()), r.shard ? "  " : "", r.shard ? r.shard : "");
    total += r.info->nbytes();
  }
  std::fprintf(out, "total: %llu bytes of tensor data\n", static_cast<unsigned long long>(total));
}

}  // namespace

void safetensors_print_summary(const SafetensorsFile& file, std::FILE* out) {
  std::fprintf(out, "safetensors: %s\n", file.path().c_str());
  std::fprintf(out, "header: %llu bytes, data: %llu bytes\n", static_cast<unsigned long long>(file.header_bytes()),
               static_cast<unsigned long long>(file.data_bytes()));
  print_metadata(file.metadata(), out);
  std::vector<Row> rows;
  for (const SafetensorsTensorInfo& t : file.tensors()) rows.push_back(Row{&t, nullptr});
  print_table(rows, out);
}

void safetensors_print_summary(const SafetensorsSet& set, std::FILE* out) {
  if (!set.is_sharded()) {
    safetensors_print_summary(set.shards()[0], out);
    return;
  }
  std::fprintf(out, "safetensors index: %s\n", set.path().c_str());
  std::fprintf(out, "shards: %zu\n", set.shards().size());
  for (const SafetensorsFile& shard : set.shards()) {
    std::fprintf(out, "  %s (%zu tensors, header %llu bytes, data %llu bytes)\n", shard.path().c_str(),
                 shard.tensors().size(), static_cast<unsigned long long>(shard.header_bytes()),
                 static_cast<unsigned long long>(shard.data_bytes()));
  }
  print_metadata(set.metadata(), out);
  std::vector<std::string> shard_names;  // file names, shorter than the paths
  for (const SafetensorsFile& shard : set.shards()) {
    shard_names.push_back(std::filesystem::path(shard.path()).filename().string());
  }
  std::vector<Row> rows;
  for (const SafetensorsSet::Entry& e : set.tensors()) rows.push_back(Row{e.info, shard_names[e.shard].c_str()});
  print_table(rows, out);
}

}  // namespace aigc
