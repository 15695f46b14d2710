// MLX affine-quantized weights (mlx.core.quantize, mode "affine"), the format
// of the mlx-community checkpoints: one linear layer is three tensors.
//
//   packed  U32 [n, k * bits / 32]  32/bits codes per word, the first code
//                                   in the lowest bits (little end first)
//   scales  F16/BF16/F32 [n, k / group_size]
//   biases  same dtype and shape as scales
//
// Element e of row r: w = scales[r, e / gs] * q + biases[r, e / gs], where q
// is code e of the row (an unsigned bits-wide integer).
#pragma once

#include <cstdint>

#include "core/status.h"
#include "core/tensor_view.h"

namespace silica {

struct MlxAffineView {
  TensorView packed;
  TensorView scales;
  TensorView biases;
  int bits = 4;         // 4 or 8
  int group_size = 64;  // 32, 64 or 128
};

struct MlxAffineShape {
  int64_t n = 0;  // output features (rows)
  int64_t k = 0;  // input features (elements per row)
};

// Checks dtypes, ranks, shapes, byte sizes and bits/group_size, and returns
// [n, k]. InvalidArgument names what is wrong; Unimplemented for bit widths
// or group sizes MLX has but silica does not run (2, 3, 5, 6 bits).
Result<MlxAffineShape> ValidateMlxAffine(const MlxAffineView& w);

}  // namespace silica
