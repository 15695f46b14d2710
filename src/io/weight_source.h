// WeightSource: one interface over every checkpoint format (GGUF file,
// safetensors file or sharded folder). Model code asks for tensors by the
// checkpoint's own names and gets zero-copy views into mapped files; each
// architecture maps those names to its weight slots.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "core/tensor_view.h"

namespace silica {

struct WeightInfo {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;  // outermost first
  uint64_t nbytes = 0;
};

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  // "gguf" or "safetensors".
  virtual std::string_view format() const = 0;
  virtual const std::vector<WeightInfo>& tensors() const = 0;
  // NotFound naming the tensor when absent.
  virtual Result<TensorView> View(std::string_view name) const = 0;
  // Sum of the sizes of the files backing this source.
  virtual uint64_t total_file_bytes() const = 0;
};

}  // namespace silica
