// The CPU backend: one persistent ThreadPool and the OpTable over the
// kernels in kernels/cpu (Highway, runtime dispatch). Work is split at
// coarse grain: output rows for matmul, rows for norms and element-wise ops
// when they are large enough to pay for waking the pool, and
// (sequence, kv head, query tile) items for attention.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/logging.h"
#include "core/thread_pool.h"
#include "kernels/cpu/ops.h"
#include "kernels/ref/ops_ref.h"
#include "kernels/ref/quant.h"

namespace silica {
namespace {

// Below this many floats an element-wise op runs on the calling thread:
// waking the pool costs a few microseconds, as much as the op itself.
constexpr int64_t kParallelMinElems = int64_t{1} << 16;

bool IsWeightDType(DType d) {
  switch (d) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
    case DType::kQ8_0:
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
      return true;
    default:
      return false;
  }
}

class CpuBackend final : public Backend, public OpTable {
 public:
  explicit CpuBackend(int num_threads) : pool_(num_threads) {
    name_ = std::string("cpu (") + cpu::DispatchedTargetName() + ", " +
            std::to_string(pool_.num_threads()) +
            (pool_.num_threads() == 1 ? " thread)" : " threads)");
  }

  std::string_view name() const override { return name_; }
  Device device() const override { return Device::kCpu; }
  OpTable& ops() override { return *this; }

  bool Supports(Op op, DType dtype) const override {
    switch (op) {
      case Op::kMatMul:
      case Op::kEmbed:
        return IsWeightDType(dtype);
      case Op::kAttention:  // the dtype is the KV cache's
        return dtype == DType::kF32 || dtype == DType::kF16;
      default:
        return true;
    }
  }

  Status MatMul(const float* x, int64_t m, const TensorView& w,
                float* y) override {
    if (!IsWeightDType(w.dtype)) {
      return Unimplemented("cpu matmul: weight dtype " +
                           std::string(DTypeName(w.dtype)) +
                           " is not supported");
    }
    if (w.shape.rank != 2 || m < 0) {
      return InvalidArgument("cpu matmul: weight must be [n, k], got " +
                             w.shape.ToString());
    }
    const int64_t n = w.shape[0], k = w.shape[1];
    const uint64_t row_bytes = w.RowBytes();
    const auto* base = static_cast<const uint8_t*>(w.data);
    Status status;
    std::vector<Status> errors(pool_.num_threads());
    pool_.ParallelFor(n, [&](int64_t begin, int64_t end, int t) {
      std::vector<float> row(k);
      for (int64_t j = begin; j < end; ++j) {
        Status s = DequantizeRow(w.dtype, base + j * row_bytes, row.data(), k);
        if (!s.ok()) {
          errors[t] = s;
          return;
        }
        for (int64_t i = 0; i < m; ++i) {
          const float* xi = x + i * k;
          double acc = 0;
          for (int64_t e = 0; e < k; ++e) acc += double{xi[e]} * row[e];
          y[i * n + j] = static_cast<float>(acc);
        }
      }
    });
    for (Status& s : errors) RETURN_IF_ERROR(s);
    return Status::Ok();
  }

  Status Embed(const TensorView& table, const int32_t* ids, int64_t n,
               float* out) override {
    if (!IsWeightDType(table.dtype)) {
      return Unimplemented("cpu embed: table dtype " +
                           std::string(DTypeName(table.dtype)) +
                           " is not supported");
    }
    return EmbedRef(table, ids, n, out);
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
    const int64_t row = int64_t{heads} * p.head_dim;
    ForRows(tokens, row, [&](int64_t t0, int64_t t1) {
      cpu::Rope(x + t0 * row, t1 - t0, heads, positions + t0, p);
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
  std::string name_;
};

}  // namespace

std::unique_ptr<Backend> CreateCpuBackend(const CpuBackendOptions& options) {
  const int threads =
      options.num_threads > 0 ? options.num_threads : DefaultThreadCount();
  return std::make_unique<CpuBackend>(threads);
}

}  // namespace silica
