#include "model/layers/blocks.h"

#include "model/layers/host_ops.h"

namespace silica {
namespace {

void Grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

}  // namespace

void BlockScratch::Reserve(int64_t tokens, const DecoderParams& p) {
  const int64_t q_dim = p.n_heads * p.head_dim;
  const int64_t kv_dim = p.n_kv_heads * p.head_dim;
  Grow(q, tokens * q_dim);
  Grow(k, tokens * kv_dim);
  Grow(v, tokens * kv_dim);
  Grow(attn, tokens * q_dim);
  Grow(gate, tokens * p.intermediate);
  Grow(up, tokens * p.intermediate);
}

Status RunAttention(OpTable& ops, const LayerWeights& w,
                    const AttentionSetup& s, const float* x,
                    const BatchInputs& inputs, PagedKV& kv,
                    BlockScratch& scratch, float* out) {
  const int64_t t = static_cast<int64_t>(inputs.token_ids.size());
  const int64_t q_dim = int64_t{s.n_heads} * s.head_dim;
  const int64_t kv_dim = int64_t{s.n_kv_heads} * s.head_dim;
  float* q = scratch.q.data();
  float* k = scratch.k.data();
  float* v = scratch.v.data();

  RETURN_IF_ERROR(ops.MatMul(x, t, w.q, q));
  RETURN_IF_ERROR(ops.MatMul(x, t, w.k, k));
  RETURN_IF_ERROR(ops.MatMul(x, t, w.v, v));
  if (!w.q_bias.empty()) AddBiasRows(q, w.q_bias.data(), t, q_dim);
  if (!w.k_bias.empty()) AddBiasRows(k, w.k_bias.data(), t, kv_dim);
  if (!w.v_bias.empty()) AddBiasRows(v, w.v_bias.data(), t, kv_dim);

  // QK-norm (Qwen3, Gemma 3): every head of every token is one row.
  if (!w.q_norm.empty()) {
    ops.RmsNorm(q, w.q_norm.data(), t * s.n_heads, s.head_dim, s.rms_eps, false,
                q);
    ops.RmsNorm(k, w.k_norm.data(), t * s.n_kv_heads, s.head_dim, s.rms_eps,
                false, k);
  }
  const int32_t* pos = inputs.positions.data();
  ops.Rope(q, t, s.n_heads, pos, s.rope);
  ops.Rope(k, t, s.n_kv_heads, pos, s.rope);

  ops.StoreKV(k, v, t, inputs.slot_mapping.data(), kv);
  ops.Attention(q, kv, inputs.attention, s.attn, scratch.attn.data());

  RETURN_IF_ERROR(ops.MatMul(scratch.attn.data(), t, w.o, out));
  if (!w.o_bias.empty()) AddBiasRows(out, w.o_bias.data(), t, w.o.shape[0]);
  return Status::Ok();
}

Status RunMlp(OpTable& ops, const LayerWeights& w, MlpActivation act,
              const float* x, int64_t tokens, BlockScratch& scratch,
              float* out) {
  const int64_t n = tokens * w.gate.shape[0];
  float* gate = scratch.gate.data();
  float* up = scratch.up.data();
  RETURN_IF_ERROR(ops.MatMul(x, tokens, w.gate, gate));
  RETURN_IF_ERROR(ops.MatMul(x, tokens, w.up, up));
  if (act == MlpActivation::kSilu) {
    ops.SiluMul(gate, up, n, gate);
  } else {
    ops.GeluTanhMul(gate, up, n, gate);
  }
  return ops.MatMul(gate, tokens, w.down, out);
}

}  // namespace silica
