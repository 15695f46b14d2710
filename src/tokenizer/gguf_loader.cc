// Tokenizer::FromGguf: reads tokenizer.ggml.* metadata the way llama.cpp
// does (defaults, pre-tokenizer names, end-of-turn detection), so token ids
// match llama.cpp's for the same file.
#include <string>

#include "io/gguf.h"
#include "tokenizer/spec.h"
#include "tokenizer/tokenizer.h"

namespace silica {
namespace {

using tok::BuiltinPattern;
using tok::SplitRule;

SplitRule Builtin(BuiltinPattern p) { return SplitRule{p, {}, {}, false}; }
SplitRule Regex(std::string re) {
  return SplitRule{BuiltinPattern::kNone, std::move(re), {}, false};
}

bool OneOf(std::string_view s, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (s == n) return true;
  }
  return false;
}

// The pre-tokenizer llama.cpp uses for a tokenizer.ggml.pre name.
Status ConfigurePre(const std::string& pre, tok::TokenizerSpec* spec) {
  auto& r = spec->splits;
  if (pre.empty() || pre == "default") {
    r = {Regex(R"([\p{P}\$\+<=>\^~\|]+)"), Builtin(BuiltinPattern::kGpt2),
         Regex(R"(\p{N}+)"), Regex("[0-9][0-9][0-9]")};
  } else if (OneOf(pre, {"llama3", "llama-v3", "llama-bpe", "falcon3",
                         "falcon-h1", "pixtral", "midm-2.0", "lfm2"})) {
    r = {Builtin(BuiltinPattern::kLlama3)};
    spec->ignore_merges = true;
    spec->add_bos = true;
  } else if (OneOf(pre, {"dbrx", "smaug-bpe", "chatglm-bpe"})) {
    r = {Builtin(BuiltinPattern::kLlama3)};
  } else if (OneOf(pre, {"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat",
                         "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
                         "modern-bert", "mpt", "olmo", "jais", "trillion",
                         "granite-docling", "jina-v1-en", "jina-v2-code",
                         "roberta-bpe"})) {
    r = {Builtin(BuiltinPattern::kGpt2)};
  } else if (OneOf(pre, {"smollm", "starcoder", "refact", "command-r",
                         "codeshell", "exaone", "minerva-7b"})) {
    r = {Builtin(BuiltinPattern::kDigits), Builtin(BuiltinPattern::kGpt2)};
  } else if (OneOf(pre, {"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2",
                         "stablelm2", "hunyuan", "solar-open"})) {
    r = {Builtin(BuiltinPattern::kQwen2)};
  } else if (pre == "qwen35") {
    r = {Regex(R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)")};
  } else if (pre == "deepseek-v3") {
    r = {Regex(R"(\p{N}{1,3})"), Regex("[一-龥぀-ゟ゠-ヿ]+"),
         Regex(R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)")};
  } else if (OneOf(pre, {"gpt-4o", "minimax-m2"})) {
    r = {Regex(R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)")};
  } else if (pre == "tekken") {
    r = {Regex(R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)")};
    spec->ignore_merges = true;
    spec->add_bos = true;
  } else {
    return Unimplemented("unsupported pre-tokenizer tokenizer.ggml.pre = '" +
                         pre + "'");
  }
  return Status::Ok();
}

// Optional special-token id: absent leaves `*id` as it is.
Status ReadId(const GgufFile& f, std::string_view key, int32_t* id) {
  if (f.Find(key) == nullptr) return Status::Ok();
  auto v = f.GetUint(key);
  if (!v.ok()) return v.status().WithContext(std::string(key));
  if (*v >= static_cast<uint64_t>(INT32_MAX)) {
    return OutOfRange(std::string(key) + " = " + std::to_string(*v) +
                      " is not a token id");
  }
  *id = static_cast<int32_t>(*v);
  return Status::Ok();
}

Status ReadBool(const GgufFile& f, std::string_view key, bool* value) {
  if (f.Find(key) == nullptr) return Status::Ok();
  auto v = f.GetBool(key);
  if (!v.ok()) return v.status().WithContext(std::string(key));
  *value = *v;
  return Status::Ok();
}

Status Fill(const GgufFile& f, tok::TokenizerSpec* spec) {
  ASSIGN_OR_RETURN(const std::string model, f.GetString("tokenizer.ggml.model"));
  std::string pre;
  if (f.Find("tokenizer.ggml.pre") != nullptr) {
    ASSIGN_OR_RETURN(pre, f.GetString("tokenizer.ggml.pre"));
  }
  ASSIGN_OR_RETURN(spec->tokens, f.GetStringArray("tokenizer.ggml.tokens"));
  const size_t n = spec->tokens.size();
  for (size_t i = 0; i < n; ++i) {
    // llama.cpp renames empty tokens rather than rejecting the file.
    if (spec->tokens[i].empty()) spec->tokens[i] = "[EMPTY_" + std::to_string(i) + "]";
  }

  if (const GgufValue* v = f.Find("tokenizer.ggml.scores")) {
    const GgufArray* arr = v->array();
    if (arr != nullptr && arr->elem_type == GgufType::kInt32) {
      ASSIGN_OR_RETURN(auto ints, f.GetI32Array("tokenizer.ggml.scores"));
      spec->scores.assign(ints.begin(), ints.end());
    } else {
      ASSIGN_OR_RETURN(spec->scores, f.GetF32Array("tokenizer.ggml.scores"));
    }
    if (spec->scores.size() < n) {
      return InvalidArgument("tokenizer.ggml.scores has " +
                             std::to_string(spec->scores.size()) +
                             " entries for " + std::to_string(n) + " tokens");
    }
    spec->scores.resize(n);
  }
  if (f.Find("tokenizer.ggml.token_type") != nullptr) {
    ASSIGN_OR_RETURN(auto types, f.GetI32Array("tokenizer.ggml.token_type"));
    if (types.size() < n) {
      return InvalidArgument("tokenizer.ggml.token_type has " +
                             std::to_string(types.size()) + " entries for " +
                             std::to_string(n) + " tokens");
    }
    spec->types.resize(n);
    for (size_t i = 0; i < n; ++i) {
      spec->types[i] = (types[i] >= 1 && types[i] <= 6)
                           ? static_cast<TokenType>(types[i])
                           : TokenType::kUndefined;
    }
  }

  SpecialTokenIds& sp = spec->special;
  if (model == "llama") {
    spec->algorithm = tok::Algorithm::kSpmScores;
    sp.bos = 1;
    sp.eos = 2;
    sp.unk = 0;
    spec->add_bos = true;
    spec->add_space_prefix = true;
  } else if (model == "gpt2") {
    spec->algorithm = tok::Algorithm::kByteLevelBpe;
    sp.bos = 11;
    sp.eos = 11;
    RETURN_IF_ERROR(ConfigurePre(pre, spec));
    ASSIGN_OR_RETURN(auto merges, f.GetStringArray("tokenizer.ggml.merges"));
    spec->merges.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      const size_t sp_pos = merges[i].find(' ', 1);
      if (sp_pos == std::string::npos) {
        return InvalidArgument("tokenizer.ggml.merges[" + std::to_string(i) +
                               "] ('" + merges[i] + "') has no space");
      }
      spec->merges.emplace_back(merges[i].substr(0, sp_pos),
                                merges[i].substr(sp_pos + 1));
    }
  } else {
    return Unimplemented("unsupported tokenizer.ggml.model = '" + model + "'");
  }
  // Defaults that do not fit the vocabulary are dropped, as llama.cpp does;
  // ids stated in the file must fit.
  for (int32_t* id : {&sp.bos, &sp.eos, &sp.unk}) {
    if (*id >= static_cast<int32_t>(n)) *id = -1;
  }
  RETURN_IF_ERROR(ReadId(f, "tokenizer.ggml.bos_token_id", &sp.bos));
  RETURN_IF_ERROR(ReadId(f, "tokenizer.ggml.eos_token_id", &sp.eos));
  RETURN_IF_ERROR(ReadId(f, "tokenizer.ggml.eot_token_id", &sp.eot));
  RETURN_IF_ERROR(ReadId(f, "tokenizer.ggml.eom_token_id", &sp.eom));
  RETURN_IF_ERROR(ReadId(f, "tokenizer.ggml.unknown_token_id", &sp.unk));
  RETURN_IF_ERROR(ReadId(f, "tokenizer.ggml.seperator_token_id", &sp.sep));
  RETURN_IF_ERROR(ReadId(f, "tokenizer.ggml.padding_token_id", &sp.pad));
  RETURN_IF_ERROR(ReadId(f, "tokenizer.ggml.mask_token_id", &sp.mask));
  RETURN_IF_ERROR(ReadBool(f, "tokenizer.ggml.add_bos_token", &spec->add_bos));
  RETURN_IF_ERROR(ReadBool(f, "tokenizer.ggml.add_eos_token", &spec->add_eos));
  if (spec->algorithm == tok::Algorithm::kSpmScores) {
    RETURN_IF_ERROR(
        ReadBool(f, "tokenizer.ggml.add_space_prefix", &spec->add_space_prefix));
    bool remove_extra_ws = false;
    RETURN_IF_ERROR(ReadBool(f, "tokenizer.ggml.remove_extra_whitespaces",
                             &remove_extra_ws));
    if (remove_extra_ws) {
      return Unimplemented("tokenizer.ggml.remove_extra_whitespaces is not supported");
    }
  }
  if (f.Find("tokenizer.chat_template") != nullptr) {
    ASSIGN_OR_RETURN(spec->chat_template, f.GetString("tokenizer.chat_template"));
  }
  spec->match_mode = tok::SpecialMatchMode::kLlamaCpp;
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromGguf(const GgufFile& gguf) {
  tok::TokenizerSpec spec;
  spec.name = gguf.name();
  Status st = Fill(gguf, &spec);
  if (!st.ok()) return st.WithContext(gguf.name());
  return FromSpec(std::move(spec));
}

}  // namespace silica
