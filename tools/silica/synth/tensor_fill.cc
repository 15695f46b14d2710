#include "silica/synth/tensor_fill.h"

#include <algorithm>
#include <string>
#include <vector>

#include "kernels/ref/quant.h"
#include "kernels/ref/quantize_k.h"
#include "silica/synth/random_weights.h"

namespace silica::synth {
namespace {

// About 1 Mi floats (4 MiB) of scratch per block of rows.
constexpr int64_t kChunkElems = int64_t{1} << 20;

Status EncodeRow(DType dtype, const float* src, uint8_t* dst, int64_t n) {
  if (dtype == DType::kQ6_K) return QuantizeRowQ6_K(src, dst, n);
  return QuantizeRow(dtype, src, dst, n);
}

}  // namespace

Status FillTensorBytes(const ArchShape& shape, const TensorSpec& t,
                       uint64_t seed, bool gguf_layout, DType dtype,
                       std::span<uint8_t> out) {
  const int64_t rows = t.Rows();
  const int64_t cols = t.Cols();
  ASSIGN_OR_RETURN(const uint64_t row_bytes, RowBytes(dtype, cols));
  if (out.size() != row_bytes * static_cast<uint64_t>(rows)) {
    return Internal("tensor buffer of " + std::to_string(out.size()) +
                    " bytes, expected " +
                    std::to_string(row_bytes * static_cast<uint64_t>(rows)));
  }
  const int64_t chunk_rows = std::max<int64_t>(1, kChunkElems / cols);
  std::vector<float> buf(
      static_cast<size_t>(std::min(rows, chunk_rows) * cols));
  for (int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
    const int64_t n = std::min(chunk_rows, rows - r0);
    RETURN_IF_ERROR(TensorRows(shape, t, seed, gguf_layout, r0, n, buf.data()));
    for (int64_t r = 0; r < n; ++r) {
      RETURN_IF_ERROR(EncodeRow(dtype, buf.data() + r * cols,
                                out.data() + (r0 + r) * row_bytes, cols));
    }
  }
  return Status::Ok();
}

}  // namespace silica::synth
