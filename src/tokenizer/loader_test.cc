// Loaders on small valid files and on hostile ones: a malformed file must
// fail with a Status naming the file and the field, never crash.
#include <gtest/gtest.h>

#include <cstdio>

#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "tokenizer/tokenizer.h"

namespace silica {
namespace {

// A tiny byte-level tokenizer.json: the 256 byte tokens, "ab", one merge.
std::string HfJson(const std::string& extra_vocab = "",
                   const std::string& merges = R"(["a b"])",
                   const std::string& pre = R"({"type": "ByteLevel", "add_prefix_space": false})",
                   const std::string& added = "[]") {
  std::string vocab;
  for (int b = 0; b < 256; ++b) {
    // Byte-level characters of bytes: printable ASCII maps to itself.
    std::string ch;
    if (b >= 0x21 && b <= 0x7E && b != '"' && b != '\\') {
      ch = std::string(1, static_cast<char>(b));
    } else if (b == '"') {
      ch = "\\\"";
    } else if (b == '\\') {
      ch = "\\\\";
    } else {
      continue;  // not needed for these tests
    }
    vocab += "\"" + ch + "\": " + std::to_string(b) + ", ";
  }
  vocab += "\"ab\": 256" + extra_vocab;
  return R"({"model": {"type": "BPE", "vocab": {)" + vocab + R"(}, "merges": )" +
         merges + R"(}, "pre_tokenizer": )" + pre + R"(, "added_tokens": )" + added + "}";
}

// Dense ids are required, so fill the gaps of HfJson's vocabulary.
std::string DenseHfJson(const std::string& merges = R"(["a b"])",
                        const std::string& pre = R"({"type": "ByteLevel", "add_prefix_space": false})",
                        const std::string& added = "[]") {
  std::string extra;
  for (int b = 0; b < 256; ++b) {
    const bool printable = b >= 0x21 && b <= 0x7E;
    if (printable) continue;
    extra += ", \"<filler" + std::to_string(b) + ">\": " + std::to_string(b);
  }
  return HfJson(extra, merges, pre, added);
}

TEST(HfLoader, LoadsAValidFile) {
  auto tok = Tokenizer::FromHfJson(
      DenseHfJson(R"(["a b"])", R"({"type": "ByteLevel", "add_prefix_space": false})",
                  R"([{"id": 257, "content": "<s>", "special": true}])"),
      R"({"bos_token": "<s>", "add_bos_token": true, "chat_template": "{{ x }}"})",
      "t.json");
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ((*tok)->Encode("ab"), (std::vector<int32_t>{256}));
  EXPECT_EQ((*tok)->Encode("ab", {true, false}), (std::vector<int32_t>{257, 256}));
  EXPECT_EQ((*tok)->chat_template(), "{{ x }}");
  EXPECT_EQ((*tok)->special_ids().bos, 257);
}

void ExpectFails(const std::string& json, const std::string& cfg, const std::string& needle) {
  auto tok = Tokenizer::FromHfJson(json, cfg, "bad.json");
  ASSERT_FALSE(tok.ok()) << "accepted: " << json.substr(0, 200);
  EXPECT_NE(tok.status().message().find("bad.json"), std::string::npos)
      << tok.status().ToString();
  EXPECT_NE(tok.status().message().find(needle), std::string::npos)
      << tok.status().ToString();
}

TEST(HfLoader, RejectsHostileInput) {
  ExpectFails("{not json", "", "not valid JSON");
  ExpectFails("[]", "", "object");
  ExpectFails(R"({"model": {"type": "BPE", "vocab": []}})", "", "model.vocab");
  ExpectFails(R"({"model": {"type": "BPE", "vocab": {"a": 5}}})", "", "out of range");
  ExpectFails(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}}})", "", "used by both");
  ExpectFails(R"({"model": {"type": "BPE", "vocab": {"a": "x"}}})", "", "not an integer");
  ExpectFails(DenseHfJson(R"(["a zz"])"), "", "merges[0]");
  ExpectFails(DenseHfJson(R"(["abc"])"), "", "merges[0]");
  ExpectFails(DenseHfJson(R"([7])"), "", "merges[0]");
  ExpectFails(DenseHfJson(R"(["a b"])", R"({"type": "Split", "pattern": {"Regex": "(["}, "behavior": "Isolated"})"),
              "", "regex");
  ExpectFails(DenseHfJson(R"(["a b"])", R"({"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Sideways"})"),
              "", "behavior");
  ExpectFails(DenseHfJson(), R"({"bos_token": "<nope>"})", "bos_token");
  ExpectFails(DenseHfJson(), "{", "tokenizer_config.json");
  ExpectFails(DenseHfJson(R"(["a b"])", R"({"type": "ByteLevel"})",
                          R"([{"id": 99999, "content": "<x>"}])"),
              "", "out of range");
  ExpectFails(R"({"model": {"type": "Unigram", "vocab": {}}})", "", "only BPE");
}

// A SentencePiece-style conversion: merges over U+2581-escaped text with
// <0xXX> byte fallback (the shape of Llama 2 / Gemma tokenizer.json files).
TEST(HfLoader, SentencePieceStyleBpeWithByteFallback) {
  std::string vocab = R"("<unk>": 0, "<s>": 1)";
  for (int b = 0; b < 256; ++b) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), ", \"<0x%02X>\": %d", b, b + 2);
    vocab += buf;
  }
  const char* pieces[] = {"\u2581", "h", "e", "l", "o", "\u2581h", "ll", "\u2581he", "llo",
                          "\u2581hello"};
  for (int i = 0; i < 10; ++i) vocab += ", \"" + std::string(pieces[i]) + "\": " + std::to_string(258 + i);
  const std::string json = R"({"model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
      "vocab": {)" + vocab + R"(}, "merges": ["\u2581 h", "l l", "\u2581h e", "ll o", "\u2581he llo"]},
      "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
      "added_tokens": [{"id": 0, "content": "<unk>", "special": true},
                       {"id": 1, "content": "<s>", "special": true}]})";
  auto tok = Tokenizer::FromHfJson(json, R"({"bos_token": "<s>", "add_bos_token": true})", "spm.json");
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const std::vector<int32_t> ids = (*tok)->Encode("hello h\xC3\xA9", {true, false});
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 267, 263, 2 + 0xC3, 2 + 0xA9}));
  EXPECT_EQ((*tok)->Decode(ids, true), "hello h\xC3\xA9");
  EXPECT_EQ((*tok)->GetTokenType(2 + 0x41), TokenType::kByte);
}

Result<std::unique_ptr<Tokenizer>> FromGgufBytes(GgufWriter& w) {
  auto bytes = w.Serialize();
  if (!bytes.ok()) return bytes.status();
  auto f = GgufFile::Parse(*bytes, "m.gguf");
  if (!f.ok()) return f.status();
  return Tokenizer::FromGguf(**f);
}

GgufWriter SmallGguf(std::vector<std::string> tokens, std::vector<std::string> merges) {
  GgufWriter w;
  EXPECT_TRUE(w.Set("tokenizer.ggml.model", GgufValue::String("gpt2")).ok());
  EXPECT_TRUE(w.Set("tokenizer.ggml.pre", GgufValue::String("smollm")).ok());
  EXPECT_TRUE(w.Set("tokenizer.ggml.tokens", GgufValue::StringArray(tokens)).ok());
  EXPECT_TRUE(w.Set("tokenizer.ggml.merges", GgufValue::StringArray(merges)).ok());
  return w;
}

TEST(GgufLoader, LoadsAValidVocabulary) {
  GgufWriter w = SmallGguf({"a", "b", "ab", "<|im_end|>"}, {"a b"});
  ASSERT_TRUE(w.Set("tokenizer.ggml.eos_token_id", GgufValue::U32(3)).ok());
  ASSERT_TRUE(w.Set("tokenizer.chat_template", GgufValue::String("tmpl")).ok());
  auto tok = FromGgufBytes(w);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ((*tok)->Encode("abab"), (std::vector<int32_t>{2, 2}));
  EXPECT_TRUE((*tok)->IsEog(3));
  EXPECT_EQ((*tok)->chat_template(), "tmpl");
}

TEST(GgufLoader, RejectsHostileMetadata) {
  auto expect_fail = [](GgufWriter& w, const std::string& needle) {
    auto tok = FromGgufBytes(w);
    ASSERT_FALSE(tok.ok());
    EXPECT_NE(tok.status().message().find("m.gguf"), std::string::npos) << tok.status().ToString();
    EXPECT_NE(tok.status().message().find(needle), std::string::npos) << tok.status().ToString();
  };
  {
    GgufWriter w = SmallGguf({"a", "b", "ab"}, {"a c"});
    expect_fail(w, "merges[0]");
  }
  {
    GgufWriter w = SmallGguf({"a", "b", "ab"}, {"ab"});
    expect_fail(w, "merges[0]");
  }
  {
    GgufWriter w = SmallGguf({"a", "b", "ab"}, {"a b"});
    ASSERT_TRUE(w.Set("tokenizer.ggml.eos_token_id", GgufValue::U32(7)).ok());
    expect_fail(w, "eos");
  }
  {
    GgufWriter w = SmallGguf({"a", "b", "ab"}, {"a b"});
    ASSERT_TRUE(w.Set("tokenizer.ggml.scores", GgufValue::F32Array({1.0f})).ok());
    expect_fail(w, "scores");
  }
  {
    GgufWriter w = SmallGguf({"a", "b", "ab"}, {"a b"});
    ASSERT_TRUE(w.Set("tokenizer.ggml.token_type", GgufValue::I32Array({1, 1})).ok());
    expect_fail(w, "token_type");
  }
  {
    GgufWriter w = SmallGguf({"a", "b", "a"}, {});
    expect_fail(w, "twice");
  }
  {
    GgufWriter w;
    ASSERT_TRUE(w.Set("tokenizer.ggml.model", GgufValue::String("gpt2")).ok());
    ASSERT_TRUE(w.Set("tokenizer.ggml.tokens", GgufValue::I32Array({1, 2})).ok());
    expect_fail(w, "tokenizer.ggml.tokens");
  }
  {
    GgufWriter w2;
    ASSERT_TRUE(w2.Set("tokenizer.ggml.model", GgufValue::String("gpt2")).ok());
    ASSERT_TRUE(w2.Set("tokenizer.ggml.pre", GgufValue::String("martian")).ok());
    ASSERT_TRUE(w2.Set("tokenizer.ggml.tokens", GgufValue::StringArray({"a"})).ok());
    ASSERT_TRUE(w2.Set("tokenizer.ggml.merges", GgufValue::StringArray({})).ok());
    expect_fail(w2, "martian");
  }
}

}  // namespace
}  // namespace silica
