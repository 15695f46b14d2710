// IncrementalDecoder: the streaming counterpart of Tokenizer::Decode. The
// concatenation of everything Add() and Flush() return equals Decode() of
// the same ids.
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace silica {

IncrementalDecoder::IncrementalDecoder(const Tokenizer& tokenizer,
                                       bool skip_special)
    : tokenizer_(tokenizer), skip_special_(skip_special) {}

std::string IncrementalDecoder::Add(int32_t id) {
  if (id < 0 || id >= tokenizer_.vocab_size()) return {};
  const TokenType type = tokenizer_.GetTokenType(id);
  const bool starts_word = type == TokenType::kControl ||
                           type == TokenType::kUnknown ||
                           type == TokenType::kUserDefined;
  std::string_view piece = tokenizer_.TokenToPiece(id);
  if (starts_word) {
    // SentencePiece models put a space before the text that follows a
    // special token; Decode strips it, so strip it here too.
    at_start_ = true;
    if (skip_special_ && tokenizer_.IsSpecial(id)) return TakeComplete();
    pending_.append(piece);
    return TakeComplete();
  }
  if (at_start_ && tokenizer_.add_space_prefix() && !piece.empty() &&
      piece[0] == ' ') {
    piece.remove_prefix(1);
  }
  at_start_ = false;
  pending_.append(piece);
  return TakeComplete();
}

std::string IncrementalDecoder::TakeComplete() {
  const size_t n = tok::CompleteUtf8Prefix(pending_);
  if (n == 0) return {};
  std::string_view done(pending_.data(), n);
  std::string out =
      tok::IsValidUtf8(done) ? std::string(done) : tok::ReplaceInvalidUtf8(done);
  pending_.erase(0, n);
  return out;
}

std::string IncrementalDecoder::Flush() {
  std::string out = tok::ReplaceInvalidUtf8(pending_);
  pending_.clear();
  at_start_ = true;
  return out;
}

}  // namespace silica
