// The compiled form of a TokenizerSpec (internal to the tokenizer library).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/spec.h"
#include "tokenizer/special_matcher.h"
#include "tokenizer/tables.h"
#include "tokenizer/tokenizer.h"

namespace silica::tok {

class TokenizerImpl {
 public:
  // Validates `spec` (every id, merge and array length) and builds the
  // lookup tables. Errors name spec.name and the offending field.
  static Result<std::unique_ptr<TokenizerImpl>> Build(TokenizerSpec spec);

  void Encode(std::string_view text, const EncodeOptions& options,
              std::vector<int32_t>* out) const;
  std::string Decode(std::span<const int32_t> ids, bool skip_special) const;

  int32_t size() const { return static_cast<int32_t>(spec_.tokens.size()); }
  bool InRange(int32_t id) const { return id >= 0 && id < size(); }
  TokenType type(int32_t id) const { return types_[id]; }
  bool IsSpecial(int32_t id) const {
    return InRange(id) &&
           (types_[id] == TokenType::kControl || types_[id] == TokenType::kUnknown);
  }
  // Pieces after these get their SentencePiece prefix space stripped.
  bool StartsWord(int32_t id) const {
    return types_[id] == TokenType::kControl ||
           types_[id] == TokenType::kUnknown ||
           types_[id] == TokenType::kUserDefined;
  }
  bool strips_prefix_space() const { return strip_prefix_space_; }
  bool needs_valid_utf8() const { return pretok_.has_regex(); }

  const TokenizerSpec& spec() const { return spec_; }
  const std::string& piece(int32_t id) const { return pieces_[id]; }
  int32_t Find(std::string_view text) const { return index_.Find(text); }
  bool IsEog(int32_t id) const { return InRange(id) && is_eog_[id]; }

 private:
  TokenizerImpl() = default;
  Status Init();
  Status BuildMerges();
  void SetUpEndOfGeneration();
  void BuildPieces();
  void BuildSpecials();

  void EncodeBpeFragment(std::string_view text, std::vector<int32_t>* out,
                         MergeScratch* scratch) const;
  void EncodeWord(std::string_view word, std::vector<int32_t>* out,
                  std::vector<int32_t>* ids, MergeScratch* scratch) const;
  std::string Normalize(std::string_view text) const;

  TokenizerSpec spec_;
  std::vector<TokenType> types_;
  std::vector<std::string> pieces_;  // bytes each token decodes to
  std::vector<uint8_t> is_eog_;
  TextIndex index_;
  MergeTable merges_;
  int32_t byte_tokens_[256];  // the token for a lone byte, or -1
  SpecialMatcher matcher_;
  PreTokenizer pretok_;
  bool strip_prefix_space_ = false;
};

}  // namespace silica::tok
