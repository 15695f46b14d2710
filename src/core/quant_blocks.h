// Byte layouts of the GGUF block-quantized formats, described once.
// Every reader, writer, quantizer and kernel uses these structs; the
// static_asserts pin their sizes to the on-disk layout (llama.cpp's ggml
// format, little-endian). Half-precision fields are raw IEEE binary16 bits.
//
// Value of element j of a block (x = dequantized value):
//   Q8_0: x = d * qs[j]
//   Q4_0: x = d * (nibble - 8); nibble j<16 is qs[j] & 15, j>=16 is qs[j-16]>>4
//   Q4_1: x = d * nibble + m (nibbles as Q4_0)
//   Q5_0: x = d * (q - 16), q = nibble | (bit j of qh) << 4
//   Q5_1: x = d * q + m, q as Q5_0
//   Q4_K: 8 sub-blocks of 32; 6-bit scale sc and min mn per sub-block packed
//         in scales[12]; x = d*sc*q - dmin*mn, q a 4-bit nibble
//   Q5_K: as Q4_K with a fifth bit from qh
//   Q6_K: 16 sub-blocks of 16; int8 scales; x = d * scale * (q - 32), q 6-bit
//   Q8_K: intermediate format for K-quant dot products (float d, bsums)
#pragma once

#include <cstdint>

namespace silica {

inline constexpr int kQK = 32;    // elements per block of the *_0/*_1 formats
inline constexpr int kQKK = 256;  // elements per super-block of the K formats
inline constexpr int kKScaleBytes = 12;

struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQKK / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQKK / 8];
  uint8_t qs[kQKK / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

struct BlockQ6_K {
  uint8_t ql[kQKK / 2];
  uint8_t qh[kQKK / 4];
  int8_t scales[kQKK / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

struct BlockQ8_K {
  float d;
  int8_t qs[kQKK];
  int16_t bsums[kQKK / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace silica
