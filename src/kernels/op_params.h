// Parameter structs shared by the kernels (kernels/ref, kernels/cpu) and the
// OpTable interface (backend/op_table.h). They live here, below backend, so
// the kernels can take them directly without depending on the backend layer.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace silica {

struct RopeParams {
  int head_dim = 0;
  int rotary_dim = 0;  // leading dims of each head that rotate (<= head_dim)
  // true: pairs (i, i + rotary_dim/2) (NeoX / HF "rotate_half", used by
  // Qwen2/3, Gemma 3 and HF-layout Llama); false: pairs (2i, 2i+1) (GGUF
  // Llama, whose converter permutes q/k weights into interleaved order).
  bool neox = true;
  // rotary_dim/2 inverse frequencies with any scaling (linear, llama3, yarn)
  // already folded in by the model.
  const float* inv_freq = nullptr;
  float attention_factor = 1.0f;  // yarn's cos/sin scale; 1 otherwise
};

// A paged KV cache of one layer: K and V each [num_blocks, n_kv_heads,
// block_size, head_dim], element type F32 or F16. Heads are outside the
// slots within a block so that one kv head's keys of a block are one
// contiguous run (4 KiB for 16 x 128 halves): attention streams them with
// the hardware prefetcher instead of hopping n_kv_heads * head_dim per key.
struct PagedKV {
  void* k = nullptr;
  void* v = nullptr;
  DType dtype = DType::kF16;
  int num_blocks = 0;
  int block_size = 16;
  int n_kv_heads = 0;
  int head_dim = 0;
};

// Element offset of (slot, kv head, dim 0) in PagedKV::k or ::v, where slot
// = block * block_size + offset within the block.
inline int64_t KVOffset(const PagedKV& kv, int64_t slot, int head) {
  const int64_t block = slot / kv.block_size;
  const int64_t in_block = slot % kv.block_size;
  return ((block * kv.n_kv_heads + head) * kv.block_size + in_block) *
         kv.head_dim;
}

// Geometry of a flat, variable-length batch: sequence s owns query tokens
// [query_start[s], query_start[s+1]) which are the last tokens of its
// seq_lens[s] context tokens (so query i of s sits at position
// seq_lens[s] - n_query + i). Context token p of s lives in slot
// block_table[s * max_blocks_per_seq + p / block_size] * block_size +
// p % block_size.
struct AttentionBatch {
  int num_seqs = 0;
  const int32_t* query_start = nullptr;  // [num_seqs + 1]
  const int32_t* seq_lens = nullptr;     // [num_seqs]
  const int32_t* block_table = nullptr;  // [num_seqs * max_blocks_per_seq]
  int max_blocks_per_seq = 0;
};

struct AttentionParams {
  int n_heads = 0;
  int n_kv_heads = 0;  // GQA: query head h reads kv head h / (n_heads/n_kv)
  int head_dim = 0;
  float scale = 1.0f;      // applied to q·k (1/sqrt(d), or Gemma's scalar)
  int sliding_window = 0;  // > 0: attend to the last `window` positions only
  float softcap = 0.0f;    // > 0: scores = softcap * tanh(scores / softcap)
};

}  // namespace silica
