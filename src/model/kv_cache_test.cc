#include "model/kv_cache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace silica {
namespace {

TEST(KVCacheTensorsTest, AllocatesAlignedZeroedLayers) {
  KVCacheShape shape{.num_layers = 3, .n_kv_heads = 2, .head_dim = 63,
                     .block_size = 16, .num_blocks = 5, .dtype = DType::kF16};
  auto cache = KVCacheTensors::Allocate(shape);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  const uint64_t region = 5ull * 16 * 2 * 63 * 2;  // bytes of K (or V)
  EXPECT_GE((*cache)->bytes(), 3 * 2 * region);
  for (int l = 0; l < 3; ++l) {
    PagedKV& kv = (*cache)->layer(l);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(kv.k) % 64, 0u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(kv.v) % 64, 0u);
    EXPECT_EQ(kv.dtype, DType::kF16);
    EXPECT_EQ(kv.num_blocks, 5);
    EXPECT_EQ(kv.block_size, 16);
    EXPECT_EQ(kv.n_kv_heads, 2);
    EXPECT_EQ(kv.head_dim, 63);
    const auto* k = static_cast<const uint8_t*>(kv.k);
    const auto* v = static_cast<const uint8_t*>(kv.v);
    for (uint64_t i = 0; i < region; ++i) {
      ASSERT_EQ(k[i], 0);
      ASSERT_EQ(v[i], 0);
    }
    // K and V of every layer are disjoint.
    EXPECT_GE(static_cast<uint64_t>(v - k), region);
    if (l > 0) {
      const auto* prev_v =
          static_cast<const uint8_t*>((*cache)->layer(l - 1).v);
      EXPECT_GE(static_cast<uint64_t>(k - prev_v), region);
    }
  }
}

TEST(KVCacheTensorsTest, RejectsBadShapes) {
  KVCacheShape ok{.num_layers = 1, .n_kv_heads = 1, .head_dim = 8,
                  .block_size = 16, .num_blocks = 1, .dtype = DType::kF32};
  EXPECT_TRUE(KVCacheTensors::Allocate(ok).ok());
  for (auto mutate : {+[](KVCacheShape& s) { s.num_layers = 0; },
                      +[](KVCacheShape& s) { s.n_kv_heads = -1; },
                      +[](KVCacheShape& s) { s.head_dim = 0; },
                      +[](KVCacheShape& s) { s.block_size = 0; },
                      +[](KVCacheShape& s) { s.num_blocks = 0; },
                      +[](KVCacheShape& s) { s.dtype = DType::kBF16; },
                      +[](KVCacheShape& s) { s.dtype = DType::kQ8_0; }}) {
    KVCacheShape bad = ok;
    mutate(bad);
    EXPECT_EQ(KVCacheTensors::Allocate(bad).status().code(),
              StatusCode::kInvalidArgument);
  }
  // More slots than int32 slot ids can name.
  KVCacheShape slots = ok;
  slots.num_blocks = std::numeric_limits<int>::max() / 8;
  EXPECT_EQ(KVCacheTensors::Allocate(slots).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(KVCacheTensorsTest, HugeCacheFailsCleanly) {
  // 2^31 slots would overflow int32; stay just under it and make the bytes
  // absurd instead (layers x heads x dims): ResourceExhausted, no crash.
  KVCacheShape huge{.num_layers = std::numeric_limits<int>::max(),
                    .n_kv_heads = 1 << 20, .head_dim = 1 << 20,
                    .block_size = 1 << 10, .num_blocks = 1 << 20,
                    .dtype = DType::kF32};
  EXPECT_EQ(KVCacheTensors::Allocate(huge).status().code(),
            StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace silica
