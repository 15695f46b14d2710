// SafetensorsSource: the WeightSource over one .safetensors file or a
// sharded Hugging Face checkpoint folder.
//
// Open(path) accepts:
//  * a .safetensors file;
//  * the path of an index file (e.g. model.safetensors.index.json): its
//    weight_map names the shard of every tensor, shards relative to the
//    index's folder;
//  * a folder: model.safetensors.index.json if present, else
//    model.safetensors, else the only *.safetensors.index.json, else the only
//    *.safetensors file.
// Each shard is mapped once. A tensor listed in the index but missing from
// its shard, a tensor found in two shards, and a shard path leaving the
// folder are errors. Tensors a shard holds but the index does not list are
// not exposed (the index is the authority, as in transformers).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/safetensors.h"
#include "io/weight_source.h"

namespace silica {

class SafetensorsSource : public WeightSource {
 public:
  static Result<std::unique_ptr<SafetensorsSource>> Open(
      const std::string& path);

  std::string_view format() const override { return "safetensors"; }
  // In file order: shard by shard (sorted by shard path), each by offset.
  const std::vector<WeightInfo>& tensors() const override { return infos_; }
  Result<TensorView> View(std::string_view name) const override;
  uint64_t total_file_bytes() const override;

  // The mapped files (one unless sharded), sorted by path.
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const {
    return files_;
  }
  // The file that holds `name`, or nullptr.
  const SafetensorsFile* FileOf(std::string_view name) const;

 private:
  SafetensorsSource() = default;
  Status OpenSingle(const std::string& file);
  Status OpenIndexed(const std::string& index_path);
  void AddTensor(size_t file, const SafetensorsTensorInfo& info);

  struct Location {
    size_t file;
    const SafetensorsTensorInfo* info;
  };
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<WeightInfo> infos_;
  std::unordered_map<std::string, Location> by_name_;
};

}  // namespace silica
