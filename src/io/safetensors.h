// safetensors reader (one file). Layout: an 8-byte little-endian header
// length N, N bytes of JSON header, then the data section. The header maps
// each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
// (offsets relative to the data section) plus an optional "__metadata__"
// object of string -> string.
//
// The file is memory-mapped and tensors are handed out as zero-copy
// TensorViews. It is untrusted: the header length is bounded, the JSON is
// parsed without letting exceptions escape, every field's type is checked,
// every tensor's bytes must lie inside the data section and match its shape
// and dtype exactly, and no two tensors may share bytes. Each failure names
// the file, the tensor or field, and the problem.
//
// Alignment: the format guarantees none. The reference writer pads the
// header so the data section starts 8-byte aligned and orders tensors by
// dtype size, but a view's data pointer may still be misaligned for its
// dtype in files from other writers; kernels must not assume alignment
// without checking.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"
#include "core/status.h"
#include "core/tensor_view.h"

namespace silica {

// Same limit as the reference implementation: a bigger header is refused
// before any allocation.
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// "F32", "BF16", ... <-> DType for the dtypes silica reads. Unsupported
// names (F8_E4M3, BOOL, U16, ...) give Unimplemented.
Result<DType> DTypeFromSafetensorsName(std::string_view name);
// Empty for dtypes safetensors cannot hold (quantized GGUF blocks).
std::string_view SafetensorsDTypeName(DType dtype);

struct SafetensorsTensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;         // outermost first
  uint64_t begin = 0;  // relative to the start of the data section
  uint64_t end = 0;
  uint64_t nbytes() const { return end - begin; }
};

class SafetensorsFile {
 public:
  static Result<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  // Parses bytes that stay owned by the caller (fuzzing, tests); the views
  // point into `bytes`. `name` is used in error messages.
  static Result<std::unique_ptr<SafetensorsFile>> Parse(
      std::span<const uint8_t> bytes, std::string name);

  const std::string& name() const { return name_; }
  uint64_t file_size() const { return bytes_.size(); }
  uint64_t header_bytes() const { return header_bytes_; }
  // Offset of the data section in the file: 8 + header_bytes().
  uint64_t data_offset() const { return 8 + header_bytes_; }

  // "__metadata__" entries, sorted by key.
  const std::vector<std::pair<std::string, std::string>>& metadata() const {
    return metadata_;
  }
  const std::string* FindMetadata(std::string_view key) const;

  // Tensors in the order their bytes appear in the file.
  const std::vector<SafetensorsTensorInfo>& tensors() const { return tensors_; }
  const SafetensorsTensorInfo* FindTensor(std::string_view name) const;
  TensorView View(const SafetensorsTensorInfo& info) const;

 private:
  SafetensorsFile() = default;
  Status ParseAll();

  std::string name_;
  std::shared_ptr<MappedFile> file_;  // null when parsing caller's bytes
  std::span<const uint8_t> bytes_;
  uint64_t header_bytes_ = 0;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::vector<SafetensorsTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace silica
