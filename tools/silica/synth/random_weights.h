// The values of a synthetic model: seeded normal weights (std 0.02, the
// initializer_range of both real configs), RMSNorm weights of 1.0, and the
// llama3 RoPE frequency factors llama.cpp's converter computes.
//
// Every element's value is a pure function of (seed, tensor name, element
// index): no generator state runs across tensors, so a tensor can be
// produced in any order, in pieces, and identically for GGUF and
// safetensors. A GGUF file and a safetensors folder made with the same
// seed hold the same model (up to the rounding of their dtypes), which is
// what lets one file be checked against a reference run of the other.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "silica/synth/arch_shapes.h"

namespace silica::synth {

inline constexpr float kWeightStd = 0.02f;

// Per-tensor stream key: a hash of the seed and the tensor's name.
uint64_t TensorKey(uint64_t seed, std::string_view name);

// out[i] = stddev * N(0,1) sample number `first + i` of stream `key`.
void FillNormal(uint64_t key, int64_t first, std::span<float> out,
                float stddev);

// The llama3 RoPE scaling factors (one per rotated pair, head_dim / 2),
// as llama.cpp's converter writes them to rope_freqs.weight.
// InvalidArgument when the shape has no llama3 scaling.
Result<std::vector<float>> Llama3RopeFactors(const ArchShape& shape);

// Writes rows [row_begin, row_begin + nrows) of tensor `t` as float32.
// With `gguf_layout`, rows are in llama.cpp's order (Llama q/k permuted
// for its interleaved RoPE); otherwise in Hugging Face order.
Status TensorRows(const ArchShape& shape, const TensorSpec& t, uint64_t seed,
                  bool gguf_layout, int64_t row_begin, int64_t nrows,
                  float* out);

}  // namespace silica::synth
