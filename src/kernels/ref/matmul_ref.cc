#include "kernels/ref/matmul_ref.h"

#include <cstring>
#include <string>
#include <vector>

#include "core/half.h"
#include "kernels/ref/quant.h"

namespace silica {
namespace {

void DotRows(const float* x, int64_t m, int64_t k, const float* row,
             int64_t n, int64_t j, float* y) {
  for (int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * k;
    double acc = 0;
    for (int64_t e = 0; e < k; ++e) acc += double{xi[e]} * double{row[e]};
    y[i * n + j] = static_cast<float>(acc);
  }
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

}  // namespace

Status MatMulRef(const float* x, int64_t m, int64_t k, DType wdtype,
                 const void* w, int64_t n, float* y) {
  if (m < 0 || n < 0 || k < 0) {
    return InvalidArgument("MatMulRef: negative size");
  }
  const Result<uint64_t> row_bytes = RowBytes(wdtype, static_cast<uint64_t>(k));
  if (!row_bytes.ok()) return row_bytes.status();
  std::vector<float> row(k);
  const auto* base = static_cast<const uint8_t*>(w);
  for (int64_t j = 0; j < n; ++j) {
    RETURN_IF_ERROR(
        DequantizeRow(wdtype, base + j * *row_bytes, row.data(), k));
    DotRows(x, m, k, row.data(), n, j, y);
  }
  return Status::Ok();
}

Status DequantizeMlxRow(const MlxAffineView& w, int64_t row, float* dst) {
  const Result<MlxAffineShape> shape = ValidateMlxAffine(w);
  if (!shape.ok()) return shape.status();
  if (row < 0 || row >= shape->n) {
    return OutOfRange("DequantizeMlxRow: row " + std::to_string(row) +
                      " of " + std::to_string(shape->n));
  }
  const int64_t k = shape->k;
  const int64_t groups = k / w.group_size;
  const int per_word = 32 / w.bits;
  const uint32_t mask = (1u << w.bits) - 1;
  const auto* words = static_cast<const uint8_t*>(w.packed.data) +
                      row * (k / per_word) * 4;
  const uint64_t esz = w.scales.dtype == DType::kF32 ? 4 : 2;
  const auto* sc = static_cast<const uint8_t*>(w.scales.data) + row * groups * esz;
  const auto* bi = static_cast<const uint8_t*>(w.biases.data) + row * groups * esz;
  for (int64_t e = 0; e < k; ++e) {
    uint32_t word;
    std::memcpy(&word, words + (e / per_word) * 4, 4);
    const uint32_t q = (word >> ((e % per_word) * w.bits)) & mask;
    const int64_t g = e / w.group_size;
    dst[e] = LoadScale(w.scales.dtype, sc + g * esz) * static_cast<float>(q) +
             LoadScale(w.biases.dtype, bi + g * esz);
  }
  return Status::Ok();
}

Status MatMulMlxRef(const float* x, int64_t m, const MlxAffineView& w,
                    float* y) {
  const Result<MlxAffineShape> shape = ValidateMlxAffine(w);
  if (!shape.ok()) return shape.status();
  if (m < 0) return InvalidArgument("MatMulMlxRef: negative m");
  std::vector<float> row(shape->k);
  for (int64_t j = 0; j < shape->n; ++j) {
    RETURN_IF_ERROR(DequantizeMlxRow(w, j, row.data()));
    DotRows(x, m, shape->k, row.data(), shape->n, j, y);
  }
  return Status::Ok();
}

}  // namespace silica
