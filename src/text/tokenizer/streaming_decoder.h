// StreamingDecoder: turns generated token ids into text one token at a
// time, never emitting part of a UTF-8 character. Bytes that end in an
// incomplete character are held back until a later token completes it;
// bytes that cannot become valid UTF-8 are replaced by U+FFFD, so the output
// is always valid UTF-8 (and equals decode() when that is valid).
//
// One decoder per stream; not thread-safe. It refers to its Tokenizer, which
// must outlive it.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "text/tokenizer/tokenizer.h"

namespace aigc {

class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool render_special = false)
      : tokenizer_(tokenizer), render_special_(render_special) {}

  // The text that token `id` completes (often "", or several characters).
  // InvalidArgument for an id outside the vocabulary (the stream is unchanged).
  Result<std::string> push(int32_t id);
  // The end of the stream: held-back bytes, each as U+FFFD. The decoder is
  // then reset for a new stream.
  std::string finish();

  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer& tokenizer_;
  bool render_special_;
  Tokenizer::DecodeState state_;
  std::string pending_;  // bytes not yet emitted: at most one incomplete character
};

}  // namespace aigc
