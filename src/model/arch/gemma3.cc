// Gemma 3 (text): sandwich norms (RMSNorm before and after both attention
// and MLP), QK-norm, GELU(tanh) MLP, embeddings scaled by sqrt(hidden),
// queries scaled by query_pre_attn_scalar^-0.5, and interleaved attention:
// five sliding-window layers (local RoPE theta 10000) then one global layer
// (the model's theta and scaling). Optional final logit soft-capping.
//
// Norm weights: Hugging Face multiplies by (1 + w); llama.cpp's converter
// stores w + 1, so only the HF path adds one (DecoderParams::norm_add_one).
// RoPE is NeoX in both formats (llama.cpp: LLAMA_ROPE_TYPE_NEOX).
#include <cmath>

#include "model/arch/family.h"

namespace silica {
namespace {

constexpr SlotNames kGemma3Table[] = {
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
    {Slot::kAttnQNorm, "blk.{L}.attn_q_norm.weight",
     "model.layers.{L}.self_attn.q_norm.weight"},
    {Slot::kAttnKNorm, "blk.{L}.attn_k_norm.weight",
     "model.layers.{L}.self_attn.k_norm.weight"},
    // HF's "post_attention_layernorm" is Gemma's norm on the attention
    // output, not the pre-MLP norm it is in Llama.
    {Slot::kAttnPostNorm, "blk.{L}.post_attention_norm.weight",
     "model.layers.{L}.post_attention_layernorm.weight"},
    {Slot::kFfnNorm, "blk.{L}.ffn_norm.weight",
     "model.layers.{L}.pre_feedforward_layernorm.weight"},
    {Slot::kFfnGate, "blk.{L}.ffn_gate.weight",
     "model.layers.{L}.mlp.gate_proj.weight"},
    {Slot::kFfnUp, "blk.{L}.ffn_up.weight",
     "model.layers.{L}.mlp.up_proj.weight"},
    {Slot::kFfnDown, "blk.{L}.ffn_down.weight",
     "model.layers.{L}.mlp.down_proj.weight"},
    {Slot::kFfnPostNorm, "blk.{L}.post_ffw_norm.weight",
     "model.layers.{L}.post_feedforward_layernorm.weight"},
};

constexpr std::string_view kGgufArchs[] = {"gemma3"};

void SetGemmaCommon(DecoderParams* p) {
  p->architecture = "gemma3";
  p->rope_neox = true;
  p->qk_norm = true;
  p->post_norms = true;
  p->activation = MlpActivation::kGeluTanh;
  p->embed_scale = std::sqrt(static_cast<float>(p->hidden));
}

Result<DecoderParams> FromGguf(const GgufFile& f) {
  ASSIGN_OR_RETURN(DecoderParams p, CommonGgufParams(f, "gemma3"));
  SetGemmaCommon(&p);
  // llama.cpp's Gemma 3 hyper-parameters: GGUF has no layer types, local
  // theta or query_pre_attn_scalar. With a sliding window, layer l slides
  // unless (l + 1) % 6 == 0; local layers use theta 10000 and no scaling.
  if (f.Find("gemma3.attention.sliding_window") != nullptr) {
    Result<uint64_t> window = f.GetUint("gemma3.attention.sliding_window");
    if (!window.ok()) return window.status().WithContext(f.name());
    if (*window > 0) {
      p.sliding_window = static_cast<int64_t>(*window);
      for (int64_t l = 0; l < p.num_layers; ++l) {
        p.sliding[static_cast<size_t>(l)] = (l + 1) % 6 != 0;
      }
      p.rope_local = RopeSpec{};
      p.rope_local.theta = 10000.0;
    }
  }
  // query_pre_attn_scalar is head_dim for every Gemma 3 size except 27B
  // (62 layers), where it is hidden / heads.
  const double scalar = p.num_layers == 62
                            ? static_cast<double>(p.hidden / p.n_heads)
                            : static_cast<double>(p.head_dim);
  p.attn_scale = static_cast<float>(1.0 / std::sqrt(scalar));
  if (f.Find("gemma3.final_logit_softcapping") != nullptr) {
    Result<double> cap = f.GetFloat("gemma3.final_logit_softcapping");
    if (!cap.ok()) return cap.status().WithContext(f.name());
    p.final_softcap = static_cast<float>(*cap);
  }
  return p;
}

Result<DecoderParams> FromHf(const ModelConfig& c) {
  ASSIGN_OR_RETURN(DecoderParams p, CommonHfParams(c));
  SetGemmaCommon(&p);
  p.norm_add_one = true;
  const double scalar =
      c.query_pre_attn_scalar.value_or(static_cast<double>(p.head_dim));
  p.attn_scale = static_cast<float>(1.0 / std::sqrt(scalar));
  return p;
}

}  // namespace

const FamilyDef& Gemma3Family() {
  static constexpr FamilyDef kDef = {
      "gemma3",     kGgufArchs, ModelFamily::kGemma3Text,
      kGemma3Table, &FromGguf,  &FromHf};
  return kDef;
}

}  // namespace silica
