#include "io/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "io/safetensors_index.h"
#include "io/safetensors_source.h"
#include "io/safetensors_writer.h"

namespace silica {
namespace {

namespace fs = std::filesystem;

// The tensors of testdata/reference_all_dtypes.safetensors, written by the
// reference implementation (Python safetensors 0.8.0) with byte k of tensor
// i equal to (i * 31 + k * 7) & 0xff and metadata {"format": "pt"}.
struct Spec {
  const char* name;
  DType dtype;
  std::vector<int64_t> shape;
};
const std::vector<Spec>& ReferenceSpecs() {
  static const std::vector<Spec> specs = {
      {"f64.t", DType::kF64, {2, 2}},     {"f32.t", DType::kF32, {2, 3}},
      {"f16.t", DType::kF16, {3}},        {"bf16.t", DType::kBF16, {1, 5}},
      {"i64.t", DType::kI64, {2}},        {"i32.t", DType::kI32, {2, 1, 2}},
      {"i16.t", DType::kI16, {3}},        {"i8.t", DType::kI8, {7}},
      {"u32.t", DType::kU32, {1, 1, 1, 3}}, {"u8.t", DType::kU8, {}},
      {"empty.t", DType::kF32, {0, 4}},
  };
  return specs;
}

std::vector<uint8_t> PatternBytes(size_t index, const Spec& s) {
  uint64_t n = GetDTypeInfo(s.dtype).block_bytes;
  for (int64_t d : s.shape) n *= static_cast<uint64_t>(d);
  std::vector<uint8_t> out(n);
  for (size_t k = 0; k < n; ++k) out[k] = static_cast<uint8_t>(index * 31 + k * 7);
  return out;
}

// Keeps tensor bytes alive for the writer's borrowed spans.
struct TestTensors {
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<SafetensorsTensorToWrite> tensors;
};
TestTensors ReferenceTensors() {
  TestTensors t;
  const auto& specs = ReferenceSpecs();
  for (size_t i = 0; i < specs.size(); ++i) t.bytes.push_back(PatternBytes(i, specs[i]));
  for (size_t i = 0; i < specs.size(); ++i) {
    SafetensorsTensorToWrite w;
    w.name = specs[i].name;
    w.dtype = specs[i].dtype;
    w.shape = specs[i].shape;
    w.data = t.bytes[i];
    t.tensors.push_back(std::move(w));
  }
  return t;
}

// memcmp that accepts empty ranges (whose data() may be null).
bool SameBytes(const void* a, const void* b, size_t n) {
  return n == 0 || std::memcmp(a, b, n) == 0;
}

std::string TestDataPath(const std::string& file) {
  return std::string(SILICA_SOURCE_DIR) + "/src/io/testdata/" + file;
}

// A fresh folder under the test temp dir.
std::string MakeTempDir(const std::string& name) {
  const fs::path dir = fs::path(testing::TempDir()) / ("silica_st_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void ExpectMatchesReferenceSpecs(const SafetensorsFile& file,
                                 std::span<const uint8_t> bytes) {
  const auto& specs = ReferenceSpecs();
  ASSERT_EQ(file.tensors().size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    SCOPED_TRACE(specs[i].name);
    const SafetensorsTensorInfo* info = file.FindTensor(specs[i].name);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->dtype, specs[i].dtype);
    ASSERT_EQ(info->shape.rank, static_cast<int>(specs[i].shape.size()));
    for (size_t d = 0; d < specs[i].shape.size(); ++d) {
      EXPECT_EQ(info->shape.dims[d], specs[i].shape[d]);
    }
    const TensorView v = file.View(*info);
    const std::vector<uint8_t> want = PatternBytes(i, specs[i]);
    EXPECT_EQ(v.nbytes, want.size());
    EXPECT_EQ(v.dtype, specs[i].dtype);
    // The view points into the buffer at data_offset + begin, zero-copy.
    const auto* p = static_cast<const uint8_t*>(v.data);
    EXPECT_EQ(p, bytes.data() + file.data_offset() + info->begin);
    ASSERT_LE(file.data_offset() + info->end, bytes.size());
    EXPECT_TRUE(SameBytes(p, want.data(), want.size()));
    // Reference order keeps each tensor aligned to its element size.
    EXPECT_EQ((file.data_offset() + info->begin) %
                  GetDTypeInfo(info->dtype).block_bytes, 0u);
  }
  ASSERT_NE(file.FindMetadata("format"), nullptr);
  EXPECT_EQ(*file.FindMetadata("format"), "pt");
  EXPECT_EQ(file.FindMetadata("missing"), nullptr);
  EXPECT_EQ(file.FindTensor("nope"), nullptr);
}

TEST(SafetensorsTest, ReadsFileWrittenByReferenceImplementation) {
  auto file = SafetensorsFile::Open(TestDataPath("reference_all_dtypes.safetensors"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const auto map = MappedFile::Open(TestDataPath("reference_all_dtypes.safetensors"));
  ASSERT_TRUE(map.ok());
  // Views are into the file's own mapping; check contents through a second map.
  const SafetensorsFile& f = **file;
  EXPECT_EQ(f.data_offset() % 8, 0u);
  EXPECT_EQ(f.file_size(), (*map)->size());
  for (size_t i = 0; i < ReferenceSpecs().size(); ++i) {
    const auto* info = f.FindTensor(ReferenceSpecs()[i].name);
    ASSERT_NE(info, nullptr);
    const TensorView v = f.View(*info);
    const auto want = PatternBytes(i, ReferenceSpecs()[i]);
    ASSERT_EQ(v.nbytes, want.size());
    EXPECT_TRUE(SameBytes(v.data, want.data(), want.size())) << info->name;
    EXPECT_TRUE(SameBytes(v.data, (*map)->data() + f.data_offset() + info->begin,
                          want.size()));
  }
  // Tensors are listed in file order.
  for (size_t i = 1; i < f.tensors().size(); ++i) {
    EXPECT_LE(f.tensors()[i - 1].begin, f.tensors()[i].begin);
  }
}

TEST(SafetensorsTest, WriterMatchesReferenceBytes) {
  const TestTensors t = ReferenceTensors();
  auto bytes = SerializeSafetensors(t.tensors, {{"format", "pt"}});
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto ref = ReadFileToString(TestDataPath("reference_all_dtypes.safetensors"));
  ASSERT_TRUE(ref.ok());
  ASSERT_EQ(bytes->size(), ref->size());
  EXPECT_EQ(std::memcmp(bytes->data(), ref->data(), ref->size()), 0);
}

TEST(SafetensorsTest, WriteAndReadBackEveryDType) {
  const TestTensors t = ReferenceTensors();
  auto bytes = SerializeSafetensors(t.tensors, {{"format", "pt"}});
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  // Header padded with spaces to a multiple of 8.
  uint64_t n = 0;
  std::memcpy(&n, bytes->data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ((*bytes)[8 + n - 1], ' ');
  auto file = SafetensorsFile::Parse(*bytes, "mem.safetensors");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->header_bytes(), n);
  ExpectMatchesReferenceSpecs(**file, *bytes);
}

TEST(SafetensorsTest, ScalarAndEmptyTensors) {
  const TestTensors t = ReferenceTensors();
  auto bytes = SerializeSafetensors(t.tensors);
  ASSERT_TRUE(bytes.ok());
  auto file = SafetensorsFile::Parse(*bytes, "mem");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const auto* scalar = (*file)->FindTensor("u8.t");
  ASSERT_NE(scalar, nullptr);
  EXPECT_EQ(scalar->shape.rank, 0);
  EXPECT_EQ(scalar->nbytes(), 1u);
  EXPECT_EQ((*file)->View(*scalar).NumElements(), 1);
  const auto* empty = (*file)->FindTensor("empty.t");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->nbytes(), 0u);
  EXPECT_EQ((*file)->View(*empty).NumElements(), 0);
  EXPECT_TRUE((*file)->metadata().empty());
}

TEST(SafetensorsTest, ExactHeaderText) {
  const float values[2] = {1.0f, -2.0f};
  SafetensorsTensorToWrite w;
  w.name = "a";
  w.dtype = DType::kF32;
  w.shape = {2};
  w.data = {reinterpret_cast<const uint8_t*>(values), sizeof(values)};
  auto bytes = SerializeSafetensors({w});
  ASSERT_TRUE(bytes.ok());
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const size_t padded = (header.size() + 7) / 8 * 8;
  ASSERT_EQ(bytes->size(), 8 + padded + 8);
  EXPECT_EQ((*bytes)[0], padded);
  EXPECT_EQ(std::string(bytes->begin() + 8, bytes->begin() + 8 + header.size()), header);
  float back[2];
  std::memcpy(back, bytes->data() + 8 + padded, 8);
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], -2.0f);
}

TEST(SafetensorsTest, FillCallbackAndFileRoundTrip) {
  const std::string dir = MakeTempDir("fill");
  SafetensorsTensorToWrite w;
  w.name = "model.embed_tokens.weight";
  w.dtype = DType::kBF16;
  w.shape = {4, 3};
  w.fill = [](std::span<uint8_t> out) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(100 + i);
    return Status::Ok();
  };
  const std::string path = dir + "/model.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, {w}).ok());

  auto source = SafetensorsSource::Open(dir);  // folder -> model.safetensors
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ((*source)->format(), "safetensors");
  ASSERT_EQ((*source)->tensors().size(), 1u);
  const WeightInfo& info = (*source)->tensors()[0];
  EXPECT_EQ(info.name, w.name);
  EXPECT_EQ(info.dtype, DType::kBF16);
  EXPECT_EQ(info.shape.ToString(), "[4, 3]");
  EXPECT_EQ(info.nbytes, 24u);
  auto view = (*source)->View(w.name);
  ASSERT_TRUE(view.ok());
  const auto* p = static_cast<const uint8_t*>(view->data);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(p[i], 100 + i);
  EXPECT_EQ((*source)->total_file_bytes(), fs::file_size(path));

  auto missing = (*source)->View("lm_head.weight");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("lm_head.weight"), std::string::npos);

  auto direct = SafetensorsSource::Open(path);  // the file itself
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  EXPECT_EQ((*direct)->tensors().size(), 1u);
}

TEST(SafetensorsTest, ShardedFolderWithIndex) {
  const std::string dir = MakeTempDir("sharded");
  const TestTensors t = ReferenceTensors();
  // 40-byte shards force several files (f64.t alone is 32 bytes).
  auto shards = WriteShardedSafetensors(dir, t.tensors, 40, {{"format", "pt"}});
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_GE(shards->size(), 3u);
  EXPECT_EQ(shards->front(), "model-00001-of-0000" + std::to_string(shards->size()) +
                                 ".safetensors");

  auto text = ReadFileToString(dir + "/model.safetensors.index.json");
  ASSERT_TRUE(text.ok());
  auto index = ParseSafetensorsIndex(*text, "index");
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(index->weight_map.size(), t.tensors.size());
  EXPECT_EQ(index->shards.size(), shards->size());
  ASSERT_TRUE(index->total_size.has_value());
  uint64_t total = 0;
  for (const auto& b : t.bytes) total += b.size();
  EXPECT_EQ(*index->total_size, total);

  for (const std::string& open_path : {dir, dir + "/model.safetensors.index.json"}) {
    SCOPED_TRACE(open_path);
    auto source = SafetensorsSource::Open(open_path);
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    EXPECT_EQ((*source)->files().size(), shards->size());
    ASSERT_EQ((*source)->tensors().size(), t.tensors.size());
    uint64_t file_bytes = 0;
    for (const auto& s : *shards) file_bytes += fs::file_size(dir + "/" + s);
    EXPECT_EQ((*source)->total_file_bytes(), file_bytes);
    const auto& specs = ReferenceSpecs();
    for (size_t i = 0; i < specs.size(); ++i) {
      auto v = (*source)->View(specs[i].name);
      ASSERT_TRUE(v.ok()) << specs[i].name;
      const auto want = PatternBytes(i, specs[i]);
      ASSERT_EQ(v->nbytes, want.size());
      EXPECT_TRUE(SameBytes(v->data, want.data(), want.size())) << specs[i].name;
      // The view lies inside the file the index names for it.
      const SafetensorsFile* holder = (*source)->FileOf(specs[i].name);
      ASSERT_NE(holder, nullptr);
      const auto it = std::find_if(index->weight_map.begin(), index->weight_map.end(),
                                   [&](const auto& e) { return e.first == specs[i].name; });
      ASSERT_NE(it, index->weight_map.end());
      EXPECT_EQ(fs::path(holder->name()).filename().string(), it->second);
    }
    EXPECT_NE((*source)->FileOf("f64.t"), (*source)->FileOf("u8.t"));
  }
}

TEST(SafetensorsTest, FolderWithOneOddlyNamedFile) {
  const std::string dir = MakeTempDir("odd");
  const TestTensors t = ReferenceTensors();
  ASSERT_TRUE(WriteSafetensors(dir + "/weights.safetensors", t.tensors).ok());
  auto source = SafetensorsSource::Open(dir);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ((*source)->tensors().size(), t.tensors.size());
  // Two candidate files and no index: ambiguous.
  ASSERT_TRUE(WriteSafetensors(dir + "/other.safetensors", t.tensors).ok());
  auto two = SafetensorsSource::Open(dir);
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("2 .safetensors files"), std::string::npos);
  auto none = SafetensorsSource::Open(dir + "/absent");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
}

TEST(SafetensorsTest, WriterRejectsBadInput) {
  const uint8_t four[4] = {};
  SafetensorsTensorToWrite a;
  a.name = "a";
  a.dtype = DType::kF32;
  a.shape = {1};
  a.data = four;
  SafetensorsTensorToWrite dup = a;
  auto r = SerializeSafetensors({a, dup});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("given twice"), std::string::npos);

  SafetensorsTensorToWrite wrong = a;
  wrong.shape = {2};
  r = SerializeSafetensors({wrong});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("need 8"), std::string::npos) << r.status().message();

  SafetensorsTensorToWrite quant = a;
  quant.dtype = DType::kQ4_0;
  quant.shape = {32};
  r = SerializeSafetensors({quant});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("q4_0"), std::string::npos);

  SafetensorsTensorToWrite nodata = a;
  nodata.data = {};
  r = SerializeSafetensors({nodata});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no data"), std::string::npos);

  SafetensorsTensorToWrite bad_utf8 = a;
  bad_utf8.name = "\xff\xfe";
  r = SerializeSafetensors({bad_utf8});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);

  SafetensorsTensorToWrite meta_name = a;
  meta_name.name = "__metadata__";
  EXPECT_FALSE(SerializeSafetensors({meta_name}).ok());
}

TEST(SafetensorsTest, DTypeNames) {
  for (const char* name : {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U32", "U8"}) {
    auto d = DTypeFromSafetensorsName(name);
    ASSERT_TRUE(d.ok()) << name;
    EXPECT_EQ(SafetensorsDTypeName(*d), name);
  }
  for (const char* name : {"F8_E4M3", "F8_E5M2", "BOOL", "U16", "U64", "C64", "f32", ""}) {
    auto d = DTypeFromSafetensorsName(name);
    ASSERT_FALSE(d.ok()) << name;
    EXPECT_EQ(d.status().code(), StatusCode::kUnimplemented);
  }
  EXPECT_TRUE(SafetensorsDTypeName(DType::kQ8_0).empty());
}

}  // namespace
}  // namespace silica
