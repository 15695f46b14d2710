// Matmul for MLX affine-quantized weights (kernels/mlx_affine.h): the
// decoders for the int8 engine (matmul_int8-inl.h). Per tile of N rows the
// scales and biases of every group are first converted to f32 and laid out
// as vectors over the rows (a small scalar pass, k / group_size values per
// row); codes come straight from the packed words.
//
// 4-bit codes: a word holds elements 8u..8u+7, element e in bits 4e..4e+3.
// Masking the low nibble of each byte gives elements 0,2,4,6 of the word and
// the high nibble 1,3,5,7, so slot 2u is {8u, 8u+2, 8u+4, 8u+6} and slot
// 2u+1 the odd ones; x is quantized in that order (ActQSpec::perm8).
#define HWY_WANT_AVX3_DL  // VNNI (see matmul_int8-inl.h)
// SSSE3-only CPUs (no SSE4.1, pre-2008) take the scalar fallback; one
// target less to compile.
#define HWY_DISABLED_TARGETS HWY_SSSE3
#include <cstdint>
#include <cstring>

#include "core/half.h"
#include "kernels/cpu/matmul_internal.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/matmul_mlx.cc"
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

inline float LoadScaleF32(DType dtype, const uint8_t* p) {
  if (dtype == DType::kF32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  return dtype == DType::kF16 ? HalfToFloat(h) : BF16ToFloat(h);
}

template <int kBits, int B>
struct DecMlx {
  static constexpr int kG = 32;
  static constexpr int kGroupsPerBlock = 1;
  static constexpr int kBlockElems = 32;
  static constexpr int kCodeBits = kBits;
  static constexpr size_t kBlockBytes = kBits * 4;
  using TileT = LaneTile<B, kBlockBytes>;
  static constexpr int kZero = 0;
  static constexpr bool kAsym = true;
  static constexpr bool kPerm8 = kBits == 4;
  // Scales then biases, per step of the tile and lane: [k / 32 / B][N].
  static int64_t ScratchFloats(const internal::MatMulArgs& a) {
    return 2 * (a.k / 32) * kN;
  }

  const TileT& tile;
  const float* scales;
  const float* biases;
  VU q[8];
  VF scale, bias;

  DecMlx(const internal::MatMulArgs& a, const TileT& t, float* scratch)
      : tile(t) {
    const int64_t steps = a.k / 32 / B;
    const uint64_t esz = a.mlx_sdtype == DType::kF32 ? 4 : 2;
    float* sc = scratch;
    float* bi = scratch + steps * kN;
    for (int l = 0; l < kN; ++l) {
      const uint8_t* srow = a.mlx_scales + t.lane_row[l] * a.mlx_s_row_bytes;
      const uint8_t* brow = a.mlx_biases + t.lane_row[l] * a.mlx_s_row_bytes;
      for (int64_t s = 0; s < steps; ++s) {
        const int64_t g = (s * B + t.lane_blk[l]) * 32 / a.mlx_group;
        sc[s * kN + l] = LoadScaleF32(a.mlx_sdtype, srow + g * esz);
        bi[s * kN + l] = LoadScaleF32(a.mlx_sdtype, brow + g * esz);
      }
    }
    scales = sc;
    biases = bi;
  }

  // b: the block of lane 0 (a multiple of the tile's B).
  HWY_INLINE void Load(int64_t b) {
    const size_t off = static_cast<size_t>(b) * kBits * 4;  // 32 codes
    tile.LoadT4(off, q);
    if constexpr (kBits == 8) tile.LoadT4(off + 16, q + 4);
    const int64_t s = b / B;
    scale = hn::Load(DF(), scales + s * kN);
    bias = hn::Load(DF(), biases + s * kN);
  }
  static constexpr int GroupOrder(int gj) { return gj; }
  HWY_INLINE void Group(int) {}
  HWY_INLINE VU Codes(int, int t) const {
    if constexpr (kBits == 8) {
      return q[t];
    } else {
      const VU m = hn::Set(DU(), 0x0f0f0f0fu);
      return t % 2 == 0 ? hn::And(q[t / 2], m)
                        : hn::And(hn::ShiftRight<4>(q[t / 2]), m);
    }
  }
  HWY_INLINE VF Scale(int) const { return scale; }
  HWY_INLINE VF Bias(int) const { return bias; }
};

template <int B>
using DecMlx4 = DecMlx<4, B>;
template <int B>
using DecMlx8 = DecMlx<8, B>;

}  // namespace
#endif  // SILICA_MM_INT8

void MatMulMlxImpl(ThreadPool& pool, const internal::MatMulArgs& a) {
#if SILICA_MM_INT8
  if (a.mlx_bits == 8) {
    QuantMatMul<DecMlx8>(pool, a);
  } else {
    QuantMatMul<DecMlx4>(pool, a);
  }
#else
  QuantMatMulFallback(pool, a);
#endif
}

}  // namespace silica::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace silica::cpu::internal {
HWY_EXPORT(MatMulMlxImpl);

void MatMulMlxAffine(ThreadPool& pool, const MatMulArgs& a) {
  HWY_DYNAMIC_DISPATCH(MatMulMlxImpl)(pool, a);
}
}  // namespace silica::cpu::internal
#endif  // HWY_ONCE
