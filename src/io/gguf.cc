#include "io/gguf.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

#include "core/byte_reader.h"

namespace silica {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read little-endian
constexpr uint64_t kDefaultAlignment = 32;
// Arrays of arrays recurse; a hostile file could nest millions deep (12 bytes
// a level) and blow the stack. Real files nest at most one level.
constexpr int kMaxArrayDepth = 8;
// Each parsed value costs ~48 bytes of memory for as little as 1 byte of
// file, so counts checked against the remaining bytes alone would still let
// a large hostile file allocate gigabytes. Real models stay under a million
// values (Gemma 3: 262k tokens x (text, score, type)); the cap keeps the
// worst case near 200 MB.
constexpr uint64_t kMaxMetadataValues = uint64_t{1} << 22;

// Smallest on-disk size of one value of `t`, for capping counts against the
// bytes left: a count that cannot fit in the file is rejected before any
// allocation is sized by it.
uint64_t MinEncodedSize(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
    case GgufType::kString:  // u64 length
      return 8;
    case GgufType::kArray:  // u32 type + u64 count
      return 12;
  }
  return 1;
}

bool IsKnownType(uint32_t t) { return t <= 12; }

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

std::string Quote(std::string_view s) {
  std::string out = "'";
  // Names come from hostile files: keep messages printable and short.
  const size_t n = std::min<size_t>(s.size(), 128);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (s.size() > n) out += "...";
  return out + "'";
}

// Parser state for one file: the reader plus a running count of values.
struct Parser {
  ByteReader r;
  const std::string& file;
  uint64_t values = 0;

  Status Fail(StatusCode code, const std::string& what) const {
    return Status(code, file + ": " + what);
  }

  Status ReadString(std::string* out, const std::string& field) {
    uint64_t len = 0;
    RETURN_IF_ERROR(r.Read(&len, field + " length").WithContext(file));
    std::span<const uint8_t> bytes;
    if (len > r.remaining()) {
      return Fail(StatusCode::kDataLoss,
                  field + ": string length " + std::to_string(len) +
                      " exceeds the " + std::to_string(r.remaining()) +
                      " bytes left in the file");
    }
    RETURN_IF_ERROR(r.ReadBytes(len, &bytes, field).WithContext(file));
    out->assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return Status::Ok();
  }

  Status CountValue(const std::string& field) {
    if (++values > kMaxMetadataValues) {
      return Fail(StatusCode::kResourceExhausted,
                  field + ": more than " + std::to_string(kMaxMetadataValues) +
                      " metadata values in the file");
    }
    return Status::Ok();
  }

  template <typename T>
  Status ReadScalar(T* out, const std::string& field) {
    return r.Read(out, field).WithContext(file);
  }

  Status ReadValue(GgufType type, int depth, const std::string& field,
                   GgufValue* out) {
    RETURN_IF_ERROR(CountValue(field));
    out->type = type;
    switch (type) {
      case GgufType::kUint8: {
        uint8_t v = 0;
        RETURN_IF_ERROR(ReadScalar(&v, field));
        out->data = uint64_t{v};
        return Status::Ok();
      }
      case GgufType::kInt8: {
        int8_t v = 0;
        RETURN_IF_ERROR(ReadScalar(&v, field));
        out->data = int64_t{v};
        return Status::Ok();
      }
      case GgufType::kUint16: {
        uint16_t v = 0;
        RETURN_IF_ERROR(ReadScalar(&v, field));
        out->data = uint64_t{v};
        return Status::Ok();
      }
      case GgufType::kInt16: {
        int16_t v = 0;
        RETURN_IF_ERROR(ReadScalar(&v, field));
        out->data = int64_t{v};
        return Status::Ok();
      }
      case GgufType::kUint32: {
        uint32_t v = 0;
        RETURN_IF_ERROR(ReadScalar(&v, field));
        out->data = uint64_t{v};
        return Status::Ok();
      }
      case GgufType::kInt32: {
        int32_t v = 0;
        RETURN_IF_ERROR(ReadScalar(&v, field));
        out->data = int64_t{v};
        return Status::Ok();
      }
      case GgufType::kUint64: {
        uint64_t v = 0;
        RETURN_IF_ERROR(ReadScalar(&v, field));
        out->data = v;
        return Status::Ok();
      }
      case GgufType::kInt64: {
        int64_t v = 0;
        RETURN_IF_ERROR(ReadScalar(&v, field));
        out->data = v;
        return Status::Ok();
      }
      case GgufType::kFloat32: {
        float v = 0;
        RETURN_IF_ERROR(ReadScalar(&v, field));
        out->data = double{v};
        return Status::Ok();
      }
      case GgufType::kFloat64: {
        double v = 0;
        RETURN_IF_ERROR(ReadScalar(&v, field));
        out->data = v;
        return Status::Ok();
      }
      case GgufType::kBool: {
        uint8_t v = 0;
        RETURN_IF_ERROR(ReadScalar(&v, field));
        if (v > 1) {
          return Fail(StatusCode::kDataLoss, field + ": bool value " +
                                                 std::to_string(v) +
                                                 " is neither 0 nor 1");
        }
        out->data = v == 1;
        return Status::Ok();
      }
      case GgufType::kString: {
        std::string s;
        RETURN_IF_ERROR(ReadString(&s, field));
        out->data = std::move(s);
        return Status::Ok();
      }
      case GgufType::kArray:
        return ReadArray(depth + 1, field, out);
    }
    return Fail(StatusCode::kInternal, field + ": unhandled type");
  }

  Status ReadArray(int depth, const std::string& field, GgufValue* out) {
    if (depth > kMaxArrayDepth) {
      return Fail(StatusCode::kDataLoss,
                  field + ": arrays nested deeper than " +
                      std::to_string(kMaxArrayDepth) + " levels");
    }
    uint32_t elem_raw = 0;
    RETURN_IF_ERROR(ReadScalar(&elem_raw, field + " element type"));
    if (!IsKnownType(elem_raw)) {
      return Fail(
          StatusCode::kDataLoss,
          field + ": unknown array element type " + std::to_string(elem_raw));
    }
    const auto elem = static_cast<GgufType>(elem_raw);
    uint64_t count = 0;
    RETURN_IF_ERROR(ReadScalar(&count, field + " array count"));
    const uint64_t max_count = r.remaining() / MinEncodedSize(elem);
    if (count > max_count) {
      return Fail(StatusCode::kDataLoss,
                  field + ": array count " + std::to_string(count) + " of " +
                      std::string(GgufTypeName(elem)) + " cannot fit in the " +
                      std::to_string(r.remaining()) + " bytes left");
    }
    if (count > kMaxMetadataValues - std::min(values, kMaxMetadataValues)) {
      return Fail(StatusCode::kResourceExhausted,
                  field + ": array count " + std::to_string(count) +
                      " exceeds the limit of " +
                      std::to_string(kMaxMetadataValues) + " metadata values");
    }
    auto arr = std::make_shared<GgufArray>();
    arr->elem_type = elem;
    arr->items.resize(count);
    for (uint64_t i = 0; i < count; ++i) {
      RETURN_IF_ERROR(ReadValue(
          elem, depth, field + "[" + std::to_string(i) + "]", &arr->items[i]));
    }
    out->type = GgufType::kArray;
    out->data = std::shared_ptr<const GgufArray>(std::move(arr));
    return Status::Ok();
  }
};

}  // namespace

Result<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> mapped, MappedFile::Open(path));
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->name_ = path;
  f->bytes_ = mapped->bytes();
  f->file_ = std::move(mapped);
  RETURN_IF_ERROR(f->ParseAll());
  return f;
}

Result<std::unique_ptr<GgufFile>> GgufFile::Parse(
    std::span<const uint8_t> bytes, std::string name) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->name_ = std::move(name);
  f->bytes_ = bytes;
  RETURN_IF_ERROR(f->ParseAll());
  return f;
}

Status GgufFile::ParseAll() {
  Parser p{ByteReader(bytes_), name_};
  ByteReader& r = p.r;
  auto fail = [&](StatusCode code, const std::string& what) {
    return p.Fail(code, what);
  };

  uint32_t magic = 0;
  RETURN_IF_ERROR(p.ReadScalar(&magic, "magic"));
  if (magic != kGgufMagic) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%08x", magic);
    return fail(
        StatusCode::kDataLoss,
        std::string("magic: not a GGUF file (expected \"GGUF\", found ") + hex +
            ")");
  }
  RETURN_IF_ERROR(p.ReadScalar(&version_, "version"));
  if (version_ == 1) {
    return fail(StatusCode::kUnimplemented,
                "version: GGUF version 1 is not supported (only 2 and 3); "
                "re-convert the model with a current converter");
  }
  if ((version_ & 0xffffu) == 0 && version_ != 0) {
    return fail(StatusCode::kUnimplemented,
                "version: reads as " + std::to_string(version_) +
                    ", so the file is big-endian; only little-endian GGUF is "
                    "supported");
  }
  if (version_ != 2 && version_ != 3) {
    return fail(StatusCode::kUnimplemented,
                "version: unsupported GGUF version " +
                    std::to_string(version_) + " (only 2 and 3)");
  }

  uint64_t n_tensors = 0;
  uint64_t n_kv = 0;
  RETURN_IF_ERROR(p.ReadScalar(&n_tensors, "tensor count"));
  RETURN_IF_ERROR(p.ReadScalar(&n_kv, "metadata count"));
  // Smallest entries: key (8 + 1) + type 4 + a 1-byte value; tensor info:
  // name (8 + 1) + n_dims 4 + type 4 + offset 8.
  constexpr uint64_t kMinKvBytes = 14;
  constexpr uint64_t kMinTensorInfoBytes = 25;
  if (n_kv > r.remaining() / kMinKvBytes) {
    return fail(StatusCode::kDataLoss,
                "metadata count: " + std::to_string(n_kv) +
                    " entries cannot fit in the " +
                    std::to_string(r.remaining()) + " bytes left");
  }
  if (n_tensors > r.remaining() / kMinTensorInfoBytes) {
    return fail(StatusCode::kDataLoss,
                "tensor count: " + std::to_string(n_tensors) +
                    " tensor infos cannot fit in the " +
                    std::to_string(r.remaining()) + " bytes left");
  }

  metadata_.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key;
    RETURN_IF_ERROR(
        p.ReadString(&key, "metadata entry " + std::to_string(i) + " key"));
    if (key.empty()) {
      return fail(StatusCode::kDataLoss,
                  "metadata entry " + std::to_string(i) + " key: empty");
    }
    const std::string field = "metadata key " + Quote(key);
    if (metadata_index_.count(key) != 0) {
      return fail(StatusCode::kDataLoss, field + ": duplicate key");
    }
    uint32_t type_raw = 0;
    RETURN_IF_ERROR(p.ReadScalar(&type_raw, field + " type"));
    if (!IsKnownType(type_raw)) {
      return fail(StatusCode::kDataLoss,
                  field + ": unknown value type " + std::to_string(type_raw));
    }
    GgufValue value;
    RETURN_IF_ERROR(
        p.ReadValue(static_cast<GgufType>(type_raw), 0, field, &value));
    metadata_index_.emplace(key, metadata_.size());
    metadata_.emplace_back(std::move(key), std::move(value));
  }

  if (const GgufValue* a = Find("general.alignment")) {
    // Spec: uint32. Any non-negative integer is accepted.
    const auto* u = std::get_if<uint64_t>(&a->data);
    const auto* s = std::get_if<int64_t>(&a->data);
    if (u == nullptr && (s == nullptr || *s < 0)) {
      return fail(StatusCode::kDataLoss,
                  "metadata key 'general.alignment': must be a non-negative "
                  "integer, found " +
                      std::string(GgufTypeName(a->type)));
    }
    const uint64_t align = u != nullptr ? *u : static_cast<uint64_t>(*s);
    if (!IsPowerOfTwo(align)) {
      return fail(StatusCode::kDataLoss,
                  "metadata key 'general.alignment': " + std::to_string(align) +
                      " is not a nonzero power of two");
    }
    alignment_ = align;
  } else {
    alignment_ = kDefaultAlignment;
  }

  if (n_tensors > r.remaining() / kMinTensorInfoBytes) {
    return fail(StatusCode::kDataLoss,
                "tensor count: " + std::to_string(n_tensors) +
                    " tensor infos cannot fit in the " +
                    std::to_string(r.remaining()) + " bytes left");
  }
  tensors_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    RETURN_IF_ERROR(
        p.ReadString(&t.name, "tensor " + std::to_string(i) + " name"));
    if (t.name.empty()) {
      return fail(StatusCode::kDataLoss,
                  "tensor " + std::to_string(i) + " name: empty");
    }
    const std::string field = "tensor " + Quote(t.name);
    if (tensor_index_.count(t.name) != 0) {
      return fail(StatusCode::kDataLoss, field + ": duplicate tensor name");
    }
    uint32_t n_dims = 0;
    RETURN_IF_ERROR(p.ReadScalar(&n_dims, field + " n_dims"));
    if (n_dims > kMaxGgufDims) {
      return fail(StatusCode::kDataLoss,
                  field + " n_dims: " + std::to_string(n_dims) +
                      " dimensions (at most " + std::to_string(kMaxGgufDims) +
                      ")");
    }
    // GGUF lists ne[] innermost first; Shape is outermost first.
    uint64_t ne[kMaxGgufDims] = {};
    uint64_t elems = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const std::string dim_field = field + " dim " + std::to_string(d);
      RETURN_IF_ERROR(p.ReadScalar(&ne[d], dim_field));
      if (ne[d] == 0) return fail(StatusCode::kDataLoss, dim_field + ": is 0");
      if (ne[d] > static_cast<uint64_t>(INT64_MAX) ||
          MulOverflows(elems, ne[d], &elems) ||
          elems > static_cast<uint64_t>(INT64_MAX)) {
        return fail(StatusCode::kDataLoss,
                    dim_field + ": element count overflows 63 bits");
      }
    }
    RETURN_IF_ERROR(p.ReadScalar(&t.ggml_type, field + " type"));
    auto dtype = DTypeFromGgmlType(t.ggml_type);
    if (!dtype.ok()) {
      return fail(StatusCode::kUnimplemented,
                  field + " type: " + dtype.status().message());
    }
    t.dtype = *dtype;
    RETURN_IF_ERROR(p.ReadScalar(&t.offset, field + " offset"));

    t.shape.rank = static_cast<int>(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      t.shape.dims[n_dims - 1 - d] = static_cast<int64_t>(ne[d]);
    }
    const uint64_t row_elems = n_dims == 0 ? 1 : ne[0];
    auto row_bytes = RowBytes(t.dtype, row_elems);
    if (!row_bytes.ok()) {
      return fail(StatusCode::kDataLoss,
                  field + " dim 0: " + row_bytes.status().message());
    }
    if (MulOverflows(*row_bytes, elems / row_elems, &t.nbytes)) {
      return fail(StatusCode::kDataLoss, field + ": byte size overflows");
    }
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t end_of_infos = r.offset();
  uint64_t padded = 0;
  if (AddOverflows(end_of_infos, alignment_ - 1, &padded)) {
    return fail(StatusCode::kDataLoss, "data section: offset overflows");
  }
  data_offset_ = padded / alignment_ * alignment_;

  for (const GgufTensorInfo& t : tensors_) {
    const std::string field = "tensor " + Quote(t.name);
    if (t.offset % alignment_ != 0) {
      return fail(StatusCode::kDataLoss,
                  field + " offset: " + std::to_string(t.offset) +
                      " is not a multiple of the alignment " +
                      std::to_string(alignment_));
    }
    uint64_t begin = 0;
    uint64_t end = 0;
    if (AddOverflows(data_offset_, t.offset, &begin) ||
        AddOverflows(begin, t.nbytes, &end) || end > bytes_.size()) {
      return fail(StatusCode::kDataLoss,
                  field + ": data [" + std::to_string(t.offset) + ", +" +
                      std::to_string(t.nbytes) + ") in the data section at " +
                      std::to_string(data_offset_) +
                      " runs past end of file (" +
                      std::to_string(bytes_.size()) + " bytes)");
    }
  }
  return Status::Ok();
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = metadata_index_.find(std::string(key));
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

TensorView GgufFile::View(const GgufTensorInfo& info) const {
  TensorView v;
  v.data = bytes_.data() + data_offset_ + info.offset;
  v.dtype = info.dtype;
  v.device = Device::kCpu;
  v.shape = info.shape;
  v.nbytes = info.nbytes;
  return v;
}

}  // namespace silica
