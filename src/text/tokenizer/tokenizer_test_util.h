// Test helpers for the tokenizer tests: the shared vocabulary cases
// (../shared/data/vocab/NAME.inp/.out) and small in-memory vocabularies.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace aigc::tokenizer_test {

inline const std::string kVocabDir = std::string(AIGC_SHARED_DATA_DIR) + "/vocab/";

struct VocabCase {
  std::string text;
  std::vector<int32_t> ids;  // without BOS
};

inline bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

// The inputs of NAME.inp: separated by lines holding only
// __ggml_vocab_test__ (the newlines around it belong to the separator).
inline std::vector<std::string> read_inputs(const std::string& path) {
  std::string all;
  std::vector<std::string> inputs;
  if (!read_file(path, all)) return inputs;
  const std::string sep = "\n__ggml_vocab_test__\n";
  size_t pos = 0;
  for (size_t hit; (hit = all.find(sep, pos)) != std::string::npos; pos = hit + sep.size())
    inputs.push_back(all.substr(pos, hit - pos));
  if (pos < all.size()) inputs.push_back(all.substr(pos));
  return inputs;
}

// NAME.inp with NAME.out (one line of ids per input); empty if either is
// missing or they disagree in count.
inline std::vector<VocabCase> read_cases(const std::string& name) {
  std::vector<VocabCase> cases;
  std::vector<std::string> inputs = read_inputs(kVocabDir + name + ".inp");
  std::string out;
  if (inputs.empty() || !read_file(kVocabDir + name + ".out", out)) return cases;
  std::istringstream lines(out);
  std::string line;
  for (size_t i = 0; std::getline(lines, line); ++i) {
    if (i >= inputs.size()) return {};
    VocabCase c;
    c.text = inputs[i];
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  if (cases.size() != inputs.size()) return {};
  return cases;
}

}  // namespace aigc::tokenizer_test
