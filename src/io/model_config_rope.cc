// RoPE and vision-tower parts of the config.json parser.
#include <string>

#include <nlohmann/json.hpp>

#include "io/model_config_internal.h"

namespace silica::internal {
namespace {

using nlohmann::json;

// Gemma 3's sliding layers: rope_local_base_freq, default 10000.
constexpr double kGemmaLocalTheta = 10000.0;

Status RequireFactor(const JsonFields& f, RopeConfig* r) {
  if (!f.Has("factor")) {
    return InvalidArgument(f.Name("factor") + ": missing required field for "
                           "rope_type " + std::string(RopeTypeName(r->type)));
  }
  RETURN_IF_ERROR(f.OptDouble("factor", &r->factor));
  return f.CheckPositive("factor", r->factor);
}

// One RoPE parameter object: a transformers-4 rope_scaling dict or a
// transformers-5 rope_parameters dict (which also carries rope_theta).
Status ParseRopeObject(const JsonFields& f, double theta,
                       int64_t max_positions, RopeConfig* r) {
  *r = RopeConfig();
  r->theta = theta;
  RETURN_IF_ERROR(f.OptDouble("rope_theta", &r->theta));
  RETURN_IF_ERROR(f.CheckPositive("rope_theta", r->theta));

  // "rope_type" is the current key; "type" the legacy one.
  const char* type_key = f.Has("rope_type") ? "rope_type" : "type";
  std::string type = "default";
  RETURN_IF_ERROR(f.OptString(type_key, &type));
  RETURN_IF_ERROR(f.OptIntArray("mrope_section", &r->mrope_section));

  // Qwen2.5-VL writes "mrope": plain RoPE frequencies, 3-D position ids.
  if (type == "default" || type == "mrope") {
    r->type = RopeType::kDefault;
  } else if (type == "linear") {
    r->type = RopeType::kLinear;
    RETURN_IF_ERROR(RequireFactor(f, r));
  } else if (type == "dynamic") {
    r->type = RopeType::kDynamic;
    RETURN_IF_ERROR(RequireFactor(f, r));
  } else if (type == "llama3") {
    r->type = RopeType::kLlama3;
    RETURN_IF_ERROR(RequireFactor(f, r));
    for (const char* key : {"low_freq_factor", "high_freq_factor",
                            "original_max_position_embeddings"}) {
      if (!f.Has(key)) {
        return InvalidArgument(f.Name(key) +
                               ": missing required field for rope_type llama3");
      }
    }
    RETURN_IF_ERROR(f.OptDouble("low_freq_factor", &r->low_freq_factor));
    RETURN_IF_ERROR(f.OptDouble("high_freq_factor", &r->high_freq_factor));
    RETURN_IF_ERROR(f.Int("original_max_position_embeddings",
                          &r->original_max_position_embeddings));
    RETURN_IF_ERROR(f.CheckPositive("low_freq_factor", r->low_freq_factor));
    RETURN_IF_ERROR(f.CheckPositive("high_freq_factor", r->high_freq_factor));
    if (r->high_freq_factor <= r->low_freq_factor) {
      return InvalidArgument(f.Name("high_freq_factor") + ": " +
                             std::to_string(r->high_freq_factor) +
                             " must exceed low_freq_factor " +
                             std::to_string(r->low_freq_factor));
    }
  } else if (type == "yarn") {
    r->type = RopeType::kYarn;
    RETURN_IF_ERROR(RequireFactor(f, r));
    r->original_max_position_embeddings = max_positions;
    RETURN_IF_ERROR(f.OptInt("original_max_position_embeddings",
                             &r->original_max_position_embeddings));
    RETURN_IF_ERROR(f.OptDouble("attention_factor", &r->attention_factor));
    RETURN_IF_ERROR(f.OptDouble("beta_fast", &r->beta_fast));
    RETURN_IF_ERROR(f.OptDouble("beta_slow", &r->beta_slow));
    RETURN_IF_ERROR(f.OptDouble("mscale", &r->mscale));
    RETURN_IF_ERROR(f.OptDouble("mscale_all_dim", &r->mscale_all_dim));
    RETURN_IF_ERROR(f.OptBool("truncate", &r->truncate));
    if (r->attention_factor) {
      RETURN_IF_ERROR(f.CheckPositive("attention_factor", *r->attention_factor));
    }
    RETURN_IF_ERROR(f.CheckPositive("beta_fast", r->beta_fast));
    RETURN_IF_ERROR(f.CheckPositive("beta_slow", r->beta_slow));
  } else {
    return InvalidArgument(f.Name(type_key) + ": RoPE type '" + type +
                           "' is not supported (default, linear, dynamic, "
                           "llama3, yarn)");
  }
  if (r->type == RopeType::kLlama3 || r->type == RopeType::kYarn) {
    RETURN_IF_ERROR(f.CheckRange("original_max_position_embeddings",
                                 r->original_max_position_embeddings, 1,
                                 (int64_t{1} << 31) - 1));
  }
  return Status::Ok();
}

RopeConfig DefaultRope(double theta) {
  RopeConfig r;
  r.theta = theta;
  return r;
}

Status CheckMrope(const JsonFields& f, std::string_view key,
                  const ModelConfig& c) {
  const std::vector<int64_t>& s = c.rope.mrope_section;
  if (c.family == ModelFamily::kQwen2_5_VL && s.empty()) {
    return InvalidArgument(f.Name(key) +
                           ".mrope_section: missing required field for "
                           "qwen2_5_vl (M-RoPE)");
  }
  if (s.empty()) return Status::Ok();
  int64_t sum = 0;
  for (const int64_t x : s) {
    if (x < 1 || x > kMaxWidth) {
      return InvalidArgument(f.Name(key) + ".mrope_section: entry " +
                             std::to_string(x) + " is out of range");
    }
    sum += x;
  }
  if (s.size() != 3 || sum != c.head_dim / 2) {
    return InvalidArgument(f.Name(key) + ".mrope_section: expected 3 entries "
                           "summing to head_dim / 2 = " +
                           std::to_string(c.head_dim / 2));
  }
  return Status::Ok();
}

}  // namespace

Status ParseRope(const JsonFields& f, double default_theta, ModelConfig* c) {
  const bool gemma = c->family == ModelFamily::kGemma3Text;
  const int64_t max_pos = c->max_position_embeddings;
  const json* params = nullptr;
  RETURN_IF_ERROR(f.OptObject("rope_parameters", &params));
  std::string_view key = "rope_parameters";

  if (params != nullptr) {
    const std::string prefix = f.Name("rope_parameters") + ".";
    const JsonFields pf(params, prefix);
    if (pf.Has("full_attention") || pf.Has("sliding_attention")) {
      // transformers 5 nests RoPE per layer type (Gemma 3).
      const json* full = nullptr;
      const json* sliding = nullptr;
      RETURN_IF_ERROR(pf.OptObject("full_attention", &full));
      RETURN_IF_ERROR(pf.OptObject("sliding_attention", &sliding));
      c->rope = DefaultRope(default_theta);
      if (full != nullptr) {
        RETURN_IF_ERROR(ParseRopeObject(
            JsonFields(full, prefix + "full_attention."), default_theta,
            max_pos, &c->rope));
      }
      c->rope_local = gemma ? DefaultRope(kGemmaLocalTheta) : c->rope;
      if (sliding != nullptr) {
        RETURN_IF_ERROR(ParseRopeObject(
            JsonFields(sliding, prefix + "sliding_attention."),
            gemma ? kGemmaLocalTheta : default_theta, max_pos,
            &c->rope_local));
      }
    } else {
      RETURN_IF_ERROR(ParseRopeObject(pf, default_theta, max_pos, &c->rope));
      c->rope_local = gemma ? DefaultRope(kGemmaLocalTheta) : c->rope;
    }
  } else {
    key = "rope_scaling";
    double theta = default_theta;
    RETURN_IF_ERROR(f.OptDouble("rope_theta", &theta));
    RETURN_IF_ERROR(f.CheckPositive("rope_theta", theta));
    const json* scaling = nullptr;
    RETURN_IF_ERROR(f.OptObject("rope_scaling", &scaling));
    c->rope = DefaultRope(theta);
    if (scaling != nullptr) {
      RETURN_IF_ERROR(ParseRopeObject(
          JsonFields(scaling, f.Name("rope_scaling") + "."), theta, max_pos,
          &c->rope));
    }
    if (gemma) {
      // Gemma 3's rope_scaling (linear x8 on 4B+) applies to global layers
      // only; local layers keep plain RoPE at rope_local_base_freq.
      double local = kGemmaLocalTheta;
      RETURN_IF_ERROR(f.OptDouble("rope_local_base_freq", &local));
      RETURN_IF_ERROR(f.CheckPositive("rope_local_base_freq", local));
      c->rope_local = DefaultRope(local);
    } else {
      c->rope_local = c->rope;
    }
  }
  return CheckMrope(f, key, *c);
}

Status ParseQwen2_5_VLVision(const JsonFields& top, ModelConfig* c) {
  const json* vc = nullptr;
  RETURN_IF_ERROR(top.OptObject("vision_config", &vc));
  if (vc == nullptr) {
    return InvalidArgument(top.Name("vision_config") +
                           ": missing required field for qwen2_5_vl");
  }
  const JsonFields f(vc, top.Name("vision_config") + ".");
  VisionConfig v;
  const auto dim = [&](std::string_view key, bool required, int64_t lo,
                       int64_t hi, int64_t* out) -> Status {
    if (required) {
      RETURN_IF_ERROR(f.Int(key, out));
    } else {
      RETURN_IF_ERROR(f.OptInt(key, out));
    }
    return f.CheckRange(key, *out, lo, hi);
  };
  RETURN_IF_ERROR(dim("depth", true, 1, kMaxLayers, &v.depth));
  RETURN_IF_ERROR(dim("hidden_size", true, 1, kMaxWidth, &v.hidden_size));
  RETURN_IF_ERROR(
      dim("intermediate_size", true, 1, kMaxWidth, &v.intermediate_size));
  RETURN_IF_ERROR(dim("num_heads", true, 1, v.hidden_size, &v.num_heads));
  RETURN_IF_ERROR(dim("out_hidden_size", true, 1, kMaxWidth, &v.out_hidden_size));
  RETURN_IF_ERROR(dim(f.Has("in_channels") ? "in_channels" : "in_chans", false,
                      1, 64, &v.in_channels));
  RETURN_IF_ERROR(dim("patch_size", false, 1, 4096, &v.patch_size));
  RETURN_IF_ERROR(
      dim("spatial_merge_size", false, 1, 64, &v.spatial_merge_size));
  RETURN_IF_ERROR(
      dim("temporal_patch_size", false, 1, 64, &v.temporal_patch_size));
  RETURN_IF_ERROR(dim("window_size", false, 1, 1 << 16, &v.window_size));
  RETURN_IF_ERROR(
      dim("tokens_per_second", false, 1, 1 << 20, &v.tokens_per_second));

  // 2-D RoPE gives half of each head's rotary pairs to rows, half to
  // columns: head_dim must split into four.
  if (v.hidden_size % v.num_heads != 0 || (v.hidden_size / v.num_heads) % 4) {
    return InvalidArgument(f.Name("num_heads") + ": " +
                           std::to_string(v.num_heads) +
                           " heads do not split hidden_size " +
                           std::to_string(v.hidden_size) +
                           " into head dims divisible by 4");
  }
  v.head_dim = v.hidden_size / v.num_heads;
  if (v.window_size % (v.patch_size * v.spatial_merge_size) != 0) {
    return InvalidArgument(f.Name("window_size") + ": " +
                           std::to_string(v.window_size) +
                           " is not a multiple of patch_size * "
                           "spatial_merge_size");
  }
  if (v.out_hidden_size != c->hidden_size) {
    return InvalidArgument(f.Name("out_hidden_size") + ": " +
                           std::to_string(v.out_hidden_size) +
                           " differs from the language model's hidden_size " +
                           std::to_string(c->hidden_size));
  }
  v.fullatt_block_indexes = {7, 15, 23, 31};
  RETURN_IF_ERROR(f.OptIntArray("fullatt_block_indexes",
                                &v.fullatt_block_indexes));
  int64_t prev = -1;
  for (const int64_t b : v.fullatt_block_indexes) {
    if (b <= prev || b >= v.depth) {
      return InvalidArgument(f.Name("fullatt_block_indexes") + ": entry " +
                             std::to_string(b) + " must be increasing and < "
                             "depth " + std::to_string(v.depth));
    }
    prev = b;
  }
  RETURN_IF_ERROR(f.OptString("hidden_act", &v.hidden_act));
  if (v.hidden_act == "silu") {
    v.activation = Activation::kSilu;
  } else if (v.hidden_act == "gelu_pytorch_tanh" || v.hidden_act == "gelu_new") {
    v.activation = Activation::kGeluTanh;
  } else if (v.hidden_act == "gelu") {
    v.activation = Activation::kGelu;
  } else {
    return InvalidArgument(f.Name("hidden_act") + ": activation '" +
                           v.hidden_act + "' is not supported");
  }
  c->vision = std::move(v);
  return Status::Ok();
}

}  // namespace silica::internal
