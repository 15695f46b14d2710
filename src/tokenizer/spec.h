// TokenizerSpec: a plain description of a tokenizer that the loaders fill
// from a file and Tokenizer::FromSpec validates and compiles. Keeping the
// file formats (GGUF, tokenizer.json) apart from the algorithms means every
// check on untrusted input lives in one place.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace silica::tok {

enum class Algorithm {
  kByteLevelBpe,  // GPT-2 style: bytes mapped to printable chars, merge ranks
  kSpmScores,     // llama.cpp "llama" vocab: merges by token score
  kBpe,           // merge ranks over raw UTF-8 chars + <0xXX> byte fallback
                  // (Hugging Face conversions of SentencePiece models)
};

// How special tokens that overlap in the text are resolved.
enum class SpecialMatchMode {
  kLlamaCpp,         // longest token first, everywhere, then the next
  kLeftmostLongest,  // Hugging Face: scan left to right, longest at a spot
};

enum class SplitBehavior {
  kIsolated,
  kRemoved,
  kMergedWithPrevious,
  kMergedWithNext,
  kContiguous,
};

// Hand-written equivalents of well-known pre-tokenizer regexes (faster than
// a regex engine and independent of its Unicode tables).
enum class BuiltinPattern {
  kNone,
  kGpt2,    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kLlama3,  // (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kQwen2,   // kLlama3 with \p{N} instead of \p{N}{1,3}
  kDigits,  // \p{N}: every number character on its own
};

struct SplitRule {
  BuiltinPattern builtin = BuiltinPattern::kNone;
  std::string regex;  // used when builtin == kNone (PCRE2 syntax)
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
};

enum class NormKind { kNfc, kNfkc, kLowercase, kReplace, kPrepend };

struct NormRule {
  NormKind kind = NormKind::kNfc;
  std::string from;  // kReplace: literal to find
  std::string to;    // kReplace: replacement; kPrepend: prefix
};

// Per-token matching options for special tokens (Hugging Face added tokens).
struct TokenStrip {
  int32_t id = -1;
  bool lstrip = false;
  bool rstrip = false;
};

struct TokenizerSpec {
  std::string name;  // file name, for error messages
  Algorithm algorithm = Algorithm::kByteLevelBpe;
  std::vector<std::string> tokens;
  std::vector<float> scores;     // empty, or one per token
  std::vector<TokenType> types;  // empty (all normal), or one per token
  std::vector<TokenStrip> strips;
  // Merge rules, rank = index: (left, right) token texts.
  std::vector<std::pair<std::string, std::string>> merges;
  std::vector<NormRule> normalizers;
  std::vector<SplitRule> splits;
  bool byte_level_add_prefix_space = false;  // HF ByteLevel add_prefix_space
  bool add_space_prefix = false;  // SPM: ' ' before text at start/after specials
  bool ignore_merges = false;     // emit a whole word when it is a token
  bool byte_fallback = true;      // <0xXX> tokens for unknown characters
  bool add_bos = false;
  bool add_eos = false;
  SpecialTokenIds special;
  SpecialMatchMode match_mode = SpecialMatchMode::kLlamaCpp;
  std::string chat_template;
};

}  // namespace silica::tok
