// Validation, dispatch to the per-format kernel files, and the embedding
// row lookup. No SIMD here: the kernels live in the matmul_*.cc files.
#include "kernels/cpu/matmul.h"

#include <cstring>
#include <string>

#include "core/half.h"
#include "kernels/cpu/matmul_internal.h"
#include "kernels/ref/quant.h"

namespace silica::cpu {
namespace {

using internal::MatMulArgs;

enum class Family { kFloat, kQ32, kQK, kNone };

Family FamilyOf(DType d) {
  switch (d) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
      return Family::kFloat;
    case DType::kQ8_0:
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
      return Family::kQ32;
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
      return Family::kQK;
    default:
      return Family::kNone;
  }
}

// Row strides are kept below 2^26 bytes so the kernels can address 16 rows
// with 32-bit offsets (gathers). That is k up to ~16M f32 elements.
constexpr uint64_t kMaxRowBytes = uint64_t{1} << 26;

Result<MatMulArgs> CheckWeight(const TensorView& w, const char* what) {
  if (FamilyOf(w.dtype) == Family::kNone) {
    return Unimplemented(std::string(what) + ": weight dtype " +
                         std::string(DTypeName(w.dtype)) +
                         " is not supported");
  }
  if (w.shape.rank != 2 || w.shape[0] < 0 || w.shape[1] < 0) {
    return InvalidArgument(std::string(what) + ": weight must be [n, k], got " +
                           w.shape.ToString());
  }
  if (w.device != Device::kCpu) {
    return InvalidArgument(std::string(what) + ": weight is not in CPU memory");
  }
  MatMulArgs a;
  a.n = w.shape[0];
  a.k = w.shape[1];
  a.dtype = w.dtype;
  const Result<uint64_t> rb = RowBytes(w.dtype, static_cast<uint64_t>(a.k));
  if (!rb.ok()) return rb.status().WithContext(what);
  if (*rb > kMaxRowBytes) {
    return Unimplemented(std::string(what) + ": rows of " + std::to_string(a.k) +
                         " elements are too long");
  }
  uint64_t total = 0;
  if (MulOverflows(*rb, static_cast<uint64_t>(a.n), &total) ||
      total != w.nbytes) {
    return InvalidArgument(std::string(what) + ": weight " +
                           w.shape.ToString() + " of " +
                           std::string(DTypeName(w.dtype)) + " needs " +
                           std::to_string(total) + " bytes, view has " +
                           std::to_string(w.nbytes));
  }
  if (w.data == nullptr && total != 0) {
    return InvalidArgument(std::string(what) + ": weight has no data");
  }
  a.w = static_cast<const uint8_t*>(w.data);
  a.w_row_bytes = *rb;
  return a;
}

Result<MatMulArgs> CheckMlx(const MlxAffineView& w) {
  const Result<MlxAffineShape> s = ValidateMlxAffine(w);
  if (!s.ok()) return s.status();
  MatMulArgs a;
  a.n = s->n;
  a.k = s->k;
  a.dtype = DType::kU32;
  a.w = static_cast<const uint8_t*>(w.packed.data);
  a.w_row_bytes = static_cast<uint64_t>(s->k) * w.bits / 8;
  if (a.w_row_bytes > kMaxRowBytes) {
    return Unimplemented("mlx affine: rows too long");
  }
  a.mlx_bits = w.bits;
  a.mlx_group = w.group_size;
  a.mlx_sdtype = w.scales.dtype;
  a.mlx_scales = static_cast<const uint8_t*>(w.scales.data);
  a.mlx_biases = static_cast<const uint8_t*>(w.biases.data);
  a.mlx_s_row_bytes = static_cast<uint64_t>(s->k / w.group_size) *
                      (w.scales.dtype == DType::kF32 ? 4 : 2);
  return a;
}

Status Run(ThreadPool& pool, const float* x, int64_t m, MatMulArgs a,
           float* y) {
  if (m < 0) return InvalidArgument("matmul: negative m");
  if (m == 0 || a.n == 0) return Status::Ok();
  if (x == nullptr || y == nullptr) {
    return InvalidArgument("matmul: null activations or output");
  }
  a.x = x;
  a.y = y;
  a.m = m;
  if (a.k == 0) {
    std::memset(y, 0, static_cast<size_t>(m * a.n) * sizeof(float));
    return Status::Ok();
  }
  if (a.dtype == DType::kU32) {
    internal::MatMulMlxAffine(pool, a);
    return Status::Ok();
  }
  switch (FamilyOf(a.dtype)) {
    case Family::kFloat:
      internal::MatMulFloatWeights(pool, a);
      break;
    case Family::kQ32:
      internal::MatMulQ32(pool, a);
      break;
    case Family::kQK:
      internal::MatMulQK(pool, a);
      break;
    case Family::kNone:
      return Internal("matmul: unreachable dtype");
  }
  return Status::Ok();
}

float LoadScale(DType dtype, const uint8_t* p) {
  if (dtype == DType::kF32) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  return dtype == DType::kF16 ? HalfToFloat(h) : BF16ToFloat(h);
}

Status EmbedWith(const MatMulArgs& a, const int32_t* ids, int64_t n,
                 float* out) {
  if (n < 0) return InvalidArgument("embed: negative count");
  for (int64_t t = 0; t < n; ++t) {
    if (ids[t] < 0 || ids[t] >= a.n) {
      return InvalidArgument("embed: token id " + std::to_string(ids[t]) +
                             " outside the table of " + std::to_string(a.n) +
                             " rows");
    }
  }
  for (int64_t t = 0; t < n; ++t) {
    internal::DequantizeWeightRow(a, ids[t], out + t * a.k);
  }
  return Status::Ok();
}

}  // namespace

namespace internal {

void DequantizeWeightRow(const MatMulArgs& a, int64_t row, float* dst) {
  if (a.dtype != DType::kU32) {
    // Cannot fail: dtype and k were validated.
    (void)DequantizeRow(a.dtype, a.w + row * a.w_row_bytes, dst, a.k);
    return;
  }
  const int per_word = 32 / a.mlx_bits;
  const uint32_t mask = (1u << a.mlx_bits) - 1;
  const uint8_t* words = a.w + row * a.w_row_bytes;
  const uint64_t esz = a.mlx_sdtype == DType::kF32 ? 4 : 2;
  const uint8_t* sc = a.mlx_scales + row * a.mlx_s_row_bytes;
  const uint8_t* bi = a.mlx_biases + row * a.mlx_s_row_bytes;
  for (int64_t e = 0; e < a.k; ++e) {
    uint32_t word;
    std::memcpy(&word, words + (e / per_word) * 4, 4);
    const uint32_t q = (word >> ((e % per_word) * a.mlx_bits)) & mask;
    const int64_t g = e / a.mlx_group;
    dst[e] = LoadScale(a.mlx_sdtype, sc + g * esz) * static_cast<float>(q) +
             LoadScale(a.mlx_sdtype, bi + g * esz);
  }
}

}  // namespace internal

bool MatMulSupports(DType dtype) { return FamilyOf(dtype) != Family::kNone; }

Status MatMul(ThreadPool& pool, const float* x, int64_t m, const TensorView& w,
              float* y) {
  Result<MatMulArgs> a = CheckWeight(w, "matmul");
  if (!a.ok()) return a.status();
  return Run(pool, x, m, *a, y);
}

Status MatMulMlx(ThreadPool& pool, const float* x, int64_t m,
                 const MlxAffineView& w, float* y) {
  Result<MatMulArgs> a = CheckMlx(w);
  if (!a.ok()) return a.status();
  return Run(pool, x, m, *a, y);
}

Status EmbedRows(const TensorView& table, const int32_t* ids, int64_t n,
                 float* out) {
  Result<MatMulArgs> a = CheckWeight(table, "embed");
  if (!a.ok()) return a.status();
  return EmbedWith(*a, ids, n, out);
}

Status EmbedRowsMlx(const MlxAffineView& table, const int32_t* ids, int64_t n,
                    float* out) {
  Result<MatMulArgs> a = CheckMlx(table);
  if (!a.ok()) return a.status();
  return EmbedWith(*a, ids, n, out);
}

bool MatMulQuantizesActivations(DType dtype) {
  const Family f = FamilyOf(dtype);
  return (f == Family::kQ32 || f == Family::kQK) && internal::MatMulInt8();
}

std::string MatMulTargetName() { return internal::MatMulTarget(); }

}  // namespace silica::cpu
