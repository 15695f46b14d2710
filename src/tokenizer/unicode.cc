#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include <array>

namespace silica::tok {
namespace {

// White_Space (Unicode PropList.txt); stable since Unicode 6.
bool IsWhiteSpace(uint32_t c) {
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D);
  if (c < 0x85) return false;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

uint8_t ClassFromUtf8proc(uint32_t cpt) {
  if (IsWhiteSpace(cpt)) return kWhitespace;
  if (cpt > 0x10FFFF) return kOther;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cpt))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return kLetter;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return kNumber;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return kOther | kMark;
    default:
      return kOther;
  }
}

// ASCII is most of most text: answer it from a table built at compile time.
constexpr std::array<uint8_t, 128> MakeAsciiClasses() {
  std::array<uint8_t, 128> t{};
  for (int c = 0; c < 128; ++c) {
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) {
      t[c] = kWhitespace;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      t[c] = kLetter;
    } else if (c >= '0' && c <= '9') {
      t[c] = kNumber;
    } else {
      t[c] = kOther;
    }
  }
  return t;
}
constexpr std::array<uint8_t, 128> kAsciiClasses = MakeAsciiClasses();

// GPT-2's byte mapping: bytes that are printable and not space keep their
// own code point; the other 68 are numbered from U+0100 in byte order.
constexpr bool IsSelfMappedByte(int b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) ||
         (b >= 0xAE && b <= 0xFF);
}
constexpr std::array<uint16_t, 256> MakeByteToUnicode() {
  std::array<uint16_t, 256> t{};
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    t[b] = IsSelfMappedByte(b) ? static_cast<uint16_t>(b)
                               : static_cast<uint16_t>(256 + n++);
  }
  return t;
}
constexpr std::array<uint16_t, 256> kByteToUnicode = MakeByteToUnicode();

constexpr std::array<int16_t, 324> MakeUnicodeToByte() {
  std::array<int16_t, 324> t{};
  for (auto& v : t) v = -1;
  for (int b = 0; b < 256; ++b) t[kByteToUnicode[b]] = static_cast<int16_t>(b);
  return t;
}
constexpr std::array<int16_t, 324> kUnicodeToByte = MakeUnicodeToByte();

inline bool IsCont(uint8_t b) { return (b & 0xC0) == 0x80; }

}  // namespace

uint8_t CodepointClass(uint32_t cpt) {
  if (cpt < 128) return kAsciiClasses[cpt];
  return ClassFromUtf8proc(cpt);
}

DecodedCpt DecodeLenient(std::string_view s, size_t pos) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  const uint8_t b0 = p[pos];
  if (b0 < 0x80) return {b0, 1};
  if (!(b0 & 0x40)) return {kReplacementChar, 1};
  if (!(b0 & 0x20)) {
    if (pos + 1 >= n || !IsCont(p[pos + 1])) return {kReplacementChar, 1};
    return {(uint32_t{b0 & 0x1Fu} << 6) | (p[pos + 1] & 0x3Fu), 2};
  }
  if (!(b0 & 0x10)) {
    if (pos + 2 >= n || !IsCont(p[pos + 1]) || !IsCont(p[pos + 2])) {
      return {kReplacementChar, 1};
    }
    return {(uint32_t{b0 & 0x0Fu} << 12) | ((p[pos + 1] & 0x3Fu) << 6) |
                (p[pos + 2] & 0x3Fu),
            3};
  }
  if (!(b0 & 0x08)) {
    if (pos + 3 >= n || !IsCont(p[pos + 1]) || !IsCont(p[pos + 2]) ||
        !IsCont(p[pos + 3])) {
      return {kReplacementChar, 1};
    }
    return {(uint32_t{b0 & 0x07u} << 18) | ((p[pos + 1] & 0x3Fu) << 12) |
                ((p[pos + 2] & 0x3Fu) << 6) | (p[pos + 3] & 0x3Fu),
            4};
  }
  return {kReplacementChar, 1};
}

void AppendUtf8(uint32_t cpt, std::string* out) {
  if (cpt < 0x80) {
    out->push_back(static_cast<char>(cpt));
  } else if (cpt < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cpt >> 6)));
    out->push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else if (cpt < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cpt >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else if (cpt <= 0x10FFFF) {
    out->push_back(static_cast<char>(0xF0 | (cpt >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cpt >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else {
    AppendUtf8(kReplacementChar, out);
  }
}

namespace {

// Length of the well-formed sequence at `pos`, or 0 with `*maximal` set to
// the length of the maximal subpart (>= 1) that must be replaced.
size_t ValidSeqLen(const uint8_t* p, size_t n, size_t pos, size_t* maximal) {
  const uint8_t b0 = p[pos];
  *maximal = 1;
  if (b0 < 0x80) return 1;
  size_t need;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t i = 1; i < need; ++i) {
    if (pos + i >= n) return 0;
    const uint8_t b = p[pos + i];
    const bool ok = (i == 1) ? (b >= lo && b <= hi) : IsCont(b);
    if (!ok) return 0;
    *maximal = i + 1;
  }
  return need;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t pos = 0;
  while (pos < n) {
    if (p[pos] < 0x80) {
      ++pos;
      continue;
    }
    size_t maximal;
    const size_t len = ValidSeqLen(p, n, pos, &maximal);
    if (len == 0) return false;
    pos += len;
  }
  return true;
}

std::string ReplaceInvalidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  std::string out;
  out.reserve(n);
  size_t pos = 0;
  while (pos < n) {
    size_t maximal;
    const size_t len = ValidSeqLen(p, n, pos, &maximal);
    if (len == 0) {
      AppendUtf8(kReplacementChar, &out);
      pos += maximal;
    } else {
      out.append(s.substr(pos, len));
      pos += len;
    }
  }
  return out;
}

size_t CompleteUtf8Prefix(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  // Only the last three bytes can start a pending sequence.
  const size_t start = n > 3 ? n - 3 : 0;
  for (size_t pos = n; pos-- > start;) {
    if (IsCont(p[pos])) continue;
    size_t maximal;
    if (ValidSeqLen(p, n, pos, &maximal) == 0 && pos + maximal == n &&
        p[pos] >= 0xC2 && p[pos] <= 0xF4) {
      return pos;  // a valid prefix cut short by the end of input
    }
    break;
  }
  return n;
}

bool LlamaSanitize(std::string_view s, std::string* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  // Fast path: find the first byte where re-encoding would change the text.
  size_t pos = 0;
  while (pos < n) {
    if (p[pos] < 0x80) {
      ++pos;
      continue;
    }
    size_t maximal;
    const size_t len = ValidSeqLen(p, n, pos, &maximal);
    if (len == 0) break;
    pos += len;
  }
  if (pos == n) return false;
  std::string result(s.substr(0, pos));
  result.reserve(n + 16);
  while (pos < n) {
    const DecodedCpt d = DecodeLenient(s, pos);
    AppendUtf8(d.cpt, &result);
    pos += d.len;
  }
  *out = std::move(result);
  return true;
}

uint32_t ByteToUnicode(uint8_t byte) { return kByteToUnicode[byte]; }

int UnicodeToByte(uint32_t cpt) {
  return cpt < kUnicodeToByte.size() ? kUnicodeToByte[cpt] : -1;
}

bool ByteLevelDecode(std::string_view text, std::string* out) {
  size_t pos = 0;
  while (pos < text.size()) {
    const DecodedCpt d = DecodeLenient(text, pos);
    const int b = (d.len == 1 && d.cpt == kReplacementChar)
                      ? -1
                      : UnicodeToByte(d.cpt);
    if (b < 0) return false;
    out->push_back(static_cast<char>(b));
    pos += d.len;
  }
  return true;
}

}  // namespace silica::tok
