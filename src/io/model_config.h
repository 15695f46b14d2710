// Hugging Face config.json -> ModelConfig, and generation_config.json ->
// GenerationConfig.
//
// Field names and defaults follow transformers' configuration classes for
// each family (LlamaConfig, Qwen2Config, Qwen3Config, Gemma3TextConfig,
// Qwen2_5_VLConfig), in both the 4.x layout (rope_theta + rope_scaling, text
// fields at the top level) and the 5.x layout (rope_parameters, text fields
// under text_config, "dtype" for "torch_dtype").
//
// Required fields: the model's shape (vocab_size, hidden_size,
// intermediate_size, num_hidden_layers, num_attention_heads,
// max_position_embeddings) except for Gemma 3, whose published multimodal
// configs leave most of them to Gemma3TextConfig's defaults. Everything
// else falls back to the family's transformers default. A missing required
// field, a wrong type or an out-of-range value is InvalidArgument naming the
// field ("config.json: text_config.num_attention_heads: ...").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace silica {

enum class ModelFamily : uint8_t {
  kLlama,       // model_type "llama" (Llama 2/3.x, SmolLM2)
  kQwen2,       // "qwen2" (Qwen2, Qwen2.5)
  kQwen3,       // "qwen3"
  kGemma3Text,  // "gemma3_text", or "gemma3" with a text_config
  kQwen2_5_VL,  // "qwen2_5_vl"
};
std::string_view ModelFamilyName(ModelFamily family);

enum class RopeType : uint8_t { kDefault, kLinear, kDynamic, kLlama3, kYarn };
std::string_view RopeTypeName(RopeType type);

struct RopeConfig {
  RopeType type = RopeType::kDefault;
  double theta = 10000.0;
  double factor = 1.0;  // linear, dynamic, llama3, yarn
  // llama3 (all required by that type) and yarn (defaults to
  // max_position_embeddings).
  int64_t original_max_position_embeddings = 0;
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  // yarn
  std::optional<double> attention_factor;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  std::optional<double> mscale;
  std::optional<double> mscale_all_dim;
  bool truncate = true;
  // Qwen2.5-VL multimodal RoPE: rotary frequency bands given to the
  // (temporal, height, width) position ids; sums to head_dim / 2. Empty for
  // plain 1-D RoPE.
  std::vector<int64_t> mrope_section;
};

enum class Activation : uint8_t {
  kSilu,      // "silu" / "swish"
  kGeluTanh,  // "gelu_pytorch_tanh", "gelu_new": tanh approximation
  kGelu,      // "gelu": exact erf form
};

enum class AttentionKind : uint8_t { kFull, kSliding };

// The Qwen2.5-VL vision tower (vision_config).
struct VisionConfig {
  int64_t depth = 0;  // transformer blocks
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_heads = 0;
  int64_t head_dim = 0;  // hidden_size / num_heads
  int64_t in_channels = 3;  // "in_channels" or, in published configs, "in_chans"
  int64_t patch_size = 14;
  int64_t spatial_merge_size = 2;
  int64_t temporal_patch_size = 2;
  int64_t window_size = 112;  // pixels per side of an attention window
  int64_t out_hidden_size = 0;  // = the language model's hidden_size
  int64_t tokens_per_second = 4;  // video M-RoPE temporal scale
  // Blocks with full attention; the others attend within windows.
  std::vector<int64_t> fullatt_block_indexes;
  std::string hidden_act = "silu";
  Activation activation = Activation::kSilu;
};

struct ModelConfig {
  std::string architecture;  // architectures[0]; empty when not given
  std::string model_type;    // top-level model_type, e.g. "gemma3"
  ModelFamily family = ModelFamily::kLlama;

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // defaults to num_attention_heads
  // Defaults to hidden_size / num_attention_heads (Llama, Qwen2), 128
  // (Qwen3) or 256 (Gemma 3), as in transformers. Qwen3 and Gemma 3 set it
  // explicitly and heads * head_dim need not equal hidden_size.
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;

  // RoPE of full-attention layers (every layer except Gemma 3's sliding
  // ones).
  RopeConfig rope;
  // RoPE of Gemma 3's sliding-window layers: default RoPE with
  // rope_local_base_freq. Equal to `rope` for the other families.
  RopeConfig rope_local;

  bool tie_word_embeddings = false;
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // eos_token_id: one id or a list
  std::optional<int64_t> pad_token_id;
  std::string torch_dtype;     // "bfloat16", ...; empty when not given
  std::optional<DType> dtype;  // torch_dtype as a DType

  std::string hidden_act;  // hidden_act, or Gemma's hidden_activation
  Activation activation = Activation::kSilu;

  // Biases. Qwen2 / Qwen2.5-VL always have q/k/v biases and none on o_proj
  // (hard-wired in transformers, not in config.json); Llama, Qwen3 and Gemma
  // 3 put `attention_bias` on all four projections.
  bool qkv_bias = false;
  bool o_proj_bias = false;
  bool mlp_bias = false;  // Llama's mlp_bias
  // Per-head RMSNorm on q and k before RoPE (Qwen3, Gemma 3; implied by the
  // family, not a config field).
  bool qk_norm = false;

  // Attention kind of each layer (num_hidden_layers entries).
  std::vector<AttentionKind> layer_types;
  // Window of the sliding layers; set iff some layer slides.
  std::optional<int64_t> sliding_window;

  // Gemma 3: attention scores scale by query_pre_attn_scalar^-0.5 instead of
  // head_dim^-0.5; optional tanh soft-capping of logits.
  std::optional<double> query_pre_attn_scalar;
  std::optional<double> final_logit_softcapping;
  std::optional<double> attn_logit_softcapping;

  // Multimodal. Qwen2.5-VL: vision tower, image/video placeholder tokens,
  // <|vision_start|>/<|vision_end|>. Gemma 3 (multimodal config):
  // image_token_index, boi/eoi token indexes; its SigLIP vision_config is
  // not parsed yet (`vision` stays empty).
  std::optional<VisionConfig> vision;
  std::optional<int64_t> image_token_id;
  std::optional<int64_t> video_token_id;
  std::optional<int64_t> vision_start_token_id;
  std::optional<int64_t> vision_end_token_id;
};

// `name` is used in error messages (usually the file path).
Result<ModelConfig> ParseModelConfig(std::string_view json_text,
                                     std::string_view name = "config.json");
// `path` is a config.json file or a folder holding one.
Result<ModelConfig> LoadModelConfig(const std::string& path);

// generation_config.json: special tokens and sampling defaults. Fields not
// given stay empty (the server's own defaults apply).
struct GenerationConfig {
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> pad_token_id;
  std::optional<bool> do_sample;
  std::optional<double> temperature;         // >= 0
  std::optional<int64_t> top_k;              // >= 0 (0 = off)
  std::optional<double> top_p;               // (0, 1]
  std::optional<double> min_p;               // [0, 1]
  std::optional<double> repetition_penalty;  // > 0
  std::optional<int64_t> max_new_tokens;     // > 0
  std::optional<int64_t> max_length;         // > 0
};

Result<GenerationConfig> ParseGenerationConfig(
    std::string_view json_text,
    std::string_view name = "generation_config.json");
// Reads `dir`/generation_config.json; std::nullopt when the file is absent.
Result<std::optional<GenerationConfig>> LoadGenerationConfig(
    const std::string& dir);

}  // namespace silica
