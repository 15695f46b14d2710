// The plain (non-SIMD) half of CPU attention: cutting a flat varlen batch
// into tiles (sequence x kv head x query range), splitting long lone
// decodes over their context so every thread has work, ordering the tiles
// for dynamic scheduling, and merging the split parts.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/ops_attention_internal.h"

namespace silica::cpu {
namespace {

// Combines the parts of a split decode tile (rows x [max, sum, acc]) into
// the normalized output rows: out = sum_s acc_s e^(m_s - M) / sum_s l_s
// e^(m_s - M) with M the largest max.
void MergeGroup(const float* partials, int64_t first, int parts, int rows,
                int64_t stride, const AttentionBatch& batch,
                const AttentionParams& p, const AttentionTile& tile,
                float* out) {
  const int d = p.head_dim;
  const int group = p.n_heads / p.n_kv_heads;
  const int q0 = batch.query_start[tile.seq];
  const int64_t row_floats = PartialRowFloats(d);
  std::vector<float> w(parts);
  for (int r = 0; r < rows; ++r) {
    float m = -HUGE_VALF;
    for (int k = 0; k < parts; ++k) {
      m = std::max(m, partials[first + k * stride + r * row_floats]);
    }
    float total = 0.0f;
    for (int k = 0; k < parts; ++k) {
      const float* part = partials + first + k * stride + r * row_floats;
      w[k] = std::exp(part[0] - m);  // a part with no keys: e^-inf = 0
      total += w[k] * part[1];
    }
    const int i = tile.q_begin + r / group;
    const int h = tile.kv_head * group + r % group;
    float* o = out + (int64_t{q0 + i} * p.n_heads + h) * d;
    for (int e = 0; e < d; ++e) {
      float a = 0.0f;
      for (int k = 0; k < parts; ++k) {
        a += w[k] * partials[first + k * stride + r * row_floats + 2 + e];
      }
      o[e] = a / total;
    }
  }
}

}  // namespace

AttentionPlan PlanAttention(const AttentionBatch& batch,
                            const AttentionParams& p, int block_size,
                            int num_threads) {
  AttentionPlan plan;
  std::vector<AttentionTile>& tiles = plan.tiles;
  const int group = p.n_heads / p.n_kv_heads;
  const int tile_queries = std::max(1, kTileRows / group);
  std::vector<int64_t> cost;
  for (int s = 0; s < batch.num_seqs; ++s) {
    const int n_query = batch.query_start[s + 1] - batch.query_start[s];
    const int len = batch.seq_lens[s];
    for (int i0 = 0; i0 < n_query; i0 += tile_queries) {
      const int i1 = std::min(n_query, i0 + tile_queries);
      // Work ~ rows x keys the tile's last query sees (window-clipped).
      int64_t keys = len - n_query + i1;
      if (p.sliding_window > 0) {
        keys = std::min<int64_t>(keys, p.sliding_window);
      }
      for (int h = 0; h < p.n_kv_heads; ++h) {
        tiles.push_back({s, h, i0, i1});
        cost.push_back(keys * (i1 - i0));
      }
    }
  }
  if (tiles.empty()) return plan;

  // Too few tiles to keep every thread busy (one long sequence with few kv
  // heads): split single-query tiles over their context, flash-decoding
  // style, and merge the parts afterwards.
  const int64_t row_floats = PartialRowFloats(p.head_dim);
  std::vector<SplitGroup>& splits = plan.splits;
  int64_t& partial_floats = plan.partial_floats;
  const size_t want = size_t{kSplitTilesPerThread} * num_threads;
  if (num_threads > 1 && tiles.size() < want) {
    const int parts_wanted =
        static_cast<int>((want + tiles.size() - 1) / tiles.size());
    const size_t n_tiles = tiles.size();
    for (size_t t = 0; t < n_tiles; ++t) {
      AttentionTile tile = tiles[t];
      if (tile.q_end - tile.q_begin != 1) continue;
      const int keys = static_cast<int>(cost[t]);
      const int parts = std::min(parts_wanted, keys / kSplitMinKeys);
      if (parts < 2) continue;
      const int n_query =
          batch.query_start[tile.seq + 1] - batch.query_start[tile.seq];
      const int pos = batch.seq_lens[tile.seq] - n_query + tile.q_begin;
      const int lo = pos + 1 - keys;
      const int bs = block_size;
      SplitGroup g{tile, partial_floats, parts, group};
      for (int k = 0; k < parts; ++k) {
        // Part boundaries on block boundaries: no block is read twice.
        auto bound = [&](int j) {
          if (j == 0) return lo;
          if (j == parts) return pos + 1;
          const int64_t at = lo + int64_t{keys} * j / parts;
          return static_cast<int>(
              std::min<int64_t>(pos + 1, (at + bs - 1) / bs * bs));
        };
        AttentionTile part = tile;
        part.key_begin = bound(k);
        part.key_end = bound(k + 1);
        part.partial = partial_floats;
        partial_floats += group * row_floats;
        if (k == 0) {
          tiles[t] = part;
          cost[t] = part.key_end - part.key_begin;
        } else {
          tiles.push_back(part);
          cost.push_back(part.key_end - part.key_begin);
        }
      }
      splits.push_back(g);
    }
  }
  // Largest first, handed out dynamically: the tail of the schedule is
  // made of small items, so threads finish together.
  std::vector<int>& order = plan.order;
  order.resize(tiles.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return cost[a] > cost[b]; });

  plan.max_rows = tile_queries * group;
  return plan;
}

void MergePartials(const AttentionPlan& plan, const float* partials,
                   const AttentionBatch& batch, const AttentionParams& p,
                   float* out) {
  const int64_t row_floats = PartialRowFloats(p.head_dim);
  for (const SplitGroup& g : plan.splits) {
    MergeGroup(partials, g.first, g.parts, g.rows, g.rows * row_floats, batch,
               p, g.tile, out);
  }
}

}  // namespace silica::cpu
