#include "tokenizer/bpe.h"

#include <algorithm>
#include <climits>

#include "tokenizer/unicode.h"

namespace silica::tok {
namespace {

// Short words (nearly all of them): keep the pair ranks in an array and scan
// for the minimum; cheaper than a heap below a few dozen symbols.
void MergeShort(const MergeTable& merges, std::vector<int32_t>* ids_ptr,
                MergeScratch* s) {
  std::vector<int32_t>& ids = *ids_ptr;
  size_t n = ids.size();
  s->ranks.resize(n);
  s->results.resize(n);
  for (size_t i = 0; i + 1 < n; ++i) {
    s->ranks[i] = merges.Find(ids[i], ids[i + 1], &s->results[i]);
  }
  int32_t* ranks = s->ranks.data();
  int32_t* results = s->results.data();
  while (n > 1) {
    int32_t best = INT32_MAX;
    size_t at = 0;
    for (size_t i = 0; i + 1 < n; ++i) {
      if (ranks[i] < best) {
        best = ranks[i];
        at = i;
      }
    }
    if (best == INT32_MAX) break;
    ids[at] = results[at];
    // Remove element at+1 from ids / ranks / results.
    for (size_t i = at + 1; i + 1 < n; ++i) {
      ids[i] = ids[i + 1];
      ranks[i] = ranks[i + 1];
      results[i] = results[i + 1];
    }
    --n;
    if (at > 0) ranks[at - 1] = merges.Find(ids[at - 1], ids[at], &results[at - 1]);
    if (at + 1 < n) ranks[at] = merges.Find(ids[at], ids[at + 1], &results[at]);
  }
  ids.resize(n);
}

struct RankGreater {
  bool operator()(const MergeScratch::Cand& a, const MergeScratch::Cand& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  }
};

void MergeLong(const MergeTable& merges, std::vector<int32_t>* ids,
               MergeScratch* s) {
  const int32_t n = static_cast<int32_t>(ids->size());
  auto& syms = s->syms;
  auto& heap = s->heap;
  syms.resize(n);
  heap.clear();
  for (int32_t i = 0; i < n; ++i) {
    syms[i] = {(*ids)[i], i - 1, i + 1 < n ? i + 1 : -1, 0, 1};
  }
  auto push = [&](int32_t left) {
    if (left < 0) return;
    const int32_t right = syms[left].next;
    if (right < 0) return;
    int32_t result;
    const int32_t rank = merges.Find(syms[left].id, syms[right].id, &result);
    if (rank == INT32_MAX) return;
    heap.push_back({0.0f, rank, left, syms[right].id, syms[left].id,
                    static_cast<uint32_t>(result)});
    std::push_heap(heap.begin(), heap.end(), RankGreater());
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), RankGreater());
    const MergeScratch::Cand c = heap.back();
    heap.pop_back();
    MergeScratch::Sym& l = syms[c.left];
    if (l.len == 0 || l.id != c.left_id || l.next < 0) continue;
    MergeScratch::Sym& r = syms[l.next];
    if (r.id != c.right_id) continue;
    l.id = static_cast<int32_t>(c.len);  // the merge result
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = c.left;
    push(l.prev);
    push(c.left);
  }
  ids->clear();
  for (int32_t i = 0; i >= 0 && i < n; i = syms[i].next) ids->push_back(syms[i].id);
}

}  // namespace

void RankBpeMerge(const MergeTable& merges, std::vector<int32_t>* ids,
                  MergeScratch* scratch) {
  if (ids->size() < 2 || merges.empty()) return;
  if (ids->size() <= 48) {
    MergeShort(merges, ids, scratch);
  } else {
    MergeLong(merges, ids, scratch);
  }
}

namespace {

struct ScoreLess {
  // std heap is a max-heap: highest score on top, then the leftmost.
  bool operator()(const MergeScratch::Cand& a, const MergeScratch::Cand& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

void ScoreBpeEncode(std::string_view text, const TextIndex& index,
                    const std::vector<float>& scores,
                    const int32_t* byte_tokens, int32_t unk_id,
                    std::vector<int32_t>* out, MergeScratch* s) {
  auto& syms = s->syms;
  auto& heap = s->heap;
  syms.clear();
  heap.clear();
  const size_t n = text.size();
  for (size_t off = 0; off < n;) {
    const size_t len =
        std::min(Utf8LenFromLead(static_cast<uint8_t>(text[off])), n - off);
    const auto idx = static_cast<int32_t>(syms.size());
    syms.push_back({-1, idx - 1, off + len < n ? idx + 1 : -1,
                    static_cast<uint32_t>(off), static_cast<uint32_t>(len)});
    off += len;
  }
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t len = syms[left].len + syms[right].len;
    const int32_t id = index.Find(text.substr(syms[left].begin, len));
    if (id < 0) return;
    heap.push_back({scores[id], 0, left, right, id, len});
    std::push_heap(heap.begin(), heap.end(), ScoreLess());
  };
  for (int32_t i = 1; i < static_cast<int32_t>(syms.size()); ++i) try_add(i - 1, i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), ScoreLess());
    const MergeScratch::Cand c = heap.back();
    heap.pop_back();
    MergeScratch::Sym& l = syms[c.left];
    MergeScratch::Sym& r = syms[c.right_id];
    // Stale: one side was merged away or grew since this was queued.
    if (l.len == 0 || r.len == 0 || l.len + r.len != c.len) continue;
    l.len += r.len;
    l.id = c.left_id;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = c.left;
    try_add(l.prev, c.left);
    try_add(c.left, l.next);
  }
  for (int32_t i = syms.empty() ? -1 : 0; i >= 0; i = syms[i].next) {
    const MergeScratch::Sym& sym = syms[i];
    int32_t id = sym.id;
    if (id < 0) id = index.Find(text.substr(sym.begin, sym.len));
    if (id >= 0) {
      out->push_back(id);
      continue;
    }
    for (uint32_t j = 0; j < sym.len; ++j) {
      const int32_t b = byte_tokens[static_cast<uint8_t>(text[sym.begin + j])];
      if (b >= 0) {
        out->push_back(b);
      } else if (unk_id >= 0) {
        out->push_back(unk_id);
      }
    }
  }
}

}  // namespace silica::tok
