#include "tokenizer/pretokenizer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tokenizer/unicode.h"

namespace silica::tok {
namespace {

std::vector<std::string> Words(const std::vector<SplitRule>& rules, const std::string& text) {
  auto pt = PreTokenizer::Create(rules);
  EXPECT_TRUE(pt.ok()) << pt.status().ToString();
  std::vector<Range> ranges;
  pt->Split(text, &ranges);
  std::vector<std::string> out;
  for (const Range& r : ranges) out.push_back(text.substr(r.first, r.second - r.first));
  return out;
}

SplitRule B(BuiltinPattern p) { return {p, {}, SplitBehavior::kIsolated, false}; }
SplitRule R(const char* re, SplitBehavior b = SplitBehavior::kIsolated) {
  return {BuiltinPattern::kNone, re, b, false};
}

constexpr const char* kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

TEST(PreTokenizer, Gpt2Examples) {
  EXPECT_EQ(Words({B(BuiltinPattern::kGpt2)}, "Hello world's   end!!\n"),
            (std::vector<std::string>{"Hello", " world", "'s", "  ", " end", "!!", "\n"}));
}

TEST(PreTokenizer, Llama3Examples) {
  EXPECT_EQ(Words({B(BuiltinPattern::kLlama3)}, "I'M 12345 ok\r\n\n  x"),
            (std::vector<std::string>{"I", "'M", " ", "123", "45", " ok", "\r\n\n", " ", " x"}));
}

TEST(PreTokenizer, DigitsThenGpt2LikeSmolLM) {
  EXPECT_EQ(Words({B(BuiltinPattern::kDigits), B(BuiltinPattern::kGpt2)}, "a 12b"),
            (std::vector<std::string>{"a", " ", "1", "2", "b"}));
}

TEST(PreTokenizer, SplitBehaviours) {
  EXPECT_EQ(Words({R("-", SplitBehavior::kRemoved)}, "a-b--c"),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Words({R("-", SplitBehavior::kMergedWithPrevious)}, "a-b--c"),
            (std::vector<std::string>{"a-", "b-", "-", "c"}));
  EXPECT_EQ(Words({R("-", SplitBehavior::kMergedWithNext)}, "a-b--c"),
            (std::vector<std::string>{"a", "-b", "-", "-c"}));
  EXPECT_EQ(Words({R("-", SplitBehavior::kContiguous)}, "a-b--c"),
            (std::vector<std::string>{"a", "-", "b", "--", "c"}));
  // An empty match must not loop forever.
  EXPECT_EQ(Words({R("x*")}, "ab"), (std::vector<std::string>{"a", "b"}));
}

// The hand-written patterns must agree with PCRE2 running the regex they
// stand for, on random text mixing the character classes they care about.
TEST(PreTokenizer, BuiltinsAgreeWithPcre2) {
  const std::vector<std::string> alphabet = {
      "a", "Z", "k", "0", "7", "'", "s", "t", "re", "LL", "D", " ", " ", "  ",
      "\t", "\n", "\r", "!", ".", "-", "\xC3\xA9", "\xE4\xB8\xAD", "\xC2\xB2",
      "\xD9\xA3", "\xC2\xA0", "\xE3\x80\x80", "\xCC\x81", "\xF0\x9F\x8D\x95",
      "\xE2\x80\x94", "$"};
  std::mt19937 rng(42);
  const std::pair<BuiltinPattern, const char*> pairs[] = {
      {BuiltinPattern::kGpt2, kGpt2},
      {BuiltinPattern::kLlama3, kLlama3},
      {BuiltinPattern::kQwen2, kQwen2},
      {BuiltinPattern::kDigits, R"(\p{N})"}};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text;
    const int n = 1 + static_cast<int>(rng() % 24);
    for (int i = 0; i < n; ++i) text += alphabet[rng() % alphabet.size()];
    for (const auto& [builtin, re] : pairs) {
      ASSERT_EQ(Words({B(builtin)}, text), Words({R(re)}, text))
          << "pattern " << re << " on '" << text << "'";
    }
  }
}

TEST(Unicode, ReplacementAndCompletePrefix) {
  EXPECT_EQ(ReplaceInvalidUtf8("a\xE2\x82" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(ReplaceInvalidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ReplaceInvalidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(CompleteUtf8Prefix("ab\xF0\x9F\x8D"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xF0\x9F\x8D\x95"), 6u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xFF"), 3u);
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));
  std::string out;
  EXPECT_TRUE(LlamaSanitize("x\xC0\xAFy", &out));
  EXPECT_EQ(out, "x/y");  // llama.cpp decodes overlong forms
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(UnicodeToByte(ByteToUnicode(static_cast<uint8_t>(b))), b);
  }
  EXPECT_EQ(ByteToUnicode(' '), 0x120u);  // 'Ġ'
}

}  // namespace
}  // namespace silica::tok
