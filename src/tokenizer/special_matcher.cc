#include "tokenizer/special_matcher.h"

#include <algorithm>
#include <map>

namespace silica::tok {
namespace {

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
         c == '\r';
}

}  // namespace

SpecialMatcher::SpecialMatcher(std::vector<SpecialCandidate> candidates,
                               SpecialMatchMode mode)
    : mode_(mode) {
  // llama.cpp sorts the ids of its special tokens (ascending on entry) by
  // text length with std::sort, which is not stable: sorting the same
  // sequence of ids with the same comparator gives the same tie order.
  std::sort(candidates.begin(), candidates.end(),
            [](const SpecialCandidate& a, const SpecialCandidate& b) {
              return a.id < b.id;
            });
  std::vector<int32_t> order(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) order[i] = static_cast<int32_t>(i);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return candidates[a].text.size() > candidates[b].text.size();
  });
  cands_.reserve(candidates.size());
  for (int32_t i : order) cands_.push_back(candidates[i]);

  // Build the trie with per-node child lists, then flatten it.
  std::vector<std::vector<std::pair<uint8_t, uint32_t>>> children(1);
  std::vector<int32_t> terminal(1, -1);
  for (size_t c = 0; c < cands_.size(); ++c) {
    const std::string_view text = cands_[c].text;
    if (text.empty()) continue;
    uint32_t node = 0;
    for (char ch : text) {
      const auto byte = static_cast<uint8_t>(ch);
      uint32_t next = 0;
      for (const auto& [b, child] : children[node]) {
        if (b == byte) {
          next = child;
          break;
        }
      }
      if (next == 0) {
        next = static_cast<uint32_t>(children.size());
        children[node].push_back({byte, next});
        children.emplace_back();
        terminal.push_back(-1);
      }
      node = next;
    }
    // Identical texts cannot occur (the vocabulary is checked for
    // duplicates); keep the higher-priority one regardless.
    if (terminal[node] < 0) terminal[node] = static_cast<int32_t>(c);
  }
  nodes_.resize(children.size());
  for (size_t n = 0; n < children.size(); ++n) {
    auto& list = children[n];
    std::sort(list.begin(), list.end());
    nodes_[n].first_edge = static_cast<uint32_t>(edges_.size());
    nodes_[n].num_edges = static_cast<uint16_t>(list.size());
    nodes_[n].cand = terminal[n];
    for (const auto& [b, child] : list) edges_.push_back({b, child});
  }
  for (const auto& [b, child] : children[0]) {
    root_child_[b] = static_cast<int32_t>(child);
  }
}

bool SpecialMatcher::FindAll(std::string_view text, bool parse_special,
                             size_t budget, std::vector<Occurrence>* out,
                             std::vector<uint8_t>* present) const {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  bool within_budget = true;
  for (size_t i = 0; i < n; ++i) {
    uint32_t node = static_cast<uint32_t>(root_child_[p[i]]);
    size_t j = i + 1;
    while (node != 0) {
      const Node& nd = nodes_[node];
      if (nd.cand >= 0 && (parse_special || cands_[nd.cand].always)) {
        (*present)[nd.cand] = 1;
        if (within_budget) {
          if (out->size() >= budget) {
            within_budget = false;
            out->clear();
            out->shrink_to_fit();
          } else {
            out->push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(j),
                            static_cast<uint32_t>(nd.cand)});
          }
        }
      }
      node = Step(node, j < n ? p[j] : -1);
      ++j;
    }
  }
  return within_budget;
}

uint32_t SpecialMatcher::Step(uint32_t node, int byte) const {
  const Node& nd = nodes_[node];
  if (byte < 0 || nd.num_edges == 0) return 0;
  const Edge* first = edges_.data() + nd.first_edge;
  const Edge* last = first + nd.num_edges;
  const auto b = static_cast<uint8_t>(byte);
  const Edge* e = std::lower_bound(first, last, b,
                                   [](const Edge& x, uint8_t v) { return x.byte < v; });
  return (e == last || e->byte != b) ? 0 : e->child;
}

void SpecialMatcher::Partition(std::string_view text, bool parse_special,
                               std::vector<Fragment>* out) const {
  if (cands_.empty() || text.empty()) {
    if (!text.empty()) out->push_back({0, static_cast<uint32_t>(text.size()), -1});
    return;
  }
  if (mode_ == SpecialMatchMode::kLeftmostLongest) {
    PartitionLeftmostLongest(text, parse_special, out);
    return;
  }
  // Overlapping tokens (Gemma's runs of 2..31 spaces) can occur ~30 times
  // per input byte; past a budget, stop listing occurrences and search for
  // each token that occurs instead, so memory stays linear in the text.
  std::vector<Occurrence> occ;
  std::vector<uint8_t> present(cands_.size());
  const size_t budget = 4 * text.size() + 4096;
  if (FindAll(text, parse_special, budget, &occ, &present)) {
    ResolveLlamaCpp(text, occ, out);
  } else {
    ResolveLlamaCppBySearch(text, present, out);
  }
}

namespace {

void EmitFragments(std::string_view text, const SpecialMatcher::Claimed& claimed,
                   std::vector<Fragment>* out) {
  uint32_t pos = 0;
  for (const auto& [begin, claim] : claimed) {
    if (begin > pos) out->push_back({pos, begin, -1});
    if (claim.id >= 0) out->push_back({begin, claim.end, claim.id});
    pos = claim.end;
  }
  if (pos < text.size()) {
    out->push_back({pos, static_cast<uint32_t>(text.size()), -1});
  }
}

}  // namespace

void SpecialMatcher::ResolveLlamaCpp(std::string_view text,
                                     std::vector<Occurrence>& occ,
                                     std::vector<Fragment>* out) const {
  std::sort(occ.begin(), occ.end(), [](const Occurrence& a, const Occurrence& b) {
    return a.cand != b.cand ? a.cand < b.cand : a.begin < b.begin;
  });
  const auto n = static_cast<uint32_t>(text.size());
  Claimed claimed;
  uint32_t current = UINT32_MAX;
  uint32_t next_allowed = 0;
  for (const Occurrence& o : occ) {
    if (o.cand != current) {
      current = o.cand;
      next_allowed = 0;
    }
    if (o.begin < next_allowed) continue;
    uint32_t frag_begin, frag_end;
    if (!Unclaimed(claimed, o.begin, o.end, n, &frag_begin, &frag_end)) continue;
    next_allowed = Take(text, cands_[o.cand], o.begin, o.end, frag_begin, frag_end, &claimed);
  }
  EmitFragments(text, claimed, out);
}

bool SpecialMatcher::Unclaimed(const Claimed& claimed, uint32_t begin,
                               uint32_t end, uint32_t n, uint32_t* frag_begin,
                               uint32_t* frag_end) {
  // The occurrence must lie inside one unclaimed fragment.
  auto after = claimed.upper_bound(begin);
  if (after != claimed.end() && after->first < end) return false;
  *frag_begin = 0;
  if (after != claimed.begin()) {
    auto before = std::prev(after);
    if (before->second.end > begin) return false;
    *frag_begin = before->second.end;
  }
  *frag_end = after != claimed.end() ? after->first : n;
  return true;
}

uint32_t SpecialMatcher::Take(std::string_view text, const SpecialCandidate& c,
                              uint32_t begin, uint32_t end, uint32_t frag_begin,
                              uint32_t frag_end, Claimed* claimed) {
  uint32_t left = begin;
  if (c.lstrip) {
    while (left > frag_begin && IsAsciiSpace(text[left - 1])) --left;
  }
  uint32_t right = end;
  if (c.rstrip) {
    while (right < frag_end && IsAsciiSpace(text[right])) ++right;
  }
  if (left < begin) (*claimed)[left] = {begin, -1};
  (*claimed)[begin] = {end, c.id};
  if (right > end) (*claimed)[end] = {right, -1};
  return right;
}

void SpecialMatcher::ResolveLlamaCppBySearch(std::string_view text,
                                             const std::vector<uint8_t>& present,
                                             std::vector<Fragment>* out) const {
  const auto n = static_cast<uint32_t>(text.size());
  Claimed claimed;
  for (size_t c = 0; c < cands_.size(); ++c) {
    if (!present[c]) continue;
    const SpecialCandidate& cand = cands_[c];
    size_t from = 0;
    for (;;) {
      const size_t m = text.find(cand.text, from);
      if (m == std::string_view::npos) break;
      const auto begin = static_cast<uint32_t>(m);
      const auto end = static_cast<uint32_t>(m + cand.text.size());
      uint32_t frag_begin, frag_end;
      if (!Unclaimed(claimed, begin, end, n, &frag_begin, &frag_end)) {
        from = m + 1;
        continue;
      }
      from = Take(text, cand, begin, end, frag_begin, frag_end, &claimed);
    }
  }
  EmitFragments(text, claimed, out);
}

void SpecialMatcher::PartitionLeftmostLongest(std::string_view text, bool parse_special,
                                              std::vector<Fragment>* out) const {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const auto n = static_cast<uint32_t>(text.size());
  Claimed claimed;
  uint32_t pos = 0;  // end of the last token taken
  for (uint32_t i = 0; i < n;) {
    int32_t best = -1;
    uint32_t best_end = 0;
    uint32_t node = static_cast<uint32_t>(root_child_[p[i]]);
    for (uint32_t j = i + 1; node != 0; ++j) {
      const Node& nd = nodes_[node];
      if (nd.cand >= 0 && (parse_special || cands_[nd.cand].always)) {
        best = nd.cand;
        best_end = j;
      }
      node = Step(node, j < n ? p[j] : -1);
    }
    if (best < 0) {
      ++i;
      continue;
    }
    pos = Take(text, cands_[best], i, best_end, pos, n, &claimed);
    i = pos;
  }
  EmitFragments(text, claimed, out);
}

}  // namespace silica::tok
