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

struct RopeParams {
  int head_dim = 0;
  int rotary_dim = 0;  // leading dims of each head that rotate (<= head_dim)
  // true: pairs (i, i + rotary_dim/2) (NeoX / HF "rotate_half", used by
  // Qwen2/3, Gemma 3 and HF-layout Llama); false: pairs (2i, 2i+1) (GGUF
  // Llama, whose converter permutes q/k weights into interleaved order).
  bool neox = true;
  // rotary_dim/2 inverse frequencies with any scaling (linear, llama3, yarn)
  // already folded in by the model.
  const float* inv_freq = nullptr;
  float attention_factor = 1.0f;  // yarn's cos/sin scale; 1 otherwise
};

// A paged KV cache of one layer: K and V each [num_blocks, block_size,
// n_kv_heads, head_dim], element type F32 or F16.
struct PagedKV {
  void* k = nullptr;
  void* v = nullptr;
  DType dtype = DType::kF16;
  int num_blocks = 0;
  int block_size = 16;
  int n_kv_heads = 0;
  int head_dim = 0;
};

// Geometry of a flat, variable-length batch: sequence s owns query tokens
// [query_start[s], query_start[s+1]) which are the last tokens of its
// seq_lens[s] context tokens (so query i of s sits at position
// seq_lens[s] - n_query + i). Context token p of s lives in slot
// block_table[s * max_blocks_per_seq + p / block_size] * block_size +
// p % block_size.
struct AttentionBatch {
  int num_seqs = 0;
  const int32_t* query_start = nullptr;  // [num_seqs + 1]
  const int32_t* seq_lens = nullptr;     // [num_seqs]
  const int32_t* block_table = nullptr;  // [num_seqs * max_blocks_per_seq]
  int max_blocks_per_seq = 0;
};

struct AttentionParams {
  int n_heads = 0;
  int n_kv_heads = 0;  // GQA: query head h reads kv head h / (n_heads/n_kv)
  int head_dim = 0;
  float scale = 1.0f;      // applied to q·k (1/sqrt(d), or Gemma's scalar)
  int sliding_window = 0;  // > 0: attend to the last `window` positions only
  float softcap = 0.0f;    // > 0: scores = softcap * tanh(scores / softcap)
};

class OpTable {
 public:
  virtual ~OpTable() = default;

  // Can this backend run `op` with weights of `dtype`? (For ops without a
  // weight, the dtype is ignored.)
  virtual bool Supports(Op op, DType dtype) const = 0;

  // y[m, n] = x[m, k] · w[n, k]^T. Fails (Unimplemented, naming the dtype)
  // for an unsupported weight dtype, InvalidArgument for a shape mismatch.
  virtual Status MatMul(const float* x, int64_t m, const TensorView& w,
                        float* y) = 0;

  // out[t, :] = row ids[t] of `table` ([vocab, dim], any supported dtype),
  // dequantized. InvalidArgument for an id outside the table.
  virtual Status Embed(const TensorView& table, const int32_t* ids,
                       int64_t n, float* out) = 0;

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
  // slot_mapping[tokens] (converting to the cache dtype).
  virtual void StoreKV(const float* k, const float* v, int64_t tokens,
                       const int32_t* slot_mapping, PagedKV& kv) = 0;

  // Causal attention of each query token over its sequence's context in
  // the paged cache (which already holds this step's K/V).
  // q, out: [tokens, n_heads, head_dim].
  virtual void Attention(const float* q, const PagedKV& kv,
                         const AttentionBatch& batch,
                         const AttentionParams& p, float* out) = 0;
};

}  // namespace silica
