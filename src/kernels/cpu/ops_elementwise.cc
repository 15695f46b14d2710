// Highway kernels for the row-wise and element-wise ops: RMSNorm, RoPE,
// SiLU·mul, GELU(tanh)·mul, softmax, add and the KV-cache store. Each loop
// runs whole vectors and finishes the tail with the scalar formula, so no
// load ever reads past the caller's arrays.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/half.h"
#include "kernels/cpu/ops.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/ops_elementwise.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace silica {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

const char* TargetNameImpl() { return hwy::TargetName(HWY_TARGET); }

void RmsNormImpl(const float* x, const float* w, int64_t rows, int64_t dim,
                 float eps, bool one_plus_w, float* y) {
  const hn::ScalableTag<float> d;
  const int64_t nl = static_cast<int64_t>(hn::Lanes(d));
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    auto s0 = hn::Zero(d), s1 = hn::Zero(d);
    int64_t i = 0;
    for (; i + 2 * nl <= dim; i += 2 * nl) {
      const auto a = hn::LoadU(d, xr + i), b = hn::LoadU(d, xr + i + nl);
      s0 = hn::MulAdd(a, a, s0);
      s1 = hn::MulAdd(b, b, s1);
    }
    for (; i + nl <= dim; i += nl) {
      const auto a = hn::LoadU(d, xr + i);
      s0 = hn::MulAdd(a, a, s0);
    }
    double ss = hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
    for (; i < dim; ++i) ss += double{xr[i]} * xr[i];
    const float inv =
        static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(dim) + eps));
    const auto vinv = hn::Set(d, inv);
    const auto one = hn::Set(d, one_plus_w ? 1.0f : 0.0f);
    i = 0;
    for (; i + nl <= dim; i += nl) {
      const auto g = hn::Add(one, hn::LoadU(d, w + i));
      hn::StoreU(hn::Mul(hn::Mul(hn::LoadU(d, xr + i), vinv), g), d, yr + i);
    }
    for (; i < dim; ++i) {
      yr[i] = xr[i] * inv * ((one_plus_w ? 1.0f : 0.0f) + w[i]);
    }
  }
}

// Rotates tokens x heads vectors with the per-token cos/sin rows of
// `table` (see cpu::RopeTable).
void RopeApplyImpl(float* x, int64_t tokens, int heads, const float* table,
                   const RopeParams& p) {
  const hn::ScalableTag<float> d;
  const int nl = static_cast<int>(hn::Lanes(d));
  const int half = p.rotary_dim / 2;
  for (int64_t t = 0; t < tokens; ++t) {
    const float* cosv = table + t * 2 * p.rotary_dim;
    const float* sinv = cosv + p.rotary_dim;
    for (int h = 0; h < heads; ++h) {
      float* v = x + (t * heads + h) * p.head_dim;
      int i = 0;
      if (p.neox) {
        for (; i + nl <= half; i += nl) {
          const auto x0 = hn::LoadU(d, v + i), x1 = hn::LoadU(d, v + half + i);
          const auto c = hn::LoadU(d, cosv + i), s = hn::LoadU(d, sinv + i);
          hn::StoreU(hn::NegMulAdd(x1, s, hn::Mul(x0, c)), d, v + i);
          hn::StoreU(hn::MulAdd(x0, s, hn::Mul(x1, c)), d, v + half + i);
        }
        for (; i < half; ++i) {
          const float x0 = v[i], x1 = v[half + i];
          v[i] = x0 * cosv[i] - x1 * sinv[i];
          v[half + i] = x0 * sinv[i] + x1 * cosv[i];
        }
      } else {
#if HWY_TARGET != HWY_SCALAR
        // Shuffle2301 swaps the lanes of each pair: (x1, x0).
        for (; i + nl <= p.rotary_dim; i += nl) {
          const auto xv = hn::LoadU(d, v + i);
          const auto c = hn::LoadU(d, cosv + i), s = hn::LoadU(d, sinv + i);
          hn::StoreU(hn::MulAdd(hn::Shuffle2301(xv), s, hn::Mul(xv, c)), d,
                     v + i);
        }
#endif
        for (; i < p.rotary_dim; i += 2) {
          const float x0 = v[i], x1 = v[i + 1];
          v[i] = x0 * cosv[i] + x1 * sinv[i];
          v[i + 1] = x1 * cosv[i] + x0 * sinv[i + 1];
        }
      }
    }
  }
}

float SiluScalar(float g) { return g / (1.0f + std::exp(-g)); }
float GeluTanhScalar(float g) {
  const float k = 0.7978845608028654f;  // sqrt(2 / pi)
  return 0.5f * g * (1.0f + std::tanh(k * (g + 0.044715f * g * g * g)));
}

void SiluMulImpl(const float* gate, const float* up, int64_t n, float* out) {
  const hn::ScalableTag<float> d;
  const int64_t nl = static_cast<int64_t>(hn::Lanes(d));
  const auto one = hn::Set(d, 1.0f);
  int64_t i = 0;
  for (; i + nl <= n; i += nl) {
    const auto g = hn::LoadU(d, gate + i);
    // Exp is valid up to +104: clamp, g / (1 + e^88) is already ~0.
    const auto e = hn::Exp(d, hn::Min(hn::Neg(g), hn::Set(d, 88.0f)));
    const auto silu = hn::Div(g, hn::Add(one, e));
    hn::StoreU(hn::Mul(silu, hn::LoadU(d, up + i)), d, out + i);
  }
  for (; i < n; ++i) out[i] = SiluScalar(gate[i]) * up[i];
}

void GeluTanhMulImpl(const float* gate, const float* up, int64_t n,
                     float* out) {
  const hn::ScalableTag<float> d;
  const int64_t nl = static_cast<int64_t>(hn::Lanes(d));
  const auto k = hn::Set(d, 0.7978845608028654f);
  const auto c = hn::Set(d, 0.044715f);
  const auto half = hn::Set(d, 0.5f);
  const auto one = hn::Set(d, 1.0f);
  int64_t i = 0;
  for (; i + nl <= n; i += nl) {
    const auto g = hn::LoadU(d, gate + i);
    const auto inner = hn::Mul(k, hn::MulAdd(hn::Mul(c, g), hn::Mul(g, g), g));
    const auto gelu = hn::Mul(hn::Mul(half, g), hn::Add(one, hn::Tanh(d, inner)));
    hn::StoreU(hn::Mul(gelu, hn::LoadU(d, up + i)), d, out + i);
  }
  for (; i < n; ++i) out[i] = GeluTanhScalar(gate[i]) * up[i];
}

void SoftmaxImpl(float* x, int64_t rows, int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t nl = static_cast<int64_t>(hn::Lanes(d));
  for (int64_t r = 0; r < rows; ++r) {
    float* xr = x + r * n;
    auto vmax = hn::Set(d, -HUGE_VALF);
    int64_t i = 0;
    for (; i + nl <= n; i += nl) vmax = hn::Max(vmax, hn::LoadU(d, xr + i));
    float mx = hn::GetLane(hn::MaxOfLanes(d, vmax));
    for (; i < n; ++i) mx = std::max(mx, xr[i]);
    const auto vmx = hn::Set(d, mx);
    auto vsum = hn::Zero(d);
    i = 0;
    for (; i + nl <= n; i += nl) {
      const auto e = hn::Exp(d, hn::Sub(hn::LoadU(d, xr + i), vmx));
      hn::StoreU(e, d, xr + i);
      vsum = hn::Add(vsum, e);
    }
    double sum = hn::GetLane(hn::SumOfLanes(d, vsum));
    for (; i < n; ++i) {
      xr[i] = std::exp(xr[i] - mx);
      sum += xr[i];
    }
    const float inv = static_cast<float>(1.0 / sum);
    const auto vinv = hn::Set(d, inv);
    i = 0;
    for (; i + nl <= n; i += nl) {
      hn::StoreU(hn::Mul(hn::LoadU(d, xr + i), vinv), d, xr + i);
    }
    for (; i < n; ++i) xr[i] *= inv;
  }
}

void AddImpl(float* x, const float* y, int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t nl = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + nl <= n; i += nl) {
    hn::StoreU(hn::Add(hn::LoadU(d, x + i), hn::LoadU(d, y + i)), d, x + i);
  }
  for (; i < n; ++i) x[i] += y[i];
}

// Highway's f32->f16 demotion is exact (round to nearest even) only where
// the hardware converts (F16C on AVX2 and up, AArch64 NEON/SVE); the
// emulations (older x86 targets, EMU128) truncate. Those use the scalar
// conversion.
#undef SILICA_EXACT_F16_DEMOTE
#if (HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2 && !defined(HWY_DISABLE_F16C)) || \
    (HWY_ARCH_ARM_A64 && HWY_TARGET != HWY_EMU128 && HWY_TARGET != HWY_SCALAR)
#define SILICA_EXACT_F16_DEMOTE 1
#else
#define SILICA_EXACT_F16_DEMOTE 0
#endif

void StoreRowF16(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
#if SILICA_EXACT_F16_DEMOTE
  const hn::ScalableTag<float> d;
  const hn::Rebind<hwy::float16_t, decltype(d)> dh;
  const int64_t nl = static_cast<int64_t>(hn::Lanes(d));
  auto* out = reinterpret_cast<hwy::float16_t*>(dst);
  for (; i + nl <= n; i += nl) {
    hn::StoreU(hn::DemoteTo(dh, hn::LoadU(d, src + i)), dh, out + i);
  }
#endif
  for (; i < n; ++i) dst[i] = FloatToHalf(src[i]);
}

void StoreKVImpl(const float* k, const float* v, int64_t tokens,
                 const int32_t* slot_mapping, const PagedKV& kv) {
  const int d = kv.head_dim;
  for (int64_t t = 0; t < tokens; ++t) {
    const int64_t slot = slot_mapping[t];
    if (slot < 0) continue;
    for (int h = 0; h < kv.n_kv_heads; ++h) {
      const int64_t dst = KVOffset(kv, slot, h);
      const int64_t src = (t * kv.n_kv_heads + h) * d;
      if (kv.dtype == DType::kF16) {
        StoreRowF16(k + src, static_cast<uint16_t*>(kv.k) + dst, d);
        StoreRowF16(v + src, static_cast<uint16_t*>(kv.v) + dst, d);
      } else {
        std::copy_n(k + src, d, static_cast<float*>(kv.k) + dst);
        std::copy_n(v + src, d, static_cast<float*>(kv.v) + dst);
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace silica
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace silica::cpu {

HWY_EXPORT(TargetNameImpl);
HWY_EXPORT(RmsNormImpl);
HWY_EXPORT(RopeApplyImpl);
HWY_EXPORT(SiluMulImpl);
HWY_EXPORT(GeluTanhMulImpl);
HWY_EXPORT(SoftmaxImpl);
HWY_EXPORT(AddImpl);
HWY_EXPORT(StoreKVImpl);

const char* DispatchedTargetName() {
  return HWY_DYNAMIC_DISPATCH(TargetNameImpl)();
}

void RmsNorm(const float* x, const float* w, int64_t rows, int64_t dim,
             float eps, bool one_plus_w, float* y) {
  HWY_DYNAMIC_DISPATCH(RmsNormImpl)(x, w, rows, dim, eps, one_plus_w, y);
}
void RopeTable(const int32_t* positions, int64_t tokens, const RopeParams& p,
               float* table) {
  const int half = p.rotary_dim / 2;
  for (int64_t t = 0; t < tokens; ++t) {
    float* cosv = table + t * 2 * p.rotary_dim;
    float* sinv = cosv + p.rotary_dim;
    for (int i = 0; i < half; ++i) {
      // f32 angle as transformers computes it; cos/sin of it in double.
      const float angle = static_cast<float>(positions[t]) * p.inv_freq[i];
      const float c = static_cast<float>(std::cos(double{angle})) *
                      p.attention_factor;
      const float s = static_cast<float>(std::sin(double{angle})) *
                      p.attention_factor;
      if (p.neox) {
        cosv[i] = c;
        sinv[i] = s;
      } else {
        // Each repeated for both lanes of a pair, sin negated on the even
        // lane (x0' = x0 c - x1 s), so one FMA pattern serves all lanes.
        cosv[2 * i] = cosv[2 * i + 1] = c;
        sinv[2 * i] = -s;
        sinv[2 * i + 1] = s;
      }
    }
  }
}

void RopeWithTable(float* x, int64_t tokens, int heads, const float* table,
                   const RopeParams& p) {
  HWY_DYNAMIC_DISPATCH(RopeApplyImpl)(x, tokens, heads, table, p);
}

void Rope(float* x, int64_t tokens, int heads, const int32_t* positions,
          const RopeParams& p) {
  // A few tokens at a time: the table stays in L1.
  constexpr int64_t kTokens = 16;
  std::vector<float> table(kTokens * 2 * p.rotary_dim);
  const int64_t row = int64_t{heads} * p.head_dim;
  for (int64_t t = 0; t < tokens; t += kTokens) {
    const int64_t n = std::min(kTokens, tokens - t);
    RopeTable(positions + t, n, p, table.data());
    RopeWithTable(x + t * row, n, heads, table.data(), p);
  }
}

void SiluMul(const float* gate, const float* up, int64_t n, float* out) {
  HWY_DYNAMIC_DISPATCH(SiluMulImpl)(gate, up, n, out);
}
void GeluTanhMul(const float* gate, const float* up, int64_t n, float* out) {
  HWY_DYNAMIC_DISPATCH(GeluTanhMulImpl)(gate, up, n, out);
}
void Softmax(float* x, int64_t rows, int64_t n) {
  HWY_DYNAMIC_DISPATCH(SoftmaxImpl)(x, rows, n);
}
void Add(float* x, const float* y, int64_t n) {
  HWY_DYNAMIC_DISPATCH(AddImpl)(x, y, n);
}
void StoreKV(const float* k, const float* v, int64_t tokens,
             const int32_t* slot_mapping, const PagedKV& kv) {
  HWY_DYNAMIC_DISPATCH(StoreKVImpl)(k, v, tokens, slot_mapping, kv);
}

}  // namespace silica::cpu
#endif  // HWY_ONCE
