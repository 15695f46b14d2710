#include "kernels/ref/quantize_k.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/half.h"
#include "core/quant_blocks.h"

namespace silica {
namespace {

// Below this a group counts as all zero (same threshold as the reference).
constexpr float kGroupMaxEps = 1e-15f;

// Round half to even, as the reference's float trick does; NaN and huge
// values (from non-finite weights) clamp instead of being undefined.
int NearestInt(float v) {
  if (!(std::fabs(v) < 4194303.0f)) return v > 0 ? 4194303 : -4194303;
  return static_cast<int>(std::nearbyint(v));
}

// Chooses a scale for `n` values quantized to signed levels in
// [-nmax, nmax - 1] and writes the levels (offset by +nmax) to `levels`.
// Starts from the scale that maps the largest-magnitude value to -nmax,
// takes the x^2-weighted least-squares scale for those levels, then tries
// 18 nearby starting scales and keeps whichever levels give the smallest
// weighted error. Returns the scale (0 for an all-zero group).
float ChooseScale(const float* x, int n, int nmax, int8_t* levels) {
  float max = 0.0f;
  float amax = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(levels, 0, n);
    return 0.0f;
  }
  // Weighted sums for the levels produced by inverse scale `iscale`.
  auto sums = [&](float iscale, float* sumlx, float* suml2) {
    *sumlx = 0.0f;
    *suml2 = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
      const float w = x[i] * x[i];
      *sumlx += w * x[i] * static_cast<float>(l);
      *suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
  };
  auto store = [&](float iscale) {
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
      levels[i] = static_cast<int8_t>(l + nmax);
    }
  };

  float iscale = -static_cast<float>(nmax) / max;
  float sumlx = 0.0f;
  float suml2 = 0.0f;
  sums(iscale, &sumlx, &suml2);
  store(iscale);
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int step = -9; step <= 9; ++step) {
    if (step == 0) continue;
    iscale =
        -(static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / max;
    sums(iscale, &sumlx, &suml2);
    // Maximising sumlx^2 / suml2 minimises the weighted squared error.
    if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
      store(iscale);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

void QuantizeBlockQ6_K(const float* x, BlockQ6_K* y) {
  constexpr int kSub = 16;  // elements per sub-block
  constexpr int kNumSub = kQKK / kSub;
  int8_t levels[kQKK];
  float scales[kNumSub];
  float max_scale = 0.0f;
  float max_abs_scale = 0.0f;
  for (int ib = 0; ib < kNumSub; ++ib) {
    scales[ib] = ChooseScale(x + kSub * ib, kSub, 32, levels + kSub * ib);
    if (std::fabs(scales[ib]) > max_abs_scale) {
      max_abs_scale = std::fabs(scales[ib]);
      max_scale = scales[ib];
    }
  }
  std::memset(y, 0, sizeof(*y));
  if (max_abs_scale < kGroupMaxEps) return;  // all zero: d = 0 decodes to 0

  // The sub-block scales become int8 steps of d; the sign of d is chosen
  // so the largest scale maps to -128 (the int8 range is asymmetric).
  const float iscale = -128.0f / max_scale;
  y->d = FloatToHalf(1.0f / iscale);
  for (int ib = 0; ib < kNumSub; ++ib) {
    y->scales[ib] =
        static_cast<int8_t>(std::min(127, NearestInt(iscale * scales[ib])));
  }
  // Re-quantize every value against the scale actually stored (fp16 d times
  // the int8 sub-scale), so rounding of the scales costs no extra error.
  const float d_super = HalfToFloat(y->d);
  for (int ib = 0; ib < kNumSub; ++ib) {
    const float d = d_super * static_cast<float>(y->scales[ib]);
    if (d == 0.0f) continue;  // keep the levels ChooseScale picked
    for (int i = 0; i < kSub; ++i) {
      const int l = std::clamp(NearestInt(x[kSub * ib + i] / d), -32, 31);
      levels[kSub * ib + i] = static_cast<int8_t>(l + 32);
    }
  }
  // Pack 6-bit levels: in each 128-element half, element 32*g + l keeps its
  // low nibble in ql (low nibble for g < 2, high for g >= 2, byte l or
  // l + 32 by g's parity) and its top two bits in bits 2g..2g+1 of qh[l].
  for (int h = 0; h < 2; ++h) {
    const int8_t* L = levels + 128 * h;
    uint8_t* ql = y->ql + 64 * h;
    uint8_t* qh = y->qh + 32 * h;
    for (int l = 0; l < 32; ++l) {
      const int q0 = L[l], q1 = L[l + 32], q2 = L[l + 64], q3 = L[l + 96];
      ql[l] = static_cast<uint8_t>((q0 & 0xf) | ((q2 & 0xf) << 4));
      ql[l + 32] = static_cast<uint8_t>((q1 & 0xf) | ((q3 & 0xf) << 4));
      qh[l] = static_cast<uint8_t>((q0 >> 4) | ((q1 >> 4) << 2) |
                                   ((q2 >> 4) << 4) | ((q3 >> 4) << 6));
    }
  }
}

}  // namespace

Status QuantizeRowQ6_K(const float* src, void* dst, int64_t n) {
  if (n < 0 || n % kQKK != 0) {
    return InvalidArgument("QuantizeRowQ6_K: " + std::to_string(n) +
                           " elements is not a whole number of 256-element "
                           "blocks");
  }
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t b = 0; b < n / kQKK; ++b) {
    BlockQ6_K block;
    QuantizeBlockQ6_K(src + b * kQKK, &block);
    std::memcpy(out + b * sizeof(BlockQ6_K), &block, sizeof(BlockQ6_K));
  }
  return Status::Ok();
}

}  // namespace silica
