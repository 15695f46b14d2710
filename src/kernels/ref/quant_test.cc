// Reference (de)quantizers: hand-packed blocks with known values, error
// bounds for quantize -> dequantize, exactness on the grid, and argument
// checks. The golden test (tests/golden/dequant_test.cc) compares the same
// code against gguf-py on real model tensors.
#include "kernels/ref/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/half.h"
#include "core/quant_blocks.h"

namespace silica {
namespace {

template <typename Block>
std::vector<uint8_t> Bytes(const std::vector<Block>& blocks) {
  std::vector<uint8_t> out(blocks.size() * sizeof(Block));
  std::memcpy(out.data(), blocks.data(), out.size());
  return out;
}

std::vector<float> Dequant(DType t, const std::vector<uint8_t>& src,
                           int64_t n) {
  std::vector<float> y(n, -999.0f);
  const Status s = DequantizeRow(t, src.data(), y.data(), n);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return y;
}

// Sets 4-bit level q (0..15) of element j in a 32-element *_0/*_1 block.
void SetNibble(uint8_t* qs, int j, int q) {
  if (j < 16) {
    qs[j] = static_cast<uint8_t>((qs[j] & 0xf0) | q);
  } else {
    qs[j - 16] = static_cast<uint8_t>((qs[j - 16] & 0x0f) | (q << 4));
  }
}

TEST(QuantRefTest, Q8_0KnownBlock) {
  BlockQ8_0 b{};
  b.d = FloatToHalf(0.5f);
  for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j * 8 - 128);
  const auto y = Dequant(DType::kQ8_0, Bytes<BlockQ8_0>({b}), 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], 0.5f * (j * 8 - 128)) << j;
}

TEST(QuantRefTest, Q4_0AndQ4_1KnownBlocks) {
  BlockQ4_0 a{};
  BlockQ4_1 b{};
  a.d = FloatToHalf(-0.25f);
  b.d = FloatToHalf(0.125f);
  b.m = FloatToHalf(-1.0f);
  for (int j = 0; j < 32; ++j) {
    SetNibble(a.qs, j, (j * 5) % 16);
    SetNibble(b.qs, j, 15 - j % 16);
  }
  const auto ya = Dequant(DType::kQ4_0, Bytes<BlockQ4_0>({a}), 32);
  const auto yb = Dequant(DType::kQ4_1, Bytes<BlockQ4_1>({b}), 32);
  for (int j = 0; j < 32; ++j) {
    EXPECT_EQ(ya[j], -0.25f * ((j * 5) % 16 - 8)) << j;
    EXPECT_EQ(yb[j], 0.125f * (15 - j % 16) - 1.0f) << j;
  }
}

TEST(QuantRefTest, Q5_0AndQ5_1KnownBlocks) {
  BlockQ5_0 a{};
  BlockQ5_1 b{};
  a.d = FloatToHalf(2.0f);
  b.d = FloatToHalf(0.5f);
  b.m = FloatToHalf(3.0f);
  uint32_t qh = 0;
  for (int j = 0; j < 32; ++j) {
    const int q = (j * 7 + 3) % 32;  // every 5-bit level appears
    SetNibble(a.qs, j, q & 15);
    SetNibble(b.qs, j, q & 15);
    qh |= static_cast<uint32_t>(q >> 4) << j;
  }
  std::memcpy(a.qh, &qh, 4);
  std::memcpy(b.qh, &qh, 4);
  const auto ya = Dequant(DType::kQ5_0, Bytes<BlockQ5_0>({a}), 32);
  const auto yb = Dequant(DType::kQ5_1, Bytes<BlockQ5_1>({b}), 32);
  for (int j = 0; j < 32; ++j) {
    const int q = (j * 7 + 3) % 32;
    EXPECT_EQ(ya[j], 2.0f * (q - 16)) << j;
    EXPECT_EQ(yb[j], 0.5f * q + 3.0f) << j;
  }
}

// Packs 6-bit scale/min of sub-block s into the 12-byte K-quant layout
// (written from the format description, independently of the decoder).
void PackKScales(uint8_t s[12], const int sc[8], const int mn[8]) {
  std::memset(s, 0, 12);
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
  }
}

int Level(int e, int bits) { return (e * 37 + e / 7) % (1 << bits); }

TEST(QuantRefTest, Q4_KAndQ5_KKnownBlocks) {
  const int sc[8] = {1, 63, 17, 32, 5, 48, 60, 33};
  const int mn[8] = {0, 2, 63, 40, 16, 31, 1, 62};
  BlockQ4_K a{};
  BlockQ5_K b{};
  a.d = b.d = FloatToHalf(0.0625f);
  a.dmin = b.dmin = FloatToHalf(0.5f);
  PackKScales(a.scales, sc, mn);
  PackKScales(b.scales, sc, mn);
  for (int e = 0; e < 256; ++e) {
    const int s = e / 32;
    const int l = e % 32;
    const int byte = (s / 2) * 32 + l;  // two sub-blocks share 32 bytes
    const int shift = (s % 2) * 4;
    a.qs[byte] |= static_cast<uint8_t>(Level(e, 4) << shift);
    b.qs[byte] |= static_cast<uint8_t>((Level(e, 5) & 15) << shift);
    b.qh[l] |= static_cast<uint8_t>((Level(e, 5) >> 4) << s);
  }
  const auto ya = Dequant(DType::kQ4_K, Bytes<BlockQ4_K>({a}), 256);
  const auto yb = Dequant(DType::kQ5_K, Bytes<BlockQ5_K>({b}), 256);
  for (int e = 0; e < 256; ++e) {
    const int s = e / 32;
    const float ds = 0.0625f * sc[s];
    const float ms = 0.5f * mn[s];
    EXPECT_EQ(ya[e], ds * Level(e, 4) - ms) << e;
    EXPECT_EQ(yb[e], ds * Level(e, 5) - ms) << e;
  }
}

TEST(QuantRefTest, Q6_KKnownBlock) {
  BlockQ6_K b{};
  b.d = FloatToHalf(0.25f);
  for (int i = 0; i < 16; ++i) b.scales[i] = static_cast<int8_t>(i * 9 - 70);
  // Element e = 128h + 32g + l: low nibble in ql[64h + l + 32(g&1)] (high
  // half of the byte for g >= 2), top two bits in qh[32h + l] at bit 2g,
  // scale index 8h + 2g + l/16.
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, g = (e % 128) / 32, l = e % 32;
    const int q = Level(e, 6);
    b.ql[64 * h + l + 32 * (g & 1)] |=
        static_cast<uint8_t>((q & 15) << (g < 2 ? 0 : 4));
    b.qh[32 * h + l] |= static_cast<uint8_t>((q >> 4) << (2 * g));
  }
  const auto y = Dequant(DType::kQ6_K, Bytes<BlockQ6_K>({b}), 256);
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, g = (e % 128) / 32, l = e % 32;
    const float scale = 0.25f * b.scales[8 * h + 2 * g + l / 16];
    EXPECT_EQ(y[e], scale * (Level(e, 6) - 32)) << e;
  }
}

TEST(QuantRefTest, HalfAndBf16Rows) {
  const std::vector<float> x = {0.0f,     -0.0f, 1.0f,     -2.5f,
                                65504.0f, 1e-7f, 3.14159f, INFINITY};
  const int64_t n = static_cast<int64_t>(x.size());
  for (DType t : {DType::kF16, DType::kBF16, DType::kF32}) {
    std::vector<uint8_t> q(n * GetDTypeInfo(t).block_bytes);
    ASSERT_TRUE(QuantizeRow(t, x.data(), q.data(), n).ok());
    const auto y = Dequant(t, q, n);
    for (int64_t i = 0; i < n; ++i) {
      const float want = t == DType::kF16    ? HalfToFloat(FloatToHalf(x[i]))
                         : t == DType::kBF16 ? BF16ToFloat(FloatToBF16(x[i]))
                                             : x[i];
      EXPECT_EQ(y[i], want) << DTypeName(t) << " " << i;
    }
  }
}

std::vector<float> RandomRow(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

std::vector<float> RoundTrip(DType t, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(*RowBytes(t, n));
  const Status s = QuantizeRow(t, x.data(), q.data(), n);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return Dequant(t, q, n);
}

TEST(QuantRefTest, Q8_0RoundTripWithinHalfStep) {
  const auto x = RandomRow(32 * 64, 1, 0.7f);
  const auto y = RoundTrip(DType::kQ8_0, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j)
      amax = std::max(amax, std::fabs(x[b * 32 + j]));
    const float d = amax / 127.0f;
    const float d16 = HalfToFloat(FloatToHalf(d));
    // Half a step, plus the scale's fp16 rounding times the level (<= 127).
    const float bound = d / 2 + 127 * std::fabs(d - d16) + 1e-6f * amax;
    for (int j = 0; j < 32; ++j) {
      ASSERT_LE(std::fabs(x[b * 32 + j] - y[b * 32 + j]), bound)
          << "block " << b << " elem " << j;
    }
  }
}

TEST(QuantRefTest, Q4_0RoundTripWithinHalfStep) {
  const auto x = RandomRow(32 * 64, 2, 1.3f);
  const auto y = RoundTrip(DType::kQ4_0, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0, max = 0;
    for (int j = 0; j < 32; ++j) {
      if (std::fabs(x[b * 32 + j]) > amax) {
        amax = std::fabs(x[b * 32 + j]);
        max = x[b * 32 + j];
      }
    }
    const float d = max / -8.0f;
    const float d16 = HalfToFloat(FloatToHalf(d));
    for (int j = 0; j < 32; ++j) {
      const float xv = x[b * 32 + j];
      // Levels run -8..7: values past 7.5 steps on the far side of the
      // dominant sign clamp to level 7 and may be off by up to a full step.
      const bool clamped = xv / d > 7.5f;
      const float bound = std::fabs(d) * (clamped ? 1.0f : 0.5f) +
                          8 * std::fabs(d - d16) + 1e-6f * amax;
      ASSERT_LE(std::fabs(xv - y[b * 32 + j]), bound)
          << "block " << b << " elem " << j;
    }
  }
}

TEST(QuantRefTest, Q4_1RoundTripWithinHalfStep) {
  const auto x = RandomRow(32 * 64, 3, 0.05f);
  const auto y = RoundTrip(DType::kQ4_1, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float mn = x[b * 32], mx = x[b * 32];
    for (int j = 0; j < 32; ++j) {
      mn = std::min(mn, x[b * 32 + j]);
      mx = std::max(mx, x[b * 32 + j]);
    }
    const float d = (mx - mn) / 15.0f;
    const float d16 = HalfToFloat(FloatToHalf(d));
    const float m16 = HalfToFloat(FloatToHalf(mn));
    const float bound = d / 2 + 15 * std::fabs(d - d16) + std::fabs(mn - m16) +
                        1e-6f * (mx - mn);
    for (int j = 0; j < 32; ++j) {
      ASSERT_LE(std::fabs(x[b * 32 + j] - y[b * 32 + j]), bound)
          << "block " << b << " elem " << j;
    }
  }
}

// Values on each format's grid, with an fp16-exact scale, come back exactly.
TEST(QuantRefTest, ValuesOnTheGridAreExact) {
  std::vector<float> q8(64), q40(64), q41(64);
  for (int j = 0; j < 64; ++j) {
    const int blk = j / 32;
    q8[j] = 0.25f * ((j * 11 + blk) % 255 - 127);
    q40[j] = 0.5f * ((j * 3) % 16 - 8);  // level -8 present: d = 0.5
    q41[j] = -1.0f + 0.125f * ((j * 7) % 16);
  }
  q8[5] = 0.25f * 127;    // amax = 127 * d in block 0
  q8[40] = -0.25f * 127;  // and in block 1
  q41[0] = -1.0f;         // min of block 0
  q41[1] = -1.0f + 0.125f * 15;
  q41[32] = -1.0f;
  q41[33] = -1.0f + 0.125f * 15;
  EXPECT_EQ(RoundTrip(DType::kQ8_0, q8), q8);
  EXPECT_EQ(RoundTrip(DType::kQ4_0, q40), q40);
  EXPECT_EQ(RoundTrip(DType::kQ4_1, q41), q41);
}

TEST(QuantRefTest, ZeroAndNonFiniteBlocksDoNotMisbehave) {
  const std::vector<float> zeros(32, 0.0f);
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1}) {
    EXPECT_EQ(RoundTrip(t, zeros), zeros) << DTypeName(t);
  }
  std::vector<float> bad(32, 1.0f);
  bad[3] = NAN;
  bad[4] = INFINITY;
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1}) {
    std::vector<uint8_t> q(*RowBytes(t, 32));
    // Garbage in, but no undefined behaviour (UBSan watches the casts).
    EXPECT_TRUE(QuantizeRow(t, bad.data(), q.data(), 32).ok());
  }
}

TEST(QuantRefTest, UnalignedSource) {
  // Rows in a mapped GGUF file are not aligned for the fp16 fields.
  BlockQ4_1 b{};
  b.d = FloatToHalf(1.0f);
  b.m = FloatToHalf(0.5f);
  std::vector<uint8_t> buf(1 + 2 * sizeof(b));
  std::memcpy(buf.data() + 1, &b, sizeof(b));
  std::memcpy(buf.data() + 1 + sizeof(b), &b, sizeof(b));
  std::vector<float> y(64);
  ASSERT_TRUE(DequantizeRow(DType::kQ4_1, buf.data() + 1, y.data(), 64).ok());
  for (float v : y) EXPECT_EQ(v, 0.5f);
}

TEST(QuantRefTest, BadCountsAndTypes) {
  std::vector<uint8_t> src(1024);
  std::vector<float> dst(1024);
  const Status neg = DequantizeRow(DType::kQ8_0, src.data(), dst.data(), -32);
  EXPECT_EQ(neg.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(neg.message().find("negative"), std::string::npos);
  const Status partial =
      DequantizeRow(DType::kQ4_K, src.data(), dst.data(), 128);
  EXPECT_EQ(partial.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(partial.message().find("q4_k"), std::string::npos);
  EXPECT_EQ(QuantizeRow(DType::kQ4_0, dst.data(), src.data(), 33).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DequantizeRow(DType::kQ8_K, src.data(), dst.data(), 256).code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(QuantizeRow(DType::kQ4_K, dst.data(), src.data(), 256).code(),
            StatusCode::kUnimplemented);
  EXPECT_TRUE(DequantizeRow(DType::kQ6_K, src.data(), dst.data(), 0).ok());
}

}  // namespace
}  // namespace silica
