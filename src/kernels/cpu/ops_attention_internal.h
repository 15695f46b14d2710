// Internals of the CPU attention kernel shared by its Highway part
// (ops_attention.cc: the per-tile kernel) and its plain part
// (ops_attention_plan.cc: splitting a batch into tiles, merging split
// decodes). Not for use outside kernels/cpu.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/op_params.h"

namespace silica::cpu {

struct AttentionTile {
  int seq = 0;
  int kv_head = 0;
  int q_begin = 0;  // query indices within the sequence: [q_begin, q_end)
  int q_end = 0;
  // Context positions this tile may read: [key_begin, key_end). A decode
  // tile split over the context (so two threads share one long sequence)
  // covers part of it and leaves its unnormalized result at `partial`.
  int key_begin = 0;
  int key_end = std::numeric_limits<int>::max();
  int64_t partial = -1;  // float offset in the partials buffer, or -1
};

// One row of a partial result: running max, running sum, accumulator[d].
inline int64_t PartialRowFloats(int head_dim) { return head_dim + 2; }

// Split a lone decode tile when the batch has fewer tiles than this many
// per thread, into parts of at least kSplitMinKeys keys.
inline constexpr int kSplitTilesPerThread = 4;
inline constexpr int kSplitMinKeys = 256;

// Rows (query x head pairs) per tile: enough to amortize a K/V block over
// many dot products, few enough that the accumulators stay in L2.
inline constexpr int kTileRows = 64;
// K (and as many V) floats gathered per online-softmax step, whole blocks
// and at least one: the per-step work of a row (max, exp, rescale) is paid
// once per chunk. Decode tiles (few rows) keep the chunk in L1; prefill
// tiles reuse it across many rows, so a larger one amortizes more.
inline constexpr int kChunkFloatsDecode = 2048;
inline constexpr int kChunkFloatsPrefill = 4096;
static_assert(kChunkFloatsPrefill >= kChunkFloatsDecode);  // scratch sizing
inline constexpr int kDecodeRows = 8;

// Score buffer padding: the widest vector (AVX-512 f32) in lanes.
inline constexpr int kMaxLanes = 16;

inline int ChunkBlocks(int block_size, int head_dim, int rows) {
  const int floats = rows <= kDecodeRows ? kChunkFloatsDecode
                                         : kChunkFloatsPrefill;
  return std::max(1, floats / head_dim / block_size);
}

inline size_t ScratchFloats(const AttentionParams& p, int block_size,
                            int rows) {
  const size_t d = p.head_dim;
  const size_t chunk =
      size_t(ChunkBlocks(block_size, p.head_dim, rows)) * block_size;
  return 2 * rows * d + 2 * chunk * d + 2 * rows + chunk + 2 * kMaxLanes;
}

// The work of one Attention call: tiles in the order to hand them out
// (largest first), and the split decode tiles to merge afterwards.
struct SplitGroup {
  AttentionTile tile;  // the unsplit tile (where its output rows go)
  int64_t first = 0;   // partials offset of part 0; parts follow at
  int parts = 0;       // rows * PartialRowFloats apart
  int rows = 0;
};

struct AttentionPlan {
  std::vector<AttentionTile> tiles;
  std::vector<int> order;  // indices into tiles, most work first
  std::vector<SplitGroup> splits;
  int64_t partial_floats = 0;
  int max_rows = 0;  // rows of the largest tile (scratch sizing)
};

AttentionPlan PlanAttention(const AttentionBatch& batch,
                            const AttentionParams& p, int block_size,
                            int num_threads);

// Writes the normalized output rows of every split group.
void MergePartials(const AttentionPlan& plan, const float* partials,
                   const AttentionBatch& batch, const AttentionParams& p,
                   float* out);

}  // namespace silica::cpu
