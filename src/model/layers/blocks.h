// The two blocks every supported family is built from, run over a whole
// flat batch at once: each weight is multiplied once per step with m = all
// tokens of the step, which is what makes batched decoding cheap.
//
//   attention: q/k/v projections (+bias), optional per-head QK RMSNorm,
//              RoPE, StoreKV into the paged cache, paged attention, output
//              projection (+bias);
//   MLP:       down(act(gate(x)) * up(x)) with SiLU or GELU(tanh).
#pragma once

#include <cstdint>
#include <vector>

#include "backend/op_table.h"
#include "core/status.h"
#include "model/batch_inputs.h"
#include "model/decoder_params.h"
#include "model/weight_slots.h"

namespace silica {

// Work buffers for one step, grown on demand and reused across steps.
struct BlockScratch {
  std::vector<float> q, k, v, attn;  // [T, heads * head_dim]
  std::vector<float> gate, up;       // [T, intermediate]

  void Reserve(int64_t tokens, const DecoderParams& p);
};

struct AttentionSetup {
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  float rms_eps = 1e-6f;
  RopeParams rope;
  AttentionParams attn;
};

// out[T, hidden] = attention over `x` ([T, hidden], already normed). Writes
// this step's K/V into `kv` at inputs.slot_mapping.
Status RunAttention(OpTable& ops, const LayerWeights& w,
                    const AttentionSetup& s, const float* x,
                    const BatchInputs& inputs, PagedKV& kv,
                    BlockScratch& scratch, float* out);

// out[T, hidden] = MLP of `x` ([T, hidden], already normed).
Status RunMlp(OpTable& ops, const LayerWeights& w, MlpActivation act,
              const float* x, int64_t tokens, BlockScratch& scratch,
              float* out);

}  // namespace silica
