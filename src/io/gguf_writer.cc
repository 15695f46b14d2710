#include "io/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

namespace silica {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian

template <typename T>
void Put(std::vector<uint8_t>* out, T v) {
  static_assert(std::is_trivially_copyable_v<T>);
  // resize + memcpy rather than insert: GCC 12 warns falsely
  // (-Wstringop-overflow) on inlined range inserts into byte vectors.
  const size_t at = out->size();
  out->resize(at + sizeof(T));
  std::memcpy(out->data() + at, &v, sizeof(T));  // host is little-endian
}

void PutString(std::vector<uint8_t>* out, std::string_view s) {
  Put<uint64_t>(out, s.size());
  const size_t at = out->size();
  out->resize(at + s.size());
  if (!s.empty()) std::memcpy(out->data() + at, s.data(), s.size());
}

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Checks that `v` holds what its type says, and that integers fit their
// declared width, so the bytes written read back as the same value.
Status CheckValue(const GgufValue& v, const std::string& field) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(field + ": " + why);
  };
  auto urange = [&](uint64_t max) -> Status {
    const auto* u = std::get_if<uint64_t>(&v.data);
    if (u == nullptr) return bad("unsigned type without an unsigned value");
    if (*u > max) return bad(std::to_string(*u) + " does not fit its type");
    return Status::Ok();
  };
  auto srange = [&](int64_t min, int64_t max) -> Status {
    const auto* s = std::get_if<int64_t>(&v.data);
    if (s == nullptr) return bad("signed type without a signed value");
    if (*s < min || *s > max) {
      return bad(std::to_string(*s) + " does not fit its type");
    }
    return Status::Ok();
  };
  switch (v.type) {
    case GgufType::kUint8:
      return urange(UINT8_MAX);
    case GgufType::kUint16:
      return urange(UINT16_MAX);
    case GgufType::kUint32:
      return urange(UINT32_MAX);
    case GgufType::kUint64:
      return urange(UINT64_MAX);
    case GgufType::kInt8:
      return srange(INT8_MIN, INT8_MAX);
    case GgufType::kInt16:
      return srange(INT16_MIN, INT16_MAX);
    case GgufType::kInt32:
      return srange(INT32_MIN, INT32_MAX);
    case GgufType::kInt64:
      return srange(INT64_MIN, INT64_MAX);
    case GgufType::kFloat32:
    case GgufType::kFloat64:
      if (!std::holds_alternative<double>(v.data)) {
        return bad("float type without a float value");
      }
      return Status::Ok();
    case GgufType::kBool:
      if (!std::holds_alternative<bool>(v.data)) {
        return bad("bool type without a bool value");
      }
      return Status::Ok();
    case GgufType::kString:
      if (!std::holds_alternative<std::string>(v.data)) {
        return bad("string type without a string value");
      }
      return Status::Ok();
    case GgufType::kArray: {
      const GgufArray* a = v.array();
      if (a == nullptr) return bad("array type without an array value");
      for (size_t i = 0; i < a->items.size(); ++i) {
        const std::string item_field = field + "[" + std::to_string(i) + "]";
        if (a->items[i].type != a->elem_type) {
          return InvalidArgument(item_field + ": item of type " +
                                 std::string(GgufTypeName(a->items[i].type)) +
                                 " in an array of " +
                                 std::string(GgufTypeName(a->elem_type)));
        }
        RETURN_IF_ERROR(CheckValue(a->items[i], item_field));
      }
      return Status::Ok();
    }
  }
  return bad("unknown value type " +
             std::to_string(static_cast<uint32_t>(v.type)));
}

// Value bytes without the leading type tag (arrays carry their element type).
void PutValue(std::vector<uint8_t>* out, const GgufValue& v) {
  switch (v.type) {
    case GgufType::kUint8:
      Put(out, static_cast<uint8_t>(std::get<uint64_t>(v.data)));
      return;
    case GgufType::kUint16:
      Put(out, static_cast<uint16_t>(std::get<uint64_t>(v.data)));
      return;
    case GgufType::kUint32:
      Put(out, static_cast<uint32_t>(std::get<uint64_t>(v.data)));
      return;
    case GgufType::kUint64:
      Put(out, std::get<uint64_t>(v.data));
      return;
    case GgufType::kInt8:
      Put(out, static_cast<int8_t>(std::get<int64_t>(v.data)));
      return;
    case GgufType::kInt16:
      Put(out, static_cast<int16_t>(std::get<int64_t>(v.data)));
      return;
    case GgufType::kInt32:
      Put(out, static_cast<int32_t>(std::get<int64_t>(v.data)));
      return;
    case GgufType::kInt64:
      Put(out, std::get<int64_t>(v.data));
      return;
    case GgufType::kFloat32:
      Put(out, static_cast<float>(std::get<double>(v.data)));
      return;
    case GgufType::kFloat64:
      Put(out, std::get<double>(v.data));
      return;
    case GgufType::kBool:
      Put<uint8_t>(out, std::get<bool>(v.data) ? 1 : 0);
      return;
    case GgufType::kString:
      PutString(out, std::get<std::string>(v.data));
      return;
    case GgufType::kArray: {
      const GgufArray* a = v.array();
      Put(out, static_cast<uint32_t>(a->elem_type));
      Put<uint64_t>(out, a->items.size());
      for (const GgufValue& item : a->items) PutValue(out, item);
      return;
    }
  }
}

}  // namespace

Status GgufWriter::SetVersion(uint32_t version) {
  if (version != 2 && version != 3) {
    return InvalidArgument("GGUF version " + std::to_string(version) +
                           " cannot be written (only 2 and 3)");
  }
  version_ = version;
  return Status::Ok();
}

Status GgufWriter::Set(std::string key, GgufValue value) {
  if (key.empty()) return InvalidArgument("metadata key is empty");
  const std::string field = "metadata key '" + key + "'";
  if (keys_.count(key) != 0) return InvalidArgument(field + ": duplicate key");
  RETURN_IF_ERROR(CheckValue(value, field));
  if (key == "general.alignment") {
    const auto* a = std::get_if<uint64_t>(&value.data);
    if (a == nullptr || *a == 0 || (*a & (*a - 1)) != 0) {
      return InvalidArgument(field + ": must be an unsigned power of two");
    }
    alignment_ = *a;
  }
  keys_.insert(key);
  metadata_.emplace_back(std::move(key), std::move(value));
  return Status::Ok();
}

Status GgufWriter::AddTensor(std::string name, DType dtype, const Shape& shape,
                             std::vector<uint8_t> bytes) {
  return AddTensorImpl(std::move(name), dtype, shape, std::move(bytes), {});
}

Status GgufWriter::AddTensorFn(std::string name, DType dtype,
                               const Shape& shape, FillFn fill) {
  if (!fill) return InvalidArgument("tensor '" + name + "': no fill function");
  return AddTensorImpl(std::move(name), dtype, shape, {}, std::move(fill));
}

Status GgufWriter::AddTensorImpl(std::string name, DType dtype,
                                 const Shape& shape, std::vector<uint8_t> bytes,
                                 FillFn fill) {
  const std::string field = "tensor '" + name + "'";
  if (name.empty()) return InvalidArgument("tensor name is empty");
  if (tensor_names_.count(name) != 0) {
    return InvalidArgument(field + ": duplicate tensor name");
  }
  if (!HasGgmlType(dtype)) {
    return InvalidArgument(field + ": dtype " + std::string(DTypeName(dtype)) +
                           " has no GGUF type");
  }
  if (shape.rank < 0 || shape.rank > kMaxGgufDims) {
    return InvalidArgument(field + ": rank " + std::to_string(shape.rank));
  }
  uint64_t elems = 1;
  for (int d = 0; d < shape.rank; ++d) {
    if (shape.dims[d] <= 0 ||
        MulOverflows(elems, static_cast<uint64_t>(shape.dims[d]), &elems)) {
      return InvalidArgument(field + ": bad shape " + shape.ToString());
    }
  }
  const uint64_t row = shape.rank == 0 ? 1 : shape.dims[shape.rank - 1];
  ASSIGN_OR_RETURN(uint64_t row_bytes, RowBytes(dtype, row));
  uint64_t nbytes = 0;
  if (MulOverflows(row_bytes, elems / row, &nbytes)) {
    return InvalidArgument(field + ": size overflows");
  }
  if (!fill && bytes.size() != nbytes) {
    return InvalidArgument(field + ": " + std::to_string(bytes.size()) +
                           " bytes given, " + std::string(DTypeName(dtype)) +
                           " " + shape.ToString() + " needs " +
                           std::to_string(nbytes));
  }
  tensor_names_.insert(name);
  tensors_.push_back(PendingTensor{std::move(name), dtype, shape, nbytes,
                                   std::move(bytes), std::move(fill)});
  return Status::Ok();
}

std::vector<uint8_t> GgufWriter::HeaderBytes() const {
  std::vector<uint8_t> out;
  Put(&out, kGgufMagic);
  Put(&out, version_);
  Put<uint64_t>(&out, tensors_.size());
  Put<uint64_t>(&out, metadata_.size());
  for (const auto& [key, value] : metadata_) {
    PutString(&out, key);
    Put(&out, static_cast<uint32_t>(value.type));
    PutValue(&out, value);
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    PutString(&out, t.name);
    Put(&out, static_cast<uint32_t>(t.shape.rank));
    for (int d = t.shape.rank - 1; d >= 0; --d) {  // GGUF: innermost first
      Put(&out, static_cast<uint64_t>(t.shape.dims[d]));
    }
    Put(&out, GgmlTypeFromDType(t.dtype));
    Put(&out, offset);
    offset = AlignUp(offset + t.nbytes, alignment_);
  }
  out.resize(AlignUp(out.size(), alignment_), 0);
  return out;
}

Status GgufWriter::Emit(
    const std::function<Status(std::span<const uint8_t>)>& sink) const {
  RETURN_IF_ERROR(sink(HeaderBytes()));
  const std::vector<uint8_t> zeros(alignment_, 0);
  std::vector<uint8_t> scratch;
  for (const PendingTensor& t : tensors_) {
    if (t.fill) {
      scratch.assign(t.nbytes, 0);
      RETURN_IF_ERROR(t.fill(scratch).WithContext("tensor '" + t.name + "'"));
      RETURN_IF_ERROR(sink(scratch));
    } else {
      RETURN_IF_ERROR(sink(t.bytes));
    }
    // Every tensor, the last included, is padded (as llama.cpp's writer
    // does), so readers that size the data section by padded sizes agree.
    const uint64_t pad = AlignUp(t.nbytes, alignment_) - t.nbytes;
    RETURN_IF_ERROR(sink(std::span<const uint8_t>(zeros.data(), pad)));
  }
  return Status::Ok();
}

Result<std::vector<uint8_t>> GgufWriter::Serialize() const {
  std::vector<uint8_t> out;
  RETURN_IF_ERROR(Emit([&](std::span<const uint8_t> piece) {
    out.insert(out.end(), piece.begin(), piece.end());
    return Status::Ok();
  }));
  return out;
}

Status GgufWriter::WriteFile(const std::string& path) const {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"),
                                          &std::fclose);
  if (!f) {
    return IoError(path + ": cannot create: " + std::strerror(errno));
  }
  RETURN_IF_ERROR(Emit([&](std::span<const uint8_t> piece) -> Status {
    if (!piece.empty() &&
        std::fwrite(piece.data(), 1, piece.size(), f.get()) != piece.size()) {
      return IoError(path + ": write failed: " + std::strerror(errno));
    }
    return Status::Ok();
  }));
  FILE* raw = f.release();
  if (std::fclose(raw) != 0) {
    return IoError(path + ": close failed: " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace silica
