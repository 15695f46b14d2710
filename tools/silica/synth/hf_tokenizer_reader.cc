// LoadHfTokenizer: a Hugging Face tokenizer.json (+ tokenizer_config.json)
// as GGUF tokenizer metadata, the way llama.cpp's converter maps it: ids
// from the BPE vocabulary and the added tokens (special ones CONTROL,
// others USER_DEFINED), merges as "a b", holes as unused "[PAD<id>]", and
// tokenizer.ggml.pre recognised from the pre-tokenizer.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "silica/synth/hf_pretokenizers.h"
#include "silica/synth/tokenizer_source.h"

namespace silica::synth {
namespace {

using Json = nlohmann::json;

Result<Json> ReadJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  Json j = Json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLoss(path + ": not valid JSON");
  return j;
}

bool IsByteLevel(const Json& p, bool use_regex) {
  return p.is_object() && p.value("type", "") == "ByteLevel" &&
         p.value("use_regex", true) == use_regex;
}

// tokenizer.ggml.pre for the pre-tokenizers silica can write back.
Result<std::string> PreFromHf(const Json& pt, const std::string& where) {
  if (IsByteLevel(pt, true)) return std::string("gpt2");
  if (pt.is_object() && pt.value("type", "") == "Sequence") {
    const Json& seq = pt.value("pretokenizers", Json::array());
    if (seq.size() == 2 && seq[0].value("type", "") == "Split" &&
        IsByteLevel(seq[1], false)) {
      const std::string re = seq[0]["pattern"].value("Regex", "");
      if (re == kLlama3SplitRegex) return std::string("llama-bpe");
      if (re == kQwen2SplitRegex) return std::string("qwen2");
    }
    if (seq.size() == 2 && seq[0].value("type", "") == "Digits" &&
        seq[0].value("individual_digits", false) && IsByteLevel(seq[1], true)) {
      return std::string("smollm");
    }
  }
  return Unimplemented(where + ": pre-tokenizer " + pt.dump() +
                       " has no known tokenizer.ggml.pre");
}

// A special-token entry of tokenizer_config.json: a string or an
// AddedToken object ({"content": ...}); empty when absent or null.
std::string TokenField(const Json& cfg, const char* key) {
  if (!cfg.contains(key)) return "";
  const Json& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    return v["content"].get<std::string>();
  }
  return "";
}

// Does the post-processor prepend a special token (BOS)?
bool PostProcessorAddsBos(const Json& pp) {
  if (!pp.is_object()) return false;
  if (pp.value("type", "") == "TemplateProcessing") {
    const Json& single = pp.value("single", Json::array());
    return !single.empty() && single[0].contains("SpecialToken");
  }
  if (pp.value("type", "") == "Sequence") {
    for (const Json& p : pp.value("processors", Json::array())) {
      if (PostProcessorAddsBos(p)) return true;
    }
  }
  return false;
}

Result<TokenizerData> Convert(const Json& tj, const Json& cfg,
                              const std::string& path) {
  TokenizerData t;
  t.source = path;
  t.model = "gpt2";
  const Json& model = tj.value("model", Json::object());
  if (model.value("type", "") != "BPE") {
    return Unimplemented(path +
                         ": only BPE tokenizer.json models are "
                         "supported");
  }
  ASSIGN_OR_RETURN(t.pre, PreFromHf(tj.value("pre_tokenizer", Json()), path));

  std::unordered_map<std::string, int64_t> ids;
  int64_t n = 0;
  auto place = [&](int64_t id, const std::string& text,
                   int32_t type) -> Status {
    if (id < 0 || id > (int64_t{1} << 24)) {
      return DataLoss(path + ": token id " + std::to_string(id) +
                      " is out of range");
    }
    if (id >= n) {
      for (int64_t i = n; i <= id; ++i) {
        t.tokens.push_back("[PAD" + std::to_string(i) + "]");
        t.token_types.push_back(kTokenUnused);
      }
      n = id + 1;
    }
    t.tokens[id] = text;
    t.token_types[id] = type;
    ids.emplace(text, id);
    return Status::Ok();
  };
  const Json& vocab = model.value("vocab", Json::object());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer()) {
      return DataLoss(path + ": vocab entry '" + it.key() + "' is not an id");
    }
    RETURN_IF_ERROR(place(it.value().get<int64_t>(), it.key(), kTokenNormal));
  }
  for (const Json& a : tj.value("added_tokens", Json::array())) {
    if (!a.contains("id") || !a["id"].is_number_integer() ||
        !a.contains("content") || !a["content"].is_string()) {
      return DataLoss(path + ": malformed added token " + a.dump());
    }
    const std::string text = a["content"].get<std::string>();
    // As the converter: special tokens, and ones that look like "<|x|>",
    // are control tokens; the rest are user-defined.
    const bool control = a.value("special", false) ||
                         (text.starts_with("<|") && text.ends_with("|>"));
    RETURN_IF_ERROR(place(a["id"].get<int64_t>(), text,
                          control ? kTokenControl : kTokenUserDefined));
  }
  for (const Json& m : model.value("merges", Json::array())) {
    if (m.is_string()) {
      t.merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() &&
               m[1].is_string()) {
      t.merges.push_back(m[0].get<std::string>() + " " +
                         m[1].get<std::string>());
    } else {
      return DataLoss(path + ": malformed merge " + m.dump());
    }
  }
  auto id_of = [&](const char* key) -> std::optional<uint32_t> {
    const std::string text = TokenField(cfg, key);
    auto it = ids.find(text);
    if (text.empty() || it == ids.end()) return std::nullopt;
    return static_cast<uint32_t>(it->second);
  };
  t.bos_id = id_of("bos_token");
  t.eos_id = id_of("eos_token");
  t.pad_id = id_of("pad_token");
  t.unk_id = id_of("unk_token");
  if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean()) {
    t.add_bos = cfg["add_bos_token"].get<bool>();
  } else {
    t.add_bos = PostProcessorAddsBos(tj.value("post_processor", Json()));
  }
  if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean()) {
    t.add_eos = cfg["add_eos_token"].get<bool>();
  }
  if (cfg.contains("chat_template") && cfg["chat_template"].is_string()) {
    t.chat_template = cfg["chat_template"].get<std::string>();
  }
  return t;
}

}  // namespace

Result<TokenizerData> LoadHfTokenizer(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path file = fs::is_directory(path, ec)
                            ? fs::path(path) / "tokenizer.json"
                            : fs::path(path);
  ASSIGN_OR_RETURN(const Json tj, ReadJson(file.string()));
  Json cfg = Json::object();
  const fs::path cfg_path = file.parent_path() / "tokenizer_config.json";
  if (fs::exists(cfg_path, ec)) {
    ASSIGN_OR_RETURN(cfg, ReadJson(cfg_path.string()));
  }
  try {  // nlohmann throws on type mismatches the checks above missed
    return Convert(tj, cfg, file.string());
  } catch (const Json::exception& e) {
    return DataLoss(file.string() + ": unexpected JSON: " + e.what());
  }
}

}  // namespace silica::synth
