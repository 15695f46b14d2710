#include "silica/model_report.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "core/mapped_file.h"
#include "io/gguf.h"
#include "io/gguf_config.h"
#include "io/model_config.h"
#include "io/safetensors_source.h"

namespace silica::cli {
namespace {

namespace fs = std::filesystem;

void Tally(ModelReport& r, DType dtype, int64_t elements, uint64_t bytes) {
  DTypeTally& t = r.by_dtype[std::string(DTypeName(dtype))];
  ++t.tensors;
  t.elements += elements;
  t.bytes += bytes;
  r.parameters += elements;
  ++r.tensor_count;
}

std::string HumanBytes(uint64_t b) {
  if (b >= (uint64_t{1} << 30)) return fmt::format("{:.2f} GiB", b / 1073741824.0);
  if (b >= (uint64_t{1} << 20)) return fmt::format("{:.1f} MiB", b / 1048576.0);
  if (b >= 1024) return fmt::format("{:.1f} KiB", b / 1024.0);
  return fmt::format("{} B", b);
}

std::string HumanCount(int64_t n) {
  if (n >= 1000000000) return fmt::format("{:.2f}B", n / 1e9);
  if (n >= 1000000) return fmt::format("{:.1f}M", n / 1e6);
  if (n >= 1000) return fmt::format("{:.1f}K", n / 1e3);
  return fmt::format("{}", n);
}

// tokenizer.json of a Hugging Face folder: model type and vocabulary size
// (the model's vocab plus added tokens not already in it).
void ReadHfTokenizer(const fs::path& dir, ModelReport& r) {
  std::ifstream in(dir / "tokenizer.json");
  if (!in) {
    r.tokenizer_kind = "none (no tokenizer.json)";
    return;
  }
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    r.tokenizer_kind = "unreadable tokenizer.json";
    return;
  }
  const auto model = j.value("model", nlohmann::json::object());
  r.tokenizer_kind = model.is_object() ? model.value("type", "?") : "?";
  if (model.is_object() && model.contains("vocab") && model["vocab"].is_object()) {
    r.vocab_size = static_cast<int64_t>(model["vocab"].size());
    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
      for (const auto& t : j["added_tokens"]) {
        if (!t.is_object() || !t.contains("content") || !t["content"].is_string()) continue;
        if (!model["vocab"].contains(t["content"].get<std::string>())) ++r.vocab_size;
      }
    }
  }
  std::ifstream cfg(dir / "tokenizer_config.json");
  if (cfg) {
    nlohmann::json c = nlohmann::json::parse(cfg, nullptr, false);
    r.has_chat_template = !c.is_discarded() && c.is_object() &&
                          c.contains("chat_template");
  }
  r.has_chat_template = r.has_chat_template ||
                        fs::exists(dir / "chat_template.jinja") ||
                        fs::exists(dir / "chat_template.json");
}

}  // namespace

Result<ModelReport> InspectGguf(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> gguf, GgufFile::Open(path));
  ASSIGN_OR_RETURN(GgufModelSummary s, SummarizeGguf(*gguf));
  ModelReport r;
  r.path = path;
  r.format = fmt::format("gguf v{}", s.gguf_version);
  r.file_bytes = s.file_size;
  r.architecture = s.architecture;
  r.name = s.name;
  r.context_length = static_cast<int64_t>(s.context_length);
  r.layers = static_cast<int64_t>(s.block_count);
  r.hidden_size = static_cast<int64_t>(s.embedding_length);
  r.vocab_size = static_cast<int64_t>(s.vocab_size);
  r.has_chat_template = s.has_chat_template;
  r.tokenizer_kind = s.tokenizer_model.empty() ? "none" : s.tokenizer_model;
  if (!s.tokenizer_pre.empty()) r.tokenizer_kind += " (pre: " + s.tokenizer_pre + ")";
  // Bytes per dtype are not in the summary; tally them from tensor infos.
  for (const GgufTensorInfo& t : gguf->tensors()) {
    Tally(r, t.dtype, t.shape.NumElements(), t.nbytes);
  }
  return r;
}

Result<ModelReport> InspectSafetensors(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsSource> source,
                   SafetensorsSource::Open(path));
  ModelReport r;
  r.path = path;
  r.format = source->files().size() == 1
                 ? std::string("safetensors")
                 : fmt::format("safetensors ({} shards)", source->files().size());
  r.file_bytes = source->total_file_bytes();
  for (const WeightInfo& t : source->tensors()) {
    Tally(r, t.dtype, t.shape.NumElements(), t.nbytes);
  }
  const fs::path dir = fs::is_directory(path) ? fs::path(path)
                                              : fs::path(path).parent_path();
  if (fs::exists(dir / "config.json")) {
    ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig((dir / "config.json").string()));
    r.architecture = config.architecture.empty() ? config.model_type
                                                 : config.architecture;
    r.context_length = config.max_position_embeddings;
    r.layers = config.num_hidden_layers;
    r.hidden_size = config.hidden_size;
    r.vocab_size = config.vocab_size;
  } else {
    r.architecture = "unknown (no config.json)";
  }
  const int64_t config_vocab = r.vocab_size;
  ReadHfTokenizer(dir, r);
  if (r.vocab_size == 0) r.vocab_size = config_vocab;
  return r;
}

Result<ModelReport> InspectModel(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return NotFound(path + ": no such file or folder");
  if (fs::is_regular_file(path, ec)) {
    char magic[4] = {};
    std::ifstream in(path, std::ios::binary);
    in.read(magic, 4);
    if (in.gcount() == 4 && std::string_view(magic, 4) == "GGUF") {
      return InspectGguf(path);
    }
    if (path.ends_with(".safetensors") || path.ends_with(".json")) {
      return InspectSafetensors(path);
    }
    return InvalidArgument(path + ": neither a GGUF file (magic 'GGUF') nor "
                           "a .safetensors file");
  }
  return InspectSafetensors(path);
}

std::string FormatReport(const ModelReport& r) {
  std::string out;
  auto line = [&](std::string_view key, const std::string& value) {
    out += fmt::format("{:<16} {}\n", key, value);
  };
  line("path", r.path);
  line("format", r.format);
  line("architecture", r.architecture);
  if (!r.name.empty()) line("name", r.name);
  line("parameters", fmt::format("{} ({})", HumanCount(r.parameters), r.parameters));
  if (r.layers > 0) line("layers", std::to_string(r.layers));
  if (r.hidden_size > 0) line("hidden size", std::to_string(r.hidden_size));
  line("context length", r.context_length > 0 ? std::to_string(r.context_length)
                                              : std::string("unknown"));
  line("tokenizer", r.tokenizer_kind);
  line("vocab size", std::to_string(r.vocab_size));
  line("chat template", r.has_chat_template ? "yes" : "no");
  line("file size", fmt::format("{} ({} bytes)", HumanBytes(r.file_bytes), r.file_bytes));
  line("tensors", std::to_string(r.tensor_count));
  for (const auto& [dtype, t] : r.by_dtype) {
    out += fmt::format("  {:<8} {:>5} tensors {:>14} params {:>12}\n", dtype,
                       t.tensors, HumanCount(t.elements), HumanBytes(t.bytes));
  }
  return out;
}

}  // namespace silica::cli
