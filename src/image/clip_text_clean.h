// Text cleaning of the original CLIP tokenizer (OpenAI simple_tokenizer.py):
// ftfy.fix_text, html.unescape twice, whitespace runs collapsed to one space,
// strip, lowercase.
//
// ftfy is approximated by its character-level fixes (HTML entities when the
// text has no '<', C1 controls read as Windows-1252, full-width forms, curly
// quotes, Latin ligatures, control characters removed); its mojibake repair
// and NFC normalisation are not done. html.unescape follows Python's rules
// (numeric references, names with and without ';', longest legacy prefix)
// with the legacy names and the common ';' names of the HTML5 table.
// Lowercasing and whitespace are Python's str.lower()/str.isspace() (Unicode
// 14), tables from tools/reference/clip_tokenizer_ref.py.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace aigc {

// OK, or InvalidArgument "<what>: invalid UTF-8 at byte offset N (0xAB)"
// (RFC 3629: no overlong forms, surrogates or code points above U+10FFFF).
Status clip_validate_utf8(std::string_view s, std::string_view what);

// `text` must be valid UTF-8 (the caller validates); the result is valid UTF-8.
std::string clip_clean_text(std::string_view text);

}  // namespace aigc
