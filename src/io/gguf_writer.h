// GgufWriter: builds a GGUF v3 (or v2) file from metadata values and tensors.
// Used by tests and by the tool that makes synthetic models. Metadata is
// written in the order it was set and tensors in the order they were added;
// each tensor's data starts at a multiple of the alignment, which is
// `general.alignment` when set (it must be a power of two) and 32 otherwise.
// Tensor bytes are either owned by the writer or produced on demand while
// the file is written, so a multi-gigabyte model need not sit in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "core/tensor_view.h"
#include "io/gguf.h"

namespace silica {

class GgufWriter {
 public:
  // Fills exactly `out.size()` bytes of one tensor's data.
  using FillFn = std::function<Status(std::span<uint8_t> out)>;

  GgufWriter() = default;

  // 2 or 3 (the layouts are identical; v3 only promises little-endian).
  Status SetVersion(uint32_t version);

  // Appends a metadata entry. Fails on a duplicate or empty key, on arrays
  // whose items do not all have the declared element type, and on a
  // `general.alignment` that is not an unsigned integer power of two.
  Status Set(std::string key, GgufValue value);

  // Adds a tensor with `shape` listed outermost first. `bytes` must be
  // exactly the tensor's size for `dtype` (innermost dim a whole number of
  // blocks). Fails on a duplicate name or a dtype GGUF cannot hold.
  Status AddTensor(std::string name, DType dtype, const Shape& shape,
                   std::vector<uint8_t> bytes);
  // As AddTensor, but the bytes are produced by `fill` while writing.
  Status AddTensorFn(std::string name, DType dtype, const Shape& shape,
                     FillFn fill);

  uint64_t alignment() const { return alignment_; }

  // The whole file in memory (tests, small files).
  Result<std::vector<uint8_t>> Serialize() const;
  // Streams the file to `path`, replacing it.
  Status WriteFile(const std::string& path) const;

 private:
  struct PendingTensor {
    std::string name;
    DType dtype;
    Shape shape;
    uint64_t nbytes;
    std::vector<uint8_t> bytes;
    FillFn fill;  // used when set, else `bytes`
  };

  Status AddTensorImpl(std::string name, DType dtype, const Shape& shape,
                       std::vector<uint8_t> bytes, FillFn fill);
  // Header, metadata and tensor infos, padded to the data section.
  std::vector<uint8_t> HeaderBytes() const;
  // Calls `sink` with successive pieces of the file.
  Status Emit(
      const std::function<Status(std::span<const uint8_t>)>& sink) const;

  uint32_t version_ = 3;
  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::unordered_set<std::string> keys_;
  std::vector<PendingTensor> tensors_;
  std::unordered_set<std::string> tensor_names_;
};

}  // namespace silica
