// Scalar reference quantizers for the K (super-block) formats that
// kernels/ref/quant.h does not cover yet. They follow the algorithm of
// llama.cpp's reference quantizers without an importance matrix (what
// `llama-quantize` uses when given none), so a file made here has the
// same kind of error as one made there. Block layouts: core/quant_blocks.h.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace silica {

// Encodes `n` floats from `src` as Q6_K at `dst` (n / 256 blocks of 210
// bytes). InvalidArgument when n is negative or not a multiple of 256.
// Each 16-element sub-block gets its own scale, chosen by a small search
// that minimises the x^2-weighted squared error; the 16 scales are then
// stored as int8 relative to one fp16 super-block scale.
Status QuantizeRowQ6_K(const float* src, void* dst, int64_t n);

}  // namespace silica
