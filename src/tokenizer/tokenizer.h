// Tokenizer: text <-> token ids for the model families silica serves.
//
// Two algorithms sit behind one class:
//  * byte-level BPE (GPT-2, SmolLM2, Llama 3, Qwen2): a pre-tokenizer splits
//    text into words, each word's bytes are merged by merge rank;
//  * SentencePiece-style BPE (Llama 2, Gemma 3; GGUF model "llama"): spaces
//    become U+2581, symbols merge by token score, unknown characters fall
//    back to <0xXX> byte tokens.
// Loaded from GGUF metadata (behaviour matches llama.cpp) or from a Hugging
// Face tokenizer.json (+ tokenizer_config.json).
//
// Special tokens (control / user-defined) are matched in text before the
// algorithm runs. User-defined tokens are always matched; control tokens only
// when EncodeOptions::parse_special is set (rendered chat templates), so a
// user who types "<|im_start|>" gets ordinary tokens.
//
// A Tokenizer is immutable after loading; Encode/Decode are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace silica {

class GgufFile;

// GGUF tokenizer.ggml.token_type values.
enum class TokenType : uint8_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct EncodeOptions {
  bool add_special = false;    // BOS/EOS as the model's metadata asks
  bool parse_special = false;  // recognise control tokens in the text
};

// -1 where the model has no such token.
struct SpecialTokenIds {
  int32_t bos = -1;
  int32_t eos = -1;
  int32_t eot = -1;  // end of turn (<|im_end|>, <end_of_turn>, <|eot_id|>)
  int32_t eom = -1;
  int32_t unk = -1;
  int32_t pad = -1;
  int32_t sep = -1;
  int32_t mask = -1;
};

namespace tok {
struct TokenizerSpec;
class TokenizerImpl;
}  // namespace tok

class Tokenizer {
 public:
  // From GGUF metadata (tokenizer.ggml.*), as llama.cpp reads it.
  static Result<std::unique_ptr<Tokenizer>> FromGguf(const GgufFile& gguf);
  // From a Hugging Face tokenizer.json and (optional, may be empty)
  // tokenizer_config.json contents; `name` is used in error messages.
  static Result<std::unique_ptr<Tokenizer>> FromHfJson(
      std::string_view tokenizer_json, std::string_view tokenizer_config_json,
      std::string name);
  // Reads <dir>/tokenizer.json and <dir>/tokenizer_config.json if present.
  static Result<std::unique_ptr<Tokenizer>> FromHfDir(const std::string& dir);
  // From an already-validated description (tests, loaders).
  static Result<std::unique_ptr<Tokenizer>> FromSpec(tok::TokenizerSpec spec);

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  std::vector<int32_t> Encode(std::string_view text,
                              EncodeOptions options = {}) const;

  // Concatenates the pieces of `ids`; control/unknown tokens are dropped
  // when skip_special. Out-of-range ids are skipped. The result is valid
  // UTF-8: ill-formed bytes become U+FFFD.
  std::string Decode(std::span<const int32_t> ids,
                     bool skip_special = false) const;

  // The bytes this token stands for (may be part of a UTF-8 character);
  // empty for an out-of-range id.
  std::string_view TokenToPiece(int32_t id) const;

  // The token's text as stored in the vocabulary (byte-level or U+2581 form).
  std::string_view TokenText(int32_t id) const;
  std::optional<int32_t> TokenId(std::string_view text) const;
  TokenType GetTokenType(int32_t id) const;

  int32_t vocab_size() const;
  const SpecialTokenIds& special_ids() const;
  // Control or unknown tokens: dropped by Decode(skip_special).
  bool IsSpecial(int32_t id) const;
  // Tokens that end generation (EOS, EOT, EOM and end-of-turn lookalikes).
  bool IsEog(int32_t id) const;
  bool add_bos() const;
  bool add_eos() const;
  // SentencePiece models that prepend a space to the text (Llama 2).
  bool add_space_prefix() const;
  // The chat template from the model files; empty when there is none.
  const std::string& chat_template() const;
  // "bpe" or "spm".
  std::string_view algorithm() const;

 private:
  explicit Tokenizer(std::unique_ptr<tok::TokenizerImpl> impl);
  std::unique_ptr<tok::TokenizerImpl> impl_;
};

// Streaming detokenizer: feed ids as they are generated, get back text only
// when it is complete UTF-8. Pieces that split a multi-byte character are
// held until the character completes; bytes that can never form a valid
// character are replaced with U+FFFD, never passed on.
class IncrementalDecoder {
 public:
  // `skip_special` drops control/unknown tokens, as Decode does.
  explicit IncrementalDecoder(const Tokenizer& tokenizer,
                              bool skip_special = true);

  // Returns the newly completed text (possibly empty).
  std::string Add(int32_t id);
  // Emits whatever is pending (an incomplete character becomes U+FFFD).
  std::string Flush();

 private:
  std::string TakeComplete();

  const Tokenizer& tokenizer_;
  bool skip_special_;
  bool at_start_ = true;  // SentencePiece strips the first piece's space
  std::string pending_;
};

}  // namespace silica
