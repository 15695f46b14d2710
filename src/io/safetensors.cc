#include "io/safetensors.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/byte_reader.h"
#include "io/model_config_json.h"

namespace silica {
namespace {

using nlohmann::json;

static_assert(std::endian::native == std::endian::little,
              "the header length is read as a native uint64");

// A header is {name: {dtype, shape: [...], data_offsets: [...]}}: depth 3.
// A little slack lets odd-but-valid metadata through while still refusing
// "[[[[...".
constexpr int kMaxHeaderDepth = 8;

struct SafetensorsDType {
  std::string_view name;
  DType dtype;
};
constexpr SafetensorsDType kDTypeNames[] = {
    {"F64", DType::kF64}, {"F32", DType::kF32}, {"F16", DType::kF16},
    {"BF16", DType::kBF16}, {"I64", DType::kI64}, {"I32", DType::kI32},
    {"I16", DType::kI16}, {"I8", DType::kI8},   {"U32", DType::kU32},
    {"U8", DType::kU8},
};

std::string Quote(std::string_view s) {
  // Names come from the file; keep messages one line and bounded.
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 200; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  }
  if (s.size() > 200) out += "...";
  return out + "'";
}

Status ParseShape(const json& v, const std::string& where, Shape* shape) {
  if (!v.is_array()) {
    return DataLoss(where + ": 'shape' must be an array, got " +
                    std::string(JsonTypeName(v)));
  }
  if (v.size() > static_cast<size_t>(kMaxDims)) {
    return Unimplemented(where + ": rank " + std::to_string(v.size()) +
                         " exceeds the supported maximum of " +
                         std::to_string(kMaxDims));
  }
  shape->rank = static_cast<int>(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string field = where + ": shape[" + std::to_string(i) + "]";
    if (!v[i].is_number_integer()) {
      return DataLoss(field + " must be an integer, got " +
                      std::string(JsonTypeName(v[i])));
    }
    if (v[i].is_number_unsigned()) {
      const uint64_t d = v[i].get<uint64_t>();
      if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return DataLoss(field + " = " + std::to_string(d) + " is too large");
      }
      shape->dims[i] = static_cast<int64_t>(d);
    } else {
      const int64_t d = v[i].get<int64_t>();
      if (d < 0) {
        return DataLoss(field + " = " + std::to_string(d) + " is negative");
      }
      shape->dims[i] = d;
    }
  }
  return Status::Ok();
}

Status ParseOffsets(const json& v, const std::string& where, uint64_t* begin,
                    uint64_t* end) {
  if (!v.is_array() || v.size() != 2) {
    return DataLoss(where + ": 'data_offsets' must be an array of 2 integers");
  }
  uint64_t out[2];
  for (size_t i = 0; i < 2; ++i) {
    if (!v[i].is_number_unsigned()) {  // nlohmann stores >= 0 as unsigned
      return DataLoss(where + ": data_offsets[" + std::to_string(i) +
                      "] must be a non-negative integer, got " +
                      (v[i].is_number_integer() ? std::string("negative")
                                                : std::string(JsonTypeName(v[i]))));
    }
    out[i] = v[i].get<uint64_t>();
  }
  if (out[0] > out[1]) {
    return DataLoss(where + ": data_offsets [" + std::to_string(out[0]) +
                    ", " + std::to_string(out[1]) + "] has begin > end");
  }
  *begin = out[0];
  *end = out[1];
  return Status::Ok();
}

// One header entry: dtype, shape and data_offsets, checked against each
// other and against the data section.
Status ParseTensorEntry(const std::string& file, const std::string& key,
                        const json& value, uint64_t data_size,
                        SafetensorsTensorInfo* info) {
  const std::string where = file + ": tensor " + Quote(key);
  if (!value.is_object()) {
    return DataLoss(where + ": entry must be an object, got " +
                    std::string(JsonTypeName(value)));
  }
  info->name = key;

  const auto dtype_it = value.find("dtype");
  if (dtype_it == value.end()) return DataLoss(where + ": missing 'dtype'");
  if (!dtype_it->is_string()) {
    return DataLoss(where + ": 'dtype' must be a string, got " +
                    std::string(JsonTypeName(*dtype_it)));
  }
  Result<DType> dtype = DTypeFromSafetensorsName(dtype_it->get<std::string>());
  if (!dtype.ok()) return dtype.status().WithContext(where);
  info->dtype = *dtype;

  const auto shape_it = value.find("shape");
  if (shape_it == value.end()) return DataLoss(where + ": missing 'shape'");
  RETURN_IF_ERROR(ParseShape(*shape_it, where, &info->shape));

  const auto off_it = value.find("data_offsets");
  if (off_it == value.end()) {
    return DataLoss(where + ": missing 'data_offsets'");
  }
  RETURN_IF_ERROR(ParseOffsets(*off_it, where, &info->begin, &info->end));
  if (info->end > data_size) {
    return DataLoss(where + ": data_offsets [" + std::to_string(info->begin) +
                    ", " + std::to_string(info->end) +
                    ") run past the end of the data section (" +
                    std::to_string(data_size) + " bytes)");
  }

  // Size = product(shape) * element size, every step overflow-checked.
  // Each running product must also fit int64, because Shape multiplies
  // dims in that type (a later zero dim does not excuse an overflow).
  uint64_t elems = 1;
  uint64_t expected = 0;
  bool overflow = false;
  for (int i = 0; i < info->shape.rank && !overflow; ++i) {
    overflow = MulOverflows(elems, static_cast<uint64_t>(info->shape.dims[i]),
                            &elems) ||
               elems > static_cast<uint64_t>(
                           std::numeric_limits<int64_t>::max());
  }
  if (overflow ||
      MulOverflows(elems, GetDTypeInfo(info->dtype).block_bytes, &expected)) {
    return DataLoss(where + ": shape " + info->shape.ToString() +
                    " overflows 64 bits");
  }
  if (expected != info->nbytes()) {
    return DataLoss(where + ": shape " + info->shape.ToString() + " of " +
                    std::string(dtype_it->get<std::string>()) + " needs " +
                    std::to_string(expected) + " bytes but data_offsets [" +
                    std::to_string(info->begin) + ", " +
                    std::to_string(info->end) + ") hold " +
                    std::to_string(info->nbytes()));
  }
  return Status::Ok();
}

// Sorts tensors into file order and fails if two share a byte.
Status SortAndCheckDisjoint(const std::string& file,
                            std::vector<SafetensorsTensorInfo>* tensors) {
  // No two tensors may share bytes. Empty tensors touch no bytes and are
  // exempt; sorting by (begin, end) puts any overlap between neighbours.
  std::sort(tensors->begin(), tensors->end(),
            [](const SafetensorsTensorInfo& a, const SafetensorsTensorInfo& b) {
              if (a.begin != b.begin) return a.begin < b.begin;
              if (a.end != b.end) return a.end < b.end;
              return a.name < b.name;
            });
  const SafetensorsTensorInfo* prev = nullptr;
  for (const SafetensorsTensorInfo& t : *tensors) {
    if (t.nbytes() == 0) continue;
    if (prev != nullptr && t.begin < prev->end) {
      return DataLoss(file + ": tensor " + Quote(t.name) + " data_offsets [" +
                      std::to_string(t.begin) + ", " + std::to_string(t.end) +
                      ") overlap tensor " + Quote(prev->name) + " [" +
                      std::to_string(prev->begin) + ", " +
                      std::to_string(prev->end) + ")");
    }
    prev = &t;
  }
  return Status::Ok();
}

}  // namespace

Result<DType> DTypeFromSafetensorsName(std::string_view name) {
  for (const SafetensorsDType& d : kDTypeNames) {
    if (d.name == name) return d.dtype;
  }
  return Unimplemented("dtype " + Quote(name) + " is not supported");
}

std::string_view SafetensorsDTypeName(DType dtype) {
  for (const SafetensorsDType& d : kDTypeNames) {
    if (d.dtype == dtype) return d.name;
  }
  return {};
}

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::Open(path));
  std::unique_ptr<SafetensorsFile> st(new SafetensorsFile());
  st->name_ = path;
  st->bytes_ = file->bytes();
  st->file_ = std::move(file);
  RETURN_IF_ERROR(st->ParseAll());
  return st;
}

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Parse(
    std::span<const uint8_t> bytes, std::string name) {
  std::unique_ptr<SafetensorsFile> st(new SafetensorsFile());
  st->name_ = std::move(name);
  st->bytes_ = bytes;
  RETURN_IF_ERROR(st->ParseAll());
  return st;
}

Status SafetensorsFile::ParseAll() {
  ByteReader reader(bytes_);
  uint64_t n = 0;
  RETURN_IF_ERROR(reader.Read(&n, "header length").WithContext(name_));
  if (n > kSafetensorsMaxHeaderBytes) {
    return DataLoss(name_ + ": header length " + std::to_string(n) +
                    " exceeds the limit of " +
                    std::to_string(kSafetensorsMaxHeaderBytes) + " bytes");
  }
  if (n > reader.remaining()) {
    return DataLoss(name_ + ": header length " + std::to_string(n) +
                    " runs past the end of the file (" +
                    std::to_string(bytes_.size()) + " bytes)");
  }
  std::span<const uint8_t> header_bytes;
  RETURN_IF_ERROR(reader.ReadBytes(n, &header_bytes, "header").WithContext(name_));
  header_bytes_ = n;
  const uint64_t data_size = reader.remaining();

  const std::string_view text(reinterpret_cast<const char*>(header_bytes.data()),
                              header_bytes.size());
  ASSIGN_OR_RETURN(json header,
                   ParseJsonStrict(text, name_ + ": header", kMaxHeaderDepth));
  if (!header.is_object()) {
    return DataLoss(name_ + ": header must be a JSON object, got " +
                    std::string(JsonTypeName(header)));
  }

  tensors_.reserve(header.size());
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) {
        return DataLoss(name_ + ": __metadata__ must be an object, got " +
                        std::string(JsonTypeName(value)));
      }
      for (const auto& [mkey, mvalue] : value.items()) {
        if (!mvalue.is_string()) {
          return DataLoss(name_ + ": __metadata__." + Quote(mkey) +
                          " must be a string, got " +
                          std::string(JsonTypeName(mvalue)));
        }
        metadata_.emplace_back(mkey, mvalue.get<std::string>());
      }
      continue;
    }
    SafetensorsTensorInfo info;
    RETURN_IF_ERROR(ParseTensorEntry(name_, key, value, data_size, &info));
    tensors_.push_back(std::move(info));
  }
  std::sort(metadata_.begin(), metadata_.end());

  RETURN_IF_ERROR(SortAndCheckDisjoint(name_, &tensors_));
  tensor_index_.reserve(tensors_.size());
  for (size_t i = 0; i < tensors_.size(); ++i) {
    tensor_index_.emplace(tensors_[i].name, i);
  }
  return Status::Ok();
}

const std::string* SafetensorsFile::FindMetadata(std::string_view key) const {
  const auto it = std::lower_bound(
      metadata_.begin(), metadata_.end(), key,
      [](const std::pair<std::string, std::string>& e, std::string_view k) {
        return e.first < k;
      });
  if (it == metadata_.end() || it->first != key) return nullptr;
  return &it->second;
}

const SafetensorsTensorInfo* SafetensorsFile::FindTensor(
    std::string_view name) const {
  const auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

TensorView SafetensorsFile::View(const SafetensorsTensorInfo& info) const {
  TensorView v;
  v.data = bytes_.data() + data_offset() + info.begin;
  v.dtype = info.dtype;
  v.device = Device::kCpu;
  v.shape = info.shape;
  v.nbytes = info.nbytes();
  return v;
}

}  // namespace silica
