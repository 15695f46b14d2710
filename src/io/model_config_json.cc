#include "io/model_config_json.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <system_error>
#include <unordered_set>

#include "core/mapped_file.h"

namespace silica {
namespace {

using nlohmann::json;

// Bracket depth of `text`, ignoring brackets inside strings. Runs before the
// real parse so that "[[[[..." is refused without building the tree.
Status CheckNesting(std::string_view text, std::string_view name,
                    int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        return DataLoss(std::string(name) + ": JSON nests deeper than " +
                        std::to_string(max_depth) + " levels at byte " +
                        std::to_string(i));
      }
    } else if (c == '}' || c == ']') {
      --depth;  // a negative depth is a syntax error the parser reports
    }
  }
  return Status::Ok();
}

}  // namespace

Result<json> ParseJsonStrict(std::string_view text, std::string_view name,
                             int max_depth) {
  RETURN_IF_ERROR(CheckNesting(text, name, max_depth));
  // One key set per open object, to catch a key given twice.
  std::vector<std::unordered_set<std::string>> open_objects;
  std::string duplicate;
  json::parser_callback_t cb = [&](int /*depth*/, json::parse_event_t event,
                                   json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && duplicate.empty() &&
            !open_objects.back().insert(parsed.get<std::string>()).second) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  json value;
  try {
    value = json::parse(text.begin(), text.end(), cb,
                        /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::exception& e) {
    // e.what() carries the byte position: "... at line 1, column 7: ...".
    return DataLoss(std::string(name) + ": invalid JSON: " + e.what());
  } catch (const std::exception& e) {  // allocation failure and the like
    return ResourceExhausted(std::string(name) +
                             ": cannot parse JSON: " + e.what());
  }
  if (!duplicate.empty()) {
    return DataLoss(std::string(name) + ": key '" + duplicate +
                    "' appears twice in one object");
  }
  return value;
}

std::string_view JsonTypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    case json::value_t::binary: return "binary";
    case json::value_t::discarded: return "discarded";
  }
  return "unknown";
}

Result<std::string> ReadJsonFile(const std::string& path, uint64_t max_bytes) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) {
      return NotFound(path + ": no such file");
    }
    return IoError(path + ": " + ec.message());
  }
  if (size > max_bytes) {
    return InvalidArgument(path + ": " + std::to_string(size) +
                           " bytes is more than the " +
                           std::to_string(max_bytes) +
                           "-byte limit for this file");
  }
  return ReadFileToString(path);
}

Status JsonToInt(const json& v, const std::string& name, int64_t* out) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidArgument(name + ": integer " + std::to_string(u) +
                             " is out of range");
    }
    *out = static_cast<int64_t>(u);
    return Status::Ok();
  }
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return Status::Ok();
  }
  return InvalidArgument(name + ": expected an integer, got " +
                         std::string(JsonTypeName(v)));
}

const json* JsonFields::Find(std::string_view key) const {
  for (const Layer& layer : layers_) {
    const auto it = layer.object->find(key);
    if (it != layer.object->end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

std::string JsonFields::Name(std::string_view key) const {
  for (const Layer& layer : layers_) {
    const auto it = layer.object->find(key);
    if (it != layer.object->end() && !it->is_null()) {
      return layer.prefix + std::string(key);
    }
  }
  return (layers_.empty() ? std::string() : layers_.front().prefix) +
         std::string(key);
}

Status JsonFields::Int(std::string_view key, int64_t* out) const {
  const json* v = Find(key);
  if (v == nullptr) return InvalidArgument(Name(key) + ": missing required field");
  return JsonToInt(*v, Name(key), out);
}

Status JsonFields::String(std::string_view key, std::string* out) const {
  const json* v = Find(key);
  if (v == nullptr) return InvalidArgument(Name(key) + ": missing required field");
  return OptString(key, out);
}

Status JsonFields::OptInt(std::string_view key, int64_t* out) const {
  const json* v = Find(key);
  if (v == nullptr) return Status::Ok();
  return JsonToInt(*v, Name(key), out);
}

Status JsonFields::OptInt(std::string_view key,
                          std::optional<int64_t>* out) const {
  const json* v = Find(key);
  if (v == nullptr) return Status::Ok();
  int64_t x = 0;
  RETURN_IF_ERROR(JsonToInt(*v, Name(key), &x));
  *out = x;
  return Status::Ok();
}

Status JsonFields::OptDouble(std::string_view key, double* out) const {
  const json* v = Find(key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_number()) {
    return InvalidArgument(Name(key) + ": expected a number, got " +
                           std::string(JsonTypeName(*v)));
  }
  *out = v->get<double>();
  return Status::Ok();
}

Status JsonFields::OptDouble(std::string_view key,
                             std::optional<double>* out) const {
  const json* v = Find(key);
  if (v == nullptr) return Status::Ok();
  double x = 0;
  RETURN_IF_ERROR(OptDouble(key, &x));
  *out = x;
  return Status::Ok();
}

Status JsonFields::OptBool(std::string_view key, bool* out) const {
  const json* v = Find(key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_boolean()) {
    return InvalidArgument(Name(key) + ": expected true or false, got " +
                           std::string(JsonTypeName(*v)));
  }
  *out = v->get<bool>();
  return Status::Ok();
}

Status JsonFields::OptBoolAny(std::string_view key, bool* out) const {
  bool seen = false;
  bool any = false;
  for (const Layer& layer : layers_) {
    const auto it = layer.object->find(key);
    if (it == layer.object->end() || it->is_null()) continue;
    if (!it->is_boolean()) {
      return InvalidArgument(layer.prefix + std::string(key) +
                             ": expected true or false, got " +
                             std::string(JsonTypeName(*it)));
    }
    seen = true;
    any |= it->get<bool>();
  }
  if (seen) *out = any;
  return Status::Ok();
}

Status JsonFields::OptString(std::string_view key, std::string* out) const {
  const json* v = Find(key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string()) {
    return InvalidArgument(Name(key) + ": expected a string, got " +
                           std::string(JsonTypeName(*v)));
  }
  *out = v->get<std::string>();
  return Status::Ok();
}

Status JsonFields::OptIntArray(std::string_view key,
                               std::vector<int64_t>* out) const {
  const json* v = Find(key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_array()) {
    return InvalidArgument(Name(key) + ": expected an array of integers, got " +
                           std::string(JsonTypeName(*v)));
  }
  std::vector<int64_t> values;
  values.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    int64_t x = 0;
    RETURN_IF_ERROR(
        JsonToInt((*v)[i], Name(key) + "[" + std::to_string(i) + "]", &x));
    values.push_back(x);
  }
  *out = std::move(values);
  return Status::Ok();
}

Status JsonFields::OptIntOrIntArray(std::string_view key,
                                    std::vector<int64_t>* out) const {
  // Null is meaningful here ("no eos token"), so look at the raw field.
  for (const Layer& layer : layers_) {
    const auto it = layer.object->find(key);
    if (it == layer.object->end()) continue;
    if (it->is_null()) {
      out->clear();
      return Status::Ok();
    }
    if (it->is_array()) return OptIntArray(key, out);
    int64_t x = 0;
    RETURN_IF_ERROR(JsonToInt(*it, layer.prefix + std::string(key), &x));
    *out = {x};
    return Status::Ok();
  }
  return Status::Ok();
}

Status JsonFields::OptObject(std::string_view key, const json** out) const {
  *out = nullptr;
  const json* v = Find(key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_object()) {
    return InvalidArgument(Name(key) + ": expected an object, got " +
                           std::string(JsonTypeName(*v)));
  }
  *out = v;
  return Status::Ok();
}

Status JsonFields::CheckRange(std::string_view key, int64_t value, int64_t lo,
                              int64_t hi) const {
  if (value < lo || value > hi) {
    return InvalidArgument(Name(key) + ": " + std::to_string(value) +
                           " is out of range [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "]");
  }
  return Status::Ok();
}

Status JsonFields::CheckPositive(std::string_view key, double value) const {
  if (!std::isfinite(value) || value <= 0) {
    return InvalidArgument(Name(key) + ": " + std::to_string(value) +
                           " must be a finite number > 0");
  }
  return Status::Ok();
}

}  // namespace silica
