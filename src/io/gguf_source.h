// GgufSource: the WeightSource over one GGUF file. Tensor views point into
// the file's memory mapping, which lives as long as the source.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/gguf.h"
#include "io/weight_source.h"

namespace silica {

class GgufSource : public WeightSource {
 public:
  static Result<std::unique_ptr<GgufSource>> Open(const std::string& path);
  explicit GgufSource(std::unique_ptr<GgufFile> file);

  std::string_view format() const override { return "gguf"; }
  const std::vector<WeightInfo>& tensors() const override { return infos_; }
  Result<TensorView> View(std::string_view name) const override;
  uint64_t total_file_bytes() const override { return file_->file_size(); }

  // The parsed file, for metadata (architecture, tokenizer, ...).
  const GgufFile& file() const { return *file_; }

 private:
  std::unique_ptr<GgufFile> file_;
  std::vector<WeightInfo> infos_;
};

}  // namespace silica
