#include "io/gguf_config.h"

#include <algorithm>
#include <array>

namespace silica {
namespace {

Status OptionalUint(const GgufFile& f, const std::string& key, uint64_t* out) {
  auto v = f.GetUint(key);
  if (v.ok()) {
    *out = *v;
    return Status::Ok();
  }
  if (v.status().code() == StatusCode::kNotFound) return Status::Ok();
  // Some architectures give head counts per layer: report the largest.
  const GgufValue* value = f.Find(key);
  if (value != nullptr && value->array() != nullptr) {
    auto per_layer = f.GetI32Array(key);
    if (!per_layer.ok()) return per_layer.status();
    uint64_t max = 0;
    for (int32_t x : *per_layer) {
      if (x < 0) {
        return InvalidArgument(f.name() + ": metadata key '" + key +
                               "': negative entry " + std::to_string(x));
      }
      max = std::max<uint64_t>(max, static_cast<uint64_t>(x));
    }
    *out = max;
    return Status::Ok();
  }
  return v.status();
}

Status OptionalString(const GgufFile& f, const std::string& key,
                      std::string* out) {
  auto v = f.GetString(key);
  if (v.ok()) {
    *out = std::move(v).value();
    return Status::Ok();
  }
  return v.status().code() == StatusCode::kNotFound ? Status::Ok() : v.status();
}

}  // namespace

Result<GgufModelSummary> SummarizeGguf(const GgufFile& f) {
  GgufModelSummary s;
  ASSIGN_OR_RETURN(s.architecture, f.GetString("general.architecture"));
  RETURN_IF_ERROR(OptionalString(f, "general.name", &s.name));
  const std::string& a = s.architecture;
  RETURN_IF_ERROR(OptionalUint(f, a + ".context_length", &s.context_length));
  RETURN_IF_ERROR(
      OptionalUint(f, a + ".embedding_length", &s.embedding_length));
  RETURN_IF_ERROR(OptionalUint(f, a + ".block_count", &s.block_count));
  RETURN_IF_ERROR(OptionalUint(f, a + ".attention.head_count", &s.head_count));
  RETURN_IF_ERROR(
      OptionalUint(f, a + ".attention.head_count_kv", &s.head_count_kv));

  if (const GgufValue* tokens = f.Find("tokenizer.ggml.tokens")) {
    const GgufArray* arr = tokens->array();
    if (arr == nullptr || arr->elem_type != GgufType::kString) {
      return InvalidArgument(
          f.name() +
          ": metadata key 'tokenizer.ggml.tokens': expected array "
          "of string, found " +
          std::string(GgufTypeName(tokens->type)));
    }
    s.vocab_size = arr->items.size();
  }
  RETURN_IF_ERROR(
      OptionalString(f, "tokenizer.ggml.model", &s.tokenizer_model));
  RETURN_IF_ERROR(OptionalString(f, "tokenizer.ggml.pre", &s.tokenizer_pre));
  s.has_chat_template = f.Find("tokenizer.chat_template") != nullptr;

  std::array<uint64_t, static_cast<size_t>(DType::kCount)> per_dtype{};
  for (const GgufTensorInfo& t : f.tensors()) {
    // The reader bounds each tensor to 2^63 elements; the sum is checked.
    const auto n = static_cast<uint64_t>(t.shape.NumElements());
    if (AddOverflows(s.parameter_count, n, &s.parameter_count)) {
      return OutOfRange(f.name() + ": parameter count overflows 64 bits");
    }
    ++per_dtype[static_cast<size_t>(t.dtype)];
  }
  for (size_t i = 0; i < per_dtype.size(); ++i) {
    if (per_dtype[i] != 0) {
      s.tensors_by_dtype.emplace_back(static_cast<DType>(i), per_dtype[i]);
    }
  }
  s.tensor_count = f.tensors().size();
  s.file_size = f.file_size();
  s.gguf_version = f.version();
  return s;
}

}  // namespace silica
