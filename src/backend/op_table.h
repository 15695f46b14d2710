// OpTable: the coarse kernels a model's forward pass is built from, one
// virtual call per op per layer (never per element or per row), so dispatch
// costs nothing next to the work. Each backend (CPU now, CUDA later)
// implements it; Supports() answers honestly which weight dtypes it can run.
//
// Conventions: activations are f32, row-major, contiguous. Weights are
// TensorViews straight from the checkpoint (shape [n, k] outermost first,
// any supported dtype). Token-major layouts: q/k/v are [tokens, heads,
// head_dim].
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/status.h"
#include "core/tensor_view.h"
#include "kernels/mlx_affine.h"  // MlxAffineView
#include "kernels/op_params.h"  // RopeParams, PagedKV, AttentionBatch/Params

namespace silica {

enum class Op : uint8_t {
  kMatMul,
  kEmbed,
  kRmsNorm,
  kRope,
  kSiluMul,
  kGeluTanhMul,
  kSoftmax,
  kAttention,
  kAdd,
};

class OpTable {
 public:
  virtual ~OpTable() = default;

  // Can this backend run `op` with weights of `dtype`? For kAttention the
  // dtype is the KV cache's; for the other ops without a weight it is
  // ignored.
  virtual bool Supports(Op op, DType dtype) const = 0;

  // y[m, n] = x[m, k] · w[n, k]^T. Fails (Unimplemented, naming the dtype)
  // for an unsupported weight dtype, InvalidArgument for a shape mismatch.
  virtual Status MatMul(const float* x, int64_t m, const TensorView& w,
                        float* y) = 0;

  // out[t, :] = row ids[t] of `table` ([vocab, dim], any supported dtype),
  // dequantized. InvalidArgument for an id outside the table.
  virtual Status Embed(const TensorView& table, const int32_t* ids,
                       int64_t n, float* out) = 0;

  // MatMul / Embed for an MLX affine-quantized weight (packed words +
  // per-group scales and biases, kernels/mlx_affine.h). A backend without
  // them answers Unimplemented.
  virtual Status MatMulMlx(const float* x, int64_t m, const MlxAffineView& w,
                           float* y);
  virtual Status EmbedMlx(const MlxAffineView& table, const int32_t* ids,
                          int64_t n, float* out);

  // Per row of `dim`: y = x / sqrt(mean(x^2) + eps) * g, where g = w, or
  // 1 + w for Gemma's norm. y may alias x.
  virtual void RmsNorm(const float* x, const float* w, int64_t rows,
                       int64_t dim, float eps, bool one_plus_w, float* y) = 0;

  // Rotates x ([tokens, heads, head_dim]) in place; positions[tokens].
  virtual void Rope(float* x, int64_t tokens, int heads,
                    const int32_t* positions, const RopeParams& p) = 0;

  // out = silu(gate) * up  /  gelu_tanh(gate) * up, element-wise.
  virtual void SiluMul(const float* gate, const float* up, int64_t n,
                       float* out) = 0;
  virtual void GeluTanhMul(const float* gate, const float* up, int64_t n,
                           float* out) = 0;

  // Numerically stable softmax of each row of n, in place.
  virtual void Softmax(float* x, int64_t rows, int64_t n) = 0;

  // x += y, element-wise (residual connections).
  virtual void Add(float* x, const float* y, int64_t n) = 0;

  // Writes k/v ([tokens, n_kv_heads, head_dim]) into the cache at
  // slot_mapping[tokens] (converting to the cache dtype). A negative slot
  // (a padding token) is skipped.
  virtual void StoreKV(const float* k, const float* v, int64_t tokens,
                       const int32_t* slot_mapping, PagedKV& kv) = 0;

  // Causal attention of each query token over its sequence's context in
  // the paged cache (which already holds this step's K/V).
  // q, out: [tokens, n_heads, head_dim].
  virtual void Attention(const float* q, const PagedKV& kv,
                         const AttentionBatch& batch,
                         const AttentionParams& p, float* out) = 0;
};

inline Status OpTable::MatMulMlx(const float*, int64_t, const MlxAffineView&,
                                 float*) {
  return Unimplemented("this backend has no MLX affine matmul");
}
inline Status OpTable::EmbedMlx(const MlxAffineView&, const int32_t*, int64_t,
                                float*) {
  return Unimplemented("this backend has no MLX affine embedding");
}

}  // namespace silica
