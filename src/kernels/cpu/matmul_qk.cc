// Matmul for the K (256-element super-block) formats Q4_K, Q5_K, Q6_K: their
// decoders for the int8 engine (matmul_int8-inl.h). Scales and mins come out
// of the packed 6-bit / int8 fields as vectors over N weight rows once per
// super-block; codes are produced one group (32 elements, Q6_K: 16) at a
// time so few registers stay live. Block layouts: core/quant_blocks.h.
#define HWY_WANT_AVX3_DL  // VNNI (see matmul_int8-inl.h)
// SSSE3-only CPUs (no SSE4.1, pre-2008) take the scalar fallback; one
// target less to compile.
#define HWY_DISABLED_TARGETS HWY_SSSE3
#include <cstdint>

#include "kernels/cpu/matmul_internal.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/matmul_qk.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/cpu/matmul_int8-inl.h"

HWY_BEFORE_NAMESPACE();
#if HWY_TARGET == HWY_AVX3_DL
#pragma GCC target("avx512vnni")
#endif
namespace silica::cpu::HWY_NAMESPACE {

#if SILICA_MM_INT8
namespace {

// Byte `i` of each lane of v, masked.
HWY_INLINE VU Field(VU v, int shift, uint32_t mask) {
  return hn::And(hn::ShiftRightSame(v, shift), hn::Set(DU(), mask));
}

HWY_INLINE VF ToF32(VU v) { return hn::ConvertTo(DF(), hn::BitCast(DI(), v)); }

// Q4_K / Q5_K: d, dmin (f16), 12 bytes of packed 6-bit scales and mins for
// 8 sub-blocks of 32, [Q5_K: 32 bytes qh], 128 bytes of nibbles (32 bytes
// per pair of sub-blocks: low nibbles the even one, high the odd one).
template <bool kFive, int B>
struct DecK45 {
  static constexpr int kG = 32;
  static constexpr int kGroupsPerBlock = 8;
  static constexpr int kBlockElems = 256;
  static constexpr int kCodeBits = kFive ? 5 : 4;
  static constexpr int kZero = 0;
  static constexpr bool kAsym = true;
  static constexpr bool kPerm8 = false;
  static constexpr size_t kBlockBytes = kFive ? 176 : 144;
  static constexpr size_t kQsOff = kFive ? 48 : 16;
  using TileT = LaneTile<B, kBlockBytes>;
  static int64_t ScratchFloats(const internal::MatMulArgs&) { return 0; }

  const TileT& tile;
  size_t off = 0;
  VF scale[8], bias[8];
  VU q[8];   // the current pair of sub-blocks, slot t = dword t
  VU qh[8];  // Q5_K: dword t of qh = bytes 4t..4t+3

  DecK45(const internal::MatMulArgs&, const TileT& t, float*) : tile(t) {}
  static constexpr int GroupOrder(int gj) { return gj; }

  HWY_INLINE void Load(int64_t b) {
    off = static_cast<size_t>(b) * kBlockBytes;
    const VU dm = tile.Gather(off);
    const VF d = F16LowToF32(dm);
    const VF dmin = F16LowToF32(hn::ShiftRight<16>(dm));
    VU s[4];  // bytes 0..3, 4..7, 8..11 of scales (s[3]: unused)
    tile.LoadT4(off + 4, s);
    // Sub-block j < 4: scale = s[j] & 63, min = s[j+4] & 63. j >= 4: low 4
    // bits from s[j+4] (scale: low nibble, min: high nibble), top 2 bits
    // from the spare top bits of s[j-4] (scale) and s[j] (min).
    for (int j = 0; j < 4; ++j) {
      scale[j] = hn::Mul(d, ToF32(Field(s[0], 8 * j, 63)));
      bias[j] = hn::Neg(hn::Mul(dmin, ToF32(Field(s[1], 8 * j, 63))));
      const VU sc = hn::Or(Field(s[2], 8 * j, 0xf),
                           hn::ShiftLeft<4>(Field(s[0], 8 * j + 6, 3)));
      const VU mn = hn::Or(Field(s[2], 8 * j + 4, 0xf),
                           hn::ShiftLeft<4>(Field(s[1], 8 * j + 6, 3)));
      scale[j + 4] = hn::Mul(d, ToF32(sc));
      bias[j + 4] = hn::Neg(hn::Mul(dmin, ToF32(mn)));
    }
    if constexpr (kFive) {
      tile.LoadT4(off + 16, qh);
      tile.LoadT4(off + 32, qh + 4);
    }
  }
  HWY_INLINE void Group(int gi) {
    if (gi % 2 == 0) {
      const size_t qs = off + kQsOff + 32 * static_cast<size_t>(gi / 2);
      tile.LoadT4(qs, q);
      tile.LoadT4(qs + 16, q + 4);
    }
  }
  HWY_INLINE VU Codes(int gi, int t) const {
    const DU du;
    const VU m = hn::Set(du, 0x0f0f0f0fu);
    VU c = gi % 2 == 0 ? hn::And(q[t], m) : hn::And(hn::ShiftRight<4>(q[t]), m);
    if constexpr (kFive) {
      // Bit gi of each byte of qh is the fifth bit of sub-block gi.
      const VU hb = hn::And(hn::ShiftRightSame(qh[t], gi), hn::Set(du, 0x01010101u));
      c = hn::Or(c, hn::ShiftLeft<4>(hb));
    }
    return c;
  }
  HWY_INLINE VF Scale(int gi) const { return scale[gi]; }
  HWY_INLINE VF Bias(int gi) const { return bias[gi]; }
};

// Q6_K: ql[128], qh[64], int8 scales[16], d (f16) at 208. Groups of 16:
// group 8h + 2g + l/16 (half h, quarter g, l = 0..31) holds elements
// 128h + 32g + l; low 4 bits from ql[64h + 32(g&1) + l] (low nibble for
// g < 2), top 2 bits from bits 2g..2g+1 of qh[32h + l]; code - 32.
template <int B>
struct DecQ6_K {
  static constexpr int kG = 16;
  static constexpr int kGroupsPerBlock = 16;
  static constexpr int kBlockElems = 256;
  static constexpr int kCodeBits = 6;
  static constexpr size_t kBlockBytes = 210;
  using TileT = LaneTile<B, kBlockBytes>;
  static constexpr int kZero = 32;
  static constexpr bool kAsym = false;
  static constexpr bool kPerm8 = false;
  static int64_t ScratchFloats(const internal::MatMulArgs&) { return 0; }

  const TileT& tile;
  size_t off = 0;
  VF d;
  VU s[4];     // the 16 int8 scales, 4 per lane word
  VU lo[4];    // current group: dwords of ql
  VU hi[4];    // current group: dwords of qh
  int quarter = 0;

  DecQ6_K(const internal::MatMulArgs&, const TileT& t, float*) : tile(t) {}

  HWY_INLINE void Load(int64_t b) {
    off = static_cast<size_t>(b) * 210;
    // d is the top half of dword 3 of the 16 bytes at 194, the last 16 of
    // the block (loads never pass the block's end).
    VU tail[4];
    tile.LoadT4(off + 194, tail);
    d = F16LowToF32(hn::ShiftRight<16>(tail[3]));
    tile.LoadT4(off + 192, s);
  }
  // Groups in the order half h, l / 16, quarter 0, 2, 1, 3: the qh words of
  // a (h, l / 16) serve its 4 quarters and the ql words of quarters g and
  // g + 2 are the same bytes, so each is loaded once.
  static constexpr int GroupOrder(int gj) {
    const int h = gj / 8, l16 = (gj % 8) / 4, sel = gj % 4;
    const int g = sel == 0 ? 0 : (sel == 1 ? 2 : (sel == 2 ? 1 : 3));
    return 8 * h + 2 * g + l16;
  }
  HWY_INLINE void Group(int gg) {
    const int h = gg / 8, g = (gg % 8) / 2, l16 = gg % 2;
    quarter = g;
    if (g == 0) {  // first of its (h, l16) in GroupOrder
      tile.LoadT4(off + 128 + 32 * h + 16 * l16, hi);
    }
    if (g < 2) {  // first of the quarters sharing these ql bytes
      tile.LoadT4(off + 64 * h + 32 * (g & 1) + 16 * l16, lo);
    }
  }
  HWY_INLINE VU Codes(int, int t) const {
    const DU du;
    const VU l = hn::And(hn::ShiftRightSame(lo[t], quarter < 2 ? 0 : 4),
                         hn::Set(du, 0x0f0f0f0fu));
    const VU u = hn::And(hn::ShiftRightSame(hi[t], 2 * quarter),
                         hn::Set(du, 0x03030303u));
    return hn::Or(l, hn::ShiftLeft<4>(u));
  }
  HWY_INLINE VF Scale(int gg) const {
    const DI di;
    // Sign-extend byte gg % 4 of word gg / 4.
    const VI w = hn::BitCast(di, s[gg / 4]);
    const VI sc = hn::ShiftRight<24>(hn::ShiftLeftSame(w, 24 - 8 * (gg % 4)));
    return hn::Mul(d, hn::ConvertTo(DF(), sc));
  }
  HWY_INLINE VF Bias(int) const { return hn::Zero(DF()); }
};

template <int B>
using DecQ4_K = DecK45<false, B>;
template <int B>
using DecQ5_K = DecK45<true, B>;

}  // namespace
#endif  // SILICA_MM_INT8

void MatMulQKImpl(ThreadPool& pool, const internal::MatMulArgs& a) {
#if SILICA_MM_INT8
  switch (a.dtype) {
    case DType::kQ4_K: return QuantMatMul<DecQ4_K>(pool, a);
    case DType::kQ5_K: return QuantMatMul<DecQ5_K>(pool, a);
    case DType::kQ6_K: return QuantMatMul<DecQ6_K>(pool, a);
    default: return;
  }
#else
  QuantMatMulFallback(pool, a);
#endif
}

}  // namespace silica::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace silica::cpu::internal {
HWY_EXPORT(MatMulQKImpl);

void MatMulQK(ThreadPool& pool, const MatMulArgs& a) {
  HWY_DYNAMIC_DISPATCH(MatMulQKImpl)(pool, a);
}
}  // namespace silica::cpu::internal
#endif  // HWY_ONCE
