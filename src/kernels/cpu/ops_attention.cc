// Paged causal attention with Highway. One work item ("tile") is a query
// range of one sequence times all query heads of one kv head, so every K/V
// block is read from memory once per tile and reused from L1 by each of the
// tile's rows (GQA decode: the group's heads; prefill: queries x heads).
// Softmax is online (running max, running sum, rescaled accumulator) over
// chunks of whole blocks gathered once as f32 into scratch, so K/V are
// streamed exactly once, with the next chunk prefetched meanwhile. Masked
// keys (outside the causal or sliding window) are never loaded into
// arithmetic: a row's key range is clipped first. Tiling and the merge of
// split decodes live in ops_attention_plan.cc.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/half.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/ops_attention_internal.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/ops_attention.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace silica {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Prefetches the K and V runs of the next chunk's blocks, one cache line
// of each per Next(), so the fetches spread over the work on this chunk
// instead of flooding the miss buffers all at once.
class ChunkPrefetch {
 public:
  ChunkPrefetch(const uint8_t* k, const uint8_t* v, int64_t run_bytes)
      : k_(k), v_(v), run_bytes_(run_bytes) {}
  void Add(int64_t byte_offset) {
    if (n_ < kMaxRuns) runs_[n_++] = byte_offset;
  }
  void Next() {
    if (run_ >= n_) return;
    hwy::Prefetch(k_ + runs_[run_] + off_);
    hwy::Prefetch(v_ + runs_[run_] + off_);
    off_ += 64;
    if (off_ >= run_bytes_) {
      off_ = 0;
      ++run_;
    }
  }
  void Rest() {
    while (run_ < n_) Next();
  }

 private:
  static constexpr int kMaxRuns = 64;
  const uint8_t* k_;
  const uint8_t* v_;
  int64_t run_bytes_;
  int64_t runs_[kMaxRuns];
  int n_ = 0, run_ = 0;
  int64_t off_ = 0;
};

// Widens n contiguous K and V elements (halves or floats) to f32, issuing
// one prefetch per 64 bytes of K consumed.
void GatherRun(const void* k, const void* v, DType dtype, int64_t n,
               float* kdst, float* vdst, ChunkPrefetch& ahead) {
  const hn::ScalableTag<float> df;
  const int64_t nl = static_cast<int64_t>(hn::Lanes(df));
  int64_t e = 0;
  if (dtype == DType::kF16) {
    const hn::Rebind<hwy::float16_t, decltype(df)> dh;
    const auto* ks = static_cast<const hwy::float16_t*>(k);
    const auto* vs = static_cast<const hwy::float16_t*>(v);
    for (int64_t bytes = 0; e + nl <= n; e += nl) {
      hn::StoreU(hn::PromoteTo(df, hn::LoadU(dh, ks + e)), df, kdst + e);
      hn::StoreU(hn::PromoteTo(df, hn::LoadU(dh, vs + e)), df, vdst + e);
      if ((bytes += nl * 2) >= 64) {
        ahead.Next();
        bytes = 0;
      }
    }
    for (; e < n; ++e) {
      kdst[e] = HalfToFloat(static_cast<const uint16_t*>(k)[e]);
      vdst[e] = HalfToFloat(static_cast<const uint16_t*>(v)[e]);
    }
  } else {
    const auto* ks = static_cast<const float*>(k);
    const auto* vs = static_cast<const float*>(v);
    for (int64_t bytes = 0; e + nl <= n; e += nl) {
      hn::StoreU(hn::LoadU(df, ks + e), df, kdst + e);
      hn::StoreU(hn::LoadU(df, vs + e), df, vdst + e);
      if ((bytes += nl * 4) >= 64) {
        ahead.Next();
        bytes = 0;
      }
    }
    for (; e < n; ++e) {
      kdst[e] = ks[e];
      vdst[e] = vs[e];
    }
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

#if HWY_TARGET != HWY_SCALAR
// Folds the 128-bit blocks of v together and stores the 4 resulting lanes.
template <class D>
HWY_INLINE void FoldBlocksAndStore(D d, hn::Vec<D> v, float* out) {
  if constexpr (hn::MaxLanes(D()) > 4) {
    const hn::Half<D> dh;
    FoldBlocksAndStore(dh, hn::Add(hn::LowerHalf(dh, v), hn::UpperHalf(dh, v)),
                       out);
  } else {
    hn::StoreU(v, d, out);
  }
}

// out[0..3] = the lane sums of a0..a3. Transposing within 128-bit blocks
// first costs about half of four separate horizontal reductions.
template <class D>
HWY_INLINE void SumOfLanes4(D d, hn::Vec<D> a0, hn::Vec<D> a1, hn::Vec<D> a2,
                            hn::Vec<D> a3, float* out) {
  const hn::Repartition<uint64_t, D> d64;
  // Per block: [a0 0+2, a1 0+2, a0 1+3, a1 1+3] and the same for a2, a3.
  const auto t0 = hn::BitCast(d64, hn::Add(hn::InterleaveLower(d, a0, a1),
                                           hn::InterleaveUpper(d, a0, a1)));
  const auto t1 = hn::BitCast(d64, hn::Add(hn::InterleaveLower(d, a2, a3),
                                           hn::InterleaveUpper(d, a2, a3)));
  // Per block: [a0, a1, a2, a3] partial sums.
  const auto u = hn::Add(hn::BitCast(d, hn::InterleaveLower(d64, t0, t1)),
                         hn::BitCast(d, hn::InterleaveUpper(d64, t0, t1)));
  FoldBlocksAndStore(d, u, out);
}
#endif

// scores[j] = q · key j for n keys (key j at keys + j * stride), four keys
// per pass so each load of q feeds four FMAs.
void Scores(const float* q, const float* keys, int64_t stride, int n, int d,
            float* scores) {
  int j = 0;
#if HWY_TARGET != HWY_SCALAR
  const hn::ScalableTag<float> df;
  const int nl = static_cast<int>(hn::Lanes(df));
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
      SumOfLanes4(df, a0, a1, a2, a3, scores + j);
    }
  }
#endif
  for (; j < n; ++j) scores[j] = Dot(q, keys + j * stride, d);
}

// Online-softmax step of one row over n scores (already scaled; entries
// [n, padded) hold -inf): applies the softcap, turns the scores into
// exp(score - new max) and returns the new max; *sum gets their total.
float ExpScores(float* scores, int n, int padded, float softcap,
                float row_max, float* sum) {
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
  auto vsum = hn::Zero(df);
  for (int j = 0; j < padded; j += nl) {
    // exp(-inf) is 0: Exp zeroes everything below its valid range.
    const auto e = hn::Exp(df, hn::Sub(hn::LoadU(df, scores + j), m));
    vsum = hn::Add(vsum, e);
    hn::StoreU(e, df, scores + j);
  }
  *sum = hn::GetLane(hn::SumOfLanes(df, vsum));
  return new_max;
}

// acc = acc * corr + sum_j p[j] * value j. Four vectors of acc at a time:
// each is one FMA chain over the keys, and four independent chains hide the
// FMA latency; acc is loaded and stored once per block.
void AccumulateValues(const float* p, const float* values, int64_t stride,
                      int n, int d, float corr, float* acc) {
  const hn::ScalableTag<float> df;
  const int nl = static_cast<int>(hn::Lanes(df));
  const auto vc = hn::Set(df, corr);
  int e = 0;
  for (; e + 4 * nl <= d; e += 4 * nl) {
    auto a0 = hn::Mul(hn::LoadU(df, acc + e), vc);
    auto a1 = hn::Mul(hn::LoadU(df, acc + e + nl), vc);
    auto a2 = hn::Mul(hn::LoadU(df, acc + e + 2 * nl), vc);
    auto a3 = hn::Mul(hn::LoadU(df, acc + e + 3 * nl), vc);
    const float* v = values + e;
    for (int j = 0; j < n; ++j, v += stride) {
      const auto pj = hn::Set(df, p[j]);
      a0 = hn::MulAdd(pj, hn::LoadU(df, v), a0);
      a1 = hn::MulAdd(pj, hn::LoadU(df, v + nl), a1);
      a2 = hn::MulAdd(pj, hn::LoadU(df, v + 2 * nl), a2);
      a3 = hn::MulAdd(pj, hn::LoadU(df, v + 3 * nl), a3);
    }
    hn::StoreU(a0, df, acc + e);
    hn::StoreU(a1, df, acc + e + nl);
    hn::StoreU(a2, df, acc + e + 2 * nl);
    hn::StoreU(a3, df, acc + e + 3 * nl);
  }
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
                    float* partials, float* out) {
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
  const int64_t elem = kv.dtype == DType::kF16 ? 2 : 4;

  const int chunk_blocks = cpu::ChunkBlocks(bs, d, rows);
  const int64_t chunk_keys = int64_t{chunk_blocks} * bs;
  float* qs = scratch;                        // [rows, d] q * scale
  float* acc = qs + int64_t{rows} * d;        // [rows, d]
  float* kbuf = acc + int64_t{rows} * d;      // [chunk_keys, d] K as f32
  float* vbuf = kbuf + chunk_keys * d;        // [chunk_keys, d] V as f32
  float* row_max = vbuf + chunk_keys * d;     // [rows]
  float* row_sum = row_max + rows;            // [rows]
  float* scores = row_sum + rows;             // [chunk_keys + padding]

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
  const int key_lo = std::max(lo_of(tile.q_begin), tile.key_begin);
  const int key_hi = std::min(pos_of(tile.q_end - 1), tile.key_end - 1);
  const int last_block = key_hi / bs;
  const auto* kbase = static_cast<const uint8_t*>(kv.k);
  const auto* vbase = static_cast<const uint8_t*>(kv.v);
  // (A split part can hold no key of a windowed row: key_lo > key_hi.)
  for (int b0 = key_lo / bs; key_lo <= key_hi && b0 <= last_block;
       b0 += chunk_blocks) {
    const int b1 = std::min(last_block + 1, b0 + chunk_blocks);  // exclusive
    const int c0 = std::max(key_lo, b0 * bs);
    const int c1 = std::min(key_hi, b1 * bs - 1);  // inclusive
    // Blocks sit anywhere in the pool, so the hardware prefetcher cannot
    // run ahead across them: fetch the next chunk's runs while this one is
    // gathered and computed.
    ChunkPrefetch ahead(kbase, vbase, int64_t{bs} * d * elem);
    for (int b = b1; b < std::min(last_block + 1, b1 + chunk_blocks); ++b) {
      ahead.Add(KVOffset(kv, int64_t{table[b]} * bs, tile.kv_head) * elem);
    }
    // Gather the chunk's keys, block by block, as dense f32 rows.
    for (int b = b0; b < b1; ++b) {
      const int k0 = std::max(c0, b * bs), k1 = std::min(c1, b * bs + bs - 1);
      const int64_t off =
          KVOffset(kv, int64_t{table[b]} * bs + (k0 - b * bs), tile.kv_head) *
          elem;
      GatherRun(kbase + off, vbase + off, kv.dtype, int64_t{k1 - k0 + 1} * d,
                kbuf + int64_t{k0 - c0} * d, vbuf + int64_t{k0 - c0} * d,
                ahead);
    }
    ahead.Rest();

    for (int r = 0; r < rows; ++r) {
      const int i = tile.q_begin + r / group;
      const int a = std::max(c0, lo_of(i)) - c0;
      const int e = std::min(c1, pos_of(i)) - c0;  // inclusive
      if (a > e) continue;
      const int n = e - a + 1;
      const int padded = (n + nl - 1) / nl * nl;
      Scores(qs + int64_t{r} * d, kbuf + int64_t{a} * d, d, n, d, scores);
      for (int j = n; j < padded; ++j) scores[j] = -HUGE_VALF;
      float sum;
      const float new_max =
          ExpScores(scores, n, padded, p.softcap, row_max[r], &sum);
      const float corr = std::exp(row_max[r] - new_max);  // 0 on first chunk
      row_sum[r] = row_sum[r] * corr + sum;
      row_max[r] = new_max;
      AccumulateValues(scores, vbuf + int64_t{a} * d, d, n, d, corr,
                       acc + int64_t{r} * d);
    }
  }

  if (tile.partial >= 0) {
    // Part of a split tile: keep max, sum and the unnormalized accumulator
    // for the merge (a row that saw no key here has max -inf, sum 0).
    for (int r = 0; r < rows; ++r) {
      float* dst = partials + tile.partial + r * cpu::PartialRowFloats(d);
      dst[0] = row_max[r];
      dst[1] = row_sum[r];
      std::copy_n(acc + int64_t{r} * d, d, dst + 2);
    }
    return;
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
  const AttentionPlan plan =
      PlanAttention(batch, p, kv.block_size, pool.num_threads());
  if (plan.tiles.empty()) return;
  if (scratch.partials.size() < static_cast<size_t>(plan.partial_floats)) {
    scratch.partials.resize(plan.partial_floats);
  }
  const size_t need = ScratchFloats(p, kv.block_size, plan.max_rows);
  const int threads = static_cast<int>(
      std::min<size_t>(pool.num_threads(), plan.tiles.size()));
  if (scratch.per_thread.size() < static_cast<size_t>(pool.num_threads())) {
    scratch.per_thread.resize(pool.num_threads());
  }
  for (int t = 0; t < threads; ++t) {
    if (scratch.per_thread[t].size() < need) scratch.per_thread[t].resize(need);
  }
  float* partials = scratch.partials.data();
  std::atomic<size_t> next{0};
  auto worker = [&](int t) {
    if (t >= threads) return;
    float* buf = scratch.per_thread[t].data();
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) <
                   plan.order.size();) {
      HWY_DYNAMIC_DISPATCH(AttendTileImpl)(q, kv, batch, p,
                                           plan.tiles[plan.order[i]], buf,
                                           partials, out);
    }
  };
  if (threads == 1) {
    worker(0);
  } else {
    pool.RunOnAll(worker);
  }
  MergePartials(plan, partials, batch, p, out);
}

}  // namespace silica::cpu
#endif  // HWY_ONCE
