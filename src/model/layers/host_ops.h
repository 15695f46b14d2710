// Element-wise steps the OpTable does not offer yet (per-row bias, scaling,
// tanh soft-capping, row gathers). They run on host memory, which is where
// the CPU backend keeps activations; DecoderModel refuses other devices
// until these become OpTable ops with the CUDA backend.
#pragma once

#include <cstdint>
#include <span>

namespace silica {

// x[r, :] += bias for each of `rows` rows of `n`.
void AddBiasRows(float* x, const float* bias, int64_t rows, int64_t n);

// x *= s.
void ScaleInPlace(float* x, int64_t n, float s);

// x = cap * tanh(x / cap).
void SoftcapInPlace(float* x, int64_t n, float cap);

// dst[i, :] = src[rows[i], :], rows of `dim`.
void GatherRows(const float* src, std::span<const int32_t> rows, int64_t dim,
                float* dst);

}  // namespace silica
