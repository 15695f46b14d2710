// Internal to the matmul kernels: the validated form of one call that every
// kernel file takes, and the per-file entry points matmul.cc dispatches to.
// Each entry point is HWY_DYNAMIC_DISPATCH over its file's SIMD targets.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "core/dtype.h"
#include "core/status.h"
#include "core/thread_pool.h"

namespace silica::cpu::internal {

struct MatMulArgs {
  const float* x = nullptr;  // [m, k]
  float* y = nullptr;        // [m, n]
  int64_t m = 0, k = 0, n = 0;
  // GGUF dtypes: the weight format. MLX affine weights: kU32.
  DType dtype = DType::kF32;
  const uint8_t* w = nullptr;  // row j at w + j * w_row_bytes
  uint64_t w_row_bytes = 0;
  // MLX affine only: per-row scales and biases (row j at + j * s_row_bytes).
  int mlx_bits = 0;
  int mlx_group = 0;
  DType mlx_sdtype = DType::kF16;
  const uint8_t* mlx_scales = nullptr;
  const uint8_t* mlx_biases = nullptr;
  uint64_t mlx_s_row_bytes = 0;
};

// Scalar dequantization of weight row `row` (k floats), any supported
// format. Used by the fallback path of targets without the int8 kernels
// (HWY_SCALAR, scalable vectors) and by EmbedRows.
void DequantizeWeightRow(const MatMulArgs& a, int64_t row, float* dst);

// Runs fn(j0, j1, thread) over [0, n) in chunks (multiples of `grain`, about
// 8 per thread) handed out on demand: a thread the OS delays (the machine is
// shared) does fewer chunks instead of holding up the whole call, as a
// static split would. Each column is computed by exactly one call, with the
// same code, so the result does not depend on the split.
template <class Fn>
void ForChunks(ThreadPool& pool, int64_t n, int64_t grain, const Fn& fn) {
  const int threads = pool.num_threads();
  int64_t chunk = (n + 8 * threads - 1) / (8 * threads);
  chunk = std::max<int64_t>(grain, (chunk + grain - 1) / grain * grain);
  if (threads == 1 || n <= chunk) {
    fn(int64_t{0}, n, 0);
    return;
  }
  std::atomic<int64_t> next{0};
  pool.RunOnAll([&](int t) {
    for (;;) {
      const int64_t j0 = next.fetch_add(chunk, std::memory_order_relaxed);
      if (j0 >= n) return;
      fn(j0, std::min(n, j0 + chunk), t);
    }
  });
}

// Entry points, one per kernel file.
void MatMulFloatWeights(ThreadPool& pool, const MatMulArgs& a);  // F32/F16/BF16
void MatMulQ32(ThreadPool& pool, const MatMulArgs& a);  // Q8_0 Q4_0 Q4_1 Q5_0 Q5_1
void MatMulQK(ThreadPool& pool, const MatMulArgs& a);   // Q4_K Q5_K Q6_K
void MatMulMlxAffine(ThreadPool& pool, const MatMulArgs& a);
const char* MatMulTarget();
bool MatMulInt8();  // whether the dispatched target has the int8 engine

}  // namespace silica::cpu::internal
