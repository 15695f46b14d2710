// GGUF (versions 2 and 3) reader. The whole file is memory-mapped; metadata
// is parsed into values, tensor infos are validated against the file, and
// tensors are handed out as zero-copy TensorViews into the mapping.
//
// The file is untrusted: every count, length, dimension, type and offset is
// checked before use, and a failure names the file, the field and the
// problem ("m.gguf: tensor 'blk.0.attn_q.weight': data [x, y) runs past end
// of file (z bytes)").
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"
#include "core/status.h"
#include "core/tensor_view.h"

namespace silica {

// GGUF tensors have at most 4 dimensions (GGML_MAX_DIMS).
inline constexpr int kMaxGgufDims = 4;

// On-disk metadata value type ids (gguf_type).
enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
std::string_view GgufTypeName(GgufType t);

struct GgufArray;

// One metadata value. Arrays may nest (an array of arrays).
struct GgufValue {
  GgufType type = GgufType::kUint8;
  std::variant<uint64_t, int64_t, double, bool, std::string,
               std::shared_ptr<const GgufArray>>
      data;  // unsigned ints -> uint64_t, signed -> int64_t, floats -> double

  static GgufValue U32(uint32_t v);
  static GgufValue U64(uint64_t v);
  static GgufValue I32(int32_t v);
  static GgufValue F32(float v);
  static GgufValue Bool(bool v);
  static GgufValue String(std::string v);
  static GgufValue Array(GgufType elem_type, std::vector<GgufValue> items);
  static GgufValue StringArray(const std::vector<std::string>& items);
  static GgufValue F32Array(const std::vector<float>& items);
  static GgufValue I32Array(const std::vector<int32_t>& items);

  bool is_array() const { return type == GgufType::kArray; }
  const GgufArray* array() const;  // nullptr unless an array
};

struct GgufArray {
  GgufType elem_type = GgufType::kUint8;
  std::vector<GgufValue> items;
};

struct GgufTensorInfo {
  std::string name;
  uint32_t ggml_type = 0;  // raw type id from the file
  DType dtype = DType::kF32;
  Shape shape;          // outermost first (GGUF's ne[] reversed)
  uint64_t offset = 0;  // relative to the start of the data section
  uint64_t nbytes = 0;
};

// ggml type id <-> DType, for the types silica can read. U8 and U32 have no
// ggml type: GgmlTypeFromDType returns UINT32_MAX for them (see HasGgmlType).
Result<DType> DTypeFromGgmlType(uint32_t ggml_type);
uint32_t GgmlTypeFromDType(DType dtype);
bool HasGgmlType(DType dtype);

class GgufFile {
 public:
  static Result<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Parses bytes that stay owned by the caller (fuzzing, tests). `name` is
  // used in error messages.
  static Result<std::unique_ptr<GgufFile>> Parse(std::span<const uint8_t> bytes,
                                                 std::string name);

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return bytes_.size(); }

  // Metadata in file order, and lookup by key.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const {
    return metadata_;
  }
  const GgufValue* Find(std::string_view key) const;

  // Typed getters: NotFound when absent, InvalidArgument on a type mismatch
  // (integers of any width convert when the value fits, OutOfRange when it
  // does not; float32 and float64 both read as floats).
  Result<std::string> GetString(std::string_view key) const;
  Result<uint64_t> GetUint(std::string_view key) const;
  Result<int64_t> GetInt(std::string_view key) const;
  Result<double> GetFloat(std::string_view key) const;
  Result<bool> GetBool(std::string_view key) const;
  Result<std::vector<std::string>> GetStringArray(std::string_view key) const;
  Result<std::vector<float>> GetF32Array(std::string_view key) const;
  Result<std::vector<int32_t>> GetI32Array(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* FindTensor(std::string_view name) const;
  TensorView View(const GgufTensorInfo& info) const;

 private:
  GgufFile() = default;
  Status ParseAll();

  std::string name_;
  std::shared_ptr<MappedFile> file_;  // null when parsing caller's bytes
  std::span<const uint8_t> bytes_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::unordered_map<std::string, size_t> metadata_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace silica
