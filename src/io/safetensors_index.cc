#include "io/safetensors_index.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "io/model_config_json.h"

namespace silica {
namespace {

using nlohmann::json;

// {"metadata": {...}, "weight_map": {...}} is depth 2; some writers put
// small objects in metadata.
constexpr int kMaxIndexDepth = 8;

}  // namespace

Status CheckShardPath(std::string_view shard, const std::string& where) {
  const auto bad = [&](std::string_view why) {
    return InvalidArgument(where + ": shard path '" + std::string(shard) +
                           "' " + std::string(why));
  };
  if (shard.empty()) return bad("is empty");
  if (shard.find('\0') != std::string_view::npos) return bad("contains NUL");
  if (shard.front() == '/') return bad("is absolute");
  if (shard.back() == '/') return bad("names a folder");
  size_t start = 0;
  while (start <= shard.size()) {
    size_t slash = shard.find('/', start);
    if (slash == std::string_view::npos) slash = shard.size();
    const std::string_view part = shard.substr(start, slash - start);
    if (part.empty()) return bad("has an empty component");
    if (part == "..") return bad("escapes the checkpoint folder ('..')");
    if (part == ".") return bad("has a '.' component");
    start = slash + 1;
  }
  return Status::Ok();
}

Result<SafetensorsIndex> ParseSafetensorsIndex(std::string_view text,
                                               const std::string& name) {
  ASSIGN_OR_RETURN(json root, ParseJsonStrict(text, name, kMaxIndexDepth));
  if (!root.is_object()) {
    return DataLoss(name + ": expected a JSON object, got " +
                    std::string(JsonTypeName(root)));
  }
  SafetensorsIndex index;

  const auto meta = root.find("metadata");
  if (meta != root.end() && !meta->is_null()) {
    if (!meta->is_object()) {
      return DataLoss(name + ": metadata must be an object, got " +
                      std::string(JsonTypeName(*meta)));
    }
    const auto total = meta->find("total_size");
    if (total != meta->end() && !total->is_null()) {
      // Informational only; some writers store it as a float.
      if (total->is_number_unsigned()) {
        index.total_size = total->get<uint64_t>();
      } else if (!total->is_number() || total->get<double>() < 0) {
        return DataLoss(name + ": metadata.total_size must be a non-negative "
                        "number, got " + std::string(JsonTypeName(*total)));
      }
    }
  }

  const auto map = root.find("weight_map");
  if (map == root.end()) return DataLoss(name + ": missing 'weight_map'");
  if (!map->is_object()) {
    return DataLoss(name + ": weight_map must be an object, got " +
                    std::string(JsonTypeName(*map)));
  }
  if (map->empty()) return DataLoss(name + ": weight_map is empty");
  index.weight_map.reserve(map->size());
  for (const auto& [tensor, shard] : map->items()) {
    const std::string where = name + ": weight_map['" + tensor + "']";
    if (!shard.is_string()) {
      return DataLoss(where + " must be a string, got " +
                      std::string(JsonTypeName(shard)));
    }
    std::string path = shard.get<std::string>();
    RETURN_IF_ERROR(CheckShardPath(path, where));
    index.weight_map.emplace_back(tensor, std::move(path));
  }
  // nlohmann keeps object keys sorted, so weight_map is sorted by tensor.
  for (const auto& entry : index.weight_map) index.shards.push_back(entry.second);
  std::sort(index.shards.begin(), index.shards.end());
  index.shards.erase(std::unique(index.shards.begin(), index.shards.end()),
                     index.shards.end());
  return index;
}

}  // namespace silica
