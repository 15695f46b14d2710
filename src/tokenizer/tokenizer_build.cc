// TokenizerImpl::Build: validation of a TokenizerSpec and construction of
// the lookup tables.
#include <cstdio>
#include <string>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace silica::tok {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581

void ReplaceAll(std::string* s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t hit = s->find(from, pos);
    if (hit == std::string::npos) break;
    out.append(*s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  if (pos == 0) return;
  out.append(*s, pos, std::string::npos);
  *s = std::move(out);
}

// "<0x0A>" -> 10; -1 when the text is not a byte token.
int ParseByteToken(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  int v = 0;
  for (char c : t.substr(3, 2)) {
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= c - '0';
    } else if (c >= 'A' && c <= 'F') {
      v |= c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      v |= c - 'a' + 10;
    } else {
      return -1;
    }
  }
  return v;
}

// Token texts llama.cpp recognises whatever their declared type (facts from
// llama.cpp's vocabulary loader): the first found names the end-of-turn
// token; all of them end generation and are retyped as control tokens.
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
    "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
    "<end_of_utterance>",
};
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
    "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>",
    "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
    "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
    "[e~[",
};
// Fill-in-the-middle tokens: (pre, suf, mid) become control tokens; (pad,
// rep, sep) also end generation.
struct FimGroup {
  bool eog;
  std::initializer_list<std::string_view> texts;
};
const FimGroup kFimGroups[] = {
    {false, {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
             "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>", "<PRE>",
             "\xE2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>"}},
    {false, {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
             "<\xEF\xBD\x9C" "fim\xE2\x96\x81hole\xEF\xBD\x9C>", "<SUF>",
             "\xE2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>"}},
    {false, {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
             "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>", "<MID>",
             "\xE2\x96\x81<MID>", "<|code_middle|>", "<|middle|>"}},
    {true, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"}},
    {true, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"}},
    {true, {"<|file_sep|>"}},
};

}  // namespace

Result<std::unique_ptr<TokenizerImpl>> TokenizerImpl::Build(TokenizerSpec spec) {
  std::unique_ptr<TokenizerImpl> impl(new TokenizerImpl());
  impl->spec_ = std::move(spec);
  Status st = impl->Init();
  if (!st.ok()) return st.WithContext(impl->spec_.name);
  return impl;
}

Status TokenizerImpl::Init() {
  TokenizerSpec& s = spec_;
  const size_t n = s.tokens.size();
  if (n == 0) return InvalidArgument("tokenizer has no tokens");
  if (n >= static_cast<size_t>(INT32_MAX)) {
    return InvalidArgument("too many tokens: " + std::to_string(n));
  }
  if (!s.scores.empty() && s.scores.size() != n) {
    return InvalidArgument("scores has " + std::to_string(s.scores.size()) +
                           " entries for " + std::to_string(n) + " tokens");
  }
  if (!s.types.empty() && s.types.size() != n) {
    return InvalidArgument("token_type has " + std::to_string(s.types.size()) +
                           " entries for " + std::to_string(n) + " tokens");
  }
  if (s.algorithm == Algorithm::kSpmScores && s.scores.empty()) {
    s.scores.assign(n, 0.0f);
  }
  types_ = s.types;
  if (types_.empty()) types_.assign(n, TokenType::kNormal);
  for (size_t i = 0; i < n; ++i) {
    if (s.tokens[i].empty()) {
      return InvalidArgument("token " + std::to_string(i) + " is empty");
    }
  }
  const int64_t dup = index_.Build(&s.tokens);
  if (dup >= 0) {
    return InvalidArgument("token " + std::to_string(dup) + " ('" +
                           s.tokens[dup] + "') appears twice in the vocabulary");
  }

  const std::pair<const char*, int32_t*> ids[] = {
      {"bos", &s.special.bos}, {"eos", &s.special.eos},
      {"eot", &s.special.eot}, {"eom", &s.special.eom},
      {"unk", &s.special.unk}, {"pad", &s.special.pad},
      {"sep", &s.special.sep}, {"mask", &s.special.mask}};
  for (const auto& [what, id] : ids) {
    if (*id < -1 || *id >= static_cast<int32_t>(n)) {
      return OutOfRange(std::string(what) + " token id " + std::to_string(*id) +
                        " is outside the vocabulary (" + std::to_string(n) +
                        " tokens)");
    }
  }
  if (s.add_bos && s.special.bos < 0) {
    return InvalidArgument("add_bos_token is set but there is no bos token");
  }
  if (s.add_eos && s.special.eos < 0) {
    return InvalidArgument("add_eos_token is set but there is no eos token");
  }
  for (const TokenStrip& strip : s.strips) {
    if (strip.id < 0 || strip.id >= static_cast<int32_t>(n)) {
      return OutOfRange("added token id " + std::to_string(strip.id) +
                        " is outside the vocabulary");
    }
  }

  SetUpEndOfGeneration();

  // Tokens for lone bytes: the starting symbols of byte-level BPE, and the
  // fallback for characters SentencePiece cannot otherwise encode.
  for (int b = 0; b < 256; ++b) {
    byte_tokens_[b] = -1;
    if (s.algorithm == Algorithm::kByteLevelBpe) {
      std::string t;
      AppendUtf8(ByteToUnicode(static_cast<uint8_t>(b)), &t);
      byte_tokens_[b] = index_.Find(t);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
      byte_tokens_[b] = index_.Find(buf);
      if (byte_tokens_[b] < 0 && s.algorithm == Algorithm::kSpmScores) {
        const char c = static_cast<char>(b);
        byte_tokens_[b] = index_.Find(std::string_view(&c, 1));
      }
    }
  }

  RETURN_IF_ERROR(BuildMerges());
  BuildPieces();
  BuildSpecials();
  auto pt = PreTokenizer::Create(s.splits);
  if (!pt.ok()) return pt.status();
  pretok_ = std::move(pt).value();
  for (const NormRule& r : s.normalizers) {
    if (r.kind == NormKind::kPrepend && r.to == kSpace) strip_prefix_space_ = true;
  }
  if (s.algorithm == Algorithm::kSpmScores && s.add_space_prefix) {
    strip_prefix_space_ = true;
  }
  return Status::Ok();
}

void TokenizerImpl::SetUpEndOfGeneration() {
  TokenizerSpec& s = spec_;
  const size_t n = s.tokens.size();
  const bool llama = s.match_mode == SpecialMatchMode::kLlamaCpp;
  is_eog_.assign(n, 0);
  auto make_control = [&](int32_t id) {
    if (llama && types_[id] != TokenType::kControl && types_[id] != TokenType::kUnknown) {
      types_[id] = TokenType::kControl;
    }
  };
  if (s.special.eot < 0) {
    for (std::string_view t : kEotTexts) {
      const int32_t id = index_.Find(t);
      if (id >= 0) {
        s.special.eot = id;
        make_control(id);
        break;
      }
    }
  }
  if (llama) {
    for (const FimGroup& g : kFimGroups) {
      for (std::string_view t : g.texts) {
        const int32_t id = index_.Find(t);
        if (id < 0) continue;
        make_control(id);
        if (g.eog) is_eog_[id] = 1;
        break;
      }
    }
  }
  for (std::string_view t : kEogTexts) {
    const int32_t id = index_.Find(t);
    if (id < 0) continue;
    is_eog_[id] = 1;
    make_control(id);
  }
  for (int32_t id : {s.special.eos, s.special.eot, s.special.eom}) {
    if (id >= 0) is_eog_[id] = 1;
  }
  if (!llama) return;
  // llama.cpp's exceptions: gpt-oss style vocabularies keep <|end|> (and
  // Gemma 4 style ones keep </s>) out of the end-of-generation set.
  auto eog_id = [&](std::string_view t) {
    const int32_t id = index_.Find(t);
    return (id >= 0 && is_eog_[id]) ? id : -1;
  };
  const int32_t end = eog_id("<|end|>");
  if (end >= 0 && ((eog_id("<|return|>") >= 0 && eog_id("<|call|>") >= 0) ||
                   (eog_id("<|calls|>") >= 0 && eog_id("<|flush|>") >= 0))) {
    is_eog_[end] = 0;
    types_[end] = TokenType::kUserDefined;
  }
  const int32_t s_id = eog_id("</s>");
  if (s_id >= 0 && eog_id("<|tool_response>") >= 0) {
    is_eog_[s_id] = 0;
    types_[s_id] = TokenType::kNormal;
  }
  for (std::string_view t : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
    const int32_t id = index_.Find(t);
    if (id >= 0) types_[id] = TokenType::kUserDefined;
  }
}

Status TokenizerImpl::BuildMerges() {
  const auto& merges = spec_.merges;
  if (merges.empty()) return Status::Ok();
  if (spec_.algorithm == Algorithm::kSpmScores) return Status::Ok();
  if (merges.size() >= static_cast<size_t>(INT32_MAX)) {
    return InvalidArgument("too many merges");
  }
  merges_.Reserve(merges.size());
  std::string joined;
  for (size_t i = 0; i < merges.size(); ++i) {
    const auto& [a, b] = merges[i];
    const int32_t left = index_.Find(a);
    const int32_t right = index_.Find(b);
    joined.assign(a).append(b);
    const int32_t result = index_.Find(joined);
    if (left < 0 || right < 0 || result < 0) {
      const std::string& missing = left < 0 ? a : right < 0 ? b : joined;
      return InvalidArgument("merges[" + std::to_string(i) + "] ('" + a + " " +
                             b + "') refers to unknown token '" + missing + "'");
    }
    merges_.Insert(left, right, static_cast<int32_t>(i), result);
  }
  return Status::Ok();
}

void TokenizerImpl::BuildPieces() {
  const size_t n = spec_.tokens.size();
  pieces_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& text = spec_.tokens[i];
    std::string& piece = pieces_[i];
    const TokenType t = types_[i];
    if (t == TokenType::kControl || t == TokenType::kUnknown ||
        t == TokenType::kUserDefined) {
      piece = text;
      continue;
    }
    const int byte = ParseByteToken(text);
    if (byte >= 0 && (t == TokenType::kByte || spec_.algorithm == Algorithm::kBpe)) {
      piece.assign(1, static_cast<char>(byte));
      continue;
    }
    if (spec_.algorithm == Algorithm::kByteLevelBpe) {
      if (!ByteLevelDecode(text, &piece)) piece = text;
    } else {
      piece = text;
      ReplaceAll(&piece, kSpace, " ");
    }
  }
}

void TokenizerImpl::BuildSpecials() {
  std::vector<SpecialCandidate> cands;
  std::vector<uint8_t> lstrip(spec_.tokens.size()), rstrip(spec_.tokens.size());
  for (const TokenStrip& s : spec_.strips) {
    lstrip[s.id] = s.lstrip;
    rstrip[s.id] = s.rstrip;
  }
  for (size_t i = 0; i < spec_.tokens.size(); ++i) {
    const TokenType t = types_[i];
    if (t != TokenType::kControl && t != TokenType::kUserDefined &&
        t != TokenType::kUnknown) {
      continue;
    }
    cands.push_back({static_cast<int32_t>(i), spec_.tokens[i],
                     t == TokenType::kUserDefined, lstrip[i] != 0,
                     rstrip[i] != 0});
  }
  matcher_ = SpecialMatcher(std::move(cands), spec_.match_mode);
}

}  // namespace silica::tok
