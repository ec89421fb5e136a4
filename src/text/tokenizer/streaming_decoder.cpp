// StreamingDecoder: UTF-8-safe incremental detokenization.
#include "text/tokenizer/streaming_decoder.h"

#include "text/tokenizer/utf8.h"

namespace aigc {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

Result<std::string> StreamingDecoder::push(int32_t id) {
  if (!tokenizer_.vocab().contains(id))
    return Status::invalid_argument("streaming decode: token id " + std::to_string(id) + " is outside the " +
                                    std::to_string(tokenizer_.n_vocab()) + "-token vocabulary");
  tokenizer_.decode_append(id, render_special_, state_, pending_);
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    const std::string_view rest = std::string_view(pending_).substr(i);
    const size_t len = utf8_valid_prefix(rest);
    if (len > 0) {
      out.append(rest.substr(0, len));
      i += len;
    } else if (utf8_is_incomplete(rest)) {
      break;  // wait for the bytes that complete it
    } else {
      out += kReplacement;
      ++i;
    }
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamingDecoder::finish() {
  std::string out;
  for (size_t i = 0; i < pending_.size(); ++i) out += kReplacement;
  pending_.clear();
  state_ = Tokenizer::DecodeState();
  return out;
}

}  // namespace aigc
