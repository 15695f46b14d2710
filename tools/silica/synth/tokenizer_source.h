// The tokenizer a synthetic model carries. A random-weight model still
// needs a real, loadable vocabulary so llama.cpp and transformers accept
// the file unchanged: it is taken from the tokenizer.* metadata of a real
// GGUF, or a Hugging Face tokenizer.json, on disk (fetched by
// scripts/fetch-models), patched with the tokens
// the real model has and the source lacks, and padded to the model's
// vocab size with unused tokens the way llama.cpp's converter pads
// ("[PAD<id>]", token type UNUSED). The tiny test shapes use a small
// byte-level vocabulary built in code instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "silica/synth/arch_shapes.h"

namespace silica::synth {

// GGUF token types (llama.cpp's llama_token_type / gguf-py TokenType).
inline constexpr int32_t kTokenNormal = 1;
inline constexpr int32_t kTokenControl = 3;
inline constexpr int32_t kTokenUserDefined = 4;
inline constexpr int32_t kTokenUnused = 5;

struct TokenizerData {
  std::string source;  // what it came from, for messages and metadata
  std::string model;   // tokenizer.ggml.model ("gpt2")
  std::string pre;     // tokenizer.ggml.pre ("qwen2", "smollm", ...)
  std::vector<std::string> tokens;
  std::vector<int32_t> token_types;
  std::vector<std::string> merges;  // "a b"
  std::optional<uint32_t> bos_id, eos_id, pad_id, unk_id;
  std::optional<bool> add_bos, add_eos;
  std::string chat_template;  // empty when the source has none

  // Padding (ours or the source's): not part of the real vocabulary.
  bool IsPadding(size_t id) const { return token_types[id] == kTokenUnused; }
};

// Reads the tokenizer.* keys of a GGUF file (a model or a vocab-only file).
// Only BPE ("gpt2") vocabularies are supported: Unimplemented otherwise.
Result<TokenizerData> LoadGgufTokenizer(const std::string& path);

// Reads a Hugging Face tokenizer.json (a file, or a folder holding one)
// with a byte-level BPE model, and tokenizer_config.json beside it when
// present, into the GGUF form llama.cpp's converter would write.
Result<TokenizerData> LoadHfTokenizer(const std::string& path);

// LoadGgufTokenizer for a *.gguf path, LoadHfTokenizer otherwise.
Result<TokenizerData> LoadTokenizerFile(const std::string& path);

// The small byte-level BPE vocabulary of the tiny shapes: the 256 byte
// tokens, a few merges, and the family's special tokens.
TokenizerData TinyTokenizer(const ArchShape& shape);

// Applies `overrides` (which must name padding or unused tokens) and pads
// to `vocab` tokens. Tokens past `vocab` would have no embedding row: the
// source may lose trailing unused or control ones (Llama 3.2 Vision's
// <|image|>, padding), anything else is InvalidArgument.
Status FitTokenizer(const std::vector<TokenOverride>& overrides, int64_t vocab,
                    TokenizerData* tok);

// The tokenizer for `shape`: from `override_path` when not empty (a GGUF
// with a BPE vocabulary, a tokenizer.json, or a folder with one), else the
// first of shape.tokenizer.sources present under `models_dir`. When none
// is, NotFound naming the scripts/fetch-models command that fetches one.
Result<TokenizerData> ResolveTokenizer(const ArchShape& shape,
                                       const std::string& models_dir,
                                       const std::string& override_path);

}  // namespace silica::synth
