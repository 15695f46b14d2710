// GgufValue constructors, type names, the ggml type map and the typed
// metadata getters of GgufFile (the parser is in gguf.cc).
#include <limits>
#include <utility>

#include "io/gguf.h"

namespace silica {
namespace {

// Integer metadata of any width converts to `Out` when the value fits.
template <typename Out>
Result<Out> IntegerAs(const GgufValue& v, const std::string& what) {
  using Lim = std::numeric_limits<Out>;
  if (const auto* u = std::get_if<uint64_t>(&v.data)) {
    if (*u <= static_cast<uint64_t>(Lim::max())) return static_cast<Out>(*u);
    return OutOfRange(what + ": value " + std::to_string(*u) +
                      " does not fit the expected type");
  }
  if (const auto* s = std::get_if<int64_t>(&v.data)) {
    const bool fits =
        *s < 0 ? *s >= static_cast<int64_t>(Lim::min())
               : static_cast<uint64_t>(*s) <= static_cast<uint64_t>(Lim::max());
    if (fits) return static_cast<Out>(*s);
    return OutOfRange(what + ": value " + std::to_string(*s) +
                      " does not fit the expected type");
  }
  return InvalidArgument(what + ": expected an integer, found " +
                         std::string(GgufTypeName(v.type)));
}

std::string KeyField(const std::string& file, std::string_view key) {
  // Keys here come from the caller, not from the file.
  return file + ": metadata key '" + std::string(key) + "'";
}

Status Mismatch(const std::string& field, std::string_view want,
                const GgufValue& v) {
  std::string found(GgufTypeName(v.type));
  if (const GgufArray* a = v.array()) {
    found += " of " + std::string(GgufTypeName(a->elem_type));
  }
  return InvalidArgument(field + ": expected " + std::string(want) +
                         ", found " + found);
}

bool IsFloatType(GgufType t) {
  return t == GgufType::kFloat32 || t == GgufType::kFloat64;
}

}  // namespace

std::string_view GgufTypeName(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
      return "uint8";
    case GgufType::kInt8:
      return "int8";
    case GgufType::kUint16:
      return "uint16";
    case GgufType::kInt16:
      return "int16";
    case GgufType::kUint32:
      return "uint32";
    case GgufType::kInt32:
      return "int32";
    case GgufType::kFloat32:
      return "float32";
    case GgufType::kBool:
      return "bool";
    case GgufType::kString:
      return "string";
    case GgufType::kArray:
      return "array";
    case GgufType::kUint64:
      return "uint64";
    case GgufType::kInt64:
      return "int64";
    case GgufType::kFloat64:
      return "float64";
  }
  return "unknown";
}

GgufValue GgufValue::U32(uint32_t v) {
  return {GgufType::kUint32, uint64_t{v}};
}
GgufValue GgufValue::U64(uint64_t v) { return {GgufType::kUint64, v}; }
GgufValue GgufValue::I32(int32_t v) { return {GgufType::kInt32, int64_t{v}}; }
GgufValue GgufValue::F32(float v) { return {GgufType::kFloat32, double{v}}; }
GgufValue GgufValue::Bool(bool v) { return {GgufType::kBool, v}; }
GgufValue GgufValue::String(std::string v) {
  return {GgufType::kString, std::move(v)};
}
GgufValue GgufValue::Array(GgufType elem_type, std::vector<GgufValue> items) {
  auto arr = std::make_shared<GgufArray>();
  arr->elem_type = elem_type;
  arr->items = std::move(items);
  return {GgufType::kArray, std::shared_ptr<const GgufArray>(std::move(arr))};
}
GgufValue GgufValue::StringArray(const std::vector<std::string>& items) {
  std::vector<GgufValue> v;
  v.reserve(items.size());
  for (const auto& s : items) v.push_back(String(s));
  return Array(GgufType::kString, std::move(v));
}
GgufValue GgufValue::F32Array(const std::vector<float>& items) {
  std::vector<GgufValue> v;
  v.reserve(items.size());
  for (float f : items) v.push_back(F32(f));
  return Array(GgufType::kFloat32, std::move(v));
}
GgufValue GgufValue::I32Array(const std::vector<int32_t>& items) {
  std::vector<GgufValue> v;
  v.reserve(items.size());
  for (int32_t i : items) v.push_back(I32(i));
  return Array(GgufType::kInt32, std::move(v));
}

const GgufArray* GgufValue::array() const {
  const auto* p = std::get_if<std::shared_ptr<const GgufArray>>(&data);
  return p ? p->get() : nullptr;
}

Result<DType> DTypeFromGgmlType(uint32_t ggml_type) {
  switch (ggml_type) {
    case 0:
      return DType::kF32;
    case 1:
      return DType::kF16;
    case 2:
      return DType::kQ4_0;
    case 3:
      return DType::kQ4_1;
    case 6:
      return DType::kQ5_0;
    case 7:
      return DType::kQ5_1;
    case 8:
      return DType::kQ8_0;
    case 12:
      return DType::kQ4_K;
    case 13:
      return DType::kQ5_K;
    case 14:
      return DType::kQ6_K;
    case 15:
      return DType::kQ8_K;
    case 24:
      return DType::kI8;
    case 25:
      return DType::kI16;
    case 26:
      return DType::kI32;
    case 27:
      return DType::kI64;
    case 28:
      return DType::kF64;
    case 30:
      return DType::kBF16;
    default:
      return Unimplemented("ggml type " + std::to_string(ggml_type) +
                           " is not supported");
  }
}

uint32_t GgmlTypeFromDType(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return 0;
    case DType::kF16:
      return 1;
    case DType::kQ4_0:
      return 2;
    case DType::kQ4_1:
      return 3;
    case DType::kQ5_0:
      return 6;
    case DType::kQ5_1:
      return 7;
    case DType::kQ8_0:
      return 8;
    case DType::kQ4_K:
      return 12;
    case DType::kQ5_K:
      return 13;
    case DType::kQ6_K:
      return 14;
    case DType::kQ8_K:
      return 15;
    case DType::kI8:
      return 24;
    case DType::kI16:
      return 25;
    case DType::kI32:
      return 26;
    case DType::kI64:
      return 27;
    case DType::kF64:
      return 28;
    case DType::kBF16:
      return 30;
    default:
      // U8 / U32 have no ggml type; callers check HasGgmlType first.
      return UINT32_MAX;
  }
}

bool HasGgmlType(DType dtype) { return GgmlTypeFromDType(dtype) != UINT32_MAX; }

#define SILICA_GGUF_FIND(var, key)                         \
  const GgufValue* var = Find(key);                        \
  if (var == nullptr) {                                    \
    return NotFound(KeyField(name_, key) + ": not found"); \
  }

Result<std::string> GgufFile::GetString(std::string_view key) const {
  SILICA_GGUF_FIND(v, key);
  if (v->type != GgufType::kString) {
    return Mismatch(KeyField(name_, key), "string", *v);
  }
  return std::get<std::string>(v->data);
}

Result<uint64_t> GgufFile::GetUint(std::string_view key) const {
  SILICA_GGUF_FIND(v, key);
  return IntegerAs<uint64_t>(*v, KeyField(name_, key));
}

Result<int64_t> GgufFile::GetInt(std::string_view key) const {
  SILICA_GGUF_FIND(v, key);
  return IntegerAs<int64_t>(*v, KeyField(name_, key));
}

Result<double> GgufFile::GetFloat(std::string_view key) const {
  SILICA_GGUF_FIND(v, key);
  if (!IsFloatType(v->type)) return Mismatch(KeyField(name_, key), "float", *v);
  return std::get<double>(v->data);
}

Result<bool> GgufFile::GetBool(std::string_view key) const {
  SILICA_GGUF_FIND(v, key);
  if (v->type != GgufType::kBool) {
    return Mismatch(KeyField(name_, key), "bool", *v);
  }
  return std::get<bool>(v->data);
}

Result<std::vector<std::string>> GgufFile::GetStringArray(
    std::string_view key) const {
  SILICA_GGUF_FIND(v, key);
  const GgufArray* a = v->array();
  if (a == nullptr || a->elem_type != GgufType::kString) {
    return Mismatch(KeyField(name_, key), "array of string", *v);
  }
  std::vector<std::string> out;
  out.reserve(a->items.size());
  for (const GgufValue& item : a->items) {
    out.push_back(std::get<std::string>(item.data));
  }
  return out;
}

Result<std::vector<float>> GgufFile::GetF32Array(std::string_view key) const {
  SILICA_GGUF_FIND(v, key);
  const GgufArray* a = v->array();
  if (a == nullptr || !IsFloatType(a->elem_type)) {
    return Mismatch(KeyField(name_, key), "array of float32", *v);
  }
  std::vector<float> out;
  out.reserve(a->items.size());
  for (const GgufValue& item : a->items) {
    out.push_back(static_cast<float>(std::get<double>(item.data)));
  }
  return out;
}

Result<std::vector<int32_t>> GgufFile::GetI32Array(std::string_view key) const {
  SILICA_GGUF_FIND(v, key);
  const GgufArray* a = v->array();
  if (a == nullptr || a->elem_type == GgufType::kArray ||
      a->elem_type == GgufType::kString || a->elem_type == GgufType::kBool ||
      IsFloatType(a->elem_type)) {
    return Mismatch(KeyField(name_, key), "array of integers", *v);
  }
  std::vector<int32_t> out;
  out.reserve(a->items.size());
  for (size_t i = 0; i < a->items.size(); ++i) {
    ASSIGN_OR_RETURN(int32_t x, IntegerAs<int32_t>(
                                    a->items[i], KeyField(name_, key) + "[" +
                                                     std::to_string(i) + "]"));
    out.push_back(x);
  }
  return out;
}

#undef SILICA_GGUF_FIND

}  // namespace silica
