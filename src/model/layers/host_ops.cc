#include "model/layers/host_ops.h"

#include <cmath>
#include <cstring>

namespace silica {

void AddBiasRows(float* x, const float* bias, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    float* xr = x + r * n;
    for (int64_t i = 0; i < n; ++i) xr[i] += bias[i];
  }
}

void ScaleInPlace(float* x, int64_t n, float s) {
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

void SoftcapInPlace(float* x, int64_t n, float cap) {
  const float inv = 1.0f / cap;
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] * inv);
}

void GatherRows(const float* src, std::span<const int32_t> rows, int64_t dim,
                float* dst) {
  for (size_t i = 0; i < rows.size(); ++i) {
    std::memcpy(dst + static_cast<int64_t>(i) * dim, src + rows[i] * dim,
                static_cast<size_t>(dim) * sizeof(float));
  }
}

}  // namespace silica
