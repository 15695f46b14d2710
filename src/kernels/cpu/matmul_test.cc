// Parity of the matmul kernels with the scalar reference, for every weight
// format, on every SIMD target this binary was compiled for and the CPU
// supports (HWY_AVX3_DL is the AVX-512 VNNI path).
//
// Tolerances, both rigorous bounds rather than tuned numbers (u = 2^-24):
//  * F32/F16/BF16 ("strict"): |y - ref| <= (k + 8) u sum_e |x_e w_e|, the
//    worst case of any f32 summation order; the kernels quantize nothing.
//  * Quantized formats, two checks:
//    - against the exact model of the int8 path, y* = sum_e w_e x^_e in
//      double with x^ = x quantized as QuantizeAct does (step d_b =
//      amax_b / 127 per 32 elements, round to nearest even): only f32
//      rounding of the group terms may differ, |y - y*| <= (2k/G + 8) u A
//      with A = sum_e (|w_e| + 2|c_g|) |x^_e| (c_g the group's offset,
//      which the kernel adds separately);
//    - against MatMulRef (exact x): additionally the activation
//      quantization error, |sum_e w_e (x_e - x^_e)| <= sum_b 0.5001 d_b
//      sum_{e in b} |w_e| (0.0001: the rounding of 1/d_b).
#define HWY_WANT_AVX3_DL  // iterate the same targets the kernels compile
#define HWY_DISABLED_TARGETS HWY_SSSE3
#include "kernels/cpu/matmul.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "hwy/targets.h"
#include "kernels/cpu/matmul_test_util.h"
#include "kernels/ref/matmul_ref.h"
#include "kernels/ref/quant.h"

namespace silica::cpu {
namespace {

using testing::MlxWeights;
using testing::RandomMlx;
using testing::RandomWeights;
using testing::WeightView;

constexpr double kU = 1.0 / (1 << 24);

// Activations with the features that stress per-block scales: outliers, an
// all-zero block, tiny values.
std::vector<float> RandomActivations(int64_t m, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> val(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(m * k));
  for (float& v : x) v = val(rng);
  for (int64_t i = 0; i < m; ++i) {
    x[i * k + (i * 7) % k] *= 30.0f;  // an outlier
    if (k >= 64 && i % 2 == 0) {
      std::fill(x.begin() + i * k + 32, x.begin() + i * k + 64, 0.0f);
    }
    if (k >= 96) {
      for (int e = 64; e < 96; ++e) x[i * k + e] *= 1e-3f;
    }
  }
  return x;
}

// x^ as the int8 path sees it (dequantized), and the per-block step.
void QuantizeActRowForTest(const float* x, int64_t k, float* xq,
                           float* steps) {
  for (int64_t b = 0; b < k / 32; ++b) {
    float amax = 0.0f;
    for (int e = 0; e < 32; ++e) amax = std::max(amax, std::fabs(x[32 * b + e]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int e = 0; e < 32; ++e) {
      xq[32 * b + e] = d * std::nearbyint(x[32 * b + e] * id);
    }
    steps[b] = d;
  }
}

// Dequantized rows of a weight, and per element the magnitude of its
// group's offset c (0 for the symmetric formats): dequantizing a copy whose
// codes are all zero leaves exactly c.
struct Dequantized {
  std::vector<float> w;     // [n, k]
  std::vector<float> cabs;  // [n, k]
};

Dequantized DequantizeAll(DType dtype, const std::vector<uint8_t>& bytes,
                          int64_t n, int64_t k) {
  Dequantized d;
  d.w.resize(static_cast<size_t>(n * k));
  d.cabs.assign(static_cast<size_t>(n * k), 0.0f);
  const uint64_t row_bytes = *RowBytes(dtype, static_cast<uint64_t>(k));
  struct Span {
    int begin, end;
  };
  std::vector<Span> codes;  // byte ranges of codes inside a block
  int block_bytes = 0;
  switch (dtype) {
    case DType::kQ4_1: codes = {{4, 20}}; block_bytes = 20; break;
    case DType::kQ5_1: codes = {{4, 24}}; block_bytes = 24; break;
    case DType::kQ4_K: codes = {{16, 144}}; block_bytes = 144; break;
    case DType::kQ5_K: codes = {{16, 176}}; block_bytes = 176; break;
    default: break;
  }
  std::vector<uint8_t> row(row_bytes);
  for (int64_t j = 0; j < n; ++j) {
    const uint8_t* src = bytes.data() + j * row_bytes;
    EXPECT_TRUE(DequantizeRow(dtype, src, d.w.data() + j * k, k).ok());
    if (codes.empty()) continue;
    std::memcpy(row.data(), src, row_bytes);
    for (uint64_t b = 0; b < row_bytes / block_bytes; ++b) {
      for (const Span& s : codes) {
        std::memset(row.data() + b * block_bytes + s.begin, 0, s.end - s.begin);
      }
    }
    EXPECT_TRUE(DequantizeRow(dtype, row.data(), d.cabs.data() + j * k, k).ok());
    for (int64_t e = 0; e < k; ++e) d.cabs[j * k + e] = std::fabs(d.cabs[j * k + e]);
  }
  return d;
}

Dequantized DequantizeMlx(const MlxWeights& mw, int64_t n, int64_t k) {
  Dequantized d;
  d.w.resize(static_cast<size_t>(n * k));
  d.cabs.resize(static_cast<size_t>(n * k));
  MlxWeights zero = mw;  // same scales and biases, all codes 0
  std::fill(zero.packed.begin(), zero.packed.end(), 0);
  zero.view.packed.data = zero.packed.data();
  zero.view.scales.data = zero.scales.data();
  zero.view.biases.data = zero.biases.data();
  for (int64_t j = 0; j < n; ++j) {
    EXPECT_TRUE(DequantizeMlxRow(mw.view, j, d.w.data() + j * k).ok());
    EXPECT_TRUE(DequantizeMlxRow(zero.view, j, d.cabs.data() + j * k).ok());
  }
  for (float& c : d.cabs) c = std::fabs(c);
  return d;
}

// Checks y (the kernel's output) against MatMulRef's `ref` and, for the
// quantized formats, against the exact model of the int8 path.
void CheckAgainstModels(const std::vector<float>& x, int64_t m, int64_t k,
                        int64_t n, const Dequantized& dq, bool quantized,
                        int group, const std::vector<float>& ref,
                        const std::vector<float>& y, const std::string& what) {
  std::vector<float> xq(x.size()), steps(static_cast<size_t>(m * (k / 32)));
  if (quantized) {
    for (int64_t i = 0; i < m; ++i) {
      QuantizeActRowForTest(x.data() + i * k, k, xq.data() + i * k,
                            steps.data() + i * (k / 32));
    }
  }
  int failures = 0;
  double worst = 0;
  for (int64_t i = 0; i < m && failures < 5; ++i) {
    for (int64_t j = 0; j < n && failures < 5; ++j) {
      const float* xi = x.data() + i * k;
      const float* xqi = xq.data() + i * k;
      const float* wj = dq.w.data() + j * k;
      const float* cj = dq.cabs.data() + j * k;
      const double got = y[i * n + j];
      double tol_ref = 0, tol_model = 0, model = 0;
      if (!quantized) {
        double mag = 0;
        for (int64_t e = 0; e < k; ++e) mag += std::fabs(double{xi[e]} * wj[e]);
        tol_ref = (k + 8) * kU * mag;
      } else {
        double mag = 0, qerr = 0;
        for (int64_t e = 0; e < k; ++e) {
          model += double{wj[e]} * xqi[e];
          mag += (std::fabs(double{wj[e]}) + 2.0 * cj[e]) *
                 std::max(std::fabs(xqi[e]), std::fabs(xi[e]));
          qerr += 0.5001 * steps[i * (k / 32) + e / 32] * std::fabs(wj[e]);
        }
        tol_model = (2.0 * k / group + 8) * kU * mag;
        tol_ref = tol_model + qerr;
        const double em = std::fabs(got - model);
        worst = std::max(worst, em / (tol_model + 1e-30));
        if (!(em <= tol_model)) {
          ADD_FAILURE() << what << " y[" << i << "," << j << "] = " << got
                        << " vs int8 model " << model << " (|err| " << em
                        << " > " << tol_model << ")";
          ++failures;
        }
      }
      const double er = std::fabs(got - ref[i * n + j]);
      if (!(er <= tol_ref)) {
        ADD_FAILURE() << what << " y[" << i << "," << j << "] = " << got
                      << " vs MatMulRef " << ref[i * n + j] << " (|err| " << er
                      << " > " << tol_ref << ")";
        ++failures;
      }
    }
  }
}

struct Shape {
  int64_t m, k, n;
};

// k covers every decode tile geometry (blocks per lane row B = 1, 2, 4, 8,
// 16 on AVX-512; 1, 2, 4, 8 on AVX2), odd block counts and k past one
// prefill panel (4096); n is never a multiple of the tiles; m covers decode
// (<= 4) and prefill with row tails.
std::vector<Shape> ShapesFor(int64_t block) {
  std::vector<Shape> shapes;
  const std::vector<int64_t> ks =
      block == 256 ? std::vector<int64_t>{256, 512, 768, 1024, 2048, 4096, 4352}
                   : std::vector<int64_t>{32, 96, 128, 320, 512, 1056, 1536, 4160};
  for (int64_t m : {1, 2, 3, 5, 16, 67}) {
    for (int64_t k : ks) {
      for (int64_t n : {1, 17, 33, 100}) {
        // Keep the largest cases off the slowest combinations.
        if (m * n * k > 67 * 33 * 1100) continue;
        shapes.push_back({m, k, n});
      }
    }
  }
  return shapes;
}

class MatMulTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { hwy::SetSupportedTargetsForTest(GetParam()); }
  void TearDown() override { hwy::SetSupportedTargetsForTest(0); }
};

TEST_P(MatMulTest, DispatchesToTheTargetUnderTest) {
  EXPECT_EQ(MatMulTargetName(), hwy::TargetName(GetParam()));
}

void RunDType(DType dtype, int64_t target) {
  ThreadPool pool(3);  // uneven splits of n
  const bool quantized = MatMulQuantizesActivations(dtype);
  EXPECT_EQ(quantized, GetDTypeInfo(dtype).quantized &&
                           target != HWY_SCALAR && target != HWY_EMU128);
  const int group = dtype == DType::kQ6_K ? 16 : 32;
  uint32_t seed = 1;
  for (const Shape& s : ShapesFor(GetDTypeInfo(dtype).block_elems)) {
    ++seed;
    const auto bytes = RandomWeights(dtype, s.n, s.k, seed);
    const auto x = RandomActivations(s.m, s.k, seed + 1000);
    const TensorView w = WeightView(dtype, s.n, s.k, bytes);
    std::vector<float> ref(static_cast<size_t>(s.m * s.n));
    std::vector<float> y(ref.size(), NAN);
    ASSERT_TRUE(MatMulRef(x.data(), s.m, s.k, dtype, bytes.data(), s.n,
                          ref.data())
                    .ok());
    const Status st = MatMul(pool, x.data(), s.m, w, y.data());
    ASSERT_TRUE(st.ok()) << st.ToString();
    const Dequantized dq = DequantizeAll(dtype, bytes, s.n, s.k);
    CheckAgainstModels(x, s.m, s.k, s.n, dq, quantized, group, ref, y,
                       std::string(DTypeName(dtype)) + " m=" +
                           std::to_string(s.m) + " k=" + std::to_string(s.k) +
                           " n=" + std::to_string(s.n));
  }
}

TEST_P(MatMulTest, F32) { RunDType(DType::kF32, GetParam()); }
TEST_P(MatMulTest, F16) { RunDType(DType::kF16, GetParam()); }
TEST_P(MatMulTest, BF16) { RunDType(DType::kBF16, GetParam()); }
TEST_P(MatMulTest, Q8_0) { RunDType(DType::kQ8_0, GetParam()); }
TEST_P(MatMulTest, Q4_0) { RunDType(DType::kQ4_0, GetParam()); }
TEST_P(MatMulTest, Q4_1) { RunDType(DType::kQ4_1, GetParam()); }
TEST_P(MatMulTest, Q5_0) { RunDType(DType::kQ5_0, GetParam()); }
TEST_P(MatMulTest, Q5_1) { RunDType(DType::kQ5_1, GetParam()); }
TEST_P(MatMulTest, Q4_K) { RunDType(DType::kQ4_K, GetParam()); }
TEST_P(MatMulTest, Q5_K) { RunDType(DType::kQ5_K, GetParam()); }
TEST_P(MatMulTest, Q6_K) { RunDType(DType::kQ6_K, GetParam()); }

TEST_P(MatMulTest, FloatOddK) {
  // F32/F16/BF16 rows need not be a multiple of the vector length.
  ThreadPool pool(2);
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
    for (int64_t k : {1, 7, 33, 517}) {
      for (int64_t m : {1, 3, 9}) {
        const int64_t n = 19;
        const auto bytes = RandomWeights(dtype, n, k, 77);
        const auto x = RandomActivations(m, k, 78);
        std::vector<float> ref(static_cast<size_t>(m * n)), y(ref.size());
        ASSERT_TRUE(MatMulRef(x.data(), m, k, dtype, bytes.data(), n,
                              ref.data()).ok());
        ASSERT_TRUE(MatMul(pool, x.data(), m, WeightView(dtype, n, k, bytes),
                           y.data()).ok());
        CheckAgainstModels(x, m, k, n, DequantizeAll(dtype, bytes, n, k),
                           false, 32, ref, y,
                           std::string(DTypeName(dtype)) + " k=" +
                               std::to_string(k) + " m=" + std::to_string(m));
      }
    }
  }
}

TEST_P(MatMulTest, MlxAffine) {
  ThreadPool pool(2);
  uint32_t seed = 500;
  for (int bits : {4, 8}) {
    for (int gs : {32, 64, 128}) {
      for (DType sd : {DType::kF16, DType::kBF16, DType::kF32}) {
        for (const Shape& s : {Shape{1, 128, 33}, Shape{3, 384, 17},
                               Shape{7, 640, 40}, Shape{20, 256, 70}}) {
          ++seed;
          const MlxWeights mw = RandomMlx(bits, gs, sd, s.n, s.k, seed);
          const auto x = RandomActivations(s.m, s.k, seed + 7);
          std::vector<float> ref(static_cast<size_t>(s.m * s.n));
          std::vector<float> y(ref.size(), NAN);
          ASSERT_TRUE(MatMulMlxRef(x.data(), s.m, mw.view, ref.data()).ok());
          const Status st = MatMulMlx(pool, x.data(), s.m, mw.view, y.data());
          ASSERT_TRUE(st.ok()) << st.ToString();
          CheckAgainstModels(x, s.m, s.k, s.n, DequantizeMlx(mw, s.n, s.k),
                             MatMulQuantizesActivations(DType::kQ4_0), 32,
                             ref, y, "mlx" + std::to_string(bits) + " gs=" +
                                 std::to_string(gs) + " " +
                                 std::string(DTypeName(sd)) + " m=" +
                                 std::to_string(s.m) + " k=" +
                                 std::to_string(s.k));
        }
      }
    }
  }
}

TEST_P(MatMulTest, OneThreadMatchesThreeBitForBit) {
  // The split over n must not change any output.
  ThreadPool one(1), three(3);
  for (DType dtype : {DType::kQ4_K, DType::kQ8_0, DType::kF16}) {
    for (int64_t m : {1, 9}) {
      const int64_t k = 512, n = 97;
      const auto bytes = RandomWeights(dtype, n, k, 9);
      const auto x = RandomActivations(m, k, 10);
      std::vector<float> a(static_cast<size_t>(m * n)), b(a.size());
      const TensorView w = WeightView(dtype, n, k, bytes);
      ASSERT_TRUE(MatMul(one, x.data(), m, w, a.data()).ok());
      ASSERT_TRUE(MatMul(three, x.data(), m, w, b.data()).ok());
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)))
          << DTypeName(dtype) << " m=" << m;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Targets, MatMulTest,
    ::testing::ValuesIn(hwy::SupportedAndGeneratedTargets()),
    [](const ::testing::TestParamInfo<int64_t>& info) {
      return std::string(hwy::TargetName(info.param));
    });

// The int8 VNNI path is the AVX3_DL target. It is in the parameterized
// suite above exactly when the CPU supports it; this test fails if the CPU
// claims VNNI but that target is missing, and says so when it is untested.
TEST(MatMulIsa, VnniPathIsTestedWhenTheCpuHasIt) {
  bool have = false;
  for (int64_t t : hwy::SupportedAndGeneratedTargets()) have |= t == HWY_AVX3_DL;
#if defined(__x86_64__)
  const bool cpu_vnni = __builtin_cpu_supports("avx512vnni") &&
                        __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl");
  if (cpu_vnni) {
    EXPECT_TRUE(have) << "CPU has AVX512-VNNI but the AVX3_DL kernels are not "
                         "under test";
    EXPECT_EQ(MatMulTargetName(), "AVX3_DL");
  } else {
    std::printf("[ NOTE ] CPU lacks AVX512-VNNI: the VNNI path is not tested "
                "here (other targets are)\n");
  }
#else
  std::printf("[ NOTE ] not x86-64: no VNNI path\n");
  (void)have;
#endif
  // No AMX kernel exists yet (see matmul.h); nothing to register for it.
}

TEST(MatMulApi, RejectsBadInputs) {
  ThreadPool pool(1);
  std::vector<float> x(64), y(64);
  const auto bytes = RandomWeights(DType::kQ4_0, 2, 32, 1);
  TensorView w = WeightView(DType::kQ4_0, 2, 32, bytes);
  EXPECT_TRUE(MatMul(pool, x.data(), 1, w, y.data()).ok());
  TensorView bad = w;
  bad.nbytes -= 1;
  EXPECT_EQ(MatMul(pool, x.data(), 1, bad, y.data()).code(),
            StatusCode::kInvalidArgument);
  bad = w;
  bad.shape.dims[1] = 48;  // not whole blocks
  EXPECT_EQ(MatMul(pool, x.data(), 1, bad, y.data()).code(),
            StatusCode::kInvalidArgument);
  bad = w;
  bad.shape.rank = 3;
  EXPECT_EQ(MatMul(pool, x.data(), 1, bad, y.data()).code(),
            StatusCode::kInvalidArgument);
  bad = w;
  bad.dtype = DType::kI32;
  const Status s = MatMul(pool, x.data(), 1, bad, y.data());
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("i32"), std::string::npos) << s.message();
  EXPECT_FALSE(MatMulSupports(DType::kI32));
  EXPECT_FALSE(MatMulSupports(DType::kQ8_K));
  for (DType d : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0,
                  DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                  DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    EXPECT_TRUE(MatMulSupports(d)) << DTypeName(d);
  }
  EXPECT_EQ(MatMul(pool, x.data(), -1, w, y.data()).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(MatMul(pool, x.data(), 0, w, y.data()).ok());
}

TEST(MatMulApi, EmbedRowsMatchesDequantizeRow) {
  for (DType dtype : {DType::kF16, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
    const int64_t vocab = 10, dim = 256;
    const auto bytes = RandomWeights(dtype, vocab, dim, 3);
    const TensorView t = WeightView(dtype, vocab, dim, bytes);
    const std::vector<int32_t> ids = {3, 0, 9, 3};
    std::vector<float> got(ids.size() * dim), want(dim);
    ASSERT_TRUE(EmbedRows(t, ids.data(), 4, got.data()).ok());
    const uint64_t rb = *RowBytes(dtype, dim);
    for (size_t r = 0; r < ids.size(); ++r) {
      ASSERT_TRUE(
          DequantizeRow(dtype, bytes.data() + ids[r] * rb, want.data(), dim).ok());
      EXPECT_EQ(0, std::memcmp(want.data(), got.data() + r * dim, dim * 4));
    }
    const int32_t bad = 10;
    EXPECT_EQ(EmbedRows(t, &bad, 1, got.data()).code(),
              StatusCode::kInvalidArgument);
  }
  const MlxWeights mw = RandomMlx(4, 64, DType::kBF16, 5, 128, 4);
  std::vector<float> got(128), want(128);
  const int32_t id = 4;
  ASSERT_TRUE(EmbedRowsMlx(mw.view, &id, 1, got.data()).ok());
  ASSERT_TRUE(DequantizeMlxRow(mw.view, 4, want.data()).ok());
  EXPECT_EQ(got, want);
}

TEST(MatMulApi, MlxValidation) {
  MlxWeights mw = RandomMlx(4, 64, DType::kF16, 4, 128, 1);
  EXPECT_TRUE(ValidateMlxAffine(mw.view).ok());
  MlxAffineView v = mw.view;
  v.bits = 3;
  EXPECT_EQ(ValidateMlxAffine(v).status().code(), StatusCode::kUnimplemented);
  v = mw.view;
  v.group_size = 48;
  EXPECT_EQ(ValidateMlxAffine(v).status().code(), StatusCode::kInvalidArgument);
  v = mw.view;
  v.biases.dtype = DType::kBF16;
  EXPECT_EQ(ValidateMlxAffine(v).status().code(), StatusCode::kInvalidArgument);
  v = mw.view;
  v.scales.shape.dims[1] = 3;
  EXPECT_EQ(ValidateMlxAffine(v).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace silica::cpu
