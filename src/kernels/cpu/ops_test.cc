// Parity of the Highway kernels with the scalar references, on every SIMD
// target this binary was compiled for and this CPU supports.
#include "kernels/cpu/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "hwy/targets.h"
#include "kernels/cpu/ops_test_util.h"
#include "kernels/ref/ops_ref.h"

namespace silica {
namespace {

using testing::AttentionCase;
using testing::MakeAttentionFixture;
using testing::RandomVector;
using testing::WorstError;

class OpsTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { hwy::SetSupportedTargetsForTest(GetParam()); }
  void TearDown() override { hwy::SetSupportedTargetsForTest(0); }
};

TEST_P(OpsTest, DispatchesToTheTargetUnderTest) {
  EXPECT_STREQ(cpu::DispatchedTargetName(), hwy::TargetName(GetParam()));
}

TEST_P(OpsTest, RmsNorm) {
  for (bool one_plus_w : {false, true}) {
    for (int64_t dim : {1, 7, 64, 640, 1027, 2304}) {
      const int64_t rows = 5;
      const auto x = RandomVector(rows * dim, 1, -4, 4);
      const auto w = RandomVector(dim, 2);
      std::vector<float> want(x.size()), got(x);
      RmsNormRef(x.data(), w.data(), rows, dim, 1e-6f, one_plus_w,
                 want.data());
      cpu::RmsNorm(got.data(), w.data(), rows, dim, 1e-6f, one_plus_w,
                   got.data());
      EXPECT_LE(WorstError(got.data(), want.data(), got.size(), 1e-6, 1e-5),
                1.0)
          << "dim " << dim << " one_plus_w " << one_plus_w;
    }
  }
}

TEST_P(OpsTest, Rope) {
  struct Case {
    int head_dim, rotary_dim;
    bool neox;
  };
  for (const Case& c : {Case{64, 64, true}, Case{64, 64, false},
                        Case{128, 128, true}, Case{128, 128, false},
                        Case{128, 64, true}, Case{128, 32, false},
                        Case{80, 40, true}, Case{256, 256, true},
                        Case{6, 6, false}, Case{6, 6, true}}) {
    RopeParams p;
    p.head_dim = c.head_dim;
    p.rotary_dim = c.rotary_dim;
    p.neox = c.neox;
    RopeScaling yarn;
    yarn.type = RopeScalingType::kYarn;
    yarn.factor = 4.0;
    yarn.original_max_position_embeddings = 4096;
    auto freqs = ComputeRopeInvFreq(1e6, c.rotary_dim, yarn);
    ASSERT_TRUE(freqs.ok());
    p.inv_freq = freqs->inv_freq.data();
    p.attention_factor = freqs->attention_factor;
    const int64_t tokens = 9;
    const int heads = 3;
    std::vector<int32_t> pos(tokens);
    for (int64_t t = 0; t < tokens; ++t) pos[t] = static_cast<int32_t>(t * t * 1013);
    const auto x = RandomVector(tokens * heads * c.head_dim, 3, -3, 3);
    std::vector<float> want(x), got(x);
    RopeRef(want.data(), tokens, heads, pos.data(), p);
    cpu::Rope(got.data(), tokens, heads, pos.data(), p);
    EXPECT_LE(WorstError(got.data(), want.data(), got.size(), 1e-5, 1e-5), 1.0)
        << c.head_dim << "/" << c.rotary_dim << " neox " << c.neox;
  }
}

TEST_P(OpsTest, GatedActivations) {
  for (int64_t n : {1, 15, 16, 17, 4099}) {
    auto gate = RandomVector(n, 4, -12, 12);
    gate[0] = -200.0f;  // exp overflow territory
    if (n > 1) gate[1] = 150.0f;
    const auto up = RandomVector(n, 5, -3, 3);
    std::vector<float> want(n), got(n);
    SiluMulRef(gate.data(), up.data(), n, want.data());
    cpu::SiluMul(gate.data(), up.data(), n, got.data());
    EXPECT_LE(WorstError(got.data(), want.data(), n, 1e-6, 1e-5), 1.0) << n;
    GeluTanhMulRef(gate.data(), up.data(), n, want.data());
    cpu::GeluTanhMul(gate.data(), up.data(), n, got.data());
    EXPECT_LE(WorstError(got.data(), want.data(), n, 1e-6, 1e-5), 1.0) << n;
  }
}

TEST_P(OpsTest, SoftmaxAndAdd) {
  for (int64_t n : {1, 3, 16, 33, 32000}) {
    auto x = RandomVector(3 * n, 6, -40, 40);
    if (n > 1) x[0] = -INFINITY;  // a masked logit
    std::vector<float> want(x), got(x);
    SoftmaxRef(want.data(), 3, n);
    cpu::Softmax(got.data(), 3, n);
    EXPECT_LE(WorstError(got.data(), want.data(), got.size(), 1e-9, 1e-5),
              1.0)
        << n;
    const auto y = RandomVector(3 * n, 7);
    want = x;
    got = x;
    AddRef(want.data(), y.data(), 3 * n);
    cpu::Add(got.data(), y.data(), 3 * n);
    EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * 4));
  }
}

TEST_P(OpsTest, StoreKVIsBitExact) {
  for (DType dtype : {DType::kF32, DType::kF16}) {
    const int blocks = 3, bs = 16, heads = 3, hd = 40;
    const size_t bytes = size_t{blocks} * bs * heads * hd * 4;
    std::vector<uint8_t> kw(bytes), vw(bytes), kg(bytes), vg(bytes);
    PagedKV want{kw.data(), vw.data(), dtype, blocks, bs, heads, hd};
    PagedKV got{kg.data(), vg.data(), dtype, blocks, bs, heads, hd};
    const std::vector<int32_t> slots = {47, 0, -1, 20, 21};
    auto k = RandomVector(5 * heads * hd, 8, -70000, 70000);
    auto v = RandomVector(5 * heads * hd, 9, -1e-4f, 1e-4f);  // f16 subnormals
    k[1] = 65519.0f;  // rounds to the largest half
    k[2] = 65520.0f;  // rounds to inf
    v[3] = 2.98e-8f;  // rounds to the smallest subnormal (ties to even)
    StoreKVRef(k.data(), v.data(), 5, slots.data(), want);
    cpu::StoreKV(k.data(), v.data(), 5, slots.data(), got);
    EXPECT_EQ(kw, kg) << DTypeName(dtype);
    EXPECT_EQ(vw, vg) << DTypeName(dtype);
  }
}

std::string CaseName(const AttentionCase& c) {
  std::ostringstream s;
  s << "queries/lens";
  for (size_t i = 0; i < c.seq_lens.size(); ++i) {
    s << " " << c.n_query[i] << "/" << c.seq_lens[i];
  }
  s << " kv" << c.n_kv_heads << " g" << c.group << " d" << c.head_dim
    << " bs" << c.block_size << " " << DTypeName(c.kv_dtype) << " win"
    << c.sliding_window << " cap" << c.softcap;
  return s.str();
}

std::vector<AttentionCase> AttentionCases() {
  std::vector<AttentionCase> cases;
  // Decode batches over every GQA ratio and head size.
  for (int group : {1, 3, 7, 8}) {
    for (int d : {64, 128, 256}) {
      cases.push_back({.seq_lens = {1, 17, 200, 63}, .n_query = {1, 1, 1, 1},
                       .n_kv_heads = group == 7 ? 1 : 2, .group = group,
                       .head_dim = d});
    }
  }
  // Prefill, chunked prefill over a cached prefix, and mixed batches.
  cases.push_back({.seq_lens = {150}, .n_query = {150}, .n_kv_heads = 2,
                   .group = 8, .head_dim = 64});
  cases.push_back({.seq_lens = {97, 5, 40}, .n_query = {30, 1, 40},
                   .n_kv_heads = 3, .group = 3, .head_dim = 128,
                   .kv_dtype = DType::kF32});
  cases.push_back({.seq_lens = {70}, .n_query = {70}, .n_kv_heads = 1,
                   .group = 1, .head_dim = 256, .block_size = 32});
  // Sliding windows (shorter and longer than the context), Gemma's softcap.
  cases.push_back({.seq_lens = {120, 9, 64}, .n_query = {120, 1, 3},
                   .n_kv_heads = 1, .group = 4, .head_dim = 256,
                   .sliding_window = 32});
  cases.push_back({.seq_lens = {300, 2}, .n_query = {1, 2}, .n_kv_heads = 2,
                   .group = 7, .head_dim = 128, .sliding_window = 100,
                   .softcap = 50.0f});
  cases.push_back({.seq_lens = {45}, .n_query = {20}, .n_kv_heads = 2,
                   .group = 1, .head_dim = 64, .kv_dtype = DType::kF32,
                   .sliding_window = 7, .softcap = 20.0f});
  // Long decodes with few kv heads: split over the context on two threads
  // (with a window that leaves some parts empty, and a softcap).
  cases.push_back({.seq_lens = {1500}, .n_query = {1}, .n_kv_heads = 1,
                   .group = 4, .head_dim = 256});
  cases.push_back({.seq_lens = {2100, 700}, .n_query = {1, 1},
                   .n_kv_heads = 1, .group = 8, .head_dim = 64,
                   .sliding_window = 600, .softcap = 30.0f});
  cases.push_back({.seq_lens = {1100}, .n_query = {1}, .n_kv_heads = 3,
                   .group = 3, .head_dim = 64, .block_size = 32,
                   .kv_dtype = DType::kF32});
  // Odd sizes: head_dim not a multiple of the vector, tiny blocks.
  cases.push_back({.seq_lens = {33, 50}, .n_query = {33, 1}, .n_kv_heads = 2,
                   .group = 3, .head_dim = 72, .block_size = 5});
  return cases;
}

TEST_P(OpsTest, Attention) {
  ThreadPool pool(2);
  cpu::AttentionScratch scratch;
  uint32_t seed = 100;
  for (const AttentionCase& c : AttentionCases()) {
    auto f = MakeAttentionFixture(c, seed++);
    std::vector<float> want(f.OutElems()), got(f.OutElems(), NAN);
    AttentionRef(f.q.data(), f.kv, f.batch, f.params, want.data());
    cpu::Attention(pool, scratch, f.q.data(), f.kv, f.batch, f.params,
                   got.data());
    EXPECT_LE(WorstError(got.data(), want.data(), got.size(), 2e-5, 1e-4),
              1.0)
        << CaseName(c);
  }
}

TEST_P(OpsTest, AttentionSingleThreadMatchesPool) {
  ThreadPool one(1), two(2);
  cpu::AttentionScratch s1, s2;
  const AttentionCase c{.seq_lens = {77, 12}, .n_query = {77, 1},
                        .n_kv_heads = 2, .group = 3, .head_dim = 64};
  auto f = MakeAttentionFixture(c, 7);
  std::vector<float> a(f.OutElems()), b(f.OutElems());
  cpu::Attention(one, s1, f.q.data(), f.kv, f.batch, f.params, a.data());
  cpu::Attention(two, s2, f.q.data(), f.kv, f.batch, f.params, b.data());
  EXPECT_EQ(a, b);  // tiles are independent: threads change nothing
  // (Long single-sequence decodes are split over the context on a pool of
  // several threads, which reorders sums: those are covered by Attention.)
}

INSTANTIATE_TEST_SUITE_P(
    Targets, OpsTest, ::testing::ValuesIn(hwy::SupportedAndGeneratedTargets()),
    [](const ::testing::TestParamInfo<int64_t>& info) {
      return std::string(hwy::TargetName(info.param));
    });

}  // namespace
}  // namespace silica
