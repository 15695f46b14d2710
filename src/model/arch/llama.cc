// Llama family: Llama 2/3.x (incl. llama3 RoPE scaling) and SmolLM2.
//
// RoPE layout differs by format: llama.cpp's converter permutes the rows of
// q_proj/k_proj within each head so that Hugging Face's "rotate_half" pairs
// (i, i + d/2) become adjacent pairs (2i, 2i + 1), and llama.cpp runs the
// "llama" graph with LLAMA_ROPE_TYPE_NORM. So GGUF Llama rotates adjacent
// pairs and HF Llama rotates NeoX pairs; both compute the same model.
// Llama 3 GGUF files carry llama3 scaling as rope_freqs.weight.
#include "model/arch/family.h"

namespace silica {
namespace {

constexpr auto kOpt = SlotNeed::kOptional;

constexpr SlotNames kLlamaTable[] = {
    {Slot::kTokenEmbd, "token_embd.weight", "model.embed_tokens.weight"},
    {Slot::kOutputNorm, "output_norm.weight", "model.norm.weight"},
    {Slot::kOutput, "output.weight", "lm_head.weight", kOpt},
    {Slot::kRopeFreqs, "rope_freqs.weight", "", kOpt},
    {Slot::kAttnNorm, "blk.{L}.attn_norm.weight",
     "model.layers.{L}.input_layernorm.weight"},
    {Slot::kAttnQ, "blk.{L}.attn_q.weight",
     "model.layers.{L}.self_attn.q_proj.weight"},
    {Slot::kAttnK, "blk.{L}.attn_k.weight",
     "model.layers.{L}.self_attn.k_proj.weight"},
    {Slot::kAttnV, "blk.{L}.attn_v.weight",
     "model.layers.{L}.self_attn.v_proj.weight"},
    {Slot::kAttnO, "blk.{L}.attn_output.weight",
     "model.layers.{L}.self_attn.o_proj.weight"},
    // config.json attention_bias: biases on all four projections.
    {Slot::kAttnQBias, "blk.{L}.attn_q.bias",
     "model.layers.{L}.self_attn.q_proj.bias", kOpt},
    {Slot::kAttnKBias, "blk.{L}.attn_k.bias",
     "model.layers.{L}.self_attn.k_proj.bias", kOpt},
    {Slot::kAttnVBias, "blk.{L}.attn_v.bias",
     "model.layers.{L}.self_attn.v_proj.bias", kOpt},
    {Slot::kAttnOBias, "blk.{L}.attn_output.bias",
     "model.layers.{L}.self_attn.o_proj.bias", kOpt},
    {Slot::kFfnNorm, "blk.{L}.ffn_norm.weight",
     "model.layers.{L}.post_attention_layernorm.weight"},
    {Slot::kFfnGate, "blk.{L}.ffn_gate.weight",
     "model.layers.{L}.mlp.gate_proj.weight"},
    {Slot::kFfnUp, "blk.{L}.ffn_up.weight",
     "model.layers.{L}.mlp.up_proj.weight"},
    {Slot::kFfnDown, "blk.{L}.ffn_down.weight",
     "model.layers.{L}.mlp.down_proj.weight"},
};

constexpr std::string_view kGgufArchs[] = {"llama"};

Result<DecoderParams> FromGguf(const GgufFile& f) {
  ASSIGN_OR_RETURN(DecoderParams p, CommonGgufParams(f, "llama"));
  p.rope_neox = false;  // q/k rows permuted by the converter (see top)
  return p;
}

Result<DecoderParams> FromHf(const ModelConfig& c) {
  ASSIGN_OR_RETURN(DecoderParams p, CommonHfParams(c));
  p.architecture = "llama";
  p.rope_neox = true;
  return p;
}

}  // namespace

const FamilyDef& LlamaFamily() {
  static constexpr FamilyDef kDef = {
      "llama",     kGgufArchs, ModelFamily::kLlama,
      kLlamaTable, &FromGguf,  &FromHf};
  return kDef;
}

}  // namespace silica
