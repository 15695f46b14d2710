// Qwen2 / Qwen2.5 (text): Llama's layout plus q/k/v biases (always present,
// hard-wired in transformers' Qwen2Attention, none on o_proj). RoPE is NeoX
// in both formats: llama.cpp runs qwen2 with LLAMA_ROPE_TYPE_NEOX and its
// converter does not permute q/k.
#include "model/arch/family.h"

namespace silica {
namespace {

constexpr SlotNames kQwen2Table[] = {
    {Slot::kTokenEmbd, "token_embd.weight", "model.embed_tokens.weight"},
    {Slot::kOutputNorm, "output_norm.weight", "model.norm.weight"},
    {Slot::kOutput, "output.weight", "lm_head.weight", SlotNeed::kOptional},
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
     "model.layers.{L}.self_attn.q_proj.bias"},
    {Slot::kAttnKBias, "blk.{L}.attn_k.bias",
     "model.layers.{L}.self_attn.k_proj.bias"},
    {Slot::kAttnVBias, "blk.{L}.attn_v.bias",
     "model.layers.{L}.self_attn.v_proj.bias"},
    {Slot::kFfnNorm, "blk.{L}.ffn_norm.weight",
     "model.layers.{L}.post_attention_layernorm.weight"},
    {Slot::kFfnGate, "blk.{L}.ffn_gate.weight",
     "model.layers.{L}.mlp.gate_proj.weight"},
    {Slot::kFfnUp, "blk.{L}.ffn_up.weight",
     "model.layers.{L}.mlp.up_proj.weight"},
    {Slot::kFfnDown, "blk.{L}.ffn_down.weight",
     "model.layers.{L}.mlp.down_proj.weight"},
};

constexpr std::string_view kGgufArchs[] = {"qwen2"};

Result<DecoderParams> FromGguf(const GgufFile& f) {
  ASSIGN_OR_RETURN(DecoderParams p, CommonGgufParams(f, "qwen2"));
  p.rope_neox = true;
  p.qkv_bias = true;
  return p;
}

Result<DecoderParams> FromHf(const ModelConfig& c) {
  ASSIGN_OR_RETURN(DecoderParams p, CommonHfParams(c));
  p.architecture = "qwen2";
  p.rope_neox = true;
  p.qkv_bias = true;
  return p;
}

}  // namespace

const FamilyDef& Qwen2Family() {
  static constexpr FamilyDef kDef = {
      "qwen2",     kGgufArchs, ModelFamily::kQwen2,
      kQwen2Table, &FromGguf,  &FromHf};
  return kDef;
}

}  // namespace silica
