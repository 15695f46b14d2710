#include "io/model_config.h"

#include <cmath>
#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "io/model_config_internal.h"
#include "io/model_config_json.h"

namespace silica {
namespace {

using nlohmann::json;
using internal::kMaxLayers;
using internal::kMaxWidth;

constexpr int kMaxConfigDepth = 32;
constexpr uint64_t kMaxConfigFileBytes = 16 << 20;
constexpr int64_t kMaxVocab = (int64_t{1} << 31) - 1;
constexpr int64_t kMaxPositions = (int64_t{1} << 31) - 1;

// transformers' defaults per family, for fields a config may leave out.
struct FamilyDefaults {
  bool shape_required;  // vocab/hidden/intermediate/layers/heads/max_pos
  int64_t vocab, hidden, intermediate, layers, heads;
  int64_t kv_heads;  // 0: = num_attention_heads
  int64_t head_dim;  // 0: = hidden_size / num_attention_heads
  int64_t max_positions;
  double rms_norm_eps;
  double rope_theta;
  bool tie_word_embeddings;
  const char* hidden_act;
  int64_t max_window_layers;  // Qwen: layers from here on may slide
};

constexpr FamilyDefaults kLlamaDefaults = {
    true, 0, 0, 0, 0, 0, 0, 0, 0, 1e-6, 10000.0, false, "silu", 0};
constexpr FamilyDefaults kQwen2Defaults = {
    true, 0, 0, 0, 0, 0, 0, 0, 0, 1e-6, 10000.0, false, "silu", 28};
constexpr FamilyDefaults kQwen3Defaults = {
    true, 0, 0, 0, 0, 0, 0, 128, 0, 1e-6, 10000.0, false, "silu", 28};
constexpr FamilyDefaults kQwen2_5_VLDefaults = {
    true, 0, 0, 0, 0, 0, 0, 0, 0, 1e-5, 1000000.0, false, "silu", 80};
// Gemma3TextConfig: the multimodal gemma-3-4b/12b/27b configs rely on these.
constexpr FamilyDefaults kGemma3Defaults = {
    false, 262208, 2304, 9216,    26,    8,   4,   256, 131072,
    1e-6,  1e6,    true, "gelu_pytorch_tanh", 0};

Result<ModelFamily> FamilyFromModelType(const std::string& model_type,
                                        const std::string& field) {
  if (model_type == "llama") return ModelFamily::kLlama;
  if (model_type == "qwen2") return ModelFamily::kQwen2;
  if (model_type == "qwen3") return ModelFamily::kQwen3;
  if (model_type == "gemma3_text" || model_type == "gemma3") {
    return ModelFamily::kGemma3Text;
  }
  if (model_type == "qwen2_5_vl") return ModelFamily::kQwen2_5_VL;
  return InvalidArgument(field + ": model_type '" + model_type +
                         "' is not supported (supported: llama, qwen2, qwen3, "
                         "gemma3_text, gemma3, qwen2_5_vl)");
}

const FamilyDefaults& DefaultsFor(ModelFamily family) {
  switch (family) {
    case ModelFamily::kLlama: return kLlamaDefaults;
    case ModelFamily::kQwen2: return kQwen2Defaults;
    case ModelFamily::kQwen3: return kQwen3Defaults;
    case ModelFamily::kGemma3Text: return kGemma3Defaults;
    case ModelFamily::kQwen2_5_VL: return kQwen2_5_VLDefaults;
  }
  return kLlamaDefaults;
}

// Reads `key` into *out (default kept unless `required`), then range-checks.
Status GetDim(const JsonFields& f, std::string_view key, bool required,
              int64_t lo, int64_t hi, int64_t* out) {
  if (required) {
    RETURN_IF_ERROR(f.Int(key, out));
  } else {
    RETURN_IF_ERROR(f.OptInt(key, out));
  }
  return f.CheckRange(key, *out, lo, hi);
}

Status ParseShape(const JsonFields& f, const FamilyDefaults& d,
                  ModelConfig* c) {
  const bool req = d.shape_required;
  c->vocab_size = d.vocab;
  c->hidden_size = d.hidden;
  c->intermediate_size = d.intermediate;
  c->num_hidden_layers = d.layers;
  c->num_attention_heads = d.heads;
  c->max_position_embeddings = d.max_positions;
  RETURN_IF_ERROR(GetDim(f, "vocab_size", req, 1, kMaxVocab, &c->vocab_size));
  RETURN_IF_ERROR(GetDim(f, "hidden_size", req, 1, kMaxWidth, &c->hidden_size));
  RETURN_IF_ERROR(GetDim(f, "intermediate_size", req, 1, kMaxWidth,
                         &c->intermediate_size));
  RETURN_IF_ERROR(GetDim(f, "num_hidden_layers", req, 1, kMaxLayers,
                         &c->num_hidden_layers));
  RETURN_IF_ERROR(GetDim(f, "num_attention_heads", req, 1, kMaxWidth,
                         &c->num_attention_heads));
  RETURN_IF_ERROR(GetDim(f, "max_position_embeddings", req, 1, kMaxPositions,
                         &c->max_position_embeddings));

  c->num_key_value_heads = d.kv_heads ? d.kv_heads : c->num_attention_heads;
  RETURN_IF_ERROR(GetDim(f, "num_key_value_heads", false, 1,
                         c->num_attention_heads, &c->num_key_value_heads));
  if (c->num_attention_heads % c->num_key_value_heads != 0) {
    return InvalidArgument(f.Name("num_key_value_heads") + ": " +
                           std::to_string(c->num_key_value_heads) +
                           " does not divide num_attention_heads " +
                           std::to_string(c->num_attention_heads));
  }

  if (f.Has("head_dim")) {
    RETURN_IF_ERROR(GetDim(f, "head_dim", true, 1, kMaxWidth, &c->head_dim));
  } else if (d.head_dim != 0) {
    c->head_dim = d.head_dim;
  } else {
    if (c->hidden_size % c->num_attention_heads != 0) {
      return InvalidArgument(f.Name("num_attention_heads") + ": " +
                             std::to_string(c->num_attention_heads) +
                             " does not divide hidden_size " +
                             std::to_string(c->hidden_size) +
                             " and head_dim is not given");
    }
    c->head_dim = c->hidden_size / c->num_attention_heads;
  }
  if (c->head_dim % 2 != 0) {
    return InvalidArgument(f.Name("head_dim") + ": " +
                           std::to_string(c->head_dim) +
                           " must be even for RoPE");
  }
  c->rms_norm_eps = d.rms_norm_eps;
  RETURN_IF_ERROR(f.OptDouble("rms_norm_eps", &c->rms_norm_eps));
  RETURN_IF_ERROR(f.CheckPositive("rms_norm_eps", c->rms_norm_eps));
  if (c->rms_norm_eps >= 1) {
    return InvalidArgument(f.Name("rms_norm_eps") + ": " +
                           std::to_string(c->rms_norm_eps) + " must be < 1");
  }
  return Status::Ok();
}

Status ParseLayerTypes(const JsonFields& f, const FamilyDefaults& d,
                       ModelConfig* c) {
  const int64_t n = c->num_hidden_layers;
  c->layer_types.assign(static_cast<size_t>(n), AttentionKind::kFull);
  if (const json* types = f.Find("layer_types")) {
    const std::string name = f.Name("layer_types");
    if (!types->is_array() || static_cast<int64_t>(types->size()) != n) {
      return InvalidArgument(name + ": expected an array of " +
                             std::to_string(n) + " strings (one per layer)");
    }
    for (int64_t i = 0; i < n; ++i) {
      const json& t = (*types)[static_cast<size_t>(i)];
      if (t == "full_attention") continue;
      if (t == "sliding_attention") {
        c->layer_types[static_cast<size_t>(i)] = AttentionKind::kSliding;
        continue;
      }
      return InvalidArgument(name + "[" + std::to_string(i) +
                             "]: expected \"full_attention\" or "
                             "\"sliding_attention\", got " + t.dump());
    }
  } else if (c->family == ModelFamily::kGemma3Text) {
    // Older Gemma 3 configs give the period instead: every pattern-th layer
    // is global.
    int64_t pattern = 6;
    const char* key = f.Has("sliding_window_pattern") ? "sliding_window_pattern"
                                                      : "_sliding_window_pattern";
    RETURN_IF_ERROR(GetDim(f, key, false, 1, kMaxLayers, &pattern));
    for (int64_t i = 0; i < n; ++i) {
      if ((i + 1) % pattern != 0) {
        c->layer_types[static_cast<size_t>(i)] = AttentionKind::kSliding;
      }
    }
  } else if (c->family != ModelFamily::kLlama) {
    bool use_sliding = false;
    RETURN_IF_ERROR(f.OptBool("use_sliding_window", &use_sliding));
    if (use_sliding) {
      int64_t first = d.max_window_layers;
      RETURN_IF_ERROR(GetDim(f, "max_window_layers", false, 0, kMaxLayers,
                             &first));
      for (int64_t i = first; i < n; ++i) {
        c->layer_types[static_cast<size_t>(i)] = AttentionKind::kSliding;
      }
    }
  }
  bool any_sliding = false;
  for (const AttentionKind k : c->layer_types) {
    any_sliding |= k == AttentionKind::kSliding;
  }
  if (any_sliding) {
    int64_t window = 4096;  // Gemma3TextConfig / Qwen2Config default
    RETURN_IF_ERROR(GetDim(f, "sliding_window", false, 1, kMaxPositions,
                           &window));
    c->sliding_window = window;
  }
  return Status::Ok();
}

Result<Activation> ParseActivation(const std::string& act,
                                   const std::string& name) {
  if (act == "silu" || act == "swish") return Activation::kSilu;
  if (act == "gelu_pytorch_tanh" || act == "gelu_new") {
    return Activation::kGeluTanh;
  }
  if (act == "gelu") return Activation::kGelu;
  return InvalidArgument(name + ": activation '" + act + "' is not supported");
}

Status CheckTokenId(const JsonFields& f, std::string_view key,
                    const std::optional<int64_t>& id, int64_t vocab) {
  if (!id.has_value()) return Status::Ok();
  return f.CheckRange(key, *id, 0, vocab - 1);
}

Status ParseTokens(const JsonFields& f, const FamilyDefaults& d,
                   ModelConfig* c) {
  if (c->family == ModelFamily::kGemma3Text) {
    c->bos_token_id = 2;
    c->eos_token_ids = {1};
    c->pad_token_id = 0;
  }
  RETURN_IF_ERROR(f.OptInt("bos_token_id", &c->bos_token_id));
  RETURN_IF_ERROR(f.OptIntOrIntArray("eos_token_id", &c->eos_token_ids));
  RETURN_IF_ERROR(f.OptInt("pad_token_id", &c->pad_token_id));
  RETURN_IF_ERROR(CheckTokenId(f, "bos_token_id", c->bos_token_id, c->vocab_size));
  for (const int64_t id : c->eos_token_ids) {
    RETURN_IF_ERROR(CheckTokenId(f, "eos_token_id", id, c->vocab_size));
  }
  c->tie_word_embeddings = d.tie_word_embeddings;
  // Saves before transformers 5 put it in text_config, later ones at the top
  // (where the top-level default is false); transformers ORs the two.
  RETURN_IF_ERROR(f.OptBoolAny("tie_word_embeddings", &c->tie_word_embeddings));

  c->torch_dtype.clear();
  RETURN_IF_ERROR(f.OptString(f.Has("torch_dtype") ? "torch_dtype" : "dtype",
                              &c->torch_dtype));
  if (!c->torch_dtype.empty()) {
    const std::string& t = c->torch_dtype;
    if (t == "bfloat16") c->dtype = DType::kBF16;
    else if (t == "float16") c->dtype = DType::kF16;
    else if (t == "float32") c->dtype = DType::kF32;
    else if (t == "float64") c->dtype = DType::kF64;
    else {
      return InvalidArgument(
          f.Name(f.Has("torch_dtype") ? "torch_dtype" : "dtype") +
          ": unknown dtype '" + t + "'");
    }
  }
  return Status::Ok();
}

Status ParseFamilyFlags(const JsonFields& f, ModelConfig* c) {
  const std::string act_key =
      c->family == ModelFamily::kGemma3Text && f.Has("hidden_activation")
          ? "hidden_activation"
          : "hidden_act";
  c->hidden_act = DefaultsFor(c->family).hidden_act;
  RETURN_IF_ERROR(f.OptString(act_key, &c->hidden_act));
  ASSIGN_OR_RETURN(c->activation, ParseActivation(c->hidden_act, f.Name(act_key)));

  switch (c->family) {
    case ModelFamily::kQwen2:
    case ModelFamily::kQwen2_5_VL:
      c->qkv_bias = true;
      c->o_proj_bias = false;
      break;
    case ModelFamily::kLlama:
    case ModelFamily::kQwen3:
    case ModelFamily::kGemma3Text: {
      bool bias = false;
      RETURN_IF_ERROR(f.OptBool("attention_bias", &bias));
      c->qkv_bias = c->o_proj_bias = bias;
      break;
    }
  }
  if (c->family == ModelFamily::kLlama) {
    RETURN_IF_ERROR(f.OptBool("mlp_bias", &c->mlp_bias));
  }
  c->qk_norm = c->family == ModelFamily::kQwen3 ||
               c->family == ModelFamily::kGemma3Text;

  if (c->family == ModelFamily::kGemma3Text) {
    bool bidirectional = false;
    RETURN_IF_ERROR(f.OptBool("use_bidirectional_attention", &bidirectional));
    if (bidirectional) {
      return InvalidArgument(f.Name("use_bidirectional_attention") +
                             ": bidirectional (embedding) Gemma 3 models are "
                             "not supported");
    }
    double scalar = 256;
    RETURN_IF_ERROR(f.OptDouble("query_pre_attn_scalar", &scalar));
    RETURN_IF_ERROR(f.CheckPositive("query_pre_attn_scalar", scalar));
    c->query_pre_attn_scalar = scalar;
    RETURN_IF_ERROR(
        f.OptDouble("final_logit_softcapping", &c->final_logit_softcapping));
    RETURN_IF_ERROR(
        f.OptDouble("attn_logit_softcapping", &c->attn_logit_softcapping));
    if (c->final_logit_softcapping) {
      RETURN_IF_ERROR(f.CheckPositive("final_logit_softcapping",
                                      *c->final_logit_softcapping));
    }
    if (c->attn_logit_softcapping) {
      RETURN_IF_ERROR(f.CheckPositive("attn_logit_softcapping",
                                      *c->attn_logit_softcapping));
    }
  }
  return Status::Ok();
}

Status ParseMultimodalTokens(const JsonFields& f, ModelConfig* c) {
  struct Field {
    const char* key;
    int64_t def;
    std::optional<int64_t>* out;
  };
  std::vector<Field> fields;
  if (c->family == ModelFamily::kQwen2_5_VL) {
    fields = {{"image_token_id", 151655, &c->image_token_id},
              {"video_token_id", 151656, &c->video_token_id},
              {"vision_start_token_id", 151652, &c->vision_start_token_id},
              {"vision_end_token_id", 151653, &c->vision_end_token_id}};
  } else if (c->model_type == "gemma3") {
    fields = {{"image_token_index", 262144, &c->image_token_id},
              {"boi_token_index", 255999, &c->vision_start_token_id},
              {"eoi_token_index", 256000, &c->vision_end_token_id}};
  }
  for (const Field& field : fields) {
    *field.out = field.def;
    RETURN_IF_ERROR(f.OptInt(field.key, field.out));
    RETURN_IF_ERROR(CheckTokenId(f, field.key, *field.out, c->vocab_size));
  }
  return Status::Ok();
}

}  // namespace

std::string_view ModelFamilyName(ModelFamily family) {
  switch (family) {
    case ModelFamily::kLlama: return "llama";
    case ModelFamily::kQwen2: return "qwen2";
    case ModelFamily::kQwen3: return "qwen3";
    case ModelFamily::kGemma3Text: return "gemma3_text";
    case ModelFamily::kQwen2_5_VL: return "qwen2_5_vl";
  }
  return "unknown";
}

std::string_view RopeTypeName(RopeType type) {
  switch (type) {
    case RopeType::kDefault: return "default";
    case RopeType::kLinear: return "linear";
    case RopeType::kDynamic: return "dynamic";
    case RopeType::kLlama3: return "llama3";
    case RopeType::kYarn: return "yarn";
  }
  return "unknown";
}

Result<ModelConfig> ParseModelConfig(std::string_view json_text,
                                     std::string_view name) {
  const std::string file(name);
  ASSIGN_OR_RETURN(json root, ParseJsonStrict(json_text, file, kMaxConfigDepth));
  if (!root.is_object()) {
    return InvalidArgument(file + ": expected a JSON object, got " +
                           std::string(JsonTypeName(root)));
  }
  const JsonFields top(&root, file + ": ");
  ModelConfig c;
  RETURN_IF_ERROR(top.String("model_type", &c.model_type));
  ASSIGN_OR_RETURN(c.family,
                   FamilyFromModelType(c.model_type, top.Name("model_type")));
  if (const json* archs = top.Find("architectures")) {
    if (!archs->is_array() || (!archs->empty() && !(*archs)[0].is_string())) {
      return InvalidArgument(top.Name("architectures") +
                             ": expected an array of strings");
    }
    if (!archs->empty()) c.architecture = (*archs)[0].get<std::string>();
  }

  // Text fields: under text_config when there is one (Gemma 3 multimodal,
  // Qwen2.5-VL in newer transformers), else at the top level; a field
  // missing from text_config is looked up at the top level too.
  const json* text_config = nullptr;
  RETURN_IF_ERROR(top.OptObject("text_config", &text_config));
  if (c.model_type == "gemma3" && text_config == nullptr) {
    return InvalidArgument(top.Name("text_config") +
                           ": missing required field (model_type gemma3)");
  }
  std::vector<JsonFields::Layer> layers;
  if (text_config != nullptr) {
    layers.push_back({text_config, file + ": text_config."});
  }
  layers.push_back({&root, file + ": "});
  const JsonFields f(std::move(layers));
  const FamilyDefaults& d = DefaultsFor(c.family);

  RETURN_IF_ERROR(ParseShape(f, d, &c));
  RETURN_IF_ERROR(internal::ParseRope(f, d.rope_theta, &c));
  RETURN_IF_ERROR(ParseLayerTypes(f, d, &c));
  RETURN_IF_ERROR(ParseTokens(f, d, &c));
  RETURN_IF_ERROR(ParseFamilyFlags(f, &c));
  RETURN_IF_ERROR(ParseMultimodalTokens(f, &c));
  if (c.family == ModelFamily::kQwen2_5_VL) {
    RETURN_IF_ERROR(internal::ParseQwen2_5_VLVision(top, &c));
  }
  return c;
}

Result<ModelConfig> LoadModelConfig(const std::string& path) {
  std::error_code ec;
  std::string file = path;
  if (std::filesystem::is_directory(path, ec)) {
    file = (std::filesystem::path(path) / "config.json").string();
  }
  ASSIGN_OR_RETURN(std::string text, ReadJsonFile(file, kMaxConfigFileBytes));
  return ParseModelConfig(text, file);
}

Result<GenerationConfig> ParseGenerationConfig(std::string_view json_text,
                                               std::string_view name) {
  const std::string file(name);
  ASSIGN_OR_RETURN(json root, ParseJsonStrict(json_text, file, kMaxConfigDepth));
  if (!root.is_object()) {
    return InvalidArgument(file + ": expected a JSON object, got " +
                           std::string(JsonTypeName(root)));
  }
  const JsonFields f(&root, file + ": ");
  GenerationConfig g;
  RETURN_IF_ERROR(f.OptInt("bos_token_id", &g.bos_token_id));
  RETURN_IF_ERROR(f.OptIntOrIntArray("eos_token_id", &g.eos_token_ids));
  RETURN_IF_ERROR(f.OptInt("pad_token_id", &g.pad_token_id));
  for (const int64_t id : g.eos_token_ids) {
    RETURN_IF_ERROR(f.CheckRange("eos_token_id", id, 0, kMaxVocab));
  }
  if (g.bos_token_id) {
    RETURN_IF_ERROR(f.CheckRange("bos_token_id", *g.bos_token_id, 0, kMaxVocab));
  }
  if (f.Has("do_sample")) {
    bool b = false;
    RETURN_IF_ERROR(f.OptBool("do_sample", &b));
    g.do_sample = b;
  }
  RETURN_IF_ERROR(f.OptDouble("temperature", &g.temperature));
  RETURN_IF_ERROR(f.OptInt("top_k", &g.top_k));
  RETURN_IF_ERROR(f.OptDouble("top_p", &g.top_p));
  RETURN_IF_ERROR(f.OptDouble("min_p", &g.min_p));
  RETURN_IF_ERROR(f.OptDouble("repetition_penalty", &g.repetition_penalty));
  RETURN_IF_ERROR(f.OptInt("max_new_tokens", &g.max_new_tokens));
  RETURN_IF_ERROR(f.OptInt("max_length", &g.max_length));

  const auto in = [&](std::string_view key, const std::optional<double>& v,
                      double lo, double hi, bool lo_open) -> Status {
    if (!v) return Status::Ok();
    const bool ok = std::isfinite(*v) && (lo_open ? *v > lo : *v >= lo) &&
                    *v <= hi;
    if (ok) return Status::Ok();
    return InvalidArgument(f.Name(key) + ": " + std::to_string(*v) +
                           " is out of range " + (lo_open ? "(" : "[") +
                           std::to_string(lo) + ", " + std::to_string(hi) + "]");
  };
  RETURN_IF_ERROR(in("temperature", g.temperature, 0, 1e6, false));
  RETURN_IF_ERROR(in("top_p", g.top_p, 0, 1, true));
  RETURN_IF_ERROR(in("min_p", g.min_p, 0, 1, false));
  RETURN_IF_ERROR(in("repetition_penalty", g.repetition_penalty, 0, 1e6, true));
  if (g.top_k) RETURN_IF_ERROR(f.CheckRange("top_k", *g.top_k, 0, kMaxVocab));
  if (g.max_new_tokens) {
    RETURN_IF_ERROR(f.CheckRange("max_new_tokens", *g.max_new_tokens, 1,
                                 kMaxPositions));
  }
  if (g.max_length) {
    RETURN_IF_ERROR(f.CheckRange("max_length", *g.max_length, 1, kMaxPositions));
  }
  return g;
}

Result<std::optional<GenerationConfig>> LoadGenerationConfig(
    const std::string& dir) {
  const std::string file =
      (std::filesystem::path(dir) / "generation_config.json").string();
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return std::optional<GenerationConfig>();
  }
  ASSIGN_OR_RETURN(std::string text, ReadJsonFile(file, kMaxConfigFileBytes));
  ASSIGN_OR_RETURN(GenerationConfig g, ParseGenerationConfig(text, file));
  return std::optional<GenerationConfig>(std::move(g));
}

}  // namespace silica
