// Round trips through GgufWriter and GgufFile: every metadata value type,
// nested arrays, every tensor dtype GGUF can hold, a non-default alignment
// and a v2 header; views must point into the parsed bytes.
#include "io/gguf.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "io/gguf_writer.h"

namespace silica {
namespace {

Shape MakeShape(std::initializer_list<int64_t> dims) {
  Shape s;
  for (int64_t d : dims) s.dims[s.rank++] = d;
  return s;
}

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

GgufValue Scalar(GgufType t, uint64_t u) { return {t, u}; }
GgufValue SScalar(GgufType t, int64_t s) { return {t, s}; }

TEST(GgufTest, EveryMetadataTypeRoundTrips) {
  GgufWriter w;
  ASSERT_TRUE(w.Set("u8", Scalar(GgufType::kUint8, 255)).ok());
  ASSERT_TRUE(w.Set("i8", SScalar(GgufType::kInt8, -128)).ok());
  ASSERT_TRUE(w.Set("u16", Scalar(GgufType::kUint16, 65535)).ok());
  ASSERT_TRUE(w.Set("i16", SScalar(GgufType::kInt16, -32768)).ok());
  ASSERT_TRUE(w.Set("u32", GgufValue::U32(4000000000u)).ok());
  ASSERT_TRUE(w.Set("i32", GgufValue::I32(-2000000000)).ok());
  ASSERT_TRUE(w.Set("f32", GgufValue::F32(1.5e-5f)).ok());
  ASSERT_TRUE(w.Set("bool", GgufValue::Bool(true)).ok());
  ASSERT_TRUE(w.Set("str", GgufValue::String("héllo\nworld")).ok());
  ASSERT_TRUE(w.Set("u64", GgufValue::U64(UINT64_MAX)).ok());
  ASSERT_TRUE(w.Set("i64", SScalar(GgufType::kInt64, INT64_MIN)).ok());
  ASSERT_TRUE(w.Set("f64", GgufValue{GgufType::kFloat64, 0.1}).ok());
  ASSERT_TRUE(w.Set("empty_str", GgufValue::String("")).ok());
  ASSERT_TRUE(w.Set("strs", GgufValue::StringArray({"a", "", "ccc"})).ok());
  ASSERT_TRUE(w.Set("f32s", GgufValue::F32Array({1.0f, -2.5f})).ok());
  ASSERT_TRUE(w.Set("i32s", GgufValue::I32Array({-1, 7, 1 << 30})).ok());
  ASSERT_TRUE(w.Set("empty", GgufValue::Array(GgufType::kUint8, {})).ok());
  // Array of arrays of different element types and lengths.
  GgufValue nested = GgufValue::Array(
      GgufType::kArray,
      {GgufValue::I32Array({1, 2}), GgufValue::StringArray({"x"}),
       GgufValue::Array(
           GgufType::kArray,
           {GgufValue::Array(GgufType::kBool, {GgufValue::Bool(false)})})});
  ASSERT_TRUE(w.Set("nested", nested).ok());
  ASSERT_TRUE(w.Set("u8s", GgufValue::Array(GgufType::kUint8,
                                            {Scalar(GgufType::kUint8, 3)}))
                  .ok());

  auto bytes = w.Serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto f = GgufFile::Parse(*bytes, "mem.gguf");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const GgufFile& g = **f;
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.alignment(), 32u);
  ASSERT_EQ(g.metadata().size(), 19u);
  EXPECT_EQ(g.metadata()[0].first, "u8");  // file order kept
  EXPECT_EQ(g.metadata()[18].first, "u8s");

  EXPECT_EQ(*g.GetUint("u8"), 255u);
  EXPECT_EQ(g.Find("u8")->type, GgufType::kUint8);
  EXPECT_EQ(*g.GetInt("i8"), -128);
  EXPECT_EQ(g.Find("i8")->type, GgufType::kInt8);
  EXPECT_EQ(*g.GetUint("u16"), 65535u);
  EXPECT_EQ(*g.GetInt("i16"), -32768);
  EXPECT_EQ(*g.GetUint("u32"), 4000000000u);
  EXPECT_EQ(*g.GetInt("u32"), 4000000000);
  EXPECT_EQ(*g.GetInt("i32"), -2000000000);
  EXPECT_EQ(*g.GetFloat("f32"), static_cast<double>(1.5e-5f));
  EXPECT_EQ(g.Find("f32")->type, GgufType::kFloat32);
  EXPECT_TRUE(*g.GetBool("bool"));
  EXPECT_EQ(*g.GetString("str"), "héllo\nworld");
  EXPECT_EQ(*g.GetUint("u64"), UINT64_MAX);
  EXPECT_EQ(*g.GetInt("i64"), INT64_MIN);
  EXPECT_EQ(*g.GetFloat("f64"), 0.1);
  EXPECT_EQ(*g.GetString("empty_str"), "");
  EXPECT_EQ(*g.GetStringArray("strs"),
            (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(*g.GetF32Array("f32s"), (std::vector<float>{1.0f, -2.5f}));
  EXPECT_EQ(*g.GetI32Array("i32s"), (std::vector<int32_t>{-1, 7, 1 << 30}));
  EXPECT_EQ(*g.GetI32Array("u8s"), (std::vector<int32_t>{3}));
  ASSERT_NE(g.Find("empty")->array(), nullptr);
  EXPECT_TRUE(g.Find("empty")->array()->items.empty());
  EXPECT_EQ(g.Find("empty")->array()->elem_type, GgufType::kUint8);

  const GgufArray* n = g.Find("nested")->array();
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->elem_type, GgufType::kArray);
  ASSERT_EQ(n->items.size(), 3u);
  ASSERT_NE(n->items[0].array(), nullptr);
  EXPECT_EQ(n->items[0].array()->elem_type, GgufType::kInt32);
  EXPECT_EQ(std::get<int64_t>(n->items[0].array()->items[1].data), 2);
  EXPECT_EQ(std::get<std::string>(n->items[1].array()->items[0].data), "x");
  const GgufArray* deep = n->items[2].array()->items[0].array();
  ASSERT_NE(deep, nullptr);
  EXPECT_EQ(deep->elem_type, GgufType::kBool);
  EXPECT_FALSE(std::get<bool>(deep->items[0].data));
}

TEST(GgufTest, GettersReportMissingAndMismatchedKeys) {
  GgufWriter w;
  ASSERT_TRUE(w.Set("s", GgufValue::String("x")).ok());
  ASSERT_TRUE(w.Set("neg", GgufValue::I32(-1)).ok());
  ASSERT_TRUE(w.Set("big", GgufValue::U64(uint64_t{1} << 40)).ok());
  ASSERT_TRUE(w.Set("f", GgufValue::F32Array({1.0f})).ok());
  auto bytes = w.Serialize();
  ASSERT_TRUE(bytes.ok());
  auto f = GgufFile::Parse(*bytes, "m.gguf");
  ASSERT_TRUE(f.ok());
  const GgufFile& g = **f;

  auto missing = g.GetString("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("m.gguf"), std::string::npos);
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);

  auto wrong = g.GetUint("s");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("string"), std::string::npos);

  EXPECT_EQ(g.GetUint("neg").status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(g.GetI32Array("f").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(g.GetStringArray("f").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(g.GetBool("s").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(g.GetFloat("neg").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*g.GetInt("big"), int64_t{1} << 40);
}

// One tensor of each dtype GGUF can hold, with shapes of rank 1 to 4.
struct TensorCase {
  DType dtype;
  Shape shape;
  uint32_t ggml_type;
};

std::vector<TensorCase> AllTensorCases() {
  return {
      {DType::kF32, MakeShape({3, 5}), 0},
      {DType::kF16, MakeShape({7}), 1},
      {DType::kQ4_0, MakeShape({2, 64}), 2},
      {DType::kQ4_1, MakeShape({1, 1, 32}), 3},
      {DType::kQ5_0, MakeShape({32}), 6},
      {DType::kQ5_1, MakeShape({2, 1, 2, 32}), 7},
      {DType::kQ8_0, MakeShape({3, 96}), 8},
      {DType::kQ4_K, MakeShape({2, 256}), 12},
      {DType::kQ5_K, MakeShape({256}), 13},
      {DType::kQ6_K, MakeShape({1, 512}), 14},
      {DType::kQ8_K, MakeShape({256}), 15},
      {DType::kI8, MakeShape({9}), 24},
      {DType::kI16, MakeShape({2, 3}), 25},
      {DType::kI32, MakeShape({4}), 26},
      {DType::kI64, MakeShape({1}), 27},
      {DType::kF64, MakeShape({2, 2}), 28},
      {DType::kBF16, MakeShape({5, 1}), 30},
  };
}

uint64_t SizeOf(const TensorCase& c) {
  const int64_t row = c.shape.dims[c.shape.rank - 1];
  return *RowBytes(c.dtype, row) *
         static_cast<uint64_t>(c.shape.NumElements() / row);
}

void CheckTensorsRoundTrip(uint32_t version, uint32_t alignment) {
  GgufWriter w;
  ASSERT_TRUE(w.SetVersion(version).ok());
  ASSERT_TRUE(w.Set("general.architecture", GgufValue::String("test")).ok());
  if (alignment != 32) {
    ASSERT_TRUE(w.Set("general.alignment", GgufValue::U32(alignment)).ok());
  }
  const auto cases = AllTensorCases();
  std::vector<std::vector<uint8_t>> data;
  for (size_t i = 0; i < cases.size(); ++i) {
    data.push_back(Pattern(SizeOf(cases[i]), static_cast<uint8_t>(i * 13)));
    const std::string name = "t." + std::string(DTypeName(cases[i].dtype));
    ASSERT_TRUE(
        w.AddTensor(name, cases[i].dtype, cases[i].shape, data.back()).ok())
        << name;
  }
  auto bytes = w.Serialize();
  ASSERT_TRUE(bytes.ok());
  auto f = GgufFile::Parse(*bytes, "t.gguf");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const GgufFile& g = **f;
  EXPECT_EQ(g.version(), version);
  EXPECT_EQ(g.alignment(), alignment);
  EXPECT_EQ(g.data_offset() % alignment, 0u);
  ASSERT_EQ(g.tensors().size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const GgufTensorInfo& t = g.tensors()[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, "t." + std::string(DTypeName(cases[i].dtype)));
    EXPECT_EQ(t.dtype, cases[i].dtype);
    EXPECT_EQ(t.ggml_type, cases[i].ggml_type);
    EXPECT_EQ(t.shape, cases[i].shape);
    EXPECT_EQ(t.nbytes, data[i].size());
    EXPECT_EQ(t.offset % alignment, 0u);
    EXPECT_EQ(g.FindTensor(t.name), &t);
    const TensorView v = g.View(t);
    // The view is a window into the parsed bytes, not a copy.
    const auto* p = static_cast<const uint8_t*>(v.data);
    EXPECT_EQ(p, bytes->data() + g.data_offset() + t.offset);
    EXPECT_EQ(v.nbytes, data[i].size());
    EXPECT_EQ(v.dtype, cases[i].dtype);
    EXPECT_EQ(v.shape, cases[i].shape);
    EXPECT_EQ(std::memcmp(p, data[i].data(), data[i].size()), 0);
  }
  EXPECT_EQ(g.FindTensor("absent"), nullptr);
}

TEST(GgufTest, AllTensorDtypesV3) { CheckTensorsRoundTrip(3, 32); }
TEST(GgufTest, V2Header) { CheckTensorsRoundTrip(2, 32); }
TEST(GgufTest, Alignment64) { CheckTensorsRoundTrip(3, 64); }
TEST(GgufTest, Alignment1) { CheckTensorsRoundTrip(3, 1); }
TEST(GgufTest, Alignment4096) { CheckTensorsRoundTrip(2, 4096); }

TEST(GgufTest, GgmlTypeMappingIsABijection) {
  for (int i = 0; i < static_cast<int>(DType::kCount); ++i) {
    const auto d = static_cast<DType>(i);
    if (!HasGgmlType(d)) {
      EXPECT_TRUE(d == DType::kU8 || d == DType::kU32) << DTypeName(d);
      continue;
    }
    auto back = DTypeFromGgmlType(GgmlTypeFromDType(d));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, d);
  }
  for (uint32_t id : {4u, 5u, 9u, 10u, 11u, 16u, 20u, 29u, 31u, 39u}) {
    EXPECT_FALSE(DTypeFromGgmlType(id).ok()) << id;
  }
}

TEST(GgufTest, WriterRejectsBadInput) {
  GgufWriter w;
  EXPECT_FALSE(w.SetVersion(1).ok());
  EXPECT_FALSE(w.Set("", GgufValue::U32(1)).ok());
  ASSERT_TRUE(w.Set("k", GgufValue::U32(1)).ok());
  EXPECT_FALSE(w.Set("k", GgufValue::U32(2)).ok());
  EXPECT_FALSE(w.Set("u8", Scalar(GgufType::kUint8, 256)).ok());
  EXPECT_FALSE(
      w.Set("mixed", GgufValue::Array(GgufType::kInt32, {GgufValue::U32(1)}))
          .ok());
  EXPECT_FALSE(w.Set("general.alignment", GgufValue::U32(48)).ok());
  EXPECT_FALSE(w.Set("general.alignment", GgufValue::I32(64)).ok());
  EXPECT_FALSE(w.AddTensor("q", DType::kQ4_0, MakeShape({2, 16}),
                           std::vector<uint8_t>(18))
                   .ok());  // half a block per row
  EXPECT_FALSE(
      w.AddTensor("f", DType::kF32, MakeShape({2}), std::vector<uint8_t>(4))
          .ok());  // wrong byte count
  EXPECT_FALSE(
      w.AddTensor("u", DType::kU8, MakeShape({2}), std::vector<uint8_t>(2))
          .ok());  // no ggml type
  ASSERT_TRUE(
      w.AddTensor("f", DType::kF32, MakeShape({2}), std::vector<uint8_t>(8))
          .ok());
  EXPECT_FALSE(
      w.AddTensor("f", DType::kF32, MakeShape({2}), std::vector<uint8_t>(8))
          .ok());  // duplicate
}

TEST(GgufTest, WriteFileAndOpenMapsTheFile) {
  GgufWriter w;
  ASSERT_TRUE(w.Set("general.name", GgufValue::String("tiny")).ok());
  const std::vector<uint8_t> a = Pattern(4 * 8, 1);
  ASSERT_TRUE(w.AddTensor("a", DType::kF32, MakeShape({8}), a).ok());
  ASSERT_TRUE(w.AddTensorFn("b", DType::kQ8_0, MakeShape({2, 32}),
                            [](std::span<uint8_t> out) {
                              for (size_t i = 0; i < out.size(); ++i) {
                                out[i] = static_cast<uint8_t>(i);
                              }
                              return Status::Ok();
                            })
                  .ok());
  const std::string path = ::testing::TempDir() + "/gguf_test_" +
                           std::to_string(::getpid()) + ".gguf";
  ASSERT_TRUE(w.WriteFile(path).ok());
  auto f = GgufFile::Open(path);
  std::remove(path.c_str());  // the mapping keeps the data readable
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->name(), path);
  EXPECT_EQ(*(*f)->GetString("general.name"), "tiny");
  const GgufTensorInfo* b = (*f)->FindTensor("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->nbytes, 68u);
  const TensorView v = (*f)->View(*b);
  const auto* p = static_cast<const uint8_t*>(v.data);
  for (int i = 0; i < 68; ++i) ASSERT_EQ(p[i], i);
  const TensorView va = (*f)->View(*(*f)->FindTensor("a"));
  EXPECT_EQ(std::memcmp(va.data, a.data(), a.size()), 0);

  auto missing = GgufFile::Open(path);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(GgufTest, FileWithoutTensorsOrMetadata) {
  GgufWriter w;
  auto bytes = w.Serialize();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), 32u);  // 24-byte header padded to 32
  auto f = GgufFile::Parse(*bytes, "empty.gguf");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE((*f)->metadata().empty());
  EXPECT_TRUE((*f)->tensors().empty());
  // The bare 24-byte header (no padding) is accepted too.
  auto bare = GgufFile::Parse(std::span(bytes->data(), 24), "bare.gguf");
  EXPECT_TRUE(bare.ok()) << bare.status().ToString();
}

}  // namespace
}  // namespace silica
