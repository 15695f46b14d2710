// The facts `silica inspect` shows about a GGUF model, read from its
// metadata and tensor infos. Absent optional keys read as 0 / empty; a key
// present with the wrong type is an error (the file is then not what it
// claims to be).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "io/gguf.h"

namespace silica {

struct GgufModelSummary {
  std::string architecture;       // general.architecture (required)
  std::string name;               // general.name
  uint64_t context_length = 0;    // <arch>.context_length
  uint64_t embedding_length = 0;  // <arch>.embedding_length
  uint64_t block_count = 0;       // <arch>.block_count
  // <arch>.attention.head_count(_kv); per-layer arrays report their maximum.
  uint64_t head_count = 0;
  uint64_t head_count_kv = 0;
  uint64_t vocab_size = 0;         // length of tokenizer.ggml.tokens
  std::string tokenizer_model;     // tokenizer.ggml.model ("gpt2", "llama")
  std::string tokenizer_pre;       // tokenizer.ggml.pre ("smollm", ...)
  bool has_chat_template = false;  // tokenizer.chat_template present
  uint64_t parameter_count = 0;    // sum of tensor element counts
  uint64_t tensor_count = 0;
  uint64_t file_size = 0;
  uint32_t gguf_version = 0;
  // Tensor count per dtype, in DType order, only dtypes present.
  std::vector<std::pair<DType, uint64_t>> tensors_by_dtype;
};

Result<GgufModelSummary> SummarizeGguf(const GgufFile& file);

}  // namespace silica
