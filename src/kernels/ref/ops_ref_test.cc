// The references checked against hand-derived values and the published
// formulas (transformers' rope_init_fns), independently of any SIMD code.
#include "kernels/ref/ops_ref.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "core/half.h"

namespace silica {
namespace {

TEST(OpsRefTest, RmsNormByHand) {
  const float x[4] = {1, 2, 3, 4};  // mean square 7.5
  const float w[4] = {1, 1, 2, -1};
  float y[4];
  RmsNormRef(x, w, 1, 4, 0.0f, false, y);
  const float inv = 1.0f / std::sqrt(7.5f);
  EXPECT_FLOAT_EQ(y[0], 1 * inv);
  EXPECT_FLOAT_EQ(y[2], 6 * inv);
  EXPECT_FLOAT_EQ(y[3], -4 * inv);
  RmsNormRef(x, w, 1, 4, 0.0f, true, y);  // Gemma: 1 + w
  EXPECT_FLOAT_EQ(y[0], 2 * inv);
  EXPECT_FLOAT_EQ(y[3], 0.0f);
}

TEST(OpsRefTest, RopeRotatesThePairsOfEachLayout) {
  const float inv_freq[2] = {1.0f, 0.5f};
  RopeParams p{.head_dim = 4, .rotary_dim = 4, .neox = false,
               .inv_freq = inv_freq};
  const int32_t pos = 2;
  float x[4] = {1, 0, 0, 1};
  RopeRef(x, 1, 1, &pos, p);  // pairs (0,1) by 2 rad, (2,3) by 1 rad
  EXPECT_NEAR(x[0], std::cos(2.0), 1e-6);
  EXPECT_NEAR(x[1], std::sin(2.0), 1e-6);
  EXPECT_NEAR(x[2], -std::sin(1.0), 1e-6);
  EXPECT_NEAR(x[3], std::cos(1.0), 1e-6);
  p.neox = true;
  p.attention_factor = 2.0f;
  float y[4] = {1, 0, 0, 1};
  RopeRef(y, 1, 1, &pos, p);  // pairs (0,2) by 2 rad, (1,3) by 1 rad
  EXPECT_NEAR(y[0], 2 * std::cos(2.0), 1e-6);
  EXPECT_NEAR(y[2], 2 * std::sin(2.0), 1e-6);
  EXPECT_NEAR(y[1], -2 * std::sin(1.0), 1e-6);
  EXPECT_NEAR(y[3], 2 * std::cos(1.0), 1e-6);
}

TEST(OpsRefTest, AttentionOverOneKeyReturnsItsValue) {
  // One sequence, one token: softmax over a single key is 1.
  std::vector<float> k(16 * 2, 0), v(16 * 2, 0);
  v[0] = 3.0f;
  v[1] = -1.0f;
  PagedKV kv{k.data(), v.data(), DType::kF32, 1, 16, 1, 2};
  const int32_t qs[2] = {0, 1}, lens[1] = {1}, table[1] = {0};
  AttentionBatch b{1, qs, lens, table, 1};
  AttentionParams p{.n_heads = 2, .n_kv_heads = 1, .head_dim = 2};
  const float q[4] = {1, 2, 3, 4};
  float out[4];
  AttentionRef(q, kv, b, p, out);
  EXPECT_FLOAT_EQ(out[0], 3.0f);
  EXPECT_FLOAT_EQ(out[1], -1.0f);
  EXPECT_FLOAT_EQ(out[2], 3.0f);
}

TEST(OpsRefTest, StoreKVConvertsToHalf) {
  std::vector<uint16_t> k(2 * 16 * 2), v(2 * 16 * 2);
  PagedKV kv{k.data(), v.data(), DType::kF16, 2, 16, 1, 2};
  const float kin[4] = {1.0f, -2.0f, 0.5f, 65504.0f};
  const float vin[4] = {3.0f, 4.0f, 5.0f, 6.0f};
  const int32_t slots[2] = {17, -1};
  StoreKVRef(kin, vin, 2, slots, kv);
  EXPECT_EQ(HalfToFloat(k[34]), 1.0f);
  EXPECT_EQ(HalfToFloat(k[35]), -2.0f);
  EXPECT_EQ(HalfToFloat(v[35]), 4.0f);
  EXPECT_EQ(k[0], 0);  // the padding token wrote nothing
}

TEST(RopeFreqTest, DefaultAndLinear) {
  auto f = ComputeRopeInvFreq(10000.0, 4, RopeScaling{});
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->inv_freq.size(), 2u);
  EXPECT_FLOAT_EQ(f->inv_freq[0], 1.0f);
  EXPECT_FLOAT_EQ(f->inv_freq[1], 0.01f);
  EXPECT_EQ(f->attention_factor, 1.0f);
  RopeScaling linear{.type = RopeScalingType::kLinear, .factor = 4.0};
  f = ComputeRopeInvFreq(10000.0, 4, linear);
  ASSERT_TRUE(f.ok());
  EXPECT_FLOAT_EQ(f->inv_freq[1], 0.0025f);
}

TEST(RopeFreqTest, Llama3BandsMatchTheFormula) {
  // Llama 3.1: theta 500000, factor 8, low 1, high 4, 8192 original ctx.
  RopeScaling s{.type = RopeScalingType::kLlama3, .factor = 8.0,
                .original_max_position_embeddings = 8192,
                .low_freq_factor = 1.0, .high_freq_factor = 4.0};
  auto f = ComputeRopeInvFreq(500000.0, 128, s);
  ASSERT_TRUE(f.ok());
  int high = 0, low = 0, medium = 0;
  for (int i = 0; i < 64; ++i) {
    const double base = std::pow(500000.0, -2.0 * i / 128);
    const double wavelen = 2 * std::numbers::pi / base;
    double want;
    if (wavelen < 8192.0 / 4) {
      want = base;
      ++high;
    } else if (wavelen > 8192.0) {
      want = base / 8;
      ++low;
    } else {
      const double smooth = (8192.0 / wavelen - 1.0) / 3.0;
      want = (1 - smooth) * base / 8 + smooth * base;
      ++medium;
    }
    EXPECT_NEAR(f->inv_freq[i], want, 1e-6 * want) << i;
  }
  EXPECT_GT(high, 0);
  EXPECT_GT(low, 0);
  EXPECT_GT(medium, 0);
}

TEST(RopeFreqTest, YarnRampAndAttentionFactor) {
  // Qwen-style: theta 1e6, factor 4 over a 32768 original context.
  RopeScaling s{.type = RopeScalingType::kYarn, .factor = 4.0,
                .original_max_position_embeddings = 32768};
  auto f = ComputeRopeInvFreq(1e6, 128, s);
  ASSERT_TRUE(f.ok());
  EXPECT_NEAR(f->attention_factor, 0.1 * std::log(4.0) + 1.0, 1e-6);
  // Correction range: dims that make 32 (fast) or 1 (slow) full turns.
  auto corr = [](double rot) {
    return 128 * std::log(32768 / (rot * 2 * std::numbers::pi)) /
           (2 * std::log(1e6));
  };
  const double lo = std::floor(corr(32.0)), hi = std::ceil(corr(1.0));
  for (int i = 0; i < 64; ++i) {
    const double base = std::pow(1e6, -2.0 * i / 128);
    const double ramp = std::clamp((i - lo) / (hi - lo), 0.0, 1.0);
    const double want = base / 4 * ramp + base * (1 - ramp);
    EXPECT_NEAR(f->inv_freq[i], want, 1e-6 * want) << i;
  }
  EXPECT_FLOAT_EQ(f->inv_freq[0], 1.0f);  // fastest band: extrapolated

  s.mscale = 0.707;
  s.mscale_all_dim = 1.0;
  f = ComputeRopeInvFreq(1e6, 128, s);
  ASSERT_TRUE(f.ok());
  EXPECT_NEAR(f->attention_factor,
              (0.0707 * std::log(4.0) + 1) / (0.1 * std::log(4.0) + 1), 1e-6);
  s.attention_factor = 0.5;
  f = ComputeRopeInvFreq(1e6, 128, s);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->attention_factor, 0.5f);
}

TEST(RopeFreqTest, RejectsUnusableParameters) {
  EXPECT_FALSE(ComputeRopeInvFreq(10000.0, 7, RopeScaling{}).ok());
  EXPECT_FALSE(ComputeRopeInvFreq(10000.0, 0, RopeScaling{}).ok());
  EXPECT_FALSE(ComputeRopeInvFreq(1.0, 64, RopeScaling{}).ok());
  EXPECT_FALSE(ComputeRopeInvFreq(NAN, 64, RopeScaling{}).ok());
  RopeScaling l3{.type = RopeScalingType::kLlama3, .factor = 8.0};
  EXPECT_FALSE(ComputeRopeInvFreq(500000.0, 64, l3).ok());  // no context
  RopeScaling yarn{.type = RopeScalingType::kYarn, .factor = 4.0};
  EXPECT_FALSE(ComputeRopeInvFreq(1e6, 64, yarn).ok());  // no context
  yarn.max_position_embeddings = 4096;
  EXPECT_TRUE(ComputeRopeInvFreq(1e6, 64, yarn).ok());
  RopeScaling zero{.type = RopeScalingType::kLinear, .factor = 0.0};
  EXPECT_FALSE(ComputeRopeInvFreq(1e4, 64, zero).ok());
}

}  // namespace
}  // namespace silica
