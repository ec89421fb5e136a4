// `aigc inspect FILE`: detects the format by its first bytes (GGUF magic) or
// takes it as safetensors (a single file or a sharded set's index .json) and
// prints the summary.
#include "cli/inspect.h"

#include <fstream>

#include "formats/gguf.h"
#include "formats/gguf_print.h"
#include "formats/safetensors.h"
#include "formats/safetensors_print.h"

namespace aigc {

namespace {

bool starts_with_gguf_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::string(magic, 4) == "GGUF";
}

int fail(const Status& s) {
  std::fprintf(stderr, "aigc: %s\n", s.to_string().c_str());
  return 1;
}

}  // namespace

int inspect_file(const std::string& path, std::FILE* out) {
  if (starts_with_gguf_magic(path)) {
    auto f = GgufFile::open(path);
    if (!f.ok()) return fail(f.status());
    gguf_print_summary(*f, out);
    return 0;
  }
  auto set = SafetensorsSet::open(path);
  if (!set.ok()) return fail(set.status());
  safetensors_print_summary(*set, out);
  return 0;
}

}  // namespace aigc
