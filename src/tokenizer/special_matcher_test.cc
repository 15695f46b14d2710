#include "tokenizer/special_matcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <list>
#include <random>
#include <string>
#include <vector>

namespace silica::tok {
namespace {

// llama.cpp's partition written the slow, obvious way: for each token,
// longest first, split every remaining text fragment at its occurrences.
std::vector<Fragment> NaiveLlamaPartition(const std::vector<std::string>& texts,
                                          const std::string& text) {
  std::vector<int32_t> order(texts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return texts[a].size() > texts[b].size(); });
  std::list<Fragment> frags;
  if (!text.empty()) frags.push_back({0, static_cast<uint32_t>(text.size()), -1});
  for (int32_t id : order) {
    const std::string& t = texts[id];
    for (auto it = frags.begin(); it != frags.end(); ++it) {
      if (it->id >= 0) continue;
      const std::string_view view(text.data(), it->end);
      size_t m = view.find(t, it->begin);
      if (m == std::string_view::npos) continue;
      const Fragment whole = *it;
      it = frags.erase(it);
      uint32_t pos = whole.begin;
      while (m != std::string_view::npos) {
        if (m > pos) frags.insert(it, {pos, static_cast<uint32_t>(m), -1});
        frags.insert(it, {static_cast<uint32_t>(m), static_cast<uint32_t>(m + t.size()), id});
        pos = static_cast<uint32_t>(m + t.size());
        m = view.find(t, pos);
      }
      if (pos < whole.end) {
        it = frags.insert(it, {pos, whole.end, -1});
      } else {
        --it;
      }
    }
  }
  return {frags.begin(), frags.end()};
}

bool Same(const std::vector<Fragment>& a, const std::vector<Fragment>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].begin != b[i].begin || a[i].end != b[i].end || a[i].id != b[i].id) return false;
  }
  return true;
}

TEST(SpecialMatcher, MatchesLlamaCppOnRandomTextBothPaths) {
  // Overlapping tokens: runs of spaces (like Gemma's) and crossing pairs.
  std::vector<std::string> texts = {"ab", "bcd", "cd", "\n\n", "<t>", "t><"};
  for (int n = 2; n <= 9; ++n) texts.push_back(std::string(n, ' '));
  std::vector<SpecialCandidate> cands;
  for (size_t i = 0; i < texts.size(); ++i) {
    cands.push_back({static_cast<int32_t>(i), texts[i], true, false, false});
  }
  const SpecialMatcher m(cands, SpecialMatchMode::kLlamaCpp);
  const std::string alphabet[] = {"a", "b", "c", "d", " ", "   ", "\n", "<", "t", ">"};
  std::mt19937 rng(7);
  for (int iter = 0; iter < 400; ++iter) {
    // Short texts stay under the occurrence budget; long space-heavy ones
    // exceed it and take the search path.
    const int len = iter % 4 == 0 ? 3000 : 1 + static_cast<int>(rng() % 40);
    std::string text;
    for (int i = 0; i < len; ++i) {
      // Long texts are mostly spaces: ~8 occurrences per byte, past the budget.
      text += (len > 100 && rng() % 40 != 0) ? std::string(" ") : alphabet[rng() % 10];
    }
    std::vector<Fragment> got;
    m.Partition(text, false, &got);
    ASSERT_TRUE(Same(got, NaiveLlamaPartition(texts, text))) << "text: '" << text << "'";
  }
}

TEST(SpecialMatcher, LeftmostLongest) {
  const std::vector<std::string> texts = {"ab", "abc", "bcd"};
  std::vector<SpecialCandidate> cands;
  for (size_t i = 0; i < texts.size(); ++i) {
    cands.push_back({static_cast<int32_t>(i), texts[i], i != 1, false, false});
  }
  const SpecialMatcher m(cands, SpecialMatchMode::kLeftmostLongest);
  std::vector<Fragment> got;
  m.Partition("xabcd", true, &got);
  EXPECT_TRUE(Same(got, {{0, 1, -1}, {1, 4, 1}, {4, 5, -1}}));
  got.clear();
  m.Partition("xabcd", false, &got);  // "abc" is a control token: not matched
  EXPECT_TRUE(Same(got, {{0, 1, -1}, {1, 3, 0}, {3, 5, -1}}));
}

}  // namespace
}  // namespace silica::tok
