// Q6_K reference quantizer: round trips through the independent reference
// dequantizer (kernels/ref/quant.h), error bounds that follow from the
// format, exact zeros, and argument checks.
#include "kernels/ref/quantize_k.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/half.h"
#include "core/quant_blocks.h"
#include "kernels/ref/quant.h"

namespace silica {
namespace {

std::vector<float> RoundTrip(const std::vector<float>& x,
                             std::vector<uint8_t>* bytes = nullptr) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(n / kQKK * sizeof(BlockQ6_K), 0xAB);
  Status s = QuantizeRowQ6_K(x.data(), q.data(), n);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::vector<float> y(n, -999.0f);
  s = DequantizeRow(DType::kQ6_K, q.data(), y.data(), n);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (bytes) *bytes = q;
  return y;
}

std::vector<float> Gaussian(int64_t n, uint32_t seed, float stddev) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

TEST(QuantizeKTest, Q6_KGaussianRoundTripIsAccurate) {
  const int64_t n = 64 * kQKK;
  const auto x = Gaussian(n, 7, 0.02f);
  std::vector<uint8_t> q;
  const auto y = RoundTrip(x, &q);
  double err2 = 0.0;
  double ref2 = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    err2 += (x[i] - y[i]) * (x[i] - y[i]);
    ref2 += x[i] * x[i];
  }
  // 6-bit levels over a 16-value group of a Gaussian: the step is about
  // sigma/16, so the RMS error is about 2% of sigma. Allow 3%.
  EXPECT_LT(std::sqrt(err2 / ref2), 0.03);

  // Per element: no worse than one step of its sub-block's scale (half a
  // step from rounding, plus clamping at the edge of the level range).
  for (int64_t b = 0; b < n / kQKK; ++b) {
    BlockQ6_K blk;
    std::memcpy(&blk, q.data() + b * sizeof(BlockQ6_K), sizeof(blk));
    const float d = HalfToFloat(blk.d);
    for (int i = 0; i < kQKK; ++i) {
      const float step = std::fabs(d * blk.scales[i / 16]);
      const int64_t k = b * kQKK + i;
      EXPECT_LE(std::fabs(x[k] - y[k]), step * 1.0001f + 1e-9f) << k;
    }
  }
}

TEST(QuantizeKTest, Q6_KLargestScaleUsesFullInt8Range) {
  const auto x = Gaussian(kQKK, 11, 1.0f);
  std::vector<uint8_t> q;
  RoundTrip(x, &q);
  BlockQ6_K blk;
  std::memcpy(&blk, q.data(), sizeof(blk));
  int max_abs = 0;
  for (int8_t s : blk.scales) max_abs = std::max(max_abs, std::abs(int{s}));
  // The biggest sub-block scale maps to -128 (stored as 127 or -128).
  EXPECT_GE(max_abs, 127);
}

TEST(QuantizeKTest, Q6_KZerosStayZeroAndSparseBlocksWork) {
  std::vector<float> x(2 * kQKK, 0.0f);
  auto y = RoundTrip(x);
  for (float v : y) EXPECT_EQ(v, 0.0f);
  // One non-zero value per block: it must survive, the rest stay zero.
  x[3] = 0.5f;
  x[kQKK + 200] = -1.25f;
  y = RoundTrip(x);
  EXPECT_NEAR(y[3], 0.5f, 0.5f / 64);
  EXPECT_NEAR(y[kQKK + 200], -1.25f, 1.25f / 64);
  for (int64_t i = 0; i < 2 * kQKK; ++i) {
    if (i != 3 && i != kQKK + 200) {
      EXPECT_EQ(y[i], 0.0f) << i;
    }
  }
}

TEST(QuantizeKTest, Q6_KOnGridValuesAreExact) {
  // Values k * 2^-6 with k in [-32, 31] and the extreme -32 present in
  // every sub-block: a scale of 2^-6 reproduces them exactly, and the
  // scale search must find a setting at least that good.
  std::vector<float> x(kQKK);
  for (int i = 0; i < kQKK; ++i) {
    const int k = (i % 16 == 0) ? -32 : ((i * 37) % 64) - 32;
    x[i] = static_cast<float>(k) / 64.0f;
  }
  const auto y = RoundTrip(x);
  for (int i = 0; i < kQKK; ++i) EXPECT_NEAR(y[i], x[i], 1e-6f) << i;
}

TEST(QuantizeKTest, Q6_KIsDeterministic) {
  const auto x = Gaussian(4 * kQKK, 3, 0.5f);
  std::vector<uint8_t> a;
  std::vector<uint8_t> b;
  RoundTrip(x, &a);
  RoundTrip(x, &b);
  EXPECT_EQ(a, b);
}

TEST(QuantizeKTest, Q6_KRejectsPartialBlocks) {
  std::vector<float> x(kQKK + 32, 1.0f);
  std::vector<uint8_t> q(2 * sizeof(BlockQ6_K));
  EXPECT_EQ(QuantizeRowQ6_K(x.data(), q.data(), kQKK + 32).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(QuantizeRowQ6_K(x.data(), q.data(), -kQKK).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(QuantizeRowQ6_K(x.data(), q.data(), 0).ok());
}

}  // namespace
}  // namespace silica
