// Element types of tensors, including the block-quantized GGUF formats.
// The byte layout of each quantized block lives in core/quant_blocks.h; this
// file holds the facts every module needs: name, elements per block and bytes
// per block, and the arithmetic to size a row or a tensor without overflow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/status.h"

namespace silica {

enum class DType : uint8_t {
  kF32,
  kF16,
  kBF16,
  kF64,
  kI8,
  kU8,
  kI16,
  kI32,
  kU32,
  kI64,
  kQ8_0,
  kQ4_0,
  kQ4_1,
  kQ5_0,
  kQ5_1,
  kQ4_K,
  kQ5_K,
  kQ6_K,
  kQ8_K,
  kCount,  // not a type; number of entries
};

struct DTypeInfo {
  DType dtype;
  std::string_view name;  // "f32", "q4_k", ...
  uint32_t block_elems;   // 1 for plain types
  uint32_t block_bytes;   // bytes of one block
  bool quantized;
};

const DTypeInfo& GetDTypeInfo(DType dtype);
inline std::string_view DTypeName(DType d) { return GetDTypeInfo(d).name; }
std::optional<DType> DTypeFromName(std::string_view name);

// Bytes of `elems` consecutive elements (a row). Fails when `elems` is not a
// whole number of blocks or the size overflows.
Result<uint64_t> RowBytes(DType dtype, uint64_t elems);

// Checked multiply for sizes read from untrusted files.
inline bool MulOverflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}
inline bool AddOverflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_add_overflow(a, b, out);
}

}  // namespace silica
