// Produces a synthetic tensor's bytes in a given dtype, a block of rows at
// a time, so a large tensor never exists as float32 all at once.
#pragma once

#include <cstdint>
#include <span>

#include "core/dtype.h"
#include "core/status.h"
#include "silica/synth/arch_shapes.h"

namespace silica::synth {

// Fills `out` (exactly the tensor's size in `dtype`) with tensor `t` of
// `shape` for `seed`, in GGUF row order when `gguf_layout`. Supports the
// dtypes of kernels/ref QuantizeRow plus Q6_K.
Status FillTensorBytes(const ArchShape& shape, const TensorSpec& t,
                       uint64_t seed, bool gguf_layout, DType dtype,
                       std::span<uint8_t> out);

}  // namespace silica::synth
