// SentencePiece BPE merging with byte fallback.
#include "text/tokenizer/spm.h"

#include <algorithm>

#include "text/tokenizer/utf8.h"

namespace aigc {

namespace {

// Heap order: the highest score on top, then the leftmost pair.
template <class C>
bool after(const C& a, const C& b) {
  return a.score < b.score || (a.score == b.score && a.left > b.left);
}

}  // namespace

void SpmSession::add_candidate(std::string_view text, int32_t left, int32_t right) {
  if (left < 0 || right < 0) return;
  const Symbol& l = symbols_[size_t(left)];
  const uint32_t len = l.len + symbols_[size_t(right)].len;
  const int32_t id = vocab_.find(text.substr(l.start, len));
  if (id < 0) return;
  heap_.push_back({vocab_.score(id), left, right, len});
  std::push_heap(heap_.begin(), heap_.end(), after<Candidate>);
}

void SpmSession::encode(std::string_view text, std::vector<int32_t>& out) {
  symbols_.clear();
  heap_.clear();
  for (size_t i = 0; i < text.size();) {
    const size_t len = std::max<size_t>(1, utf8_valid_prefix(text.substr(i)));
    const int32_t index = int32_t(symbols_.size());
    symbols_.push_back({uint32_t(i), uint32_t(len), index - 1, i + len < text.size() ? index + 1 : -1});
    i += len;
  }
  for (int32_t i = 1; i < int32_t(symbols_.size()); ++i) add_candidate(text, i - 1, i);

  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), after<Candidate>);
    const Candidate c = heap_.back();
    heap_.pop_back();
    Symbol& l = symbols_[size_t(c.left)];
    Symbol& r = symbols_[size_t(c.right)];
    // Stale: one side was merged away or has changed since.
    if (l.len == 0 || r.len == 0 || l.len + r.len != c.len || l.next != c.right) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols_[size_t(r.next)].prev = c.left;
    add_candidate(text, l.prev, c.left);
    add_candidate(text, c.left, l.next);
  }

  for (const Symbol& s : symbols_) {
    if (s.len == 0) continue;
    const std::string_view piece = text.substr(s.start, s.len);
    const int32_t id = vocab_.find(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (char b : piece) {
      const int32_t byte_id = vocab_.byte_token(uint8_t(b));
      if (byte_id >= 0) {
        out.push_back(byte_id);
      } else if (vocab_.unk_id() >= 0) {
        out.push_back(vocab_.unk_id());
      }
    }
  }
}

}  // namespace aigc
