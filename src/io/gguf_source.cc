#include "io/gguf_source.h"

#include <utility>

namespace silica {

Result<std::unique_ptr<GgufSource>> GgufSource::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
  return std::make_unique<GgufSource>(std::move(file));
}

GgufSource::GgufSource(std::unique_ptr<GgufFile> file)
    : file_(std::move(file)) {
  infos_.reserve(file_->tensors().size());
  for (const GgufTensorInfo& t : file_->tensors()) {
    infos_.push_back(WeightInfo{t.name, t.dtype, t.shape, t.nbytes});
  }
}

Result<TensorView> GgufSource::View(std::string_view name) const {
  const GgufTensorInfo* info = file_->FindTensor(name);
  if (info == nullptr) {
    return NotFound(file_->name() + ": no tensor named '" + std::string(name) +
                    "'");
  }
  return file_->View(*info);
}

}  // namespace silica
