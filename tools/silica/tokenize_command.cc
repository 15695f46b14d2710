// `silica tokenize` and `silica detokenize`: the model's tokenizer from the
// command line. Tokenize prints each id with its piece, then the text decoded
// back from the ids, so a round trip is visible at a glance.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "io/gguf.h"
#include "silica/commands.h"
#include "silica/default_model.h"
#include "tokenizer/tokenizer.h"

namespace silica::cli {
namespace {

// A GGUF file carries its tokenizer in metadata; a folder has tokenizer.json.
Result<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& model) {
  ASSIGN_OR_RETURN(std::string path, ResolveModelPath(model));
  if (path.ends_with(".gguf")) {
    ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> gguf, GgufFile::Open(path));
    return Tokenizer::FromGguf(*gguf);
  }
  return Tokenizer::FromHfDir(path);
}

// Length of the valid UTF-8 character at s[i], or 0 if the bytes there do
// not start one (a token may hold part of a character).
size_t Utf8CharLength(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
                   : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  }
  return n;
}

// Shows a piece unambiguously: control characters escaped, bytes that are
// not a whole UTF-8 character as \xNN.
std::string Printable(std::string_view piece) {
  std::string out;
  for (size_t i = 0; i < piece.size();) {
    const auto c = static_cast<unsigned char>(piece[i]);
    const size_t n = Utf8CharLength(piece, i);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (n == 0 || c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.append(piece.substr(i, n));
      i += n;
      continue;
    }
    ++i;
  }
  return out;
}

int Fail(const char* cmd, const Status& status) {
  std::fprintf(stderr, "silica %s: %s\n", cmd, status.ToString().c_str());
  return 1;
}

}  // namespace

void AddTokenizeCommands(CLI::App& app, int* exit_code) {
  struct Options {
    std::string model;
    std::string text;
    bool special = false;
    bool add_bos = false;
    std::vector<int32_t> ids;
  };
  auto opts = std::make_shared<Options>();

  auto* tok = app.add_subcommand("tokenize", "Text to token ids and back");
  tok->add_option("-m,--model", opts->model,
                  "GGUF file or HF folder (default: the default model)");
  tok->add_option("text", opts->text, "Text to tokenize")->required();
  tok->add_flag("--special", opts->special,
                "Recognise special tokens such as <|im_start|> in the text");
  tok->add_flag("--add-bos", opts->add_bos,
                "Add BOS/EOS as the model's metadata asks");
  tok->callback([opts, exit_code] {
    auto tokenizer = LoadTokenizer(opts->model);
    if (!tokenizer.ok()) {
      *exit_code = Fail("tokenize", tokenizer.status());
      return;
    }
    const std::vector<int32_t> ids = (*tokenizer)->Encode(
        opts->text, {.add_special = opts->add_bos,
                     .parse_special = opts->special});
    std::printf("%zu tokens\n", ids.size());
    for (int32_t id : ids) {
      std::printf("%8d  '%s'\n", id,
                  Printable((*tokenizer)->TokenToPiece(id)).c_str());
    }
    const std::string back = (*tokenizer)->Decode(ids);
    std::printf("decoded: %s\n", back.c_str());
    std::printf("round trip: %s\n",
                back == opts->text ? "identical" : "differs");
    *exit_code = 0;
  });

  auto* detok = app.add_subcommand("detokenize", "Token ids to text");
  detok->add_option("-m,--model", opts->model,
                    "GGUF file or HF folder (default: the default model)");
  detok->add_option("ids", opts->ids, "Token ids")->required();
  detok->callback([opts, exit_code] {
    auto tokenizer = LoadTokenizer(opts->model);
    if (!tokenizer.ok()) {
      *exit_code = Fail("detokenize", tokenizer.status());
      return;
    }
    for (int32_t id : opts->ids) {
      if (id < 0 || id >= (*tokenizer)->vocab_size()) {
        *exit_code = Fail("detokenize",
                          InvalidArgument(fmt::format(
                              "token id {} outside the vocabulary [0, {})", id,
                              (*tokenizer)->vocab_size())));
        return;
      }
    }
    std::printf("%s\n", (*tokenizer)->Decode(opts->ids).c_str());
    *exit_code = 0;
  });
}

}  // namespace silica::cli
