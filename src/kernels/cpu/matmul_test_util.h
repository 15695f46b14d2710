// Random weights in every matmul format, for the parity tests
// (matmul_test.cc) and the microbenchmark (bench/matmul_bench.cc).
//
// Quantized blocks are random bytes (every code, high-bit and packed-scale
// pattern occurs) whose f16 scale fields are then overwritten with finite
// values of a realistic size, so the products stay comparable in f32.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"
#include "core/tensor_view.h"
#include "kernels/mlx_affine.h"

namespace silica::testing {

// f16 scale fields (byte offsets inside one block) and block size.
struct ScaleFields {
  int block_bytes = 0;
  std::vector<int> offsets;
};

inline ScaleFields ScaleFieldsOf(DType d) {
  switch (d) {
    case DType::kQ8_0: return {34, {0}};
    case DType::kQ4_0: return {18, {0}};
    case DType::kQ4_1: return {20, {0, 2}};
    case DType::kQ5_0: return {22, {0}};
    case DType::kQ5_1: return {24, {0, 2}};
    case DType::kQ4_K: return {144, {0, 2}};
    case DType::kQ5_K: return {176, {0, 2}};
    case DType::kQ6_K: return {210, {208}};
    default: return {0, {}};
  }
}

// n rows of k elements of `dtype` (k a whole number of blocks).
inline std::vector<uint8_t> RandomWeights(DType dtype, int64_t n, int64_t k,
                                          uint32_t seed) {
  std::mt19937 rng(seed);
  const DTypeInfo& info = GetDTypeInfo(dtype);
  const int64_t row_bytes = k / info.block_elems * info.block_bytes;
  std::vector<uint8_t> w(static_cast<size_t>(n * row_bytes));
  std::uniform_real_distribution<float> val(-1.0f, 1.0f);
  if (dtype == DType::kF32 || dtype == DType::kF16 || dtype == DType::kBF16) {
    for (int64_t i = 0; i < n * k; ++i) {
      const float f = val(rng) * 0.1f;
      if (dtype == DType::kF32) {
        std::memcpy(w.data() + 4 * i, &f, 4);
      } else {
        const uint16_t h =
            dtype == DType::kF16 ? FloatToHalf(f) : FloatToBF16(f);
        std::memcpy(w.data() + 2 * i, &h, 2);
      }
    }
    return w;
  }
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint8_t& b : w) b = static_cast<uint8_t>(byte(rng));
  const ScaleFields f = ScaleFieldsOf(dtype);
  // K-quant scales multiply 6-bit sub-scales: keep the products ~0.01.
  const bool k_quant = info.block_elems == 256 && dtype != DType::kQ6_K;
  const float mag = dtype == DType::kQ6_K ? 2e-4f : (k_quant ? 4e-4f : 0.01f);
  for (size_t blk = 0; blk < w.size() / f.block_bytes; ++blk) {
    for (int off : f.offsets) {
      const uint16_t h = FloatToHalf(val(rng) * mag);
      std::memcpy(w.data() + blk * f.block_bytes + off, &h, 2);
    }
  }
  return w;
}

inline TensorView WeightView(DType dtype, int64_t n, int64_t k,
                             const std::vector<uint8_t>& bytes) {
  TensorView v;
  v.data = bytes.data();
  v.dtype = dtype;
  v.shape.rank = 2;
  v.shape.dims[0] = n;
  v.shape.dims[1] = k;
  v.nbytes = bytes.size();
  return v;
}

// An MLX affine weight with its own storage.
struct MlxWeights {
  std::vector<uint8_t> packed, scales, biases;
  MlxAffineView view;
};

inline MlxWeights RandomMlx(int bits, int group_size, DType sdtype, int64_t n,
                            int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  MlxWeights m;
  m.packed.resize(static_cast<size_t>(n * k * bits / 8));
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint8_t& b : m.packed) b = static_cast<uint8_t>(byte(rng));
  const int64_t groups = k / group_size;
  const size_t esz = sdtype == DType::kF32 ? 4 : 2;
  std::uniform_real_distribution<float> val(-1.0f, 1.0f);
  const float qmax = static_cast<float>((1 << bits) - 1);
  for (auto* t : {&m.scales, &m.biases}) {
    t->resize(static_cast<size_t>(n * groups) * esz);
    for (int64_t i = 0; i < n * groups; ++i) {
      // A group spans [bias, bias + scale * qmax] ~ [-0.05, 0.05].
      const float f = t == &m.scales ? (0.5f + 0.5f * val(rng)) * 0.1f / qmax
                                     : -0.05f + 0.01f * val(rng);
      if (sdtype == DType::kF32) {
        std::memcpy(t->data() + 4 * i, &f, 4);
      } else {
        const uint16_t h =
            sdtype == DType::kF16 ? FloatToHalf(f) : FloatToBF16(f);
        std::memcpy(t->data() + 2 * i, &h, 2);
      }
    }
  }
  auto view = [](DType d, int64_t rows, int64_t cols,
                 const std::vector<uint8_t>& b) {
    TensorView v;
    v.data = b.data();
    v.dtype = d;
    v.shape.rank = 2;
    v.shape.dims[0] = rows;
    v.shape.dims[1] = cols;
    v.nbytes = b.size();
    return v;
  };
  m.view.packed = view(DType::kU32, n, k * bits / 32, m.packed);
  m.view.scales = view(sdtype, n, groups, m.scales);
  m.view.biases = view(sdtype, n, groups, m.biases);
  m.view.bits = bits;
  m.view.group_size = group_size;
  return m;
}

}  // namespace silica::testing
