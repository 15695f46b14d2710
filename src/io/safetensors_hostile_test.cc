// Hostile safetensors files: every malformed input fails with a Status that
// names the file and the field, never a crash (run under ASan/UBSan too).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "io/safetensors_index.h"
#include "io/safetensors_source.h"
#include "io/safetensors_writer.h"

namespace silica {
namespace {

namespace fs = std::filesystem;

// 8-byte little-endian length + header text + data.
std::vector<uint8_t> RawFile(const std::string& header, size_t data_bytes,
                             uint64_t length_override = UINT64_MAX) {
  const uint64_t n = length_override == UINT64_MAX ? header.size() : length_override;
  std::string raw;
  for (int i = 0; i < 8; ++i) raw.push_back(static_cast<char>(n >> (8 * i)));
  raw += header;
  for (size_t i = 0; i < data_bytes; ++i) raw.push_back(static_cast<char>(i));
  return std::vector<uint8_t>(raw.begin(), raw.end());
}

// Parses and expects failure with `code` and every one of `parts` in the
// message (plus the file name).
void ExpectFails(const std::vector<uint8_t>& bytes, StatusCode code,
                 const std::vector<std::string>& parts) {
  auto r = SafetensorsFile::Parse(bytes, "evil.safetensors");
  ASSERT_FALSE(r.ok()) << "parsed a hostile file";
  const std::string& msg = r.status().message();
  EXPECT_EQ(r.status().code(), code) << msg;
  EXPECT_NE(msg.find("evil.safetensors"), std::string::npos) << msg;
  for (const std::string& p : parts) {
    EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

std::vector<uint8_t> ValidFile() {
  static const uint8_t a[24] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24};
  static const uint8_t b[6] = {9, 8, 7, 6, 5, 4};
  SafetensorsTensorToWrite ta{"layer.weight", DType::kF32, {2, 3}, a, {}};
  SafetensorsTensorToWrite tb{"layer.bias", DType::kBF16, {3}, b, {}};
  auto bytes = SerializeSafetensors({ta, tb}, {{"format", "pt"}});
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

TEST(SafetensorsHostileTest, ValidFileParses) {
  const auto bytes = ValidFile();
  auto r = SafetensorsFile::Parse(bytes, "ok");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->tensors().size(), 2u);
}

TEST(SafetensorsHostileTest, TruncatedAtEveryLengthFailsCleanly) {
  const auto bytes = ValidFile();
  for (size_t len = 0; len < bytes.size(); ++len) {
    // A fresh copy of exactly `len` bytes, so ASan sees any read past it.
    const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + len);
    auto r = SafetensorsFile::Parse(cut, "evil.safetensors");
    ASSERT_FALSE(r.ok()) << "length " << len;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << len;
    EXPECT_NE(r.status().message().find("evil.safetensors"), std::string::npos);
  }
}

TEST(SafetensorsHostileTest, HeaderLength) {
  ExpectFails(RawFile("{}", 0, UINT64_MAX - 1), StatusCode::kDataLoss,
              {"header length", "exceeds the limit"});
  ExpectFails(RawFile("{}", 0, kSafetensorsMaxHeaderBytes + 1),
              StatusCode::kDataLoss, {"header length 100000001"});
  ExpectFails(RawFile("{}", 0, 3), StatusCode::kDataLoss,
              {"header length 3", "runs past the end"});
  ExpectFails({1, 2, 3}, StatusCode::kDataLoss, {"header length", "needs 8 bytes"});
  // An empty header is not JSON.
  ExpectFails(RawFile("", 0), StatusCode::kDataLoss, {"invalid JSON"});
}

TEST(SafetensorsHostileTest, InvalidJson) {
  ExpectFails(RawFile(R"({"a": {"dtype": "F32",)", 0), StatusCode::kDataLoss,
              {"header", "invalid JSON"});
  ExpectFails(RawFile("{\"a\xff\": 1}", 0), StatusCode::kDataLoss, {"invalid JSON"});
  ExpectFails(RawFile(std::string("{\"a\":\0}", 7), 0), StatusCode::kDataLoss,
              {"invalid JSON"});
  ExpectFails(RawFile("[1, 2]", 0), StatusCode::kDataLoss,
              {"header must be a JSON object", "array"});
  ExpectFails(RawFile(std::string(1000, '[') + std::string(1000, ']'), 0),
              StatusCode::kDataLoss, {"nests deeper"});
  ExpectFails(RawFile(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},)"
                      R"( "a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})",
                      2),
              StatusCode::kDataLoss, {"key 'a' appears twice"});
}

TEST(SafetensorsHostileTest, WrongFieldTypes) {
  const auto t = [](const std::string& body) { return R"({"t": )" + body + "}"; };
  ExpectFails(RawFile(t("5"), 0), StatusCode::kDataLoss,
              {"tensor 't'", "entry must be an object"});
  ExpectFails(RawFile(t(R"({"dtype": 5, "shape": [], "data_offsets": [0, 1]})"), 1),
              StatusCode::kDataLoss, {"tensor 't'", "'dtype' must be a string"});
  ExpectFails(RawFile(t(R"({"dtype": "U8", "shape": "1", "data_offsets": [0, 1]})"), 1),
              StatusCode::kDataLoss, {"tensor 't'", "'shape' must be an array"});
  ExpectFails(RawFile(t(R"({"dtype": "U8", "shape": [1.5], "data_offsets": [0, 1]})"), 1),
              StatusCode::kDataLoss, {"tensor 't'", "shape[0] must be an integer"});
  ExpectFails(RawFile(t(R"({"dtype": "U8", "shape": [-1], "data_offsets": [0, 1]})"), 1),
              StatusCode::kDataLoss, {"tensor 't'", "shape[0] = -1 is negative"});
  ExpectFails(RawFile(t(R"({"dtype": "U8", "shape": [1], "data_offsets": [0]})"), 1),
              StatusCode::kDataLoss, {"tensor 't'", "'data_offsets' must be an array of 2"});
  ExpectFails(RawFile(t(R"({"dtype": "U8", "shape": [1], "data_offsets": ["0", 1]})"), 1),
              StatusCode::kDataLoss, {"tensor 't'", "data_offsets[0]", "string"});
  ExpectFails(RawFile(t(R"({"dtype": "U8", "shape": [1], "data_offsets": [-1, 1]})"), 1),
              StatusCode::kDataLoss, {"tensor 't'", "data_offsets[0]", "negative"});
  ExpectFails(RawFile(t(R"({"shape": [1], "data_offsets": [0, 1]})"), 1),
              StatusCode::kDataLoss, {"tensor 't'", "missing 'dtype'"});
  ExpectFails(RawFile(t(R"({"dtype": "U8", "data_offsets": [0, 1]})"), 1),
              StatusCode::kDataLoss, {"tensor 't'", "missing 'shape'"});
  ExpectFails(RawFile(t(R"({"dtype": "U8", "shape": [1]})"), 1), StatusCode::kDataLoss,
              {"tensor 't'", "missing 'data_offsets'"});
  ExpectFails(RawFile(R"({"__metadata__": [1]})", 0), StatusCode::kDataLoss,
              {"__metadata__ must be an object"});
  ExpectFails(RawFile(R"({"__metadata__": {"format": 1}})", 0), StatusCode::kDataLoss,
              {"__metadata__.'format' must be a string"});
}

TEST(SafetensorsHostileTest, OffsetsOutOfRange) {
  ExpectFails(RawFile(R"({"t": {"dtype": "U8", "shape": [1000], "data_offsets": [0, 1000]}})", 8),
              StatusCode::kDataLoss,
              {"tensor 't'", "[0, 1000)", "past the end of the data section (8 bytes)"});
  ExpectFails(RawFile(R"({"t": {"dtype": "U8", "shape": [0], "data_offsets": [9, 9]}})", 8),
              StatusCode::kDataLoss, {"tensor 't'", "past the end"});
  ExpectFails(RawFile(R"({"t": {"dtype": "U8", "shape": [1], "data_offsets": [5, 4]}})", 8),
              StatusCode::kDataLoss, {"tensor 't'", "begin > end"});
  ExpectFails(RawFile(R"({"t": {"dtype": "U8", "shape": [1], )"
                      R"("data_offsets": [18446744073709551615, 18446744073709551615]}})",
                      8),
              StatusCode::kDataLoss, {"tensor 't'", "past the end"});
}

TEST(SafetensorsHostileTest, OverlappingTensors) {
  ExpectFails(RawFile(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                      R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                      12),
              StatusCode::kDataLoss, {"tensor 'b'", "overlap tensor 'a'"});
  // Same range twice.
  ExpectFails(RawFile(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},)"
                      R"( "b": {"dtype": "I8", "shape": [4], "data_offsets": [0, 4]}})",
                      4),
              StatusCode::kDataLoss, {"overlap"});
  // Contained in another.
  ExpectFails(RawFile(R"({"a": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]},)"
                      R"( "b": {"dtype": "U8", "shape": [2], "data_offsets": [3, 5]}})",
                      8),
              StatusCode::kDataLoss, {"overlap"});
  // Adjacent, gaps and empty tensors are fine.
  auto ok = SafetensorsFile::Parse(
      RawFile(R"({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},)"
              R"( "e": {"dtype": "F32", "shape": [0], "data_offsets": [1, 1]},)"
              R"( "b": {"dtype": "U8", "shape": [2], "data_offsets": [4, 6]}})",
              8),
      "gaps");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)->tensors().size(), 3u);
}

TEST(SafetensorsHostileTest, SizeMismatchAndOverflow) {
  ExpectFails(RawFile(R"({"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8),
              StatusCode::kDataLoss, {"tensor 't'", "needs 12 bytes", "hold 8"});
  ExpectFails(RawFile(R"({"t": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 4]}})", 8),
              StatusCode::kDataLoss, {"tensor 't'", "needs 8 bytes"});
  ExpectFails(RawFile(R"({"t": {"dtype": "F32", "shape": [4611686018427387904, 4],)"
                      R"( "data_offsets": [0, 0]}})",
                      0),
              StatusCode::kDataLoss, {"tensor 't'", "overflows 64 bits"});
  ExpectFails(RawFile(R"({"t": {"dtype": "U8", "shape": [9223372036854775808],)"
                      R"( "data_offsets": [0, 0]}})",
                      0),
              StatusCode::kDataLoss, {"tensor 't'", "too large"});
  // Running products must fit int64 even when a later dim is zero.
  ExpectFails(RawFile(R"({"t": {"dtype": "U8", "shape": [4294967296, 2147483648, 0],)"
                      R"( "data_offsets": [0, 0]}})",
                      0),
              StatusCode::kDataLoss, {"tensor 't'", "overflows 64 bits"});
  // A zero dim makes the product zero even next to a huge one.
  auto zero = SafetensorsFile::Parse(
      RawFile(R"({"t": {"dtype": "F64", "shape": [0, 9223372036854775807],)"
              R"( "data_offsets": [0, 0]}})",
              0),
      "zero");
  EXPECT_TRUE(zero.ok()) << zero.status().ToString();
}

TEST(SafetensorsHostileTest, UnsupportedDTypeAndRank) {
  ExpectFails(RawFile(R"({"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}})", 2),
              StatusCode::kUnimplemented, {"tensor 'w'", "'F8_E4M3'", "not supported"});
  ExpectFails(RawFile(R"({"w": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}})", 2),
              StatusCode::kUnimplemented, {"tensor 'w'", "'BOOL'"});
  // One dimension more than TensorView holds (Qwen2.5-VL's Conv3d patch
  // embedding is rank 5).
  std::string shape = "[";
  for (int i = 0; i <= kMaxDims; ++i) shape += i ? ", 1" : "1";
  shape += "]";
  ExpectFails(RawFile(R"({"conv": {"dtype": "U8", "shape": )" + shape +
                          R"(, "data_offsets": [0, 1]}})",
                      1),
              StatusCode::kUnimplemented,
              {"tensor 'conv'", "rank " + std::to_string(kMaxDims + 1)});
}

// --- sharded checkpoints ---------------------------------------------------

std::string MakeTempDir(const std::string& name) {
  const fs::path dir = fs::path(testing::TempDir()) / ("silica_st_hostile_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

void WriteShard(const std::string& path, const std::vector<std::string>& names) {
  static const uint8_t data[4] = {1, 2, 3, 4};
  std::vector<SafetensorsTensorToWrite> tensors;
  for (const auto& n : names) tensors.push_back({n, DType::kF32, {1}, data, {}});
  ASSERT_TRUE(WriteSafetensors(path, tensors).ok());
}

void ExpectOpenFails(const std::string& path, const std::vector<std::string>& parts) {
  auto r = SafetensorsSource::Open(path);
  ASSERT_FALSE(r.ok()) << "opened a hostile checkpoint";
  const std::string& msg = r.status().message();
  for (const std::string& p : parts) {
    EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

TEST(SafetensorsHostileTest, IndexPointsAtMissingShard) {
  const std::string dir = MakeTempDir("missing_shard");
  WriteShard(dir + "/a.safetensors", {"x"});
  WriteText(dir + "/model.safetensors.index.json",
            R"({"weight_map": {"x": "a.safetensors", "y": "gone.safetensors"}})");
  ExpectOpenFails(dir, {"model.safetensors.index.json", "shard 'gone.safetensors'",
                        "no such file"});
}

TEST(SafetensorsHostileTest, IndexShardPathEscapes) {
  const std::string dir = MakeTempDir("escape");
  fs::create_directories(dir + "/inner");
  WriteShard(dir + "/outside.safetensors", {"x"});
  WriteText(dir + "/inner/model.safetensors.index.json",
            R"({"weight_map": {"x": "../outside.safetensors"}})");
  ExpectOpenFails(dir + "/inner", {"weight_map['x']", "escapes the checkpoint folder"});
  WriteText(dir + "/inner/model.safetensors.index.json",
            R"({"weight_map": {"x": "sub/../../outside.safetensors"}})");
  ExpectOpenFails(dir + "/inner", {"weight_map['x']", "escapes"});
  WriteText(dir + "/inner/model.safetensors.index.json",
            R"({"weight_map": {"x": "/etc/passwd"}})");
  ExpectOpenFails(dir + "/inner", {"weight_map['x']", "is absolute"});
  WriteText(dir + "/inner/model.safetensors.index.json", R"({"weight_map": {"x": ""}})");
  ExpectOpenFails(dir + "/inner", {"weight_map['x']", "is empty"});
  WriteText(dir + "/inner/model.safetensors.index.json", R"({"weight_map": {"x": 3}})");
  ExpectOpenFails(dir + "/inner", {"weight_map['x'] must be a string"});
}

TEST(SafetensorsHostileTest, IndexListsTensorMissingFromShard) {
  const std::string dir = MakeTempDir("missing_tensor");
  WriteShard(dir + "/a.safetensors", {"x"});
  WriteShard(dir + "/b.safetensors", {"y"});
  WriteText(dir + "/model.safetensors.index.json",
            R"({"weight_map": {"x": "a.safetensors", "y": "a.safetensors"}})");
  ExpectOpenFails(dir, {"tensor 'y'", "shard 'a.safetensors'", "does not hold it"});
}

TEST(SafetensorsHostileTest, TensorInTwoShards) {
  const std::string dir = MakeTempDir("two_shards");
  WriteShard(dir + "/a.safetensors", {"x", "y"});
  WriteShard(dir + "/b.safetensors", {"y"});
  WriteText(dir + "/model.safetensors.index.json",
            R"({"weight_map": {"x": "a.safetensors", "y": "b.safetensors"}})");
  ExpectOpenFails(dir, {"tensor 'y'", "appears in both", "a.safetensors", "b.safetensors"});
}

TEST(SafetensorsHostileTest, MalformedIndex) {
  const std::string dir = MakeTempDir("bad_index");
  const std::string index = dir + "/model.safetensors.index.json";
  WriteText(index, R"({"metadata": {}})");
  ExpectOpenFails(dir, {"missing 'weight_map'"});
  WriteText(index, R"({"weight_map": []})");
  ExpectOpenFails(dir, {"weight_map must be an object"});
  WriteText(index, R"({"weight_map": {}})");
  ExpectOpenFails(dir, {"weight_map is empty"});
  WriteText(index, R"({"metadata": {"total_size": "big"}, "weight_map": {"x": "a"}})");
  ExpectOpenFails(dir, {"metadata.total_size"});
  WriteText(index, R"({"weight_map": {"x": "a.safetensors")");
  ExpectOpenFails(dir, {"model.safetensors.index.json", "invalid JSON"});
}

TEST(SafetensorsHostileTest, ShardPathCheck) {
  EXPECT_TRUE(CheckShardPath("model-00001-of-00002.safetensors", "w").ok());
  EXPECT_TRUE(CheckShardPath("sub/model.safetensors", "w").ok());
  EXPECT_TRUE(CheckShardPath("a..b.safetensors", "w").ok());
  for (const char* bad : {"..", "../a", "a/..", "a/../../b", "/a", "a//b", "./a", "a/", ""}) {
    EXPECT_FALSE(CheckShardPath(bad, "w").ok()) << bad;
  }
}

}  // namespace
}  // namespace silica
