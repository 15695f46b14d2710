// The CPU backend: one persistent ThreadPool and the OpTable over the
// kernels in kernels/cpu (Highway, runtime dispatch). Work is split at
// coarse grain: output rows for matmul, rows for norms and element-wise ops
// when they are large enough to pay for waking the pool, and
// (sequence, kv head, query tile) items for attention.
#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/logging.h"
#include "core/thread_pool.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/ops.h"

namespace silica {
namespace {

// Below this many floats an element-wise op runs on the calling thread:
// waking the pool costs a few microseconds, as much as the op itself.
constexpr int64_t kParallelMinElems = int64_t{1} << 16;

class CpuBackend final : public Backend, public OpTable {
 public:
  explicit CpuBackend(int num_threads) : pool_(num_threads) {
    // The matmul and the other kernels dispatch separately (matmul also
    // compiles the AVX-512 VNNI target); name both when they differ.
    const std::string mm = cpu::MatMulTargetName();
    const std::string ops = cpu::DispatchedTargetName();
    name_ = "cpu (" + (mm == ops ? mm : mm + " matmul, " + ops + " ops") +
            ", " + std::to_string(pool_.num_threads()) +
            (pool_.num_threads() == 1 ? " thread)" : " threads)");
  }

  std::string_view name() const override { return name_; }
  Device device() const override { return Device::kCpu; }
  OpTable& ops() override { return *this; }

  bool Supports(Op op, DType dtype) const override {
    switch (op) {
      case Op::kMatMul:
      case Op::kEmbed:
        return cpu::MatMulSupports(dtype);
      case Op::kAttention:  // the dtype is the KV cache's
        return dtype == DType::kF32 || dtype == DType::kF16;
      default:
        return true;
    }
  }

  Status MatMul(const float* x, int64_t m, const TensorView& w,
                float* y) override {
    return cpu::MatMul(pool_, x, m, w, y);
  }

  Status Embed(const TensorView& table, const int32_t* ids, int64_t n,
               float* out) override {
    return cpu::EmbedRows(table, ids, n, out);
  }

  Status MatMulMlx(const float* x, int64_t m, const MlxAffineView& w,
                   float* y) override {
    return cpu::MatMulMlx(pool_, x, m, w, y);
  }

  Status EmbedMlx(const MlxAffineView& table, const int32_t* ids, int64_t n,
                  float* out) override {
    return cpu::EmbedRowsMlx(table, ids, n, out);
  }

  void RmsNorm(const float* x, const float* w, int64_t rows, int64_t dim,
               float eps, bool one_plus_w, float* y) override {
    ForRows(rows, dim, [&](int64_t r0, int64_t r1) {
      cpu::RmsNorm(x + r0 * dim, w, r1 - r0, dim, eps, one_plus_w,
                   y + r0 * dim);
    });
  }

  void Rope(float* x, int64_t tokens, int heads, const int32_t* positions,
            const RopeParams& p) override {
    if (tokens <= 0) return;
    const float* table = RopeTableFor(positions, tokens, p);
    const int64_t row = int64_t{heads} * p.head_dim;
    const int64_t table_row = 2 * int64_t{p.rotary_dim};
    ForRows(tokens, row, [&](int64_t t0, int64_t t1) {
      cpu::RopeWithTable(x + t0 * row, t1 - t0, heads, table + t0 * table_row,
                         p);
    });
  }

  void SiluMul(const float* gate, const float* up, int64_t n,
               float* out) override {
    ForElems(n, [&](int64_t i0, int64_t i1) {
      cpu::SiluMul(gate + i0, up + i0, i1 - i0, out + i0);
    });
  }

  void GeluTanhMul(const float* gate, const float* up, int64_t n,
                   float* out) override {
    ForElems(n, [&](int64_t i0, int64_t i1) {
      cpu::GeluTanhMul(gate + i0, up + i0, i1 - i0, out + i0);
    });
  }

  void Softmax(float* x, int64_t rows, int64_t n) override {
    ForRows(rows, n, [&](int64_t r0, int64_t r1) {
      cpu::Softmax(x + r0 * n, r1 - r0, n);
    });
  }

  void Add(float* x, const float* y, int64_t n) override {
    ForElems(n, [&](int64_t i0, int64_t i1) {
      cpu::Add(x + i0, y + i0, i1 - i0);
    });
  }

  void StoreKV(const float* k, const float* v, int64_t tokens,
               const int32_t* slot_mapping, PagedKV& kv) override {
    const int64_t row = int64_t{kv.n_kv_heads} * kv.head_dim;
    ForRows(tokens, row, [&](int64_t t0, int64_t t1) {
      cpu::StoreKV(k + t0 * row, v + t0 * row, t1 - t0, slot_mapping + t0,
                   kv);
    });
  }

  void Attention(const float* q, const PagedKV& kv,
                 const AttentionBatch& batch, const AttentionParams& p,
                 float* out) override {
    SILICA_CHECK(p.n_kv_heads > 0 && p.n_heads % p.n_kv_heads == 0);
    SILICA_CHECK(p.n_kv_heads == kv.n_kv_heads && p.head_dim == kv.head_dim);
    SILICA_CHECK(kv.dtype == DType::kF32 || kv.dtype == DType::kF16);
    cpu::Attention(pool_, attention_scratch_, q, kv, batch, p, out);
  }

 private:
  // The cos/sin table of one (positions, frequencies) pair. A step rotates
  // q and k of every layer at the same positions with one or two sets of
  // frequencies (Gemma 3: local and global), so two entries make the trig
  // run once per step instead of once per call. Keys are compared by
  // value, never by pointer, so a stale entry can never be reused.
  struct RopeTableEntry {
    std::vector<int32_t> positions;
    std::vector<float> inv_freq;
    int rotary_dim = 0;
    bool neox = false;
    float attention_factor = 0.0f;
    std::vector<float> table;

    bool Matches(const int32_t* pos, int64_t tokens,
                 const RopeParams& p) const {
      const size_t half = static_cast<size_t>(p.rotary_dim / 2);
      return rotary_dim == p.rotary_dim && neox == p.neox &&
             attention_factor == p.attention_factor &&
             positions.size() == static_cast<size_t>(tokens) &&
             inv_freq.size() == half &&
             std::equal(positions.begin(), positions.end(), pos) &&
             std::equal(inv_freq.begin(), inv_freq.end(), p.inv_freq);
    }
  };

  const float* RopeTableFor(const int32_t* positions, int64_t tokens,
                            const RopeParams& p) {
    for (const RopeTableEntry& e : rope_tables_) {
      if (e.Matches(positions, tokens, p)) return e.table.data();
    }
    RopeTableEntry& e = rope_tables_[rope_next_];
    rope_next_ = (rope_next_ + 1) % rope_tables_.size();
    e.positions.assign(positions, positions + tokens);
    e.inv_freq.assign(p.inv_freq, p.inv_freq + p.rotary_dim / 2);
    e.rotary_dim = p.rotary_dim;
    e.neox = p.neox;
    e.attention_factor = p.attention_factor;
    const int64_t table_row = 2 * int64_t{p.rotary_dim};
    e.table.resize(tokens * table_row);
    // A cos/sin pair costs about as much as 16 element-wise ops.
    ForRows(tokens, table_row * 16, [&](int64_t t0, int64_t t1) {
      cpu::RopeTable(positions + t0, t1 - t0, p, e.table.data() + t0 * table_row);
    });
    return e.table.data();
  }

  // Splits `rows` rows of `row_elems` floats over the pool when there is
  // enough work; fn(begin_row, end_row).
  template <typename Fn>
  void ForRows(int64_t rows, int64_t row_elems, const Fn& fn) {
    if (rows <= 0) return;
    if (rows < 2 || rows * row_elems < kParallelMinElems) {
      fn(0, rows);
      return;
    }
    pool_.ParallelFor(rows, [&](int64_t b, int64_t e, int) { fn(b, e); });
  }

  // Splits n elements in whole cache lines (16 floats) so two threads
  // never write the same line.
  template <typename Fn>
  void ForElems(int64_t n, const Fn& fn) {
    if (n < kParallelMinElems) {
      if (n > 0) fn(0, n);
      return;
    }
    pool_.ParallelFor(n, [&](int64_t b, int64_t e, int) { fn(b, e); }, 16);
  }

  ThreadPool pool_;
  cpu::AttentionScratch attention_scratch_;
  std::array<RopeTableEntry, 2> rope_tables_;
  size_t rope_next_ = 0;
  std::string name_;
};

}  // namespace

std::unique_ptr<Backend> CreateCpuBackend(const CpuBackendOptions& options) {
  const int threads =
      options.num_threads > 0 ? options.num_threads : DefaultThreadCount();
  return std::make_unique<CpuBackend>(threads);
}

}  // namespace silica
