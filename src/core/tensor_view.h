// TensorView: a non-owning view of tensor bytes (data, dtype, shape).
// Shapes are listed outermost first (row-major, like PyTorch and
// safetensors); GGUF stores dimensions innermost first and its reader
// reverses them. A quantized tensor's innermost dimension counts elements,
// and must be a whole number of blocks.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/dtype.h"

namespace silica {

// 5: Qwen2.5-VL's patch embedding is [1280, 3, 2, 14, 14] (a 3-D conv).
inline constexpr int kMaxDims = 5;

struct Shape {
  int rank = 0;
  std::array<int64_t, kMaxDims> dims{};

  int64_t operator[](int i) const { return dims[i]; }
  // Product of dims; 1 for rank 0. Callers validate against overflow first.
  int64_t NumElements() const;
  std::string ToString() const;  // "[2048, 576]"
  bool operator==(const Shape& o) const;
};

enum class Device : uint8_t { kCpu, kCuda };

struct TensorView {
  const void* data = nullptr;
  DType dtype = DType::kF32;
  Device device = Device::kCpu;
  Shape shape;
  uint64_t nbytes = 0;  // total bytes (rows are contiguous)

  int64_t NumElements() const { return shape.NumElements(); }
  int64_t Rows() const;       // product of all but the innermost dim
  int64_t RowElems() const;   // innermost dim
  uint64_t RowBytes() const;  // nbytes / Rows()
};

}  // namespace silica
