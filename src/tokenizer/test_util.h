// Small hand-built vocabularies for the tokenizer unit tests.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tokenizer/spec.h"
#include "tokenizer/unicode.h"

namespace silica::tok::testing {

// The 256 byte-level tokens (ids 0..255, id == byte value) plus `extra`.
inline TokenizerSpec ByteLevelSpec(const std::vector<std::string>& extra,
                                   std::vector<std::pair<std::string, std::string>> merges) {
  TokenizerSpec spec;
  spec.name = "test-bpe";
  spec.algorithm = Algorithm::kByteLevelBpe;
  for (int b = 0; b < 256; ++b) {
    std::string t;
    AppendUtf8(ByteToUnicode(static_cast<uint8_t>(b)), &t);
    spec.tokens.push_back(t);
  }
  for (const std::string& e : extra) spec.tokens.push_back(e);
  spec.merges = std::move(merges);
  spec.splits = {SplitRule{BuiltinPattern::kGpt2, {}, SplitBehavior::kIsolated, false}};
  return spec;
}

// Byte-level text of raw bytes ("Ġ" for a space, ...).
inline std::string Bl(const std::string& raw) {
  std::string t;
  for (char c : raw) AppendUtf8(ByteToUnicode(static_cast<uint8_t>(c)), &t);
  return t;
}

}  // namespace silica::tok::testing
