#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/half.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/matmul_test_util.h"
#include "kernels/ref/matmul_ref.h"
#include "kernels/cpu/ops_test_util.h"
#include "kernels/ref/ops_ref.h"
#include "kernels/ref/quant.h"

namespace silica {
namespace {

using testing::AttentionCase;
using testing::MakeAttentionFixture;
using testing::RandomVector;
using testing::WorstError;

class CpuBackendTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    backend_ = CreateCpuBackend(CpuBackendOptions{.num_threads = GetParam()});
  }
  OpTable& ops() { return backend_->ops(); }
  std::unique_ptr<Backend> backend_;
};

TEST_P(CpuBackendTest, NameReportsTargetAndThreads) {
  const std::string name(backend_->name());
  EXPECT_EQ(name.rfind("cpu (", 0), 0u) << name;
  EXPECT_NE(name.find(std::to_string(GetParam()) + " thread"),
            std::string::npos)
      << name;
  EXPECT_EQ(backend_->device(), Device::kCpu);
}

TEST_P(CpuBackendTest, RmsNormMatchesRef) {
  for (bool one_plus_w : {false, true}) {
    for (int64_t dim : {64, 576, 1027}) {
      const int64_t rows = 97;  // 97 x 1027 is enough to split over threads
      const auto x = RandomVector(rows * dim, 1, -3, 3);
      const auto w = RandomVector(dim, 2);
      std::vector<float> want(x.size()), got(x);
      RmsNormRef(x.data(), w.data(), rows, dim, 1e-6f, one_plus_w,
                 want.data());
      ops().RmsNorm(got.data(), w.data(), rows, dim, 1e-6f, one_plus_w,
                    got.data());  // in place: y aliases x
      EXPECT_LE(WorstError(got.data(), want.data(), got.size(), 1e-6, 1e-5),
                1.0)
          << "dim " << dim;
    }
  }
}

TEST_P(CpuBackendTest, RopeMatchesRef) {
  for (bool neox : {false, true}) {
    for (int rotary : {64, 32}) {
      RopeParams p;
      p.head_dim = 64;
      p.rotary_dim = rotary;
      p.neox = neox;
      auto freqs = ComputeRopeInvFreq(10000.0, rotary, RopeScaling{});
      ASSERT_TRUE(freqs.ok());
      p.inv_freq = freqs->inv_freq.data();
      const int64_t tokens = 200;  // enough to split over threads
      const int heads = 6;
      std::vector<int32_t> pos(tokens);
      for (int64_t t = 0; t < tokens; ++t) pos[t] = static_cast<int32_t>(t * 97);
      const auto x = RandomVector(tokens * heads * 64, 3);
      std::vector<float> want(x), got(x);
      RopeRef(want.data(), tokens, heads, pos.data(), p);
      ops().Rope(got.data(), tokens, heads, pos.data(), p);
      EXPECT_LE(WorstError(got.data(), want.data(), got.size(), 1e-5, 1e-5),
                1.0);
    }
  }
}

TEST_P(CpuBackendTest, RopeTablesNeverGoStale) {
  // The backend caches cos/sin tables per (positions, frequencies): calls
  // that change either, in place, must still match the reference.
  std::vector<float> freqs = {1.0f, 0.1f, 0.01f, 0.001f};
  std::vector<int32_t> pos = {0, 5, 9};
  RopeParams p{.head_dim = 8, .rotary_dim = 8, .neox = true,
               .inv_freq = freqs.data()};
  for (int step = 0; step < 6; ++step) {
    if (step == 2) pos[1] = 6;           // same buffer, new positions
    if (step == 3) freqs[2] = 0.02f;     // same buffer, new frequencies
    if (step == 4) p.neox = false;
    if (step == 5) p.attention_factor = 1.5f;
    const auto x = RandomVector(3 * 2 * 8, 40 + step);
    std::vector<float> want(x), got(x);
    RopeRef(want.data(), 3, 2, pos.data(), p);
    ops().Rope(got.data(), 3, 2, pos.data(), p);
    EXPECT_LE(WorstError(got.data(), want.data(), got.size(), 1e-6, 1e-5),
              1.0)
        << "step " << step;
  }
}

TEST_P(CpuBackendTest, ElementwiseMatchRef) {
  const int64_t n = 100003;
  const auto a = RandomVector(n, 4, -8, 8);
  const auto b = RandomVector(n, 5, -2, 2);
  std::vector<float> want(n), got(n);
  SiluMulRef(a.data(), b.data(), n, want.data());
  ops().SiluMul(a.data(), b.data(), n, got.data());
  EXPECT_LE(WorstError(got.data(), want.data(), n, 1e-6, 1e-5), 1.0);
  GeluTanhMulRef(a.data(), b.data(), n, want.data());
  ops().GeluTanhMul(a.data(), b.data(), n, got.data());
  EXPECT_LE(WorstError(got.data(), want.data(), n, 1e-6, 1e-5), 1.0);
  want = a;
  got = a;
  AddRef(want.data(), b.data(), n);
  ops().Add(got.data(), b.data(), n);
  EXPECT_LE(WorstError(got.data(), want.data(), n, 0, 0), 1.0);
}

TEST_P(CpuBackendTest, SoftmaxMatchesRef) {
  for (int64_t n : {1, 7, 151936}) {
    const int64_t rows = 3;
    const auto x = RandomVector(rows * n, 6, -30, 30);
    std::vector<float> want(x), got(x);
    SoftmaxRef(want.data(), rows, n);
    ops().Softmax(got.data(), rows, n);
    EXPECT_LE(WorstError(got.data(), want.data(), got.size(), 1e-9, 1e-5),
              1.0)
        << n;
  }
}

TEST_P(CpuBackendTest, StoreKVMatchesRef) {
  for (DType dtype : {DType::kF32, DType::kF16}) {
    // 300 tokens x 256 values: enough to split over threads.
    const int blocks = 24, bs = 16, heads = 2, hd = 128, tokens = 300;
    const size_t bytes = size_t{blocks} * bs * heads * hd * 4;
    std::vector<uint8_t> k_want(bytes), v_want(bytes), k_got(bytes),
        v_got(bytes);
    PagedKV want{k_want.data(), v_want.data(), dtype, blocks, bs, heads, hd};
    PagedKV got{k_got.data(), v_got.data(), dtype, blocks, bs, heads, hd};
    std::vector<int32_t> slots(tokens);
    for (int t = 0; t < tokens; ++t) slots[t] = (t * 7) % (blocks * bs);
    slots[5] = -1;  // padding
    const auto k = RandomVector(tokens * heads * hd, 7);
    const auto v = RandomVector(tokens * heads * hd, 8);
    StoreKVRef(k.data(), v.data(), tokens, slots.data(), want);
    ops().StoreKV(k.data(), v.data(), tokens, slots.data(), got);
    EXPECT_EQ(k_want, k_got);
    EXPECT_EQ(v_want, v_got);
  }
}

TEST_P(CpuBackendTest, AttentionMatchesRef) {
  const AttentionCase cases[] = {
      // Decode: several sequences, one query each.
      {.seq_lens = {1, 40, 129}, .n_query = {1, 1, 1}, .n_kv_heads = 2,
       .group = 8, .head_dim = 128},
      // Prefill mixed with decode, GQA 3, sliding window, softcap, f32 KV.
      {.seq_lens = {70, 33, 5}, .n_query = {70, 1, 3}, .n_kv_heads = 3,
       .group = 3, .head_dim = 64, .kv_dtype = DType::kF32,
       .sliding_window = 17, .softcap = 30.0f},
      // Chunked prefill on top of a cached prefix, head_dim 256.
      {.seq_lens = {90}, .n_query = {41}, .n_kv_heads = 1, .group = 7,
       .head_dim = 256},
  };
  uint32_t seed = 11;
  for (const AttentionCase& c : cases) {
    auto f = MakeAttentionFixture(c, seed++);
    std::vector<float> want(f.OutElems()), got(f.OutElems());
    AttentionRef(f.q.data(), f.kv, f.batch, f.params, want.data());
    ops().Attention(f.q.data(), f.kv, f.batch, f.params, got.data());
    EXPECT_LE(WorstError(got.data(), want.data(), got.size(), 1e-5, 1e-4),
              1.0)
        << "case with head_dim " << c.head_dim;
  }
}

TEST_P(CpuBackendTest, EmbedMatchesRef) {
  const int64_t vocab = 50, dim = 64;
  const auto table_f32 = RandomVector(vocab * dim, 9);
  for (DType dtype : {DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_0}) {
    auto row_bytes = RowBytes(dtype, dim);
    ASSERT_TRUE(row_bytes.ok());
    std::vector<uint8_t> bytes(*row_bytes * vocab);
    for (int64_t r = 0; r < vocab; ++r) {
      ASSERT_TRUE(QuantizeRow(dtype, table_f32.data() + r * dim,
                              bytes.data() + r * *row_bytes, dim)
                      .ok());
    }
    TensorView table{bytes.data(), dtype, Device::kCpu, {2, {vocab, dim}},
                     bytes.size()};
    const std::vector<int32_t> ids = {3, 0, 49, 3};
    std::vector<float> want(ids.size() * dim), got(ids.size() * dim);
    ASSERT_TRUE(EmbedRef(table, ids.data(), 4, want.data()).ok());
    ASSERT_TRUE(ops().Embed(table, ids.data(), 4, got.data()).ok());
    EXPECT_EQ(want, got) << DTypeName(dtype);
    const int32_t bad = 50;
    EXPECT_EQ(ops().Embed(table, &bad, 1, got.data()).code(),
              StatusCode::kInvalidArgument);
  }
}

TEST_P(CpuBackendTest, MatMulMatchesDequantizedProduct) {
  const int64_t n = 67, k = 256;
  const auto w_f32 = RandomVector(n * k, 12);
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0,
                      DType::kQ4_0, DType::kQ4_1}) {
    auto row_bytes = RowBytes(dtype, k);
    ASSERT_TRUE(row_bytes.ok());
    std::vector<uint8_t> bytes(*row_bytes * n);
    std::vector<float> w_deq(n * k);
    for (int64_t r = 0; r < n; ++r) {
      uint8_t* dst = bytes.data() + r * *row_bytes;
      ASSERT_TRUE(QuantizeRow(dtype, w_f32.data() + r * k, dst, k).ok());
      ASSERT_TRUE(DequantizeRow(dtype, dst, w_deq.data() + r * k, k).ok());
    }
    TensorView w{bytes.data(), dtype, Device::kCpu, {2, {n, k}}, bytes.size()};
    for (int64_t m : {1, 5}) {
      const auto x = RandomVector(m * k, 13);
      std::vector<float> want(m * n), got(m * n);
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          double acc = 0;
          for (int64_t e = 0; e < k; ++e) acc += double{x[i * k + e]} * w_deq[j * k + e];
          want[i * n + j] = static_cast<float>(acc);
        }
      }
      ASSERT_TRUE(ops().MatMul(x.data(), m, w, got.data()).ok());
      // Exact f32 products for float weights; for quantized weights the
      // kernel may round x to int8 per 32-element block (step d_b =
      // amax_b / 127), which moves each output by at most
      // sum_b d_b / 2 * sum_{e in b} |w_e| (kernels/cpu/matmul.h).
      const bool quantizes = cpu::MatMulQuantizesActivations(dtype);
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          double bound = 0, magnitude = 0;
          for (int64_t b = 0; b < k; b += 32) {
            double amax = 0, wsum = 0;
            for (int64_t e = b; e < b + 32; ++e) {
              amax = std::max(amax, std::abs(double{x[i * k + e]}));
              wsum += std::abs(double{w_deq[j * k + e]});
              magnitude += std::abs(double{x[i * k + e]} * w_deq[j * k + e]);
            }
            if (quantizes) bound += amax / 127 / 2 * wsum;
          }
          bound += 1e-5 * magnitude + 1e-6;  // f32 accumulation
          EXPECT_LE(std::abs(got[i * n + j] - want[i * n + j]), bound)
              << DTypeName(dtype) << " m=" << m << " (" << i << ", " << j
              << ")";
        }
      }
    }
  }
}

TEST_P(CpuBackendTest, MlxAffineThroughTheOpTable) {
  const int64_t n = 40, k = 256;
  for (int bits : {4, 8}) {
    auto mlx = testing::RandomMlx(bits, 64, DType::kF16, n, k, 21 + bits);
    // Dequantize by the published formula: w = scale * q + bias.
    std::vector<float> w(n * k);
    const auto* words = static_cast<const uint32_t*>(mlx.view.packed.data);
    const auto* sc = static_cast<const uint16_t*>(mlx.view.scales.data);
    const auto* bi = static_cast<const uint16_t*>(mlx.view.biases.data);
    const int per_word = 32 / bits;
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t e = 0; e < k; ++e) {
        const uint32_t word = words[r * (k / per_word) + e / per_word];
        const uint32_t q = (word >> ((e % per_word) * bits)) & ((1u << bits) - 1);
        const int64_t g = r * (k / 64) + e / 64;
        w[r * k + e] = HalfToFloat(sc[g]) * q + HalfToFloat(bi[g]);
      }
    }
    const std::vector<int32_t> ids = {7, 0, 39};
    std::vector<float> rows(ids.size() * k);
    ASSERT_TRUE(ops().EmbedMlx(mlx.view, ids.data(), 3, rows.data()).ok());
    for (size_t t = 0; t < ids.size(); ++t) {
      for (int64_t e = 0; e < k; ++e) {
        EXPECT_NEAR(rows[t * k + e], w[ids[t] * k + e], 1e-6) << bits;
      }
    }
    const int64_t m = 3;
    const auto x = RandomVector(m * k, 22);
    std::vector<float> want(m * n), got(m * n);
    ASSERT_TRUE(MatMulMlxRef(x.data(), m, mlx.view, want.data()).ok());
    ASSERT_TRUE(ops().MatMulMlx(x.data(), m, mlx.view, got.data()).ok());
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        // The int8 rounding of x bounds the difference (see MatMul above).
        double bound = 1e-6;
        for (int64_t b = 0; b < k; b += 32) {
          double amax = 0, wsum = 0;
          for (int64_t e = b; e < b + 32; ++e) {
            amax = std::max(amax, std::abs(double{x[i * k + e]}));
            wsum += std::abs(double{w[j * k + e]});
            bound += 1e-5 * std::abs(double{x[i * k + e]} * w[j * k + e]);
          }
          bound += amax / 127 / 2 * wsum;
        }
        EXPECT_LE(std::abs(got[i * n + j] - want[i * n + j]), bound) << bits;
      }
    }
  }
}

TEST_P(CpuBackendTest, MatMulRejectsBadShapesAndDTypes) {
  std::vector<float> w(64 * 32), x(64), y(64);
  TensorView bad_rank{w.data(), DType::kF32, Device::kCpu, {1, {64 * 32}},
                      w.size() * 4};
  EXPECT_EQ(ops().MatMul(x.data(), 1, bad_rank, y.data()).code(),
            StatusCode::kInvalidArgument);
  TensorView ints{w.data(), DType::kI32, Device::kCpu, {2, {64, 32}},
                  w.size() * 4};
  const Status s = ops().MatMul(x.data(), 1, ints, y.data());
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("i32"), std::string::npos) << s.message();
}

TEST_P(CpuBackendTest, SupportsIsTruthful) {
  // Every dtype the backend claims for MatMul and Embed must really run.
  const int64_t n = 4, k = 256;
  for (int d = 0; d < static_cast<int>(DType::kCount); ++d) {
    const DType dtype = static_cast<DType>(d);
    const auto row_bytes = RowBytes(dtype, k);
    if (!row_bytes.ok()) continue;
    std::vector<uint8_t> bytes(*row_bytes * n, 0);
    TensorView w{bytes.data(), dtype, Device::kCpu, {2, {n, k}}, bytes.size()};
    std::vector<float> x(k, 1.0f), y(n * k);
    const Status mm = ops().MatMul(x.data(), 1, w, y.data());
    EXPECT_EQ(mm.ok(), ops().Supports(Op::kMatMul, dtype))
        << DTypeName(dtype) << ": " << mm.ToString();
    const int32_t id = 1;
    const Status em = ops().Embed(w, &id, 1, y.data());
    EXPECT_EQ(em.ok(), ops().Supports(Op::kEmbed, dtype))
        << DTypeName(dtype) << ": " << em.ToString();
    EXPECT_EQ(ops().Supports(Op::kAttention, dtype),
              dtype == DType::kF32 || dtype == DType::kF16);
  }
  for (Op op : {Op::kRmsNorm, Op::kRope, Op::kSiluMul, Op::kGeluTanhMul,
                Op::kSoftmax, Op::kAdd}) {
    EXPECT_TRUE(ops().Supports(op, DType::kF32));
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, CpuBackendTest, ::testing::Values(1, 2),
                         [](const auto& info) {
                           return std::to_string(info.param) + "threads";
                         });

}  // namespace
}  // namespace silica
