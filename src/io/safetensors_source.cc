#include "io/safetensors_source.h"

#include <filesystem>
#include <system_error>
#include <unordered_set>

#include "io/model_config_json.h"
#include "io/safetensors_index.h"

namespace silica {
namespace {

namespace fs = std::filesystem;

// Real indexes are ~100 KB even for 400B-parameter models.
constexpr uint64_t kMaxIndexBytes = 64 << 20;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

// Picks the checkpoint file inside a folder (see the header for the order).
Result<std::string> ResolveFolder(const std::string& dir) {
  std::error_code ec;
  const fs::path root(dir);
  if (fs::is_regular_file(root / kSafetensorsIndexName, ec)) {
    return (root / kSafetensorsIndexName).string();
  }
  if (fs::is_regular_file(root / "model.safetensors", ec)) {
    return (root / "model.safetensors").string();
  }
  std::vector<std::string> indexes;
  std::vector<std::string> files;
  fs::directory_iterator it(root, ec);
  if (ec) return IoError(dir + ": cannot list folder: " + ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return IoError(dir + ": cannot list folder: " + ec.message());
    const std::string name = it->path().filename().string();
    if (!it->is_regular_file(ec)) continue;  // follows symlinks
    if (EndsWith(name, ".safetensors.index.json")) {
      indexes.push_back(it->path().string());
    } else if (EndsWith(name, ".safetensors")) {
      files.push_back(it->path().string());
    }
  }
  if (indexes.size() == 1) return indexes.front();
  if (indexes.size() > 1) {
    return InvalidArgument(dir + ": " + std::to_string(indexes.size()) +
                           " *.safetensors.index.json files; pass one of them");
  }
  if (files.size() == 1) return files.front();
  if (files.empty()) {
    return NotFound(dir + ": no .safetensors file or index in this folder");
  }
  return InvalidArgument(dir + ": " + std::to_string(files.size()) +
                         " .safetensors files and no " +
                         std::string(kSafetensorsIndexName) +
                         "; pass one file or add the index");
}

}  // namespace

Result<std::unique_ptr<SafetensorsSource>> SafetensorsSource::Open(
    const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    return NotFound(path + ": no such file or folder");
  }
  std::string target = path;
  if (fs::is_directory(st)) {
    ASSIGN_OR_RETURN(target, ResolveFolder(path));
  }
  std::unique_ptr<SafetensorsSource> source(new SafetensorsSource());
  if (EndsWith(target, ".json")) {
    RETURN_IF_ERROR(source->OpenIndexed(target));
  } else {
    RETURN_IF_ERROR(source->OpenSingle(target));
  }
  return source;
}

Status SafetensorsSource::OpenSingle(const std::string& file) {
  ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> st,
                   SafetensorsFile::Open(file));
  files_.push_back(std::move(st));
  for (const SafetensorsTensorInfo& info : files_[0]->tensors()) {
    AddTensor(0, info);
  }
  return Status::Ok();
}

Status SafetensorsSource::OpenIndexed(const std::string& index_path) {
  ASSIGN_OR_RETURN(std::string text, ReadJsonFile(index_path, kMaxIndexBytes));
  ASSIGN_OR_RETURN(SafetensorsIndex index,
                   ParseSafetensorsIndex(text, index_path));
  const fs::path dir = fs::path(index_path).parent_path();

  // Every shard opened once; shards are sorted, so files_ is too.
  std::unordered_map<std::string, size_t> shard_file;
  for (const std::string& shard : index.shards) {
    Result<std::unique_ptr<SafetensorsFile>> st =
        SafetensorsFile::Open((dir / shard).string());
    if (!st.ok()) {
      return st.status().WithContext(index_path + ": shard '" + shard + "'");
    }
    shard_file.emplace(shard, files_.size());
    files_.push_back(std::move(st).value());
  }

  // A name held by two shards makes the checkpoint ambiguous.
  std::unordered_map<std::string_view, size_t> holder;
  for (size_t f = 0; f < files_.size(); ++f) {
    for (const SafetensorsTensorInfo& info : files_[f]->tensors()) {
      const auto [it, inserted] = holder.emplace(info.name, f);
      if (!inserted) {
        return DataLoss(index_path + ": tensor '" + info.name +
                        "' appears in both " + files_[it->second]->name() +
                        " and " + files_[f]->name());
      }
    }
  }

  std::unordered_set<std::string_view> listed;
  for (const auto& [tensor, shard] : index.weight_map) {
    const size_t f = shard_file.at(shard);
    if (files_[f]->FindTensor(tensor) == nullptr) {
      return DataLoss(index_path + ": weight_map puts tensor '" + tensor +
                      "' in shard '" + shard + "', which does not hold it");
    }
    listed.insert(files_[f]->FindTensor(tensor)->name);
  }
  for (size_t f = 0; f < files_.size(); ++f) {
    for (const SafetensorsTensorInfo& info : files_[f]->tensors()) {
      if (listed.count(info.name) != 0) AddTensor(f, info);
    }
  }
  return Status::Ok();
}

void SafetensorsSource::AddTensor(size_t file,
                                  const SafetensorsTensorInfo& info) {
  WeightInfo w;
  w.name = info.name;
  w.dtype = info.dtype;
  w.shape = info.shape;
  w.nbytes = info.nbytes();
  infos_.push_back(std::move(w));
  by_name_.emplace(info.name, Location{file, &info});
}

Result<TensorView> SafetensorsSource::View(std::string_view name) const {
  const auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) {
    return NotFound("tensor '" + std::string(name) + "' is not in " +
                    (files_.size() == 1 ? files_[0]->name()
                                        : std::to_string(files_.size()) +
                                              " safetensors shards"));
  }
  return files_[it->second.file]->View(*it->second.info);
}

const SafetensorsFile* SafetensorsSource::FileOf(std::string_view name) const {
  const auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : files_[it->second.file].get();
}

uint64_t SafetensorsSource::total_file_bytes() const {
  uint64_t total = 0;
  for (const auto& f : files_) total += f->file_size();
  return total;
}

}  // namespace silica
