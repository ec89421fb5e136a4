// Python str operations on UTF-8 text, as the Jinja reference sees strings:
// indices, lengths and slices count code points, whitespace is Python's
// str.isspace() set. Case mapping covers ASCII only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aigc::jinja {

// Byte offsets of each code point start, plus s.size() at the end.
// Invalid UTF-8 bytes count as one code point each.
std::vector<size_t> code_point_offsets(std::string_view s);
size_t code_point_count(std::string_view s);

bool is_py_space(uint32_t cp);
// str.strip/lstrip/rstrip; `chars` null means whitespace.
std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right);
// str.split(sep, maxsplit); `sep` null means runs of whitespace.
std::vector<std::string> py_split(std::string_view s, const std::string* sep, int64_t maxsplit);
// str.splitlines() (without keepends).
std::vector<std::string> py_splitlines(std::string_view s);
std::string py_replace(std::string_view s, std::string_view old_text, std::string_view new_text, int64_t count);
std::string ascii_lower(std::string_view s);
std::string ascii_upper(std::string_view s);
std::string py_capitalize(std::string_view s);
std::string py_title(std::string_view s);

}  // namespace aigc::jinja
