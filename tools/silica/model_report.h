// ModelReport: what `silica inspect` prints, gathered from a GGUF file or a
// Hugging Face safetensors folder. Plain data; building and printing are
// separate so each format fills the same fields.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/status.h"

namespace silica::cli {

struct DTypeTally {
  int64_t tensors = 0;
  int64_t elements = 0;
  uint64_t bytes = 0;
};

struct ModelReport {
  std::string path;
  std::string format;        // "gguf v3", "safetensors (3 shards)"
  std::string architecture;  // "llama", "gemma3", "Qwen3ForCausalLM"
  std::string name;          // general.name when present
  int64_t parameters = 0;
  int64_t tensor_count = 0;
  std::map<std::string, DTypeTally> by_dtype;
  int64_t context_length = 0;  // 0 = unknown
  int64_t layers = 0;
  int64_t hidden_size = 0;
  std::string tokenizer_kind;  // "gpt2 (pre: smollm)", "llama (SentencePiece)"
  int64_t vocab_size = 0;
  bool has_chat_template = false;
  uint64_t file_bytes = 0;
};

Result<ModelReport> InspectGguf(const std::string& path);
Result<ModelReport> InspectSafetensors(const std::string& path);
// Picks the format from the path (a GGUF file by its magic, else a
// safetensors file or folder).
Result<ModelReport> InspectModel(const std::string& path);

std::string FormatReport(const ModelReport& report);

}  // namespace silica::cli
