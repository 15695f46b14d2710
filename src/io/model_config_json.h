// JSON helpers for untrusted model files (safetensors headers, index files,
// config.json, generation_config.json).
//
// nlohmann::json reports errors by throwing; these helpers catch inside and
// return Status, so no exception leaves the io library. They also close two
// gaps of a plain parse that matter for hostile input: unbounded nesting
// (memory blow-up on "[[[[...") and duplicate object keys (nlohmann silently
// keeps the last one, which would let a file say two things at once).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace silica {

// Parses `text` as one JSON value. Fails with DataLoss naming `name` on a
// syntax error (with the byte position), nesting deeper than `max_depth`,
// or a key repeated within one object.
Result<nlohmann::json> ParseJsonStrict(std::string_view text,
                                       std::string_view name, int max_depth);

// "integer", "string", "object", ... for error messages.
std::string_view JsonTypeName(const nlohmann::json& v);

// Typed, checked access to the fields of a JSON object. A field may be
// looked up in several objects in order (e.g. a model's `text_config`, then
// the top level); null counts as absent. Every error names the field's full
// path, e.g. "config.json: text_config.num_attention_heads: expected an
// integer, got string".
class JsonFields {
 public:
  // `prefix` is prepended to a key to name it: "config.json: " or
  // "config.json: vision_config.".
  struct Layer {
    const nlohmann::json* object;  // must be an object
    std::string prefix;
  };
  explicit JsonFields(std::vector<Layer> layers) : layers_(std::move(layers)) {}
  JsonFields(const nlohmann::json* object, std::string prefix)
      : layers_{{object, std::move(prefix)}} {}

  // The first non-null value of `key`, or nullptr.
  const nlohmann::json* Find(std::string_view key) const;
  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  // Full name of the field for messages: where it was found, else where it
  // was expected first.
  std::string Name(std::string_view key) const;

  // Required fields: InvalidArgument "<name>: missing required field".
  Status Int(std::string_view key, int64_t* out) const;
  Status String(std::string_view key, std::string* out) const;

  // Optional fields: `out` keeps its value when the field is absent or null.
  Status OptInt(std::string_view key, int64_t* out) const;
  Status OptInt(std::string_view key, std::optional<int64_t>* out) const;
  Status OptDouble(std::string_view key, double* out) const;
  Status OptDouble(std::string_view key, std::optional<double>* out) const;
  Status OptBool(std::string_view key, bool* out) const;
  Status OptString(std::string_view key, std::string* out) const;
  // A boolean that is true if any layer sets it true (`out` keeps its value
  // when no layer has it).
  Status OptBoolAny(std::string_view key, bool* out) const;
  // An integer array; a present empty array clears `out`.
  Status OptIntArray(std::string_view key, std::vector<int64_t>* out) const;
  // One integer or an array of them (e.g. eos_token_id). Null clears `out`.
  Status OptIntOrIntArray(std::string_view key,
                          std::vector<int64_t>* out) const;
  // An object field; *out is nullptr when absent or null.
  Status OptObject(std::string_view key, const nlohmann::json** out) const;

  // Range checks naming the field. Bounds are inclusive.
  Status CheckRange(std::string_view key, int64_t value, int64_t lo,
                    int64_t hi) const;
  // Finite and > 0.
  Status CheckPositive(std::string_view key, double value) const;

 private:
  std::vector<Layer> layers_;
};

// Reads a JSON side file (config.json, an index) whole, refusing one larger
// than `max_bytes` before reading it: these files are small, and a huge one
// is a mistake or an attack.
Result<std::string> ReadJsonFile(const std::string& path, uint64_t max_bytes);

// Converts one JSON value to an integer, naming `name` on failure.
Status JsonToInt(const nlohmann::json& v, const std::string& name,
                 int64_t* out);

}  // namespace silica
