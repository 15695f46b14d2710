// Hugging Face tokenizer files from a GGUF BPE vocabulary: tokenizer.json
// (a `tokenizers` BPE model with the vocabulary and merges, the
// pre-tokenizer that matches tokenizer.ggml.pre, ByteLevel decoding, and
// the control / user-defined tokens as added tokens) and
// tokenizer_config.json (special tokens, chat template). Padding tokens
// are left out, as in the real checkpoints, whose tokenizers are smaller
// than the embedding matrix.
#pragma once

#include <string>

#include "core/status.h"
#include "silica/synth/tokenizer_source.h"

namespace silica::synth {

// The JSON texts. Unimplemented for a tokenizer.ggml.pre with no known
// Hugging Face equivalent.
Result<std::string> HfTokenizerJson(const TokenizerData& tok);
Result<std::string> HfTokenizerConfigJson(const TokenizerData& tok,
                                          int64_t model_max_length);

// Writes `text` to `path` (replacing it).
Status WriteTextFile(const std::string& path, const std::string& text);

}  // namespace silica::synth
