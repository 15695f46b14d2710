#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include "tokenizer/spec.h"
#include "tokenizer/test_util.h"

namespace silica {
namespace {

using tok::testing::Bl;
using tok::testing::ByteLevelSpec;

std::unique_ptr<Tokenizer> Make(tok::TokenizerSpec spec) {
  auto t = Tokenizer::FromSpec(std::move(spec));
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : nullptr;
}

TEST(ByteLevelBpe, MergesByRankThenLeftmost) {
  // ids: 256 "ab", 257 "bc", 258 "abc", 259 "aa"
  auto tok = Make(ByteLevelSpec({"ab", "bc", "abc", "aa"},
                                {{"b", "c"}, {"a", "b"}, {"a", "bc"}, {"a", "a"}}));
  ASSERT_TRUE(tok);
  // "bc" has the lower rank, so a+bc, not ab+c.
  EXPECT_EQ(tok->Encode("abc"), (std::vector<int32_t>{258}));
  EXPECT_EQ(tok->Encode("ab"), (std::vector<int32_t>{256}));
  // Equal ranks merge leftmost first.
  EXPECT_EQ(tok->Encode("aaa"), (std::vector<int32_t>{259, 'a'}));
  EXPECT_EQ(tok->Encode("aaaa"), (std::vector<int32_t>{259, 259}));
  // Words are merged separately: " abc" is ' ' + "abc" (GPT-2 split keeps
  // the space with the word, but there is no merge for it).
  EXPECT_EQ(tok->Encode("abc abc"), (std::vector<int32_t>{258, ' ', 258}));
  EXPECT_EQ(tok->Decode(tok->Encode("abc abc")), "abc abc");
}

TEST(ByteLevelBpe, LongWordsUseTheHeapPathIdentically) {
  auto tok = Make(ByteLevelSpec({"aa", "aaaa"}, {{"a", "a"}, {"aa", "aa"}}));
  ASSERT_TRUE(tok);
  const std::string word(101, 'a');  // > the short-word threshold
  std::vector<int32_t> want(25, 257);
  want.push_back('a');
  EXPECT_EQ(tok->Encode(word), want);
  EXPECT_EQ(tok->Decode(want), word);
}

TEST(ByteLevelBpe, InvalidUtf8BecomesReplacementCharacters) {
  auto tok = Make(ByteLevelSpec({}, {}));
  ASSERT_TRUE(tok);
  // Like llama.cpp: each byte that starts no valid sequence is U+FFFD.
  const std::vector<int32_t> ids = tok->Encode("a\x80" "b");
  EXPECT_EQ(ids, (std::vector<int32_t>{'a', 0xEF, 0xBF, 0xBD, 'b'}));
  EXPECT_EQ(tok->Decode(ids), "a\xEF\xBF\xBD" "b");
}

TEST(SpecialTokens, ControlOnlyWithParseSpecialUserDefinedAlways) {
  auto spec = ByteLevelSpec({"<|im_start|>", "<tool>"}, {});
  spec.types.assign(spec.tokens.size(), TokenType::kNormal);
  spec.types[256] = TokenType::kControl;
  spec.types[257] = TokenType::kUserDefined;
  auto tok = Make(std::move(spec));
  ASSERT_TRUE(tok);
  const std::string text = "<|im_start|>x<tool>";
  const std::vector<int32_t> plain = tok->Encode(text);
  EXPECT_EQ(plain.back(), 257);  // user-defined: matched anyway
  EXPECT_EQ(plain.size(), 12u + 1 + 1);  // control spelled out byte by byte
  EXPECT_EQ(tok->Encode(text, {false, true}), (std::vector<int32_t>{256, 'x', 257}));
  EXPECT_TRUE(tok->IsSpecial(256));
  EXPECT_FALSE(tok->IsSpecial(257));
  EXPECT_EQ(tok->Decode(std::vector<int32_t>{256, 'x', 257}, /*skip_special=*/true), "x<tool>");
  EXPECT_EQ(tok->Decode(std::vector<int32_t>{256, 'x'}), "<|im_start|>x");
}

TEST(SpecialTokens, OverlapResolutionFollowsTheMatchMode) {
  for (auto mode : {tok::SpecialMatchMode::kLlamaCpp, tok::SpecialMatchMode::kLeftmostLongest}) {
    auto spec = ByteLevelSpec({"ab", "bcd"}, {});
    spec.types.assign(spec.tokens.size(), TokenType::kNormal);
    spec.types[256] = spec.types[257] = TokenType::kUserDefined;
    spec.match_mode = mode;
    auto tok = Make(std::move(spec));
    ASSERT_TRUE(tok);
    if (mode == tok::SpecialMatchMode::kLlamaCpp) {
      // llama.cpp takes the longest token everywhere first.
      EXPECT_EQ(tok->Encode("abcd"), (std::vector<int32_t>{'a', 257}));
    } else {
      EXPECT_EQ(tok->Encode("abcd"), (std::vector<int32_t>{256, 'c', 'd'}));
    }
  }
}

TEST(SpecialTokens, StripsWhitespaceWhenAsked) {
  auto spec = ByteLevelSpec({"<x>"}, {});
  spec.types.assign(spec.tokens.size(), TokenType::kNormal);
  spec.types[256] = TokenType::kControl;
  spec.strips.push_back({256, true, true});
  auto tok = Make(std::move(spec));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->Encode("a  <x>  b", {false, true}), (std::vector<int32_t>{'a', 256, 'b'}));
}

tok::TokenizerSpec SpmSpec() {
  tok::TokenizerSpec spec;
  spec.name = "test-spm";
  spec.algorithm = tok::Algorithm::kSpmScores;
  spec.tokens = {"<unk>", "<s>", "</s>"};
  spec.types = {TokenType::kUnknown, TokenType::kControl, TokenType::kControl};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    spec.tokens.push_back(buf);
    spec.types.push_back(TokenType::kByte);
  }
  // 259.. : pieces with scores (higher merges first)
  const std::vector<std::pair<std::string, float>> pieces = {
      {"\xE2\x96\x81", -1}, {"h", -2}, {"e", -2}, {"l", -2}, {"o", -2},
      {"\xE2\x96\x81h", -3}, {"he", -9}, {"ll", -4}, {"llo", -5},
      {"\xE2\x96\x81he", -6}, {"\xE2\x96\x81hello", -7}};
  spec.scores.assign(spec.tokens.size(), 0.0f);
  for (const auto& [t, s] : pieces) {
    spec.tokens.push_back(t);
    spec.types.push_back(TokenType::kNormal);
    spec.scores.push_back(s);
  }
  spec.special.unk = 0;
  spec.special.bos = 1;
  spec.special.eos = 2;
  spec.add_bos = true;
  spec.add_space_prefix = true;
  return spec;
}

TEST(SentencePiece, ScoresPrefixSpaceAndByteFallback) {
  auto tok = Make(SpmSpec());
  ASSERT_TRUE(tok);
  const int32_t hello = *tok->TokenId("\xE2\x96\x81hello");
  EXPECT_EQ(tok->Encode("hello"), (std::vector<int32_t>{hello}));
  EXPECT_EQ(tok->Encode("hello", {true, false}), (std::vector<int32_t>{1, hello}));
  // 'é' (C3 A9) is no token: byte fallback.
  const int32_t h = *tok->TokenId("\xE2\x96\x81h");
  EXPECT_EQ(tok->Encode("h\xC3\xA9"), (std::vector<int32_t>{h, 3 + 0xC3, 3 + 0xA9}));
  EXPECT_EQ(tok->Decode(tok->Encode("h\xC3\xA9")), "h\xC3\xA9");
  EXPECT_EQ(tok->Decode(tok->Encode("hello hello")), "hello hello");
  EXPECT_EQ(tok->Decode(std::vector<int32_t>{1, hello}, true), "hello");
}

TEST(IncrementalDecoder, HoldsSplitCharactersAndMatchesDecode) {
  auto tok = Make(ByteLevelSpec({}, {}));
  ASSERT_TRUE(tok);
  const std::string text = "h\xC3\xA9llo \xF0\x9F\x8D\x95!";
  const std::vector<int32_t> ids = tok->Encode(text);
  ASSERT_EQ(ids.size(), text.size());  // no merges: one token per byte
  IncrementalDecoder dec(*tok);
  std::string out;
  for (int32_t id : ids) {
    const std::string piece = dec.Add(id);
    EXPECT_TRUE(piece.empty() || tok::IsValidUtf8(piece));
    out += piece;
  }
  out += dec.Flush();
  EXPECT_EQ(out, text);
}

TEST(IncrementalDecoder, ReplacesInvalidBytesNeverPassesThem) {
  auto tok = Make(ByteLevelSpec({}, {}));
  ASSERT_TRUE(tok);
  IncrementalDecoder dec(*tok);
  EXPECT_EQ(dec.Add(0xE2), "");
  EXPECT_EQ(dec.Add(0x82), "");
  EXPECT_EQ(dec.Add('a'), "\xEF\xBF\xBD" "a");  // E2 82 never completed
  EXPECT_EQ(dec.Add(0xFF), "\xEF\xBF\xBD");     // can never start a character
  EXPECT_EQ(dec.Add(0xF0), "");
  EXPECT_EQ(dec.Add(0x9F), "");
  EXPECT_EQ(dec.Flush(), "\xEF\xBF\xBD");  // cut short at the end
}

TEST(IncrementalDecoder, StripsSentencePieceLeadingSpace) {
  auto tok = Make(SpmSpec());
  ASSERT_TRUE(tok);
  const std::vector<int32_t> ids = tok->Encode("hello hello", {true, false});
  IncrementalDecoder dec(*tok);
  std::string out;
  for (int32_t id : ids) out += dec.Add(id);
  out += dec.Flush();
  EXPECT_EQ(out, "hello hello");
  EXPECT_EQ(out, tok->Decode(ids, true));
}

}  // namespace
}  // namespace silica
