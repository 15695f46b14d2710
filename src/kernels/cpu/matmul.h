// The matmul kernels of the forward pass (the hot path): y = x · W^T with
// f32 activations x [m, k] and weights W [n, k] in any checkpoint dtype,
// written once with Google Highway and compiled for every x86/Arm SIMD
// target; the best one the CPU supports is chosen at run time.
//
// How (details in matmul_int8-inl.h / matmul_float-inl.h):
//  * Quantized weights (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, MLX
//    affine 4/8-bit): x is quantized once per call to int8 with one f32
//    scale per 32 elements (finer than llama.cpp's Q8_K for K-quants), and
//    the products are int8 dot products (AVX-512 VNNI where the CPU has it)
//    with the weight scales applied per group in f32. Error vs the exact
//    product is bounded by sum_b (d_b / 2) * sum_{e in b} |w_e| where d_b is
//    the step of x's block b (see matmul_test.cc); nothing else is lost.
//  * F32/F16/BF16 weights: exact f32 products and f32 accumulation.
//  * Small m (decode, m <= 4) streams every weight row once for all rows of
//    x; larger m packs a panel of weight rows once (decoded, in the layout
//    the inner kernel wants) and reuses it for every row of x.
//  * Work is split over n (output features) on the pool; the activation
//    quantization runs once per call, before that split.
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "core/status.h"
#include "core/tensor_view.h"
#include "core/thread_pool.h"
#include "kernels/mlx_affine.h"

namespace silica::cpu {

// Whether MatMul / EmbedRows run weights of `dtype`.
bool MatMulSupports(DType dtype);

// y[m, n] = x[m, k] · w^T for w of shape [n, k] (rank 2; rows contiguous).
// x and y are row-major f32 and must not overlap. InvalidArgument for a bad
// shape or byte size, Unimplemented (naming the dtype) for an unsupported
// weight dtype.
Status MatMul(ThreadPool& pool, const float* x, int64_t m, const TensorView& w,
              float* y);

// The same for an MLX affine-quantized weight (n, k from ValidateMlxAffine).
Status MatMulMlx(ThreadPool& pool, const float* x, int64_t m,
                 const MlxAffineView& w, float* y);

// out[t, :] = row ids[t] of `table` ([vocab, dim], any MatMulSupports
// dtype), dequantized. InvalidArgument for an id outside the table.
Status EmbedRows(const TensorView& table, const int32_t* ids, int64_t n,
                 float* out);
Status EmbedRowsMlx(const MlxAffineView& table, const int32_t* ids, int64_t n,
                    float* out);

// Whether MatMul quantizes x to int8 for `dtype` weights on the target it
// dispatches to (false for F32/F16/BF16, and on targets without the int8
// engine, which dequantize the weights to f32 instead).
bool MatMulQuantizesActivations(DType dtype);

// The Highway target MatMul dispatches to on this CPU ("AVX3_DL", "AVX2",
// ...). AVX3_DL is AVX-512 with VNNI (Ice Lake / Zen 4 and later).
std::string MatMulTargetName();

}  // namespace silica::cpu
