// Scalar reference matmul: the ground truth the SIMD matmul kernels
// (kernels/cpu/matmul.h) are tested against. Each weight row is dequantized
// with DequantizeRow (or the MLX formula) and the dot product accumulated
// in double, so the only error left is the weights' own quantization.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/status.h"
#include "kernels/mlx_affine.h"

namespace silica {

// y[m, n] = x[m, k] · W^T where W is n rows of k elements of `wdtype`, row r
// at w + r * RowBytes(wdtype, k). Supports every dtype DequantizeRow does
// (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K).
// InvalidArgument for negative sizes or k not a whole number of blocks.
Status MatMulRef(const float* x, int64_t m, int64_t k, DType wdtype,
                 const void* w, int64_t n, float* y);

// Row `row` of an MLX affine weight as k floats (scale * q + bias).
Status DequantizeMlxRow(const MlxAffineView& w, int64_t row, float* dst);

// y[m, n] = x[m, k] · W^T for an MLX affine weight (see mlx_affine.h).
Status MatMulMlxRef(const float* x, int64_t m, const MlxAffineView& w,
                    float* y);

}  // namespace silica
