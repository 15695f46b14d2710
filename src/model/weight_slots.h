// Weight slots: the roles a tensor can play in a decoder-only transformer,
// and the per-family tables that name each slot in GGUF (llama.cpp) and
// Hugging Face checkpoints. One table per family, so a GGUF file and a
// safetensors folder load through the same code.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend/op_table.h"
#include "core/status.h"
#include "core/tensor_view.h"
#include "io/weight_source.h"
#include "model/decoder_params.h"

namespace silica {

enum class Slot : uint8_t {
  // Model-wide.
  kTokenEmbd,
  kOutputNorm,
  kOutput,     // lm_head; absent when tied to the token embedding
  kRopeFreqs,  // GGUF Llama 3: per-pair frequency divisors (llama3 scaling)
  // Per layer.
  kAttnNorm,
  kAttnQ,
  kAttnK,
  kAttnV,
  kAttnO,
  kAttnQBias,
  kAttnKBias,
  kAttnVBias,
  kAttnOBias,
  kAttnQNorm,
  kAttnKNorm,
  kAttnPostNorm,  // Gemma 3: on the attention output, before the residual
  kFfnNorm,
  kFfnGate,
  kFfnUp,
  kFfnDown,
  kFfnPostNorm,  // Gemma 3: on the MLP output, before the residual
  kCount,
};

std::string_view SlotName(Slot slot);
bool IsLayerSlot(Slot slot);

enum class SlotNeed : uint8_t { kRequired, kOptional };

// "{L}" in a name stands for the layer index. An empty name means the
// format has no such tensor.
struct SlotNames {
  Slot slot;
  std::string_view gguf;
  std::string_view hf;
  SlotNeed need = SlotNeed::kRequired;
};

// The tensors of one loaded model, by slot. Matrices are zero-copy views
// into the checkpoint; vectors (norms, biases, rope factors) are f32 copies
// owned here, so kernels never see a BF16 norm.
struct LayerWeights {
  TensorView q, k, v, o, gate, up, down;
  std::vector<float> attn_norm, ffn_norm, attn_post_norm, ffn_post_norm;
  std::vector<float> q_norm, k_norm;
  std::vector<float> q_bias, k_bias, v_bias, o_bias;
};

struct DecoderWeights {
  TensorView token_embd;
  TensorView output;  // = token_embd when tied
  bool tied = false;
  std::vector<float> output_norm;
  std::vector<float> rope_freqs;  // empty unless the file has them
  std::vector<LayerWeights> layers;
};

// Resolves every slot of `table` in `source`, checks its shape against
// `params`, asks `ops` whether it can run each matrix's dtype, and returns
// the weights. Errors name the tensor, the expected and actual shape, or the
// dtype the backend lacks.
Result<DecoderWeights> LoadDecoderWeights(const WeightSource& source,
                                          std::span<const SlotNames> table,
                                          const DecoderParams& params,
                                          const OpTable& ops);

}  // namespace silica
