#include "io/safetensors_writer.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "io/safetensors_index.h"

namespace silica {
namespace {

using Tensors = std::vector<const SafetensorsTensorToWrite*>;
using Sink = std::function<Status(const uint8_t* data, size_t n)>;

Result<uint64_t> TensorBytes(const SafetensorsTensorToWrite& t) {
  const std::string where = "tensor '" + t.name + "'";
  if (SafetensorsDTypeName(t.dtype).empty()) {
    return InvalidArgument(where + ": dtype " + std::string(DTypeName(t.dtype)) +
                           " cannot be stored in safetensors");
  }
  uint64_t bytes = GetDTypeInfo(t.dtype).block_bytes;
  for (const int64_t d : t.shape) {
    if (d < 0) return InvalidArgument(where + ": negative dimension");
    if (MulOverflows(bytes, static_cast<uint64_t>(d), &bytes)) {
      return InvalidArgument(where + ": size overflows 64 bits");
    }
  }
  if (!t.data.empty() && t.data.size() != bytes) {
    return InvalidArgument(where + ": has " + std::to_string(t.data.size()) +
                           " bytes of data, shape and dtype need " +
                           std::to_string(bytes));
  }
  if (t.data.empty() && bytes > 0 && !t.fill) {
    return InvalidArgument(where + ": no data and no fill callback");
  }
  return bytes;
}

// Position of a dtype in the reference implementation's Dtype enum, which
// lists types by growing element size (U8 < I8 < I16 < F16 < BF16 < I32 <
// U32 < F32 < F64 < I64).
int ReferenceRank(DType dtype) {
  switch (dtype) {
    case DType::kU8: return 0;
    case DType::kI8: return 1;
    case DType::kI16: return 2;
    case DType::kF16: return 3;
    case DType::kBF16: return 4;
    case DType::kI32: return 5;
    case DType::kU32: return 6;
    case DType::kF32: return 7;
    case DType::kF64: return 8;
    case DType::kI64: return 9;
    default: return -1;  // refused by TensorBytes
  }
}

// Header and data layout of one file, in write order.
struct Plan {
  std::string header;  // JSON, padded with spaces to a multiple of 8
  Tensors order;
  std::vector<uint64_t> sizes;
};

Result<Plan> MakePlan(const Tensors& tensors,
                      const SafetensorsMetadata& metadata) {
  Plan plan;
  plan.order = tensors;
  // Same order as the reference implementation (by its dtype enum,
  // descending, then name): element sizes only shrink along the file, so
  // with the data section 8-aligned every tensor is aligned to its element
  // size, and files match the reference byte for byte.
  std::stable_sort(plan.order.begin(), plan.order.end(),
                   [](const SafetensorsTensorToWrite* a,
                      const SafetensorsTensorToWrite* b) {
                     const int ra = ReferenceRank(a->dtype);
                     const int rb = ReferenceRank(b->dtype);
                     if (ra != rb) return ra > rb;
                     return a->name < b->name;
                   });
  std::unordered_set<std::string> names;
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) {
      if (meta.contains(k)) {
        return InvalidArgument("metadata key '" + k + "' given twice");
      }
      meta[k] = v;
    }
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const SafetensorsTensorToWrite* t : plan.order) {
    if (t->name.empty() || t->name == "__metadata__") {
      return InvalidArgument("invalid tensor name '" + t->name + "'");
    }
    if (!names.insert(t->name).second) {
      return InvalidArgument("tensor '" + t->name + "' given twice");
    }
    ASSIGN_OR_RETURN(const uint64_t bytes, TensorBytes(*t));
    uint64_t end = 0;
    if (AddOverflows(offset, bytes, &end)) {
      return InvalidArgument("total tensor size overflows 64 bits");
    }
    header[t->name] = {
        {"dtype", std::string(SafetensorsDTypeName(t->dtype))},
        {"shape", t->shape},
        {"data_offsets", {offset, end}},
    };
    plan.sizes.push_back(bytes);
    offset = end;
  }
  try {
    // strict: a name that is not valid UTF-8 is refused, not mangled.
    plan.header = header.dump(-1, ' ', false,
                              nlohmann::ordered_json::error_handler_t::strict);
  } catch (const nlohmann::ordered_json::exception& e) {
    return InvalidArgument(std::string("cannot encode header: ") + e.what());
  }
  plan.header.append((8 - plan.header.size() % 8) % 8, ' ');
  return plan;
}

Status WriteFile(const Tensors& tensors, const SafetensorsMetadata& metadata,
                 const Sink& sink) {
  ASSIGN_OR_RETURN(const Plan plan, MakePlan(tensors, metadata));
  const uint64_t n = plan.header.size();
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
  RETURN_IF_ERROR(sink(len, 8));
  RETURN_IF_ERROR(sink(reinterpret_cast<const uint8_t*>(plan.header.data()), n));
  std::vector<uint8_t> buffer;
  for (size_t i = 0; i < plan.order.size(); ++i) {
    const SafetensorsTensorToWrite& t = *plan.order[i];
    if (plan.sizes[i] == 0) continue;
    if (!t.data.empty()) {
      RETURN_IF_ERROR(sink(t.data.data(), t.data.size()));
      continue;
    }
    buffer.assign(plan.sizes[i], 0);
    RETURN_IF_ERROR(t.fill(std::span<uint8_t>(buffer)).WithContext(
        "tensor '" + t.name + "'"));
    RETURN_IF_ERROR(sink(buffer.data(), buffer.size()));
  }
  return Status::Ok();
}

Status WriteToPath(const std::string& path, const Tensors& tensors,
                   const SafetensorsMetadata& metadata) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return IoError(path + ": cannot open for writing");
  const Status st = WriteFile(tensors, metadata,
                              [&](const uint8_t* data, size_t n) -> Status {
                                out.write(reinterpret_cast<const char*>(data),
                                          static_cast<std::streamsize>(n));
                                if (!out) return IoError(path + ": write failed");
                                return Status::Ok();
                              });
  if (!st.ok()) return st.WithContext(path);
  out.close();
  if (!out) return IoError(path + ": write failed");
  return Status::Ok();
}

Tensors Pointers(const std::vector<SafetensorsTensorToWrite>& tensors) {
  Tensors out;
  out.reserve(tensors.size());
  for (const auto& t : tensors) out.push_back(&t);
  return out;
}

std::string ShardName(const std::string& base, size_t i, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "-%05zu-of-%05zu.safetensors", i + 1, n);
  return base + buf;
}

}  // namespace

Result<std::vector<uint8_t>> SerializeSafetensors(
    const std::vector<SafetensorsTensorToWrite>& tensors,
    const SafetensorsMetadata& metadata) {
  std::vector<uint8_t> bytes;
  RETURN_IF_ERROR(WriteFile(Pointers(tensors), metadata,
                            [&](const uint8_t* data, size_t n) -> Status {
                              bytes.insert(bytes.end(), data, data + n);
                              return Status::Ok();
                            }));
  return bytes;
}

Status WriteSafetensors(const std::string& path,
                        const std::vector<SafetensorsTensorToWrite>& tensors,
                        const SafetensorsMetadata& metadata) {
  return WriteToPath(path, Pointers(tensors), metadata);
}

Result<std::vector<std::string>> WriteShardedSafetensors(
    const std::string& dir,
    const std::vector<SafetensorsTensorToWrite>& tensors,
    uint64_t max_shard_bytes, const SafetensorsMetadata& metadata,
    const std::string& base) {
  if (tensors.empty()) return InvalidArgument("no tensors to write");
  RETURN_IF_ERROR(CheckShardPath(base + ".safetensors", "shard base name"));
  // Split in the given order.
  std::vector<Tensors> shards(1);
  uint64_t shard_bytes = 0;
  uint64_t total = 0;
  std::unordered_set<std::string> seen;
  for (const auto& t : tensors) {
    if (!seen.insert(t.name).second) {
      return InvalidArgument("tensor '" + t.name + "' given twice");
    }
    ASSIGN_OR_RETURN(const uint64_t bytes, TensorBytes(t));
    if (AddOverflows(total, bytes, &total)) {
      return InvalidArgument("total tensor size overflows 64 bits");
    }
    // shard_bytes + bytes <= total, so this sum cannot overflow either.
    if (!shards.back().empty() && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(&t);
    shard_bytes += bytes;
  }
  std::vector<std::string> names;
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  const std::filesystem::path root(dir);
  for (size_t i = 0; i < shards.size(); ++i) {
    names.push_back(ShardName(base, i, shards.size()));
    RETURN_IF_ERROR(
        WriteToPath((root / names.back()).string(), shards[i], metadata));
    for (const SafetensorsTensorToWrite* t : shards[i]) {
      weight_map[t->name] = names.back();
    }
  }
  nlohmann::ordered_json index = {
      {"metadata", {{"total_size", total}}},
      {"weight_map", std::move(weight_map)},
  };
  const std::string index_path =
      (root / (base + ".safetensors.index.json")).string();
  std::ofstream out(index_path, std::ios::trunc);
  if (!out) return IoError(index_path + ": cannot open for writing");
  // Names were already encoded once in the shard headers, so this dump
  // cannot meet invalid UTF-8.
  out << index.dump(2) << "\n";
  out.close();
  if (!out) return IoError(index_path + ": write failed");
  return names;
}

}  // namespace silica
