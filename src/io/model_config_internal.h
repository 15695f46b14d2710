// Pieces of the config.json parser shared between model_config.cc and
// model_config_rope.cc. Not part of the io API.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "io/model_config.h"
#include "io/model_config_json.h"

namespace silica::internal {

// Upper bounds that keep products of config values far from int64 overflow
// while admitting any real model.
inline constexpr int64_t kMaxWidth = int64_t{1} << 20;  // hidden, heads, ...
inline constexpr int64_t kMaxLayers = 4096;

// Fills c->rope and c->rope_local from rope_parameters (transformers 5) or
// rope_theta + rope_scaling (+ rope_local_base_freq for Gemma 3). Needs
// c->family, c->head_dim and c->max_position_embeddings.
Status ParseRope(const JsonFields& f, double default_theta, ModelConfig* c);

// Fills c->vision from the top-level vision_config. Needs c->hidden_size.
Status ParseQwen2_5_VLVision(const JsonFields& top, ModelConfig* c);

}  // namespace silica::internal
