// Byte-level BPE merging of one word.
#include "text/tokenizer/bpe.h"

#include <algorithm>
#include <string>

#include "text/tokenizer/utf8.h"

namespace aigc {

namespace {

// Heap order: the lowest rank on top, then the leftmost pair.
template <class C>
bool after(const C& a, const C& b) {
  return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
}

}  // namespace

void BpeSession::add_candidate(int32_t left, int32_t right) {
  if (left < 0 || right < 0) return;
  const Symbol& l = symbols_[size_t(left)];
  const Symbol& r = symbols_[size_t(right)];
  if (l.id < 0 || r.id < 0) return;
  const Vocab::Merge* m = vocab_.find_merge(l.id, r.id);
  if (m == nullptr) return;
  heap_.push_back({m->rank, left, right, l.id, r.id});
  std::push_heap(heap_.begin(), heap_.end(), after<Candidate>);
}

void BpeSession::encode_word(std::string_view word, bool ignore_merges, std::vector<int32_t>& out) {
  if (word.empty()) return;
  if (ignore_merges) {
    const int32_t id = vocab_.find(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  symbols_.clear();
  heap_.clear();
  for (size_t i = 0; i < word.size();) {
    const size_t len = std::max<size_t>(1, utf8_valid_prefix(word.substr(i)));
    const int32_t index = int32_t(symbols_.size());
    symbols_.push_back({uint32_t(i), uint32_t(len), vocab_.find(word.substr(i, len)), index - 1,
                        i + len < word.size() ? index + 1 : -1});
    i += len;
  }
  for (int32_t i = 1; i < int32_t(symbols_.size()); ++i) add_candidate(i - 1, i);

  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), after<Candidate>);
    const Candidate c = heap_.back();
    heap_.pop_back();
    Symbol& l = symbols_[size_t(c.left)];
    Symbol& r = symbols_[size_t(c.right)];
    // Stale: one side was merged away or has grown since the candidate was made.
    if (l.len == 0 || r.len == 0 || l.id != c.left_id || r.id != c.right_id || l.next != c.right) continue;
    l.id = vocab_.find_merge(l.id, r.id)->result;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols_[size_t(r.next)].prev = c.left;
    add_candidate(l.prev, c.left);
    add_candidate(c.left, l.next);
  }

  for (const Symbol& s : symbols_) {
    if (s.len == 0) continue;
    if (s.id >= 0) {
      out.push_back(s.id);
      continue;
    }
    for (char b : word.substr(s.start, s.len)) {
      const int32_t id = vocab_.find(std::string_view(&b, 1));
      if (id >= 0) {
        out.push_back(id);
      } else if (vocab_.unk_id() >= 0) {
        out.push_back(vocab_.unk_id());
      }
    }
  }
}

}  // namespace aigc
