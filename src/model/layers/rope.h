// RoPE frequency tables of a model: one per distinct (theta, scaling) pair,
// built once at load. GGUF Llama 3 files carry llama3 scaling as a
// `rope_freqs` tensor of per-pair divisors (llama.cpp's "freq_factors")
// instead of config fields; those are folded in here too.
#pragma once

#include <span>
#include <vector>

#include "core/status.h"
#include "kernels/op_params.h"
#include "model/decoder_params.h"

namespace silica {

struct RopeTable {
  std::vector<float> inv_freq;  // rotary_dim / 2
  float attention_factor = 1.0f;

  // Parameters for OpTable::Rope pointing into this table.
  RopeParams Params(int head_dim, int rotary_dim, bool neox) const;
};

// inv_freq[i] = theta^(-2i / rotary_dim) with `spec.scaling`, divided by
// freq_factors[i] when factors are given (rotary_dim / 2 of them).
Result<RopeTable> BuildRopeTable(const RopeSpec& spec, int rotary_dim,
                                 std::span<const float> freq_factors);

}  // namespace silica
