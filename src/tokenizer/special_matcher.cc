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

void SpecialMatcher::FindAll(std::string_view text, bool parse_special,
                             std::vector<Occurrence>* out) const {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n; ++i) {
    uint32_t node = static_cast<uint32_t>(root_child_[p[i]]);
    size_t j = i + 1;
    while (node != 0) {
      const Node& nd = nodes_[node];
      if (nd.cand >= 0 && (parse_special || cands_[nd.cand].always)) {
        out->push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(j),
                        static_cast<uint32_t>(nd.cand)});
      }
      if (j >= n || nd.num_edges == 0) break;
      const Edge* first = edges_.data() + nd.first_edge;
      const Edge* last = first + nd.num_edges;
      const uint8_t b = p[j];
      const Edge* e = std::lower_bound(
          first, last, b, [](const Edge& x, uint8_t v) { return x.byte < v; });
      if (e == last || e->byte != b) break;
      node = e->child;
      ++j;
    }
  }
}

void SpecialMatcher::Partition(std::string_view text, bool parse_special,
                               std::vector<Fragment>* out) const {
  std::vector<Occurrence> occ;
  if (!cands_.empty()) FindAll(text, parse_special, &occ);
  if (occ.empty()) {
    if (!text.empty()) {
      out->push_back({0, static_cast<uint32_t>(text.size()), -1});
    }
    return;
  }
  if (mode_ == SpecialMatchMode::kLlamaCpp) {
    ResolveLlamaCpp(text, occ, out);
  } else {
    ResolveLeftmostLongest(text, occ, out);
  }
}

namespace {

struct Claim {
  uint32_t end;
  int32_t id;  // -1: stripped whitespace, in no fragment
};

void EmitFragments(std::string_view text,
                   const std::map<uint32_t, Claim>& claimed,
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
  std::map<uint32_t, Claim> claimed;
  uint32_t current = UINT32_MAX;
  uint32_t next_allowed = 0;
  for (const Occurrence& o : occ) {
    if (o.cand != current) {
      current = o.cand;
      next_allowed = 0;
    }
    if (o.begin < next_allowed) continue;
    // The occurrence must lie inside one unclaimed fragment.
    auto after = claimed.upper_bound(o.begin);
    if (after != claimed.end() && after->first < o.end) continue;
    uint32_t frag_begin = 0;
    if (after != claimed.begin()) {
      auto before = std::prev(after);
      if (before->second.end > o.begin) continue;
      frag_begin = before->second.end;
    }
    const uint32_t frag_end = after != claimed.end() ? after->first : n;
    const SpecialCandidate& c = cands_[o.cand];
    uint32_t left = o.begin;
    if (c.lstrip) {
      while (left > frag_begin && IsAsciiSpace(text[left - 1])) --left;
    }
    uint32_t right = o.end;
    if (c.rstrip) {
      while (right < frag_end && IsAsciiSpace(text[right])) ++right;
    }
    if (left < o.begin) claimed[left] = {o.begin, -1};
    claimed[o.begin] = {o.end, c.id};
    if (right > o.end) claimed[o.end] = {right, -1};
    next_allowed = right;
  }
  EmitFragments(text, claimed, out);
}

void SpecialMatcher::ResolveLeftmostLongest(std::string_view text,
                                            std::vector<Occurrence>& occ,
                                            std::vector<Fragment>* out) const {
  // FindAll lists occurrences by start, shorter first at one start.
  std::stable_sort(occ.begin(), occ.end(),
                   [](const Occurrence& a, const Occurrence& b) {
                     return a.begin != b.begin ? a.begin < b.begin
                                               : a.end > b.end;
                   });
  const auto n = static_cast<uint32_t>(text.size());
  std::map<uint32_t, Claim> claimed;
  uint32_t pos = 0;
  for (const Occurrence& o : occ) {
    if (o.begin < pos) continue;
    const SpecialCandidate& c = cands_[o.cand];
    uint32_t left = o.begin;
    if (c.lstrip) {
      while (left > pos && IsAsciiSpace(text[left - 1])) --left;
    }
    uint32_t right = o.end;
    if (c.rstrip) {
      while (right < n && IsAsciiSpace(text[right])) ++right;
    }
    if (left < o.begin) claimed[left] = {o.begin, -1};
    claimed[o.begin] = {o.end, c.id};
    if (right > o.end) claimed[o.end] = {right, -1};
    pos = right;
  }
  EmitFragments(text, claimed, out);
}

}  // namespace silica::tok
