#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>

#include "tokenizer/unicode.h"

namespace silica::tok {

// ---------------------------------------------------------------------------
// PCRE2 wrapper.

class CompiledRegex {
 public:
  static Result<std::unique_ptr<CompiledRegex>> Compile(const std::string& re) {
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    pcre2_code* code = pcre2_compile(
        reinterpret_cast<PCRE2_SPTR>(re.data()), re.size(),
        PCRE2_UTF | PCRE2_UCP, &err, &err_offset, nullptr);
    if (code == nullptr) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(err, buf, sizeof(buf));
      return InvalidArgument("bad pre-tokenizer regex at offset " +
                             std::to_string(err_offset) + ": " +
                             reinterpret_cast<const char*>(buf));
    }
    // JIT is an optimisation: when it is unavailable the interpreter runs.
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    return std::unique_ptr<CompiledRegex>(new CompiledRegex(code));
  }
  ~CompiledRegex() { pcre2_code_free(code_); }

  // Non-overlapping matches in `subject`, offsets relative to it. An empty
  // match advances by one character so iteration always ends.
  void FindAll(std::string_view subject, uint32_t base,
               std::vector<Range>* out) const {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_, nullptr);
    if (md == nullptr) return;
    size_t start = 0;
    while (start <= subject.size()) {
      const int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(subject.data()),
                                 subject.size(), start, PCRE2_NO_UTF_CHECK, md,
                                 nullptr);
      if (rc < 0) break;
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      const size_t b = ov[0], e = ov[1];
      // Empty matches still cut the text (as in Hugging Face's Split).
      out->push_back({static_cast<uint32_t>(base + b), static_cast<uint32_t>(base + e)});
      if (e > b) {
        start = e;
      } else {
        if (b >= subject.size()) break;
        start = b + Utf8LenFromLead(static_cast<uint8_t>(subject[b]));
      }
    }
    pcre2_match_data_free(md);
  }

 private:
  explicit CompiledRegex(pcre2_code* code) : code_(code) {}
  pcre2_code* code_;
};

// ---------------------------------------------------------------------------
// Built-in patterns, over code points decoded on the fly.

namespace {

struct Cp {
  uint32_t cpt;
  uint8_t cls;  // 0 past the end of the piece
  uint8_t len;
};

class Cursor {
 public:
  Cursor(std::string_view text, uint32_t end) : text_(text.substr(0, end)) {}
  Cp At(size_t pos) const {
    if (pos >= text_.size()) return {0, 0, 0};
    const auto b = static_cast<uint8_t>(text_[pos]);
    if (b < 0x80) return {b, CodepointClass(b), 1};
    const DecodedCpt d = DecodeLenient(text_, pos);
    return {d.cpt, CodepointClass(d.cpt), static_cast<uint8_t>(d.len)};
  }
  // End of the run of characters whose class intersects `mask`, from pos.
  size_t RunOf(size_t pos, uint8_t mask) const {
    for (;;) {
      const Cp c = At(pos);
      if (!(c.cls & mask)) return pos;
      pos += c.len;
    }
  }
  size_t end() const { return text_.size(); }

 private:
  std::string_view text_;
};

inline uint32_t AsciiLower(uint32_t c) {
  return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

// 's|'t|'re|'ve|'m|'ll|'d (optionally case-insensitive). Returns the match
// length or 0.
size_t Contraction(const Cursor& cur, size_t p, bool ignore_case) {
  auto low = [&](uint32_t c) { return ignore_case ? AsciiLower(c) : c; };
  const Cp n1 = cur.At(p + 1);
  const uint32_t a = low(n1.cpt);
  if (n1.cls == 0) return 0;
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (a != 'r' && a != 'v' && a != 'l') return 0;
  const Cp n2 = cur.At(p + 2);
  const uint32_t b = low(n2.cpt);
  if (n2.cls == 0) return 0;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
    return 3;
  }
  return 0;
}

// Whitespace alternatives shared by the patterns: [\s*[\r\n]+ |] \s+(?!\S) | \s+
size_t WhitespaceEnd(const Cursor& cur, size_t p, bool newline_rule) {
  size_t pos = p, last_start = p, last_rn_end = 0, count = 0;
  for (;;) {
    const Cp c = cur.At(pos);
    if (!(c.cls & kWhitespace)) break;
    if (c.cpt == '\r' || c.cpt == '\n') last_rn_end = pos + c.len;
    last_start = pos;
    pos += c.len;
    ++count;
  }
  if (newline_rule && last_rn_end != 0) return last_rn_end;
  if (count >= 2 && pos < cur.end()) return last_start;  // \s+(?!\S)
  return pos;                                            // \s+
}

size_t Gpt2Match(const Cursor& cur, size_t p) {
  const Cp c = cur.At(p);
  if (c.cpt == '\'') {
    if (size_t n = Contraction(cur, p, false)) return p + n;
  }
  size_t q = p;
  uint8_t cls = c.cls;
  if (c.cpt == ' ') {
    const Cp n = cur.At(p + 1);
    if (n.cls & (kLetter | kNumber | kOther)) {
      q = p + 1;
      cls = n.cls;
    }
  }
  if (cls & kLetter) return cur.RunOf(q, kLetter);
  if (cls & kNumber) return cur.RunOf(q, kNumber);
  if (cls & kOther) return cur.RunOf(q, kOther);
  return WhitespaceEnd(cur, p, false);
}

size_t Llama3Match(const Cursor& cur, size_t p, size_t max_digits) {
  const Cp c = cur.At(p);
  if (c.cpt == '\'') {
    if (size_t n = Contraction(cur, p, true)) return p + n;
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (c.cls & kLetter) return cur.RunOf(p, kLetter);
  if (c.cpt != '\r' && c.cpt != '\n' && !(c.cls & kNumber)) {
    if (cur.At(p + c.len).cls & kLetter) return cur.RunOf(p + c.len, kLetter);
  }
  // \p{N}{1,max}
  if (c.cls & kNumber) {
    size_t pos = p;
    for (size_t i = 0; i < max_digits; ++i) {
      const Cp d = cur.At(pos);
      if (!(d.cls & kNumber)) break;
      pos += d.len;
    }
    return pos;
  }
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  size_t q = p;
  uint8_t cls = c.cls;
  if (c.cpt == ' ') {
    const Cp n = cur.At(p + 1);
    if (n.cls & kOther) {
      q = p + 1;
      cls = n.cls;
    }
  }
  if (cls & kOther) {
    size_t pos = cur.RunOf(q, kOther);
    for (;;) {
      const Cp d = cur.At(pos);
      if (d.cls == 0 || (d.cpt != '\r' && d.cpt != '\n')) break;
      pos += d.len;
    }
    return pos;
  }
  return WhitespaceEnd(cur, p, true);
}

}  // namespace

void BuiltinMatches(BuiltinPattern pattern, std::string_view text, Range piece,
                    std::vector<Range>* matches) {
  const Cursor cur(text, piece.second);
  size_t p = piece.first;
  while (p < piece.second) {
    size_t e;
    switch (pattern) {
      case BuiltinPattern::kGpt2:
        e = Gpt2Match(cur, p);
        break;
      case BuiltinPattern::kLlama3:
        e = Llama3Match(cur, p, 3);
        break;
      case BuiltinPattern::kQwen2:
        e = Llama3Match(cur, p, 1);
        break;
      case BuiltinPattern::kDigits: {
        const Cp c = cur.At(p);
        if (c.cls & kNumber) {
          matches->push_back({static_cast<uint32_t>(p),
                              static_cast<uint32_t>(p + c.len)});
        }
        p += c.len;
        continue;
      }
      default:
        return;
    }
    if (e <= p) e = p + cur.At(p).len;  // never stall
    matches->push_back({static_cast<uint32_t>(p), static_cast<uint32_t>(e)});
    p = e;
  }
}

// ---------------------------------------------------------------------------

PreTokenizer::PreTokenizer() = default;
PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

Result<PreTokenizer> PreTokenizer::Create(const std::vector<SplitRule>& rules) {
  PreTokenizer pt;
  for (const SplitRule& r : rules) {
    Rule rule{r, nullptr};
    if (r.builtin == BuiltinPattern::kNone) {
      ASSIGN_OR_RETURN(rule.regex, CompiledRegex::Compile(r.regex));
    }
    pt.rules_.push_back(std::move(rule));
  }
  return pt;
}

void PreTokenizer::ApplyRule(const Rule& rule, std::string_view text,
                             Range piece, std::vector<Range>* out) const {
  std::vector<Range> m;
  if (rule.regex) {
    rule.regex->FindAll(text.substr(piece.first, piece.second - piece.first),
                        piece.first, &m);
  } else {
    BuiltinMatches(rule.spec.builtin, text, piece, &m);
  }
  // Pieces alternate between gaps and matches; `invert` swaps the roles.
  struct Part {
    Range r;
    bool match;
  };
  std::vector<Part> parts;
  parts.reserve(m.size() * 2 + 1);
  uint32_t pos = piece.first;
  for (const Range& r : m) {
    if (r.first > pos) parts.push_back({{pos, r.first}, rule.spec.invert});
    parts.push_back({r, !rule.spec.invert});
    pos = r.second;
  }
  if (pos < piece.second) parts.push_back({{pos, piece.second}, rule.spec.invert});

  auto emit = [&](Range r) {
    if (r.second > r.first) out->push_back(r);
  };
  switch (rule.spec.behavior) {
    case SplitBehavior::kIsolated:
      for (const Part& p : parts) emit(p.r);
      break;
    case SplitBehavior::kRemoved:
      for (const Part& p : parts) {
        if (!p.match) emit(p.r);
      }
      break;
    case SplitBehavior::kMergedWithPrevious: {
      Range cur{0, 0};
      bool open = false;
      for (const Part& p : parts) {
        if (p.match && open) {
          cur.second = p.r.second;
          emit(cur);
          open = false;
        } else if (p.match) {
          emit(p.r);
        } else {
          if (open) emit(cur);
          cur = p.r;
          open = true;
        }
      }
      if (open) emit(cur);
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      Range cur{0, 0};
      bool open = false;
      for (const Part& p : parts) {
        if (p.match) {
          if (open) emit(cur);
          cur = p.r;
          open = true;
        } else if (open) {
          cur.second = p.r.second;
          emit(cur);
          open = false;
        } else {
          emit(p.r);
        }
      }
      if (open) emit(cur);
      break;
    }
    case SplitBehavior::kContiguous: {
      Range cur{0, 0};
      bool open = false;
      for (const Part& p : parts) {
        if (p.match && open) {
          cur.second = p.r.second;
        } else {
          if (open) emit(cur);
          if (p.match) {
            cur = p.r;
            open = true;
          } else {
            emit(p.r);
            open = false;
          }
        }
      }
      if (open) emit(cur);
      break;
    }
  }
}

void PreTokenizer::Split(std::string_view text, std::vector<Range>* words) const {
  if (text.empty()) return;
  const Range whole{0, static_cast<uint32_t>(text.size())};
  if (rules_.empty()) {
    words->push_back(whole);
    return;
  }
  if (rules_.size() == 1) {
    ApplyRule(rules_[0], text, whole, words);
    return;
  }
  std::vector<Range> cur{whole}, next;
  for (const Rule& rule : rules_) {
    next.clear();
    for (const Range& piece : cur) ApplyRule(rule, text, piece, &next);
    cur.swap(next);
  }
  words->insert(words->end(), cur.begin(), cur.end());
}

}  // namespace silica::tok
