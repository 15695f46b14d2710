// Int8 matmul engine for block-quantized weights, shared by the per-format
// kernel files (matmul_q32.cc, matmul_qk.cc, matmul_mlx.cc). Longer than the
// usual file limit because it is one SIMD unit compiled per target: the
// activation quantizer, the int8 dot primitive, the row transposer, the
// decode-time GEMV and the prefill GEMM belong together.
//
// The idea. Every supported format is, per group of G = 32 (Q6_K: 16)
// elements, w = s * (u - z) + c with u an unsigned integer code (4..8 bits),
// z a format constant and s, c per-group f32 (c = 0 for the symmetric
// formats). x is quantized per 32 elements to int8 with step dx (QuantizeAct),
// so one group contributes
//     s * dx * (sum u*q - z * sum q) + c * dx * sum q
// where sum u*q is an exact int32 dot product (VNNI vpdpbusd: u8 x s8).
//
// The layout. A vector of N int32 lanes holds N *output features* (weight
// rows j..j+N-1); "slot" t of a group is 4 consecutive codes, so the dword
// in lane r is 4 codes of row j+r. Broadcasting the matching 4 int8 of x to
// every lane, one vpdpbusd advances N dot products by 4 elements, and after
// G/4 slots each lane holds its row's group dot product: no horizontal sums,
// and the per-group scales are plain vectors over rows. A format decoder
// (Dec) builds these slot vectors straight from the checkpoint bytes by
// loading 16 bytes of each of N rows and transposing 4x4 dwords (LoadT4).
//
// Decode (m <= kGemvMaxM): each tile of N rows is decoded once and used for
// all m rows of x at once; the weights stream from memory exactly once.
// Prefill (larger m): the decoded slot vectors of NV tiles are stored in a
// panel (up to kKcElems of k) and an MR x NV register-tile kernel runs over
// all rows of x against it, so decoding costs O(n k) while the dot products
// cost O(m n k).
//
// Targets. HWY_AVX3_DL (AVX-512 + VNNI): vpdpbusd. Other x86 targets:
// vpmaddubsw + vpmaddwd (exact: codes <= 7 bits cannot saturate, 8-bit codes
// are split). Other fixed-width targets (NEON, EMU128): an exact i16
// emulation. Targets without fixed 128-bit blocks (HWY_SCALAR, SVE, RVV) take
// the fallback: scalar dequantization and f32 dot products.

// Per-target include guard (Highway convention).
#if defined(SILICA_KERNELS_CPU_MATMUL_INT8_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SILICA_KERNELS_CPU_MATMUL_INT8_INL_H_
#undef SILICA_KERNELS_CPU_MATMUL_INT8_INL_H_
#else
#define SILICA_KERNELS_CPU_MATMUL_INT8_INL_H_
#endif

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "hwy/aligned_allocator.h"
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "kernels/cpu/matmul_internal.h"

HWY_BEFORE_NAMESPACE();
// Highway 1.0.3's AVX3_DL target string omits avx512vnni although its
// runtime check requires VNNI (kGroupAVX3_DL); add it for this target only.
#if HWY_TARGET == HWY_AVX3_DL
#pragma GCC target("avx512vnni")
#endif
namespace silica::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#undef SILICA_MM_INT8
#if HWY_TARGET == HWY_SCALAR || HWY_HAVE_SCALABLE
#define SILICA_MM_INT8 0
#else
#define SILICA_MM_INT8 1
#endif

// ---------------------------------------------------------------------------
// Quantized activations: per row, int8 codes (k bytes, in the element order
// the format's slots use), and per group of G: the step dx and the
// correction term (symmetric formats: -z * sum q as int32, added to the
// integer accumulator; asymmetric: dx * sum q as f32, multiplied by c).
struct ActQ {
  int64_t k = 0;
  int64_t groups = 0;  // per row
  std::vector<int8_t> q;
  std::vector<float> dx;
  std::vector<int32_t> corr_i;
  std::vector<float> corr_f;

  const int8_t* Q(int64_t i) const { return q.data() + i * k; }
  const float* Dx(int64_t i) const { return dx.data() + i * groups; }
  const int32_t* CorrI(int64_t i) const { return corr_i.data() + i * groups; }
  const float* CorrF(int64_t i) const { return corr_f.data() + i * groups; }
};

struct ActQSpec {
  int group = 32;  // 16 or 32
  int zero = 0;
  bool asym = false;
  bool perm8 = false;  // within each 8 elements: 0,2,4,6,1,3,5,7 (MLX 4-bit)
};

// Quantizes rows [r0, r1) of x. The step is amax/127 and codes are
// round-to-nearest-even of x * (1/step): the same f32 operations as
// QuantizeActRowForTest in matmul_test.cc, so tests can model it exactly.
HWY_NOINLINE inline void QuantizeActRows(const float* x, int64_t k, int64_t r0,
                                  int64_t r1, const ActQSpec& spec, ActQ& a) {
  const hn::CappedTag<float, 16> df;
  const hn::RebindToSigned<decltype(df)> di;
  const hn::Rebind<int8_t, decltype(df)> d8;
  const size_t nf = hn::Lanes(df);
  const int G = spec.group;
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * k;
    int8_t* qr = a.q.data() + r * k;
    float* dxr = a.dx.data() + r * a.groups;
    for (int64_t b = 0; b < k / 32; ++b) {
      const float* xb = xr + 32 * b;
      auto amax = hn::Zero(df);
      for (size_t i = 0; i < 32; i += nf) {
        amax = hn::Max(amax, hn::Abs(hn::LoadU(df, xb + i)));
      }
      const float am = hn::GetLane(hn::MaxOfLanes(df, amax));
      const float d = am / 127.0f;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      const auto vid = hn::Set(df, id);
      alignas(64) int8_t tmp[32];
      for (size_t i = 0; i < 32; i += nf) {
        const auto qi = hn::NearestInt(hn::Mul(hn::LoadU(df, xb + i), vid));
        hn::StoreU(hn::DemoteTo(d8, qi), d8, tmp + i);
      }
      int8_t* qb = qr + 32 * b;
      if (spec.perm8) {
        for (int o = 0; o < 32; o += 8) {
          for (int e = 0; e < 4; ++e) {
            qb[o + e] = tmp[o + 2 * e];
            qb[o + 4 + e] = tmp[o + 2 * e + 1];
          }
        }
      } else {
        std::memcpy(qb, tmp, 32);
      }
      for (int s = 0; s < 32 / G; ++s) {
        int32_t sum = 0;
        for (int e = 0; e < G; ++e) sum += tmp[s * G + e];
        const int64_t g = b * (32 / G) + s;
        dxr[g] = d;
        if (spec.asym) {
          a.corr_f[r * a.groups + g] = d * static_cast<float>(sum);
        } else {
          a.corr_i[r * a.groups + g] = -spec.zero * sum;
        }
      }
    }
  }
  (void)di;
}

// Quantizes all of x once, before the split over n. Only large batches are
// worth a parallel region (a pool wake-up costs more than one row).
inline void QuantizeAct(ThreadPool& pool, const float* x, int64_t m, int64_t k,
                        const ActQSpec& spec, ActQ& a) {
  a.k = k;
  a.groups = k / spec.group;
  a.q.resize(static_cast<size_t>(m * k));
  a.dx.resize(static_cast<size_t>(m * a.groups));
  if (spec.asym) {
    a.corr_f.resize(static_cast<size_t>(m * a.groups));
  } else {
    a.corr_i.resize(static_cast<size_t>(m * a.groups));
  }
  if (m * k < (int64_t{1} << 16) || pool.num_threads() == 1) {
    QuantizeActRows(x, k, 0, m, spec, a);
    return;
  }
  pool.ParallelFor(m, [&](int64_t r0, int64_t r1, int) {
    QuantizeActRows(x, k, r0, r1, spec, a);
  });
}

#if SILICA_MM_INT8

using DI = hn::ScalableTag<int32_t>;
using DU = hn::RebindToUnsigned<DI>;
using DF = hn::RebindToFloat<DI>;
using VI = hn::Vec<DI>;
using VU = hn::Vec<DU>;
using VF = hn::Vec<DF>;
constexpr int kN = static_cast<int>(HWY_LANES(int32_t));  // rows per tile

// Register tile of the prefill kernel (rows of x x vectors of N columns)
// and the decode/prefill switch. 32 vector registers on AVX-512 hold
// 6 x 2 int32 + 6 x 2 f32 accumulators; 16 on AVX2/NEON hold 4 x 1 + 4 x 1.
constexpr int kNV = kN >= 16 ? 2 : 1;
constexpr int kMR = kN >= 16 ? 6 : 4;
// Decode style up to here; beyond, the packed-panel GEMM is faster even at
// m = 5 (its register tile does 12 vpdpbusd per 8 loads).
constexpr int kGemvMaxM = 4;
// k covered by one packed panel: 128 KiB of slot vectors on AVX-512,
// resident in L2 while every row of x streams past it.
constexpr int64_t kKcElems = 4096;
// Software prefetch distance along each weight row (see GemvTile).
constexpr size_t kPrefetchBytes = 2048;

// acc + (per int32 lane) sum over its 4 bytes of u8(codes) * s8(x), exact.
template <int kCodeBits>
HWY_INLINE VI DotQuad(VI acc, VU codes, VI x) {
#if HWY_TARGET == HWY_AVX3_DL
  return VI{_mm512_dpbusd_epi32(acc.raw, codes.raw, x.raw)};
#elif HWY_ARCH_X86
  // vpmaddubsw saturates pair sums to int16: with codes <= 127 and
  // |x| <= 127 a pair is at most 2*127*127 < 32767; 8-bit codes are split
  // into their low 7 bits and their top bit (pairs <= 2*128*127).
  auto madd = [&](VU u) {
#if HWY_TARGET == HWY_AVX3
    const __m512i p = _mm512_maddubs_epi16(u.raw, x.raw);
    return VI{_mm512_madd_epi16(p, _mm512_set1_epi16(1))};
#elif HWY_TARGET == HWY_AVX2
    const __m256i p = _mm256_maddubs_epi16(u.raw, x.raw);
    return VI{_mm256_madd_epi16(p, _mm256_set1_epi16(1))};
#else
    const __m128i p = _mm_maddubs_epi16(u.raw, x.raw);
    return VI{_mm_madd_epi16(p, _mm_set1_epi16(1))};
#endif
  };
  if constexpr (kCodeBits <= 7) {
    return hn::Add(acc, madd(codes));
  } else {
    const DU du;
    const VU lo = hn::And(codes, hn::Set(du, 0x7f7f7f7fu));
    const VU hi = hn::And(codes, hn::Set(du, 0x80808080u));
    return hn::Add(acc, hn::Add(madd(lo), madd(hi)));
  }
#else
  // Exact i16 emulation: even and odd bytes separately, so every product
  // (<= 255 * 127) fits an int16, then pairs of int16 widened to int32.
  const DI di;
  const hn::Repartition<int16_t, DI> d16;
  const hn::Repartition<uint16_t, DI> du16;
  const auto c16 = hn::BitCast(du16, codes);
  const auto c_even = hn::BitCast(d16, hn::And(c16, hn::Set(du16, 0x00ff)));
  const auto c_odd = hn::BitCast(d16, hn::ShiftRight<8>(c16));
  const auto x16 = hn::BitCast(d16, x);
  const auto x_even = hn::ShiftRight<8>(hn::ShiftLeft<8>(x16));
  const auto x_odd = hn::ShiftRight<8>(x16);
  const VI pe = hn::BitCast(di, hn::Mul(c_even, x_even));
  const VI po = hn::BitCast(di, hn::Mul(c_odd, x_odd));
  const VI s_lo = hn::Add(hn::ShiftRight<16>(hn::ShiftLeft<16>(pe)),
                          hn::ShiftRight<16>(hn::ShiftLeft<16>(po)));
  const VI s_hi = hn::Add(hn::ShiftRight<16>(pe), hn::ShiftRight<16>(po));
  return hn::Add(acc, hn::Add(s_lo, s_hi));
#endif
}

// Vector of D whose 128-bit block q holds the 16 bytes at
// tile.Lane(r + step * q) + off.
template <class D, class TileT>
HWY_INLINE hn::Vec<D> LoadRowBlocks(D d, const TileT& tile, int r, int step,
                                    size_t off) {
  if constexpr (hn::MaxLanes(D()) * sizeof(hn::TFromD<D>) <= 16) {
    return hn::LoadU(d, reinterpret_cast<const hn::TFromD<D>*>(tile.Lane(r) + off));
  } else {
    const hn::Half<D> dh;
    constexpr int kHalfBlocks =
        static_cast<int>(hn::MaxLanes(D()) * sizeof(hn::TFromD<D>) / 32);
    return hn::Combine(d, LoadRowBlocks(dh, tile, r + step * kHalfBlocks, step, off),
                       LoadRowBlocks(dh, tile, r, step, off));
  }
}

// out[t] lane l = little-endian dword t (t < 4) of the 16 bytes at
// tile.Lane(l) + off: a 4x4 dword transpose inside every 128-bit block,
// whose block q holds lanes 4q..4q+3.
template <class TileT>
HWY_INLINE void LoadT4(const TileT& tile, size_t off, VU* out) {
  const DU du;
  const hn::Repartition<uint64_t, DU> d64;
  const VU z0 = LoadRowBlocks(du, tile, 0, 4, off);
  const VU z1 = LoadRowBlocks(du, tile, 1, 4, off);
  const VU z2 = LoadRowBlocks(du, tile, 2, 4, off);
  const VU z3 = LoadRowBlocks(du, tile, 3, 4, off);
  const auto a = hn::BitCast(d64, hn::InterleaveLower(du, z0, z1));
  const auto b = hn::BitCast(d64, hn::InterleaveUpper(du, z0, z1));
  const auto c = hn::BitCast(d64, hn::InterleaveLower(du, z2, z3));
  const auto e = hn::BitCast(d64, hn::InterleaveUpper(du, z2, z3));
  out[0] = hn::BitCast(du, hn::InterleaveLower(d64, a, c));
  out[1] = hn::BitCast(du, hn::InterleaveUpper(d64, a, c));
  out[2] = hn::BitCast(du, hn::InterleaveLower(d64, b, e));
  out[3] = hn::BitCast(du, hn::InterleaveUpper(d64, b, e));
}

// Lane l = the little-endian dword at tile.Lane(l) + off: the first output
// of LoadT4, for the f16 scale fields. (A hardware gather costs ~25 cycles
// here; 16 loads, 12 inserts and 3 unpacks cost far less.) The 16 bytes
// from there must lie inside the tensor.
template <class TileT>
HWY_INLINE VU LoadT1(const TileT& tile, size_t off) {
  const DU du;
  const hn::Repartition<uint64_t, DU> d64;
  const VU z0 = LoadRowBlocks(du, tile, 0, 4, off);
  const VU z1 = LoadRowBlocks(du, tile, 1, 4, off);
  const VU z2 = LoadRowBlocks(du, tile, 2, 4, off);
  const VU z3 = LoadRowBlocks(du, tile, 3, 4, off);
  const auto a = hn::BitCast(d64, hn::InterleaveLower(du, z0, z1));
  const auto c = hn::BitCast(d64, hn::InterleaveLower(du, z2, z3));
  return hn::BitCast(du, hn::InterleaveLower(d64, a, c));
}

// IEEE binary16 in the low 16 bits of each lane -> f32.
HWY_INLINE VF F16LowToF32(VU bits) {
  const DU du;
  const DI di;
  const DF df;
  const hn::Rebind<uint16_t, DI> du16;
  const hn::Rebind<hwy::float16_t, DI> df16;
  const auto h = hn::DemoteTo(du16, hn::BitCast(di, hn::And(bits, hn::Set(du, 0xffffu))));
  return hn::PromoteTo(df, hn::BitCast(df16, h));
}

// The lanes of one step: lane l covers block (step * B + l % B) of weight
// row j0 + l / B (B blocks of each of R = N / B rows). B = 1 is the
// prefill panel's layout (lane = output feature). Decode uses the largest
// B that divides the row's block count, so each row is read as one
// sequential stream (the N-stream column layout reads DRAM at about half
// the speed here), and lane addresses are a row base plus a constant, so
// the loads need only R address registers. Rows past n repeat the last row
// (their lanes are computed and dropped) so no load leaves the tensor.
template <int B, size_t kBlockBytes>
struct LaneTile {
  static constexpr int kB = B;
  static constexpr int kR = kN / B;
  const uint8_t* row[kR];  // block 0 of each row
  int64_t lane_row[kN];
  int lane_blk[kN];
  int64_t j0 = 0;
  int valid = 0;  // rows j0.. that are written

  // Rows [j, min(jend, n)) are written.
  void Init(const internal::MatMulArgs& a, int64_t j, int64_t jend) {
    j0 = j;
    valid = static_cast<int>(std::min<int64_t>(kR, std::min(jend, a.n) - j));
    for (int r = 0; r < kR; ++r) {
      row[r] = a.w + std::min<int64_t>(j + r, a.n - 1) * a.w_row_bytes;
    }
    for (int l = 0; l < kN; ++l) {
      lane_row[l] = std::min<int64_t>(j + l / B, a.n - 1);
      lane_blk[l] = l % B;
    }
  }
  HWY_INLINE const uint8_t* Lane(int l) const {
    return row[l / B] + static_cast<size_t>(l % B) * kBlockBytes;
  }
  HWY_INLINE void LoadT4(size_t off, VU* out) const {
    HWY_NAMESPACE::LoadT4(*this, off, out);
  }
  HWY_INLINE VU Gather(size_t off) const { return LoadT1(*this, off); }
};

// Stores the N lanes of v (columns j0..) to y, only the valid ones.
HWY_INLINE void StoreCols(VF v, float* y, int valid) {
  const DF df;
  if (valid == kN) {
    hn::StoreU(v, df, y);
  } else {
    alignas(64) float tmp[kN];
    hn::Store(v, df, tmp);
    std::memcpy(y, tmp, static_cast<size_t>(valid) * sizeof(float));
  }
}

HWY_INLINE int32_t LoadI32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// x re-laid for a decode tile of B blocks per row: for every step, group
// within the block and slot, the B dwords of x the B block columns need
// (a vector is R copies of them), and per step and group the B steps dx
// and corrections.
// Vector-aligned: a 64-byte load that straddles two cache lines costs two.
template <typename T>
struct AlignedArray {
  hwy::AlignedFreeUniquePtr<T[]> p;
  void resize(size_t n) { p = hwy::AllocateAligned<T>(std::max<size_t>(n, 1)); }
  T* data() { return p.get(); }
  const T* data() const { return p.get(); }
  T& operator[](size_t i) { return p[i]; }
};

struct GemvX {
  int B = 1;
  int64_t steps = 0;
  int64_t q_per_row = 0, g_per_row = 0;  // multiples of B
  AlignedArray<int32_t> q;
  AlignedArray<float> dx;
  AlignedArray<int32_t> corr_i;
  AlignedArray<float> corr_f;
};

template <class Dec>
void BuildGemvX(const ActQ& a, int64_t m, int64_t k, int B, GemvX& gx) {
  constexpr int kGpb = Dec::kGroupsPerBlock;
  constexpr int kSlots = Dec::kG / 4;
  gx.B = B;
  gx.steps = k / Dec::kBlockElems / B;
  gx.q_per_row = gx.steps * kGpb * kSlots * B;
  gx.g_per_row = gx.steps * kGpb * B;
  gx.q.resize(static_cast<size_t>(m * gx.q_per_row));
  gx.dx.resize(static_cast<size_t>(m * gx.g_per_row));
  if constexpr (Dec::kAsym) {
    gx.corr_f.resize(static_cast<size_t>(m * gx.g_per_row));
  } else {
    gx.corr_i.resize(static_cast<size_t>(m * gx.g_per_row));
  }
  for (int64_t i = 0; i < m; ++i) {
    int32_t* q = gx.q.data() + i * gx.q_per_row;
    const int64_t go = i * gx.g_per_row;
    for (int64_t s = 0; s < gx.steps; ++s) {
      for (int gi = 0; gi < kGpb; ++gi) {
        for (int bb = 0; bb < B; ++bb) {
          const int64_t g = (s * B + bb) * kGpb + gi;
          const int64_t o = (s * kGpb + gi) * B + bb;
          gx.dx[go + o] = a.Dx(i)[g];
          if constexpr (Dec::kAsym) {
            gx.corr_f[go + o] = a.CorrF(i)[g];
          } else {
            gx.corr_i[go + o] = a.CorrI(i)[g];
          }
          for (int t = 0; t < kSlots; ++t) {
            std::memcpy(&q[((s * kGpb + gi) * kSlots + t) * B + bb],
                        a.Q(i) + g * Dec::kG + 4 * t, 4);
          }
        }
      }
    }
  }
}

// A vector of R copies of the B lanes at p.
template <int B, class D>
HWY_INLINE hn::Vec<D> LoadRepeated(D d, const hn::TFromD<D>* p) {
  if constexpr (B == static_cast<int>(HWY_LANES(int32_t))) {
    return hn::LoadU(d, p);
  } else if constexpr (B == 4) {
    return hn::LoadDup128(d, p);
  } else if constexpr (B == 2) {
    const hn::Repartition<uint64_t, D> d64;
    uint64_t v;
    std::memcpy(&v, p, 8);
    return hn::BitCast(d, hn::Set(d64, v));
  } else {
    static_assert(B == 1);
    return hn::Set(d, *p);
  }
}

// Decode: R rows x B blocks per step against M (<= kGemvMaxM) rows of x.
template <class Dec, int M, int B>
HWY_NOINLINE void GemvTile(const internal::MatMulArgs& args,
                           const typename Dec::TileT& tile,
                           float* scratch, const GemvX& x, int64_t i0) {
  const DI di;
  const DF df;
  constexpr int kGpb = Dec::kGroupsPerBlock;
  constexpr int kSlots = Dec::kG / 4;
  constexpr int R = kN / B;
  Dec dec(args, tile, scratch);
  VF acc[M];
  for (int i = 0; i < M; ++i) acc[i] = hn::Zero(df);
  const size_t step_bytes = Dec::kBlockBytes * B;
  size_t next_prefetch = 0;
  for (int64_t s = 0; s < x.steps; ++s) {
    // Each of the R rows is a stream; keep kPrefetchBytes of each in flight
    // (one prefetch per cache line).
    const size_t end = static_cast<size_t>(s + 1) * step_bytes;
    for (; next_prefetch < end; next_prefetch += 64) {
      for (int r = 0; r < R; ++r) {
        hwy::Prefetch(tile.row[r] + next_prefetch + kPrefetchBytes);
      }
    }
    dec.Load(s * B);
    HWY_UNROLL(1)
    for (int gj = 0; gj < kGpb; ++gj) {
      const int gi = Dec::GroupOrder(gj);
      dec.Group(gi);
      const int64_t go = (s * kGpb + gi) * B;
      const int32_t* xq[M];
      // Two accumulators per row (even and odd slots): a chain of G/4
      // dependent vpdpbusd would bound the loop by their latency.
      VI ai[M], aj[M];
      for (int i = 0; i < M; ++i) {
        xq[i] = x.q.data() + (i0 + i) * x.q_per_row + go * kSlots;
        ai[i] = Dec::kAsym
                    ? hn::Zero(di)
                    : LoadRepeated<B>(di, x.corr_i.data() + (i0 + i) * x.g_per_row + go);
        aj[i] = hn::Zero(di);
      }
      for (int t = 0; t < kSlots; t += 2) {
        const VU c0 = dec.Codes(gi, t);
        const VU c1 = dec.Codes(gi, t + 1);
        for (int i = 0; i < M; ++i) {
          ai[i] = DotQuad<Dec::kCodeBits>(ai[i], c0, LoadRepeated<B>(di, xq[i] + t * B));
          aj[i] = DotQuad<Dec::kCodeBits>(aj[i], c1,
                                          LoadRepeated<B>(di, xq[i] + (t + 1) * B));
        }
      }
      for (int i = 0; i < M; ++i) ai[i] = hn::Add(ai[i], aj[i]);
      const VF sc = dec.Scale(gi);
      for (int i = 0; i < M; ++i) {
        const VF d = LoadRepeated<B>(df, x.dx.data() + (i0 + i) * x.g_per_row + go);
        acc[i] = hn::MulAdd(hn::ConvertTo(df, ai[i]), hn::Mul(sc, d), acc[i]);
      }
      if constexpr (Dec::kAsym) {
        const VF c = dec.Bias(gi);
        for (int i = 0; i < M; ++i) {
          const VF cf =
              LoadRepeated<B>(df, x.corr_f.data() + (i0 + i) * x.g_per_row + go);
          acc[i] = hn::MulAdd(c, cf, acc[i]);
        }
      }
    }
  }
  for (int i = 0; i < M; ++i) {
    float* y = args.y + (i0 + i) * args.n + tile.j0;
    if constexpr (B == 1) {
      StoreCols(acc[i], y, tile.valid);
    } else if constexpr (R == 1) {
      y[0] = hn::GetLane(hn::SumOfLanes(df, acc[i]));
    } else {
      alignas(64) float tmp[kN];
      hn::Store(acc[i], df, tmp);
      for (int r = 0; r < tile.valid; ++r) {
        float sum = 0;
        for (int bb = 0; bb < B; ++bb) sum += tmp[r * B + bb];
        y[r] = sum;
      }
    }
  }
}

template <template <int> class Dec, int B>
void GemvRangeB(const internal::MatMulArgs& args, const GemvX& x, int64_t j0,
                int64_t j1, float* scratch) {
  using D = Dec<B>;
  constexpr int R = kN / B;
  typename D::TileT tile;

  for (int64_t j = j0; j < j1; j += R) {
    tile.Init(args, j, j1);
    // Up to 4 rows of x per pass; a second pass re-reads the tile's rows
    // from cache, not DRAM.
    for (int64_t i = 0; i < args.m;) {
      const int64_t rest = args.m - i;
      if (rest >= 4) {
        GemvTile<D, 4, B>(args, tile, scratch, x, i);
        i += 4;
      } else if (rest >= 2) {
        GemvTile<D, 2, B>(args, tile, scratch, x, i);
        i += 2;
      } else {
        GemvTile<D, 1, B>(args, tile, scratch, x, i);
        i += 1;
      }
    }
  }
}

// Blocks per lane row for decode: the largest of N, 4, 2, 1 that divides the
// row's block count.
template <template <int> class Dec>
int GemvBlocksPerRow(int64_t k) {
  const int64_t nb = k / Dec<1>::kBlockElems;
  if (nb % kN == 0) return kN;
  if (kN > 4 && nb % 4 == 0) return 4;
  if (kN > 2 && nb % 2 == 0) return 2;
  return 1;
}

template <template <int> class Dec>
void GemvRange(const internal::MatMulArgs& args, const GemvX& x, int64_t j0,
               int64_t j1, float* scratch) {
  if (x.B == kN) return GemvRangeB<Dec, kN>(args, x, j0, j1, scratch);
  if constexpr (kN > 4) {
    if (x.B == 4) return GemvRangeB<Dec, 4>(args, x, j0, j1, scratch);
  }
  if constexpr (kN > 2) {
    if (x.B == 2) return GemvRangeB<Dec, 2>(args, x, j0, j1, scratch);
  }
  GemvRangeB<Dec, 1>(args, x, j0, j1, scratch);
}

// Prefill panel: for each group g of the chunk, G/4 slots x NV vectors of
// codes, then NV scale vectors and NV bias vectors.
template <int kG>
struct PanelLayout {
  static constexpr int64_t kCodeVecs = kG / 4 * kNV;
  static constexpr int64_t kGroupU32 = (kCodeVecs + 2 * kNV) * kN;
};

// Prefetches (to L2) bytes [off, off + len) of rows [j, min(j + NV*N, jend))
// in `parts` roughly equal portions.
class NextPanelPrefetch {
 public:
  NextPanelPrefetch(const internal::MatMulArgs& a, int64_t j, int64_t jend,
                    size_t off, size_t len, int64_t parts)
      : a_(a), off_(off), lines_per_row_((len + 63) / 64) {
    const int64_t rows = std::max<int64_t>(
        0, std::min<int64_t>(kNV * kN, std::min(jend, a.n) - j));
    row0_ = j;
    total_ = rows * static_cast<int64_t>(lines_per_row_);
    per_part_ = (total_ + parts - 1) / std::max<int64_t>(1, parts);
  }
  void Some() { Issue(per_part_); }
  void Rest() { Issue(total_); }

 private:
  void Issue(int64_t count) {
    for (; count > 0 && next_ < total_; --count, ++next_) {
      const int64_t r = next_ / static_cast<int64_t>(lines_per_row_);
      const size_t line = static_cast<size_t>(next_ % lines_per_row_);
      __builtin_prefetch(a_.w + (row0_ + r) * a_.w_row_bytes + off_ + 64 * line,
                         0, 2);
    }
  }
  const internal::MatMulArgs& a_;
  size_t off_;
  size_t lines_per_row_;
  int64_t row0_ = 0, total_ = 0, per_part_ = 0, next_ = 0;
};

template <class Dec>
HWY_NOINLINE void PackPanel(const internal::MatMulArgs& args,
                            const typename Dec::TileT* tiles,
                            float* const* scratch, int64_t b0, int64_t b1,
                            uint32_t* panel, NextPanelPrefetch& pf) {
  const DU du;
  const DF df;
  using L = PanelLayout<Dec::kG>;
  for (int v = 0; v < kNV; ++v) {
    Dec dec(args, tiles[v], scratch[v]);
    uint32_t* out = panel;
    for (int64_t b = b0; b < b1; ++b) {
      pf.Some();
      dec.Load(b);
      for (int gj = 0; gj < Dec::kGroupsPerBlock; ++gj) {
        const int gi = Dec::GroupOrder(gj);
        dec.Group(gi);
        uint32_t* o = out + gi * L::kGroupU32;
        for (int t = 0; t < Dec::kG / 4; ++t) {
          hn::Store(dec.Codes(gi, t), du, o + (t * kNV + v) * kN);
        }
        float* f = reinterpret_cast<float*>(o + L::kCodeVecs * kN);
        hn::Store(dec.Scale(gi), df, f + v * kN);
        if constexpr (Dec::kAsym) {
          hn::Store(dec.Bias(gi), df, f + (kNV + v) * kN);
        }
      }
      out += Dec::kGroupsPerBlock * L::kGroupU32;
    }
  }
}

// Prefill register tile: MR rows of x (from i0) x NV*N columns, over the
// groups [g0, g0 + ng) of one packed panel. accumulate: add to y.
template <int kG, int kCodeBits, bool kAsym, int MR>
HWY_NOINLINE void GemmTile(const uint32_t* panel, int64_t g0, int64_t ng,
                           const ActQ& a, int64_t i0, float* y, int64_t ldy,
                           int valid, bool accumulate) {
  const DI di;
  const DF df;
  const DU du;
  using L = PanelLayout<kG>;
  VF acc[MR][kNV];
  for (int i = 0; i < MR; ++i) {
    for (int v = 0; v < kNV; ++v) acc[i][v] = hn::Zero(df);
  }
  const int8_t* xq[MR];
  const float* dx[MR];
  const int32_t* ci[MR];
  const float* cf[MR];
  for (int i = 0; i < MR; ++i) {
    xq[i] = a.Q(i0 + i) + g0 * kG;
    dx[i] = a.Dx(i0 + i) + g0;
    if constexpr (kAsym) {
      cf[i] = a.CorrF(i0 + i) + g0;
    } else {
      ci[i] = a.CorrI(i0 + i) + g0;
    }
  }
  const uint32_t* p = panel;
  for (int64_t g = 0; g < ng; ++g, p += L::kGroupU32) {
    VI ai[MR][kNV];
    for (int i = 0; i < MR; ++i) {
      const VI init = kAsym ? hn::Zero(di) : hn::Set(di, ci[i][g]);
      for (int v = 0; v < kNV; ++v) ai[i][v] = init;
    }
    for (int t = 0; t < kG / 4; ++t) {
      VU w[kNV];
      for (int v = 0; v < kNV; ++v) w[v] = hn::Load(du, p + (t * kNV + v) * kN);
      for (int i = 0; i < MR; ++i) {
        const VI xb = hn::Set(di, LoadI32(xq[i] + g * kG + 4 * t));
        for (int v = 0; v < kNV; ++v) {
          ai[i][v] = DotQuad<kCodeBits>(ai[i][v], w[v], xb);
        }
      }
    }
    const float* f = reinterpret_cast<const float*>(p + L::kCodeVecs * kN);
    VF s[kNV];
    for (int v = 0; v < kNV; ++v) s[v] = hn::Load(df, f + v * kN);
    for (int i = 0; i < MR; ++i) {
      const VF d = hn::Set(df, dx[i][g]);
      for (int v = 0; v < kNV; ++v) {
        acc[i][v] = hn::MulAdd(hn::ConvertTo(df, ai[i][v]), hn::Mul(s[v], d),
                               acc[i][v]);
      }
    }
    if constexpr (kAsym) {
      VF c[kNV];
      for (int v = 0; v < kNV; ++v) c[v] = hn::Load(df, f + (kNV + v) * kN);
      for (int i = 0; i < MR; ++i) {
        const VF d = hn::Set(df, cf[i][g]);
        for (int v = 0; v < kNV; ++v) acc[i][v] = hn::MulAdd(c[v], d, acc[i][v]);
      }
    }
  }
  for (int i = 0; i < MR; ++i) {
    float* yr = y + (i0 + i) * ldy;
    for (int v = 0; v < kNV; ++v) {
      const int cols = std::clamp(valid - v * kN, 0, kN);
      if (cols == 0) continue;
      VF r = acc[i][v];
      if (accumulate) {
        alignas(64) float tmp[kN] = {};
        std::memcpy(tmp, yr + v * kN, static_cast<size_t>(cols) * sizeof(float));
        r = hn::Add(r, hn::Load(df, tmp));
      }
      StoreCols(r, yr + v * kN, cols);
    }
  }
}

// u32 words of one packed panel (up to kKcElems of k).
template <class Dec>
int64_t PanelWords(int64_t k) {
  constexpr int64_t kBlocksPerChunk =
      std::max<int64_t>(1, kKcElems / Dec::kBlockElems);
  return std::min<int64_t>(kBlocksPerChunk, k / Dec::kBlockElems) *
         Dec::kGroupsPerBlock * PanelLayout<Dec::kG>::kGroupU32;
}

template <template <int> class DecB>
void GemmRange(const internal::MatMulArgs& args, const ActQ& a, int64_t j0,
               int64_t j1, float* const* scratch, uint32_t* panel) {
  using Dec = DecB<1>;
  using L = PanelLayout<Dec::kG>;
  constexpr int kBlocksPerChunk =
      std::max<int>(1, static_cast<int>(kKcElems / Dec::kBlockElems));
  const int64_t nblocks = args.k / Dec::kBlockElems;
  typename Dec::TileT tiles[kNV];
  {  // The first two panels (the loop prefetches two ahead).
    const size_t len = std::min<int64_t>(kBlocksPerChunk, nblocks) * Dec::kBlockBytes;
    NextPanelPrefetch(args, j0, j1, 0, len, 1).Rest();
    NextPanelPrefetch(args, j0 + kNV * kN, j1, 0, len, 1).Rest();
  }
  for (int64_t j = j0; j < j1; j += kNV * kN) {
    const int valid = static_cast<int>(std::min<int64_t>(kNV * kN, args.n - j));
    for (int v = 0; v < kNV; ++v) {
      tiles[v].Init(args, std::min<int64_t>(j + v * kN, args.n - 1), args.n);
    }
    for (int64_t b0 = 0; b0 < nblocks; b0 += kBlocksPerChunk) {
      const int64_t b1 = std::min<int64_t>(nblocks, b0 + kBlocksPerChunk);
      // While this panel is packed and its products run, bring the weight
      // bytes of the panel after next (same k range, rows j + 2 NV N ..)
      // into L2, spread over the pack steps and row tiles. Those rows are
      // contiguous ranges read front to back, where PackPanel's own N-row
      // lockstep reads would run at a fraction of DRAM speed.
      NextPanelPrefetch pf(args, j + 2 * kNV * kN, j1, b0 * Dec::kBlockBytes,
                           (b1 - b0) * Dec::kBlockBytes,
                           kNV * (b1 - b0) + (args.m + kMR - 1) / kMR);
      PackPanel<Dec>(args, tiles, scratch, b0, b1, panel, pf);
      const int64_t g0 = b0 * Dec::kGroupsPerBlock;
      const int64_t ng = (b1 - b0) * Dec::kGroupsPerBlock;
      float* y = args.y + j;
      int64_t i = 0;
      for (; i + kMR <= args.m; i += kMR) {
        pf.Some();
        GemmTile<Dec::kG, Dec::kCodeBits, Dec::kAsym, kMR>(
            panel, g0, ng, a, i, y, args.n, valid, b0 > 0);
      }
      pf.Rest();
      // Leftover rows in tiles of 4, 2, 1 (fewer kernels to instantiate).
      for (; i < args.m;) {
        const int64_t rest = args.m - i;
        if (kMR > 4 && rest >= 4) {
          GemmTile<Dec::kG, Dec::kCodeBits, Dec::kAsym, 4>(
              panel, g0, ng, a, i, y, args.n, valid, b0 > 0);
          i += 4;
        } else if (rest >= 2) {
          GemmTile<Dec::kG, Dec::kCodeBits, Dec::kAsym, 2>(
              panel, g0, ng, a, i, y, args.n, valid, b0 > 0);
          i += 2;
        } else {
          GemmTile<Dec::kG, Dec::kCodeBits, Dec::kAsym, 1>(
              panel, g0, ng, a, i, y, args.n, valid, b0 > 0);
          i += 1;
        }
      }
    }
  }
}

#endif  // SILICA_MM_INT8

#if SILICA_MM_INT8
// Entry: quantize x once, then split the output features over the pool.
template <template <int> class DecB>
void QuantMatMul(ThreadPool& pool, const internal::MatMulArgs& args) {
  using Dec = DecB<1>;
  ActQSpec spec;
  spec.group = Dec::kG;
  spec.zero = Dec::kZero;
  spec.asym = Dec::kAsym;
  spec.perm8 = Dec::kPerm8;
  ActQ a;
  QuantizeAct(pool, args.x, args.m, args.k, spec, a);
  const bool gemv = args.m <= kGemvMaxM;
  GemvX gx;
  int64_t grain = kNV * kN;
  if (gemv) {
    BuildGemvX<Dec>(a, args.m, args.k, GemvBlocksPerRow<DecB>(args.k), gx);
    grain = kN / gx.B;  // rows per decode tile
    // Whole cache lines of y per thread where that still splits evenly.
    grain = std::max<int64_t>(grain, 16);
  }
  const int64_t scratch_floats = Dec::ScratchFloats(args);
  // Per thread, allocated on its first chunk: decoder scratch (vector-
  // aligned, decoders Load from it; ScratchFloats is a multiple of kN) and
  // the prefill panel.
  struct PerThread {
    hwy::AlignedFreeUniquePtr<float[]> scratch;
    hwy::AlignedFreeUniquePtr<uint32_t[]> panel;
  };
  std::vector<PerThread> per(static_cast<size_t>(pool.num_threads()));
  internal::ForChunks(pool, args.n, grain, [&](int64_t j0, int64_t j1, int t) {
    PerThread& p = per[t];
    float* per_tile[kNV] = {};
    if (scratch_floats > 0) {
      if (!p.scratch) {
        p.scratch = hwy::AllocateAligned<float>(
            static_cast<size_t>(scratch_floats * kNV));
      }
      for (int v = 0; v < kNV; ++v) {
        per_tile[v] = p.scratch.get() + v * scratch_floats;
      }
    }
    if (gemv) {
      GemvRange<DecB>(args, gx, j0, j1, per_tile[0]);
    } else {
      if (!p.panel) {
        p.panel = hwy::AllocateAligned<uint32_t>(
            static_cast<size_t>(PanelWords<Dec>(args.k)));
      }
      GemmRange<DecB>(args, a, j0, j1, per_tile, p.panel.get());
    }
  });
}
#endif  // SILICA_MM_INT8

// Targets without the int8 engine: dequantize each weight row once, f32
// dot products with every row of x.
inline void QuantMatMulFallback(ThreadPool& pool,
                                const internal::MatMulArgs& args) {
  const hn::ScalableTag<float> df;
  const int64_t nf = static_cast<int64_t>(hn::Lanes(df));
  internal::ForChunks(pool, args.n, 16, [&](int64_t j0, int64_t j1, int) {
    std::vector<float> row(static_cast<size_t>(args.k));
    for (int64_t j = j0; j < j1; ++j) {
      internal::DequantizeWeightRow(args, j, row.data());
      for (int64_t i = 0; i < args.m; ++i) {
        const float* xi = args.x + i * args.k;
        auto acc = hn::Zero(df);
        int64_t e = 0;
        for (; e + nf <= args.k; e += nf) {
          acc = hn::MulAdd(hn::LoadU(df, xi + e), hn::LoadU(df, row.data() + e),
                           acc);
        }
        float sum = hn::GetLane(hn::SumOfLanes(df, acc));
        for (; e < args.k; ++e) sum += xi[e] * row[e];
        args.y[i * args.n + j] = sum;
      }
    }
  });
}

}  // namespace silica::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
