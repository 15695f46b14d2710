// Qwen3 (dense): Llama's layout plus per-head RMSNorm of q and k before
// RoPE (q_norm / k_norm over head_dim), no biases unless attention_bias.
// Heads * head_dim may differ from hidden (Qwen3-0.6B: 16 x 128 vs 1024).
// RoPE is NeoX in both formats (llama.cpp: LLAMA_ROPE_TYPE_NEOX).
#include "model/arch/family.h"

namespace silica {
namespace {

constexpr auto kOpt = SlotNeed::kOptional;

constexpr SlotNames kQwen3Table[] = {
    {Slot::kTokenEmbd, "token_embd.weight", "model.embed_tokens.weight"},
    {Slot::kOutputNorm, "output_norm.weight", "model.norm.weight"},
    {Slot::kOutput, "output.weight", "lm_head.weight", kOpt},
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
    {Slot::kAttnQBias, "blk.{L}.attn_q.bias",
     "model.layers.{L}.self_attn.q_proj.bias", kOpt},
    {Slot::kAttnKBias, "blk.{L}.attn_k.bias",
     "model.layers.{L}.self_attn.k_proj.bias", kOpt},
    {Slot::kAttnVBias, "blk.{L}.attn_v.bias",
     "model.layers.{L}.self_attn.v_proj.bias", kOpt},
    {Slot::kAttnOBias, "blk.{L}.attn_output.bias",
     "model.layers.{L}.self_attn.o_proj.bias", kOpt},
    {Slot::kAttnQNorm, "blk.{L}.attn_q_norm.weight",
     "model.layers.{L}.self_attn.q_norm.weight"},
    {Slot::kAttnKNorm, "blk.{L}.attn_k_norm.weight",
     "model.layers.{L}.self_attn.k_norm.weight"},
    {Slot::kFfnNorm, "blk.{L}.ffn_norm.weight",
     "model.layers.{L}.post_attention_layernorm.weight"},
    {Slot::kFfnGate, "blk.{L}.ffn_gate.weight",
     "model.layers.{L}.mlp.gate_proj.weight"},
    {Slot::kFfnUp, "blk.{L}.ffn_up.weight",
     "model.layers.{L}.mlp.up_proj.weight"},
    {Slot::kFfnDown, "blk.{L}.ffn_down.weight",
     "model.layers.{L}.mlp.down_proj.weight"},
};

constexpr std::string_view kGgufArchs[] = {"qwen3"};

Result<DecoderParams> FromGguf(const GgufFile& f) {
  ASSIGN_OR_RETURN(DecoderParams p, CommonGgufParams(f, "qwen3"));
  p.rope_neox = true;
  p.qk_norm = true;
  return p;
}

Result<DecoderParams> FromHf(const ModelConfig& c) {
  ASSIGN_OR_RETURN(DecoderParams p, CommonHfParams(c));
  p.architecture = "qwen3";
  p.rope_neox = true;
  p.qk_norm = true;
  return p;
}

}  // namespace

const FamilyDef& Qwen3Family() {
  static constexpr FamilyDef kDef = {
      "qwen3",     kGgufArchs, ModelFamily::kQwen3,
      kQwen3Table, &FromGguf,  &FromHf};
  return kDef;
}

}  // namespace silica
