// Paged causal attention with Highway. One work item ("tile") is a query
// range of one sequence times all query heads of one kv head, so every K/V
// block is read from memory once per tile and reused from L1 by each of the
// tile's rows (GQA decode: the group's heads; prefill: queries x heads).
// Softmax is online (running max, running sum, rescaled accumulator), so
// K/V are streamed exactly once. F16 K/V blocks are widened to f32 once per
// tile into scratch. Masked keys (outside the causal or sliding window) are
// never loaded into arithmetic: a row's key range is clipped first.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/half.h"
#include "kernels/cpu/ops.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/ops_attention.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"

#ifndef SILICA_KERNELS_CPU_OPS_ATTENTION_ONCE
#define SILICA_KERNELS_CPU_OPS_ATTENTION_ONCE
namespace silica::cpu {

struct AttentionTile {
  int seq = 0;
  int kv_head = 0;
  int q_begin = 0;  // query indices within the sequence: [q_begin, q_end)
  int q_end = 0;
};

// Rows (query x head pairs) per tile: enough to amortize a K/V block over
// many dot products, few enough that the accumulators stay in L2.
inline constexpr int kTileRows = 64;
// Score buffer padding: the widest vector (AVX-512 f32) in lanes.
inline constexpr int kMaxLanes = 16;

inline size_t ScratchFloats(const AttentionParams& p, int block_size,
                            int rows) {
  const size_t d = p.head_dim;
  return 2 * rows * d + 2 * size_t(block_size) * d + 2 * rows + block_size +
         2 * kMaxLanes;
}

}  // namespace silica::cpu
#endif

HWY_BEFORE_NAMESPACE();
namespace silica {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Widens n rows of d halves (row stride `stride` elements) to dense f32.
void WidenRows(const uint16_t* src, int64_t stride, int n, int d, float* dst) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<hwy::float16_t, decltype(df)> dh;
  const int nl = static_cast<int>(hn::Lanes(df));
  for (int j = 0; j < n; ++j) {
    const auto* s = reinterpret_cast<const hwy::float16_t*>(src + j * stride);
    float* o = dst + j * d;
    int e = 0;
    for (; e + nl <= d; e += nl) {
      hn::StoreU(hn::PromoteTo(df, hn::LoadU(dh, s + e)), df, o + e);
    }
    for (; e < d; ++e) o[e] = HalfToFloat(src[j * stride + e]);
  }
}

float Dot(const float* a, const float* b, int d) {
  const hn::ScalableTag<float> df;
  const int nl = static_cast<int>(hn::Lanes(df));
  auto s0 = hn::Zero(df), s1 = hn::Zero(df);
  int e = 0;
  for (; e + 2 * nl <= d; e += 2 * nl) {
    s0 = hn::MulAdd(hn::LoadU(df, a + e), hn::LoadU(df, b + e), s0);
    s1 = hn::MulAdd(hn::LoadU(df, a + e + nl), hn::LoadU(df, b + e + nl), s1);
  }
  for (; e + nl <= d; e += nl) {
    s0 = hn::MulAdd(hn::LoadU(df, a + e), hn::LoadU(df, b + e), s0);
  }
  float s = hn::GetLane(hn::SumOfLanes(df, hn::Add(s0, s1)));
  for (; e < d; ++e) s += a[e] * b[e];
  return s;
}

// scores[j] = q · key j for n keys (key j at keys + j * stride), four keys
// per pass so each load of q feeds four FMAs.
void Scores(const float* q, const float* keys, int64_t stride, int n, int d,
            float* scores) {
  const hn::ScalableTag<float> df;
  const int nl = static_cast<int>(hn::Lanes(df));
  int j = 0;
  if (d % nl == 0) {
    for (; j + 4 <= n; j += 4) {
      const float* k0 = keys + j * stride;
      const float* k1 = k0 + stride;
      const float* k2 = k1 + stride;
      const float* k3 = k2 + stride;
      auto a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df),
           a3 = hn::Zero(df);
      for (int e = 0; e < d; e += nl) {
        const auto qv = hn::LoadU(df, q + e);
        a0 = hn::MulAdd(qv, hn::LoadU(df, k0 + e), a0);
        a1 = hn::MulAdd(qv, hn::LoadU(df, k1 + e), a1);
        a2 = hn::MulAdd(qv, hn::LoadU(df, k2 + e), a2);
        a3 = hn::MulAdd(qv, hn::LoadU(df, k3 + e), a3);
      }
      scores[j] = hn::GetLane(hn::SumOfLanes(df, a0));
      scores[j + 1] = hn::GetLane(hn::SumOfLanes(df, a1));
      scores[j + 2] = hn::GetLane(hn::SumOfLanes(df, a2));
      scores[j + 3] = hn::GetLane(hn::SumOfLanes(df, a3));
    }
  }
  for (; j < n; ++j) scores[j] = Dot(q, keys + j * stride, d);
}

// Online-softmax update of one row with n scores (already scaled and
// capped; entries [n, padded) hold -inf): returns the row's new max and
// turns the scores into exp(score - new max).
float ExpScores(float* scores, int n, int padded, float softcap,
                float row_max) {
  const hn::ScalableTag<float> df;
  const int nl = static_cast<int>(hn::Lanes(df));
  if (softcap > 0.0f) {
    const auto cap = hn::Set(df, softcap), inv = hn::Set(df, 1.0f / softcap);
    for (int j = 0; j < n; j += nl) {
      const auto s = hn::LoadU(df, scores + j);
      hn::StoreU(hn::Mul(cap, hn::Tanh(df, hn::Mul(s, inv))), df, scores + j);
    }
    for (int j = n; j < padded; ++j) scores[j] = -HUGE_VALF;
  }
  auto vmax = hn::Set(df, row_max);
  for (int j = 0; j < padded; j += nl) {
    vmax = hn::Max(vmax, hn::LoadU(df, scores + j));
  }
  const float new_max = hn::GetLane(hn::MaxOfLanes(df, vmax));
  const auto m = hn::Set(df, new_max);
  for (int j = 0; j < padded; j += nl) {
    // exp(-inf) is 0: Exp zeroes everything below its valid range.
    hn::StoreU(hn::Exp(df, hn::Sub(hn::LoadU(df, scores + j), m)), df,
               scores + j);
  }
  return new_max;
}

// acc = acc * corr + sum_j p[j] * value j, one vector of acc at a time so
// acc is loaded and stored once per block.
void AccumulateValues(const float* p, const float* values, int64_t stride,
                      int n, int d, float corr, float* acc) {
  const hn::ScalableTag<float> df;
  const int nl = static_cast<int>(hn::Lanes(df));
  const auto vc = hn::Set(df, corr);
  int e = 0;
  for (; e + nl <= d; e += nl) {
    auto a = hn::Mul(hn::LoadU(df, acc + e), vc);
    for (int j = 0; j < n; ++j) {
      a = hn::MulAdd(hn::Set(df, p[j]), hn::LoadU(df, values + j * stride + e),
                     a);
    }
    hn::StoreU(a, df, acc + e);
  }
  for (; e < d; ++e) {
    float a = acc[e] * corr;
    for (int j = 0; j < n; ++j) a += p[j] * values[j * stride + e];
    acc[e] = a;
  }
}

void AttendTileImpl(const float* q, const PagedKV& kv,
                    const AttentionBatch& batch, const AttentionParams& p,
                    const cpu::AttentionTile& tile, float* scratch,
                    float* out) {
  const hn::ScalableTag<float> df;
  const int nl = static_cast<int>(hn::Lanes(df));
  const int d = p.head_dim;
  const int group = p.n_heads / p.n_kv_heads;
  const int bs = kv.block_size;
  const int q0 = batch.query_start[tile.seq];
  const int n_query = batch.query_start[tile.seq + 1] - q0;
  const int len = batch.seq_lens[tile.seq];
  const int32_t* table =
      batch.block_table + int64_t{tile.seq} * batch.max_blocks_per_seq;
  const int rows = (tile.q_end - tile.q_begin) * group;
  const int64_t kv_row = int64_t{kv.n_kv_heads} * d;

  float* qs = scratch;                             // [rows, d] q * scale
  float* acc = qs + int64_t{rows} * d;             // [rows, d]
  float* kbuf = acc + int64_t{rows} * d;           // [bs, d] widened K
  float* vbuf = kbuf + int64_t{bs} * d;            // [bs, d] widened V
  float* row_max = vbuf + int64_t{bs} * d;         // [rows]
  float* row_sum = row_max + rows;                 // [rows]
  float* scores = row_sum + rows;                  // [bs + padding]

  auto pos_of = [&](int i) { return len - n_query + i; };
  auto lo_of = [&](int i) {
    return p.sliding_window > 0 ? std::max(0, pos_of(i) - p.sliding_window + 1)
                                : 0;
  };
  const auto vscale = hn::Set(df, p.scale);
  for (int r = 0; r < rows; ++r) {
    const int i = tile.q_begin + r / group;
    const int h = tile.kv_head * group + r % group;
    const float* src = q + (int64_t{q0 + i} * p.n_heads + h) * d;
    float* dst = qs + int64_t{r} * d;
    int e = 0;
    for (; e + nl <= d; e += nl) {
      hn::StoreU(hn::Mul(hn::LoadU(df, src + e), vscale), df, dst + e);
    }
    for (; e < d; ++e) dst[e] = src[e] * p.scale;
    row_max[r] = -HUGE_VALF;
    row_sum[r] = 0.0f;
  }
  std::fill(acc, acc + int64_t{rows} * d, 0.0f);

  // The rows' key ranges [lo_i, pos_i] overlap or touch from one query to
  // the next, so their union is one range and every key in it was written.
  const int key_lo = lo_of(tile.q_begin);
  const int key_hi = pos_of(tile.q_end - 1);
  for (int b = key_lo / bs; b <= key_hi / bs; ++b) {
    const int c0 = std::max(key_lo, b * bs);
    const int c1 = std::min(key_hi, b * bs + bs - 1);
    const int nk = c1 - c0 + 1;
    const int64_t first =
        (int64_t{table[b]} * bs + (c0 - b * bs)) * kv_row + int64_t{tile.kv_head} * d;
    const float* keys;
    const float* values;
    int64_t stride;
    if (kv.dtype == DType::kF16) {
      WidenRows(static_cast<const uint16_t*>(kv.k) + first, kv_row, nk, d,
                kbuf);
      WidenRows(static_cast<const uint16_t*>(kv.v) + first, kv_row, nk, d,
                vbuf);
      keys = kbuf;
      values = vbuf;
      stride = d;
    } else {
      keys = static_cast<const float*>(kv.k) + first;
      values = static_cast<const float*>(kv.v) + first;
      stride = kv_row;
    }
    for (int r = 0; r < rows; ++r) {
      const int i = tile.q_begin + r / group;
      const int a = std::max(c0, lo_of(i)) - c0;
      const int e = std::min(c1, pos_of(i)) - c0;  // inclusive
      if (a > e) continue;
      const int n = e - a + 1;
      const int padded = (n + nl - 1) / nl * nl;
      Scores(qs + int64_t{r} * d, keys + a * stride, stride, n, d, scores);
      for (int j = n; j < padded; ++j) scores[j] = -HUGE_VALF;
      const float new_max =
          ExpScores(scores, n, padded, p.softcap, row_max[r]);
      const float corr = std::exp(row_max[r] - new_max);  // 0 on first block
      float sum = 0.0f;
      for (int j = 0; j < n; ++j) sum += scores[j];
      row_sum[r] = row_sum[r] * corr + sum;
      row_max[r] = new_max;
      AccumulateValues(scores, values + a * stride, stride, n, d, corr,
                       acc + int64_t{r} * d);
    }
  }

  for (int r = 0; r < rows; ++r) {
    const int i = tile.q_begin + r / group;
    const int h = tile.kv_head * group + r % group;
    float* o = out + (int64_t{q0 + i} * p.n_heads + h) * d;
    const float* a = acc + int64_t{r} * d;
    const auto inv = hn::Set(df, 1.0f / row_sum[r]);
    int e = 0;
    for (; e + nl <= d; e += nl) {
      hn::StoreU(hn::Mul(hn::LoadU(df, a + e), inv), df, o + e);
    }
    for (; e < d; ++e) o[e] = a[e] / row_sum[r];
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace silica
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace silica::cpu {

HWY_EXPORT(AttendTileImpl);

void Attention(ThreadPool& pool, AttentionScratch& scratch, const float* q,
               const PagedKV& kv, const AttentionBatch& batch,
               const AttentionParams& p, float* out) {
  const int group = p.n_heads / p.n_kv_heads;
  const int tile_queries = std::max(1, kTileRows / group);
  std::vector<AttentionTile> tiles;
  std::vector<int64_t> cost;
  for (int s = 0; s < batch.num_seqs; ++s) {
    const int n_query = batch.query_start[s + 1] - batch.query_start[s];
    const int len = batch.seq_lens[s];
    for (int i0 = 0; i0 < n_query; i0 += tile_queries) {
      const int i1 = std::min(n_query, i0 + tile_queries);
      // Work ~ rows x keys the tile's last query sees (window-clipped).
      int64_t keys = len - n_query + i1;
      if (p.sliding_window > 0) keys = std::min<int64_t>(keys, p.sliding_window);
      for (int h = 0; h < p.n_kv_heads; ++h) {
        tiles.push_back({s, h, i0, i1});
        cost.push_back(keys * (i1 - i0));
      }
    }
  }
  if (tiles.empty()) return;
  // Largest first, handed out dynamically: the tail of the schedule is
  // made of small items, so threads finish together.
  std::vector<int> order(tiles.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return cost[a] > cost[b]; });

  const int rows = tile_queries * group;
  const size_t need = ScratchFloats(p, kv.block_size, rows);
  const int threads =
      static_cast<int>(std::min<size_t>(pool.num_threads(), tiles.size()));
  if (scratch.per_thread.size() < static_cast<size_t>(pool.num_threads())) {
    scratch.per_thread.resize(pool.num_threads());
  }
  for (int t = 0; t < threads; ++t) {
    if (scratch.per_thread[t].size() < need) scratch.per_thread[t].resize(need);
  }
  std::atomic<size_t> next{0};
  auto worker = [&](int t) {
    if (t >= threads) return;
    float* buf = scratch.per_thread[t].data();
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) <
                   order.size();) {
      HWY_DYNAMIC_DISPATCH(AttendTileImpl)(q, kv, batch, p, tiles[order[i]],
                                           buf, out);
    }
  };
  if (threads == 1) {
    worker(0);
  } else {
    pool.RunOnAll(worker);
  }
}

}  // namespace silica::cpu
#endif  // HWY_ONCE
