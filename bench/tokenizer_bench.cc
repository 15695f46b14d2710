// Tokenizer encode throughput, single-threaded.
//
//   tokenizer_bench [--text FILE] [--mb N] [--json] [GGUF ...]
//
// Text: FILE, or the valid-UTF-8 cases of tests/golden/data/
// tokenizer_corpus.json joined by blank lines. The text is encoded whole,
// repeatedly, until N MB (default 4) have gone through; the best of three
// such runs is reported. Models: the GGUF paths given, or every model named
// by tests/golden/data/tokenizer_ids_*.json under $SILICA_MODELS_DIR.
// --json prints one JSON object per model (for tokenizer_compare.py).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace {

using nlohmann::json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Base64Decode(const std::string& in) {
  std::string out;
  int bits = 0, acc = 0;
  for (char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '+') v = 62;
    if (c == '/') v = 63;
    if (v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

bool ValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
             : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<uint8_t>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    if (n == 3 && c == 0xE0 && static_cast<uint8_t>(s[i + 1]) < 0xA0) return false;
    if (n == 3 && c == 0xED && static_cast<uint8_t>(s[i + 1]) > 0x9F) return false;
    if (n == 4 && c == 0xF0 && static_cast<uint8_t>(s[i + 1]) < 0x90) return false;
    if (n == 4 && c == 0xF4 && static_cast<uint8_t>(s[i + 1]) > 0x8F) return false;
    i += n;
  }
  return true;
}

std::string CorpusText() {
  const json corpus = json::parse(
      ReadAll(std::string(SILICA_SOURCE_DIR) + "/tests/golden/data/tokenizer_corpus.json"),
      nullptr, false);
  std::string text;
  if (corpus.is_discarded() || !corpus.contains("cases")) return text;
  for (const json& c : corpus["cases"]) {
    const std::string t = Base64Decode(c["text_b64"].get<std::string>());
    if (!ValidUtf8(t)) continue;
    if (!text.empty()) text += "\n\n";
    text += t;
  }
  return text;
}

std::string ModelsDir() {
  if (const char* d = std::getenv("SILICA_MODELS_DIR"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/silica/models";
}

std::vector<std::pair<std::string, std::string>> GoldenModels() {
  std::vector<std::pair<std::string, std::string>> out;  // name, gguf path
  const std::string dir = std::string(SILICA_SOURCE_DIR) + "/tests/golden/data";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (f.rfind("tokenizer_ids_", 0) != 0) continue;
    const json j = json::parse(ReadAll(e.path().string()), nullptr, false);
    if (j.is_discarded() || !j.contains("gguf")) continue;
    out.push_back({f.substr(14, f.size() - 19), ModelsDir() + "/" + j["gguf"].get<std::string>()});
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string text_path;
  double mb = 4;
  bool as_json = false;
  std::vector<std::pair<std::string, std::string>> models;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--text" && i + 1 < argc) {
      text_path = argv[++i];
    } else if (a == "--mb" && i + 1 < argc) {
      mb = std::atof(argv[++i]);
    } else if (a == "--json") {
      as_json = true;
    } else {
      models.push_back({std::filesystem::path(a).stem().string(), a});
    }
  }
  const std::string text = text_path.empty() ? CorpusText() : ReadAll(text_path);
  if (text.empty()) {
    std::fprintf(stderr, "no text to encode\n");
    return 1;
  }
  if (models.empty()) models = GoldenModels();
  const size_t iters = std::max<size_t>(1, static_cast<size_t>(mb * 1e6 / text.size()));
  if (!as_json) {
    std::printf("text: %zu bytes x %zu iterations, single thread\n", text.size(), iters);
    std::printf("%-20s %10s %14s %12s\n", "model", "MB/s", "tokens/s", "tokens/iter");
  }
  int rc = 0;
  for (const auto& [name, path] : models) {
    auto gguf = silica::GgufFile::Open(path);
    if (!gguf.ok()) {
      std::fprintf(stderr, "%s: %s (run scripts/fetch-models)\n", name.c_str(),
                   gguf.status().ToString().c_str());
      rc = 1;
      continue;
    }
    auto tok = silica::Tokenizer::FromGguf(**gguf);
    if (!tok.ok()) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), tok.status().ToString().c_str());
      rc = 1;
      continue;
    }
    size_t n_tokens = (*tok)->Encode(text).size();
    double best = 1e30;
    for (int run = 0; run < 3; ++run) {
      const auto t0 = std::chrono::steady_clock::now();
      size_t sink = 0;
      for (size_t it = 0; it < iters; ++it) sink += (*tok)->Encode(text).size();
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, s);
      if (sink != n_tokens * iters) std::fprintf(stderr, "nondeterministic encode\n");
    }
    const double bytes = static_cast<double>(text.size()) * iters;
    const double mbps = bytes / best / 1e6;
    const double tps = static_cast<double>(n_tokens) * iters / best;
    if (as_json) {
      std::printf("{\"model\": \"%s\", \"mb_per_s\": %.3f, \"tokens_per_s\": %.0f, "
                  "\"tokens\": %zu, \"bytes\": %zu}\n",
                  name.c_str(), mbps, tps, n_tokens, text.size());
    } else {
      std::printf("%-20s %10.2f %14.0f %12zu\n", name.c_str(), mbps, tps, n_tokens);
    }
  }
  return rc;
}
