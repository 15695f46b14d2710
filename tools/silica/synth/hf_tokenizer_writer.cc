#include "silica/synth/hf_tokenizer_writer.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_set>
#include <utility>

#include "silica/synth/hf_pretokenizers.h"

namespace silica::synth {
namespace {

// Plain (sorted-key) JSON: ordered_json looks keys up linearly, far too slow
// for a 150k-token vocabulary, and key order means nothing to readers.
using Json = nlohmann::json;

Json ByteLevel(bool add_prefix_space, bool trim_offsets, bool use_regex) {
  return Json{{"type", "ByteLevel"},
              {"add_prefix_space", add_prefix_space},
              {"trim_offsets", trim_offsets},
              {"use_regex", use_regex}};
}

Json Split(const char* regex) {
  return Json{{"type", "Split"},
              {"pattern", {{"Regex", regex}}},
              {"behavior", "Isolated"},
              {"invert", false}};
}

struct PreTokenizerSetup {
  Json normalizer;  // null when none
  Json pre_tokenizer;
  Json decoder;
  bool ignore_merges = false;
};

Result<PreTokenizerSetup> SetupFor(const std::string& pre) {
  PreTokenizerSetup s;
  if (pre == "qwen2" || pre == "deepseek-r1-qwen") {
    s.normalizer = Json{{"type", "NFC"}};
    s.pre_tokenizer =
        Json{{"type", "Sequence"},
             {"pretokenizers", Json::array({Split(kQwen2SplitRegex),
                                            ByteLevel(false, false, false)})}};
    s.decoder = ByteLevel(false, false, false);
  } else if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") {
    s.pre_tokenizer =
        Json{{"type", "Sequence"},
             {"pretokenizers", Json::array({Split(kLlama3SplitRegex),
                                            ByteLevel(false, true, false)})}};
    s.decoder = ByteLevel(true, true, true);
    s.ignore_merges = true;  // llama.cpp sets it for this type too
  } else if (pre == "smollm") {
    // Single digits, then GPT-2's regex (ByteLevel's built-in one).
    s.pre_tokenizer = Json{
        {"type", "Sequence"},
        {"pretokenizers",
         Json::array({Json{{"type", "Digits"}, {"individual_digits", true}},
                      ByteLevel(false, true, true)})}};
    s.decoder = ByteLevel(true, true, true);
  } else if (pre == "gpt2" || pre == "default") {
    s.pre_tokenizer = ByteLevel(false, true, true);
    s.decoder = ByteLevel(true, true, true);
  } else {
    return Unimplemented(
        "no Hugging Face pre-tokenizer is known for "
        "tokenizer.ggml.pre '" +
        pre + "'");
  }
  return s;
}

bool IsAdded(int32_t type) {
  return type == kTokenControl || type == kTokenUserDefined;
}

std::optional<std::string> TokenText(const TokenizerData& t,
                                     const std::optional<uint32_t>& id) {
  if (!id) return std::nullopt;
  return t.tokens[*id];
}

Json TextOrNull(const std::optional<std::string>& s) {
  return s ? Json(*s) : Json(nullptr);
}

Result<std::string> Dump(const Json& j) {
  try {
    return j.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("cannot encode JSON: ") + e.what());
  }
}

}  // namespace

Result<std::string> HfTokenizerJson(const TokenizerData& tok) {
  ASSIGN_OR_RETURN(PreTokenizerSetup setup, SetupFor(tok.pre));
  Json added = Json::array();
  Json vocab = Json::object();
  std::unordered_set<std::string> seen;
  for (size_t id = 0; id < tok.tokens.size(); ++id) {
    if (tok.IsPadding(id)) continue;
    const std::string& text = tok.tokens[id];
    if (IsAdded(tok.token_types[id])) {
      added.push_back(Json{{"id", id},
                           {"content", text},
                           {"single_word", false},
                           {"lstrip", false},
                           {"rstrip", false},
                           {"normalized", false},
                           {"special", tok.token_types[id] == kTokenControl}});
    }
    // A text listed twice keeps its first id (a JSON object cannot hold
    // both; llama.cpp's lookup also finds the first).
    if (seen.insert(text).second) vocab[text] = id;
  }
  Json merges = Json::array();
  for (const std::string& m : tok.merges) {
    // GGUF joins the pair with a space; the left part is never empty, so
    // the separator is the first space after position 0 (as llama.cpp).
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos) {
      return DataLoss(tok.source + ": merge '" + m + "' has no separator");
    }
    merges.push_back(Json::array({m.substr(0, sp), m.substr(sp + 1)}));
  }

  Json post = ByteLevel(true, false, true);
  if (tok.add_bos.value_or(false) && tok.bos_id) {
    const std::string bos = tok.tokens[*tok.bos_id];
    const Json bos_a = {{"SpecialToken", {{"id", bos}, {"type_id", 0}}}};
    const Json bos_b = {{"SpecialToken", {{"id", bos}, {"type_id", 1}}}};
    const Json a = {{"Sequence", {{"id", "A"}, {"type_id", 0}}}};
    const Json b = {{"Sequence", {{"id", "B"}, {"type_id", 1}}}};
    Json tp = {{"type", "TemplateProcessing"},
               {"single", Json::array({bos_a, a})},
               {"pair", Json::array({bos_a, a, bos_b, b})},
               {"special_tokens",
                {{bos,
                  {{"id", bos},
                   {"ids", Json::array({*tok.bos_id})},
                   {"tokens", Json::array({bos})}}}}}};
    post = Json{{"type", "Sequence"},
                {"processors", Json::array({post, std::move(tp)})}};
  }

  Json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = std::move(added);
  j["normalizer"] = std::move(setup.normalizer);
  j["pre_tokenizer"] = std::move(setup.pre_tokenizer);
  j["post_processor"] = std::move(post);
  j["decoder"] = std::move(setup.decoder);
  j["model"] = Json{{"type", "BPE"},
                    {"dropout", nullptr},
                    {"unk_token", TextOrNull(TokenText(tok, tok.unk_id))},
                    {"continuing_subword_prefix", nullptr},
                    {"end_of_word_suffix", nullptr},
                    {"fuse_unk", false},
                    {"byte_fallback", false},
                    {"ignore_merges", setup.ignore_merges},
                    {"vocab", std::move(vocab)},
                    {"merges", std::move(merges)}};
  return Dump(j);
}

Result<std::string> HfTokenizerConfigJson(const TokenizerData& tok,
                                          int64_t model_max_length) {
  Json decoder = Json::object();
  for (size_t id = 0; id < tok.tokens.size(); ++id) {
    if (tok.IsPadding(id) || !IsAdded(tok.token_types[id])) continue;
    decoder[std::to_string(id)] =
        Json{{"content", tok.tokens[id]},
             {"lstrip", false},
             {"normalized", false},
             {"rstrip", false},
             {"single_word", false},
             {"special", tok.token_types[id] == kTokenControl}};
  }
  Json j;
  j["add_bos_token"] = tok.add_bos.value_or(false);
  j["add_eos_token"] = tok.add_eos.value_or(false);
  j["added_tokens_decoder"] = std::move(decoder);
  j["bos_token"] = TextOrNull(TokenText(tok, tok.bos_id));
  if (!tok.chat_template.empty()) j["chat_template"] = tok.chat_template;
  j["clean_up_tokenization_spaces"] = false;
  j["eos_token"] = TextOrNull(TokenText(tok, tok.eos_id));
  j["model_max_length"] = model_max_length;
  j["pad_token"] = TextOrNull(TokenText(tok, tok.pad_id));
  j["tokenizer_class"] = "PreTrainedTokenizerFast";
  j["unk_token"] = TextOrNull(TokenText(tok, tok.unk_id));
  return Dump(j);
}

Status WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return IoError(path + ": cannot open for writing");
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return IoError(path + ": write failed");
  return Status::Ok();
}

}  // namespace silica::synth
