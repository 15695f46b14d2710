// Matmul for the 32-element block formats Q8_0, Q4_0, Q4_1, Q5_0, Q5_1:
// their decoders for the int8 engine (matmul_int8-inl.h). A decoder turns
// one block of each of N weight rows into G/4 = 8 slot vectors (lane r:
// 4 codes of row r), plus the per-row scale (and bias) vectors.
// Block layouts: core/quant_blocks.h.
#define HWY_WANT_AVX3_DL  // VNNI (see matmul_int8-inl.h)
// SSSE3-only CPUs (no SSE4.1, pre-2008) take the scalar fallback; one
// target less to compile.
#define HWY_DISABLED_TARGETS HWY_SSSE3
#include <cstdint>

#include "kernels/cpu/matmul_internal.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/matmul_q32.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/cpu/matmul_int8-inl.h"

HWY_BEFORE_NAMESPACE();
#if HWY_TARGET == HWY_AVX3_DL
#pragma GCC target("avx512vnni")
#endif
namespace silica::cpu::HWY_NAMESPACE {

const char* MatMulTargetImpl() { return hwy::TargetName(HWY_TARGET); }
bool MatMulInt8Impl() { return SILICA_MM_INT8 != 0; }

#if SILICA_MM_INT8
namespace {

// Shared by the five formats: 16 nibble bytes at `qs` give slots 0..3 (low
// nibbles = elements 0..15) and 4..7 (high nibbles = elements 16..31).
struct NibbleSlots {
  VU q[4];
  template <class TileT>
  HWY_INLINE void Load(const TileT& tile, size_t qs_off) { tile.LoadT4(qs_off, q); }
  HWY_INLINE VU Get(int t) const {
    const DU du;
    const VU m = hn::Set(du, 0x0f0f0f0fu);
    return t < 4 ? hn::And(q[t], m) : hn::And(hn::ShiftRight<4>(q[t - 4]), m);
  }
};

// The fifth bits of Q5_0/Q5_1: bit e of the 32-bit qh is element e's bit 4.
// Slot t needs bits 4t..4t+3 at bit 4 of its four bytes.
#if HWY_TARGET == HWY_AVX3_DL
// vpshufbitqmb (BITALG) gathers, for each byte j of the vector, bit
// kFifthSel[t][j] of j's 64-bit lane into a mask, and a masked byte add
// sets bit 4: 2 instructions per slot. Byte j = 4 * lane + q holds element
// 4t + q of its lane, whose qh is dword lane % 2 of the 64-bit lane.
struct FifthSelectors {
  alignas(64) uint8_t sel[8][64];
  constexpr FifthSelectors() : sel() {
    for (int t = 0; t < 8; ++t) {
      for (int j = 0; j < 64; ++j) {
        sel[t][j] = static_cast<uint8_t>(32 * ((j / 4) % 2) + 4 * t + j % 4);
      }
    }
  }
};
inline constexpr FifthSelectors kFifthSel;

HWY_INLINE VU WithFifthBits(VU nib, VU qh, int t) {
  const __m512i sel = _mm512_load_si512(kFifthSel.sel[t]);
  const __mmask64 m = _mm512_bitshuffle_epi64_mask(qh.raw, sel);
  return VU{_mm512_mask_add_epi8(nib.raw, m, nib.raw, _mm512_set1_epi8(0x10))};
}
#else
// Multiplying the nibble of bits by 0x02040810 moves bit i to bit 8i+4
// without carries.
HWY_INLINE VU WithFifthBits(VU nib, VU qh, int t) {
  const DU du;
  const VU bits = hn::And(hn::ShiftRightSame(qh, 4 * t), hn::Set(du, 0xfu));
  return hn::Or(nib, hn::And(hn::Mul(bits, hn::Set(du, 0x02040810u)),
                             hn::Set(du, 0x10101010u)));
}
#endif

// Common constants of a 32-element block decoder.
struct Block32 {
  static constexpr int kG = 32;
  static constexpr int kGroupsPerBlock = 1;
  static constexpr int kBlockElems = 32;
  static constexpr bool kPerm8 = false;
  static int64_t ScratchFloats(const internal::MatMulArgs&) { return 0; }
  static constexpr int GroupOrder(int gj) { return gj; }
  HWY_INLINE void Group(int) {}
};

template <int B>
struct DecQ8_0 : Block32 {
  static constexpr size_t kBlockBytes = 34;
  using TileT = LaneTile<B, kBlockBytes>;
  static constexpr int kCodeBits = 8;
  static constexpr int kZero = 128;  // codes are the int8 values + 128
  static constexpr bool kAsym = false;
  const TileT& tile;
  VU q[8];
  VF scale;
  DecQ8_0(const internal::MatMulArgs&, const TileT& t, float*) : tile(t) {}
  HWY_INLINE void Load(int64_t b) {
    const size_t off = static_cast<size_t>(b) * 34;
    tile.LoadT4(off + 2, q);
    tile.LoadT4(off + 18, q + 4);
    scale = F16LowToF32(tile.Gather(off));
  }
  HWY_INLINE VU Codes(int, int t) const {
    return hn::Xor(q[t], hn::Set(DU(), 0x80808080u));
  }
  HWY_INLINE VF Scale(int) const { return scale; }
  HWY_INLINE VF Bias(int) const { return hn::Zero(DF()); }
};

template <int B>
struct DecQ4_0 : Block32 {
  static constexpr size_t kBlockBytes = 18;
  using TileT = LaneTile<B, kBlockBytes>;
  static constexpr int kCodeBits = 4;
  static constexpr int kZero = 8;
  static constexpr bool kAsym = false;
  const TileT& tile;
  NibbleSlots nib;
  VF scale;
  DecQ4_0(const internal::MatMulArgs&, const TileT& t, float*) : tile(t) {}
  HWY_INLINE void Load(int64_t b) {
    const size_t off = static_cast<size_t>(b) * 18;
    nib.Load(tile, off + 2);
    scale = F16LowToF32(tile.Gather(off));
  }
  HWY_INLINE VU Codes(int, int t) const { return nib.Get(t); }
  HWY_INLINE VF Scale(int) const { return scale; }
  HWY_INLINE VF Bias(int) const { return hn::Zero(DF()); }
};

template <int B>
struct DecQ4_1 : Block32 {
  static constexpr size_t kBlockBytes = 20;
  using TileT = LaneTile<B, kBlockBytes>;
  static constexpr int kCodeBits = 4;
  static constexpr int kZero = 0;
  static constexpr bool kAsym = true;
  const TileT& tile;
  NibbleSlots nib;
  VF scale, bias;
  DecQ4_1(const internal::MatMulArgs&, const TileT& t, float*) : tile(t) {}
  HWY_INLINE void Load(int64_t b) {
    const size_t off = static_cast<size_t>(b) * 20;
    nib.Load(tile, off + 4);
    const VU dm = tile.Gather(off);
    scale = F16LowToF32(dm);
    bias = F16LowToF32(hn::ShiftRight<16>(dm));
  }
  HWY_INLINE VU Codes(int, int t) const { return nib.Get(t); }
  HWY_INLINE VF Scale(int) const { return scale; }
  HWY_INLINE VF Bias(int) const { return bias; }
};

template <int B>
struct DecQ5_0 : Block32 {
  static constexpr size_t kBlockBytes = 22;
  using TileT = LaneTile<B, kBlockBytes>;
  static constexpr int kCodeBits = 5;
  static constexpr int kZero = 16;
  static constexpr bool kAsym = false;
  const TileT& tile;
  NibbleSlots nib;
  VU qh;
  VF scale;
  DecQ5_0(const internal::MatMulArgs&, const TileT& t, float*) : tile(t) {}
  HWY_INLINE void Load(int64_t b) {
    const size_t off = static_cast<size_t>(b) * 22;
    nib.Load(tile, off + 6);
    scale = F16LowToF32(tile.Gather(off));
    qh = tile.Gather(off + 2);
  }
  HWY_INLINE VU Codes(int, int t) const { return WithFifthBits(nib.Get(t), qh, t); }
  HWY_INLINE VF Scale(int) const { return scale; }
  HWY_INLINE VF Bias(int) const { return hn::Zero(DF()); }
};

template <int B>
struct DecQ5_1 : Block32 {
  static constexpr size_t kBlockBytes = 24;
  using TileT = LaneTile<B, kBlockBytes>;
  static constexpr int kCodeBits = 5;
  static constexpr int kZero = 0;
  static constexpr bool kAsym = true;
  const TileT& tile;
  NibbleSlots nib;
  VU qh;
  VF scale, bias;
  DecQ5_1(const internal::MatMulArgs&, const TileT& t, float*) : tile(t) {}
  HWY_INLINE void Load(int64_t b) {
    const size_t off = static_cast<size_t>(b) * 24;
    nib.Load(tile, off + 8);
    const VU dm = tile.Gather(off);
    scale = F16LowToF32(dm);
    bias = F16LowToF32(hn::ShiftRight<16>(dm));
    qh = tile.Gather(off + 4);
  }
  HWY_INLINE VU Codes(int, int t) const { return WithFifthBits(nib.Get(t), qh, t); }
  HWY_INLINE VF Scale(int) const { return scale; }
  HWY_INLINE VF Bias(int) const { return bias; }
};

}  // namespace
#endif  // SILICA_MM_INT8

void MatMulQ32Impl(ThreadPool& pool, const internal::MatMulArgs& a) {
#if SILICA_MM_INT8
  switch (a.dtype) {
    case DType::kQ8_0: return QuantMatMul<DecQ8_0>(pool, a);
    case DType::kQ4_0: return QuantMatMul<DecQ4_0>(pool, a);
    case DType::kQ4_1: return QuantMatMul<DecQ4_1>(pool, a);
    case DType::kQ5_0: return QuantMatMul<DecQ5_0>(pool, a);
    case DType::kQ5_1: return QuantMatMul<DecQ5_1>(pool, a);
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
HWY_EXPORT(MatMulQ32Impl);
HWY_EXPORT(MatMulTargetImpl);
HWY_EXPORT(MatMulInt8Impl);

void MatMulQ32(ThreadPool& pool, const MatMulArgs& a) {
  HWY_DYNAMIC_DISPATCH(MatMulQ32Impl)(pool, a);
}
const char* MatMulTarget() { return HWY_DYNAMIC_DISPATCH(MatMulTargetImpl)(); }
bool MatMulInt8() { return HWY_DYNAMIC_DISPATCH(MatMulInt8Impl)(); }
}  // namespace silica::cpu::internal
#endif  // HWY_ONCE
