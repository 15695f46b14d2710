// Matmul for F32, F16 and BF16 weights: f32 products, f32 accumulation
// (no activation quantization: these are the "strict" dtypes).
//
// Decode (m <= kGemvMaxM): R weight rows at a time, each converted to f32
// once per vector and used for every row of x (in chunks of 4 rows, the
// weight tile staying in L1), one horizontal sum per output at the end.
// Prefill: a panel of NV*N weight rows x kKc elements is converted to f32
// and transposed ([k][columns]) once, then an MR x NV register tile of
// broadcast-FMAs runs every row of x against it.
#define HWY_WANT_AVX3_DL  // same targets as the int8 files
#define HWY_DISABLED_TARGETS HWY_SSSE3
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/matmul_internal.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/matmul_float.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/aligned_allocator.h"
#include "hwy/cache_control.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace silica::cpu::HWY_NAMESPACE {
namespace {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

constexpr int64_t kGemvMaxM = 8;
constexpr int kMR = HWY_MAX_BYTES >= 64 ? 6 : 4;
constexpr int kNV = HWY_MAX_BYTES >= 64 ? 2 : (HWY_MAX_BYTES >= 16 ? 2 : 1);
constexpr int64_t kKc = 512;
constexpr int64_t kPrefetchBytes = 1024;

template <DType kW>
HWY_INLINE VF LoadW(const uint8_t* row, int64_t e) {
  const DF df;
  if constexpr (kW == DType::kF32) {
    return hn::LoadU(df, reinterpret_cast<const float*>(row) + e);
  } else if constexpr (kW == DType::kF16) {
    const hn::Rebind<hwy::float16_t, DF> d16;
    return hn::PromoteTo(
        df, hn::LoadU(d16, reinterpret_cast<const hwy::float16_t*>(row) + e));
  } else {
    // bf16 is the top half of an f32.
    const hn::RebindToUnsigned<DF> du32;
    const hn::Rebind<uint16_t, DF> du16;
    const auto h =
        hn::LoadU(du16, reinterpret_cast<const uint16_t*>(row) + e);
    return hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(du32, h)));
  }
}

template <DType kW>
HWY_INLINE float LoadW1(const uint8_t* row, int64_t e) {
  const hn::CappedTag<float, 1> d1;
  if constexpr (kW == DType::kF32) {
    float f;
    std::memcpy(&f, row + 4 * e, 4);
    return f;
  } else if constexpr (kW == DType::kF16) {
    const hn::Rebind<hwy::float16_t, decltype(d1)> d16;
    return hn::GetLane(hn::PromoteTo(
        d1, hn::LoadU(d16, reinterpret_cast<const hwy::float16_t*>(row) + e)));
  } else {
    uint16_t h;
    std::memcpy(&h, row + 2 * e, 2);
    const uint32_t b = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }
}

// y[i0+i, j+r] for i < M, r < R (R rows of w exist).
template <DType kW, int M, int R>
HWY_NOINLINE void GemvTile(const internal::MatMulArgs& a, int64_t j,
                           int64_t i0) {
  const DF df;
  const int64_t nf = static_cast<int64_t>(hn::Lanes(df));
  const uint8_t* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = a.w + (j + r) * a.w_row_bytes;
  const float* xr[M];
  for (int i = 0; i < M; ++i) xr[i] = a.x + (i0 + i) * a.k;
  VF acc[M][R];
  for (int i = 0; i < M; ++i) {
    for (int r = 0; r < R; ++r) acc[i][r] = hn::Zero(df);
  }
  int64_t e = 0;
  constexpr int64_t kElemBytes = kW == DType::kF32 ? 4 : 2;
  // Software prefetch kPrefetchBytes ahead on each of the R row streams,
  // one per cache line (the hardware prefetchers alone reach ~60% of the
  // read bandwidth with R interleaved streams).
  const int64_t pf_step = 64 / kElemBytes;
  int64_t next_pf = 0;
  // The next tile's rows start where these streams end: fetch their first
  // kPrefetchBytes now (past n this is a harmless prefetch).
  for (int r = 0; r < R; ++r) {
    for (int64_t off = 0; off < kPrefetchBytes; off += 64) {
      hwy::Prefetch(rows[r] + R * a.w_row_bytes + off);
    }
  }
  if constexpr (R == 1 && M == 1) {
    // One sequential stream, four accumulator chains.
    VF b1 = hn::Zero(df), b2 = hn::Zero(df), b3 = hn::Zero(df);
    for (; e + 4 * nf <= a.k; e += 4 * nf) {
      if (e >= next_pf) {
        hwy::Prefetch(rows[0] + e * kElemBytes + kPrefetchBytes);
        next_pf += pf_step;
      }
      acc[0][0] = hn::MulAdd(hn::LoadU(df, xr[0] + e), LoadW<kW>(rows[0], e), acc[0][0]);
      b1 = hn::MulAdd(hn::LoadU(df, xr[0] + e + nf), LoadW<kW>(rows[0], e + nf), b1);
      b2 = hn::MulAdd(hn::LoadU(df, xr[0] + e + 2 * nf), LoadW<kW>(rows[0], e + 2 * nf), b2);
      b3 = hn::MulAdd(hn::LoadU(df, xr[0] + e + 3 * nf), LoadW<kW>(rows[0], e + 3 * nf), b3);
    }
    acc[0][0] = hn::Add(hn::Add(acc[0][0], b1), hn::Add(b2, b3));
  }
  for (; e + nf <= a.k; e += nf) {
    if (e >= next_pf) {
      for (int r = 0; r < R; ++r) {
        hwy::Prefetch(rows[r] + e * kElemBytes + kPrefetchBytes);
      }
      next_pf += pf_step;
    }
    VF w[R];
    for (int r = 0; r < R; ++r) w[r] = LoadW<kW>(rows[r], e);
    for (int i = 0; i < M; ++i) {
      const VF xv = hn::LoadU(df, xr[i] + e);
      for (int r = 0; r < R; ++r) acc[i][r] = hn::MulAdd(xv, w[r], acc[i][r]);
    }
  }
  for (int i = 0; i < M; ++i) {
    for (int r = 0; r < R; ++r) {
      float sum = hn::GetLane(hn::SumOfLanes(df, acc[i][r]));
      for (int64_t t = e; t < a.k; ++t) sum += xr[i][t] * LoadW1<kW>(rows[r], t);
      a.y[(i0 + i) * a.n + j + r] = sum;
    }
  }
}

template <DType kW, int M>
void GemvRows(const internal::MatMulArgs& a, int64_t j, int64_t rows,
              int64_t i0) {
  constexpr int kR = M == 1 ? 1 : (M <= 2 ? 4 : 2);
  for (; rows >= kR; rows -= kR, j += kR) GemvTile<kW, M, kR>(a, j, i0);
  for (; rows > 0; --rows, ++j) GemvTile<kW, M, 1>(a, j, i0);
}

template <DType kW>
void GemvRange(const internal::MatMulArgs& a, int64_t j0, int64_t j1) {
  // Tiles of 16 weight rows (L1-resident) against chunks of <= 4 rows of x.
  for (int64_t j = j0; j < j1; j += 16) {
    const int64_t rows = std::min<int64_t>(16, j1 - j);
    for (int64_t i = 0; i < a.m; i += 4) {
      switch (std::min<int64_t>(4, a.m - i)) {
        case 1: GemvRows<kW, 1>(a, j, rows, i); break;
        case 2: GemvRows<kW, 2>(a, j, rows, i); break;
        case 3: GemvRows<kW, 3>(a, j, rows, i); break;
        default: GemvRows<kW, 4>(a, j, rows, i); break;
      }
    }
  }
}

// panel[kk * nc + c] = w[j + c, k0 + kk] as f32, columns past n repeat n-1.
template <DType kW>
HWY_NOINLINE void PackPanel(const internal::MatMulArgs& a, int64_t j,
                            int64_t k0, int64_t kc, int64_t nc, float* panel) {
  const DF df;
  const int64_t nf = static_cast<int64_t>(hn::Lanes(df));
  alignas(64) float tmp[HWY_MAX_BYTES / sizeof(float)];
  for (int64_t c = 0; c < nc; ++c) {
    const uint8_t* row = a.w + std::min<int64_t>(j + c, a.n - 1) * a.w_row_bytes;
    int64_t kk = 0;
    for (; kk + nf <= kc; kk += nf) {
      hn::Store(LoadW<kW>(row, k0 + kk), df, tmp);
      for (int64_t l = 0; l < nf; ++l) panel[(kk + l) * nc + c] = tmp[l];
    }
    for (; kk < kc; ++kk) panel[kk * nc + c] = LoadW1<kW>(row, k0 + kk);
  }
}

template <int MR>
HWY_NOINLINE void GemmTile(const float* panel, int64_t kc, const float* x,
                           int64_t ldx, float* y, int64_t ldy, int valid,
                           bool accumulate) {
  const DF df;
  constexpr int N = static_cast<int>(HWY_LANES(float));
  constexpr int64_t nc = kNV * N;
  VF acc[MR][kNV];
  for (int i = 0; i < MR; ++i) {
    for (int v = 0; v < kNV; ++v) acc[i][v] = hn::Zero(df);
  }
  for (int64_t kk = 0; kk < kc; ++kk) {
    VF w[kNV];
    for (int v = 0; v < kNV; ++v) w[v] = hn::Load(df, panel + kk * nc + v * N);
    for (int i = 0; i < MR; ++i) {
      const VF xb = hn::Set(df, x[i * ldx + kk]);
      for (int v = 0; v < kNV; ++v) acc[i][v] = hn::MulAdd(xb, w[v], acc[i][v]);
    }
  }
  for (int i = 0; i < MR; ++i) {
    for (int v = 0; v < kNV; ++v) {
      const int cols = std::clamp(valid - v * N, 0, N);
      if (cols == 0) continue;
      alignas(64) float tmp[N];
      hn::Store(acc[i][v], df, tmp);
      float* yr = y + i * ldy + v * N;
      for (int c = 0; c < cols; ++c) yr[c] = accumulate ? yr[c] + tmp[c] : tmp[c];
    }
  }
}

template <DType kW>
void GemmRange(const internal::MatMulArgs& a, int64_t j0, int64_t j1) {
  constexpr int N = static_cast<int>(HWY_LANES(float));
  constexpr int64_t nc = kNV * N;
  const int64_t kc_max = std::min(kKc, a.k);
  auto panel = hwy::AllocateAligned<float>(static_cast<size_t>(kc_max * nc));
  for (int64_t j = j0; j < j1; j += nc) {
    const int valid = static_cast<int>(std::min<int64_t>(nc, a.n - j));
    for (int64_t k0 = 0; k0 < a.k; k0 += kKc) {
      const int64_t kc = std::min(kKc, a.k - k0);
      PackPanel<kW>(a, j, k0, kc, nc, panel.get());
      const bool accumulate = k0 > 0;
      float* y = a.y + j;
      int64_t i = 0;
      for (; i + kMR <= a.m; i += kMR) {
        GemmTile<kMR>(panel.get(), kc, a.x + i * a.k + k0, a.k, y + i * a.n,
                      a.n, valid, accumulate);
      }
      for (; i < a.m; ++i) {
        GemmTile<1>(panel.get(), kc, a.x + i * a.k + k0, a.k, y + i * a.n,
                    a.n, valid, accumulate);
      }
    }
  }
}

template <DType kW>
void Run(ThreadPool& pool, const internal::MatMulArgs& a) {
  constexpr int64_t nc = kNV * static_cast<int64_t>(HWY_LANES(float));
  const bool gemv = a.m <= kGemvMaxM;
  internal::ForChunks(pool, a.n, std::max<int64_t>(16, nc),
                      [&](int64_t j0, int64_t j1, int) {
                        if (gemv) {
                          GemvRange<kW>(a, j0, j1);
                        } else {
                          GemmRange<kW>(a, j0, j1);
                        }
                      });
}

}  // namespace

void MatMulFloatImpl(ThreadPool& pool, const internal::MatMulArgs& a) {
  switch (a.dtype) {
    case DType::kF32: return Run<DType::kF32>(pool, a);
    case DType::kF16: return Run<DType::kF16>(pool, a);
    case DType::kBF16: return Run<DType::kBF16>(pool, a);
    default: return;
  }
}

}  // namespace silica::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace silica::cpu::internal {
HWY_EXPORT(MatMulFloatImpl);

void MatMulFloatWeights(ThreadPool& pool, const MatMulArgs& a) {
  HWY_DYNAMIC_DISPATCH(MatMulFloatImpl)(pool, a);
}
}  // namespace silica::cpu::internal
#endif  // HWY_ONCE
