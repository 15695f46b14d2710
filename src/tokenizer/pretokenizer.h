// Pre-tokenizer: cuts a text fragment into words before BPE. A sequence of
// split rules, each refining the pieces the previous one produced (as in
// llama.cpp's regex list and Hugging Face's Sequence pre-tokenizer).
//
// Well-known patterns run as hand-written matchers over decoded code points
// (BuiltinPattern); anything else compiles with PCRE2 (UTF + UCP, JIT).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "tokenizer/spec.h"

namespace silica::tok {

using Range = std::pair<uint32_t, uint32_t>;  // [begin, end) byte offsets

class CompiledRegex;

class PreTokenizer {
 public:
  static Result<PreTokenizer> Create(const std::vector<SplitRule>& rules);
  PreTokenizer();
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;

  bool empty() const { return rules_.empty(); }
  // Regex rules need valid UTF-8; built-in ones take any bytes.
  bool has_regex() const {
    for (const Rule& r : rules_) {
      if (r.regex) return true;
    }
    return false;
  }

  // Appends the words of `text` (as byte ranges relative to `text`) to
  // `words`. Regex rules require valid UTF-8; built-in rules accept anything
  // (invalid bytes count as U+FFFD, like llama.cpp).
  void Split(std::string_view text, std::vector<Range>* words) const;

 private:
  struct Rule {
    SplitRule spec;
    std::unique_ptr<CompiledRegex> regex;
  };
  void ApplyRule(const Rule& rule, std::string_view text, Range piece,
                 std::vector<Range>* out) const;
  std::vector<Rule> rules_;
};

// Match ranges of a built-in pattern within text[piece] (exposed for tests).
void BuiltinMatches(BuiltinPattern pattern, std::string_view text, Range piece,
                    std::vector<Range>* matches);

}  // namespace silica::tok
