#include "silica/synth/tokenizer_source.h"

#include <filesystem>
#include <memory>
#include <utility>

#include "io/gguf.h"

namespace silica::synth {
namespace {

// UTF-8 bytes of code point `cp` (< 0x800 is all the byte map needs).
std::string Utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xc0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return s;
}

// GPT-2's byte-level alphabet: printable Latin-1 bytes stand for
// themselves, the other bytes (in increasing order) for U+0100 onwards,
// so every byte is a visible character ("Ġ" is the space).
std::string ByteToken(int b) {
  auto printable = [](int c) {
    return (c >= 0x21 && c <= 0x7e) || (c >= 0xa1 && c <= 0xac) ||
           (c >= 0xae && c <= 0xff);
  };
  if (printable(b)) return Utf8(static_cast<uint32_t>(b));
  int n = 0;
  for (int c = 0; c < b; ++c) n += printable(c) ? 0 : 1;
  return Utf8(256u + static_cast<uint32_t>(n));
}

template <typename T>
Result<std::optional<T>> Optional(Result<T> r) {
  if (r.ok()) return std::optional<T>(std::move(r).value());
  if (r.status().code() == StatusCode::kNotFound) {
    return std::optional<T>();
  }
  return r.status();
}

}  // namespace

Result<TokenizerData> LoadGgufTokenizer(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::Open(path));
  TokenizerData t;
  t.source = path;
  ASSIGN_OR_RETURN(t.model, f->GetString("tokenizer.ggml.model"));
  if (t.model != "gpt2") {
    return Unimplemented(path + ": tokenizer.ggml.model is '" + t.model +
                         "'; only BPE ('gpt2') vocabularies are supported");
  }
  ASSIGN_OR_RETURN(auto pre, Optional(f->GetString("tokenizer.ggml.pre")));
  t.pre = pre.value_or("default");
  ASSIGN_OR_RETURN(t.tokens, f->GetStringArray("tokenizer.ggml.tokens"));
  ASSIGN_OR_RETURN(auto types,
                   Optional(f->GetI32Array("tokenizer.ggml.token_type")));
  t.token_types =
      types.value_or(std::vector<int32_t>(t.tokens.size(), kTokenNormal));
  if (t.token_types.size() != t.tokens.size()) {
    return DataLoss(path + ": " + std::to_string(t.token_types.size()) +
                    " token types for " + std::to_string(t.tokens.size()) +
                    " tokens");
  }
  ASSIGN_OR_RETURN(t.merges, f->GetStringArray("tokenizer.ggml.merges"));
  auto id = [&](const char* key) -> Result<std::optional<uint32_t>> {
    ASSIGN_OR_RETURN(auto v, Optional(f->GetUint(key)));
    if (v && *v >= t.tokens.size()) {
      return DataLoss(path + ": " + key + " " + std::to_string(*v) +
                      " is not a token id");
    }
    if (!v) return std::optional<uint32_t>();
    return std::optional<uint32_t>(static_cast<uint32_t>(*v));
  };
  ASSIGN_OR_RETURN(t.bos_id, id("tokenizer.ggml.bos_token_id"));
  ASSIGN_OR_RETURN(t.eos_id, id("tokenizer.ggml.eos_token_id"));
  ASSIGN_OR_RETURN(t.pad_id, id("tokenizer.ggml.padding_token_id"));
  ASSIGN_OR_RETURN(t.unk_id, id("tokenizer.ggml.unknown_token_id"));
  ASSIGN_OR_RETURN(t.add_bos,
                   Optional(f->GetBool("tokenizer.ggml.add_bos_token")));
  ASSIGN_OR_RETURN(t.add_eos,
                   Optional(f->GetBool("tokenizer.ggml.add_eos_token")));
  ASSIGN_OR_RETURN(auto tmpl,
                   Optional(f->GetString("tokenizer.chat_template")));
  t.chat_template = tmpl.value_or("");
  return t;
}

Result<TokenizerData> LoadTokenizerFile(const std::string& path) {
  if (path.ends_with(".gguf")) return LoadGgufTokenizer(path);
  return LoadHfTokenizer(path);
}

TokenizerData TinyTokenizer(const ArchShape& shape) {
  TokenizerData t;
  t.source = "builtin tiny byte-level BPE";
  t.model = "gpt2";
  t.pre = shape.tokenizer.pre;
  for (int b = 0; b < 256; ++b) {
    t.tokens.push_back(ByteToken(b));
    t.token_types.push_back(kTokenNormal);
  }
  // A few merges, so BPE merging (and merge ranks) is exercised.
  const std::pair<const char*, const char*> merges[] = {
      {"Ġ", "t"}, {"h", "e"}, {"i", "n"}, {"Ġt", "he"},
      {"e", "r"}, {"Ġ", "a"}, {"o", "n"}, {"r", "e"}};
  for (const auto& [a, b] : merges) {
    t.merges.push_back(std::string(a) + " " + b);
    t.tokens.push_back(std::string(a) + b);
    t.token_types.push_back(kTokenNormal);
  }
  auto special = [&](const char* text) {
    t.tokens.push_back(text);
    t.token_types.push_back(kTokenControl);
    return static_cast<uint32_t>(t.tokens.size() - 1);
  };
  if (shape.family == Family::kQwen3) {
    const uint32_t eot = special("<|endoftext|>");
    special("<|im_start|>");
    const uint32_t im_end = special("<|im_end|>");
    t.bos_id = eot;
    t.eos_id = im_end;
    t.pad_id = eot;
    t.add_bos = false;
    t.chat_template =
        "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + "
        "m['content'] + '<|im_end|>\\n' }}{% endfor %}{% if "
        "add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  } else {
    t.bos_id = special("<|begin_of_text|>");
    t.eos_id = special("<|end_of_text|>");
    special("<|eot_id|>");
    t.add_bos = true;
    t.chat_template =
        "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + "
        "m['role'] + '<|end_header_id|>\\n\\n' + m['content'] + "
        "'<|eot_id|>' }}{% endfor %}";
  }
  return t;
}

Status FitTokenizer(const std::vector<TokenOverride>& overrides, int64_t vocab,
                    TokenizerData* tok) {
  // A source padded past our vocab (a 152064-token Qwen2 file for a
  // 151936-row model) or with extra trailing specials (Llama 3.2 Vision's
  // <|image|> at 128256) loses them; they could never be produced.
  while (static_cast<int64_t>(tok->tokens.size()) > vocab &&
         (tok->token_types.back() == kTokenUnused ||
          tok->token_types.back() == kTokenControl)) {
    tok->tokens.pop_back();
    tok->token_types.pop_back();
  }
  for (std::optional<uint32_t>* id :
       {&tok->bos_id, &tok->eos_id, &tok->pad_id, &tok->unk_id}) {
    if (*id && **id >= tok->tokens.size()) id->reset();
  }
  if (static_cast<int64_t>(tok->tokens.size()) > vocab) {
    return InvalidArgument(tok->source + ": the tokenizer has " +
                           std::to_string(tok->tokens.size()) +
                           " tokens, more than the model's vocab of " +
                           std::to_string(vocab));
  }
  while (static_cast<int64_t>(tok->tokens.size()) < vocab) {
    tok->tokens.push_back("[PAD" + std::to_string(tok->tokens.size()) + "]");
    tok->token_types.push_back(kTokenUnused);
  }
  for (const TokenOverride& o : overrides) {
    if (o.id < 0 || o.id >= vocab) {
      return InvalidArgument("token override " + std::to_string(o.id) +
                             " is outside the vocab");
    }
    const auto i = static_cast<size_t>(o.id);
    if (tok->tokens[i] == o.text) continue;  // the source has it already
    if (tok->token_types[i] != kTokenUnused) {
      return InvalidArgument(tok->source + ": token " + std::to_string(o.id) +
                             " is '" + tok->tokens[i] +
                             "', not unused; "
                             "cannot make it '" +
                             o.text + "'");
    }
    tok->tokens[i] = o.text;
    tok->token_types[i] = o.token_type;
  }
  return Status::Ok();
}

Result<TokenizerData> ResolveTokenizer(const ArchShape& shape,
                                       const std::string& models_dir,
                                       const std::string& override_path) {
  TokenizerData tok;
  std::vector<TokenOverride> overrides;
  if (!override_path.empty()) {
    ASSIGN_OR_RETURN(tok, LoadTokenizerFile(override_path));
  } else if (shape.tokenizer.builtin_tiny) {
    tok = TinyTokenizer(shape);
  } else {
    std::string tried;
    std::string path;
    for (const TokenizerFile& f : shape.tokenizer.sources) {
      const std::string p = models_dir + "/" + f.model + "/" + f.file;
      std::error_code ec;
      if (std::filesystem::exists(p, ec)) {
        path = p;
        break;
      }
      tried += (tried.empty() ? "" : ", ") + p;
    }
    if (path.empty()) {
      std::string fetch;
      for (const TokenizerFile& f : shape.tokenizer.sources) {
        fetch += (fetch.empty() ? "" : " or ") + f.model;
      }
      return NotFound("no tokenizer source for " + shape.name +
                      " (looked for " + tried +
                      "); fetch one with: scripts/fetch-models " + fetch);
    }
    ASSIGN_OR_RETURN(tok, LoadTokenizerFile(path));
    overrides = shape.tokenizer.overrides;
  }
  RETURN_IF_ERROR(FitTokenizer(overrides, shape.vocab, &tok));
  return tok;
}

}  // namespace silica::synth
