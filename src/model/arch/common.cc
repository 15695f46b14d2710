// Hyper-parameters shared by every family, from GGUF metadata (keys and
// defaults as llama.cpp's loader reads them) or a parsed config.json.
#include <cmath>
#include <string>

#include "model/arch/family.h"

namespace silica {
namespace {

std::string Key(std::string_view arch, std::string_view suffix) {
  return std::string(arch) + "." + std::string(suffix);
}

// A required positive integer key.
Status ReadDim(const GgufFile& f, const std::string& key, int64_t* out) {
  if (const GgufValue* v = f.Find(key); v != nullptr && v->is_array()) {
    return Unimplemented(f.name() + ": " + key +
                         " varies per layer, which is not supported");
  }
  Result<uint64_t> v = f.GetUint(key);
  if (!v.ok()) return v.status().WithContext(f.name());
  if (*v == 0 || *v > (uint64_t{1} << 31)) {
    return InvalidArgument(f.name() + ": " + key + " = " + std::to_string(*v) +
                           " is out of range");
  }
  *out = static_cast<int64_t>(*v);
  return Status::Ok();
}

// An optional positive integer key; `*out` keeps its value when absent.
Status ReadOptDim(const GgufFile& f, const std::string& key, int64_t* out) {
  if (f.Find(key) == nullptr) return Status::Ok();
  return ReadDim(f, key, out);
}

Status ReadOptFloat(const GgufFile& f, const std::string& key, double* out) {
  if (f.Find(key) == nullptr) return Status::Ok();
  Result<double> v = f.GetFloat(key);
  if (!v.ok()) return v.status().WithContext(f.name());
  if (!std::isfinite(*v)) {
    return InvalidArgument(f.name() + ": " + key + " is not finite");
  }
  *out = *v;
  return Status::Ok();
}

Status ReadGgufRopeScaling(const GgufFile& f, std::string_view arch,
                           RopeScaling* s) {
  std::string type = "none";
  if (f.Find(Key(arch, "rope.scaling.type")) != nullptr) {
    Result<std::string> t = f.GetString(Key(arch, "rope.scaling.type"));
    if (!t.ok()) return t.status().WithContext(f.name());
    type = *t;
  }
  double factor = 1.0;
  RETURN_IF_ERROR(ReadOptFloat(f, Key(arch, "rope.scaling.factor"), &factor));
  if (type == "none" || (type == "linear" && factor == 1.0)) {
    return Status::Ok();
  }
  if (type == "linear") {
    s->type = RopeScalingType::kLinear;
    s->factor = factor;
    return Status::Ok();
  }
  return Unimplemented(f.name() + ": rope scaling type '" + type +
                       "' is not supported in GGUF files yet");
}

}  // namespace

Result<DecoderParams> CommonGgufParams(const GgufFile& f,
                                       std::string_view arch) {
  DecoderParams p;
  p.architecture = std::string(arch);
  p.format = "gguf";
  if (Result<std::string> name = f.GetString("general.name"); name.ok()) {
    p.name = *name;
  }
  RETURN_IF_ERROR(ReadDim(f, Key(arch, "block_count"), &p.num_layers));
  RETURN_IF_ERROR(ReadDim(f, Key(arch, "embedding_length"), &p.hidden));
  RETURN_IF_ERROR(
      ReadDim(f, Key(arch, "feed_forward_length"), &p.intermediate));
  RETURN_IF_ERROR(ReadDim(f, Key(arch, "attention.head_count"), &p.n_heads));
  p.n_kv_heads = p.n_heads;
  RETURN_IF_ERROR(
      ReadOptDim(f, Key(arch, "attention.head_count_kv"), &p.n_kv_heads));
  if (p.n_heads % p.n_kv_heads != 0) {
    return InvalidArgument(f.name() + ": " + std::to_string(p.n_heads) +
                           " query heads are not a multiple of " +
                           std::to_string(p.n_kv_heads) + " KV heads");
  }
  p.head_dim = p.hidden / p.n_heads;
  RETURN_IF_ERROR(
      ReadOptDim(f, Key(arch, "attention.key_length"), &p.head_dim));
  int64_t value_dim = p.head_dim;
  RETURN_IF_ERROR(
      ReadOptDim(f, Key(arch, "attention.value_length"), &value_dim));
  if (value_dim != p.head_dim) {
    return Unimplemented(f.name() + ": key length " +
                         std::to_string(p.head_dim) + " != value length " +
                         std::to_string(value_dim));
  }
  p.rotary_dim = p.head_dim;
  RETURN_IF_ERROR(
      ReadOptDim(f, Key(arch, "rope.dimension_count"), &p.rotary_dim));
  if (p.rotary_dim > p.head_dim || p.rotary_dim % 2 != 0) {
    return InvalidArgument(f.name() + ": rope dimension " +
                           std::to_string(p.rotary_dim) + " does not fit " +
                           "head dimension " + std::to_string(p.head_dim));
  }
  RETURN_IF_ERROR(
      ReadOptDim(f, Key(arch, "context_length"), &p.context_length));
  double eps = 1e-6;
  const std::string eps_key = Key(arch, "attention.layer_norm_rms_epsilon");
  if (f.Find(eps_key) == nullptr) {
    return InvalidArgument(f.name() + ": missing " + eps_key);
  }
  RETURN_IF_ERROR(ReadOptFloat(f, eps_key, &eps));
  p.rms_eps = static_cast<float>(eps);
  RETURN_IF_ERROR(
      ReadOptFloat(f, Key(arch, "rope.freq_base"), &p.rope_global.theta));
  RETURN_IF_ERROR(ReadGgufRopeScaling(f, arch, &p.rope_global.scaling));
  p.rope_local = p.rope_global;

  const GgufTensorInfo* embd = f.FindTensor("token_embd.weight");
  if (embd == nullptr || embd->shape.rank != 2) {
    return InvalidArgument(f.name() + ": no 2-D token_embd.weight");
  }
  p.vocab_size = embd->shape[0];
  p.sliding.assign(static_cast<size_t>(p.num_layers), false);
  for (const char* key :
       {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"}) {
    if (Result<uint64_t> id = f.GetUint(key);
        id.ok() && *id < static_cast<uint64_t>(p.vocab_size)) {
      p.eos_token_ids.push_back(static_cast<int32_t>(*id));
    }
  }
  return p;
}

Result<DecoderParams> CommonHfParams(const ModelConfig& c) {
  DecoderParams p;
  p.format = "safetensors";
  p.name = c.architecture.empty() ? c.model_type : c.architecture;
  p.vocab_size = c.vocab_size;
  p.hidden = c.hidden_size;
  p.intermediate = c.intermediate_size;
  p.num_layers = c.num_hidden_layers;
  p.n_heads = c.num_attention_heads;
  p.n_kv_heads = c.num_key_value_heads;
  p.head_dim = c.head_dim;
  p.rotary_dim = c.head_dim;
  p.context_length = c.max_position_embeddings;
  p.rms_eps = static_cast<float>(c.rms_norm_eps);
  if (p.n_kv_heads <= 0 || p.n_heads % p.n_kv_heads != 0) {
    return InvalidArgument(
        "config.json: num_attention_heads is not a "
        "multiple of num_key_value_heads");
  }
  switch (c.activation) {
    case Activation::kSilu:
      p.activation = MlpActivation::kSilu;
      break;
    case Activation::kGeluTanh:
      p.activation = MlpActivation::kGeluTanh;
      break;
    case Activation::kGelu:
      return Unimplemented("config.json: hidden activation '" + c.hidden_act +
                           "' (exact GELU) is not supported");
  }
  if (c.mlp_bias) {
    return Unimplemented("config.json: mlp_bias is not supported");
  }
  for (const RopeConfig* rc : {&c.rope, &c.rope_local}) {
    RopeSpec& spec = rc == &c.rope ? p.rope_global : p.rope_local;
    spec.theta = rc->theta;
    RopeScaling& s = spec.scaling;
    s.factor = rc->factor;
    s.original_max_position_embeddings = rc->original_max_position_embeddings;
    s.low_freq_factor = rc->low_freq_factor;
    s.high_freq_factor = rc->high_freq_factor;
    s.max_position_embeddings = c.max_position_embeddings;
    s.attention_factor = rc->attention_factor;
    s.beta_fast = rc->beta_fast;
    s.beta_slow = rc->beta_slow;
    s.mscale = rc->mscale;
    s.mscale_all_dim = rc->mscale_all_dim;
    s.truncate = rc->truncate;
    switch (rc->type) {
      case RopeType::kDefault:
        s.type = RopeScalingType::kDefault;
        break;
      case RopeType::kLinear:
        s.type = RopeScalingType::kLinear;
        break;
      case RopeType::kLlama3:
        s.type = RopeScalingType::kLlama3;
        break;
      case RopeType::kYarn:
        s.type = RopeScalingType::kYarn;
        break;
      case RopeType::kDynamic:
        return Unimplemented(
            "config.json: dynamic RoPE scaling is not "
            "supported");
    }
    if (!rc->mrope_section.empty()) {
      return Unimplemented(
          "config.json: multimodal RoPE (mrope_section) "
          "is not supported yet");
    }
  }
  p.sliding.resize(static_cast<size_t>(p.num_layers));
  for (int64_t l = 0; l < p.num_layers; ++l) {
    p.sliding[static_cast<size_t>(l)] =
        l < static_cast<int64_t>(c.layer_types.size()) &&
        c.layer_types[static_cast<size_t>(l)] == AttentionKind::kSliding;
  }
  p.sliding_window = c.sliding_window.value_or(0);
  if (c.attn_logit_softcapping) {
    p.attn_softcap = static_cast<float>(*c.attn_logit_softcapping);
  }
  if (c.final_logit_softcapping) {
    p.final_softcap = static_cast<float>(*c.final_logit_softcapping);
  }
  for (int64_t id : c.eos_token_ids) {
    if (id >= 0 && id < p.vocab_size) {
      p.eos_token_ids.push_back(static_cast<int32_t>(id));
    }
  }
  return p;
}

}  // namespace silica
