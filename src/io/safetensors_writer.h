// safetensors writer: single files and sharded sets with an index, in the
// layout of the reference implementation (compact JSON header padded with
// spaces so the data section starts 8-byte aligned; tensors ordered by
// element size, largest first, then by name, so every tensor stays aligned
// to its element size). Given the same tensors and one metadata entry, the
// bytes equal the reference's (metadata order is a hash-map order there).
//
// Used by tests and by the synthetic-model tool: tensor bytes can be given
// up front or produced one tensor at a time by a callback, so a multi-GB
// model never has to sit in memory at once.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace silica {

struct SafetensorsTensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  // Outermost first. Any rank (the reader limits rank, the format does not).
  std::vector<int64_t> shape;
  // Exactly product(shape) * element size bytes. Either `data` (borrowed,
  // must outlive the write call) or, when `data` is empty and the tensor is
  // not, `fill`, which must fill the whole buffer it is given.
  std::span<const uint8_t> data;
  std::function<Status(std::span<uint8_t> out)> fill;
};

using SafetensorsMetadata = std::vector<std::pair<std::string, std::string>>;

// Builds a whole file in memory (tests, fuzz seeds).
Result<std::vector<uint8_t>> SerializeSafetensors(
    const std::vector<SafetensorsTensorToWrite>& tensors,
    const SafetensorsMetadata& metadata = {});

// Writes one file, streaming tensor bytes.
Status WriteSafetensors(const std::string& path,
                        const std::vector<SafetensorsTensorToWrite>& tensors,
                        const SafetensorsMetadata& metadata = {});

// Writes `dir`/<base>-0000i-of-0000n.safetensors shards, each holding
// tensors in the given order until adding the next one would pass
// `max_shard_bytes` of tensor data (a bigger tensor gets a shard of its
// own), and `dir`/<base>.safetensors.index.json. `dir` must exist. Returns
// the shard file names.
Result<std::vector<std::string>> WriteShardedSafetensors(
    const std::string& dir,
    const std::vector<SafetensorsTensorToWrite>& tensors,
    uint64_t max_shard_bytes, const SafetensorsMetadata& metadata = {},
    const std::string& base = "model");

}  // namespace silica
