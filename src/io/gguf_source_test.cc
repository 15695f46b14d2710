// GgufSource (WeightSource over a GGUF file) and SummarizeGguf.
#include "io/gguf_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "io/gguf_config.h"
#include "io/gguf_writer.h"

namespace silica {
namespace {

Shape MakeShape(std::initializer_list<int64_t> dims) {
  Shape s;
  for (int64_t d : dims) s.dims[s.rank++] = d;
  return s;
}

GgufWriter TinyLlama() {
  GgufWriter w;
  EXPECT_TRUE(w.Set("general.architecture", GgufValue::String("llama")).ok());
  EXPECT_TRUE(w.Set("general.name", GgufValue::String("Tiny")).ok());
  EXPECT_TRUE(w.Set("llama.context_length", GgufValue::U32(2048)).ok());
  EXPECT_TRUE(w.Set("llama.embedding_length", GgufValue::U64(64)).ok());
  EXPECT_TRUE(w.Set("llama.block_count", GgufValue::U32(2)).ok());
  EXPECT_TRUE(w.Set("llama.attention.head_count", GgufValue::U32(4)).ok());
  EXPECT_TRUE(
      w.Set("llama.attention.head_count_kv", GgufValue::I32Array({2, 1})).ok());
  EXPECT_TRUE(w.Set("tokenizer.ggml.model", GgufValue::String("gpt2")).ok());
  EXPECT_TRUE(
      w.Set("tokenizer.ggml.tokens", GgufValue::StringArray({"a", "b", "c"}))
          .ok());
  EXPECT_TRUE(w.AddTensor("token_embd.weight", DType::kQ8_0, MakeShape({3, 64}),
                          std::vector<uint8_t>(3 * 68, 1))
                  .ok());
  EXPECT_TRUE(w.AddTensor("output_norm.weight", DType::kF32, MakeShape({64}),
                          std::vector<uint8_t>(256, 2))
                  .ok());
  return w;
}

TEST(GgufSourceTest, ListsAndViewsTensors) {
  const std::string path = ::testing::TempDir() + "/gguf_source_" +
                           std::to_string(::getpid()) + ".gguf";
  ASSERT_TRUE(TinyLlama().WriteFile(path).ok());
  auto src = GgufSource::Open(path);
  std::remove(path.c_str());
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  const WeightSource& ws = **src;
  EXPECT_EQ(ws.format(), "gguf");
  ASSERT_EQ(ws.tensors().size(), 2u);
  EXPECT_EQ(ws.tensors()[0].name, "token_embd.weight");
  EXPECT_EQ(ws.tensors()[0].dtype, DType::kQ8_0);
  EXPECT_EQ(ws.tensors()[0].shape, MakeShape({3, 64}));
  EXPECT_EQ(ws.tensors()[0].nbytes, 204u);
  EXPECT_EQ(ws.total_file_bytes(), (*src)->file().file_size());

  auto v = ws.View("output_norm.weight");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->nbytes, 256u);
  EXPECT_EQ(v->RowElems(), 64);
  EXPECT_EQ(static_cast<const uint8_t*>(v->data)[255], 2);

  auto missing = ws.View("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);
  EXPECT_NE(missing.status().message().find(path), std::string::npos);

  EXPECT_EQ(GgufSource::Open(path).status().code(), StatusCode::kNotFound);
}

TEST(GgufSourceTest, Summary) {
  auto bytes = TinyLlama().Serialize();
  ASSERT_TRUE(bytes.ok());
  auto f = GgufFile::Parse(*bytes, "tiny.gguf");
  ASSERT_TRUE(f.ok());
  auto s = SummarizeGguf(**f);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->architecture, "llama");
  EXPECT_EQ(s->name, "Tiny");
  EXPECT_EQ(s->context_length, 2048u);
  EXPECT_EQ(s->embedding_length, 64u);
  EXPECT_EQ(s->block_count, 2u);
  EXPECT_EQ(s->head_count, 4u);
  EXPECT_EQ(s->head_count_kv, 2u);  // max of the per-layer array
  EXPECT_EQ(s->vocab_size, 3u);
  EXPECT_EQ(s->tokenizer_model, "gpt2");
  EXPECT_EQ(s->tokenizer_pre, "");
  EXPECT_FALSE(s->has_chat_template);
  EXPECT_EQ(s->parameter_count, 3u * 64 + 64);
  EXPECT_EQ(s->tensor_count, 2u);
  EXPECT_EQ(s->gguf_version, 3u);
  ASSERT_EQ(s->tensors_by_dtype.size(), 2u);
  EXPECT_EQ(s->tensors_by_dtype[0], std::make_pair(DType::kF32, uint64_t{1}));
  EXPECT_EQ(s->tensors_by_dtype[1], std::make_pair(DType::kQ8_0, uint64_t{1}));
}

TEST(GgufSourceTest, SummaryErrors) {
  GgufWriter none;
  auto bytes = none.Serialize();
  auto f = GgufFile::Parse(*bytes, "none.gguf");
  ASSERT_TRUE(f.ok());
  auto s = SummarizeGguf(**f);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("general.architecture"),
            std::string::npos);

  GgufWriter bad;
  ASSERT_TRUE(bad.Set("general.architecture", GgufValue::String("qwen2")).ok());
  ASSERT_TRUE(bad.Set("qwen2.context_length", GgufValue::String("long")).ok());
  bytes = bad.Serialize();
  f = GgufFile::Parse(*bytes, "bad.gguf");
  ASSERT_TRUE(f.ok());
  s = SummarizeGguf(**f);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("qwen2.context_length"),
            std::string::npos);
}

}  // namespace
}  // namespace silica
