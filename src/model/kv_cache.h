// KVCacheTensors: the bytes of a paged KV cache, one PagedKV per layer, all
// with the same block geometry. Which blocks belong to which sequence is
// bookkeeping kept elsewhere (kvcache/, the serving engine); this class only
// owns memory.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "backend/op_table.h"
#include "core/status.h"

namespace silica {

struct KVCacheShape {
  int num_layers = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int block_size = 16;
  int num_blocks = 0;
  DType dtype = DType::kF16;  // F16 or F32
};

class KVCacheTensors {
 public:
  static Result<std::unique_ptr<KVCacheTensors>> Allocate(
      const KVCacheShape& shape);

  const KVCacheShape& shape() const { return shape_; }
  PagedKV& layer(int i) { return layers_[i]; }
  uint64_t bytes() const { return bytes_; }

 private:
  KVCacheShape shape_;
  std::vector<PagedKV> layers_;
  std::unique_ptr<uint8_t[]> storage_;
  uint64_t bytes_ = 0;
};

}  // namespace silica
