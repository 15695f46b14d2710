// DecoderParams: everything the shared decoder-only transformer needs to
// know about one checkpoint, whatever its family or file format. Each family
// (model/arch/*.cc) fills it from GGUF metadata or a Hugging Face config;
// the layers (model/layers/) read only this struct, never the checkpoint's
// own keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ref/ops_ref.h"  // RopeScaling

namespace silica {

enum class MlpActivation : uint8_t { kSilu, kGeluTanh };

// One RoPE frequency table: base theta plus scaling, as transformers'
// rope_init_fns define it.
struct RopeSpec {
  double theta = 10000.0;
  RopeScaling scaling;
};

struct DecoderParams {
  std::string architecture;  // "llama", "qwen2", "qwen3", "gemma3"
  std::string name;          // general.name, or config.json architectures[0]
  std::string format;        // "gguf" or "safetensors"

  int64_t vocab_size = 0;
  int64_t hidden = 0;
  int64_t intermediate = 0;
  int64_t num_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t rotary_dim = 0;  // leading dims of a head that RoPE rotates
  int64_t context_length = 0;
  float rms_eps = 1e-6f;

  MlpActivation activation = MlpActivation::kSilu;
  // Hugging Face Gemma stores RMSNorm weights w and multiplies by (1 + w);
  // llama.cpp's converter has already added the 1. The loader adds it to
  // the f32 copy it keeps, so the forward pass always multiplies by w.
  bool norm_add_one = false;
  bool qkv_bias = false;     // q/k/v projections must have biases (Qwen2)
  bool qk_norm = false;      // per-head RMSNorm of q and k before RoPE
  bool post_norms = false;   // Gemma 3: norms on the attention / MLP outputs
  float embed_scale = 1.0f;  // Gemma: sqrt(hidden)
  float attn_scale = 0.0f;   // scale of q·k; 0: 1/sqrt(head_dim)
  float attn_softcap = 0.0f;
  float final_softcap = 0.0f;  // tanh soft-capping of the logits; 0: none

  // true: rotate pairs (i, i + d/2) (NeoX, HF "rotate_half"); false: pairs
  // (2i, 2i + 1) (GGUF Llama, whose q/k rows the converter permuted).
  bool rope_neox = true;
  RopeSpec rope_global;  // full-attention layers
  RopeSpec rope_local;   // sliding-window layers (Gemma 3: theta 10000)

  // Per layer: true when it attends within `sliding_window` positions.
  std::vector<bool> sliding;
  int64_t sliding_window = 0;

  std::vector<int32_t> eos_token_ids;
};

}  // namespace silica
