#include "core/dtype.h"

#include <array>
#include <string>

#include "core/quant_blocks.h"

namespace silica {
namespace {

constexpr std::array<DTypeInfo, static_cast<size_t>(DType::kCount)> kInfos = {{
    {DType::kF32, "f32", 1, 4, false},
    {DType::kF16, "f16", 1, 2, false},
    {DType::kBF16, "bf16", 1, 2, false},
    {DType::kF64, "f64", 1, 8, false},
    {DType::kI8, "i8", 1, 1, false},
    {DType::kU8, "u8", 1, 1, false},
    {DType::kI16, "i16", 1, 2, false},
    {DType::kI32, "i32", 1, 4, false},
    {DType::kU32, "u32", 1, 4, false},
    {DType::kI64, "i64", 1, 8, false},
    {DType::kQ8_0, "q8_0", kQK, sizeof(BlockQ8_0), true},
    {DType::kQ4_0, "q4_0", kQK, sizeof(BlockQ4_0), true},
    {DType::kQ4_1, "q4_1", kQK, sizeof(BlockQ4_1), true},
    {DType::kQ5_0, "q5_0", kQK, sizeof(BlockQ5_0), true},
    {DType::kQ5_1, "q5_1", kQK, sizeof(BlockQ5_1), true},
    {DType::kQ4_K, "q4_k", kQKK, sizeof(BlockQ4_K), true},
    {DType::kQ5_K, "q5_k", kQKK, sizeof(BlockQ5_K), true},
    {DType::kQ6_K, "q6_k", kQKK, sizeof(BlockQ6_K), true},
    {DType::kQ8_K, "q8_k", kQKK, sizeof(BlockQ8_K), true},
}};

constexpr bool InfosInEnumOrder() {
  for (size_t i = 0; i < kInfos.size(); ++i) {
    if (static_cast<size_t>(kInfos[i].dtype) != i) return false;
  }
  return true;
}
static_assert(InfosInEnumOrder(), "kInfos must follow the DType enum order");

}  // namespace

const DTypeInfo& GetDTypeInfo(DType dtype) {
  return kInfos[static_cast<size_t>(dtype)];
}

std::optional<DType> DTypeFromName(std::string_view name) {
  for (const auto& info : kInfos) {
    if (info.name == name) return info.dtype;
  }
  return std::nullopt;
}

Result<uint64_t> RowBytes(DType dtype, uint64_t elems) {
  const DTypeInfo& info = GetDTypeInfo(dtype);
  if (elems % info.block_elems != 0) {
    return InvalidArgument(std::to_string(elems) + " elements of " +
                           std::string(info.name) +
                           " is not a whole number of blocks of " +
                           std::to_string(info.block_elems));
  }
  uint64_t bytes = 0;
  if (MulOverflows(elems / info.block_elems, info.block_bytes, &bytes)) {
    return OutOfRange("tensor size overflows 64 bits");
  }
  return bytes;
}

}  // namespace silica
