// The index of a sharded safetensors checkpoint
// (`model.safetensors.index.json`):
//   {"metadata": {"total_size": N}, "weight_map": {"tensor": "shard file"}}
// Parsed as untrusted input: shard paths are checked so that no entry can
// point outside the checkpoint folder.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace silica {

inline constexpr std::string_view kSafetensorsIndexName =
    "model.safetensors.index.json";

struct SafetensorsIndex {
  // tensor name -> shard path relative to the index's folder, sorted by
  // tensor name.
  std::vector<std::pair<std::string, std::string>> weight_map;
  // Distinct shard paths, sorted.
  std::vector<std::string> shards;
  std::optional<uint64_t> total_size;  // metadata.total_size when given
};

// `name` is used in error messages.
Result<SafetensorsIndex> ParseSafetensorsIndex(std::string_view text,
                                               const std::string& name);

// A shard path must be relative, non-empty, and free of "." / ".." / empty
// components, so it stays inside the checkpoint folder. (Symlinks inside the
// folder are allowed: the Hugging Face cache is built from them.)
Status CheckShardPath(std::string_view shard, const std::string& where);

}  // namespace silica
