// DecoderModel: the decoder-only transformer shared by every supported
// family (Llama, Qwen2, Qwen3, Gemma 3). Families differ only in what
// DecoderParams says (norm placement, QK-norm, biases, activation, RoPE
// layout and per-layer theta, sliding windows, scaling) and in their weight
// name tables, so one forward pass serves them all.
//
// Per layer, over the whole flat batch (T tokens of any number of
// sequences):
//   h = RMSNorm(x) ; a = Attention(h) ; [a = RMSNorm(a) (Gemma 3)] ; x += a
//   h = RMSNorm(x) ; m = MLP(h)       ; [m = RMSNorm(m) (Gemma 3)] ; x += m
// then the rows that want logits are gathered, normed and multiplied by the
// output head (the token embedding when tied), with optional soft-capping.
//
// Forward is not thread-safe: it reuses the model's work buffers. One
// engine thread drives a model.
#pragma once

#include <memory>
#include <vector>

#include "backend/backend.h"
#include "io/weight_source.h"
#include "model/decoder_params.h"
#include "model/layers/blocks.h"
#include "model/layers/rope.h"
#include "model/model.h"
#include "model/weight_slots.h"

namespace silica {

class DecoderModel final : public Model {
 public:
  // Keeps `source` alive (the weights are views into its mapping).
  static Result<std::unique_ptr<DecoderModel>> Create(
      DecoderParams params, std::unique_ptr<WeightSource> source,
      std::span<const SlotNames> table, Backend& backend);

  const ModelInfo& info() const override { return info_; }
  const DecoderParams& params() const { return params_; }
  const DecoderWeights& weights() const { return weights_; }

  Status Forward(const BatchInputs& inputs, KVCacheTensors& kv,
                 float* logits) override;

 private:
  DecoderModel(DecoderParams params, std::unique_ptr<WeightSource> source,
               DecoderWeights weights, Backend& backend);
  Status Validate(const BatchInputs& inputs, const KVCacheTensors& kv) const;

  DecoderParams params_;
  std::unique_ptr<WeightSource> source_;
  DecoderWeights weights_;
  Backend& backend_;
  ModelInfo info_;
  RopeTable rope_global_;
  RopeTable rope_local_;
  std::vector<AttentionSetup> layer_setup_;

  // Work buffers, grown on demand.
  std::vector<float> x_, h_, o_;
  BlockScratch scratch_;
};

}  // namespace silica
