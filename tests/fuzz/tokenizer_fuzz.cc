// libFuzzer target for the tokenizer loaders and the encode/decode paths
// they configure.
//
// Input: a GGUF file (starts with "GGUF") whose tokenizer.ggml.* metadata
// is loaded, or otherwise "<tokenizer.json>\0<tokenizer_config.json>".
// Whatever loads then encodes and decodes a short fixed text (with and
// without special-token parsing), decodes arbitrary ids, and streams ids
// through IncrementalDecoder. Loading may fail; it must never crash, hang or
// leak, and decoded text must always be valid UTF-8.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace {

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
             : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<uint8_t>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    const auto c1 = static_cast<uint8_t>(n > 1 ? s[i + 1] : 0);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) ||
        (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) {
      return false;
    }
    i += n;
  }
  return true;
}

void Exercise(const silica::Tokenizer& tok) {
  static constexpr std::string_view kTexts[] = {
      "Hello world! 123 <|im_start|>user\n\xC3\xA9\xE4\xB8\xAD  \t\r\n",
      "a\x80\xE2\x82 <s></s>\xF0\x9F\x8D\x95 '''s ",
      "",
  };
  for (std::string_view text : kTexts) {
    for (bool parse_special : {false, true}) {
      const std::vector<int32_t> ids = tok.Encode(text, {true, parse_special});
      for (int32_t id : ids) {
        if (id < 0 || id >= tok.vocab_size()) std::abort();
      }
      if (!ValidUtf8(tok.Decode(ids))) std::abort();
      silica::IncrementalDecoder dec(tok, false);
      std::string streamed;
      for (int32_t id : ids) streamed += dec.Add(id);
      streamed += dec.Flush();
      if (!ValidUtf8(streamed)) std::abort();
    }
  }
  // Arbitrary ids, out-of-range ones included.
  const int32_t n = tok.vocab_size();
  const std::vector<int32_t> ids = {-1, 0, n - 1, n, n / 2, n / 3, 7, INT32_MAX};
  if (!ValidUtf8(tok.Decode(ids, true))) std::abort();
  for (int32_t id : ids) (void)tok.TokenToPiece(id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= 4 && std::memcmp(data, "GGUF", 4) == 0) {
    auto file = silica::GgufFile::Parse(std::span<const uint8_t>(data, size), "fuzz.gguf");
    if (!file.ok()) return 0;
    auto tok = silica::Tokenizer::FromGguf(**file);
    if (tok.ok()) Exercise(**tok);
    return 0;
  }
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  const std::string_view json = all.substr(0, nul);
  const std::string_view config =
      nul == std::string_view::npos ? std::string_view() : all.substr(nul + 1);
  auto tok = silica::Tokenizer::FromHfJson(json, config, "fuzz.json");
  if (tok.ok()) Exercise(**tok);
  return 0;
}
