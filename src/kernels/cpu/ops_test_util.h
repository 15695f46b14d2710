// Test fixtures shared by the kernel parity tests (kernels/cpu/ops_test.cc)
// and the backend tests: random inputs and a paged KV cache whose block
// tables are deliberately scrambled, so a kernel that assumes contiguous or
// ordered blocks fails.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "core/half.h"
#include "kernels/op_params.h"
#include "kernels/ref/ops_ref.h"

namespace silica::testing {

inline std::vector<float> RandomVector(int64_t n, uint32_t seed,
                                       float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Largest |a - b| / (atol + rtol * |b|) over the arrays; <= 1 passes.
inline double WorstError(const float* a, const float* b, int64_t n,
                         double atol, double rtol) {
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double err = std::abs(double{a[i]} - b[i]);
    if (err == 0) continue;  // exact (also when both tolerances are 0)
    const double e = err / (atol + rtol * std::abs(double{b[i]}));
    if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : e;
  }
  return worst;
}

struct AttentionCase {
  std::vector<int> seq_lens;  // context length per sequence
  std::vector<int> n_query;   // queries per sequence (<= seq_lens)
  int n_kv_heads = 2;
  int group = 1;  // query heads per kv head
  int head_dim = 64;
  int block_size = 16;
  DType kv_dtype = DType::kF16;
  int sliding_window = 0;
  float softcap = 0.0f;
};

// Everything one Attention call needs, owning its memory.
struct AttentionFixture {
  AttentionParams params;
  AttentionBatch batch;
  PagedKV kv;
  std::vector<float> q;
  std::vector<int32_t> query_start, seq_lens, block_table;
  std::vector<uint8_t> k_bytes, v_bytes;
  int64_t num_tokens = 0;

  int64_t OutElems() const {
    return num_tokens * params.n_heads * params.head_dim;
  }
};

inline AttentionFixture MakeAttentionFixture(const AttentionCase& c,
                                             uint32_t seed) {
  AttentionFixture f;
  const int num_seqs = static_cast<int>(c.seq_lens.size());
  f.params.n_kv_heads = c.n_kv_heads;
  f.params.n_heads = c.n_kv_heads * c.group;
  f.params.head_dim = c.head_dim;
  f.params.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  f.params.sliding_window = c.sliding_window;
  f.params.softcap = c.softcap;

  int max_blocks = 1;
  int total_blocks = 0;
  for (int len : c.seq_lens) {
    const int b = (len + c.block_size - 1) / c.block_size;
    max_blocks = std::max(max_blocks, b);
    total_blocks += b;
  }
  total_blocks += 3;  // unused blocks between the used ones
  std::vector<int32_t> ids(total_blocks);
  std::iota(ids.begin(), ids.end(), 0);
  std::mt19937 rng(seed);
  std::shuffle(ids.begin(), ids.end(), rng);

  f.query_start.push_back(0);
  f.block_table.assign(static_cast<size_t>(num_seqs) * max_blocks, -1);
  int next = 0;
  for (int s = 0; s < num_seqs; ++s) {
    f.query_start.push_back(f.query_start.back() + c.n_query[s]);
    f.seq_lens.push_back(c.seq_lens[s]);
    const int b = (c.seq_lens[s] + c.block_size - 1) / c.block_size;
    for (int i = 0; i < b; ++i) f.block_table[s * max_blocks + i] = ids[next++];
  }
  f.num_tokens = f.query_start.back();

  f.kv.dtype = c.kv_dtype;
  f.kv.num_blocks = total_blocks;
  f.kv.block_size = c.block_size;
  f.kv.n_kv_heads = c.n_kv_heads;
  f.kv.head_dim = c.head_dim;
  const size_t elem = c.kv_dtype == DType::kF16 ? 2 : 4;
  const size_t bytes = static_cast<size_t>(total_blocks) * c.block_size *
                       c.n_kv_heads * c.head_dim * elem;
  // NaN-filled: a kernel reading a slot it must not (masked or unused)
  // poisons its output.
  f.k_bytes.assign(bytes, 0xff);
  f.v_bytes.assign(bytes, 0xff);
  f.kv.k = f.k_bytes.data();
  f.kv.v = f.v_bytes.data();

  const int row = c.n_kv_heads * c.head_dim;
  for (int s = 0; s < num_seqs; ++s) {
    const int len = c.seq_lens[s];
    const int lo = c.sliding_window > 0
                       ? std::max(0, len - c.n_query[s] - c.sliding_window + 1)
                       : 0;
    std::vector<int32_t> slots;
    for (int p = lo; p < len; ++p) {
      slots.push_back(f.block_table[s * max_blocks + p / c.block_size] *
                          c.block_size +
                      p % c.block_size);
    }
    const auto k = RandomVector(int64_t{len} * row, seed * 31 + 2 * s + 1);
    const auto v = RandomVector(int64_t{len} * row, seed * 31 + 2 * s + 2);
    StoreKVRef(k.data() + int64_t{lo} * row, v.data() + int64_t{lo} * row,
               len - lo, slots.data(), f.kv);
  }
  f.q = RandomVector(f.OutElems(), seed * 7 + 5, -2.0f, 2.0f);

  f.batch.num_seqs = num_seqs;
  f.batch.query_start = f.query_start.data();
  f.batch.seq_lens = f.seq_lens.data();
  f.batch.block_table = f.block_table.data();
  f.batch.max_blocks_per_seq = max_blocks;
  return f;
}

}  // namespace silica::testing
