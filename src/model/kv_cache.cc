#include "model/kv_cache.h"

#include <cstdint>
#include <cstddef>
#include <limits>
#include <memory>
#include <new>
#include <string>

namespace silica {
namespace {

constexpr uint64_t kAlign = 64;  // a cache line: SIMD loads never split one

uint64_t RoundUp(uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

std::string Describe(const KVCacheShape& s) {
  return std::to_string(s.num_layers) + " layers x " +
         std::to_string(s.num_blocks) + " blocks x " +
         std::to_string(s.block_size) + " tokens x " +
         std::to_string(s.n_kv_heads) + " kv heads x " +
         std::to_string(s.head_dim) + " (" +
         std::string(DTypeName(s.dtype)) + ")";
}

}  // namespace

Result<std::unique_ptr<KVCacheTensors>> KVCacheTensors::Allocate(
    const KVCacheShape& shape) {
  if (shape.num_layers <= 0 || shape.n_kv_heads <= 0 || shape.head_dim <= 0 ||
      shape.block_size <= 0 || shape.num_blocks <= 0) {
    return InvalidArgument("KV cache shape must be positive: " +
                           Describe(shape));
  }
  if (shape.dtype != DType::kF16 && shape.dtype != DType::kF32) {
    return InvalidArgument("KV cache dtype must be f16 or f32, got " +
                           std::string(DTypeName(shape.dtype)));
  }
  // Slots are int32 in the batch inputs (slot_mapping, block tables).
  uint64_t slots = 0;
  if (MulOverflows(static_cast<uint64_t>(shape.num_blocks),
                   static_cast<uint64_t>(shape.block_size), &slots) ||
      slots > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return InvalidArgument("KV cache has more slots than int32 can address: " +
                           Describe(shape));
  }
  const uint64_t elem = GetDTypeInfo(shape.dtype).block_bytes;
  uint64_t per_slot = 0, region = 0, per_layer = 0, total = 0;
  if (MulOverflows(static_cast<uint64_t>(shape.n_kv_heads),
                   static_cast<uint64_t>(shape.head_dim), &per_slot) ||
      MulOverflows(per_slot, elem, &per_slot) ||
      MulOverflows(per_slot, slots, &region) ||
      region > std::numeric_limits<uint64_t>::max() - kAlign ||
      MulOverflows(RoundUp(region), 2, &per_layer) ||
      MulOverflows(per_layer, static_cast<uint64_t>(shape.num_layers),
                   &total) ||
      total > std::numeric_limits<uint64_t>::max() - kAlign ||
      total + kAlign > static_cast<uint64_t>(
                           std::numeric_limits<std::ptrdiff_t>::max())) {
    return ResourceExhausted("KV cache size overflows: " + Describe(shape));
  }
  region = RoundUp(region);

  // Over-allocate by one alignment unit and align inside, so the storage
  // keeps the plain new[]/delete[] pair of unique_ptr<uint8_t[]>. The ()
  // zero-initialises: a never-written slot reads as 0, not garbage.
  std::unique_ptr<uint8_t[]> storage(new (std::nothrow)
                                         uint8_t[total + kAlign]());
  if (storage == nullptr) {
    return ResourceExhausted("cannot allocate " + std::to_string(total) +
                             " bytes for the KV cache: " + Describe(shape));
  }
  const auto addr = reinterpret_cast<uintptr_t>(storage.get());
  uint8_t* base = storage.get() + (RoundUp(addr) - addr);

  auto cache = std::unique_ptr<KVCacheTensors>(new KVCacheTensors());
  cache->shape_ = shape;
  cache->bytes_ = total;
  cache->layers_.resize(shape.num_layers);
  for (int i = 0; i < shape.num_layers; ++i) {
    PagedKV& kv = cache->layers_[i];
    kv.k = base + static_cast<uint64_t>(i) * per_layer;
    kv.v = base + static_cast<uint64_t>(i) * per_layer + region;
    kv.dtype = shape.dtype;
    kv.num_blocks = shape.num_blocks;
    kv.block_size = shape.block_size;
    kv.n_kv_heads = shape.n_kv_heads;
    kv.head_dim = shape.head_dim;
  }
  cache->storage_ = std::move(storage);
  return cache;
}

}  // namespace silica
