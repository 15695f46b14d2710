#include "core/dtype.h"

#include <gtest/gtest.h>

namespace silica {
namespace {

TEST(DTypeTest, BlockSizes) {
  EXPECT_EQ(GetDTypeInfo(DType::kQ4_K).block_bytes, 144u);
  EXPECT_EQ(GetDTypeInfo(DType::kQ6_K).block_elems, 256u);
  EXPECT_EQ(*RowBytes(DType::kQ8_0, 64), 68u);
  EXPECT_EQ(*RowBytes(DType::kF16, 3), 6u);
}

TEST(DTypeTest, RejectsPartialBlocksAndOverflow) {
  EXPECT_FALSE(RowBytes(DType::kQ4_0, 33).ok());
  EXPECT_FALSE(RowBytes(DType::kF64, uint64_t{1} << 62).ok());
}

TEST(DTypeTest, NamesRoundTrip) {
  for (int i = 0; i < static_cast<int>(DType::kCount); ++i) {
    const auto d = static_cast<DType>(i);
    EXPECT_EQ(DTypeFromName(DTypeName(d)), d);
  }
  EXPECT_FALSE(DTypeFromName("q3_xs").has_value());
}

}  // namespace
}  // namespace silica
