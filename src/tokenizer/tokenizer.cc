// Tokenizer: encode / decode on top of the compiled TokenizerImpl.
#include "tokenizer/tokenizer.h"

#include <utf8proc.h>

#include <cstdlib>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace silica {
namespace tok {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581

void AppendEscapingSpaces(std::string_view text, std::string* out) {
  for (char c : text) {
    if (c == ' ') {
      out->append(kSpace);
    } else {
      out->push_back(c);
    }
  }
}

std::string Utf8procMap(std::string_view text, int options) {
  utf8proc_uint8_t* dst = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
      static_cast<utf8proc_ssize_t>(text.size()), &dst,
      static_cast<utf8proc_option_t>(options));
  if (n < 0) return std::string(text);  // not valid UTF-8: leave as is
  std::string out(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
  std::free(dst);
  return out;
}

}  // namespace

std::string TokenizerImpl::Normalize(std::string_view text) const {
  std::string s(text);
  for (const NormRule& r : spec_.normalizers) {
    switch (r.kind) {
      case NormKind::kNfc:
        s = Utf8procMap(s, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        break;
      case NormKind::kNfkc:
        s = Utf8procMap(s, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
        break;
      case NormKind::kLowercase: {
        std::string low;
        low.reserve(s.size());
        for (size_t pos = 0; pos < s.size();) {
          const DecodedCpt d = DecodeLenient(s, pos);
          AppendUtf8(static_cast<uint32_t>(utf8proc_tolower(
                         static_cast<utf8proc_int32_t>(d.cpt))),
                     &low);
          pos += d.len;
        }
        s = std::move(low);
        break;
      }
      case NormKind::kReplace: {
        if (r.from.empty()) break;
        std::string out;
        size_t pos = 0;
        for (;;) {
          const size_t hit = s.find(r.from, pos);
          if (hit == std::string::npos) break;
          out.append(s, pos, hit - pos).append(r.to);
          pos = hit + r.from.size();
        }
        out.append(s, pos, std::string::npos);
        s = std::move(out);
        break;
      }
      case NormKind::kPrepend:
        if (!s.empty()) s.insert(0, r.to);
        break;
    }
  }
  return s;
}

void TokenizerImpl::EncodeWord(std::string_view word, std::vector<int32_t>* out,
                               std::vector<int32_t>* ids,
                               MergeScratch* scratch) const {
  const bool byte_level = spec_.algorithm == Algorithm::kByteLevelBpe;
  if (spec_.ignore_merges) {
    int32_t id;
    if (byte_level) {
      std::string enc;
      enc.reserve(word.size() * 2);
      for (char c : word) AppendUtf8(ByteToUnicode(static_cast<uint8_t>(c)), &enc);
      id = index_.Find(enc);
    } else {
      id = index_.Find(word);
    }
    if (id >= 0) {
      out->push_back(id);
      return;
    }
  }
  ids->clear();
  if (byte_level) {
    for (char c : word) {
      const int32_t id = byte_tokens_[static_cast<uint8_t>(c)];
      if (id >= 0) ids->push_back(id);
    }
  } else {
    for (size_t pos = 0; pos < word.size();) {
      const size_t len = std::min(
          Utf8LenFromLead(static_cast<uint8_t>(word[pos])), word.size() - pos);
      const int32_t id = index_.Find(word.substr(pos, len));
      if (id >= 0) {
        ids->push_back(id);
      } else {
        for (size_t j = 0; j < len; ++j) {
          const int32_t b =
              spec_.byte_fallback ? byte_tokens_[static_cast<uint8_t>(word[pos + j])] : -1;
          if (b >= 0) {
            ids->push_back(b);
          } else if (spec_.special.unk >= 0) {
            ids->push_back(spec_.special.unk);
            if (!spec_.byte_fallback) break;  // one <unk> per character
          }
        }
      }
      pos += len;
    }
  }
  if (ids->size() > 1) RankBpeMerge(merges_, ids, scratch);
  out->insert(out->end(), ids->begin(), ids->end());
}

void TokenizerImpl::EncodeBpeFragment(std::string_view text,
                                      std::vector<int32_t>* out,
                                      MergeScratch* scratch) const {
  // llama.cpp decodes text to code points (each invalid byte -> U+FFFD) and
  // re-encodes it before splitting; do the same so invalid input matches.
  std::string sanitized;
  if (LlamaSanitize(text, &sanitized)) text = sanitized;
  std::string normalized;
  if (!spec_.normalizers.empty()) {
    normalized = Normalize(text);
    text = normalized;
  }
  if (spec_.byte_level_add_prefix_space && !text.empty() && text[0] != ' ') {
    std::string prefixed = " ";
    prefixed.append(text);
    normalized = std::move(prefixed);
    text = normalized;
  }
  std::vector<Range> words;
  std::string valid;
  if (needs_valid_utf8() && !IsValidUtf8(text)) {
    // Encoded surrogates survive sanitizing; PCRE2 rejects them.
    valid = ReplaceInvalidUtf8(text);
    text = valid;
  }
  pretok_.Split(text, &words);
  std::vector<int32_t> ids;
  for (const Range& w : words) {
    EncodeWord(text.substr(w.first, w.second - w.first), out, &ids, scratch);
  }
}

void TokenizerImpl::Encode(std::string_view text, const EncodeOptions& options,
                           std::vector<int32_t>* out) const {
  if (options.add_special && spec_.add_bos) out->push_back(spec_.special.bos);
  std::vector<Fragment> fragments;
  matcher_.Partition(text, options.parse_special, &fragments);
  MergeScratch scratch;
  bool prev_special = true;
  std::string escaped;
  for (const Fragment& f : fragments) {
    if (f.id >= 0) {
      out->push_back(f.id);
      prev_special = true;
      continue;
    }
    const std::string_view piece = text.substr(f.begin, f.end - f.begin);
    if (spec_.algorithm == Algorithm::kSpmScores) {
      escaped.clear();
      if (spec_.add_space_prefix && prev_special) escaped.append(kSpace);
      AppendEscapingSpaces(piece, &escaped);
      ScoreBpeEncode(escaped, index_, spec_.scores, byte_tokens_,
                     spec_.special.unk, out, &scratch);
    } else {
      EncodeBpeFragment(piece, out, &scratch);
    }
    prev_special = false;
  }
  if (options.add_special && spec_.add_eos) out->push_back(spec_.special.eos);
}

std::string TokenizerImpl::Decode(std::span<const int32_t> ids,
                                  bool skip_special) const {
  std::string out;
  bool strip = strip_prefix_space_;
  for (int32_t id : ids) {
    if (!InRange(id)) continue;
    if (StartsWord(id)) {
      if (!(skip_special && IsSpecial(id))) out += pieces_[id];
      strip = strip_prefix_space_;
      continue;
    }
    const std::string& p = pieces_[id];
    if (strip && !p.empty() && p[0] == ' ') {
      out.append(p, 1, std::string::npos);
    } else {
      out += p;
    }
    strip = false;
  }
  if (!IsValidUtf8(out)) return ReplaceInvalidUtf8(out);
  return out;
}

}  // namespace tok

// ---------------------------------------------------------------------------

Tokenizer::Tokenizer(std::unique_ptr<tok::TokenizerImpl> impl)
    : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromSpec(tok::TokenizerSpec spec) {
  ASSIGN_OR_RETURN(auto impl, tok::TokenizerImpl::Build(std::move(spec)));
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text,
                                       EncodeOptions options) const {
  std::vector<int32_t> out;
  impl_->Encode(text, options, &out);
  return out;
}

std::string Tokenizer::Decode(std::span<const int32_t> ids,
                              bool skip_special) const {
  return impl_->Decode(ids, skip_special);
}

std::string_view Tokenizer::TokenToPiece(int32_t id) const {
  return impl_->InRange(id) ? std::string_view(impl_->piece(id)) : std::string_view();
}

std::string_view Tokenizer::TokenText(int32_t id) const {
  return impl_->InRange(id) ? std::string_view(impl_->spec().tokens[id])
                            : std::string_view();
}

std::optional<int32_t> Tokenizer::TokenId(std::string_view text) const {
  const int32_t id = impl_->Find(text);
  if (id < 0) return std::nullopt;
  return id;
}

TokenType Tokenizer::GetTokenType(int32_t id) const {
  return impl_->InRange(id) ? impl_->type(id) : TokenType::kUndefined;
}

int32_t Tokenizer::vocab_size() const { return impl_->size(); }
const SpecialTokenIds& Tokenizer::special_ids() const {
  return impl_->spec().special;
}
bool Tokenizer::IsSpecial(int32_t id) const { return impl_->IsSpecial(id); }
bool Tokenizer::IsEog(int32_t id) const { return impl_->IsEog(id); }
bool Tokenizer::add_bos() const { return impl_->spec().add_bos; }
bool Tokenizer::add_eos() const { return impl_->spec().add_eos; }
bool Tokenizer::add_space_prefix() const { return impl_->strips_prefix_space(); }
const std::string& Tokenizer::chat_template() const {
  return impl_->spec().chat_template;
}
std::string_view Tokenizer::algorithm() const {
  return impl_->spec().algorithm == tok::Algorithm::kSpmScores ? "spm" : "bpe";
}

}  // namespace silica
