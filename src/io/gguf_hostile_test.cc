// Hostile GGUF input: every malformed file must fail with a Status that
// names the file and the field, never crash, never read out of bounds (the
// asan preset runs these under AddressSanitizer).
#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "io/gguf_writer.h"

namespace silica {
namespace {

constexpr char kName[] = "hostile.gguf";

// Hand-assembled GGUF bytes, so tests can write what GgufWriter refuses to.
struct Raw {
  std::vector<uint8_t> b;

  template <typename T>
  Raw& Put(T v) {
    uint8_t tmp[sizeof(T)];
    std::memcpy(tmp, &v, sizeof(T));
    b.insert(b.end(), tmp, tmp + sizeof(T));
    return *this;
  }
  Raw& U8(uint8_t v) { return Put(v); }
  Raw& U32(uint32_t v) { return Put(v); }
  Raw& U64(uint64_t v) { return Put(v); }
  Raw& Str(std::string_view s) {
    U64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Raw& Header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    U32(0x46554747);
    U32(version);
    U64(n_tensors);
    return U64(n_kv);
  }
  Raw& KvU32(std::string_view key, uint32_t v) {
    Str(key);
    U32(4);
    return U32(v);
  }
  // dims innermost first, as on disk.
  Raw& Tensor(std::string_view name, std::initializer_list<uint64_t> dims,
              uint32_t type, uint64_t offset) {
    Str(name);
    U32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) U64(d);
    U32(type);
    return U64(offset);
  }
  Raw& PadTo(size_t align) {
    while (b.size() % align != 0) b.push_back(0);
    return *this;
  }
  Raw& Zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
};

Status ParseStatus(const std::vector<uint8_t>& bytes) {
  auto f = GgufFile::Parse(bytes, kName);
  return f.ok() ? Status::Ok() : f.status();
}

// Asserts failure with a message naming the file and each of `parts`.
void ExpectFail(const std::vector<uint8_t>& bytes,
                std::initializer_list<std::string_view> parts) {
  const Status s = ParseStatus(bytes);
  ASSERT_FALSE(s.ok()) << "parsed a hostile file";
  EXPECT_EQ(s.message().rfind(std::string(kName) + ": ", 0), 0u) << s.message();
  for (std::string_view p : parts) {
    EXPECT_NE(s.message().find(p), std::string::npos)
        << "'" << p << "' not in: " << s.message();
  }
}

// A file with every kind of entry: scalars, strings, nested arrays and
// tensors. The last tensor is exactly 64 bytes, a multiple of the alignment,
// so the file has no trailing padding: every proper prefix is truncated.
std::vector<uint8_t> ValidFile() {
  GgufWriter w;
  EXPECT_TRUE(w.Set("general.architecture", GgufValue::String("llama")).ok());
  EXPECT_TRUE(w.Set("general.alignment", GgufValue::U32(64)).ok());
  EXPECT_TRUE(w.Set("n", GgufValue::U64(7)).ok());
  EXPECT_TRUE(w.Set("b", GgufValue::Bool(true)).ok());
  EXPECT_TRUE(w.Set("toks", GgufValue::StringArray({"a", "bc", ""})).ok());
  EXPECT_TRUE(w.Set("nest", GgufValue::Array(GgufType::kArray,
                                             {GgufValue::I32Array({1, 2}),
                                              GgufValue::F32Array({3})}))
                  .ok());
  Shape s;
  s.rank = 2;
  s.dims = {2, 32};
  EXPECT_TRUE(
      w.AddTensor("q", DType::kQ8_0, s, std::vector<uint8_t>(68, 5)).ok());
  s.rank = 1;
  s.dims = {16};
  EXPECT_TRUE(
      w.AddTensor("f", DType::kF32, s, std::vector<uint8_t>(64, 9)).ok());
  auto bytes = w.Serialize();
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

TEST(GgufHostileTest, ValidBaselineParses) {
  const auto bytes = ValidFile();
  EXPECT_TRUE(ParseStatus(bytes).ok()) << ParseStatus(bytes).ToString();
}

TEST(GgufHostileTest, EveryTruncationFailsCleanly) {
  const auto full = ValidFile();
  for (size_t len = 0; len < full.size(); ++len) {
    // A fresh heap copy of exactly `len` bytes, so ASan sees any overread.
    const std::vector<uint8_t> cut(full.begin(), full.begin() + len);
    const Status s = ParseStatus(cut);
    ASSERT_FALSE(s.ok()) << "truncated to " << len << " bytes parsed";
    ASSERT_EQ(s.message().rfind(std::string(kName) + ": ", 0), 0u)
        << s.message();
  }
}

TEST(GgufHostileTest, BadMagic) {
  auto bytes = ValidFile();
  bytes[0] = 'X';
  ExpectFail(bytes, {"magic", "not a GGUF file"});
}

TEST(GgufHostileTest, Version1And4AndBigEndian) {
  ExpectFail(Raw().Header(0, 0, 1).b, {"version", "version 1"});
  ExpectFail(Raw().Header(0, 0, 4).b, {"version", "version 4"});
  ExpectFail(Raw().Header(0, 0, 0).b, {"version", "version 0"});
  // A big-endian v3 file reads as 0x03000000 little-endian.
  ExpectFail(Raw().Header(0, 0, 0x03000000).b, {"version", "big-endian"});
}

TEST(GgufHostileTest, HugeCounts) {
  ExpectFail(Raw().Header(0, UINT64_MAX).b, {"metadata count"});
  ExpectFail(Raw().Header(UINT64_MAX, 0).b, {"tensor count"});
  ExpectFail(Raw().Header(1u << 20, 0).Zeros(64).b, {"tensor count"});
}

TEST(GgufHostileTest, HugeStringLength) {
  Raw r;
  r.Header(0, 1).U64(UINT64_MAX - 3).Zeros(16);
  ExpectFail(r.b, {"metadata entry 0 key", "string length"});
  Raw v;
  v.Header(0, 1).Str("k").U32(8).U64(uint64_t{1} << 40).Zeros(8);
  ExpectFail(v.b, {"metadata key 'k'", "string length 1099511627776"});
}

TEST(GgufHostileTest, HugeArrayCount) {
  Raw r;
  r.Header(0, 1).Str("arr").U32(9).U32(6).U64(uint64_t{1} << 61).Zeros(32);
  ExpectFail(r.b, {"metadata key 'arr'", "array count"});
  // Arrays of arrays: each item needs at least 12 bytes.
  Raw n;
  n.Header(0, 1).Str("arr").U32(9).U32(9).U64(100).Zeros(12 * 99);
  ExpectFail(n.b, {"metadata key 'arr'", "array count 100"});
}

TEST(GgufHostileTest, ValueCountCapStopsHugeArraysBeforeAllocating) {
  // 4 MiB of file would be ~200 MB of parsed values: over the cap.
  const uint64_t n = (uint64_t{1} << 22) + 1;
  Raw r;
  r.Header(0, 1).Str("bytes").U32(9).U32(0).U64(n).Zeros(n);
  const Status s = ParseStatus(r.b);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("metadata key 'bytes'"), std::string::npos)
      << s.message();
}

TEST(GgufHostileTest, DeepNestingIsRejected) {
  Raw r;
  r.Header(0, 1).Str("deep").U32(9);
  for (int i = 0; i < 100; ++i) r.U32(9).U64(1);
  r.U32(4).U64(0);
  ExpectFail(r.b, {"metadata key 'deep'", "nested deeper"});
}

TEST(GgufHostileTest, DuplicateKey) {
  Raw r;
  r.Header(0, 2).KvU32("a.b", 1).KvU32("a.b", 2);
  ExpectFail(r.b, {"metadata key 'a.b'", "duplicate key"});
}

TEST(GgufHostileTest, EmptyKey) {
  Raw r;
  r.Header(0, 1).KvU32("", 1);
  ExpectFail(r.b, {"metadata entry 0 key", "empty"});
}

TEST(GgufHostileTest, UnknownValueTypes) {
  Raw r;
  r.Header(0, 1).Str("k").U32(13).U32(0);
  ExpectFail(r.b, {"metadata key 'k'", "unknown value type 13"});
  Raw a;
  a.Header(0, 1).Str("k").U32(9).U32(99).U64(0);
  ExpectFail(a.b, {"metadata key 'k'", "unknown array element type 99"});
  Raw b;
  b.Header(0, 1).Str("flag").U32(7).U8(2);
  ExpectFail(b.b, {"metadata key 'flag'", "bool value 2"});
}

TEST(GgufHostileTest, BadAlignment) {
  ExpectFail(Raw().Header(0, 1).KvU32("general.alignment", 0).b,
             {"general.alignment", "not a nonzero power of two"});
  ExpectFail(Raw().Header(0, 1).KvU32("general.alignment", 48).b,
             {"general.alignment", "48 is not a nonzero power of two"});
  Raw s;
  s.Header(0, 1).Str("general.alignment").U32(8).Str("32");
  ExpectFail(s.b, {"general.alignment", "non-negative integer", "string"});
  Raw n;  // negative int32
  n.Header(0, 1).Str("general.alignment").U32(5).U32(0xffffffe0u);
  ExpectFail(n.b, {"general.alignment", "non-negative integer", "int32"});
}

TEST(GgufHostileTest, TooManyDims) {
  Raw r;
  r.Header(1, 0);
  r.Str("t").U32(5);
  for (int i = 0; i < 5; ++i) r.U64(1);
  r.U32(0).U64(0).PadTo(32).Zeros(32);
  ExpectFail(r.b, {"tensor 't' n_dims", "5 dimensions"});
}

TEST(GgufHostileTest, ZeroDim) {
  Raw r;
  r.Header(1, 0).Tensor("t", {4, 0}, 0, 0).PadTo(32).Zeros(32);
  ExpectFail(r.b, {"tensor 't' dim 1", "is 0"});
}

TEST(GgufHostileTest, OverflowingDims) {
  Raw r;
  r.Header(1, 0)
      .Tensor("t", {uint64_t{1} << 32, uint64_t{1} << 32}, 0, 0)
      .PadTo(32)
      .Zeros(32);
  ExpectFail(r.b, {"tensor 't' dim 1", "overflows"});
  Raw big;  // one dim past int64
  big.Header(1, 0).Tensor("t", {uint64_t{1} << 63}, 8, 0).PadTo(32);
  ExpectFail(big.b, {"tensor 't' dim 0", "overflows"});
  Raw bytes;  // elements fit, bytes (x8 for f64) do not
  bytes.Header(1, 0).Tensor("t", {uint64_t{1} << 61}, 28, 0).PadTo(32);
  ExpectFail(bytes.b, {"tensor 't'", "overflow"});
}

TEST(GgufHostileTest, PartialBlock) {
  Raw r;
  r.Header(1, 0).Tensor("q", {48, 2}, 2, 0).PadTo(32).Zeros(64);
  ExpectFail(r.b, {"tensor 'q' dim 0", "whole number of blocks"});
}

TEST(GgufHostileTest, UnknownGgmlType) {
  Raw r;
  r.Header(1, 0).Tensor("blk.0.w", {32}, 39, 0).PadTo(32).Zeros(128);
  ExpectFail(r.b, {"tensor 'blk.0.w' type", "ggml type 39"});
  Raw q2k;  // a real ggml type silica does not read
  q2k.Header(1, 0).Tensor("w", {256}, 10, 0).PadTo(32).Zeros(128);
  ExpectFail(q2k.b, {"tensor 'w' type", "ggml type 10", "not supported"});
}

TEST(GgufHostileTest, TensorDataPastEof) {
  Raw r;
  r.Header(1, 0).Tensor("w", {16}, 0, 0).PadTo(32).Zeros(63);
  ExpectFail(r.b, {"tensor 'w'", "runs past end of file"});
  Raw far;
  far.Header(1, 0).Tensor("w", {16}, 0, 1u << 20).PadTo(32).Zeros(64);
  ExpectFail(far.b, {"tensor 'w'", "runs past end of file"});
  Raw wrap;  // offset + size wraps around 2^64
  wrap.Header(1, 0).Tensor("w", {16}, 0, UINT64_MAX - 31).PadTo(32).Zeros(64);
  ExpectFail(wrap.b, {"tensor 'w'", "runs past end of file"});
}

TEST(GgufHostileTest, MisalignedOffset) {
  Raw r;
  r.Header(1, 0).Tensor("w", {4}, 0, 16).PadTo(32).Zeros(64);
  ExpectFail(r.b, {"tensor 'w' offset", "not a multiple of the alignment 32"});
}

TEST(GgufHostileTest, DuplicateAndEmptyTensorNames) {
  Raw r;
  r.Header(2, 0)
      .Tensor("w", {8}, 0, 0)
      .Tensor("w", {8}, 0, 32)
      .PadTo(32)
      .Zeros(64);
  ExpectFail(r.b, {"tensor 'w'", "duplicate tensor name"});
  Raw e;
  e.Header(1, 0).Tensor("", {8}, 0, 0).PadTo(32).Zeros(32);
  ExpectFail(e.b, {"tensor 0 name", "empty"});
}

TEST(GgufHostileTest, NonPrintableNamesAreEscapedInMessages) {
  Raw r;
  r.Header(0, 2).KvU32("a\nb\x01", 1).KvU32("a\nb\x01", 1);
  const Status s = ParseStatus(r.b);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'a?b?'"), std::string::npos) << s.message();
}

TEST(GgufHostileTest, RawBuilderAgreesWithWriter) {
  // Guards the builder above: a well-formed hand-made file parses.
  Raw r;
  r.Header(1, 1).KvU32("general.alignment", 32).Tensor("w", {8}, 0, 0);
  r.PadTo(32).Zeros(32);
  auto f = GgufFile::Parse(r.b, kName);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->tensors()[0].nbytes, 32u);
}

}  // namespace
}  // namespace silica
