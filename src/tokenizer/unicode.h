// Unicode helpers the tokenizers share: UTF-8 decoding/encoding, the
// character classes pre-tokenizer patterns use (\p{L}, \p{N}, \s), and the
// GPT-2 byte <-> printable-character mapping of byte-level BPE.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace silica::tok {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Character classes, as bit flags. Every code point has exactly one of
// kLetter / kNumber / kOther, plus kWhitespace for White_Space characters
// (a whitespace character is never a letter or number).
enum CpClass : uint8_t {
  kLetter = 1,      // \p{L}
  kNumber = 2,      // \p{N}
  kWhitespace = 4,  // \s (Unicode White_Space)
  kMark = 8,        // \p{M} (a subset of kOther)
  kOther = 16,      // anything else: punctuation, symbols, controls, unassigned
};

uint8_t CodepointClass(uint32_t cpt);

// Length of a UTF-8 sequence from its lead byte, the way llama.cpp's
// tokenizers step through text: continuation and invalid bytes count as 1.
inline size_t Utf8LenFromLead(uint8_t lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1,
                                       1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

// One decoded code point and the bytes it came from.
struct DecodedCpt {
  uint32_t cpt;
  uint32_t len;  // bytes consumed
};

// Decodes one code point at `pos` leniently, matching llama.cpp: a lead byte
// with enough continuation bytes decodes even when overlong or a surrogate;
// anything else yields U+FFFD and consumes one byte.
DecodedCpt DecodeLenient(std::string_view s, size_t pos);

// Appends the UTF-8 encoding of `cpt` (U+FFFD for values past U+10FFFF).
void AppendUtf8(uint32_t cpt, std::string* out);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or values
// past U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Re-encodes `s` the way llama.cpp's byte-level BPE sees it: each code point
// from DecodeLenient written back as UTF-8 (so every invalid byte becomes
// U+FFFD). Returns false and leaves `out` untouched when `s` needs no change.
bool LlamaSanitize(std::string_view s, std::string* out);

// Replaces ill-formed sequences with U+FFFD using the "maximal subpart"
// rule (Unicode §3.9, WHATWG, Python's errors="replace"): one U+FFFD per
// maximal prefix of a valid sequence, or per lone invalid byte.
std::string ReplaceInvalidUtf8(std::string_view s);

// Length of the longest prefix of `s` that ends on a complete character,
// treating an incomplete-but-valid-so-far sequence at the end as pending.
// Bytes that can never become valid are not pending.
size_t CompleteUtf8Prefix(std::string_view s);

// GPT-2 byte-level mapping: every byte value is shown as one printable code
// point (printable Latin-1 bytes map to themselves, the rest to U+0100...).
uint32_t ByteToUnicode(uint8_t byte);
// Inverse of ByteToUnicode; -1 for code points outside the mapping.
int UnicodeToByte(uint32_t cpt);

// Decodes a byte-level token text (printable code points) back to raw bytes.
// Returns false when a character is outside the mapping.
bool ByteLevelDecode(std::string_view text, std::string* out);

}  // namespace silica::tok
