// Tokenizer::FromHfJson: Hugging Face tokenizer.json (model type BPE) plus
// tokenizer_config.json for special tokens, add_bos/eos and the chat
// template. The JSON is untrusted: every field is type-checked and any
// nlohmann exception is turned into a Status naming the file.
#include <nlohmann/json.hpp>

#include <string>

#include "core/mapped_file.h"
#include "tokenizer/spec.h"
#include "tokenizer/tokenizer.h"

namespace silica {
namespace {

using json = nlohmann::json;
using tok::BuiltinPattern;
using tok::SplitBehavior;
using tok::SplitRule;

// The regexes of the families we know, as they appear in tokenizer.json.
constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

Status Bad(const std::string& what) { return InvalidArgument(what); }

Result<std::string> GetString(const json& obj, const char* key,
                              const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return Bad(where + "." + key + " must be a string");
  }
  return it->get<std::string>();
}

bool GetBool(const json& obj, const char* key, bool def) {
  auto it = obj.find(key);
  return (it != obj.end() && it->is_boolean()) ? it->get<bool>() : def;
}

std::string QuoteRegex(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

Result<SplitBehavior> ParseBehavior(const json& pt) {
  auto it = pt.find("behavior");
  if (it == pt.end() || !it->is_string()) {
    return Bad("pre_tokenizer Split needs a behavior");
  }
  const std::string b = it->get<std::string>();
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  return Bad("unknown Split behavior '" + b + "'");
}

Status AddNormalizer(const json& n, tok::TokenizerSpec* spec) {
  if (n.is_null()) return Status::Ok();
  if (!n.is_object()) return Bad("normalizer must be an object");
  ASSIGN_OR_RETURN(const std::string type, GetString(n, "type", "normalizer"));
  if (type == "Sequence") {
    auto it = n.find("normalizers");
    if (it == n.end() || !it->is_array()) return Bad("normalizer Sequence needs normalizers");
    for (const json& sub : *it) RETURN_IF_ERROR(AddNormalizer(sub, spec));
  } else if (type == "NFC") {
    spec->normalizers.push_back({tok::NormKind::kNfc, {}, {}});
  } else if (type == "NFKC") {
    spec->normalizers.push_back({tok::NormKind::kNfkc, {}, {}});
  } else if (type == "Lowercase") {
    spec->normalizers.push_back({tok::NormKind::kLowercase, {}, {}});
  } else if (type == "Prepend") {
    ASSIGN_OR_RETURN(std::string p, GetString(n, "prepend", "normalizer"));
    spec->normalizers.push_back({tok::NormKind::kPrepend, {}, std::move(p)});
  } else if (type == "Replace") {
    auto pat = n.find("pattern");
    if (pat == n.end() || !pat->is_object() || !pat->contains("String") ||
        !(*pat)["String"].is_string()) {
      return Unimplemented("normalizer Replace supports only a String pattern");
    }
    ASSIGN_OR_RETURN(std::string content, GetString(n, "content", "normalizer"));
    spec->normalizers.push_back(
        {tok::NormKind::kReplace, (*pat)["String"].get<std::string>(), content});
  } else {
    return Unimplemented("normalizer type '" + type + "'");
  }
  return Status::Ok();
}

Status AddPreTokenizer(const json& pt, tok::TokenizerSpec* spec, bool* byte_level) {
  if (pt.is_null()) return Status::Ok();
  if (!pt.is_object()) return Bad("pre_tokenizer must be an object");
  ASSIGN_OR_RETURN(const std::string type, GetString(pt, "type", "pre_tokenizer"));
  if (type == "Sequence") {
    auto it = pt.find("pretokenizers");
    if (it == pt.end() || !it->is_array()) {
      return Bad("pre_tokenizer Sequence needs pretokenizers");
    }
    for (const json& sub : *it) RETURN_IF_ERROR(AddPreTokenizer(sub, spec, byte_level));
  } else if (type == "ByteLevel") {
    *byte_level = true;
    spec->byte_level_add_prefix_space = GetBool(pt, "add_prefix_space", true);
    if (GetBool(pt, "use_regex", true)) {
      spec->splits.push_back({BuiltinPattern::kGpt2, {}, SplitBehavior::kIsolated, false});
    }
  } else if (type == "Digits") {
    if (GetBool(pt, "individual_digits", false)) {
      spec->splits.push_back({BuiltinPattern::kDigits, {}, SplitBehavior::kIsolated, false});
    } else {
      spec->splits.push_back({BuiltinPattern::kNone, R"(\p{N}+)",
                              SplitBehavior::kIsolated, false});
    }
  } else if (type == "Split") {
    auto pat = pt.find("pattern");
    if (pat == pt.end() || !pat->is_object()) return Bad("pre_tokenizer Split needs a pattern");
    SplitRule rule;
    ASSIGN_OR_RETURN(rule.behavior, ParseBehavior(pt));
    rule.invert = GetBool(pt, "invert", false);
    if (pat->contains("Regex") && (*pat)["Regex"].is_string()) {
      rule.regex = (*pat)["Regex"].get<std::string>();
    } else if (pat->contains("String") && (*pat)["String"].is_string()) {
      rule.regex = QuoteRegex((*pat)["String"].get<std::string>());
    } else {
      return Bad("pre_tokenizer Split pattern must be Regex or String");
    }
    if (rule.behavior == SplitBehavior::kIsolated && !rule.invert) {
      if (rule.regex == kGpt2Regex) rule.builtin = BuiltinPattern::kGpt2;
      if (rule.regex == kLlama3Regex) rule.builtin = BuiltinPattern::kLlama3;
      if (rule.regex == kQwen2Regex) rule.builtin = BuiltinPattern::kQwen2;
    }
    spec->splits.push_back(std::move(rule));
  } else if (type == "Metaspace") {
    std::string rep = "\xE2\x96\x81";
    if (pt.contains("replacement") && pt["replacement"].is_string()) {
      rep = pt["replacement"].get<std::string>();
    }
    std::string scheme = "always";
    if (pt.contains("prepend_scheme") && pt["prepend_scheme"].is_string()) {
      scheme = pt["prepend_scheme"].get<std::string>();
    } else if (!GetBool(pt, "add_prefix_space", true)) {
      scheme = "never";
    }
    spec->normalizers.push_back({tok::NormKind::kReplace, " ", rep});
    if (scheme != "never") spec->normalizers.push_back({tok::NormKind::kPrepend, {}, rep});
    if (GetBool(pt, "split", true)) {
      spec->splits.push_back({BuiltinPattern::kNone, QuoteRegex(rep),
                              SplitBehavior::kMergedWithNext, false});
    }
  } else {
    return Unimplemented("pre_tokenizer type '" + type + "'");
  }
  return Status::Ok();
}

// A special token named in tokenizer_config.json: "text" or {"content": ...}.
std::optional<std::string> ConfigToken(const json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    return (*it)["content"].get<std::string>();
  }
  return std::nullopt;
}

Status Fill(const json& tj, const json& cfg, tok::TokenizerSpec* spec) {
  if (!tj.is_object()) return Bad("top level must be an object");
  auto model_it = tj.find("model");
  if (model_it == tj.end() || !model_it->is_object()) return Bad("missing model");
  const json& model = *model_it;
  if (model.contains("type") && model["type"] != "BPE") {
    return Unimplemented("model type " + model["type"].dump() + " (only BPE)");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && model[key].is_string() &&
        !model[key].get<std::string>().empty()) {
      return Unimplemented(std::string("model.") + key);
    }
  }
  auto vocab_it = model.find("vocab");
  if (vocab_it == model.end() || !vocab_it->is_object()) return Bad("model.vocab must be an object");

  // Ids must be dense: [0, n) from the vocab and the added tokens together.
  std::vector<std::string> tokens;
  std::vector<uint8_t> seen;
  const auto added_it = tj.find("added_tokens");
  // Dense ids can never exceed the number of entries; checking that first
  // keeps a hostile id from allocating a huge table.
  const int64_t limit = static_cast<int64_t>(vocab_it->size()) +
                        (added_it != tj.end() && added_it->is_array()
                             ? static_cast<int64_t>(added_it->size())
                             : 0);
  auto place = [&](int64_t id, const std::string& text, const char* where) -> Status {
    if (id < 0 || id >= limit) {
      return OutOfRange(std::string(where) + ": token '" + text + "' has id " +
                        std::to_string(id) + " out of range");
    }
    if (static_cast<size_t>(id) >= tokens.size()) {
      tokens.resize(id + 1);
      seen.resize(id + 1);
    }
    if (seen[id] && tokens[id] != text) {
      return Bad(std::string(where) + ": id " + std::to_string(id) +
                 " is used by both '" + tokens[id] + "' and '" + text + "'");
    }
    tokens[id] = text;
    seen[id] = 1;
    return Status::Ok();
  };
  for (auto it = vocab_it->begin(); it != vocab_it->end(); ++it) {
    if (!it.value().is_number_integer()) return Bad("model.vocab['" + it.key() + "'] is not an integer");
    RETURN_IF_ERROR(place(it.value().get<int64_t>(), it.key(), "model.vocab"));
  }
  std::vector<std::pair<int32_t, bool>> added;  // id, special
  if (added_it != tj.end() && added_it->is_array()) {
    for (const json& t : *added_it) {
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer()) {
        return Bad("added_tokens entry without an integer id");
      }
      ASSIGN_OR_RETURN(std::string content, GetString(t, "content", "added_tokens"));
      const int64_t id = t["id"].get<int64_t>();
      RETURN_IF_ERROR(place(id, content, "added_tokens"));
      added.push_back({static_cast<int32_t>(id), GetBool(t, "special", false)});
      spec->strips.push_back({static_cast<int32_t>(id), GetBool(t, "lstrip", false),
                              GetBool(t, "rstrip", false)});
    }
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) return Bad("token id " + std::to_string(i) + " is missing from the vocabulary");
  }
  spec->tokens = std::move(tokens);
  spec->types.assign(spec->tokens.size(), TokenType::kNormal);
  for (const auto& [id, special] : added) {
    spec->types[id] = special ? TokenType::kControl : TokenType::kUserDefined;
  }

  if (auto mit = model.find("merges"); mit != model.end()) {
    if (!mit->is_array()) return Bad("model.merges must be an array");
    spec->merges.reserve(mit->size());
    size_t i = 0;
    for (const json& m : *mit) {
      if (m.is_string()) {
        const std::string s = m.get<std::string>();
        const size_t sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
          return Bad("model.merges[" + std::to_string(i) + "] ('" + s +
                     "') is not two tokens separated by one space");
        }
        spec->merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        spec->merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        return Bad("model.merges[" + std::to_string(i) + "] is malformed");
      }
      ++i;
    }
  }
  spec->ignore_merges = GetBool(model, "ignore_merges", false);
  spec->byte_fallback = GetBool(model, "byte_fallback", false);

  if (auto n = tj.find("normalizer"); n != tj.end()) RETURN_IF_ERROR(AddNormalizer(*n, spec));
  bool byte_level = false;
  if (auto p = tj.find("pre_tokenizer"); p != tj.end()) {
    RETURN_IF_ERROR(AddPreTokenizer(*p, spec, &byte_level));
  }
  if (auto d = tj.find("decoder"); d != tj.end() && d->is_object() &&
                                   d->value("type", "") == "ByteLevel") {
    byte_level = true;
  }
  spec->algorithm = byte_level ? tok::Algorithm::kByteLevelBpe : tok::Algorithm::kBpe;
  if (!byte_level) {
    for (size_t i = 0; i < spec->tokens.size(); ++i) {
      const std::string& t = spec->tokens[i];
      if (spec->types[i] == TokenType::kNormal && t.size() == 6 &&
          t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        spec->types[i] = TokenType::kByte;
      }
    }
  }

  // Special tokens: tokenizer_config.json names them by text.
  auto find_id = [&](const std::string& text) -> int32_t {
    for (size_t i = 0; i < spec->tokens.size(); ++i) {
      if (spec->tokens[i] == text) return static_cast<int32_t>(i);
    }
    return -1;
  };
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    spec->special.unk = find_id(model["unk_token"].get<std::string>());
  }
  if (cfg.is_object()) {
    const std::pair<const char*, int32_t*> named[] = {
        {"bos_token", &spec->special.bos}, {"eos_token", &spec->special.eos},
        {"unk_token", &spec->special.unk}, {"pad_token", &spec->special.pad},
        {"sep_token", &spec->special.sep}, {"mask_token", &spec->special.mask}};
    for (const auto& [key, id] : named) {
      if (auto text = ConfigToken(cfg, key)) {
        *id = find_id(*text);
        if (*id < 0) return Bad(std::string("tokenizer_config.json: ") + key + " '" +
                                *text + "' is not in the vocabulary");
      }
    }
    spec->add_bos = GetBool(cfg, "add_bos_token", false);
    spec->add_eos = GetBool(cfg, "add_eos_token", false);
    if (auto ct = cfg.find("chat_template"); ct != cfg.end()) {
      if (ct->is_string()) {
        spec->chat_template = ct->get<std::string>();
      } else if (ct->is_array()) {
        for (const json& t : *ct) {
          if (t.is_object() && t.value("name", "") == "default" &&
              t.contains("template") && t["template"].is_string()) {
            spec->chat_template = t["template"].get<std::string>();
          }
        }
      }
    }
  }
  if (spec->add_bos && spec->special.bos < 0) spec->add_bos = false;
  if (spec->add_eos && spec->special.eos < 0) spec->add_eos = false;
  spec->match_mode = tok::SpecialMatchMode::kLeftmostLongest;
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromHfJson(
    std::string_view tokenizer_json, std::string_view tokenizer_config_json,
    std::string name) {
  tok::TokenizerSpec spec;
  spec.name = name;
  try {
    const json tj = json::parse(tokenizer_json, nullptr, false);
    if (tj.is_discarded()) return InvalidArgument(name + ": not valid JSON");
    json cfg;
    if (!tokenizer_config_json.empty()) {
      cfg = json::parse(tokenizer_config_json, nullptr, false);
      if (cfg.is_discarded()) {
        return InvalidArgument(name + ": tokenizer_config.json is not valid JSON");
      }
    }
    Status st = Fill(tj, cfg, &spec);
    if (!st.ok()) return st.WithContext(name);
  } catch (const std::exception& e) {
    return InvalidArgument(name + ": " + e.what());
  }
  return FromSpec(std::move(spec));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromHfDir(const std::string& dir) {
  const std::string path = dir + "/tokenizer.json";
  ASSIGN_OR_RETURN(std::string tj, ReadFileToString(path));
  std::string cfg;
  auto cfg_or = ReadFileToString(dir + "/tokenizer_config.json");
  if (cfg_or.ok()) cfg = std::move(cfg_or).value();
  return FromHfJson(tj, cfg, path);
}

}  // namespace silica
