// ByteReader: a bounds-checked little-endian cursor over untrusted bytes.
// Every read names the field it reads, so a truncated file fails with
// "<field>: needs N bytes at offset O, only M left" instead of reading past
// the end. Parsers of hostile files (GGUF, safetensors) use only this.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/status.h"

namespace silica {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  uint64_t offset() const { return offset_; }
  uint64_t remaining() const { return bytes_.size() - offset_; }
  uint64_t size() const { return bytes_.size(); }

  // Fails unless `n` more bytes are available.
  Status Need(uint64_t n, std::string_view field) const {
    if (n > remaining()) {
      return DataLoss(std::string(field) + ": needs " + std::to_string(n) +
                      " bytes at offset " + std::to_string(offset_) +
                      ", only " + std::to_string(remaining()) + " left");
    }
    return Status::Ok();
  }

  template <typename T>
  Status Read(T* out, std::string_view field) {
    static_assert(std::is_trivially_copyable_v<T>);
    RETURN_IF_ERROR(Need(sizeof(T), field));
    std::memcpy(out, bytes_.data() + offset_, sizeof(T));
    offset_ += sizeof(T);
    return Status::Ok();
  }

  // A view of the next n bytes (no copy).
  Status ReadBytes(uint64_t n, std::span<const uint8_t>* out,
                   std::string_view field) {
    RETURN_IF_ERROR(Need(n, field));
    *out = bytes_.subspan(offset_, n);
    offset_ += n;
    return Status::Ok();
  }

  Status Skip(uint64_t n, std::string_view field) {
    RETURN_IF_ERROR(Need(n, field));
    offset_ += n;
    return Status::Ok();
  }

  Status Seek(uint64_t offset, std::string_view field) {
    if (offset > bytes_.size()) {
      return DataLoss(std::string(field) + ": offset " +
                      std::to_string(offset) + " is past the end (" +
                      std::to_string(bytes_.size()) + " bytes)");
    }
    offset_ = offset;
    return Status::Ok();
  }

 private:
  std::span<const uint8_t> bytes_;
  uint64_t offset_ = 0;
};

}  // namespace silica
