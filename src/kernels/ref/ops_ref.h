// Scalar references for every non-matmul op of the forward pass: the ground
// truth the Highway kernels (kernels/cpu) and the backends are tested
// against. Written for clarity, accumulating in double; speed is not a goal.
// Semantics are those documented on OpTable (backend/op_table.h).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/status.h"
#include "core/tensor_view.h"
#include "kernels/op_params.h"

namespace silica {

// y = x / sqrt(mean(x^2) + eps) * g per row of `dim`; g = w or 1 + w.
// y may alias x.
void RmsNormRef(const float* x, const float* w, int64_t rows, int64_t dim,
                float eps, bool one_plus_w, float* y);

// Rotates x ([tokens, heads, head_dim]) in place. The angle is computed in
// f32 (pos * inv_freq, as transformers does), cos/sin in double.
void RopeRef(float* x, int64_t tokens, int heads, const int32_t* positions,
             const RopeParams& p);

void SiluMulRef(const float* gate, const float* up, int64_t n, float* out);
void GeluTanhMulRef(const float* gate, const float* up, int64_t n,
                    float* out);
void SoftmaxRef(float* x, int64_t rows, int64_t n);
void AddRef(float* x, const float* y, int64_t n);

// Writes k/v ([tokens, n_kv_heads, head_dim]) to their slots. A negative
// slot (padding) is skipped.
void StoreKVRef(const float* k, const float* v, int64_t tokens,
                const int32_t* slot_mapping, const PagedKV& kv);

// Causal paged attention over a flat varlen batch (see AttentionBatch).
void AttentionRef(const float* q, const PagedKV& kv,
                  const AttentionBatch& batch, const AttentionParams& p,
                  float* out);

// out[t, :] = dequantized row ids[t] of table [vocab, dim].
// InvalidArgument for an id outside the table or a table that is not 2-D.
Status EmbedRef(const TensorView& table, const int32_t* ids, int64_t n,
                float* out);

// RoPE frequency scaling, as transformers' rope_init_fns define it.
enum class RopeScalingType : uint8_t { kDefault, kLinear, kLlama3, kYarn };

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kDefault;
  double factor = 1.0;  // linear, llama3, yarn
  // llama3: the pre-training context; yarn: falls back to
  // max_position_embeddings when 0.
  int64_t original_max_position_embeddings = 0;
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  // yarn
  int64_t max_position_embeddings = 0;
  std::optional<double> attention_factor = std::nullopt;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  std::optional<double> mscale = std::nullopt;
  std::optional<double> mscale_all_dim = std::nullopt;
  bool truncate = true;
};

struct RopeFreqs {
  std::vector<float> inv_freq;  // rotary_dim / 2 entries
  float attention_factor = 1.0f;
};

// inv_freq[i] = theta^(-2i / rotary_dim), then scaled. InvalidArgument for an
// odd or non-positive rotary_dim, theta <= 1, or scaling parameters the
// formulas cannot use (factor <= 0, llama3 without a context length, ...).
Result<RopeFreqs> ComputeRopeInvFreq(double theta, int rotary_dim,
                                     const RopeScaling& scaling);

}  // namespace silica
