// The Split regexes of the Hugging Face tokenizer.json files that
// llama.cpp's BPE pre-tokenizer types were made from (llama.cpp keeps them
// as comments beside its adapted versions). Shared by the reader and the
// writer of tokenizer.json so the mapping goes both ways.
#pragma once

namespace silica::synth {

// tokenizer.ggml.pre "qwen2" (also "deepseek-r1-qwen").
inline constexpr const char* kQwen2SplitRegex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// tokenizer.ggml.pre "llama-bpe" (Llama 3.x): numbers in runs of up to 3.
inline constexpr const char* kLlama3SplitRegex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

}  // namespace silica::synth
