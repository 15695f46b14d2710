// Scalar reference (de)quantization: the ground truth every SIMD and CUDA
// kernel is tested against. Written for clarity, one element at a time;
// block layouts and formulas come from core/quant_blocks.h.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/status.h"

namespace silica {

// Writes `n` floats to `dst` from `n` elements of `dtype` at `src`.
// Supports F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K.
// InvalidArgument when n is negative or not a whole number of blocks;
// Unimplemented for other dtypes.
Status DequantizeRow(DType dtype, const void* src, float* dst, int64_t n);

// Encodes `n` floats from `src` as `dtype` at `dst` (RowBytes(dtype, n)
// bytes) with the standard GGUF reference algorithms (round to nearest,
// scales stored as fp16). Supports F32, F16, BF16, Q8_0, Q4_0, Q4_1.
Status QuantizeRow(DType dtype, const float* src, void* dst, int64_t n);

}  // namespace silica
