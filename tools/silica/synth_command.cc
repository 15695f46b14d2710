// `silica synth`: write a random-weight model in the exact shape of a real
// one (GGUF or Hugging Face safetensors). See docs/synthetic-models.md.
#include <cstdio>
#include <memory>
#include <string>

#include "silica/commands.h"
#include "silica/default_model.h"
#include "silica/synth/arch_shapes.h"
#include "silica/synth/synth.h"

namespace silica::cli {
namespace {

struct SynthArgs {
  std::string arch;
  std::string format = "gguf";
  std::string dtype;
  uint64_t seed = 0;
  int64_t layers = 0;  // 0: the shape's own
  std::string output;
  std::string tokenizer_from;
  uint64_t max_shard_bytes = 2'000'000'000;
  bool list = false;
};

void PrintShapes() {
  std::printf("%-18s %6s %6s %5s %4s %4s %6s %7s %s\n", "arch", "hidden",
              "layers", "heads", "kv", "hdim", "ffn", "vocab", "tokenizer");
  for (const synth::ArchShape& s : synth::ArchShapes()) {
    std::string tok = s.tokenizer.builtin_tiny ? "builtin tiny" : "";
    for (const synth::TokenizerFile& f : s.tokenizer.sources) {
      tok += (tok.empty() ? "" : ", else ") + f.model + "/" + f.file;
    }
    std::printf(
        "%-18s %6lld %6lld %5lld %4lld %4lld %6lld %7lld %s\n", s.name.c_str(),
        static_cast<long long>(s.hidden), static_cast<long long>(s.layers),
        static_cast<long long>(s.heads), static_cast<long long>(s.kv_heads),
        static_cast<long long>(s.head_dim),
        static_cast<long long>(s.intermediate), static_cast<long long>(s.vocab),
        tok.c_str());
  }
}

int Run(const SynthArgs& a) {
  if (a.list) {
    PrintShapes();
    return 0;
  }
  synth::SynthOptions o;
  o.arch = a.arch;
  if (a.format == "gguf") {
    o.format = synth::OutputFormat::kGguf;
  } else if (a.format == "safetensors") {
    o.format = synth::OutputFormat::kSafetensors;
  } else {
    std::fprintf(stderr,
                 "silica synth: --format must be gguf or "
                 "safetensors, not '%s'\n",
                 a.format.c_str());
    return 2;
  }
  if (!a.dtype.empty()) {
    const std::optional<DType> d = DTypeFromName(a.dtype);
    if (!d) {
      std::fprintf(stderr, "silica synth: unknown --dtype '%s'\n",
                   a.dtype.c_str());
      return 2;
    }
    o.dtype = *d;
  }
  o.seed = a.seed;
  if (a.layers != 0) o.layers = a.layers;
  o.output = a.output;
  o.models_dir = ModelsDir();
  o.tokenizer_from = a.tokenizer_from;
  o.max_shard_bytes = a.max_shard_bytes;
  Result<synth::SynthReport> r = synth::Synthesize(o);
  if (!r.ok()) {
    std::fprintf(stderr, "silica synth: %s\n", r.status().ToString().c_str());
    return 1;
  }
  std::printf("wrote %s (%s, %lld tensors, %.1fM parameters, %.1f MB)\n",
              a.output.c_str(), r->dtype.c_str(),
              static_cast<long long>(r->tensors), r->parameters / 1e6,
              static_cast<double>(r->bytes) / 1e6);
  std::printf("tokenizer from %s\n", r->tokenizer_source.c_str());
  for (const std::string& f : r->files) std::printf("  %s\n", f.c_str());
  return 0;
}

}  // namespace

void AddSynthCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "synth", "Write a random-weight model in the exact shape of a real one");
  auto args = std::make_shared<SynthArgs>();
  cmd->add_flag("--list", args->list, "List the known shapes and exit");
  cmd->add_option("--arch", args->arch,
                  "Shape: qwen3-0.6b, llama-3.2-1b, tiny-qwen3, tiny-llama, "
                  "tiny-llama-untied");
  cmd->add_option("--format", args->format, "gguf (default) or safetensors");
  cmd->add_option("--dtype", args->dtype,
                  "gguf: f16 (default), bf16, f32, q8_0, q4_0; "
                  "safetensors: bf16 (default), f16, f32");
  cmd->add_option("--seed", args->seed, "Random seed (default 0)");
  cmd->add_option("--layers", args->layers,
                  "Number of blocks instead of the real count");
  cmd->add_option("-o,--output", args->output,
                  "GGUF file, or folder for safetensors");
  cmd->add_option("--tokenizer-from", args->tokenizer_from,
                  "Take the tokenizer from this GGUF, tokenizer.json or "
                  "folder with one instead");
  cmd->add_option("--max-shard-bytes", args->max_shard_bytes,
                  "safetensors: shard past this many bytes (default 2e9)");
  cmd->callback([args, exit_code] {
    if (!args->list && (args->arch.empty() || args->output.empty())) {
      std::fprintf(stderr,
                   "silica synth: --arch and -o are required "
                   "(see --list)\n");
      *exit_code = 2;
      return;
    }
    *exit_code = Run(*args);
  });
}

}  // namespace silica::cli
