#include "kernels/ref/quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/half.h"
#include "core/quant_blocks.h"

namespace silica {
namespace {

// Blocks are read with memcpy: rows inside a GGUF mapping are only as
// aligned as the file's alignment and block sizes (18, 20, 34 ... bytes)
// leave the fp16 fields at odd addresses.
template <typename Block>
Block LoadBlock(const void* src, int64_t i) {
  Block b;
  std::memcpy(&b, static_cast<const uint8_t*>(src) + i * sizeof(Block),
              sizeof(Block));
  return b;
}

template <typename Block>
void StoreBlock(void* dst, int64_t i, const Block& b) {
  std::memcpy(static_cast<uint8_t*>(dst) + i * sizeof(Block), &b,
              sizeof(Block));
}

// Nibble j of a 32-element block: low halves hold 0..15, high halves 16..31.
inline int Nibble(const uint8_t* qs, int j) {
  return j < kQK / 2 ? (qs[j] & 0x0f) : (qs[j - kQK / 2] >> 4);
}

inline int HighBit(const uint8_t qh[4], int j) {
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  return static_cast<int>((bits >> j) & 1u);
}

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block.
// Sub-blocks 0..3 keep both in the low 6 bits of bytes 0..7; 4..7 take
// their low 4 bits from bytes 8..11 and their top 2 bits from the spare
// high bits of bytes 0..7.
inline void KScaleMin(const uint8_t* s, int j, int* scale, int* min) {
  if (j < 4) {
    *scale = s[j] & 63;
    *min = s[j + 4] & 63;
  } else {
    *scale = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
    *min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

void DequantQ8_0(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = LoadBlock<BlockQ8_0>(src, i);
    const float d = HalfToFloat(b.d);
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(b.qs[j]);
  }
}

void DequantQ4_0(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = LoadBlock<BlockQ4_0>(src, i);
    const float d = HalfToFloat(b.d);
    for (int j = 0; j < kQK; ++j) {
      y[j] = d * static_cast<float>(Nibble(b.qs, j) - 8);
    }
  }
}

void DequantQ4_1(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = LoadBlock<BlockQ4_1>(src, i);
    const float d = HalfToFloat(b.d);
    const float m = HalfToFloat(b.m);
    for (int j = 0; j < kQK; ++j) {
      y[j] = d * static_cast<float>(Nibble(b.qs, j)) + m;
    }
  }
}

void DequantQ5_0(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = LoadBlock<BlockQ5_0>(src, i);
    const float d = HalfToFloat(b.d);
    for (int j = 0; j < kQK; ++j) {
      const int q = Nibble(b.qs, j) | (HighBit(b.qh, j) << 4);
      y[j] = d * static_cast<float>(q - 16);
    }
  }
}

void DequantQ5_1(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const auto b = LoadBlock<BlockQ5_1>(src, i);
    const float d = HalfToFloat(b.d);
    const float m = HalfToFloat(b.m);
    for (int j = 0; j < kQK; ++j) {
      const int q = Nibble(b.qs, j) | (HighBit(b.qh, j) << 4);
      y[j] = d * static_cast<float>(q) + m;
    }
  }
}

// Q4_K and Q5_K: 8 sub-blocks of 32. Each 32-byte run of qs holds two
// sub-blocks: low nibbles for the first, high nibbles for the second.
// Q5_K's fifth bit of element l of sub-block s is bit s of qh[l].
template <bool kFiveBit>
void DequantK45(const uint8_t* scales, const uint8_t* qs, const uint8_t* qh,
                float d, float dmin, float* y) {
  for (int s = 0; s < 8; ++s) {
    int sc = 0;
    int mn = 0;
    KScaleMin(scales, s, &sc, &mn);
    const float ds = d * static_cast<float>(sc);
    const float ms = dmin * static_cast<float>(mn);
    const uint8_t* q = qs + (s / 2) * 32;
    const int shift = (s % 2) * 4;
    for (int l = 0; l < 32; ++l) {
      int v = (q[l] >> shift) & 0x0f;
      if (kFiveBit) v |= ((qh[l] >> s) & 1) << 4;
      y[s * 32 + l] = ds * static_cast<float>(v) - ms;
    }
  }
}

void DequantQ4_K(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const auto b = LoadBlock<BlockQ4_K>(src, i);
    DequantK45<false>(b.scales, b.qs, nullptr, HalfToFloat(b.d),
                      HalfToFloat(b.dmin), y);
  }
}

void DequantQ5_K(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const auto b = LoadBlock<BlockQ5_K>(src, i);
    DequantK45<true>(b.scales, b.qs, b.qh, HalfToFloat(b.d),
                     HalfToFloat(b.dmin), y);
  }
}

// Q6_K: two halves of 128 elements. In half h, element 32*g + l (g = 0..3,
// l = 0..31) takes its low 4 bits from ql[64h + l + 32*(g&1)] (low nibble
// for g < 2, high for g >= 2) and its top 2 bits from bits 2g..2g+1 of
// qh[32h + l]; its scale is scales[8h + 2g + l/16].
void DequantQ6_K(const void* src, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const auto b = LoadBlock<BlockQ6_K>(src, i);
    const float d = HalfToFloat(b.d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b.ql + 64 * h;
      const uint8_t* qh = b.qh + 32 * h;
      const int8_t* sc = b.scales + 8 * h;
      for (int g = 0; g < 4; ++g) {
        for (int l = 0; l < 32; ++l) {
          const int lo = (ql[l + 32 * (g & 1)] >> (g < 2 ? 0 : 4)) & 0x0f;
          const int hi = (qh[l] >> (2 * g)) & 3;
          const int q = (lo | (hi << 4)) - 32;
          const float ds = d * static_cast<float>(sc[2 * g + l / 16]);
          y[128 * h + 32 * g + l] = ds * static_cast<float>(q);
        }
      }
    }
  }
}

// --- quantizers ------------------------------------------------------------

// float -> int for a quantized level in [0, hi]: truncation like the
// reference's (int) cast for finite in-range values, but NaN and
// out-of-range values (from Inf/NaN weights) clamp instead of being
// undefined behaviour.
inline int TruncLevel(float v, int hi) {
  if (!(v > 0.0f)) return 0;
  if (v >= static_cast<float>(hi)) return hi;
  return static_cast<int>(v);
}

void QuantQ8_0(const float* x, void* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    // Multiplying by the inverse (not dividing by d) matches llama.cpp's
    // and gguf-py's reference quantizers bit for bit.
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ8_0 b;
    b.d = FloatToHalf(d);
    for (int j = 0; j < kQK; ++j) {
      const float r = std::roundf(x[j] * id);
      b.qs[j] =
          static_cast<int8_t>(r != r ? 0.0f : std::clamp(r, -127.0f, 127.0f));
    }
    StoreBlock(dst, i, b);
  }
}

void QuantQ4_0(const float* x, void* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    // The signed value of largest magnitude maps to -8, so the asymmetric
    // 4-bit range [-8, 7] spends its extra step on the dominant sign.
    float amax = 0.0f;
    float max = 0.0f;
    for (int j = 0; j < kQK; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ4_0 b;
    b.d = FloatToHalf(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = TruncLevel(x[j] * id + 8.5f, 15);
      const int q1 = TruncLevel(x[j + 16] * id + 8.5f, 15);
      b.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
    StoreBlock(dst, i, b);
  }
}

void QuantQ4_1(const float* x, void* dst, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float min = x[0];
    float max = x[0];
    for (int j = 1; j < kQK; ++j) {
      min = std::fmin(min, x[j]);
      max = std::fmax(max, x[j]);
    }
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ4_1 b;
    b.d = FloatToHalf(d);
    b.m = FloatToHalf(min);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = TruncLevel((x[j] - min) * id + 0.5f, 15);
      const int q1 = TruncLevel((x[j + 16] - min) * id + 0.5f, 15);
      b.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
    StoreBlock(dst, i, b);
  }
}

Status CheckCount(DType dtype, int64_t n, const char* what) {
  if (n < 0) {
    return InvalidArgument(std::string(what) + ": negative element count " +
                           std::to_string(n));
  }
  const uint32_t block = GetDTypeInfo(dtype).block_elems;
  if (n % block != 0) {
    return InvalidArgument(std::string(what) + ": " + std::to_string(n) +
                           " elements of " + std::string(DTypeName(dtype)) +
                           " is not a whole number of " +
                           std::to_string(block) + "-element blocks");
  }
  return Status::Ok();
}

}  // namespace

Status DequantizeRow(DType dtype, const void* src, float* dst, int64_t n) {
  RETURN_IF_ERROR(CheckCount(dtype, n, "DequantizeRow"));
  const int64_t nb = n / GetDTypeInfo(dtype).block_elems;
  const auto* p = static_cast<const uint8_t*>(src);
  switch (dtype) {
    case DType::kF32:
      if (n > 0) std::memcpy(dst, src, n * sizeof(float));
      return Status::Ok();
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        dst[i] = HalfToFloat(h);
      }
      return Status::Ok();
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        dst[i] = BF16ToFloat(h);
      }
      return Status::Ok();
    case DType::kQ8_0:
      DequantQ8_0(src, dst, nb);
      return Status::Ok();
    case DType::kQ4_0:
      DequantQ4_0(src, dst, nb);
      return Status::Ok();
    case DType::kQ4_1:
      DequantQ4_1(src, dst, nb);
      return Status::Ok();
    case DType::kQ5_0:
      DequantQ5_0(src, dst, nb);
      return Status::Ok();
    case DType::kQ5_1:
      DequantQ5_1(src, dst, nb);
      return Status::Ok();
    case DType::kQ4_K:
      DequantQ4_K(src, dst, nb);
      return Status::Ok();
    case DType::kQ5_K:
      DequantQ5_K(src, dst, nb);
      return Status::Ok();
    case DType::kQ6_K:
      DequantQ6_K(src, dst, nb);
      return Status::Ok();
    default:
      return Unimplemented("DequantizeRow: no reference dequantizer for " +
                           std::string(DTypeName(dtype)));
  }
}

Status QuantizeRow(DType dtype, const float* src, void* dst, int64_t n) {
  RETURN_IF_ERROR(CheckCount(dtype, n, "QuantizeRow"));
  const int64_t nb = n / GetDTypeInfo(dtype).block_elems;
  auto* p = static_cast<uint8_t*>(dst);
  switch (dtype) {
    case DType::kF32:
      if (n > 0) std::memcpy(dst, src, n * sizeof(float));
      return Status::Ok();
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = FloatToHalf(src[i]);
        std::memcpy(p + 2 * i, &h, 2);
      }
      return Status::Ok();
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = FloatToBF16(src[i]);
        std::memcpy(p + 2 * i, &h, 2);
      }
      return Status::Ok();
    case DType::kQ8_0:
      QuantQ8_0(src, dst, nb);
      return Status::Ok();
    case DType::kQ4_0:
      QuantQ4_0(src, dst, nb);
      return Status::Ok();
    case DType::kQ4_1:
      QuantQ4_1(src, dst, nb);
      return Status::Ok();
    default:
      return Unimplemented("QuantizeRow: no reference quantizer for " +
                           std::string(DTypeName(dtype)));
  }
}

}  // namespace silica
